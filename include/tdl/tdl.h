/* tdl/tdl.h — umbrella header of libtdl, and the conventions every public
 * header follows (written once, here).
 *
 * Errors.  A function that can fail returns an int status: TDL_OK (0) or a
 *   TDL_E* code (tdl/error.h), and leaves a one-line, thread-local message
 *   for tdl_errmsg() naming the file, field or value at fault.  The library
 *   never prints and never exits.  Messages speak in the library's terms
 *   (configuration fields such as sigma_w, q0, ridge); command-line advice
 *   ("use --method lanczos") is added by the `tdl` command, never here.
 *   Programs built on libtdl may report their own failures through the same
 *   channel with tdl_error_set.
 *
 * Objects and their lifetime.  Three kinds, one rule each:
 *   handles the library allocates (tdl_mlp, tdl_dataset, tdl_tensors,
 *     tdl_net_work, tdl_hessian_operator, the configuration handles of
 *     tdl/access.h): made by tdl_X_create / tdl_X_load / tdl_X_new(...,
 *     tdl_X **out), released by tdl_X_free(tdl_X **), which accepts NULL
 *     and sets the pointer to NULL;
 *   result structs the caller declares and the library fills
 *     (tdl_lanczos_result, tdl_sym_eigen, tdl_eval_stats, tdl_train_result,
 *     ...): released by tdl_X_free(tdl_X *), which frees the members and
 *     zeroes the struct (NULL-safe, idempotent);
 *   plain arrays the library allocates for the caller: free().
 *   On failure nothing is left for the caller to free.
 *
 * Configuration.  A struct tdl_X_config, filled with tdl_X_config_default
 *   and then changed field by field; functions take it by const pointer.
 *   Bindings that must not depend on struct layouts set the same fields by
 *   name through tdl/access.h.
 *
 * Names.  Every enum a user can name has a table tdl_X_names[] (tdl/names.h)
 *   and tdl_X_parse / tdl_X_name over it; the CLI, the theorem checks and
 *   the Python package parse through those tables only.
 *
 * Numbers and arrays.  double precision throughout; sizes are size_t, seeds
 *   unsigned long, flags int.  The parameters of a net are ONE flat vector
 *   theta (tdl/model.h).  A matrix argument is a double *, row-major, with
 *   its sizes (H is P x P: H[i * P + j]).  Caller data enter through
 *   tdl_matrix_view (any strides, tdl/data.h) and are copied.  The data-set
 *   struct and the kernel module (tdl/ntk.h) predate this rule and use
 *   gsl_matrix, itself a row-major double * with a row stride (tda);
 *   tdl_matrix_wrap (tdl/access.h) makes one over caller memory.
 *
 * ABI.  The shared library is libtdl.so.MAJOR (tdl_version() gives the full
 *   version) and exports exactly the TDL_API declarations.  The layouts of
 *   public structs may change with MAJOR; code that must survive that (the
 *   Python package) reads them through the accessors of tdl/access.h and
 *   checks any mirrored layout with tdl_sizeof.
 *
 * Threads.  The error message is per thread.  A handle is used by one
 *   thread at a time; the library parallelizes internally (OpenMP, BLAS).
 */
#ifndef TDL_TDL_H
#define TDL_TDL_H
#include "tdl/error.h"
#include "tdl/version.h"
#include "tdl/names.h"
#include "tdl/memory.h"
#include "tdl/stats.h"
#include "tdl/linalg.h"
#include "tdl/fileio.h"
#include "tdl/blas.h"
#include "tdl/tensor.h"
#include "tdl/io.h"
#include "tdl/data.h"
#include "tdl/datasets.h"
#include "tdl/model.h"
#include "tdl/net.h"
#include "tdl/train.h"
#include "tdl/hessian.h"
#include "tdl/spectral.h"
#include "tdl/bounds.h"
#include "tdl/landscape.h"
#include "tdl/ntk.h"
#include "tdl/sweep.h"
#include "tdl/signal.h"
#include "tdl/infoplane.h"
#include "tdl/access.h"
#include "tdl/verify.h"
#include "tdl/gn_dual.h"
#include "tdl/sharpness.h"
#include "tdl/random_features.h"
#include "tdl/svm.h"
#include "tdl/certify.h"
#include "tdl/dist.h"
#endif
