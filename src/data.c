/* data.c — the --data grammar: shipped sets, files, modifiers.
 *
 * Pipeline (tdl/data.h): parse spec -> load source (shipped .npz, csv, npz,
 * npy pair, or a synthetic generator) -> binary -> stratified seeded split
 * -> n (first K after a seeded shuffle) -> random-labels -> normalize.
 *
 * Shipped image sets are scaled into [0, 1]: digits / 16, mnist and
 * fashion-mnist / 255 (data/README.md).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_blas.h>
#include "tdl/data.h"
#include "tdl/io.h"
#include "tdl/memory.h"
#include "internal.h"
#include "data_internal.h"
#include "tdl_config.h"

/* Largest label accepted: more classes than this is almost surely a
 * regression column or a corrupt file, and would make per-class arrays huge. */
#define TDL_MAX_CLASSES 100000

/* Shipped sets and the factor that puts their inputs in [0, 1] (0: raw). */
static const struct shipped {
    const char *name;
    double scale;
} shipped_sets[] = {
    {"iris", 0}, {"wine", 0}, {"breast-cancer", 0},
    {"digits", 16.0}, {"mnist", 255.0}, {"fashion-mnist", 255.0},
};
#define N_SHIPPED (sizeof shipped_sets / sizeof shipped_sets[0])

const char *const *tdl_shipped_names(void)
{
    static const char *names[N_SHIPPED + 1];
    for (size_t i = 0; i < N_SHIPPED; i++) names[i] = shipped_sets[i].name;
    names[N_SHIPPED] = NULL;
    return names;
}

const char *const *tdl_data_dirs(void)
{
    static const char *dirs[4];
    size_t k = 0;
    const char *env = getenv("TDL_DATA_DIR");
    if (env && *env) dirs[k++] = env;
    dirs[k++] = TDL_SOURCE_DATA_DIR;
    dirs[k++] = TDL_INSTALL_DATA_DIR;
    dirs[k] = NULL;
    return dirs;
}

/* ---- spec parsing ------------------------------------------------------ */

void tdl_data_spec_free(tdl_spec *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->kv[i].key);
        free(s->kv[i].value);
    }
    free(s->kv);
    free(s->name);
    memset(s, 0, sizeof *s);
}

int tdl_data_spec_parse(const char *text, tdl_spec *s)
{
    memset(s, 0, sizeof *s);
    s->text = text;
    if (!*text) return tdl_fail(TDL_EINVAL, "empty data spec (see tdl help data)");
    const char *colon = strchr(text, ':');
    size_t name_len = colon ? (size_t)(colon - text) : strlen(text);
    if (name_len == 0) return tdl_fail(TDL_EINVAL, "data spec '%s' has no name before ':'", text);
    s->name = tdl_malloc(name_len + 1, "a data spec");
    if (!s->name) return TDL_ENOMEM;
    memcpy(s->name, text, name_len);
    s->name[name_len] = '\0';
    if (!colon) return TDL_OK;
    const char *p = colon + 1;
    /* An empty modifier list ('iris:'), an empty item ('n=50,,split=train')
     * or a trailing comma ('n=50,') is refused: it usually means a modifier
     * was lost (a shell variable that expanded to nothing). */
    if (!*p) {
        int st = tdl_fail(TDL_EINVAL, "data spec '%s': nothing after ':' (drop the ':' or add key=value modifiers)", text);
        tdl_data_spec_free(s);
        return st;
    }
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            int st = tdl_fail(TDL_EINVAL, "data spec '%s': %s", text,
                              *p ? "an empty item between commas" : "a trailing comma");
            tdl_data_spec_free(s);
            return st;
        }
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p || eq == p + len - 1) {
            int st = tdl_fail(TDL_EINVAL, "data spec '%s': '%.*s' is not key=value", text, (int)len, p);
            tdl_data_spec_free(s);
            return st;
        }
        tdl_spec_kv *kv = realloc(s->kv, (s->count + 1) * sizeof *kv);
        if (!kv) {
            tdl_data_spec_free(s);
            return tdl_fail(TDL_ENOMEM, "out of memory parsing a data spec");
        }
        s->kv = kv;
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        kv[s->count].key = tdl_malloc(klen + 1, "a data spec");
        kv[s->count].value = tdl_malloc(vlen + 1, "a data spec");
        kv[s->count].used = 0;
        s->count++;
        if (!kv[s->count - 1].key || !kv[s->count - 1].value) {
            tdl_data_spec_free(s);
            return TDL_ENOMEM;
        }
        memcpy(kv[s->count - 1].key, p, klen);
        kv[s->count - 1].key[klen] = '\0';
        memcpy(kv[s->count - 1].value, eq + 1, vlen);
        kv[s->count - 1].value[vlen] = '\0';
        for (size_t i = 0; i + 1 < s->count; i++)
            if (strcmp(kv[i].key, kv[s->count - 1].key) == 0) {
                int st = tdl_fail(TDL_EINVAL, "data spec '%s': key '%s' given twice", text, kv[i].key);
                tdl_data_spec_free(s);
                return st;
            }
        if (!end) break;
        p = end + 1;
    }
    return TDL_OK;
}

static tdl_spec_kv *spec_find(tdl_spec *s, const char *key)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->kv[i].key, key) == 0) {
            s->kv[i].used = 1;
            return &s->kv[i];
        }
    return NULL;
}

const char *tdl_spec_string(tdl_spec *s, const char *key)
{
    tdl_spec_kv *kv = spec_find(s, key);
    return kv ? kv->value : NULL;
}

int tdl_spec_size(tdl_spec *s, const char *key, size_t lo, size_t hi, size_t *out)
{
    tdl_spec_kv *kv = spec_find(s, key);
    if (!kv) return TDL_OK;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(kv->value, &end, 10);
    /* digits only: strtoull also takes blanks and a sign, and wraps "-1"
     * (and " -1") around to ULLONG_MAX, which hi = SIZE_MAX would accept */
    if (errno || *end || !isdigit((unsigned char)kv->value[0]) || v < lo || v > hi)
        return tdl_fail(TDL_EINVAL, "data spec '%s': %s=%s is not an integer in [%zu, %zu]",
                        s->text, key, kv->value, lo, hi);
    *out = (size_t)v;
    return TDL_OK;
}

int tdl_spec_double(tdl_spec *s, const char *key, double lo, double hi, double *out)
{
    tdl_spec_kv *kv = spec_find(s, key);
    if (!kv) return TDL_OK;
    char *end;
    errno = 0;
    double v = strtod(kv->value, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return tdl_fail(TDL_EINVAL, "data spec '%s': %s=%s is not a number in [%g, %g]",
                        s->text, key, kv->value, lo, hi);
    *out = v;
    return TDL_OK;
}

/* ---- containers -------------------------------------------------------- */

int tdl_dataset_create(size_t n, size_t d, size_t classes, size_t k, tdl_dataset **out)
{
    size_t bytes;
    *out = NULL;
    if (n == 0) return tdl_fail(TDL_EINVAL, "empty data set (no examples)");
    if (d == 0) return tdl_fail(TDL_EINVAL, "data set has no input features");
    if (tdl_mul_size(n, d, &bytes) != 0 || tdl_mul_size(bytes, sizeof(double), &bytes) != 0)
        return tdl_fail(TDL_ETOOBIG, "data set of %zu x %zu values is too large", n, d);
    char detail[96];
    snprintf(detail, sizeof detail, "%zu x %zu values", n, d);
    int st = tdl_memory_require_detail(bytes, 1, 0, "a data set", detail);
    if (st != TDL_OK) return st;
    tdl_dataset *ds = tdl_calloc(1, sizeof *ds, "a data set");
    if (!ds) return TDL_ENOMEM;
    ds->n = n;
    ds->d = d;
    ds->classes = classes;
    ds->X = gsl_matrix_calloc(n, d);
    if (classes) ds->labels = tdl_calloc(n, sizeof(size_t), "labels");
    else ds->Y = gsl_matrix_calloc(n, k ? k : 1);
    if (!ds->X || (classes && !ds->labels) || (!classes && !ds->Y)) {
        tdl_dataset_free(&ds);
        return tdl_fail(TDL_ENOMEM, "out of memory for a data set of %zu x %zu", n, d);
    }
    *out = ds;
    return TDL_OK;
}

static double view_at(const tdl_matrix_view *v, size_t i, size_t j)
{
    return v->data[(ptrdiff_t)i * v->row_stride + (ptrdiff_t)j * v->col_stride];
}

int tdl_dataset_from_arrays(tdl_matrix_view X, const long long *labels, size_t classes,
                            const tdl_matrix_view *Y, const char *description, tdl_dataset **out)
{
    *out = NULL;
    if (!X.data || X.rows == 0 || X.cols == 0)
        return tdl_fail(TDL_EINVAL, "data from arrays: X is empty (%zu x %zu)", X.rows, X.cols);
    if ((labels == NULL) == (Y == NULL))
        return tdl_fail(TDL_EINVAL, "data from arrays: give either class labels or regression targets Y");
    if (Y && (!Y->data || Y->cols == 0))
        return tdl_fail(TDL_EINVAL, "data from arrays: Y has no columns");
    if (Y && Y->rows != X.rows)
        return tdl_fail(TDL_ESHAPE, "data from arrays: X has %zu rows but Y has %zu", X.rows, Y->rows);
    const size_t n = X.rows, d = X.cols;
    if (labels) {
        long long top = -1;
        for (size_t i = 0; i < n; i++) {
            if (labels[i] < 0)
                return tdl_fail(TDL_EINVAL, "data from arrays: label %lld of example %zu is negative", labels[i], i);
            if (labels[i] > top) top = labels[i];
        }
        if (classes == 0) classes = (size_t)top + 1;
        if ((unsigned long long)top >= (unsigned long long)classes)
            return tdl_fail(TDL_EINVAL, "data from arrays: label %lld is not below the %zu classes", top, classes);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            if (!isfinite(view_at(&X, i, j)))
                return tdl_fail(TDL_ENONFINITE, "data from arrays: X[%zu, %zu] is %g", i, j, view_at(&X, i, j));
    if (Y)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < Y->cols; j++)
                if (!isfinite(view_at(Y, i, j)))
                    return tdl_fail(TDL_ENONFINITE, "data from arrays: Y[%zu, %zu] is %g", i, j, view_at(Y, i, j));
    tdl_dataset *ds;
    int st = tdl_dataset_alloc(n, d, labels ? classes : 0, Y ? Y->cols : 0, &ds);
    if (st != TDL_OK) return st;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) gsl_matrix_set(ds->X, i, j, view_at(&X, i, j));
    if (labels)
        for (size_t i = 0; i < n; i++) ds->labels[i] = (size_t)labels[i];
    else
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < Y->cols; j++) gsl_matrix_set(ds->Y, i, j, view_at(Y, i, j));
    char line[160];
    if (labels) snprintf(line, sizeof line, "arrays: %zu examples, %zu features, %zu classes", n, d, classes);
    else snprintf(line, sizeof line, "arrays: %zu examples, %zu features, %zu targets", n, d, Y->cols);
    ds->spec = tdl_strdup(description && *description ? description : "arrays");
    ds->description = tdl_strdup(description && *description ? description : line);
    if (!ds->spec || !ds->description) {
        tdl_dataset_free(&ds);
        return TDL_ENOMEM;
    }
    *out = ds;
    return TDL_OK;
}

void tdl_dataset_free(tdl_dataset **ds)
{
    if (!ds || !*ds) return;
    if ((*ds)->X) gsl_matrix_free((*ds)->X);
    if ((*ds)->Y) gsl_matrix_free((*ds)->Y);
    free((*ds)->labels);
    free((*ds)->spec);
    free((*ds)->description);
    free((*ds)->warning);
    free(*ds);
    *ds = NULL;
}

int tdl_dataset_class_counts(const tdl_dataset *ds, size_t **counts)
{
    *counts = NULL;
    if (!ds->classes) return tdl_fail(TDL_EINVAL, "class counts of a regression data set");
    size_t *c = tdl_calloc(ds->classes, sizeof *c, "class counts");
    if (!c) return TDL_ENOMEM;
    for (size_t i = 0; i < ds->n; i++) c[ds->labels[i]]++;
    *counts = c;
    return TDL_OK;
}

size_t tdl_dataset_outputs(const tdl_dataset *ds)
{
    return ds->classes ? ds->classes : ds->Y->size2;
}

/* Keep rows idx[0..m) of ds, in that order. */
static int dataset_select(tdl_dataset *ds, const size_t *idx, size_t m)
{
    if (m == 0) return tdl_fail(TDL_EINVAL, "data spec selects no examples");
    gsl_matrix *X = gsl_matrix_alloc(m, ds->d);
    gsl_matrix *Y = ds->Y ? gsl_matrix_alloc(m, ds->Y->size2) : NULL;
    size_t *labels = ds->labels ? tdl_malloc(m * sizeof *labels, "labels") : NULL;
    if (!X || (ds->Y && !Y) || (ds->labels && !labels)) {
        if (X) gsl_matrix_free(X);
        if (Y) gsl_matrix_free(Y);
        free(labels);
        return tdl_fail(TDL_ENOMEM, "out of memory selecting %zu examples", m);
    }
    for (size_t i = 0; i < m; i++) {
        memcpy(gsl_matrix_ptr(X, i, 0), gsl_matrix_const_ptr(ds->X, idx[i], 0), ds->d * sizeof(double));
        if (Y) memcpy(gsl_matrix_ptr(Y, i, 0), gsl_matrix_const_ptr(ds->Y, idx[i], 0), Y->size2 * sizeof(double));
        if (labels) labels[i] = ds->labels[idx[i]];
    }
    gsl_matrix_free(ds->X);
    ds->X = X;
    if (Y) {
        gsl_matrix_free(ds->Y);
        ds->Y = Y;
    }
    if (labels) {
        free(ds->labels);
        ds->labels = labels;
    }
    ds->n = m;
    return TDL_OK;
}

/* ---- sources ----------------------------------------------------------- */

/* Build a data set from an X tensor and a y tensor (or a label column).
 * task: "auto" | "classify" | "regress".  classes_hint: the class count a
 * file states (tdl_classes of an .npz written by tdl_dataset_save; 0 there
 * means regression), SIZE_MAX when it states none. */
static int dataset_from_arrays(const char *label, const tdl_tensor *X, size_t x_cols_skip_col,
                               const char *ylabel, const tdl_tensor *y, const char *task,
                               size_t classes_hint, tdl_dataset **out)
{
    /* ylabel: the file the targets came from (the y of an npy pair), blamed
     * for every problem with the targets; NULL when X holds them too. */
    if (!ylabel) ylabel = label;
    /* X: 2-D (n x d) or 1-D (n examples of one feature). */
    size_t n, d_all;
    if (X->ndim == 2) {
        n = X->shape[0];
        d_all = X->shape[1];
    } else if (X->ndim == 1) {
        n = X->shape[0];
        d_all = 1;
    } else {
        return tdl_fail(TDL_ESHAPE, "%s: inputs X must be 2-D (n x d), got %zu dimensions", label, X->ndim);
    }
    size_t d = (x_cols_skip_col != SIZE_MAX) ? d_all - 1 : d_all;
    size_t k = 1;
    const double *yv;
    size_t y_stride;
    if (x_cols_skip_col != SIZE_MAX) {
        yv = X->data + x_cols_skip_col;
        y_stride = d_all;
    } else {
        if (y->ndim == 0 || y->ndim > 2)
            return tdl_fail(TDL_ESHAPE, "%s: targets y must be 1-D or 2-D, got %zu dimensions", ylabel, y->ndim);
        if (y->shape[0] != n)
            return ylabel == label
                       ? tdl_fail(TDL_ESHAPE, "%s: X has %zu rows but y has %zu", label, n, y->shape[0])
                       : tdl_fail(TDL_ESHAPE, "%s: the targets y have %zu entries but the inputs X (%s) have %zu rows",
                                  ylabel, y->shape[0], label, n);
        k = y->ndim == 2 ? y->shape[1] : 1;
        yv = y->data;
        y_stride = k;
    }
    if (n == 0) return tdl_fail(TDL_EINVAL, "%s: empty data set (no examples)", label);
    if (d == 0) return tdl_fail(TDL_EINVAL, "%s: no input features", label);
    if (k == 0) return tdl_fail(TDL_ESHAPE, "%s: targets y have zero columns", ylabel);

    /* Decide the task: a file's own class count (tdl_classes) settles
     * task=auto. */
    if (classes_hint != SIZE_MAX && strcmp(task, "auto") == 0) task = classes_hint ? "classify" : "regress";
    int classify, pm1 = 0;
    double max_label = 0;
    if (strcmp(task, "regress") == 0) classify = 0;
    else {
        int integral = (k == 1);
        for (size_t i = 0; i < n && integral; i++) {
            double v = yv[i * y_stride];
            if (!isfinite(v) || v != floor(v)) integral = 0;
        }
        if (strcmp(task, "classify") == 0 && !integral)
            return tdl_fail(TDL_EINVAL, "%s: task=classify needs one column of integer labels", ylabel);
        classify = integral;
        /* +-1 labels (tdl/data.h): every value -1 or +1, at least one -1,
         * read as classes 0 and 1 */
        if (classify) {
            int seen_minus = 0, all_pm1 = 1;
            for (size_t i = 0; i < n && all_pm1; i++) {
                double v = yv[i * y_stride];
                if (v == -1) seen_minus = 1;
                else if (v != 1) all_pm1 = 0;
            }
            pm1 = all_pm1 && seen_minus;
        }
        for (size_t i = 0; i < n && classify && !pm1; i++) {
            double v = yv[i * y_stride];
            if (v < 0)
                return tdl_fail(TDL_EINVAL, "%s: label %g of example %zu is negative: classification labels are integers 0..C-1 (task=regress reads them as targets)", ylabel, v, i);
            if (v > max_label) max_label = v;
        }
        if (pm1) max_label = 1;
        if (classify && max_label >= TDL_MAX_CLASSES)
            return tdl_fail(TDL_EINVAL, "%s: label %.0f is out of range (at most %d classes; task=regress reads them as targets)",
                            ylabel, max_label, TDL_MAX_CLASSES);
    }
    size_t classes = classify ? (size_t)max_label + 1 : 0;
    if (classify && classes_hint != SIZE_MAX && classes_hint > 0) {
        if (classes > classes_hint)
            return tdl_fail(TDL_EINVAL, "%s: label %.0f is not below the %zu classes the file states (tdl_classes)",
                            ylabel, max_label, classes_hint);
        classes = classes_hint;
    }
    tdl_dataset *ds;
    int st = tdl_dataset_alloc(n, d, classes, k, &ds);
    if (st != TDL_OK) return st;
    ds->labels_pm1 = pm1;
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (size_t j = 0; j < d_all; j++) {
            if (j == x_cols_skip_col) continue;
            double v = X->data[i * d_all + j];
            if (!isfinite(v)) {
                tdl_dataset_free(&ds);
                return tdl_fail(TDL_ENONFINITE, "%s: input X[%zu][%zu] is %s", label, i, j, isnan(v) ? "NaN" : "infinite");
            }
            gsl_matrix_set(ds->X, i, c++, v);
        }
        for (size_t j = 0; j < k; j++) {
            double v = yv[i * y_stride + j];
            if (!isfinite(v)) {
                tdl_dataset_free(&ds);
                return tdl_fail(TDL_ENONFINITE, "%s: target of example %zu is %s", ylabel, i, isnan(v) ? "NaN" : "infinite");
            }
            if (pm1) ds->labels[i] = v > 0 ? 1 : 0;
            else if (classify) ds->labels[i] = (size_t)v;
            else gsl_matrix_set(ds->Y, i, j, v);
        }
    }
    *out = ds;
    return TDL_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int load_npz(const char *path, const char *task, tdl_dataset **out)
{
    tdl_tensors *set = NULL;
    int st = tdl_npz_read(path, &set);
    if (st != TDL_OK) return st;
    const tdl_tensor *X = tdl_tensors_find(set, "X"), *y = tdl_tensors_find(set, "y");
    const tdl_tensor *c = tdl_tensors_find(set, "tdl_classes");
    size_t classes_hint = SIZE_MAX;
    if (c) { /* written by tdl_dataset_save: the class count, 0 for regression */
        double v = c->numel == 1 ? c->data[0] : -1;
        if (c->numel != 1 || !(v >= 0 && v <= TDL_MAX_CLASSES) || v != floor(v))
            st = tdl_fail(TDL_EFORMAT, "%s: 'tdl_classes' must be one integer in [0, %d] (the number of classes, 0 for regression)",
                          path, TDL_MAX_CLASSES);
        else classes_hint = (size_t)v;
    }
    if (st != TDL_OK) ;
    else if (!X || !y) st = tdl_fail(TDL_EFORMAT, "%s: a data .npz needs arrays 'X' and 'y' (missing '%s')", path, X ? "y" : "X");
    else st = dataset_from_arrays(path, X, SIZE_MAX, NULL, y, task, classes_hint, out);
    tdl_tensors_free(&set);
    return st;
}

/* Does a CSV header cell name a target (y, y<digits>, y_*, target*,
 * output*, out, out<digits>, out_*; case ignored)?  For the multi-target warning (tdl/data.h). */
static int names_target(const char *cell, size_t len)
{
    char w[64];
    if (len == 0 || len >= sizeof w) return 0;
    for (size_t i = 0; i < len; i++) w[i] = (char)tolower((unsigned char)cell[i]);
    w[len] = '\0';
    if (strncmp(w, "target", 6) == 0 || strncmp(w, "output", 6) == 0) return 1;
    size_t stem = w[0] == 'y' ? 1 : strncmp(w, "out", 3) == 0 ? 3 : 0;
    if (!stem) return 0;
    if (len == stem || w[stem] == '_') return 1;
    for (size_t i = stem; i < len; i++) /* y1, y2, out1 ... */
        if (!isdigit((unsigned char)w[i])) return 0;
    return 1;
}

/* Trim blanks around s[0..*len). */
static const char *trim_cell(const char *s, size_t *len)
{
    while (*len && (*s == ' ' || *s == '\t')) { s++; (*len)--; }
    while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t')) (*len)--;
    return s;
}

/* The number of trailing header cells of a CSV that name targets
 * (names_target), with those names in names[] ("y1, y2"); 0 when the first
 * non-blank line is not a header (every cell a number, as tdl_csv_read
 * decides) or is longer than 64 KiB. */
static size_t csv_trailing_targets(const char *path, char *names, size_t names_len)
{
    enum { PREFIX = 65536 };
    size_t len = 0, run = 0;
    names[0] = '\0';
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    char *buf = malloc(PREFIX + 1);
    if (buf) len = fread(buf, 1, PREFIX, fp);
    fclose(fp);
    if (!buf) return 0;
    buf[len] = '\0';
    char *p = buf;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    while (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t') p++;
    char *eol = strpbrk(p, "\r\n");
    if (!eol && len == PREFIX) { free(buf); return 0; }
    if (eol) *eol = '\0';
    int header = 0;
    for (char *q = p; !header;) {
        char *e = strchr(q, ',');
        size_t l = e ? (size_t)(e - q) : strlen(q);
        const char *a = trim_cell(q, &l);
        char tmp[64], *end;
        if (l == 0 || l >= sizeof tmp) header = 1;
        else {
            memcpy(tmp, a, l);
            tmp[l] = '\0';
            (void)strtod(tmp, &end);
            if (*end || strpbrk(tmp, "xX")) header = 1;
        }
        if (!e) break;
        q = e + 1;
    }
    /* walk the cells from the right while they name targets */
    char *stop = p + strlen(p);
    const char *first = NULL;
    while (header) {
        char *c = stop;
        while (c > p && c[-1] != ',') c--;
        size_t l = (size_t)(stop - c);
        const char *a = trim_cell(c, &l);
        if (!names_target(a, l)) break;
        run++;
        first = c;
        if (c == p) break;
        stop = c - 1;
    }
    if (run) {
        size_t used = 0;
        for (const char *c = first; used + 1 < names_len;) {
            const char *e = strchr(c, ',');
            size_t l = e ? (size_t)(e - c) : strlen(c);
            const char *a = trim_cell(c, &l);
            int w = snprintf(names + used, names_len - used, "%s%.*s", c == first ? "" : ", ", (int)l, a);
            if (w < 0) break;
            used += (size_t)w;
            if (!e) break;
            c = e + 1;
        }
    }
    free(buf);
    return run;
}

/* A CSV: features and one label / target column (label=COL, default the
 * last), or features and the last K columns as regression targets
 * (targets=K). */
static int load_csv(const char *path, tdl_spec *s, const char *task, tdl_dataset **out)
{
    if (tdl_spec_string(s, "label") && tdl_spec_string(s, "targets"))
        return tdl_fail(TDL_EINVAL, "data spec '%s': label= (one label column) and targets= (the last K columns as targets) exclude each other", s->text);
    tdl_tensor *t = NULL;
    int st = tdl_csv_read(path, &t);
    if (st != TDL_OK) return st;
    size_t cols = t->ndim == 2 ? t->shape[1] : 1, rows = t->shape[0];
    size_t label_col = cols - 1, K = 0;
    if (cols < 2) st = tdl_fail(TDL_ESHAPE, "%s: a data CSV needs at least 2 columns (features and a label)", path);
    else if ((st = tdl_spec_size(s, "label", 0, cols - 1, &label_col)) == TDL_OK)
        st = tdl_spec_size(s, "targets", 1, cols - 1, &K);
    if (st == TDL_OK && K) {
        if (strcmp(task, "classify") == 0) {
            st = tdl_fail(TDL_EINVAL, "data spec '%s': targets=%zu reads regression targets; task=classify needs one label column (label=)", s->text, K);
        } else {
            /* split the table: X = the first cols - K columns, y = the last K */
            tdl_tensor X = {0}, y = {0};
            X.dtype = y.dtype = TDL_F64;
            X.ndim = y.ndim = 2;
            X.shape[0] = y.shape[0] = rows;
            X.shape[1] = cols - K;
            y.shape[1] = K;
            X.numel = rows * (cols - K);
            y.numel = rows * K;
            X.data = tdl_malloc(X.numel * sizeof(double), "CSV inputs");
            y.data = tdl_malloc(y.numel * sizeof(double), "CSV targets");
            if (!X.data || !y.data) st = TDL_ENOMEM;
            else {
                for (size_t i = 0; i < rows; i++) {
                    memcpy(X.data + i * (cols - K), t->data + i * cols, (cols - K) * sizeof(double));
                    memcpy(y.data + i * K, t->data + i * cols + cols - K, K * sizeof(double));
                }
                st = dataset_from_arrays(path, &X, SIZE_MAX, NULL, &y, "regress", SIZE_MAX, out);
            }
            free(X.data);
            free(y.data);
        }
    } else if (st == TDL_OK) {
        st = dataset_from_arrays(path, t, label_col, NULL, NULL, task, SIZE_MAX, out);
        char names[256];
        size_t run;
        if (st == TDL_EINVAL && !tdl_spec_string(s, "label") && (run = csv_trailing_targets(path, names, sizeof names)) >= 2) {
            /* the last column refused as labels: say what was likely meant */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", tdl_errmsg());
            st = tdl_fail(TDL_EINVAL, "%s; the header names %zu target-like columns at the end (%s): add :targets=%zu to read them as regression targets",
                          msg, run, names, run);
        } else if (st == TDL_OK && !tdl_spec_string(s, "label") && (run = csv_trailing_targets(path, names, sizeof names)) >= 2) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "%s: the header names %zu target-like columns at the end (%s) but only the last is read as the %s; "
                     "add :targets=%zu to read all %zu as regression targets",
                     path, run, names, (*out)->classes ? "label" : "target", run, run);
            (*out)->warning = tdl_strdup(msg);
            if (!(*out)->warning) {
                tdl_dataset_free(out);
                st = TDL_ENOMEM;
            }
        }
    }
    tdl_tensor_free(&t);
    return st;
}

static int load_npy_pair(tdl_spec *s, const char *task, tdl_dataset **out)
{
    const char *xp = tdl_spec_string(s, "X"), *yp = tdl_spec_string(s, "y");
    if (!xp || !yp) return tdl_fail(TDL_EINVAL, "data spec '%s': npy needs X=path and y=path", s->text);
    tdl_tensor *X = NULL, *y = NULL;
    int st = tdl_npy_read(xp, &X);
    if (st == TDL_OK) st = tdl_npy_read(yp, &y);
    if (st == TDL_OK) st = dataset_from_arrays(xp, X, SIZE_MAX, yp, y, task, SIZE_MAX, out);
    tdl_tensor_free(&X);
    tdl_tensor_free(&y);
    return st;
}

static int load_shipped(const struct shipped *set, tdl_dataset **out)
{
    const char *const *dirs = tdl_data_dirs();
    char path[4096];
    for (size_t i = 0; dirs[i]; i++) {
        snprintf(path, sizeof path, "%s/%s.npz", dirs[i], set->name);
        if (access(path, R_OK) != 0) continue;
        int st = load_npz(path, "classify", out);
        if (st != TDL_OK) return st;
        if (set->scale > 0) gsl_matrix_scale((*out)->X, 1.0 / set->scale);
        return TDL_OK;
    }
    return tdl_fail(TDL_EIO, "shipped data set '%s' not found (looked for %s.npz in $TDL_DATA_DIR, %s, %s)",
                    set->name, set->name, TDL_SOURCE_DATA_DIR, TDL_INSTALL_DATA_DIR);
}

/* ---- modifiers --------------------------------------------------------- */

static gsl_rng *rng_for(unsigned long seed, unsigned long stream)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r) gsl_rng_set(r, seed * 1000003UL + stream * 7919UL + 1UL);
    return r;
}

enum { STREAM_SPLIT = 1, STREAM_SUBSET = 2, STREAM_LABELS = 3 };

/* Stratified split: per class, a seeded shuffle puts round(test * count)
 * examples in the test part.  Regression sets split without strata.
 * in_test[i] = 1 for test examples. */
static int split_mask(const tdl_dataset *ds, double test, unsigned long seed, unsigned char *in_test)
{
    size_t strata = ds->classes ? ds->classes : 1;
    size_t *idx = tdl_malloc(ds->n * sizeof *idx, "split indices");
    gsl_rng *r = rng_for(seed, STREAM_SPLIT);
    if (!idx || !r) {
        free(idx);
        if (r) gsl_rng_free(r);
        return tdl_fail(TDL_ENOMEM, "out of memory splitting the data");
    }
    memset(in_test, 0, ds->n);
    for (size_t c = 0; c < strata; c++) {
        size_t m = 0;
        for (size_t i = 0; i < ds->n; i++)
            if (!ds->classes || ds->labels[i] == c) idx[m++] = i;
        if (m == 0) continue;
        gsl_ran_shuffle(r, idx, m, sizeof *idx);
        size_t t = (size_t)llround(test * (double)m);
        for (size_t i = 0; i < t; i++) in_test[idx[i]] = 1;
    }
    free(idx);
    gsl_rng_free(r);
    return TDL_OK;
}

/* Append to the description.  A long file name can fill desc: the rest is
 * cut then (snprintf returns the untruncated length, which must not move
 * len past the end). */
static void desc_append(char *desc, size_t desc_len, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void desc_append(char *desc, size_t desc_len, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= desc_len) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(desc + *len, desc_len - *len, fmt, ap);
    va_end(ap);
    if (k > 0) *len = *len + (size_t)k < desc_len ? *len + (size_t)k : desc_len - 1;
}

static int apply_modifiers(tdl_dataset *ds, tdl_spec *s, int synthetic, char *desc, size_t desc_len)
{
    int st;
    size_t binary = 0, subset = 0;
    double test = 0.2, random_frac = 0.0, seed_d = 0;
    const char *split = tdl_spec_string(s, "split");
    const char *normalize = tdl_spec_string(s, "normalize");
    if ((st = tdl_spec_size(s, "binary", 1, TDL_MAX_CLASSES, &binary)) != TDL_OK) return st;
    if ((st = tdl_spec_double(s, "test", 0.0, 1.0, &test)) != TDL_OK) return st;
    if ((st = tdl_spec_double(s, "seed", 0, 4294967295.0, &seed_d)) != TDL_OK) return st;
    if ((st = tdl_spec_double(s, "random-labels", 0.0, 1.0, &random_frac)) != TDL_OK) return st;
    if (!synthetic && (st = tdl_spec_size(s, "n", 1, SIZE_MAX, &subset)) != TDL_OK) return st;
    unsigned long seed = (unsigned long)seed_d;
    if (seed_d != floor(seed_d)) return tdl_fail(TDL_EINVAL, "data spec '%s': seed must be an integer", s->text);
    if (split && strcmp(split, "train") && strcmp(split, "test") && strcmp(split, "all"))
        return tdl_fail(TDL_EINVAL, "data spec '%s': split=%s (expected train, test or all)", s->text, split);
    if (normalize && strcmp(normalize, "none") && strcmp(normalize, "standard") && strcmp(normalize, "unit"))
        return tdl_fail(TDL_EINVAL, "data spec '%s': normalize=%s (expected none, standard or unit)", s->text, normalize);
    size_t len = strlen(desc);

    if (binary) {
        if (!ds->classes) return tdl_fail(TDL_EINVAL, "data spec '%s': binary=K needs class labels", s->text);
        for (size_t i = 0; i < ds->n; i++) ds->labels[i] = ds->labels[i] < binary ? 0 : 1;
        ds->classes = 2;
        desc_append(desc, desc_len, &len, "; binary: label < %zu -> 0, else 1", binary);
    }

    /* Split (and the statistics for normalize=standard from the training part). */
    int need_split = (split && strcmp(split, "all") != 0);
    int standard = normalize && strcmp(normalize, "standard") == 0;
    unsigned char *in_test = NULL;
    double *mean = NULL, *scale = NULL;
    size_t *idx = NULL;
    if (need_split || standard) {
        in_test = tdl_malloc(ds->n, "split mask");
        if (!in_test) return TDL_ENOMEM;
        if ((st = split_mask(ds, need_split || standard ? test : 0.0, seed, in_test)) != TDL_OK) goto cleanup;
    }
    if (standard) {
        mean = tdl_calloc(ds->d, sizeof *mean, "feature means");
        scale = tdl_calloc(ds->d, sizeof *scale, "feature scales");
        if (!mean || !scale) { st = TDL_ENOMEM; goto cleanup; }
        size_t m = 0;
        for (size_t i = 0; i < ds->n; i++)
            if (!in_test[i]) {
                m++;
                for (size_t j = 0; j < ds->d; j++) mean[j] += gsl_matrix_get(ds->X, i, j);
            }
        if (m == 0) { st = tdl_fail(TDL_EINVAL, "data spec '%s': the training part is empty", s->text); goto cleanup; }
        for (size_t j = 0; j < ds->d; j++) mean[j] /= (double)m;
        for (size_t i = 0; i < ds->n; i++)
            if (!in_test[i])
                for (size_t j = 0; j < ds->d; j++) {
                    double c = gsl_matrix_get(ds->X, i, j) - mean[j];
                    scale[j] += c * c;
                }
        /* population standard deviation (ddof = 0, as sklearn's StandardScaler);
         * constant features are centred only. */
        for (size_t j = 0; j < ds->d; j++) {
            double sd = sqrt(scale[j] / (double)m);
            scale[j] = sd > 0 ? 1.0 / sd : 1.0;
        }
    }
    if (need_split) {
        int want_test = strcmp(split, "test") == 0;
        idx = tdl_malloc(ds->n * sizeof *idx, "split indices");
        if (!idx) { st = TDL_ENOMEM; goto cleanup; }
        size_t m = 0, n0 = ds->n;
        for (size_t i = 0; i < ds->n; i++)
            if (in_test[i] == want_test) idx[m++] = i;
        if ((st = dataset_select(ds, idx, m)) != TDL_OK) goto cleanup;
        desc_append(desc, desc_len, &len, "; split=%s (test=%g, seed=%lu, %s): %zu of %zu",
                    split, test, seed, ds->classes ? "stratified" : "not stratified", m, n0);
    }
    if (subset > ds->n) {
        /* taking "at most n" silently would give a smaller set than asked for */
        const char *set_name = strcmp(s->name, "npy") == 0 && tdl_spec_string(s, "X") ? tdl_spec_string(s, "X") : s->name;
        st = tdl_fail(TDL_EINVAL, "data spec '%s': n=%zu exceeds the %zu examples of %s%s%s", s->text, subset, ds->n,
                      set_name, need_split ? " after split=" : "", need_split ? split : "");
        goto cleanup;
    }
    if (subset && subset < ds->n) {
        free(idx);
        idx = tdl_malloc(ds->n * sizeof *idx, "subset indices");
        gsl_rng *r = rng_for(seed, STREAM_SUBSET);
        if (!idx || !r) {
            if (r) gsl_rng_free(r);
            st = tdl_fail(TDL_ENOMEM, "out of memory taking a subset");
            goto cleanup;
        }
        for (size_t i = 0; i < ds->n; i++) idx[i] = i;
        gsl_ran_shuffle(r, idx, ds->n, sizeof *idx);
        gsl_rng_free(r);
        size_t n0 = ds->n;
        if ((st = dataset_select(ds, idx, subset)) != TDL_OK) goto cleanup;
        desc_append(desc, desc_len, &len, "; n=%zu of %zu (seeded shuffle)", subset, n0);
    }
    if (random_frac > 0) {
        if (!ds->classes) { st = tdl_fail(TDL_EINVAL, "data spec '%s': random-labels needs class labels", s->text); goto cleanup; }
        free(idx);
        idx = tdl_malloc(ds->n * sizeof *idx, "label indices");
        gsl_rng *r = rng_for(seed, STREAM_LABELS);
        if (!idx || !r) {
            if (r) gsl_rng_free(r);
            st = tdl_fail(TDL_ENOMEM, "out of memory randomizing labels");
            goto cleanup;
        }
        for (size_t i = 0; i < ds->n; i++) idx[i] = i;
        gsl_ran_shuffle(r, idx, ds->n, sizeof *idx);
        size_t m = (size_t)llround(random_frac * (double)ds->n);
        for (size_t i = 0; i < m; i++) ds->labels[idx[i]] = (size_t)gsl_rng_uniform_int(r, ds->classes);
        gsl_rng_free(r);
        desc_append(desc, desc_len, &len,
                    "; random-labels=%g: %zu labels replaced by uniform random classes", random_frac, m);
    }
    if (standard) {
        for (size_t i = 0; i < ds->n; i++)
            for (size_t j = 0; j < ds->d; j++)
                gsl_matrix_set(ds->X, i, j, (gsl_matrix_get(ds->X, i, j) - mean[j]) * scale[j]);
        desc_append(desc, desc_len, &len, "; normalize=standard (training-part mean and std)");
    } else if (normalize && strcmp(normalize, "unit") == 0) {
        for (size_t i = 0; i < ds->n; i++) {
            gsl_vector_view row = gsl_matrix_row(ds->X, i);
            double nrm = gsl_blas_dnrm2(&row.vector);
            if (nrm > 0) gsl_vector_scale(&row.vector, 1.0 / nrm);
        }
        desc_append(desc, desc_len, &len, "; normalize=unit (each example to unit norm)");
    }
    (void)len;
    st = TDL_OK;
cleanup:
    free(in_test);
    free(mean);
    free(scale);
    free(idx);
    return st;
}

int tdl_dataset_spec_files(const char *spec, char ***files)
{
    tdl_spec s;
    *files = NULL;
    int st = tdl_data_spec_parse(spec, &s);
    if (st != TDL_OK) return st;
    const char *paths[2] = {NULL, NULL};
    size_t n = 0, bytes = 3 * sizeof(char *);
    if (strcmp(s.name, "npy") == 0) {
        /* the same keys load_npy_pair reads */
        if ((paths[n] = tdl_spec_string(&s, "X")) != NULL) n++;
        if ((paths[n] = tdl_spec_string(&s, "y")) != NULL) n++;
    } else if (strcmp(s.name, "idx") == 0) {
        if ((paths[n] = tdl_spec_string(&s, "images")) != NULL) n++;
        if ((paths[n] = tdl_spec_string(&s, "labels")) != NULL) n++;
    } else if (ends_with(s.name, ".csv") || ends_with(s.name, ".npz")) {
        paths[n++] = s.name;
    }
    for (size_t i = 0; i < n; i++) bytes += strlen(paths[i]) + 1;
    char **list = tdl_malloc(bytes, "a data spec's file list");
    if (!list) { tdl_data_spec_free(&s); return TDL_ENOMEM; }
    char *text = (char *)(list + 3);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(paths[i]) + 1;
        memcpy(text, paths[i], len);
        list[i] = text;
        text += len;
    }
    list[n] = NULL;
    tdl_data_spec_free(&s);
    *files = list;
    return TDL_OK;
}

int tdl_dataset_load(const char *spec, tdl_dataset **out)
{
    tdl_spec s;
    tdl_dataset *ds = NULL;
    char desc[1024];
    *out = NULL;
    int st = tdl_data_spec_parse(spec, &s);
    if (st != TDL_OK) return st;
    const char *task = tdl_spec_string(&s, "task");
    if (!task) task = "auto";
    if (strcmp(task, "auto") && strcmp(task, "classify") && strcmp(task, "regress")) {
        st = tdl_fail(TDL_EINVAL, "data spec '%s': task=%s (expected auto, classify or regress)", spec, task);
        goto cleanup;
    }
    int synthetic = 0;
    const struct shipped *shipped = NULL;
    for (size_t i = 0; i < N_SHIPPED; i++)
        if (strcmp(s.name, shipped_sets[i].name) == 0) shipped = &shipped_sets[i];
    if (tdl_dataset_is_external(&s)) {
        /* idx:, mnist:root=, fashion-mnist:root=, cifar10: (tdl/datasets.h) */
        st = tdl_dataset_load_external(&s, &ds, desc, sizeof desc);
    } else if (shipped) {
        st = load_shipped(shipped, &ds);
        snprintf(desc, sizeof desc, "%s (shipped%s)", s.name,
                 shipped->scale > 0 ? (shipped->scale == 16 ? ", inputs / 16" : ", inputs / 255") : "");
    } else if (tdl_is_synthetic(s.name)) {
        synthetic = 1;
        st = tdl_synthetic_generate(&s, &ds);
        snprintf(desc, sizeof desc, "%s (synthetic)", s.name);
    } else if (strcmp(s.name, "npy") == 0) {
        st = load_npy_pair(&s, task, &ds);
        snprintf(desc, sizeof desc, "npy files X=%s y=%s", tdl_spec_string(&s, "X"), tdl_spec_string(&s, "y"));
    } else if (ends_with(s.name, ".csv")) {
        st = load_csv(s.name, &s, task, &ds);
        snprintf(desc, sizeof desc, "%s (CSV)", s.name);
    } else if (ends_with(s.name, ".npz")) {
        st = load_npz(s.name, task, &ds);
        snprintf(desc, sizeof desc, "%s (npz)", s.name);
    } else {
        st = tdl_fail(TDL_EINVAL, "unknown data set '%s' (shipped: iris wine breast-cancer digits mnist fashion-mnist; files: .csv .npz npy:X=,y= idx:images=,labels=; distributed sets: mnist:root= fashion-mnist:root= cifar10:root=; synthetic: gauss sphere teacher spirals xor)", s.name);
    }
    if (st != TDL_OK) goto cleanup;
    if (ds->labels_pm1) {
        size_t len = strlen(desc);
        desc_append(desc, sizeof desc, &len, "; labels -1/+1 read as classes 0/1");
    }
    if ((st = apply_modifiers(ds, &s, synthetic, desc, sizeof desc)) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < s.count; i++)
        if (!s.kv[i].used) {
            st = tdl_fail(TDL_EINVAL, "data spec '%s': unknown key '%s' (see tdl help data)", spec, s.kv[i].key);
            goto cleanup;
        }
    ds->spec = tdl_strdup(spec);
    ds->description = tdl_strdup(desc);
    if (!ds->spec || !ds->description) { st = TDL_ENOMEM; goto cleanup; }
    *out = ds;
    ds = NULL;
cleanup:
    tdl_dataset_free(&ds);
    tdl_data_spec_free(&s);
    return st;
}

int tdl_dataset_save(const tdl_dataset *ds, const char *path)
{
    if (!ds || !path) return tdl_fail(TDL_EINVAL, "tdl_dataset_save: NULL argument");
    tdl_tensors *set = tdl_tensors_new();
    if (!set) return tdl_fail(TDL_ENOMEM, "out of memory writing %s", path);
    double *y = NULL, classes = (double)ds->classes;
    size_t xshape[2] = {ds->n, ds->d}, yshape[2] = {ds->n, ds->classes ? 1 : ds->Y->size2};
    /* X and Y are gsl matrices: rows may be padded (tda > size2) */
    double *x = tdl_malloc(ds->n * ds->d * sizeof *x, "the inputs to write");
    int st = x ? TDL_OK : TDL_ENOMEM;
    if (st == TDL_OK) {
        for (size_t i = 0; i < ds->n; i++)
            memcpy(x + i * ds->d, gsl_matrix_const_ptr(ds->X, i, 0), ds->d * sizeof *x);
        st = tdl_tensors_add(set, "X", 2, xshape, x);
    }
    if (st == TDL_OK && !(y = tdl_malloc(ds->n * yshape[1] * sizeof *y, "the targets to write"))) st = TDL_ENOMEM;
    if (st == TDL_OK) {
        for (size_t i = 0; i < ds->n; i++) {
            if (ds->classes) y[i] = (double)ds->labels[i];
            else memcpy(y + i * yshape[1], gsl_matrix_const_ptr(ds->Y, i, 0), yshape[1] * sizeof *y);
        }
        /* labels and a single target column as a vector, as sklearn and
         * torch keep them; several targets as n x k */
        st = tdl_tensors_add(set, "y", yshape[1] == 1 ? 1 : 2, yshape, y);
    }
    if (st == TDL_OK) st = tdl_tensors_add(set, "tdl_classes", 0, NULL, &classes);
    if (st == TDL_OK) st = tdl_npz_write(path, set);
    free(x);
    free(y);
    tdl_tensors_free(&set);
    return st;
}
