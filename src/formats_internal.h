/* formats_internal.h — helpers shared by the file-format modules
 * (safetensors.c, npy.c, npz.c, csv.c); not installed.
 *
 * Status conventions of the readers (see tdl/io.h):
 *   TDL_EFORMAT  the bytes contradict the format or themselves: bad magic,
 *                bad header syntax, unknown dtype, a file that ends before
 *                the data it declares (truncated), trailing bytes, bad CRC;
 *   TDL_ETOOBIG  a declared size that cannot be represented or is over a
 *                hard limit: shape products or byte counts overflowing
 *                size_t, a safetensors header over 100,000,000 bytes,
 *                more than TDL_MAX_NDIM dimensions;
 *   TDL_EIO      the file cannot be opened or read;
 *   TDL_ENOMEM   allocation failed.
 * Every message starts with the label (the file name) and a colon.
 */
#ifndef TDL_FORMATS_INTERNAL_H
#define TDL_FORMATS_INTERNAL_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include "tdl/tensor.h"

/* Largest file the *_read functions load into memory. */
#define TDL_IO_MAX_FILE_BYTES (SIZE_MAX / 4)

/* Label used in messages when the caller passed NULL. */
const char *tdl_io_label(const char *label);

/* Convert numel packed elements of dtype dt at src (little-endian unless
 * big_endian) into doubles.  src holds numel * tdl_dtype_size(dt) bytes;
 * BOOL bytes convert to 0 or 1. */
void tdl_convert_to_double(const unsigned char *src, tdl_dtype dt, int big_endian,
                           size_t numel, double *dst);

/* Make room for n more tensors in set->items (set->count unchanged). */
int tdl_tensors_reserve(tdl_tensors *set, size_t n);

/* Append a tensor to set, taking ownership of `data` (numel doubles; freed
 * here on failure) and copying name.  Room must have been reserved with
 * tdl_tensors_reserve.  No duplicate check: the readers check names
 * themselves.  Returns TDL_OK or TDL_ENOMEM. */
int tdl_tensors_push(tdl_tensors *set, const char *name, tdl_dtype dt, size_t ndim,
                     const size_t *shape, size_t numel, double *data);

/* Store n doubles as IEEE binary64 little-endian bytes (8 n bytes). */
void tdl_store_f64le(unsigned char *dst, const double *src, size_t n);

/* Copy s into out (cap bytes) for a message: at most 48 characters, bytes
 * outside printable ASCII shown as '?', "..." when cut.  Returns out. */
const char *tdl_msg_str(const char *s, size_t len, char *out, size_t cap);

/* Report the first duplicate among `count` names (O(n log n)): returns the
 * index of one duplicated name, or (size_t)-1 when all are distinct.
 * Returns (size_t)-2 when out of memory. */
size_t tdl_find_duplicate_name(char *const *names, size_t count);

/* TDL_EINVAL "LABEL: two tensors are named 'X'" when set has a duplicate
 * name (the writers call it: a file the readers would refuse is never made). */
int tdl_tensors_check_unique(const tdl_tensors *set, const char *label);

/* --- .npy (npy.c) ------------------------------------------------------- */

/* Parse a .npy image; label names it in messages.  *out gets a tensor whose
 * name is `name` (copied; "" when NULL). */
int tdl_npy_parse(const unsigned char *buf, size_t len, const char *label,
                  const char *name, tdl_tensor **out);

/* Size in bytes of the .npy image tdl_npy_write produces for t
 * ('<f8', C order, header padded so the data start at a multiple of 64).
 * TDL_ETOOBIG when it does not fit in size_t. */
int tdl_npy_image_size(const tdl_tensor *t, size_t *size);

/* The whole .npy image in memory: tdl_npy_write_mem (tdl/io.h). */
#define tdl_npy_serialize tdl_npy_write_mem

/* Write the .npy image of t to fp; when crc is not NULL, *crc is updated
 * with zlib's crc32 over the bytes written.  label names fp in messages. */
int tdl_npy_fwrite(const tdl_tensor *t, FILE *fp, const char *label, uint32_t *crc);

/* CRC-32 (zip polynomial) of the .npy image of t, without writing it. */
int tdl_npy_crc32(const tdl_tensor *t, uint32_t *crc);

#endif
