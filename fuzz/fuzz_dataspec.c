/* fuzz_dataspec.c — libFuzzer harness of the --data SPEC grammar (tdl/data.h).
 *
 * The input, cut at its first NUL, is a spec.  Checked for every input:
 *   1. tdl_data_spec_parse (the loader's own parser, tdl/data.h): on
 *      success the name is the text before the first ':', keys are
 *      non-empty, unique and free of ',' and '=', values non-empty and free
 *      of ','; printing the parse back as NAME:k=v,... and parsing that
 *      gives the same structure.  On failure nothing is owned, the status
 *      is TDL_EINVAL, and the loader and tdl_dataset_spec_files fail alike.
 *   2. tdl_dataset_spec_files: the files the parse names, nothing opened.
 *   3. tdl_dataset_load, only when that reads no file of the input's
 *      choosing and allocates little: the small shipped sets (iris, wine,
 *      breast-cancer, digits; from the source tree's data/, $TDL_DATA_DIR
 *      is unset at start-up), the synthetic generators with n <= 2000,
 *      d <= 64, k <= 64, classes <= 1000, names the loader refuses without
 *      opening anything, and the harness's own fixtures: at start-up it
 *      makes a private directory under $TMPDIR (removed at exit), writes
 *      d.csv, d.npz, X.npy, y.npy and r.npy (6 examples) there and works
 *      in it around each load (and back in the starting directory
 *      otherwise), so that d.csv, ./d.csv, ././d.csv, npy:X=X.npy,y=r.npy...
 *      load (the "./" repeats make long paths, which reach the 1024-byte
 *      description buffer).  Never any other file, mnist or fashion-mnist.
 *      A crash inside a load leaves the process in that directory: give
 *      libFuzzer an absolute -artifact_prefix (fuzz/run.sh does).
 *      A loaded set is checked: n, d > 0, X n x d and finite, labels <
 *      classes (or Y n x k finite), spec kept verbatim.
 *   4. The typed lookups of tdl/data.h on every key: an accepted size
 *      is all digits (strtoull would wrap "-1" and " -1" around), an
 *      accepted double is finite and in its bounds.
 * FUZZ_VERBOSE=1 in the environment prints the outcome of each load.
 * A broken promise calls __builtin_trap() so libFuzzer records the input.
 */
#include <math.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/error.h"
#include "tdl/data.h"
#include "tdl/io.h"
#include "fuzz_common.h"

#define FUZZ_MAX_N 2000
#define FUZZ_MAX_D 64
#define FUZZ_MAX_K 64
#define FUZZ_MAX_CLASSES 1000

int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fixture_dir[4096];
static int home_fd = -1; /* the directory the fuzzer started in */
static const char *const fixtures[] = {"d.csv", "d.npz", "X.npy", "y.npy", "r.npy", NULL};

static void remove_fixtures(void)
{
    if (!fixture_dir[0]) return;
    if (chdir(fixture_dir) == 0) {
        for (size_t i = 0; fixtures[i]; i++) unlink(fixtures[i]);
        if (chdir("/") == 0) rmdir(fixture_dir);
    }
}

static void write_npy(const char *path, size_t ndim, size_t rows, size_t cols, const double *v)
{
    tdl_tensor t = {0};
    t.name = (char *)path;
    t.dtype = TDL_F64;
    t.ndim = ndim;
    t.shape[0] = rows;
    t.shape[1] = cols;
    t.numel = ndim == 2 ? rows * cols : rows;
    t.data = (double *)v;
    if (tdl_npy_write(path, &t) != TDL_OK) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const double X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 2, 2};
    static const double y[6] = {0, 1, 0, 1, 2, 1}, r[6] = {0.5, -1, 2.25, 3, 0, 1e3};
    (void)argc;
    (void)argv;
    unsetenv("TDL_DATA_DIR"); /* shipped sets from the source tree only */
    const char *tmp = getenv("TMPDIR");
    snprintf(fixture_dir, sizeof fixture_dir, "%s/tdl-fuzz-dataspec-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    home_fd = open(".", O_RDONLY | O_DIRECTORY);
    if (home_fd < 0 || !mkdtemp(fixture_dir) || chdir(fixture_dir) != 0) abort();
    atexit(remove_fixtures);
    FILE *f = fopen("d.csv", "w");
    if (!f) abort();
    for (size_t i = 0; i < 6; i++) fprintf(f, "%g,%g,%g\n", X[2 * i], X[2 * i + 1], y[i]);
    fclose(f);
    write_npy("X.npy", 2, 6, 2, X);
    write_npy("y.npy", 1, 6, 1, y);
    write_npy("r.npy", 1, 6, 1, r);
    tdl_tensors *set = tdl_tensors_new();
    size_t xs[2] = {6, 2}, ys[1] = {6};
    if (!set || tdl_tensors_add(set, "X", 2, xs, X) || tdl_tensors_add(set, "y", 1, ys, y) ||
        tdl_npz_write("d.npz", set) != TDL_OK)
        abort();
    tdl_tensors_free(&set);
    if (fchdir(home_fd) != 0) abort();
    return 0;
}

/* One of the fixtures, spelt with any number of leading "./". */
static int is_fixture(const char *path)
{
    while (path[0] == '.' && path[1] == '/') path += 2;
    for (size_t i = 0; fixtures[i]; i++)
        if (strcmp(path, fixtures[i]) == 0) return 1;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void check_structure(const char *text, const tdl_spec *s)
{
    size_t name_len = strcspn(text, ":");
    if (!s->name || strlen(s->name) != name_len || name_len == 0 || memcmp(s->name, text, name_len) != 0)
        __builtin_trap();
    if (s->count && !s->kv) __builtin_trap();
    for (size_t i = 0; i < s->count; i++) {
        const tdl_spec_kv *kv = &s->kv[i];
        if (!kv->key || !kv->value || !*kv->key || !*kv->value || kv->used) __builtin_trap();
        if (strpbrk(kv->key, ",=") || strchr(kv->value, ',')) __builtin_trap();
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->kv[j].key, kv->key) == 0) __builtin_trap();
    }
}

/* NAME[:k=v,...] from a parse, and the parse of that: the same structure. */
static void check_round_trip(const tdl_spec *s)
{
    size_t len = strlen(s->name) + 2;
    for (size_t i = 0; i < s->count; i++) len += strlen(s->kv[i].key) + strlen(s->kv[i].value) + 2;
    char *text = malloc(len);
    if (!text) return;
    char *p = text;
    p += sprintf(p, "%s", s->name);
    for (size_t i = 0; i < s->count; i++)
        p += sprintf(p, "%c%s=%s", i ? ',' : ':', s->kv[i].key, s->kv[i].value);
    tdl_spec t;
    if (tdl_data_spec_parse(text, &t) != TDL_OK) __builtin_trap();
    if (strcmp(t.name, s->name) != 0 || t.count != s->count) __builtin_trap();
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(t.kv[i].key, s->kv[i].key) || strcmp(t.kv[i].value, s->kv[i].value)) __builtin_trap();
    tdl_data_spec_free(&t);
    free(text);
}

static const char *find_value(const tdl_spec *s, const char *key)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->kv[i].key, key) == 0) return s->kv[i].value;
    return NULL;
}

static void check_files(const char *text, const tdl_spec *s)
{
    char **files = NULL;
    if (tdl_dataset_spec_files(text, &files) != TDL_OK || !files) __builtin_trap();
    const char *want[2] = {NULL, NULL};
    size_t n = 0;
    if (strcmp(s->name, "npy") == 0) {
        if ((want[n] = find_value(s, "X")) != NULL) n++;
        if ((want[n] = find_value(s, "y")) != NULL) n++;
    } else if (ends_with(s->name, ".csv") || ends_with(s->name, ".npz")) {
        want[n++] = s->name;
    }
    for (size_t i = 0; i < n; i++)
        if (!files[i] || strcmp(files[i], want[i]) != 0) __builtin_trap();
    if (files[n]) __builtin_trap();
    free(files);
}

/* A size key the loader would read: 1 when absent, malformed (the loader
 * refuses it) or at most cap; 0 when it asks for more. */
static int size_ok(const tdl_spec *s, const char *key, unsigned long long cap)
{
    const char *v = find_value(s, key);
    if (!v) return 1;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || end == v) return 1;
    if (strchr(v, '-')) return 0; /* strtoull wraps "-1" (and " -1") around */
    return x <= cap;
}

static int safe_to_load(const tdl_spec *s)
{
    static const char *const small[] = {"iris", "wine", "breast-cancer", "digits", NULL};
    static const char *const synth[] = {"gauss", "teacher", "sphere", "spirals", "xor", NULL};
    static const char *const never[] = {"mnist", "fashion-mnist", "idx", "cifar10", NULL};
    if (strcmp(s->name, "npy") == 0) {
        const char *X = find_value(s, "X"), *y = find_value(s, "y");
        return (!X || is_fixture(X)) && (!y || is_fixture(y));
    }
    if (ends_with(s->name, ".csv") || ends_with(s->name, ".npz")) return is_fixture(s->name);
    for (size_t i = 0; small[i]; i++)
        if (strcmp(s->name, small[i]) == 0) return 1;
    for (size_t i = 0; synth[i]; i++)
        if (strcmp(s->name, synth[i]) == 0)
            return size_ok(s, "n", FUZZ_MAX_N) && size_ok(s, "d", FUZZ_MAX_D) && size_ok(s, "k", FUZZ_MAX_K) &&
                   size_ok(s, "classes", FUZZ_MAX_CLASSES);
    for (size_t i = 0; never[i]; i++)
        if (strcmp(s->name, never[i]) == 0) return 0;
    return 1; /* unknown: refused unopened */
}

static void check_typed(tdl_spec *s)
{
    for (size_t i = 0; i < s->count; i++) {
        const char *key = s->kv[i].key, *value = s->kv[i].value;
        size_t z = 0;
        double x = 0;
        if (tdl_spec_size(s, key, 0, SIZE_MAX, &z) == TDL_OK && strspn(value, "0123456789") != strlen(value))
            __builtin_trap();
        if (tdl_spec_double(s, key, -1.0, 1.0, &x) == TDL_OK && !(x >= -1.0 && x <= 1.0)) __builtin_trap();
    }
}

static void check_dataset(const char *text, const tdl_dataset *ds)
{
    if (!ds->n || !ds->d || !ds->X || ds->X->size1 != ds->n || ds->X->size2 != ds->d) __builtin_trap();
    if (!ds->spec || strcmp(ds->spec, text) != 0 || !ds->description) __builtin_trap();
    for (size_t i = 0; i < ds->n; i++)
        for (size_t j = 0; j < ds->d; j++)
            if (!isfinite(gsl_matrix_get(ds->X, i, j))) __builtin_trap();
    if (ds->classes) {
        if (!ds->labels || ds->Y) __builtin_trap();
        for (size_t i = 0; i < ds->n; i++)
            if (ds->labels[i] >= ds->classes) __builtin_trap();
    } else {
        if (!ds->Y || ds->Y->size1 != ds->n || ds->labels) __builtin_trap();
        for (size_t i = 0; i < ds->n; i++)
            for (size_t j = 0; j < ds->Y->size2; j++)
                if (!isfinite(gsl_matrix_get(ds->Y, i, j))) __builtin_trap();
    }
    if (tdl_dataset_outputs(ds) == 0) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    tdl_spec s;
    tdl_dataset *ds = NULL;
    char **files = NULL;
    int st = tdl_data_spec_parse(text, &s);
    if (st != TDL_OK) {
        if (s.name || s.kv || s.count || st != TDL_EINVAL) __builtin_trap();
        if (tdl_dataset_spec_files(text, &files) != st || files) __builtin_trap();
        if (tdl_dataset_load(text, &ds) != st || ds) __builtin_trap();
        free(text);
        return 0;
    }
    check_structure(text, &s);
    check_round_trip(&s);
    check_files(text, &s);
    check_typed(&s);
    if (safe_to_load(&s)) {
        if (chdir(fixture_dir) != 0) abort();
        st = tdl_dataset_load(text, &ds);
        if (fchdir(home_fd) != 0) abort();
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "load %s: %s\n", text, st == TDL_OK ? ds->description : tdl_errmsg());
        if (st == TDL_OK) {
            if (!ds) __builtin_trap();
            check_dataset(text, ds);
            tdl_dataset_free(&ds);
        } else if (ds) {
            __builtin_trap();
        }
    }
    tdl_data_spec_free(&s);
    free(text);
    return 0;
}
