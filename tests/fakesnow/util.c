/* Small helpers shared by the modules: UUIDs, clocks, base64url and gzip.
 * Decoding goes through OpenSSL and compression through zlib so that no
 * hand-rolled codec can disagree with what real clients produce.
 */
#include "fakesnow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

void
uuid4(char out[FS_UUID_LEN + 1])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* Handles only need to be unique within one run. */
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)random();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, FS_UUID_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
	    b[12], b[13], b[14], b[15]);
}

int
is_uuid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return i == FS_UUID_LEN;
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
upcase(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* JWT segments are base64url without padding (RFC 7515 §2); EVP_DecodeBlock wants
 * standard base64 with padding, so translate first and reject anything that is
 * not strictly base64url (a client emitting '+', '/' or '=' is wrong). */
unsigned char *
b64url_decode(const char *in, size_t inlen, size_t *outlen)
{
	size_t pad, n, i;
	char *std;
	unsigned char *out;
	int got;

	if (inlen % 4 == 1)
		return NULL;
	pad = (4 - inlen % 4) % 4;
	n = inlen + pad;
	std = malloc(n + 1);
	out = malloc(n / 4 * 3 + 1);
	if (std == NULL || out == NULL) {
		free(std);
		free(out);
		return NULL;
	}
	for (i = 0; i < inlen; i++) {
		char c = in[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!isalnum((unsigned char)c)) {
			free(std);
			free(out);
			return NULL;
		}
		std[i] = c;
	}
	for (; i < n; i++)
		std[i] = '=';
	std[n] = '\0';
	got = n ? EVP_DecodeBlock(out, (unsigned char *)std, (int)n) : 0;
	free(std);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)got - pad;	/* EVP_DecodeBlock counts the padding as zero bytes */
	out[*outlen] = '\0';
	return out;
}

unsigned char *
gzip_bytes(const void *in, size_t len, size_t *outlen)
{
	z_stream zs;
	unsigned char *out;
	uLong cap;

	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16 selects the gzip wrapper that Content-Encoding: gzip means */
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&zs, (uLong)len) + 32;
	out = malloc(cap);
	if (out == NULL) {
		deflateEnd(&zs);
		return NULL;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&zs);
		free(out);
		return NULL;
	}
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}
