/* tdl/datasets.h — public data sets in the formats they are distributed in:
 * IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST), torchvision's MNIST and
 * Fashion-MNIST folders, and CIFAR-10's binary batches.
 *
 * Specs (the --data grammar of tdl/data.h):
 *   idx:images=PATH,labels=PATH   any two IDX files, .gz or not
 *   mnist:root=DIR                torchvision's layout (below), the
 *   fashion-mnist:root=DIR        official split
 *   cifar10:root=DIR              the binary batches, the official split
 * Without root=, `mnist` and `fashion-mnist` stay the shipped subsets.
 *
 * Inputs.  IDX images are flattened to n x (product of the other
 * dimensions), in the file's (C) order.  Values of type u8 (pixels) are put
 * in [0, 1]: v becomes v * (1/255) in double precision, the rule of the
 * shipped mnist (the same bits), within one ulp of v / 255; values of the
 * other IDX types (i8, i16, i32, f32, f64) are read as they are, and a NaN
 * or infinity among them is refused.  Images are read as stored (EMNIST's
 * are transposed in their files; torchvision reads them so too).  CIFAR-10:
 * each record is 1 label byte and 3072 pixel bytes, the R, G and B planes
 * of a 32 x 32 image, each row-major; the 3072 features keep that order
 * (channel, row, column: what torch's ToTensor gives, flattened), each
 * byte v becoming v * (1/255).
 *
 * Labels.  An IDX labels file is 1-D, one value per image, of any IDX type;
 * read as class labels (task auto or classify) its values must be integers
 * 0..C-1 (C = the largest + 1) or -1/+1 (two classes, -1 -> 0, +1 -> 1,
 * labels_pm1 set), as for the other files (tdl/data.h).  task=regress reads
 * it (1-D, or 2-D: n x k) as regression targets; task=auto does too when
 * its values are not all integers or it is 2-D.  MNIST, Fashion-MNIST and
 * CIFAR-10 have 10 classes: a label outside 0..9 is an error.
 *
 * Official splits.  split=train gives the training files (MNIST and
 * Fashion-MNIST 60,000 images, CIFAR-10 data_batch_1..5: 50,000), split=test
 * the test files (10,000 each); split=all or no split: both, training
 * examples first.  The split is the distributors', not tdl's seeded one, so
 * test= is refused with root=; normalize=standard takes its statistics from
 * the official training files (read again when split=test, a chunk at a
 * time), so that both parts get the same transform.  The other modifiers
 * (n=, binary=, random-labels=, normalize=unit, seed=) apply as to any set.
 *
 * Folders.  mnist:root=DIR reads train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
 * each plain or with .gz (the plain one when both exist), from the first
 * of DIR/MNIST/raw (torchvision: MNIST(root=DIR) reads
 * DIR/MNIST/raw/train-images-idx3-ubyte), DIR/raw and DIR that has them;
 * fashion-mnist from DIR/FashionMNIST/raw, DIR/raw, DIR.  cifar10:root=DIR
 * reads data_batch_1.bin .. data_batch_5.bin and test_batch.bin from
 * DIR/cifar-10-batches-bin (the extracted cifar-10-binary.tar.gz) or DIR.
 * A batch holds any whole number of records (the distributed ones 10,000).
 *
 * Memory.  A loaded set takes its float64 size, n x d x 8 bytes, plus n
 * labels (8 bytes each) and a 64 KiB read buffer: files are decoded
 * straight into the matrix, never held whole in memory (gzip included).
 * MNIST's training set takes 60000 x 784 x 8 B = 376 MB, CIFAR-10's
 * 50000 x 3072 x 8 B = 1.23 GB; the memory guard (tdl/memory.h) refuses a
 * set that does not fit before allocating it.  Modifiers that select
 * examples (split of a file set, n=) build the selection beside the set for
 * a moment (tdl/data.h).
 *
 * Errors (one line naming the file): TDL_EIO a file cannot be opened or a
 * folder lacks a file (the message says where it looked); TDL_EFORMAT
 * bad magic, unknown type, truncated data, bytes after the data, corrupt
 * gzip, a CIFAR file that is not whole records, a label out of range;
 * TDL_ETOOBIG dimensions whose product overflows, more than TDL_MAX_NDIM
 * dimensions, a set over the memory guard; TDL_ESHAPE images and labels
 * of different counts, training and test images of different sizes.
 */
#ifndef TDL_DATASETS_H
#define TDL_DATASETS_H
#include "tdl/export.h"

#include <stddef.h>
#include "tdl/data.h"
#include "tdl/names.h"
#include "tdl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read one IDX file, plain or gzip (told apart by the gzip magic 1f 8b, not
 * by the name), of any IDX type (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32,
 * 0x0D f32, 0x0E f64).  *out gets a tensor (tdl/tensor.h; free with
 * tdl_tensor_free) with the file's dtype and shape and its values as they
 * are (no scaling), named after the file's base name.  Sizes are checked
 * against the file before anything is allocated (above). */
TDL_API int tdl_idx_read(const char *path, tdl_tensor **out);
/* The same from memory; label names it in messages (NULL: "<memory>"). */
TDL_API int tdl_idx_read_mem(const unsigned char *buf, size_t len, const char *label, tdl_tensor **out);

/* Which part of a set with an official split to load. */
typedef enum tdl_data_split {
    TDL_SPLIT_TRAIN,
    TDL_SPLIT_TEST,
    TDL_SPLIT_ALL        /* training examples first, then the test ones */
} tdl_data_split;
/* "train", "test", "all" */
TDL_API extern const tdl_name tdl_data_split_names[];

/* A data set from an IDX images file and an IDX labels file (the reading
 * rules above).  task: "auto", "classify" or "regress" (NULL: "auto"). */
TDL_API int tdl_idx_dataset_load(const char *images, const char *labels, const char *task, tdl_dataset **out);

/* MNIST (fashion = 0) or Fashion-MNIST (fashion = 1) from torchvision's
 * folder under root (above): 10 classes, inputs in [0, 1]. */
TDL_API int tdl_mnist_load(const char *root, int fashion, tdl_data_split split, tdl_dataset **out);

/* CIFAR-10 from its binary batches under root (above): 10 classes, 3072
 * inputs in [0, 1]. */
TDL_API int tdl_cifar10_load(const char *root, tdl_data_split split, tdl_dataset **out);

/* For the --data loader (tdl_dataset_load) and programs that parse specs
 * themselves: 1 when a parsed spec names one of the sets above (idx,
 * cifar10, or mnist / fashion-mnist WITH root=), 0 otherwise (shipped
 * mnist and the rest are not this module's).  Reads no key. */
TDL_API int tdl_dataset_is_external(const tdl_spec *s);

/* Load the set a parsed spec names (tdl_dataset_is_external(s) == 1),
 * consuming its keys: images= and labels= (idx), root=, and for the sets
 * with an official split also split= and normalize=standard, which it
 * applies itself (above) and then leaves in s as split=all and
 * normalize=none, so that the modifiers of tdl/data.h, applied after it,
 * do not apply them twice; test= with root= is refused.  task= is read, not
 * required.  desc (desc_len bytes) gets one line saying what was read
 * ("mnist: DIR/MNIST/raw (IDX), official train split: 60000 examples,
 * inputs / 255").  *out's spec and description are left NULL for the
 * loader to set.  On failure *out is NULL and the message names the spec
 * or the file. */
TDL_API int tdl_dataset_load_external(tdl_spec *s, tdl_dataset **out, char *desc, size_t desc_len);

#ifdef __cplusplus
}
#endif
#endif
