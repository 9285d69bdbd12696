/* tdl/data.h — data sets: shipped, from files, synthetic; the --data grammar.
 *
 * SPEC:  NAME[:key=value[,key=value...]]
 *   shipped    iris wine breast-cancer digits mnist fashion-mnist
 *   files      path.csv (label=K: label column, default last; targets=K: the
 *              last K columns as regression targets), path.npz (X, y),
 *              npy:X=path,y=path
 *   synthetic  gauss:n=,d=,classes=,sep=   sphere:n=,d=   teacher:n=,d=,k=,act=
 *              spirals:n=   xor:n=,d=      (all take seed=)
 *   modifiers  split=train|test|all  test=0.2  seed=0  n=K  binary=K
 *              random-labels=F  normalize=none|standard|unit
 *              task=auto|classify|regress (files only)
 *
 * Labels and targets of files.  task=auto reads one target column of
 * integers as class labels 0..C-1 and anything else (non-integers, several
 * columns) as regression targets; task=classify insists on labels,
 * task=regress reads the column(s) as targets whatever they hold.
 * +-1 labels: one target column whose values all lie in {-1, +1}, with at
 * least one -1, is read under task=auto and task=classify as two classes,
 * -1 -> class 0 and +1 -> class 1, and labels_pm1 is set.  The losses and
 * measures that map class c to y = 2c - 1 (logistic, hinge, the Arora et
 * al. measure) then see the original +-1; ce sees classes 0 and 1.  Under
 * task=regress the column stays the targets -1 / +1 (for mse).  Any other
 * negative value is refused as a label.
 * Several targets in a CSV: path.csv:targets=K reads the last K columns as
 * an n x K regression target (label= and targets= exclude each other).  A
 * CSV read without either whose header names two or more trailing columns
 * like targets (y, y<digits>, y_*, target*, output*, out, out<digits>,
 * out_*; case ignored) is still read with its last column as the one
 * target, and `warning` is set (the CLI prints it on stderr); when that
 * column is refused as labels, the error names targets=K instead.  The
 * header alone decides: files without one, and ordinary feature + label
 * headers (x1,x2,label; y1,y2,class), never warn.
 *
 * Order of the modifiers, whatever order they are written in:
 *   binary -> stratified seeded split -> n (first K after a seeded shuffle)
 *   -> random-labels -> normalize (statistics from the training part of the
 *   split, so that train and test get the same transform).
 */
#ifndef TDL_DATA_H
#define TDL_DATA_H
#include "tdl/export.h"

#include <stddef.h>
#include <gsl/gsl_matrix.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tdl_dataset {
    size_t n;            /* examples */
    size_t d;            /* input dimension */
    gsl_matrix *X;       /* n x d inputs, owned */
    size_t classes;      /* > 0: classification with labels[]; 0: regression */
    size_t *labels;      /* n labels in 0..classes-1 (classification), owned */
    gsl_matrix *Y;       /* n x k targets (regression only), owned */
    char *spec;          /* the spec it was loaded from, owned */
    char *description;   /* one line: source, modifiers applied, owned */
    int labels_pm1;      /* 1: the file's labels were -1/+1, read as classes
                            0/1 (-1 -> 0, +1 -> 1); 0 otherwise */
    char *warning;       /* one line about a doubtful reading of the file
                            (e.g. a CSV that looks multi-target), or NULL;
                            owned.  The library never prints: callers show it */
} tdl_dataset;

/* Load a data set from a spec.  data_dirs: NULL-terminated list of
 * directories searched for shipped sets (NULL: tdl_data_dirs()). */
TDL_API int tdl_dataset_load(const char *spec, tdl_dataset **out);

/* One `key=value` of a data spec; `used` marks keys some part consumed. */
typedef struct tdl_spec_kv {
    char *key;
    char *value;
    int used;
} tdl_spec_kv;

typedef struct tdl_spec {
    char *name;          /* the part before the first ':' */
    size_t count;
    tdl_spec_kv *kv;
    const char *text;    /* the whole spec, for messages */
} tdl_spec;

/* Parse NAME[:key=value[,key=value...]] (tdl/data.h) without loading
 * anything: the grammar the loader itself uses (tdl_dataset_load,
 * tdl_dataset_spec_files), for programs that take specs of their own
 * (and fuzz/fuzz_dataspec.c).  On TDL_OK
 * *s owns name and kv (free with tdl_data_spec_free) and s->text borrows
 * `text`, which must outlive it.  Keys are non-empty and unique, values
 * non-empty; an empty item (",,") or one without '=' is TDL_EINVAL, a
 * trailing ',' is accepted.  On failure *s owns nothing (message set). */
TDL_API int tdl_data_spec_parse(const char *text, tdl_spec *s);
/* Free what tdl_data_spec_parse allocated and zero *s. */
TDL_API void tdl_data_spec_free(tdl_spec *s);

/* Typed lookups: return TDL_OK and leave *out untouched when the key is
 * absent; fail with TDL_EINVAL naming the spec when the value is bad. */
TDL_API int tdl_spec_size(tdl_spec *s, const char *key, size_t lo, size_t hi, size_t *out);
TDL_API int tdl_spec_double(tdl_spec *s, const char *key, double lo, double hi, double *out);
TDL_API const char *tdl_spec_string(tdl_spec *s, const char *key);

/* The files a spec reads, as the loader would name them: the path of a .csv
 * or .npz spec, the X and y of npy:X=,y=; none for shipped and synthetic
 * sets.  *files gets a NULL-terminated array of strings in ONE allocation
 * (free(*files) releases it all).  The spec is parsed with the loader's own
 * grammar but nothing is opened; TDL_EINVAL (message set) when it does not
 * parse, TDL_ENOMEM.  For the CLI's check that no output overwrites an input. */
TDL_API int tdl_dataset_spec_files(const char *spec, char ***files);

/* Directories searched for shipped data, in order: $TDL_DATA_DIR, the
 * source tree's data/ (compiled in), the installed data directory. */
TDL_API const char *const *tdl_data_dirs(void);

/* Names of shipped data sets, NULL-terminated. */
TDL_API const char *const *tdl_shipped_names(void);

/* An empty data set for the caller to fill through its fields: X (n x d,
 * zeros) and, for classification (classes > 0), labels (n zeros, each to be
 * set below classes), for regression (classes == 0) Y (n x k zeros; k = 0
 * means 1).  The memory guard refuses what does not fit.  Prefer
 * tdl_dataset_from_arrays when the values are already in an array. */
TDL_API int tdl_dataset_create(size_t n, size_t d, size_t classes, size_t k, tdl_dataset **out);

/* A caller's matrix of doubles, read in place: element (i, j) is
 * data[i * row_stride + j * col_stride], strides counted in elements (a
 * C-ordered array has row_stride = cols, col_stride = 1; a Fortran-ordered
 * one row_stride = 1, col_stride = rows; NumPy's byte strides divided by 8). */
typedef struct tdl_matrix_view {
    const double *data;
    size_t rows, cols;
    ptrdiff_t row_stride, col_stride;
} tdl_matrix_view;

/* A data set from the caller's arrays (copied; the caller keeps its own).
 * X: n x d inputs.  Classification: labels (n integers in 0..classes-1) and
 * Y == NULL; classes == 0 takes max(label) + 1.  Regression: labels == NULL
 * and Y (n x k targets).  description (may be NULL) is kept for messages and
 * reports.  Fails with TDL_ESHAPE when the row counts differ, TDL_EINVAL for
 * an empty X, a negative or out-of-range label, or neither/both of labels
 * and Y, TDL_ENONFINITE naming the first NaN or infinity. */
TDL_API int tdl_dataset_from_arrays(tdl_matrix_view X, const long long *labels, size_t classes,
                                    const tdl_matrix_view *Y, const char *description,
                                    tdl_dataset **out);

/* Counts per class (classes entries); caller frees. */
TDL_API int tdl_dataset_class_counts(const tdl_dataset *ds, size_t **counts);

/* Number of output columns the targets need: classes (one-hot) or Y's
 * columns. */
TDL_API size_t tdl_dataset_outputs(const tdl_dataset *ds);

TDL_API void tdl_dataset_free(tdl_dataset **ds);

/* Write ds to path as an .npz that tdl_dataset_load (`--data path`) reads
 * back to the same numbers, bit for bit, and the same task and class count:
 *   X            float64, n x d: the inputs as loaded (modifiers applied)
 *   y            float64: n labels 0..classes-1 (classification), or the
 *                n x k targets (regression; k = 1 gives shape (n,))
 *   tdl_classes  float64, 0-d: the number of classes, 0 for regression.
 *                When an .npz holds it, the loader's task=auto follows it
 *                (regression targets that happen to be integers stay
 *                targets; a class missing from a subset is still counted).
 * Written atomically (temporary file + rename): a failure leaves no file;
 * TDL_EIO (message naming path) when it cannot be created. */
TDL_API int tdl_dataset_save(const tdl_dataset *ds, const char *path);

#ifdef __cplusplus
}
#endif
#endif
