/* idx.c — the IDX format (LeCun, Cortes and Burges, "The MNIST database of
 * handwritten digits", file-format section), plain or gzip-compressed.
 *
 *   offset  size     field
 *   0       2        0x00 0x00
 *   2       1        type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
 *                    0x0E f64
 *   3       1        ndim
 *   4       4 ndim   the dimensions, 32-bit unsigned, big-endian (MSB first)
 *   4+4ndim ...      prod(dims) values, big-endian, C order (last index
 *                    fastest)
 *
 * MNIST, Fashion-MNIST, KMNIST, EMNIST and QMNIST ship this format, each
 * file gzipped (torchvision keeps both the .gz and the extracted file).  A
 * gzip file is recognized by its magic 1f 8b, never by its name; several
 * concatenated gzip members are one stream (RFC 1952, 2.2).  Nothing is
 * accepted after the data: bytes beyond the declared values are an error.
 *
 * Sizes are checked before anything is allocated: a plain file must hold
 * exactly the bytes the header declares; a gzip file cannot expand by more
 * than 1032:1 (deflate's limit: a 258-byte match coded in at least 2 bits,
 * zlib's technical details, "Maximum compression factor"), so a header
 * declaring more than 1032 x the compressed size is refused as truncated.
 * What passes goes through the memory guard (tdl/memory.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "tdl/datasets.h"
#include "tdl/io.h"
#include "internal.h"
#include "formats_internal.h"
#include "idx_internal.h"

#define IDX_CHUNK 65536
/* deflate's largest expansion factor */
#define GZ_MAX_RATIO 1032

struct tdl_idx_stream {
    char *label;                   /* owned: the path or the caller's label */
    FILE *fp;                      /* file input, or NULL */
    const unsigned char *mem;      /* memory input */
    size_t mem_len, mem_pos;
    size_t in_size;                /* bytes of the input (compressed when gz) */
    z_stream zs;
    int zs_ready;                  /* inflateInit2 done */
    int member_done;               /* the current gzip member ended */
    unsigned char *inbuf;          /* compressed bytes read from fp */
    unsigned char *buf;            /* raw values before conversion */
    size_t header_bytes;
    size_t data_bytes;             /* numel * element size */
    size_t done;                   /* values handed out so far */
    tdl_idx_header h;
};

static int idx_dtype(unsigned code, tdl_dtype *dt)
{
    switch (code) {
    case 0x08: *dt = TDL_U8; return 1;
    case 0x09: *dt = TDL_I8; return 1;
    case 0x0B: *dt = TDL_I16; return 1;
    case 0x0C: *dt = TDL_I32; return 1;
    case 0x0D: *dt = TDL_F32; return 1;
    case 0x0E: *dt = TDL_F64; return 1;
    default: return 0;
    }
}

/* ---- the byte source: plain or inflated --------------------------------- */

/* Refill the inflater's input; leaves avail_in == 0 at the end of input. */
static int refill(tdl_idx_stream *s)
{
    if (s->fp) {
        size_t got = fread(s->inbuf, 1, IDX_CHUNK, s->fp);
        if (got == 0 && ferror(s->fp))
            return tdl_fail(TDL_EIO, "%s: read failed: %s", s->label, strerror(errno));
        s->zs.next_in = s->inbuf;
        s->zs.avail_in = (uInt)got;
    } else {
        size_t left = s->mem_len - s->mem_pos;
        if (left > UINT_MAX) left = UINT_MAX;
        s->zs.next_in = (unsigned char *)(uintptr_t)(s->mem + s->mem_pos);
        s->zs.avail_in = (uInt)left;
        s->mem_pos += left;
    }
    return TDL_OK;
}

/* Up to n bytes of the (uncompressed) stream into dst; *got < n only at the
 * end of the input. */
static int src_read(tdl_idx_stream *s, unsigned char *dst, size_t n, size_t *got)
{
    *got = 0;
    if (!s->zs_ready) {
        if (s->fp) {
            *got = fread(dst, 1, n, s->fp);
            if (*got < n && ferror(s->fp))
                return tdl_fail(TDL_EIO, "%s: read failed: %s", s->label, strerror(errno));
        } else {
            size_t left = s->mem_len - s->mem_pos;
            *got = n < left ? n : left;
            if (*got) memcpy(dst, s->mem + s->mem_pos, *got);
            s->mem_pos += *got;
        }
        return TDL_OK;
    }
    int st;
    while (*got < n) {
        if (s->zs.avail_in == 0 && (st = refill(s)) != TDL_OK) return st;
        if (s->member_done) {
            if (s->zs.avail_in == 0) return TDL_OK;  /* the end of the last member */
            /* another member follows (RFC 1952: a gzip file is a series of members) */
            if (inflateReset(&s->zs) != Z_OK) return tdl_fail(TDL_EFORMAT, "%s: corrupt gzip data", s->label);
            s->member_done = 0;
        }
        if (s->zs.avail_in == 0)
            return tdl_fail(TDL_EFORMAT, "%s: truncated gzip data (the compressed stream ends early)", s->label);
        size_t want = n - *got;
        if (want > UINT_MAX) want = UINT_MAX;
        s->zs.next_out = dst + *got;
        s->zs.avail_out = (uInt)want;
        int zr = inflate(&s->zs, Z_NO_FLUSH);
        *got += want - s->zs.avail_out;
        if (zr == Z_STREAM_END) s->member_done = 1;
        else if (zr == Z_MEM_ERROR) return tdl_fail(TDL_ENOMEM, "%s: out of memory inflating gzip data", s->label);
        else if (zr != Z_OK && zr != Z_BUF_ERROR)
            return tdl_fail(TDL_EFORMAT, "%s: corrupt gzip data (%s)", s->label, s->zs.msg ? s->zs.msg : "inflate failed");
    }
    return TDL_OK;
}

/* ---- opening --------------------------------------------------------------- */

void tdl_idx_close(tdl_idx_stream **sp)
{
    if (!sp || !*sp) return;
    tdl_idx_stream *s = *sp;
    if (s->zs_ready) inflateEnd(&s->zs);
    if (s->fp) fclose(s->fp);
    free(s->inbuf);
    free(s->buf);
    free(s->label);
    free(s);
    *sp = NULL;
}

const tdl_idx_header *tdl_idx_stream_header(const tdl_idx_stream *s) { return &s->h; }

/* Parse the header from the source and check the sizes. */
static int parse_header(tdl_idx_stream *s)
{
    unsigned char head[4 + 4 * 255];
    size_t got;
    int st = src_read(s, head, 4, &got);
    if (st != TDL_OK) return st;
    if (got == 0) return tdl_fail(TDL_EFORMAT, "%s: empty %sfile", s->label, s->h.gz ? "gzip-compressed " : "");
    if (got < 4) return tdl_fail(TDL_EFORMAT, "%s: truncated IDX header (%zu bytes)", s->label, got);
    if (head[0] != 0 || head[1] != 0)
        return tdl_fail(TDL_EFORMAT, "%s: not an IDX file (it starts %02x %02x %02x %02x; IDX starts 00 00 TYPE NDIM)",
                        s->label, head[0], head[1], head[2], head[3]);
    s->h.code = head[2];
    if (!idx_dtype(head[2], &s->h.dtype))
        return tdl_fail(TDL_EFORMAT, "%s: unknown IDX data type 0x%02x (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)",
                        s->label, head[2]);
    s->h.ndim = head[3];
    if (s->h.ndim > TDL_MAX_NDIM)
        return tdl_fail(TDL_ETOOBIG, "%s: %zu dimensions, more than the %d tdl reads", s->label, s->h.ndim, TDL_MAX_NDIM);
    if ((st = src_read(s, head + 4, 4 * s->h.ndim, &got)) != TDL_OK) return st;
    if (got < 4 * s->h.ndim)
        return tdl_fail(TDL_EFORMAT, "%s: truncated IDX header (%zu dimensions declared, the file ends in them)",
                        s->label, s->h.ndim);
    for (size_t k = 0; k < s->h.ndim; k++) {
        const unsigned char *p = head + 4 + 4 * k;
        s->h.shape[k] = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | (size_t)p[3];
    }
    s->header_bytes = 4 + 4 * s->h.ndim;
    if (tdl_shape_numel(s->h.ndim, s->h.shape, &s->h.numel) != TDL_OK ||
        tdl_mul_size(s->h.numel, tdl_dtype_size(s->h.dtype), &s->data_bytes) != 0)
        return tdl_fail(TDL_ETOOBIG, "%s: the dimensions' product overflows (a corrupt header)", s->label);
    if (!s->h.gz) {
        size_t after = s->in_size - s->header_bytes;
        if (s->data_bytes > after)
            return tdl_fail(TDL_EFORMAT, "%s: truncated: the header declares %zu values (%zu bytes) but %zu bytes follow it",
                            s->label, s->h.numel, s->data_bytes, after);
        if (s->data_bytes < after)
            return tdl_fail(TDL_EFORMAT, "%s: %zu bytes after the %zu values the header declares",
                            s->label, after - s->data_bytes, s->h.numel);
    } else {
        size_t cap, total;
        if (tdl_mul_size(s->in_size, GZ_MAX_RATIO, &cap) != 0) cap = SIZE_MAX;
        if (tdl_add_size(s->data_bytes, s->header_bytes, &total) != 0 || total > cap)
            return tdl_fail(TDL_EFORMAT, "%s: truncated or corrupt: the header declares %zu values (%zu bytes), more than a "
                                         "%zu-byte gzip file can hold",
                            s->label, s->h.numel, s->data_bytes, s->in_size);
    }
    return TDL_OK;
}

/* Common part of the two openers: s has its input set. */
static int open_common(tdl_idx_stream *s, const unsigned char *first2)
{
    s->h.gz = s->in_size >= 2 && first2[0] == 0x1f && first2[1] == 0x8b;
    s->buf = tdl_malloc(IDX_CHUNK, "an IDX read buffer");
    if (!s->buf) return TDL_ENOMEM;
    if (s->h.gz) {
        if (s->fp && !(s->inbuf = tdl_malloc(IDX_CHUNK, "a gzip read buffer"))) return TDL_ENOMEM;
        memset(&s->zs, 0, sizeof s->zs);
        int zr = inflateInit2(&s->zs, 16 + MAX_WBITS);  /* gzip wrapper only */
        if (zr != Z_OK)
            return tdl_fail(zr == Z_MEM_ERROR ? TDL_ENOMEM : TDL_EFORMAT, "%s: cannot start inflating", s->label);
        s->zs_ready = 1;
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) && ZLIB_VERNUM >= 0x1290
        /* let mutated members through to the IDX parser (as the npz reader) */
        inflateValidate(&s->zs, 0);
#endif
    }
    return parse_header(s);
}

int tdl_idx_open_mem(const unsigned char *buf, size_t len, const char *label, tdl_idx_stream **out)
{
    *out = NULL;
    if (!buf && len) return tdl_fail(TDL_EINVAL, "tdl_idx_open_mem: buffer is NULL");
    tdl_idx_stream *s = tdl_calloc(1, sizeof *s, "an IDX reader");
    if (!s) return TDL_ENOMEM;
    s->label = tdl_strdup(tdl_io_label(label));
    s->mem = buf ? buf : (const unsigned char *)"";
    s->mem_len = len;
    s->in_size = len;
    int st = s->label ? open_common(s, s->mem) : TDL_ENOMEM;
    if (st != TDL_OK) {
        tdl_idx_close(&s);
        return st;
    }
    *out = s;
    return TDL_OK;
}

int tdl_idx_open(const char *path, tdl_idx_stream **out)
{
    *out = NULL;
    int fd;
    size_t size;
    int st = tdl_open_regular(path, &fd, &size);
    if (st != TDL_OK) return st;
    tdl_idx_stream *s = tdl_calloc(1, sizeof *s, "an IDX reader");
    if (!s) {
        close(fd);
        return TDL_ENOMEM;
    }
    s->in_size = size;
    s->label = tdl_strdup(path);
    s->fp = fdopen(fd, "rb");
    if (!s->fp) {
        close(fd);
        tdl_idx_close(&s);
        return tdl_fail(TDL_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    unsigned char first2[2] = {0, 0};
    if (!s->label) st = TDL_ENOMEM;
    else if (size >= 2 && fread(first2, 1, 2, s->fp) != 2)
        st = tdl_fail(TDL_EIO, "%s: read failed: %s", path, ferror(s->fp) ? strerror(errno) : "the file shrank");
    else if (size >= 2 && fseek(s->fp, 0, SEEK_SET) != 0)
        st = tdl_fail(TDL_EIO, "%s: cannot seek: %s", path, strerror(errno));
    if (st == TDL_OK) st = open_common(s, first2);
    if (st != TDL_OK) {
        tdl_idx_close(&s);
        return st;
    }
    *out = s;
    return TDL_OK;
}

/* ---- values ------------------------------------------------------------------ */

int tdl_idx_next(tdl_idx_stream *s, double *dst, size_t count)
{
    const size_t sz = tdl_dtype_size(s->h.dtype);
    if (count > s->h.numel - s->done)
        return tdl_fail(TDL_EINVAL, "%s: %zu values asked for, %zu left", s->label, count, s->h.numel - s->done);
    while (count > 0) {
        size_t k = IDX_CHUNK / sz;
        if (k > count) k = count;
        size_t got;
        int st = src_read(s, s->buf, k * sz, &got);
        if (st != TDL_OK) return st;
        if (got < k * sz)
            return tdl_fail(TDL_EFORMAT, "%s: truncated: the data end after %zu of the %zu values the header declares",
                            s->label, s->done + got / sz, s->h.numel);
        tdl_convert_to_double(s->buf, s->h.dtype, 1, k, dst);
        dst += k;
        count -= k;
        s->done += k;
    }
    return TDL_OK;
}

int tdl_idx_finish(tdl_idx_stream *s)
{
    unsigned char extra;
    size_t got;
    int st = src_read(s, &extra, 1, &got);
    if (st != TDL_OK) return st;
    if (got)
        return tdl_fail(TDL_EFORMAT, "%s: data after the %zu values the header declares", s->label, s->h.numel);
    return TDL_OK;
}

/* ---- whole files (tdl/datasets.h) ----------------------------------------------- */

/* The tensor's name: the base name of the label. */
static int read_stream(tdl_idx_stream *s, tdl_tensor **out)
{
    const tdl_idx_header *h = &s->h;
    char what[4200], detail[64];
    snprintf(what, sizeof what, "%s: the IDX array", s->label);
    snprintf(detail, sizeof detail, "%zu values as doubles", h->numel);
    int st = tdl_memory_require_detail(h->numel, sizeof(double), 0, what, detail);
    if (st != TDL_OK) return st;
    tdl_tensor *t = tdl_calloc(1, sizeof *t, "a tensor");
    if (!t) return TDL_ENOMEM;
    const char *base = strrchr(s->label, '/');
    t->name = tdl_strdup(base ? base + 1 : s->label);
    t->dtype = h->dtype;
    t->ndim = h->ndim;
    memcpy(t->shape, h->shape, sizeof t->shape);
    t->numel = h->numel;
    t->data = tdl_malloc(h->numel ? h->numel * sizeof(double) : 1, "IDX data");
    if (!t->name || !t->data) st = TDL_ENOMEM;
    if (st == TDL_OK) st = tdl_idx_next(s, t->data, h->numel);
    if (st == TDL_OK) st = tdl_idx_finish(s);
    if (st != TDL_OK) {
        tdl_tensor_free(&t);
        return st;
    }
    *out = t;
    return TDL_OK;
}

int tdl_idx_read(const char *path, tdl_tensor **out)
{
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_idx_read: out is NULL");
    *out = NULL;
    if (!path) return tdl_fail(TDL_EINVAL, "tdl_idx_read: path is NULL");
    tdl_idx_stream *s;
    int st = tdl_idx_open(path, &s);
    if (st != TDL_OK) return st;
    st = read_stream(s, out);
    tdl_idx_close(&s);
    return st;
}

int tdl_idx_read_mem(const unsigned char *buf, size_t len, const char *label, tdl_tensor **out)
{
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_idx_read_mem: out is NULL");
    *out = NULL;
    tdl_idx_stream *s;
    int st = tdl_idx_open_mem(buf, len, label, &s);
    if (st != TDL_OK) return st;
    st = read_stream(s, out);
    tdl_idx_close(&s);
    return st;
}
