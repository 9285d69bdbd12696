/* tdl/io.h — file formats: safetensors, NumPy .npy / .npz, torch.save .pt, CSV.
 *
 * Readers validate every length, offset, shape product and dtype before they
 * touch data, and fail with TDL_EFORMAT (malformed or truncated: a length
 * that runs past the end of the file), TDL_EIO (cannot read) or TDL_ETOOBIG
 * (sizes that overflow or pass a hard limit: a safetensors header over 1e8
 * bytes, more than TDL_MAX_NDIM dimensions) and a message naming the file
 * and the problem.  Values are converted to double.  The *_mem
 * variants parse a buffer; `label` names it in messages (a file name).
 *
 * Writers write through a temporary file in the same directory and rename it
 * into place, so a failure never leaves a partial file behind.
 */
#ifndef TDL_IO_H
#define TDL_IO_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* safetensors: u64 LE header length N, N bytes of JSON, data buffer.
 * Reads dtypes BOOL U8 I8 U16 I16 U32 I32 U64 I64 F16 BF16 F32 F64. */
TDL_API int tdl_safetensors_read(const char *path, tdl_tensors **out);
TDL_API int tdl_safetensors_read_mem(const unsigned char *buf, size_t len,
                             const char *label, tdl_tensors **out);
/* Writes every tensor as F64, with the set's metadata in "__metadata__";
 * header padded with spaces to a multiple of 8. */
TDL_API int tdl_safetensors_write(const char *path, const tdl_tensors *set);

/* .npy v1.0, v2.0, v3.0; descr <f8 <f4 <f2 <i8 <i4 <i2 |i1 |u1 <u2 <u4 <u8
 * |b1 and big-endian variants; fortran_order True or False.  Rejects object
 * and structured dtypes.  Result is row-major. */
TDL_API int tdl_npy_read(const char *path, tdl_tensor **out);
TDL_API int tdl_npy_read_mem(const unsigned char *buf, size_t len, const char *label,
                     tdl_tensor **out);
/* Writes '<f8', C order, v1.0 (v2.0 when the header needs it). */
TDL_API int tdl_npy_write(const char *path, const tdl_tensor *t);
/* The same .npy image in a malloc'ed buffer (*buf, *len; free with free()). */
TDL_API int tdl_npy_write_mem(const tdl_tensor *t, unsigned char **buf, size_t *len);

/* .npz: a zip of NAME.npy members, stored (method 0) or deflated (method 8),
 * ZIP64 extra fields honoured.  Tensor names drop the ".npy" suffix. */
TDL_API int tdl_npz_read(const char *path, tdl_tensors **out);
TDL_API int tdl_npz_read_mem(const unsigned char *buf, size_t len, const char *label,
                     tdl_tensors **out);
/* Writes stored (uncompressed) members, each as by tdl_npy_write. */
TDL_API int tdl_npz_write(const char *path, const tdl_tensors *set);

/* torch.save files: the zip archive torch >= 1.6 writes (TOP/data.pkl and
 * TOP/data/KEY storages; TOP is any one name) holding a state dict, an
 * OrderedDict of tensors.  The pickle is interpreted, never executed: only
 * the opcodes and globals a state dict uses (collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 / _rebuild_parameter, torch.<T>Storage)
 * are accepted, any other global (os.system, builtins.eval, ...) or opcode
 * fails with TDL_EFORMAT naming it; memo indices over 2^20 and MARKs nested
 * over 32 deep fail with TDL_ETOOBIG.  Storages: Float Double Half BFloat16
 * Long Int Short Char Byte Bool (dtype kept as stored), any storage offset,
 * size and stride (non-contiguous views, storages shared by several
 * tensors), byte order from TOP/byteorder (little when absent).  Tensor
 * names are the dict's keys, in its order.  Refused: the bare pickle of
 * torch < 1.6, TorchScript archives, checkpoints whose values are not all
 * tensors, compressed members. */
TDL_API int tdl_torch_read(const char *path, tdl_tensors **out);
TDL_API int tdl_torch_read_mem(const unsigned char *buf, size_t len, const char *label,
                               tdl_tensors **out);

/* CSV of numbers, comma separated (spaces around cells ignored).  A first
 * line with any non-numeric cell is a header and is skipped.  Rejects ragged
 * rows, non-numeric cells, NaN / inf cells and files without data rows.
 * Result: a 2-D tensor (rows x columns) named "csv". */
TDL_API int tdl_csv_read(const char *path, tdl_tensor **out);
TDL_API int tdl_csv_read_mem(const char *buf, size_t len, const char *label,
                     tdl_tensor **out);

/* Whole file into memory (max_bytes guards against huge files):
 * *buf is malloc'ed and NUL-terminated (len excludes the NUL). */
TDL_API int tdl_read_file(const char *path, size_t max_bytes, unsigned char **buf,
                  size_t *len);

/* Write len bytes to path atomically (temporary file + rename). */
TDL_API int tdl_write_file_atomic(const char *path, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
