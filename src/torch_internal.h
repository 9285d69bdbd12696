/* torch_internal.h — what model.c needs of torch_pt.c; not installed. */
#ifndef TDL_TORCH_INTERNAL_H
#define TDL_TORCH_INTERNAL_H

#include <stddef.h>

/* 1 when buf is a zip archive with one TOP/data.pkl member (a torch.save
 * file, to be read by tdl_torch_read_mem), 0 otherwise (an .npz, or not a
 * zip: the npz reader says what is wrong). */
int tdl_torch_is_archive(const unsigned char *buf, size_t len);

#endif
