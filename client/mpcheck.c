/*
 * mpcheck.c — a walk over a msgpack body before msgpack-c unpacks it. msgpack-c allocates
 * an array or map for the count its header declares, before it reads a single element, so
 * a few bytes claiming 2^32 elements make tpcctl reserve tens of GiB (found by fuzzing).
 * Every element takes at least one byte: a body is refused when what it declares cannot
 * fit in what is left of it. No allocation, no recursion; knows nothing of tpcctl.
 */
#include <stddef.h>
#include <stdint.h>

int	mpcheck_sizes(const void *, size_t);

static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Returns 1 when buf starts with one msgpack value whose every string, binary, extension,
 * array and map fits in the len bytes; 0 otherwise (truncated, 0xc1, or a count too big).
 */
int
mpcheck_sizes(const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len;
	uint64_t pending = 1, n;
	int lenbytes, skip;

	while (pending > 0) {
		unsigned char c;

		if (p == end || pending > (uint64_t)(end - p))
			return 0;
		c = *p++;
		pending--;
		n = 0;
		lenbytes = 0;
		skip = 0;
		if (c <= 0x7f || c >= 0xe0 || (c >= 0xc0 && c <= 0xc3 && c != 0xc1))
			continue;			/* fixints, nil, false, true */
		if (c >= 0x80 && c <= 0x8f)
			n = 2 * (uint64_t)(c & 0x0f);	/* fixmap: keys and values */
		else if (c >= 0x90 && c <= 0x9f)
			n = c & 0x0f;			/* fixarray */
		else if (c >= 0xa0 && c <= 0xbf)
			skip = c & 0x1f;		/* fixstr */
		else {
			switch (c) {
			case 0xc4: case 0xd9: lenbytes = 1; break;	/* bin8, str8 */
			case 0xc5: case 0xda: lenbytes = 2; break;	/* bin16, str16 */
			case 0xc6: case 0xdb: lenbytes = 4; break;	/* bin32, str32 */
			case 0xc7: lenbytes = 1; skip = 1; break;	/* ext8: +type */
			case 0xc8: lenbytes = 2; skip = 1; break;
			case 0xc9: lenbytes = 4; skip = 1; break;
			case 0xca: case 0xd2: skip = 4; break;		/* float32, int32 */
			case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: skip = 4; break;
			case 0xd4: skip = 2; break;			/* fixext1..16: type+data */
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: case 0xdd: case 0xde: case 0xdf: {	/* array16/32, map16/32 */
				int w = c == 0xdc || c == 0xde ? 2 : 4;
				if (end - p < w)
					return 0;
				n = be(p, w) * (c >= 0xde ? 2 : 1);
				p += w;
				break;
			}
			default:				/* 0xc1: never used */
				return 0;
			}
		}
		if (lenbytes > 0) {
			if (end - p < lenbytes)
				return 0;
			n = be(p, lenbytes);
			p += lenbytes;
			if (n > (uint64_t)(end - p) || (uint64_t)skip > (uint64_t)(end - p) - n)
				return 0;
			p += n + (size_t)skip;
			continue;
		}
		if (skip > 0) {
			if (skip > end - p)
				return 0;
			p += skip;
			continue;
		}
		pending += n;		/* the elements: checked against what is left above */
	}
	return 1;
}
