/* datasets_external.c — data sets in their distributed formats
 * (tdl/datasets.h): IDX pairs, torchvision's MNIST / Fashion-MNIST folders,
 * CIFAR-10's binary batches, and the --data entry point for them.
 *
 * Memory plan: every file is opened first and its header (IDX) or size
 * (CIFAR) read, so that the total n is known; then ONE n x d matrix is made
 * (tdl_dataset_create: the memory guard) and each file decoded straight into
 * its rows, a 64 KiB chunk at a time (idx.c) or a record at a time (CIFAR,
 * through stdio's buffer).  Labels are read whole first (n doubles: 480 KB
 * for MNIST's training set) so that a bad label fails before the big
 * allocation.  Nothing else of size n x d is made.
 *
 * normalize=standard for the official splits: the mean and the population
 * standard deviation of each feature over the official training files,
 * summed row by row exactly as data.c sums the training part of a split
 * (mean_j = sum_i x_ij / m; sd_j = sqrt(sum_i (x_ij - mean_j)^2 / m); a
 * constant feature is centred only), from the loaded rows when the training
 * files are loaded, else by reading them again in chunks of 256 rows (two
 * passes): split=train and split=test get the same transform, bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_matrix.h>
#include "tdl/data.h"
#include "tdl/datasets.h"
#include "tdl/memory.h"
#include "tdl/names.h"
#include "internal.h"
#include "idx_internal.h"

/* the official sets' class count */
#define OFFICIAL_CLASSES 10
/* the largest class count read from an IDX labels file (as data.c) */
#define IDX_MAX_CLASSES 100000
#define CIFAR_D 3072
#define CIFAR_RECORD (CIFAR_D + 1)
/* rows per chunk when the training files are read again for statistics */
#define STATS_ROWS 256

const tdl_name tdl_data_split_names[] = {
    {"train", TDL_SPLIT_TRAIN}, {"test", TDL_SPLIT_TEST}, {"all", TDL_SPLIT_ALL}, {NULL, 0},
};

/* ---- one file of a set: an IDX images/labels pair or a CIFAR batch ----------- */

typedef struct part {
    char *images;              /* owned path */
    char *labels;              /* owned path; NULL for a CIFAR batch */
    int train;                 /* 1: an official training file */
    tdl_idx_stream *img;       /* open IDX images */
    double *lab;               /* IDX labels, n values (owned) */
    FILE *fp;                  /* open CIFAR batch */
    size_t n, d, pos;          /* examples, features, examples read */
    int u8;                    /* values are bytes: scale by 1/255 */
    int floats;                /* values may be NaN or infinite: check */
} part;

static void part_close(part *p)
{
    tdl_idx_close(&p->img);
    free(p->lab);
    p->lab = NULL;
    if (p->fp) fclose(p->fp);
    p->fp = NULL;
    p->pos = 0;
}

static void part_free(part *p)
{
    part_close(p);
    free(p->images);
    free(p->labels);
    memset(p, 0, sizeof *p);
}

/* Check that the n labels of `file` are integers 0..classes-1. */
static int check_official_labels(const char *file, const double *v, size_t n, size_t classes)
{
    for (size_t i = 0; i < n; i++)
        if (!(v[i] >= 0 && v[i] < (double)classes && v[i] == floor(v[i])))
            return tdl_fail(TDL_EFORMAT, "%s: label %g of example %zu is not a class 0..%zu", file, v[i], i,
                            classes - 1);
    return TDL_OK;
}

/* Open an IDX images file and read its labels file (labels may be NULL for
 * a caller that reads the labels itself).  Images: n = the first dimension,
 * d = the product of the others. */
static int idx_part_open_images(part *p)
{
    int st = tdl_idx_open(p->images, &p->img);
    if (st != TDL_OK) return st;
    const tdl_idx_header *h = tdl_idx_stream_header(p->img);
    if (h->ndim == 0) return tdl_fail(TDL_ESHAPE, "%s: a 0-dimensional IDX array holds no images", p->images);
    p->n = h->shape[0];
    p->d = 1;
    for (size_t k = 1; k < h->ndim; k++) p->d *= h->shape[k];  /* no overflow: numel was checked */
    if (p->n == 0) return tdl_fail(TDL_EINVAL, "%s: no images (the first dimension is 0)", p->images);
    if (p->d == 0) return tdl_fail(TDL_EINVAL, "%s: images of no pixels (a dimension is 0)", p->images);
    p->u8 = h->dtype == TDL_U8;
    p->floats = h->dtype == TDL_F32 || h->dtype == TDL_F64;
    return TDL_OK;
}

/* Open an official IDX pair: the labels must be 1-D, as many as the images,
 * classes 0..9. */
static int idx_part_open(part *p)
{
    int st = idx_part_open_images(p);
    if (st != TDL_OK) return st;
    tdl_tensor *t = NULL;
    if ((st = tdl_idx_read(p->labels, &t)) != TDL_OK) return st;
    if (t->ndim != 1)
        st = tdl_fail(TDL_ESHAPE, "%s: labels must be 1-D (one per image), got %zu dimensions", p->labels, t->ndim);
    else if (t->shape[0] != p->n)
        st = tdl_fail(TDL_ESHAPE, "%s has %zu images but %s has %zu labels", p->images, p->n, p->labels, t->shape[0]);
    else
        st = check_official_labels(p->labels, t->data, t->numel, OFFICIAL_CLASSES);
    if (st == TDL_OK) {
        p->lab = t->data;
        t->data = NULL;
    }
    tdl_tensor_free(&t);
    return st;
}

static int cifar_part_open(part *p)
{
    int fd;
    size_t size;
    int st = tdl_open_regular(p->images, &fd, &size);
    if (st != TDL_OK) return st;
    p->fp = fdopen(fd, "rb");
    if (!p->fp) {
        close(fd);
        return tdl_fail(TDL_EIO, "%s: cannot open", p->images);
    }
    if (size == 0) return tdl_fail(TDL_EFORMAT, "%s: empty file", p->images);
    if (size % CIFAR_RECORD != 0)
        return tdl_fail(TDL_EFORMAT, "%s: %zu bytes is not a whole number of %d-byte records (1 label byte + %d pixel bytes)",
                        p->images, size, CIFAR_RECORD, CIFAR_D);
    p->n = size / CIFAR_RECORD;
    p->d = CIFAR_D;
    p->u8 = 1;
    return TDL_OK;
}

static int part_open(part *p)
{
    p->pos = 0;
    return p->labels ? idx_part_open(p) : cifar_part_open(p);
}

/* The next `rows` examples into X (row stride ld) and labels (may be NULL). */
static int part_rows(part *p, double *X, size_t ld, size_t *labels, size_t rows)
{
    int st;
    if (p->img) {
        if (ld == p->d) {
            if ((st = tdl_idx_next(p->img, X, rows * p->d)) != TDL_OK) return st;
        } else {
            for (size_t i = 0; i < rows; i++)
                if ((st = tdl_idx_next(p->img, X + i * ld, p->d)) != TDL_OK) return st;
        }
        if (labels)
            for (size_t i = 0; i < rows; i++) labels[i] = (size_t)p->lab[p->pos + i];
    } else {
        unsigned char rec[CIFAR_RECORD];
        for (size_t i = 0; i < rows; i++) {
            if (fread(rec, 1, CIFAR_RECORD, p->fp) != CIFAR_RECORD)
                return tdl_fail(TDL_EIO, "%s: read failed at record %zu (the file shrank?)", p->images, p->pos + i);
            if (rec[0] >= OFFICIAL_CLASSES)
                return tdl_fail(TDL_EFORMAT, "%s: record %zu has label byte %u (CIFAR-10 labels are 0..9)", p->images,
                                p->pos + i, rec[0]);
            if (labels) labels[i] = rec[0];
            double *x = X + i * ld;
            for (size_t j = 0; j < CIFAR_D; j++) x[j] = (double)rec[1 + j];
        }
    }
    const double s = 1.0 / 255.0;
    for (size_t i = 0; i < rows; i++) {
        double *x = X + i * ld;
        if (p->u8)
            for (size_t j = 0; j < p->d; j++) x[j] *= s;
        else if (p->floats)
            for (size_t j = 0; j < p->d; j++)
                if (!isfinite(x[j]))
                    return tdl_fail(TDL_ENONFINITE, "%s: image %zu, value %zu is %g", p->images, p->pos + i, j, x[j]);
    }
    p->pos += rows;
    return TDL_OK;
}

/* After the last row: nothing may follow (IDX; a CIFAR file's size was exact). */
static int part_finish(part *p)
{
    return p->img ? tdl_idx_finish(p->img) : TDL_OK;
}

/* The memory guard for an n x d set read from `file`, naming it: the
 * matrix (n d doubles) and the labels (n), before anything is allocated. */
static int guard_set(const char *file, size_t n, size_t d)
{
    char what[4200], detail[96];
    size_t cells;
    if (tdl_mul_size(n, d, &cells) != 0) cells = SIZE_MAX;
    snprintf(what, sizeof what, "%s: the data set", file);
    snprintf(detail, sizeof detail, "%zu x %zu values as doubles", n, d);
    return tdl_memory_require_detail(cells, sizeof(double), n * sizeof(size_t), what, detail);
}

/* ---- the official sets ------------------------------------------------------ */

typedef struct official {
    const char *name;          /* "mnist", "fashion-mnist", "cifar10" */
    char where[4096];          /* the folder the files came from */
    int gz;                    /* some file was gzip */
    size_t nparts;
    part parts[6];
} official;

static void official_free(official *o)
{
    for (size_t i = 0; i < o->nparts; i++) part_free(&o->parts[i]);
    o->nparts = 0;
}

static int in_split(const part *p, tdl_data_split split)
{
    return split == TDL_SPLIT_ALL || (split == TDL_SPLIT_TRAIN) == (p->train != 0);
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static char *join(const char *dir, const char *file, const char *suffix)
{
    size_t n = strlen(dir) + strlen(file) + strlen(suffix) + 2;
    char *s = tdl_malloc(n, "a path");
    if (s) snprintf(s, n, "%s/%s%s", dir, file, suffix);
    return s;
}

/* The folder among cands[0..ncand) that holds every one of files[0..nfiles)
 * (each also as FILE.gz when gz_ok), the first one found; names the missing
 * file of a folder that holds some but not all. */
static int find_folder(const char *set, const char *root, char cands[][4096], size_t ncand, const char *const *files,
                       size_t nfiles, int gz_ok, const char *layout, size_t *which)
{
    size_t partial = SIZE_MAX, missing = 0;
    for (size_t c = 0; c < ncand; c++) {
        size_t found = 0, first_missing = SIZE_MAX;
        for (size_t f = 0; f < nfiles; f++) {
            char plain[4200], gz[4200];
            snprintf(plain, sizeof plain, "%s/%s", cands[c], files[f]);
            snprintf(gz, sizeof gz, "%s/%s.gz", cands[c], files[f]);
            if (file_exists(plain) || (gz_ok && file_exists(gz))) found++;
            else if (first_missing == SIZE_MAX) first_missing = f;
        }
        if (found == nfiles) {
            *which = c;
            return TDL_OK;
        }
        if (found > 0 && partial == SIZE_MAX) {
            partial = c;
            missing = first_missing;
        }
    }
    if (partial != SIZE_MAX)
        return tdl_fail(TDL_EIO, "%s:root=%s: %s has some of the files but not %s%s", set, root, cands[partial],
                        files[missing], gz_ok ? "[.gz]" : "");
    char looked[3 * 4096 + 16] = "";
    for (size_t c = 0; c < ncand; c++) {
        strncat(looked, cands[c], sizeof looked - strlen(looked) - 1);
        strncat(looked, c + 2 < ncand ? ", " : c + 1 < ncand ? " and " : "", sizeof looked - strlen(looked) - 1);
    }
    return tdl_fail(TDL_EIO, "%s:root=%s: no %s%s found in %s (%s)", set, root, files[0], gz_ok ? "[.gz]" : "", looked,
                    layout);
}

static void set_where(official *o, const char *dir)
{
    size_t len = strnlen(dir, sizeof o->where - 1);
    memcpy(o->where, dir, len);
    o->where[len] = '\0';
}

/* Set up the parts of MNIST / Fashion-MNIST: train pair, test pair. */
static int mnist_parts(official *o, const char *root, int fashion)
{
    static const char *const files[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char cands[3][4096];
    o->name = fashion ? "fashion-mnist" : "mnist";
    snprintf(cands[0], sizeof cands[0], "%s/%s/raw", root, fashion ? "FashionMNIST" : "MNIST");
    snprintf(cands[1], sizeof cands[1], "%s/raw", root);
    snprintf(cands[2], sizeof cands[2], "%s", root);
    size_t c = 0;
    int st = find_folder(o->name, root, cands, 3, files, 4, 1,
                         fashion ? "torchvision's FashionMNIST(root=DIR) layout: DIR/FashionMNIST/raw"
                                 : "torchvision's MNIST(root=DIR) layout: DIR/MNIST/raw",
                         &c);
    if (st != TDL_OK) return st;
    set_where(o, cands[c]);
    for (size_t k = 0; k < 2; k++) {
        part *p = &o->parts[o->nparts++];
        p->train = k == 0;
        for (int f = 0; f < 2; f++) {
            char *path = join(cands[c], files[2 * k + (size_t)f], "");
            if (path && !file_exists(path)) {
                free(path);
                path = join(cands[c], files[2 * k + (size_t)f], ".gz");
            }
            if (!path) return TDL_ENOMEM;
            if (f == 0) p->images = path;
            else p->labels = path;
        }
    }
    return TDL_OK;
}

static int cifar_parts(official *o, const char *root)
{
    static const char *const files[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                         "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    char cands[2][4096];
    o->name = "cifar10";
    snprintf(cands[0], sizeof cands[0], "%s/cifar-10-batches-bin", root);
    snprintf(cands[1], sizeof cands[1], "%s", root);
    size_t c = 0;
    int st = find_folder(o->name, root, cands, 2, files, 6, 0,
                         "the binary version: DIR/cifar-10-batches-bin/data_batch_1..5.bin, test_batch.bin", &c);
    if (st != TDL_OK) return st;
    set_where(o, cands[c]);
    for (size_t k = 0; k < 6; k++) {
        part *p = &o->parts[o->nparts++];
        p->train = k < 5;
        if (!(p->images = join(cands[c], files[k], ""))) return TDL_ENOMEM;
    }
    return TDL_OK;
}

/* Per-feature statistics of the training rows (see the top of the file):
 * pass 0 adds x to acc, pass 1 adds (x - mean)^2. */
static void stats_add(const double *X, size_t ld, size_t rows, size_t d, double *acc, const double *mean)
{
    for (size_t i = 0; i < rows; i++) {
        const double *x = X + i * ld;
        if (!mean)
            for (size_t j = 0; j < d; j++) acc[j] += x[j];
        else
            for (size_t j = 0; j < d; j++) {
                double c = x[j] - mean[j];
                acc[j] += c * c;
            }
    }
}

/* mean and 1/sd over the official training files, read again in chunks. */
static int stats_from_files(official *o, size_t d, double *mean, double *scale)
{
    int st = tdl_memory_require(STATS_ROWS * d, sizeof(double), 0, "the statistics buffer");
    if (st != TDL_OK) return st;
    double *buf = tdl_malloc(STATS_ROWS * d * sizeof *buf, "the statistics buffer");
    if (!buf) return TDL_ENOMEM;
    size_t m = 0;
    for (int pass = 0; pass < 2 && st == TDL_OK; pass++) {
        double *acc = pass == 0 ? mean : scale;
        for (size_t k = 0; k < o->nparts && st == TDL_OK; k++) {
            part *p = &o->parts[k];
            if (!p->train) continue;
            if ((st = part_open(p)) != TDL_OK) break;
            if (p->d != d) {
                st = tdl_fail(TDL_ESHAPE, "%s has %zu features per image, the test files %zu", p->images, p->d, d);
                break;
            }
            for (size_t i = 0; i < p->n && st == TDL_OK; i += STATS_ROWS) {
                size_t r = p->n - i < STATS_ROWS ? p->n - i : STATS_ROWS;
                if ((st = part_rows(p, buf, d, NULL, r)) == TDL_OK) stats_add(buf, d, r, d, acc, pass ? mean : NULL);
            }
            if (st == TDL_OK) st = part_finish(p);
            if (pass == 0) m += p->n;
            part_close(p);
        }
        if (st == TDL_OK && pass == 0)
            for (size_t j = 0; j < d; j++) mean[j] /= (double)m;
    }
    free(buf);
    if (st == TDL_OK)
        for (size_t j = 0; j < d; j++) {
            double sd = sqrt(scale[j] / (double)m);
            scale[j] = sd > 0 ? 1.0 / sd : 1.0;
        }
    return st;
}

/* Load the parts of `split` into one data set; standard: normalize with the
 * official training statistics.  desc gets the line of tdl/datasets.h. */
static int official_load(official *o, tdl_data_split split, int standard, tdl_dataset **out, char *desc,
                         size_t desc_len)
{
    tdl_dataset *ds = NULL;
    double *mean = NULL, *scale = NULL;
    size_t n = 0, d = 0, n_train = 0;
    int st = TDL_OK;
    *out = NULL;
    for (size_t k = 0; k < o->nparts && st == TDL_OK; k++) {
        part *p = &o->parts[k];
        if (!in_split(p, split)) continue;
        if ((st = part_open(p)) != TDL_OK) break;
        if (d && p->d != d)
            st = tdl_fail(TDL_ESHAPE, "%s has %zu values per image but %s has %zu", p->images, p->d,
                          o->parts[0].images, d);
        d = p->d;
        if (tdl_add_size(n, p->n, &n) != 0) st = tdl_fail(TDL_ETOOBIG, "%s: too many examples", p->images);
        if (p->train) n_train += p->n;
        if (p->img && tdl_idx_stream_header(p->img)->gz) o->gz = 1;
    }
    if (st == TDL_OK) st = guard_set(o->where, n, d);
    if (st == TDL_OK) st = tdl_dataset_create(n, d, OFFICIAL_CLASSES, 0, &ds);
    size_t row = 0;
    for (size_t k = 0; k < o->nparts && st == TDL_OK; k++) {
        part *p = &o->parts[k];
        if (!in_split(p, split)) continue;
        st = part_rows(p, gsl_matrix_ptr(ds->X, row, 0), ds->X->tda, ds->labels + row, p->n);
        if (st == TDL_OK) st = part_finish(p);
        part_close(p);
        row += p->n;
    }
    if (st == TDL_OK && standard) {
        mean = tdl_calloc(d, sizeof *mean, "feature means");
        scale = tdl_calloc(d, sizeof *scale, "feature scales");
        if (!mean || !scale) st = TDL_ENOMEM;
        else if (n_train > 0) {
            /* the training rows are the first n_train */
            stats_add(ds->X->data, ds->X->tda, n_train, d, mean, NULL);
            for (size_t j = 0; j < d; j++) mean[j] /= (double)n_train;
            stats_add(ds->X->data, ds->X->tda, n_train, d, scale, mean);
            for (size_t j = 0; j < d; j++) {
                double sd = sqrt(scale[j] / (double)n_train);
                scale[j] = sd > 0 ? 1.0 / sd : 1.0;
            }
        } else {
            st = stats_from_files(o, d, mean, scale);
        }
        if (st == TDL_OK)
            for (size_t i = 0; i < n; i++) {
                double *x = gsl_matrix_ptr(ds->X, i, 0);
                for (size_t j = 0; j < d; j++) x[j] = (x[j] - mean[j]) * scale[j];
            }
    }
    if (st == TDL_OK && desc) {
        int cifar = strcmp(o->name, "cifar10") == 0;
        snprintf(desc, desc_len, "%s: %s (%s), official %s split: %zu examples, inputs / 255%s", o->name, o->where,
                 cifar ? "binary batches" : o->gz ? "IDX, gzip" : "IDX", tdl_name_of(tdl_data_split_names, (int)split),
                 n, standard ? "; normalize=standard (mean and std of the official training files)" : "");
    }
    for (size_t k = 0; k < o->nparts; k++) part_close(&o->parts[k]);
    free(mean);
    free(scale);
    if (st != TDL_OK) {
        tdl_dataset_free(&ds);
        return st;
    }
    *out = ds;
    return TDL_OK;
}

static int set_names(tdl_dataset *ds, const char *spec, const char *desc)
{
    ds->spec = tdl_strdup(spec);
    ds->description = tdl_strdup(desc);
    return ds->spec && ds->description ? TDL_OK : TDL_ENOMEM;
}

static int split_ok(tdl_data_split split)
{
    if (split == TDL_SPLIT_TRAIN || split == TDL_SPLIT_TEST || split == TDL_SPLIT_ALL) return 1;
    tdl_fail(TDL_EINVAL, "split %d is not train, test or all", (int)split);
    return 0;
}

static int mnist_core(const char *root, int fashion, tdl_data_split split, int standard, tdl_dataset **out,
                      char *desc, size_t desc_len)
{
    official o;
    memset(&o, 0, sizeof o);
    int st = mnist_parts(&o, root, fashion);
    if (st == TDL_OK) st = official_load(&o, split, standard, out, desc, desc_len);
    official_free(&o);
    return st;
}

static int cifar_core(const char *root, tdl_data_split split, int standard, tdl_dataset **out, char *desc,
                      size_t desc_len)
{
    official o;
    memset(&o, 0, sizeof o);
    int st = cifar_parts(&o, root);
    if (st == TDL_OK) st = official_load(&o, split, standard, out, desc, desc_len);
    official_free(&o);
    return st;
}

int tdl_mnist_load(const char *root, int fashion, tdl_data_split split, tdl_dataset **out)
{
    char desc[4400], spec[4200];
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_mnist_load: out is NULL");
    *out = NULL;
    if (!root) return tdl_fail(TDL_EINVAL, "tdl_mnist_load: root is NULL");
    if (!split_ok(split)) return TDL_EINVAL;
    int st = mnist_core(root, fashion, split, 0, out, desc, sizeof desc);
    if (st != TDL_OK) return st;
    snprintf(spec, sizeof spec, "%s:root=%s,split=%s", fashion ? "fashion-mnist" : "mnist", root,
             tdl_name_of(tdl_data_split_names, (int)split));
    if ((st = set_names(*out, spec, desc)) != TDL_OK) tdl_dataset_free(out);
    return st;
}

int tdl_cifar10_load(const char *root, tdl_data_split split, tdl_dataset **out)
{
    char desc[4400], spec[4200];
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_cifar10_load: out is NULL");
    *out = NULL;
    if (!root) return tdl_fail(TDL_EINVAL, "tdl_cifar10_load: root is NULL");
    if (!split_ok(split)) return TDL_EINVAL;
    int st = cifar_core(root, split, 0, out, desc, sizeof desc);
    if (st != TDL_OK) return st;
    snprintf(spec, sizeof spec, "cifar10:root=%s,split=%s", root, tdl_name_of(tdl_data_split_names, (int)split));
    if ((st = set_names(*out, spec, desc)) != TDL_OK) tdl_dataset_free(out);
    return st;
}

/* ---- any IDX pair ------------------------------------------------------------- */

/* How to read a labels tensor: as classes (with the class count and the
 * +-1 reading) or as regression targets. */
static int idx_labels(const char *file, const tdl_tensor *y, const char *task, size_t *classes, int *pm1)
{
    int regress = strcmp(task, "regress") == 0, classify = strcmp(task, "classify") == 0;
    *classes = 0;
    *pm1 = 0;
    if (y->ndim == 0 || y->ndim > 2)
        return tdl_fail(TDL_ESHAPE, "%s: labels must be 1-D (one per image)%s, got %zu dimensions", file,
                        classify ? "" : " or, as targets, 2-D", y->ndim);
    if (regress) return TDL_OK;
    int integers = 1;
    for (size_t i = 0; i < y->numel && integers; i++) integers = y->data[i] == floor(y->data[i]);
    if (!classify && (y->ndim == 2 || !integers)) return TDL_OK;  /* task=auto: targets */
    if (y->ndim == 2)
        return tdl_fail(TDL_ESHAPE, "%s: class labels must be 1-D (one per image), got %zu x %zu", file, y->shape[0],
                        y->shape[1]);
    int neg = 0, only_pm1 = 1;
    double top = -1;
    for (size_t i = 0; i < y->numel; i++) {
        double v = y->data[i];
        if (v != floor(v))
            return tdl_fail(TDL_EINVAL, "%s: label %g of example %zu is not an integer (task=regress reads targets)",
                            file, v, i);
        if (v < 0) neg = 1;
        if (v != -1 && v != 1) only_pm1 = 0;
        if (v > top) top = v;
    }
    if (neg && only_pm1) {
        *pm1 = 1;
        *classes = 2;
        return TDL_OK;
    }
    for (size_t i = 0; i < y->numel; i++) {
        if (y->data[i] < 0)
            return tdl_fail(TDL_EINVAL, "%s: label %g of example %zu is negative", file, y->data[i], i);
        if (y->data[i] >= IDX_MAX_CLASSES)
            return tdl_fail(TDL_EINVAL, "%s: label %g of example %zu is out of range (at most %d classes)", file,
                            y->data[i], i, IDX_MAX_CLASSES);
    }
    *classes = (size_t)top + 1;
    return TDL_OK;
}

static int idx_pair_load(const char *images, const char *labels, const char *task, tdl_dataset **out, char *desc,
                         size_t desc_len)
{
    part p;
    tdl_tensor *y = NULL;
    tdl_dataset *ds = NULL;
    size_t classes;
    int pm1;
    *out = NULL;
    if (!task) task = "auto";
    if (strcmp(task, "auto") && strcmp(task, "classify") && strcmp(task, "regress"))
        return tdl_fail(TDL_EINVAL, "task=%s (expected auto, classify or regress)", task);
    memset(&p, 0, sizeof p);
    p.images = (char *)(uintptr_t)images;  /* borrowed: not freed below */
    int st = idx_part_open_images(&p);
    if (st == TDL_OK) st = tdl_idx_read(labels, &y);
    if (st == TDL_OK && y->ndim >= 1 && y->shape[0] != p.n)
        st = tdl_fail(TDL_ESHAPE, "%s has %zu images but %s has %zu labels", images, p.n, labels, y->shape[0]);
    if (st == TDL_OK) st = idx_labels(labels, y, task, &classes, &pm1);
    if (st == TDL_OK) st = guard_set(images, p.n, p.d);
    if (st == TDL_OK)
        st = tdl_dataset_create(p.n, p.d, classes, classes ? 0 : (y->ndim == 2 ? y->shape[1] : 1), &ds);
    if (st == TDL_OK) st = part_rows(&p, ds->X->data, ds->X->tda, NULL, p.n);
    if (st == TDL_OK) st = part_finish(&p);
    if (st == TDL_OK) {
        if (classes)
            for (size_t i = 0; i < p.n; i++)
                ds->labels[i] = pm1 ? (y->data[i] > 0 ? 1 : 0) : (size_t)y->data[i];
        else {
            size_t k = ds->Y->size2;
            for (size_t i = 0; i < p.n; i++)
                for (size_t j = 0; j < k; j++) {
                    double v = y->data[i * k + j];
                    if (!isfinite(v)) {
                        st = tdl_fail(TDL_ENONFINITE, "%s: target %zu of example %zu is %g", labels, j, i, v);
                        break;
                    }
                    gsl_matrix_set(ds->Y, i, j, v);
                }
        }
        ds->labels_pm1 = pm1;
    }
    if (st == TDL_OK && desc) {
        const tdl_idx_header *h = tdl_idx_stream_header(p.img);
        char dims[160] = "";
        size_t len = 0;
        for (size_t k = 0; k < h->ndim && len + 24 < sizeof dims; k++)
            len += (size_t)snprintf(dims + len, sizeof dims - len, "%s%zu", k ? " x " : "", h->shape[k]);
        snprintf(desc, desc_len, "idx: images=%s (%s, %s%s), labels=%s; %s", images, tdl_dtype_name(h->dtype), dims,
                 h->gz ? ", gzip" : "", labels,
                 p.u8 ? "u8 inputs / 255" : "inputs as stored");
    }
    tdl_idx_close(&p.img);
    tdl_tensor_free(&y);
    if (st != TDL_OK) {
        tdl_dataset_free(&ds);
        return st;
    }
    *out = ds;
    return TDL_OK;
}

int tdl_idx_dataset_load(const char *images, const char *labels, const char *task, tdl_dataset **out)
{
    char desc[8400];
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_idx_dataset_load: out is NULL");
    *out = NULL;
    if (!images || !labels) return tdl_fail(TDL_EINVAL, "tdl_idx_dataset_load: images and labels are both needed");
    int st = idx_pair_load(images, labels, task, out, desc, sizeof desc);
    if (st != TDL_OK) return st;
    char *spec = tdl_malloc(strlen(images) + strlen(labels) + 24, "a data spec");
    if (spec) sprintf(spec, "idx:images=%s,labels=%s", images, labels);
    (*out)->spec = spec;
    (*out)->description = tdl_strdup(desc);
    if (!(*out)->spec || !(*out)->description) {
        tdl_dataset_free(out);
        return TDL_ENOMEM;
    }
    return TDL_OK;
}

/* ---- the --data entry point -------------------------------------------------- */

static tdl_spec_kv *kv_find(const tdl_spec *s, const char *key)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->kv[i].key, key) == 0) return &s->kv[i];
    return NULL;
}

int tdl_dataset_is_external(const tdl_spec *s)
{
    if (!s || !s->name) return 0;
    if (strcmp(s->name, "idx") == 0 || strcmp(s->name, "cifar10") == 0) return 1;
    return (strcmp(s->name, "mnist") == 0 || strcmp(s->name, "fashion-mnist") == 0) && kv_find(s, "root") != NULL;
}

int tdl_dataset_load_external(tdl_spec *s, tdl_dataset **out, char *desc, size_t desc_len)
{
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_dataset_load_external: out is NULL");
    *out = NULL;
    if (!s || !desc || desc_len == 0) return tdl_fail(TDL_EINVAL, "tdl_dataset_load_external: NULL argument");
    const char *text = s->text ? s->text : s->name;
    if (!tdl_dataset_is_external(s))
        return tdl_fail(TDL_EINVAL, "data spec '%s': not an idx, mnist:root=, fashion-mnist:root= or cifar10 spec", text);
    const char *task = tdl_spec_string(s, "task");
    if (strcmp(s->name, "idx") == 0) {
        const char *images = tdl_spec_string(s, "images"), *labels = tdl_spec_string(s, "labels");
        if (!images || !labels)
            return tdl_fail(TDL_EINVAL, "data spec '%s': idx needs images=PATH and labels=PATH (IDX files, .gz or not)",
                            text);
        if (task && strcmp(task, "auto") && strcmp(task, "classify") && strcmp(task, "regress"))
            return tdl_fail(TDL_EINVAL, "data spec '%s': task=%s (expected auto, classify or regress)", text, task);
        return idx_pair_load(images, labels, task, out, desc, desc_len);
    }
    const char *root = tdl_spec_string(s, "root");
    if (!root)
        return tdl_fail(TDL_EINVAL, "data spec '%s': %s needs root=DIR (the folder holding cifar-10-batches-bin)", text,
                        s->name);
    if (kv_find(s, "test"))
        return tdl_fail(TDL_EINVAL, "data spec '%s': test= does not apply to %s:root= (its split is the official one: "
                                    "split=train|test|all)", text, s->name);
    if (task && strcmp(task, "auto") && strcmp(task, "classify"))
        return tdl_fail(TDL_EINVAL, "data spec '%s': task=%s: %s holds class labels (task=auto or classify)", text, task,
                        s->name);
    tdl_spec_kv *split_kv = kv_find(s, "split"), *norm_kv = kv_find(s, "normalize");
    int split = TDL_SPLIT_ALL;
    if (split_kv && tdl_name_lookup(tdl_data_split_names, "split", split_kv->value, &split) != TDL_OK)
        return tdl_fail(TDL_EINVAL, "data spec '%s': split=%s (expected train, test or all)", text, split_kv->value);
    int standard = norm_kv && strcmp(norm_kv->value, "standard") == 0;
    int st = strcmp(s->name, "cifar10") == 0
                 ? cifar_core(root, (tdl_data_split)split, standard, out, desc, desc_len)
                 : mnist_core(root, strcmp(s->name, "fashion-mnist") == 0, (tdl_data_split)split, standard, out, desc,
                              desc_len);
    if (st != TDL_OK) return st;
    /* applied here: leave the modifiers nothing to do for them (the values
     * are shorter than the ones they replace: train/test -> all, standard
     * -> none) */
    if (split_kv) strcpy(split_kv->value, "all");
    if (standard) strcpy(norm_kv->value, "none");
    return TDL_OK;
}
