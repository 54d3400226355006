/*
 * record.c — the record format: one aggregate's every body behind a fixed header (magic,
 * generation, refresh time, row count, content hash, and per body its offset, length and
 * strong ETag). encode.c builds the bodies and seals them here, whole (record_seal) or
 * still apart (a record_out, which the store copies into place body by body); the store,
 * refresh and the serving threads only parse and slice. Knows nothing about how a body
 * is encoded.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tpcd.h"

#define RECORD_MAGIC "TPR1"

struct record_var {
	uint32_t	off;
	uint32_t	len;
	char		etag[ETAG_LEN + 1];
};

struct record_hdr {
	char		magic[4];
	uint32_t	nvar;
	uint64_t	generation;
	int64_t		refreshed_at;
	uint64_t	rows;
	unsigned char	content_hash[32];
	struct record_var var[BODY_NVARIANTS];
};

static void
record_sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL))
		fatal("EVP_Digest failed");
}

/* An ETag from a SHA-256 digest: its first 128 bits in hex, quoted (slices use it too). */
void
record_etag_hex(const unsigned char h[32], char out[ETAG_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '"';
	for (int i = 0; i < 16; i++) {
		out[1 + 2 * i] = hex[h[i] >> 4];
		out[2 + 2 * i] = hex[h[i] & 15];
	}
	out[ETAG_LEN - 1] = '"';
	out[ETAG_LEN] = '\0';
}

/* ETag: the first 128 bits of the body's SHA-256, quoted; changes exactly with the bytes. */
static void
record_etag(const void *p, size_t n, char out[ETAG_LEN + 1])
{
	unsigned char h[32];

	record_sha256(p, n, h);
	record_etag_hex(h, out);
}

/* Empties out and leaves room for the header; the bodies are appended after it. */
void
record_begin(struct buf *out)
{
	struct record_hdr h;

	memset(&h, 0, sizeof h);
	buf_reset(out);
	buf_add(out, &h, sizeof h);
}

/* The header fields both seals write the same way; the bodies' places are theirs. */
static void
record_hdr_init(struct record_hdr *h, uint64_t generation, int64_t refreshed_at,
    uint64_t rows)
{
	memset(h, 0, sizeof *h);
	memcpy(h->magic, RECORD_MAGIC, 4);
	h->nvar = BODY_NVARIANTS;
	h->generation = generation;
	h->refreshed_at = refreshed_at;
	h->rows = rows;
}

/*
 * Writes the header over the room record_begin left: body i is out's bytes [start[i],
 * end[i]); the content hash covers [content_off, content_end), which the encoder chooses
 * so that it changes with the columns and rows only. Returns -1 when the record is too
 * large for its 32-bit offsets.
 */
int
record_seal(struct buf *out, uint64_t generation, int64_t refreshed_at, uint64_t rows,
    const size_t start[BODY_NVARIANTS], const size_t end[BODY_NVARIANTS],
    size_t content_off, size_t content_end)
{
	struct record_hdr h;

	if (out->len > UINT32_MAX)
		return -1;
	record_hdr_init(&h, generation, refreshed_at, rows);
	record_sha256(out->data + content_off, content_end - content_off, h.content_hash);
	for (int i = 0; i < BODY_NVARIANTS; i++) {
		h.var[i].off = (uint32_t)start[i];
		h.var[i].len = (uint32_t)(end[i] - start[i]);
		record_etag(out->data + start[i], end[i] - start[i], h.var[i].etag);
	}
	memcpy(out->data, &h, sizeof h);
	return 0;
}

/*
 * Seals a record whose bodies are still apart (a record_out, which the encoder filled):
 * the same header record_seal writes, for the bodies laid out after it in order. The
 * content hash covers the msgpack body from content_off on. -1 when too large.
 */
int
record_out_seal(struct record_out *o, uint64_t generation, int64_t refreshed_at,
    uint64_t rows, size_t content_off)
{
	struct record_hdr h;
	size_t at = sizeof h;

	record_hdr_init(&h, generation, refreshed_at, rows);
	record_sha256(o->body[BODY_MSGPACK].data + o->off[BODY_MSGPACK] + content_off,
	    o->len[BODY_MSGPACK] - content_off, h.content_hash);
	for (int i = 0; i < BODY_NVARIANTS; i++) {
		if (at > UINT32_MAX || o->len[i] > UINT32_MAX - at)
			return -1;
		h.var[i].off = (uint32_t)at;
		h.var[i].len = (uint32_t)o->len[i];
		record_etag(o->body[i].data + o->off[i], o->len[i], h.var[i].etag);
		at += o->len[i];
	}
	memcpy(o->hdr, &h, sizeof h);
	o->hdr_len = sizeof h;
	o->total = at;
	o->meta.generation = generation;
	o->meta.refreshed_at = refreshed_at;
	o->meta.rows = rows;
	memcpy(o->meta.content_hash, h.content_hash, 32);
	return 0;
}

/* Body v of a sealed record_out, in place (valid until it is written or freed). */
const char *
record_out_body(const struct record_out *o, enum body_variant v, size_t *len)
{
	*len = o->len[v];
	return o->body[v].data + o->off[v];
}

/*
 * Copies the sealed record to dst (o->total bytes: the store's reserved room), freeing
 * each body as soon as it is in place: the record is never whole twice.
 */
void
record_out_write(struct record_out *o, void *dst)
{
	char *p = dst;

	memcpy(p, o->hdr, o->hdr_len);
	p += o->hdr_len;
	for (int i = 0; i < BODY_NVARIANTS; i++) {
		if (o->len[i] > 0)
			memcpy(p, o->body[i].data + o->off[i], o->len[i]);
		p += o->len[i];
		buf_free(&o->body[i]);
		o->off[i] = 0;
	}
}

struct record_out *
record_out_new(void)
{
	struct record_out *o = xcalloc(1, sizeof *o);

	o->hdr = xcalloc(1, sizeof(struct record_hdr));
	for (int i = 0; i < BODY_NVARIANTS; i++)
		buf_init(&o->body[i]);
	return o;
}

void
record_out_free(struct record_out *o)
{
	if (o == NULL)
		return;
	for (int i = 0; i < BODY_NVARIANTS; i++)
		buf_free(&o->body[i]);
	free(o->hdr);
	free(o);
}

/* Checks a record read from the store; 0 and *m filled, or -1 if it is not one. */
int
record_parse(const void *rec, size_t len, struct record_meta *m)
{
	struct record_hdr h;

	if (len < sizeof h)
		return -1;
	memcpy(&h, rec, sizeof h);
	if (memcmp(h.magic, RECORD_MAGIC, 4) != 0 || h.nvar != BODY_NVARIANTS)
		return -1;
	for (int i = 0; i < BODY_NVARIANTS; i++)
		if (h.var[i].off > len || h.var[i].len > len - h.var[i].off)
			return -1;
	m->generation = h.generation;
	m->refreshed_at = h.refreshed_at;
	m->rows = h.rows;
	memcpy(m->content_hash, h.content_hash, 32);
	return 0;
}

/*
 * Points *body at one variant inside rec (no copy: valid as long as rec is) and *etag at
 * its ETag (a pointer into rec as well; ETAG_LEN bytes, NUL-terminated).
 */
int
record_body(const void *rec, size_t len, enum body_variant v, const char **body,
    size_t *bodylen, const char **etag)
{
	const struct record_hdr *h = rec;
	struct record_var var;

	if (len < sizeof *h || (unsigned)v >= BODY_NVARIANTS)
		return -1;
	memcpy(&var, (const char *)rec + offsetof(struct record_hdr, var) + v * sizeof var,
	    sizeof var);
	if (var.off > len || var.len > len - var.off)
		return -1;
	*body = (const char *)rec + var.off;
	*bodylen = var.len;
	*etag = (const char *)rec + offsetof(struct record_hdr, var) + v * sizeof var +
	    offsetof(struct record_var, etag);
	return 0;
}
