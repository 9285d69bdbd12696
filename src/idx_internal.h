/* idx_internal.h — the streaming IDX reader behind tdl_idx_read
 * (tdl/datasets.h), shared by idx.c and datasets_external.c; not installed.
 *
 * A stream parses the header when it is opened and then hands out the
 * values in order, converted to double, a chunk at a time: a data set is
 * decoded straight into its matrix, with no copy of the file's bytes in
 * memory (peak: the matrix plus a 64 KiB buffer).  Status conventions and
 * messages as the other readers (formats_internal.h): every message starts
 * with the file's label and a colon.
 */
#ifndef TDL_IDX_INTERNAL_H
#define TDL_IDX_INTERNAL_H

#include <stddef.h>
#include "tdl/tensor.h"

typedef struct tdl_idx_stream tdl_idx_stream;

/* Header of an opened stream (read-only for callers). */
typedef struct tdl_idx_header {
    tdl_dtype dtype;             /* U8, I8, I16, I32, F32 or F64 */
    unsigned code;               /* the IDX type byte: 0x08 ... 0x0E */
    size_t ndim;
    size_t shape[TDL_MAX_NDIM];
    size_t numel;                /* prod(shape) */
    int gz;                      /* 1: the file is gzip-compressed */
} tdl_idx_header;

/* Open a file (plain or gzip, told apart by the gzip magic 1f 8b) or a
 * memory image (label names it in messages) and parse the header.  Checks
 * the declared size against what the input can hold (plain: exactly the
 * bytes after the header; gzip: at most 1032 x the compressed size, the
 * largest expansion of deflate) before anything is allocated.  On failure
 * *out is NULL and the message is set. */
int tdl_idx_open(const char *path, tdl_idx_stream **out);
int tdl_idx_open_mem(const unsigned char *buf, size_t len, const char *label, tdl_idx_stream **out);

const tdl_idx_header *tdl_idx_stream_header(const tdl_idx_stream *s);

/* The next `count` values, converted to double, into dst.  TDL_EFORMAT
 * (truncated, corrupt gzip data) when the input ends first or when more
 * values are asked for than the header declares. */
int tdl_idx_next(tdl_idx_stream *s, double *dst, size_t count);

/* After every value was read: TDL_EFORMAT when bytes follow the data (for
 * gzip this also verifies the final CRC and length). */
int tdl_idx_finish(tdl_idx_stream *s);

/* Close and free; *s becomes NULL (NULL-safe). */
void tdl_idx_close(tdl_idx_stream **s);

#endif
