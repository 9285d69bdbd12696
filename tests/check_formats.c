/* check_formats.c — Check suite of the file formats: safetensors, .npy,
 * .npz, CSV.
 *
 * core    round trips (write -> read, bit-exact), and every fixture of
 *         tests/fixtures/formats/ (written by numpy, torch and an
 *         independent safetensors writer; see make_format_fixtures.py)
 *         compared number by number with expected.json;
 * limits  scalars, zero-size tensors, extreme shapes and values, ZIP64;
 * errors  every rejection path: status code AND a message naming the
 *         problem.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tdl/error.h"
#include "tdl/io.h"
#include "tdl/tensor.h"

#ifndef TDL_TEST_FIXTURES
#error "TDL_TEST_FIXTURES must name tests/fixtures"
#endif
#define FIX TDL_TEST_FIXTURES "/formats/"

static char tmpdir[256];
static cJSON *expected;  /* expected.json, loaded in main */

/* Little-endian loads, to read the files' own bytes. */
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32); }

/* ---- helpers ----------------------------------------------------------- */

static char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

static unsigned char *slurp(const char *rel, size_t *len)
{
    char path[512];
    unsigned char *buf = NULL;
    snprintf(path, sizeof path, "%s%s", FIX, rel);
    int st = tdl_read_file(path, (size_t)1 << 26, &buf, len);
    ck_assert_msg(st == TDL_OK, "cannot read fixture %s: %s", path, tdl_errmsg());
    return buf;
}

static unsigned char *dupmem(const unsigned char *p, size_t n)
{
    unsigned char *d = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(d);
    if (n) memcpy(d, p, n);
    return d;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++) p[k] = (unsigned char)(v >> (8 * k));
}

/* Assert status and message substring (and that the message names the
 * label when one is given). */
static void expect_fail(int st, int status, const char *substr, const char *context)
{
    ck_assert_msg(st == status, "%s: status %d (%s), expected %d (%s); message: %s", context, st,
                  tdl_strerror(st), status, tdl_strerror(status), tdl_errmsg());
    ck_assert_msg(strstr(tdl_errmsg(), substr) != NULL, "%s: message '%s' lacks '%s'", context,
                  tdl_errmsg(), substr);
}

static int contains(const unsigned char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) return 1;
    return 0;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static const double special[] = {
    0.0, -0.0, 1.0, -1.5, 3.141592653589793, 1e-300, 4.9406564584124654e-324,
    1.7976931348623157e308, -2.2250738585072014e-308, 0.1, 1e20, -123456789.125,
};

/* A set: metadata with characters JSON must escape, then tensors of
 * shape [] (scalar), [0, 3] (zero-size), [5] (1-D), [2, 3, 4] (3-D) and
 * [2, 3] holding NaN (with a payload), +-inf and subnormals. */
static tdl_tensors *sample_set(int with_meta)
{
    tdl_tensors *s = tdl_tensors_new();
    ck_assert_ptr_nonnull(s);
    double v[24], w[6];
    for (int i = 0; i < 24; i++) v[i] = special[i % 12] * (i < 12 ? 1 : -3);
    uint64_t nan_bits = UINT64_C(0x7ff8000000012345);
    memcpy(&w[0], &nan_bits, sizeof w[0]);
    w[1] = INFINITY;
    w[2] = -INFINITY;
    w[3] = 5e-324;
    w[4] = -0.0;
    w[5] = 2.0 / 3.0;
    size_t sh_scalar[1] = {0}, sh_empty[2] = {0, 3}, sh_vec[1] = {5}, sh_cube[3] = {2, 3, 4},
           sh_mat[2] = {2, 3};
    ck_assert_int_eq(tdl_tensors_add(s, "scalar", 0, sh_scalar, &v[4]), TDL_OK);
    ck_assert_int_eq(tdl_tensors_add(s, "empty", 2, sh_empty, NULL), TDL_OK);
    ck_assert_int_eq(tdl_tensors_add(s, "0.weight", 1, sh_vec, v), TDL_OK);
    ck_assert_int_eq(tdl_tensors_add(s, "cube", 3, sh_cube, v), TDL_OK);
    ck_assert_int_eq(tdl_tensors_add(s, "specials", 2, sh_mat, w), TDL_OK);
    if (with_meta) {
        ck_assert_int_eq(tdl_tensors_set_meta(s, "format", "pt"), TDL_OK);
        ck_assert_int_eq(tdl_tensors_set_meta(s, "quote\"back\\slash", "new\nline\ttab \x01 \xc3\xa9"),
                         TDL_OK);
        ck_assert_int_eq(tdl_tensors_set_meta(s, "", ""), TDL_OK);
    }
    return s;
}

static void assert_same_tensor(const tdl_tensor *a, const tdl_tensor *b, const char *ctx)
{
    ck_assert_msg(a && b, "%s: tensor missing", ctx);
    ck_assert_msg(a->ndim == b->ndim, "%s: '%s' ndim %zu vs %zu", ctx, a->name, a->ndim, b->ndim);
    for (size_t k = 0; k < a->ndim; k++)
        ck_assert_msg(a->shape[k] == b->shape[k], "%s: '%s' shape[%zu]", ctx, a->name, k);
    ck_assert_msg(a->numel == b->numel, "%s: '%s' numel", ctx, a->name);
    for (size_t i = 0; i < a->numel; i++)
        ck_assert_msg(same_bits(a->data[i], b->data[i]), "%s: '%s'[%zu] %.17g vs %.17g", ctx,
                      a->name, i, a->data[i], b->data[i]);
}

static void assert_same_set(const tdl_tensors *a, const tdl_tensors *b, int check_meta,
                            const char *ctx)
{
    ck_assert_msg(a->count == b->count, "%s: %zu vs %zu tensors", ctx, a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        ck_assert_str_eq(a->items[i].name, b->items[i].name);  /* order kept */
        assert_same_tensor(&a->items[i], &b->items[i], ctx);
    }
    if (check_meta) {
        ck_assert_uint_eq(a->meta_count, b->meta_count);
        for (size_t i = 0; i < a->meta_count; i++) {
            const char *v = tdl_tensors_meta(b, a->meta_keys[i]);
            ck_assert_msg(v != NULL, "%s: metadata '%s' lost", ctx, a->meta_keys[i]);
            ck_assert_str_eq(v, a->meta_values[i]);
        }
    }
}

/* Compare one tensor with its expected.json record. */
static void check_expected(const tdl_tensor *t, const cJSON *rec, const char *ctx)
{
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(rec, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(rec, "shape");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(rec, "values");
    ck_assert_msg(dt && shape && vals, "%s: bad expected.json record", ctx);
    ck_assert_msg(strcmp(tdl_dtype_name(t->dtype), dt->valuestring) == 0,
                  "%s: dtype %s, expected %s", ctx, tdl_dtype_name(t->dtype), dt->valuestring);
    ck_assert_msg(t->ndim == (size_t)cJSON_GetArraySize(shape), "%s: ndim %zu, expected %d", ctx,
                  t->ndim, cJSON_GetArraySize(shape));
    size_t k = 0;
    for (const cJSON *d = shape->child; d; d = d->next, k++)
        ck_assert_msg(t->shape[k] == (size_t)d->valuedouble, "%s: shape[%zu] %zu, expected %g", ctx,
                      k, t->shape[k], d->valuedouble);
    ck_assert_msg(t->numel == (size_t)cJSON_GetArraySize(vals), "%s: numel %zu, expected %d", ctx,
                  t->numel, cJSON_GetArraySize(vals));
    size_t i = 0;
    for (const cJSON *v = vals->child; v; v = v->next, i++)
        ck_assert_msg(same_bits(t->data[i], v->valuedouble), "%s: [%zu] = %.17g, expected %.17g",
                      ctx, i, t->data[i], v->valuedouble);
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* ---- core: fixtures ---------------------------------------------------- */

/* One iteration per file listed in expected.json. */
START_TEST(test_fixture)
{
    const cJSON *file = cJSON_GetArrayItem(expected, _i);
    ck_assert_ptr_nonnull(file);
    char path[512];
    snprintf(path, sizeof path, "%s%s", FIX, file->string);
    tdl_tensors *set = NULL;
    tdl_tensor *one = NULL;
    int st;
    if (ends_with(path, ".safetensors")) {
        st = tdl_safetensors_read(path, &set);
    } else if (ends_with(path, ".npz")) {
        st = tdl_npz_read(path, &set);
    } else {
        st = ends_with(path, ".npy") ? tdl_npy_read(path, &one) : tdl_csv_read(path, &one);
        if (st == TDL_OK) {
            set = tdl_tensors_new();
            ck_assert_int_eq(tdl_tensors_append(set, &one), TDL_OK);
        }
    }
    ck_assert_msg(st == TDL_OK, "%s: %s", file->string, tdl_errmsg());
    ck_assert_msg(set->count == (size_t)cJSON_GetArraySize(file), "%s: %zu tensors, expected %d",
                  file->string, set->count, cJSON_GetArraySize(file));
    for (const cJSON *rec = file->child; rec; rec = rec->next) {
        char ctx[600];
        snprintf(ctx, sizeof ctx, "%s: '%s'", file->string, rec->string);
        const tdl_tensor *t = tdl_tensors_find(set, rec->string);
        ck_assert_msg(t != NULL, "%s: missing", ctx);
        check_expected(t, rec, ctx);
    }
    tdl_tensors_free(&set);
}
END_TEST

START_TEST(test_safetensors_fixture_details)
{
    tdl_tensors *s = NULL;
    ck_assert_int_eq(tdl_safetensors_read(FIX "safetensors/dtypes.safetensors", &s), TDL_OK);
    /* tensors in data order (the JSON keys are sorted differently) */
    ck_assert_str_eq(s->items[0].name, "f32");
    ck_assert_str_eq(s->items[1].name, "f64");
    ck_assert_str_eq(s->items[s->count - 1].name, "bf16");
    ck_assert_str_eq(tdl_tensors_meta(s, "format"), "pt");
    ck_assert_str_eq(tdl_tensors_meta(s, "note"), "tdl fixture");
    tdl_tensors_free(&s);

    /* the same PyTorch state dict through safetensors and np.savez */
    tdl_tensors *a = NULL, *b = NULL;
    ck_assert_int_eq(tdl_safetensors_read(FIX "safetensors/mlp.safetensors", &a), TDL_OK);
    ck_assert_int_eq(tdl_npz_read(FIX "npz/mlp.npz", &b), TDL_OK);
    ck_assert_uint_eq(a->count, 4);
    ck_assert_str_eq(a->items[0].name, "2.weight");  /* data order: reverse names */
    static const char *const names[] = {"0.weight", "0.bias", "2.weight", "2.bias"};
    static const size_t rows[] = {8, 8, 3, 3};
    for (int i = 0; i < 4; i++) {
        const tdl_tensor *x = tdl_tensors_find(a, names[i]), *y = tdl_tensors_find(b, names[i]);
        assert_same_tensor(x, y, names[i]);
        ck_assert_uint_eq(x->shape[0], rows[i]);
        ck_assert_int_eq(x->dtype, TDL_F32);
    }
    ck_assert_uint_eq(tdl_tensors_find(a, "0.weight")->shape[1], 4);  /* Linear(4, 8): out x in */
    tdl_tensors_free(&a);
    tdl_tensors_free(&b);

    ck_assert_int_eq(tdl_safetensors_read(FIX "safetensors/none.safetensors", &s), TDL_OK);
    ck_assert_uint_eq(s->count, 0);
    ck_assert_str_eq(tdl_tensors_meta(s, "k"), "v");
    tdl_tensors_free(&s);
}
END_TEST

START_TEST(test_npy_fixture_details)
{
    tdl_tensor *t = NULL;
    /* Fortran order: element (i, j, k) of a C-order arange */
    ck_assert_int_eq(tdl_npy_read(FIX "npy/fortran_3d.npy", &t), TDL_OK);
    ck_assert_uint_eq(t->ndim, 3);
    for (size_t i = 0; i < 24; i++) ck_assert(t->data[i] == ((double)i - 5.5) / 4);
    ck_assert_str_eq(t->name, "fortran_3d");
    tdl_tensor_free(&t);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(tdl_npy_read(FIX "npy/scalar.npy", &t), TDL_OK);
    ck_assert_uint_eq(t->ndim, 0);
    ck_assert_uint_eq(t->numel, 1);
    ck_assert(t->data[0] == 3.5);
    tdl_tensor_free(&t);
    ck_assert_int_eq(tdl_npy_read(FIX "npy/empty.npy", &t), TDL_OK);
    ck_assert_uint_eq(t->numel, 0);
    ck_assert_uint_eq(t->shape[1], 3);
    tdl_tensor_free(&t);
}
END_TEST

START_TEST(test_npz_fixture_details)
{
    tdl_tensors *a = NULL, *b = NULL;
    ck_assert_int_eq(tdl_npz_read(FIX "npz/savez.npz", &a), TDL_OK);
    ck_assert_int_eq(tdl_npz_read(FIX "npz/savez_compressed.npz", &b), TDL_OK);
    assert_same_set(a, b, 0, "savez vs savez_compressed");
    const tdl_tensor *f = tdl_tensors_find(a, "fortran");
    for (size_t i = 0; i < 6; i++) ck_assert(f->data[i] == (double)i);
    ck_assert_int_eq(tdl_tensors_find(a, "flags")->dtype, TDL_BOOL);
    tdl_tensors_free(&a);
    tdl_tensors_free(&b);
    /* member "sub/dir/b.npy" -> tensor "b" */
    ck_assert_int_eq(tdl_npz_read(FIX "npz/descriptor.npz", &a), TDL_OK);
    ck_assert_ptr_nonnull(tdl_tensors_find(a, "b"));
    tdl_tensors_free(&a);
}
END_TEST

/* ---- core: round trips ------------------------------------------------- */

START_TEST(test_safetensors_roundtrip)
{
    tdl_tensors *s = sample_set(1), *r = NULL;
    const char *path = tmp_path("rt.safetensors");
    ck_assert_int_eq(tdl_safetensors_write(path, s), TDL_OK);
    ck_assert_msg(tdl_safetensors_read(path, &r) == TDL_OK, "%s", tdl_errmsg());
    assert_same_set(s, r, 1, "safetensors");
    for (size_t i = 0; i < r->count; i++) ck_assert_int_eq(r->items[i].dtype, TDL_F64);

    /* layout: header padded to 8 with spaces, __metadata__ first */
    unsigned char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tdl_read_file(path, 1 << 20, &buf, &len), TDL_OK);
    uint64_t n = le64(buf);
    ck_assert_uint_eq(n % 8, 0);
    ck_assert(memcmp(buf + 8, "{\"__metadata__\":", 16) == 0);
    ck_assert(buf[8 + n - 1] == ' ' || buf[8 + n - 1] == '}');
    size_t data = 0;
    for (size_t i = 0; i < s->count; i++) data += 8 * s->items[i].numel;
    ck_assert_uint_eq(len, 8 + n + data);
    free(buf);
    tdl_tensors_free(&r);

    /* no metadata: the header starts with the first tensor */
    tdl_tensors_free(&s);
    s = sample_set(0);
    ck_assert_int_eq(tdl_safetensors_write(path, s), TDL_OK);
    ck_assert_int_eq(tdl_read_file(path, 1 << 20, &buf, &len), TDL_OK);
    ck_assert(memcmp(buf + 8, "{\"scalar\":", 10) == 0);
    ck_assert_int_eq(tdl_safetensors_read_mem(buf, len, "x", &r), TDL_OK);
    assert_same_set(s, r, 1, "safetensors without metadata");
    free(buf);
    tdl_tensors_free(&r);
    tdl_tensors_free(&s);

    /* an empty set */
    s = tdl_tensors_new();
    ck_assert_int_eq(tdl_safetensors_write(path, s), TDL_OK);
    ck_assert_int_eq(tdl_safetensors_read(path, &r), TDL_OK);
    ck_assert_uint_eq(r->count, 0);
    tdl_tensors_free(&r);
    tdl_tensors_free(&s);
    unlink(path);
}
END_TEST

START_TEST(test_npy_roundtrip)
{
    tdl_tensors *s = sample_set(0);
    for (size_t i = 0; i < s->count; i++) {
        const tdl_tensor *t = &s->items[i];
        char name[64];
        snprintf(name, sizeof name, "%s.npy", t->name);
        const char *path = tmp_path(name);
        tdl_tensor *r = NULL;
        ck_assert_int_eq(tdl_npy_write(path, t), TDL_OK);
        ck_assert_msg(tdl_npy_read(path, &r) == TDL_OK, "%s", tdl_errmsg());
        assert_same_tensor(t, r, "npy");
        ck_assert_str_eq(r->name, t->name);  /* from the file name */
        ck_assert_int_eq(r->dtype, TDL_F64);
        tdl_tensor_free(&r);

        /* numpy's layout: v1.0, data at a multiple of 64, header ends in '\n' */
        unsigned char *buf = NULL, *mem = NULL;
        size_t len = 0, mlen = 0;
        ck_assert_int_eq(tdl_read_file(path, 1 << 20, &buf, &len), TDL_OK);
        ck_assert_int_eq(buf[6], 1);
        size_t start = 10 + (size_t)le16(buf + 8);
        ck_assert_uint_eq(start % 64, 0);
        ck_assert_int_eq(buf[start - 1], '\n');
        ck_assert(contains(buf, start, "'descr': '<f8'"));
        ck_assert(contains(buf, start, "'fortran_order': False"));
        ck_assert_uint_eq(len, start + 8 * t->numel);
        /* the memory image is the same bytes */
        ck_assert_int_eq(tdl_npy_write_mem(t, &mem, &mlen), TDL_OK);
        ck_assert_uint_eq(mlen, len);
        ck_assert_mem_eq(mem, buf, len);
        free(mem);
        free(buf);
        unlink(path);
    }
    tdl_tensors_free(&s);
}
END_TEST

START_TEST(test_npz_roundtrip)
{
    tdl_tensors *s = sample_set(0), *r = NULL;
    const char *path = tmp_path("rt.npz");
    ck_assert_int_eq(tdl_npz_write(path, s), TDL_OK);
    ck_assert_msg(tdl_npz_read(path, &r) == TDL_OK, "%s", tdl_errmsg());
    assert_same_set(s, r, 0, "npz");
    tdl_tensors_free(&r);

    /* numpy-written archive -> ours -> back: same numbers */
    tdl_tensors *a = NULL;
    ck_assert_int_eq(tdl_npz_read(FIX "npz/savez_compressed.npz", &a), TDL_OK);
    ck_assert_int_eq(tdl_npz_write(path, a), TDL_OK);
    ck_assert_int_eq(tdl_npz_read(path, &r), TDL_OK);
    assert_same_set(a, r, 0, "npz rewrite");
    tdl_tensors_free(&r);
    tdl_tensors_free(&a);

    /* an empty archive */
    a = tdl_tensors_new();
    ck_assert_int_eq(tdl_npz_write(path, a), TDL_OK);
    ck_assert_int_eq(tdl_npz_read(path, &r), TDL_OK);
    ck_assert_uint_eq(r->count, 0);
    tdl_tensors_free(&r);
    tdl_tensors_free(&a);
    tdl_tensors_free(&s);
    unlink(path);
}
END_TEST

START_TEST(test_cross_format)
{
    /* safetensors -> npz -> safetensors keeps names, shapes and values */
    tdl_tensors *a = NULL, *b = NULL, *c = NULL;
    ck_assert_int_eq(tdl_safetensors_read(FIX "safetensors/dtypes.safetensors", &a), TDL_OK);
    ck_assert_int_eq(tdl_npz_write(tmp_path("x.npz"), a), TDL_OK);
    ck_assert_int_eq(tdl_npz_read(tmp_path("x.npz"), &b), TDL_OK);
    assert_same_set(a, b, 0, "safetensors -> npz");
    ck_assert_int_eq(tdl_safetensors_write(tmp_path("x.safetensors"), b), TDL_OK);
    ck_assert_int_eq(tdl_safetensors_read(tmp_path("x.safetensors"), &c), TDL_OK);
    assert_same_set(a, c, 0, "npz -> safetensors");
    tdl_tensors_free(&a);
    tdl_tensors_free(&b);
    tdl_tensors_free(&c);
    unlink(tmp_path("x.npz"));
    unlink(tmp_path("x.safetensors"));
}
END_TEST

/* ---- core: npy header variants and CSV --------------------------------- */

/* A v1.0 .npy image with the given header text and data bytes. */
static unsigned char *npy_image(const char *dict, const void *data, size_t dlen, size_t *len)
{
    size_t h = strlen(dict);
    unsigned char *b = malloc(10 + h + dlen + 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    put_le(b + 8, h, 2);
    memcpy(b + 10, dict, h);
    if (dlen) memcpy(b + 10 + h, data, dlen);
    *len = 10 + h + dlen;
    return b;
}

START_TEST(test_npy_header_variants)
{
    static const char *const ok[] = {
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n",
        "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f8\"}",
        "  {'fortran_order':False,'shape':(2,3,),'descr':'<f8'}   \n",
        "{'descr': '=f8', 'fortran_order': False, 'shape': (2L, 3L)}",
        "{'descr': 'f8', 'fortran_order': False, 'shape': (2,\t3)}\n",
    };
    double d[6] = {1, 2, 3, 4, 5, 6};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t len;
        unsigned char *b = npy_image(ok[i], d, sizeof d, &len);
        tdl_tensor *t = NULL;
        ck_assert_msg(tdl_npy_read_mem(b, len, "h.npy", &t) == TDL_OK, "%s: %s", ok[i],
                      tdl_errmsg());
        ck_assert_uint_eq(t->ndim, 2);
        ck_assert_uint_eq(t->shape[0], 2);
        ck_assert(t->data[5] == 6.0);
        tdl_tensor_free(&t);
        free(b);
    }
    /* big-endian Fortran-order int16 by hand: [[1, 2, 3], [4, 5, 6]] stored by columns */
    unsigned char be[12] = {0, 1, 0, 4, 0, 2, 0, 5, 0, 3, 0, 6};
    size_t len;
    unsigned char *b = npy_image("{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }", be,
                                 sizeof be, &len);
    tdl_tensor *t = NULL;
    ck_assert_int_eq(tdl_npy_read_mem(b, len, NULL, &t), TDL_OK);
    for (int i = 0; i < 6; i++) ck_assert(t->data[i] == i + 1);
    ck_assert_str_eq(t->name, "npy");
    tdl_tensor_free(&t);
    free(b);
}
END_TEST

static void csv_ok(const char *text, size_t rows, size_t cols, const double *vals)
{
    tdl_tensor *t = NULL;
    int st = tdl_csv_read_mem(text, strlen(text), "c.csv", &t);
    ck_assert_msg(st == TDL_OK, "'%s': %s", text, tdl_errmsg());
    ck_assert_str_eq(t->name, "csv");
    ck_assert_int_eq(t->dtype, TDL_F64);
    ck_assert_uint_eq(t->ndim, 2);
    ck_assert_msg(t->shape[0] == rows && t->shape[1] == cols, "'%s': shape %zu x %zu", text,
                  t->shape[0], t->shape[1]);
    for (size_t i = 0; i < rows * cols; i++)
        ck_assert_msg(same_bits(t->data[i], vals[i]), "'%s': [%zu] %.17g vs %.17g", text, i,
                      t->data[i], vals[i]);
    tdl_tensor_free(&t);
}

START_TEST(test_csv_core)
{
    static const double a[] = {1, 2, 3, 4};
    csv_ok("1,2\n3,4\n", 2, 2, a);
    csv_ok("1,2\r\n3,4", 2, 2, a);
    csv_ok("a,b\n1,2\n\n  \n3,4\n\n", 2, 2, a);
    csv_ok("\xEF\xBB\xBFx,y\r\n 1 ,\t2\r\n+3, 4e0\r\n", 2, 2, a);
    csv_ok("name,,\n1,2\n3,4\n", 2, 2, a);  /* header with an empty cell, other width */
    static const double b[] = {-0.0, 1e-310, 0.1, 1.7976931348623157e308, -2.5e-3, 123456789012345678.0};
    csv_ok("-0, 1e-310, .1\n1.7976931348623157e308,-2.5E-3,123456789012345678\n", 2, 3, b);
    static const double c[] = {7};
    csv_ok("7", 1, 1, c);
}
END_TEST

/* ---- limits ------------------------------------------------------------ */

static unsigned char *st_image(const char *json, size_t datalen, size_t *len)
{
    size_t n = strlen(json);
    unsigned char *b = calloc(8 + n + datalen + 1, 1);
    ck_assert_ptr_nonnull(b);
    put_le(b, n, 8);
    memcpy(b + 8, json, n);
    for (size_t i = 0; i < datalen; i++) b[8 + n + i] = (unsigned char)(i * 37 + 11);
    *len = 8 + n + datalen;
    return b;
}

START_TEST(test_limits_shapes)
{
    size_t len;
    tdl_tensors *s = NULL;
    /* zero-size tensors may have huge other dimensions */
    unsigned char *b = st_image("{\"z\":{\"dtype\":\"F64\",\"shape\":[0,9007199254740992],"
                                "\"data_offsets\":[0,0]},\"s\":{\"dtype\":\"U8\",\"shape\":[],"
                                "\"data_offsets\":[0,1]}}", 1, &len);
    ck_assert_msg(tdl_safetensors_read_mem(b, len, "z", &s) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_uint_eq(s->count, 2);
    ck_assert_str_eq(s->items[0].name, "z");  /* same begin: JSON order */
    ck_assert_uint_eq(s->items[0].numel, 0);
    ck_assert_uint_eq(s->items[1].ndim, 0);
    ck_assert(s->items[1].data[0] == 11.0);
    tdl_tensors_free(&s);
    free(b);

    /* eight dimensions is the maximum */
    b = st_image("{\"x\":{\"dtype\":\"I8\",\"shape\":[1,1,1,1,1,1,1,2],\"data_offsets\":[0,2]}}",
                 2, &len);
    ck_assert_int_eq(tdl_safetensors_read_mem(b, len, "x", &s), TDL_OK);
    ck_assert_uint_eq(s->items[0].ndim, 8);
    ck_assert(s->items[0].data[1] == (double)(signed char)48);
    tdl_tensors_free(&s);
    free(b);

    /* integer extremes convert exactly where doubles can */
    unsigned char raw[16];
    put_le(raw, UINT64_C(0x8000000000000000), 8);   /* I64 min */
    put_le(raw + 8, UINT64_C(0xFFFFFFFFFFFFFFFF), 8); /* -1 */
    size_t l2;
    unsigned char *n = npy_image("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", raw,
                                 16, &l2);
    tdl_tensor *t = NULL;
    ck_assert_int_eq(tdl_npy_read_mem(n, l2, "i.npy", &t), TDL_OK);
    ck_assert(t->data[0] == -9223372036854775808.0 && t->data[1] == -1.0);
    tdl_tensor_free(&t);
    free(n);

    /* a header length right at the 100,000,000-byte limit is not "too big"
     * (the file is just truncated) */
    unsigned char hb[16] = {0};
    put_le(hb, 100000000, 8);
    hb[8] = '{';
    tdl_errclear();
    expect_fail(tdl_safetensors_read_mem(hb, sizeof hb, "h", &s), TDL_EFORMAT, "truncated",
                "limit header");
    put_le(hb, 100000001, 8);
    expect_fail(tdl_safetensors_read_mem(hb, sizeof hb, "h", &s), TDL_ETOOBIG, "100,000,000",
                "over limit header");
}
END_TEST

START_TEST(test_limits_csv)
{
    /* a wide line and a long file */
    size_t cols = 3000, rows = 400;
    char *text = malloc(cols * rows * 4 + 16);
    ck_assert_ptr_nonnull(text);
    size_t p = 0;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            p += (size_t)sprintf(text + p, "%zu", (r + c) % 10);
            text[p++] = c + 1 < cols ? ',' : '\n';
        }
    tdl_tensor *t = NULL;
    ck_assert_int_eq(tdl_csv_read_mem(text, p, "w.csv", &t), TDL_OK);
    ck_assert_uint_eq(t->shape[0], rows);
    ck_assert_uint_eq(t->shape[1], cols);
    ck_assert(t->data[rows * cols - 1] == (double)((rows - 1 + cols - 1) % 10));
    tdl_tensor_free(&t);
    free(text);
}
END_TEST

START_TEST(test_writers_refuse_duplicate_names)
{
    /* tdl_tensors_append does not check names; the writers do, so that no
     * file the readers would refuse is ever made */
    tdl_tensors *s = tdl_tensors_new();
    for (int k = 0; k < 2; k++) {
        tdl_tensor *t = calloc(1, sizeof *t);
        t->name = strdup("w");
        t->dtype = TDL_F64;
        t->numel = 1;
        t->data = calloc(1, sizeof *t->data);
        ck_assert_int_eq(tdl_tensors_append(s, &t), TDL_OK);
    }
    const char *np = tmp_path("dup.npz"), *sp = tmp_path("dup.safetensors");
    ck_assert_int_eq(tdl_npz_write(np, s), TDL_EINVAL);
    ck_assert_msg(strstr(tdl_errmsg(), "two tensors are named 'w'"), "%s", tdl_errmsg());
    ck_assert_int_eq(access(np, F_OK), -1);
    ck_assert_int_eq(tdl_safetensors_write(sp, s), TDL_EINVAL);
    ck_assert_int_eq(access(sp, F_OK), -1);
    tdl_tensor *none = NULL;
    ck_assert_int_eq(tdl_tensors_append(s, &none), TDL_EINVAL);
    tdl_tensors_free(&s);
}
END_TEST

START_TEST(test_limits_npz_zip64_writer)
{
    /* 70,000 members need the ZIP64 end of central directory */
    size_t n = 70000;
    tdl_tensors *s = tdl_tensors_new(), *r = NULL;
    for (size_t i = 0; i < n; i++) {
        tdl_tensor *t = calloc(1, sizeof *t);
        t->name = malloc(32);
        snprintf(t->name, 32, "t%zu", i);
        t->dtype = TDL_F64;
        t->numel = 1;
        t->data = malloc(sizeof *t->data);
        t->data[0] = (double)i;
        ck_assert_int_eq(tdl_tensors_append(s, &t), TDL_OK);
        ck_assert_ptr_null(t);
    }
    const char *path = tmp_path("many.npz");
    ck_assert_int_eq(tdl_npz_write(path, s), TDL_OK);
    ck_assert_msg(tdl_npz_read(path, &r) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_uint_eq(r->count, n);
    for (size_t i = 0; i < n; i += 9999) ck_assert(r->items[i].data[0] == (double)i);
    unsigned char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tdl_read_file(path, 1u << 30, &buf, &len), TDL_OK);
    ck_assert_uint_eq(le32(buf + len - 22 - 20), 0x07064b50u);  /* ZIP64 locator */
    ck_assert_uint_eq(le16(buf + len - 22 + 10), 0xFFFFu);
    free(buf);
    tdl_tensors_free(&r);
    tdl_tensors_free(&s);
    unlink(path);
}
END_TEST

/* ---- errors: safetensors ----------------------------------------------- */

static void st_fail(const char *json, size_t datalen, int status, const char *substr)
{
    size_t len;
    unsigned char *b = st_image(json, datalen, &len);
    tdl_tensors *s = (tdl_tensors *)&len;  /* must be reset to NULL */
    tdl_errclear();
    int st = tdl_safetensors_read_mem(b, len, "m.safetensors", &s);
    expect_fail(st, status, substr, json);
    ck_assert_ptr_null(s);
    ck_assert_msg(strncmp(tdl_errmsg(), "m.safetensors: ", 15) == 0, "no label: %s", tdl_errmsg());
    free(b);
}

#define T1(dt, shape, offs) \
    "{\"t\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" offs "}}"

START_TEST(test_safetensors_errors_header)
{
    tdl_tensors *s = NULL;
    expect_fail(tdl_safetensors_read_mem((const unsigned char *)"", 0, "e.st", &s), TDL_EFORMAT,
                "empty", "empty");
    expect_fail(tdl_safetensors_read_mem((const unsigned char *)"\x02\0\0", 3, "e.st", &s),
                TDL_EFORMAT, "truncated", "3 bytes");
    unsigned char big[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    expect_fail(tdl_safetensors_read_mem(big, sizeof big, "e.st", &s), TDL_ETOOBIG, "limit",
                "huge header length");
    st_fail("", 0, TDL_EFORMAT, "does not start with '{'");
    st_fail("[1, 2]", 0, TDL_EFORMAT, "does not start with '{'");
    st_fail("{\"t\":", 0, TDL_EFORMAT, "not valid JSON");
    st_fail("{\"a\":1,}", 0, TDL_EFORMAT, "not valid JSON");
    st_fail("{}  x", 0, TDL_EFORMAT, "unexpected text after the JSON header");
    st_fail("{} {}", 0, TDL_EFORMAT, "unexpected text");
    st_fail("{\"t\":[1]}", 0, TDL_EFORMAT, "tensor 't': entry is not a JSON object");
    st_fail("{\"t\":{\"shape\":[],\"data_offsets\":[0,4]}}", 4, TDL_EFORMAT, "missing \"dtype\"");
    st_fail("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, TDL_EFORMAT,
            "missing \"shape\"");
    st_fail("{\"t\":{\"dtype\":\"F32\",\"shape\":[]}}", 4, TDL_EFORMAT, "missing \"data_offsets\"");
    /* metadata */
    st_fail("{\"__metadata__\":{\"a\":1}}", 0, TDL_EFORMAT,
            "\"__metadata__\" value of 'a' is not a string");
    st_fail("{\"__metadata__\":{\"a\":\"x\",\"b\":null}}", 0, TDL_EFORMAT, "value of 'b'");
    st_fail("{\"__metadata__\":[\"a\"]}", 0, TDL_EFORMAT, "\"__metadata__\" is not a JSON object");
    st_fail("{\"__metadata__\":{},\"__metadata__\":{}}", 0, TDL_EFORMAT, "appears 2 times");
    st_fail("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, TDL_EFORMAT, "key 'k' appears twice");
    /* duplicate tensors */
    st_fail("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            "\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
            2, TDL_EFORMAT, "tensor 't' appears twice");
}
END_TEST

START_TEST(test_safetensors_errors_entries)
{
    /* dtype */
    st_fail(T1("F128", "[1]", "[0,16]"), 16, TDL_EFORMAT, "tensor 't': unsupported dtype 'F128'");
    st_fail(T1("f32", "[1]", "[0,4]"), 4, TDL_EFORMAT, "unsupported dtype 'f32'");
    st_fail(T1("F8_E5M2", "[1]", "[0,1]"), 1, TDL_EFORMAT, "8-bit floats");
    st_fail("{\"t\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, TDL_EFORMAT,
            "dtype is not a string");
    /* shape */
    st_fail(T1("F32", "[-1]", "[0,4]"), 4, TDL_EFORMAT, "dimension 0 is not a non-negative integer");
    st_fail(T1("F32", "[1.5]", "[0,4]"), 4, TDL_EFORMAT, "not a non-negative integer");
    st_fail(T1("F32", "[1, \"2\"]", "[0,8]"), 8, TDL_EFORMAT, "dimension 1 is not");
    st_fail(T1("F32", "[1e300]", "[0,4]"), 4, TDL_ETOOBIG, "dimension 0 is too large");
    st_fail(T1("F32", "[9007199254740994]", "[0,4]"), 4, TDL_ETOOBIG, "too large");
    st_fail(T1("F32", "4", "[0,16]"), 16, TDL_EFORMAT, "shape is not a list");
    st_fail(T1("F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]"), 4, TDL_ETOOBIG, "9 dimensions");
    st_fail(T1("F32", "[1099511627776, 1099511627776]", "[0,4]"), 4, TDL_ETOOBIG,
            "shape [1099511627776, 1099511627776] F32 overflows");
    st_fail(T1("F64", "[4294967296, 1073741824]", "[0,4]"), 4, TDL_ETOOBIG, "overflows");
    /* data_offsets */
    st_fail(T1("F32", "[1]", "[0]"), 4, TDL_EFORMAT, "data_offsets is not a list of two");
    st_fail(T1("F32", "[1]", "[0,4,8]"), 8, TDL_EFORMAT, "not a list of two integers");
    st_fail(T1("F32", "[1]", "{}"), 4, TDL_EFORMAT, "not a list of two integers");
    st_fail(T1("F32", "[1]", "[0,-4]"), 4, TDL_EFORMAT, "are not non-negative integers");
    st_fail(T1("F32", "[1]", "[0.5,4]"), 4, TDL_EFORMAT, "are not non-negative integers");
    st_fail(T1("F32", "[1]", "[8,4]"), 8, TDL_EFORMAT, "data_offsets [8, 4] run backwards");
    st_fail(T1("F32", "[1]", "[0,4]"), 3, TDL_EFORMAT,
            "data_offsets [0, 4] exceed the 3-byte data buffer");
    st_fail(T1("F32", "[1]", "[0,18446744073709551615]"), 4, TDL_EFORMAT,
            "are not non-negative integers");
    /* the message promised in the module brief */
    st_fail("{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,12]}}", 12,
            TDL_EFORMAT,
            "m.safetensors: tensor '0.weight': data_offsets [0, 12] hold 12 bytes, shape [2, 3] F32 needs 24");
}
END_TEST

START_TEST(test_safetensors_errors_layout)
{
    /* overlap, gap, not covering, offset not from 0 */
    st_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            12, TDL_EFORMAT, "tensor 'b': data_offsets [4, 12] overlap tensor 'a' at [0, 8]");
    st_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
            4, TDL_EFORMAT, "overlap");
    st_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
            12, TDL_EFORMAT, "tensor 'b': gap of 4 bytes before data_offsets [8, 12]");
    st_fail(T1("F32", "[1]", "[4,8]"), 8, TDL_EFORMAT, "gap of 4 bytes");
    st_fail(T1("F32", "[1]", "[0,4]"), 12, TDL_EFORMAT,
            "tensors cover 4 of the 12 bytes of the data buffer (8 bytes not covered)");
    st_fail("{}", 1, TDL_EFORMAT, "cover 0 of the 1 bytes");
}
END_TEST

START_TEST(test_safetensors_errors_fixtures)
{
    tdl_tensors *s = NULL;
    expect_fail(tdl_safetensors_read(FIX "safetensors/bad_f8.safetensors", &s), TDL_EFORMAT,
                "unsupported dtype 'F8_E4M3'", "F8 fixture");
    expect_fail(tdl_safetensors_read(tmp_path("does-not-exist.safetensors"), &s), TDL_EIO,
                "cannot open", "missing file");

    /* every truncation of a valid file fails cleanly, naming the problem */
    size_t len;
    unsigned char *full = slurp("safetensors/dtypes.safetensors", &len);
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *b = dupmem(full, cut);  /* exact size: ASan sees over-reads */
        tdl_errclear();
        int st = tdl_safetensors_read_mem(b, cut, "cut.safetensors", &s);
        ck_assert_msg(st == TDL_EFORMAT, "cut at %zu: status %d: %s", cut, st, tdl_errmsg());
        ck_assert_ptr_null(s);
        const char *m = tdl_errmsg();
        ck_assert_msg(strstr(m, "truncated") || strstr(m, "exceed the") || strstr(m, "empty"),
                      "cut at %zu: %s", cut, m);
        free(b);
    }
    /* and extra bytes */
    unsigned char *b = malloc(len + 3);
    memcpy(b, full, len);
    memset(b + len, 0, 3);
    expect_fail(tdl_safetensors_read_mem(b, len + 3, "long", &s), TDL_EFORMAT, "3 bytes not covered",
                "3 trailing bytes");
    free(b);
    free(full);
}
END_TEST

START_TEST(test_safetensors_errors_writer)
{
    tdl_tensors *s = tdl_tensors_new();
    double v = 1.0;
    size_t one = 1;
    ck_assert_int_eq(tdl_tensors_add(s, "__metadata__", 1, &one, &v), TDL_OK);
    const char *path = tmp_path("bad.safetensors");
    expect_fail(tdl_safetensors_write(path, s), TDL_EINVAL, "cannot be named", "writer name");
    ck_assert_int_ne(access(path, F_OK), 0);  /* nothing left behind */
    tdl_tensors_free(&s);
    s = sample_set(0);
    expect_fail(tdl_safetensors_write(tmp_path("no/such/dir/x.safetensors"), s), TDL_EIO,
                "cannot create", "writer dir");
    s->items[1].numel = 7;  /* inconsistent with its shape */
    expect_fail(tdl_safetensors_write(path, s), TDL_EINVAL, "inconsistent", "writer numel");
    s->items[1].numel = 0;
    ck_assert_int_ne(access(path, F_OK), 0);
    tdl_tensors_free(&s);
}
END_TEST

/* ---- errors: npy ------------------------------------------------------- */

static void npy_fail(const char *dict, size_t dlen, int status, const char *substr)
{
    size_t len;
    unsigned char *zeros = calloc(dlen + 1, 1);
    unsigned char *b = npy_image(dict, zeros, dlen, &len);
    tdl_tensor *t = (tdl_tensor *)&len;
    tdl_errclear();
    expect_fail(tdl_npy_read_mem(b, len, "a.npy", &t), status, substr, dict);
    ck_assert_ptr_null(t);
    ck_assert_msg(strncmp(tdl_errmsg(), "a.npy: ", 7) == 0, "no label: %s", tdl_errmsg());
    free(b);
    free(zeros);
}

#define NPY(descr, fo, shape) \
    "{'descr': '" descr "', 'fortran_order': " fo ", 'shape': " shape ", }"

START_TEST(test_npy_errors_dtype)
{
    npy_fail(NPY("|O", "False", "(2,)"), 16, TDL_EFORMAT, "unsupported dtype '|O'");
    npy_fail(NPY("<c16", "False", "(2,)"), 32, TDL_EFORMAT, "unsupported dtype '<c16'");
    npy_fail(NPY("<U3", "False", "(2,)"), 24, TDL_EFORMAT, "unsupported dtype '<U3'");
    npy_fail(NPY("<f16", "False", "(2,)"), 32, TDL_EFORMAT, "unsupported dtype '<f16'");
    npy_fail(NPY("<M8[ns]", "False", "(1,)"), 8, TDL_EFORMAT, "unsupported dtype");
    npy_fail(NPY("", "False", "(1,)"), 8, TDL_EFORMAT, "unsupported dtype ''");
    npy_fail("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4, TDL_EFORMAT,
             "structured");
    struct { const char *file, *msg; } fx[] = {
        {"npy/bad_object.npy", "unsupported dtype '|O'"},
        {"npy/bad_structured.npy", "structured"},
        {"npy/bad_complex.npy", "unsupported dtype '<c16'"},
        {"npy/bad_unicode.npy", "unsupported dtype '<U2'"},
    };
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        char path[512];
        tdl_tensor *t = NULL;
        snprintf(path, sizeof path, "%s%s", FIX, fx[i].file);
        expect_fail(tdl_npy_read(path, &t), TDL_EFORMAT, fx[i].msg, fx[i].file);
        ck_assert_ptr_null(t);
    }
}
END_TEST

START_TEST(test_npy_errors_header)
{
    npy_fail("", 0, TDL_EFORMAT, "expected '{'");
    npy_fail("['descr']", 0, TDL_EFORMAT, "expected '{'");
    npy_fail("{'descr': '<f8', 'fortran_order': False}", 8, TDL_EFORMAT, "lacks 'shape'");
    npy_fail("{'shape': (1,), 'fortran_order': False}", 8, TDL_EFORMAT, "lacks 'descr'");
    npy_fail("{'descr': '<f8', 'shape': (1,)}", 8, TDL_EFORMAT, "lacks 'fortran_order'");
    npy_fail("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", 8, TDL_EFORMAT,
             "unexpected key 'x'");
    npy_fail("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", 8,
             TDL_EFORMAT, "duplicate key");
    npy_fail(NPY("<f8", "false", "(1,)"), 8, TDL_EFORMAT, "'fortran_order' is not True or False");
    npy_fail(NPY("<f8", "Falsey", "(1,)"), 8, TDL_EFORMAT, "not True or False");
    npy_fail(NPY("<f8", "0", "(1,)"), 8, TDL_EFORMAT, "not True or False");
    npy_fail(NPY("<f8", "False", "(1)"), 8, TDL_EFORMAT, "is not a tuple");
    npy_fail(NPY("<f8", "False", "[1]"), 8, TDL_EFORMAT, "'shape' is not a tuple");
    npy_fail(NPY("<f8", "False", "(-1,)"), 8, TDL_EFORMAT, "negative dimension");
    npy_fail(NPY("<f8", "False", "(1.5,)"), 8, TDL_EFORMAT, "expected ',' or ')'");
    npy_fail(NPY("<f8", "False", "(a,)"), 8, TDL_EFORMAT, "non-negative integer");
    npy_fail(NPY("<f8", "False", "(1,,)"), 8, TDL_EFORMAT, "non-negative integer");
    npy_fail(NPY("<f8", "False", "(1, 2"), 16, TDL_EFORMAT, "expected a non-negative integer");
    npy_fail("{'descr': '<f8', 'fortran_order': False, 'shape': (1 2)}", 16, TDL_EFORMAT,
             "expected ',' or ')'");
    npy_fail("{'descr': '<f8', 'fortran_order': False, 'shape': (1,", 8, TDL_EFORMAT,
             "unterminated shape");
    npy_fail("{'descr' '<f8', 'fortran_order': False, 'shape': (1,)}", 8, TDL_EFORMAT,
             "expected ':'");
    npy_fail("{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", 8, TDL_EFORMAT,
             "unsupported dtype '<f8, '");
    npy_fail("{'descr': '<f8", 8, TDL_EFORMAT, "unterminated string");
    npy_fail("{'descr': '<\\f8', 'fortran_order': False, 'shape': (1,)}", 8, TDL_EFORMAT, "escape");
    npy_fail("{descr: '<f8', 'fortran_order': False, 'shape': (1,)}", 8, TDL_EFORMAT,
             "expected a quoted string");
    npy_fail("{'descr': <f8, 'fortran_order': False, 'shape': (1,)}", 8, TDL_EFORMAT,
             "expected a quoted string");
    npy_fail("{'descr': '<f8' 'fortran_order': False, 'shape': (1,)}", 8, TDL_EFORMAT,
             "expected ',' or '}'");
    npy_fail(NPY("<f8", "False", "(1,)") " x", 8, TDL_EFORMAT, "unexpected text after '}'");
    npy_fail(NPY("<f8", "False", "(1,)") "}", 8, TDL_EFORMAT, "unexpected text");
    /* sizes */
    npy_fail(NPY("<f8", "False", "(4294967296, 4294967296, 4294967296)"), 8, TDL_ETOOBIG,
             "shape product overflows");
    npy_fail(NPY("<f8", "False", "(2305843009213693952,)"), 8, TDL_ETOOBIG, "data size overflows");
    npy_fail(NPY("<f8", "False", "(99999999999999999999999,)"), 8, TDL_ETOOBIG,
             "dimension too large");
    npy_fail(NPY("<f8", "False", "(1,1,1,1,1,1,1,1,1)"), 8, TDL_ETOOBIG, "more than 8 dimensions");
    npy_fail(NPY("<f8", "False", "(2, 3)"), 40, TDL_EFORMAT,
             "a.npy: truncated: needs 48 bytes of data, has 40");
    npy_fail(NPY("<f4", "False", "()"), 6, TDL_EFORMAT, "2 trailing bytes after the 4 bytes of data");
    npy_fail(NPY("<f4", "False", "(0, 5)"), 1, TDL_EFORMAT, "1 trailing bytes");
}
END_TEST

START_TEST(test_npy_errors_preamble)
{
    tdl_tensor *t = NULL;
    expect_fail(tdl_npy_read_mem((const unsigned char *)"", 0, "e.npy", &t), TDL_EFORMAT,
                "empty file", "empty");
    expect_fail(tdl_npy_read_mem((const unsigned char *)"\x93NUMPZ\x01\x00\x10\x00", 10, "e.npy",
                                 &t),
                TDL_EFORMAT, "bad magic", "magic");
    expect_fail(tdl_npy_read_mem((const unsigned char *)"PK\x03\x04", 4, "e.npy", &t), TDL_EFORMAT,
                "bad magic", "zip as npy");
    expect_fail(tdl_npy_read_mem((const unsigned char *)"\x93NUMPY\x04\x00\x00\x00\x00\x00", 12,
                                 "e.npy", &t),
                TDL_EFORMAT, "unsupported .npy version 4.0", "version");
    expect_fail(tdl_npy_read_mem((const unsigned char *)"\x93NUMPY\x01\x01\x00\x00", 10, "e.npy",
                                 &t),
                TDL_EFORMAT, "version 1.1", "minor version");
    expect_fail(tdl_npy_read_mem((const unsigned char *)"\x93NUMPY\x02\x00\x00\x00", 10, "e.npy",
                                 &t),
                TDL_EFORMAT, "truncated", "v2 preamble");
    expect_fail(tdl_npy_read_mem((const unsigned char *)"\x93NUMPY\x02\x00\xff\xff\xff\xff", 12,
                                 "e.npy", &t),
                TDL_EFORMAT, "truncated: header length 4294967295", "v2 header length");
    expect_fail(tdl_npy_read(tmp_path("nope.npy"), &t), TDL_EIO, "cannot open", "missing file");
    ck_assert_ptr_null(t);

    /* every truncation of numpy-written files */
    static const char *const files[] = {"npy/lt_f8.npy", "npy/v2.npy", "npy/v3.npy",
                                        "npy/scalar.npy", "npy/fortran_3d.npy"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        unsigned char *full = slurp(files[f], &len);
        for (size_t cut = 0; cut < len; cut++) {
            unsigned char *b = dupmem(full, cut);
            tdl_errclear();
            int st = tdl_npy_read_mem(b, cut, "cut.npy", &t);
            ck_assert_msg(st == TDL_EFORMAT, "%s cut at %zu: %d %s", files[f], cut, st,
                          tdl_errmsg());
            ck_assert_msg(strstr(tdl_errmsg(), "truncated") || strstr(tdl_errmsg(), "empty"),
                          "%s cut at %zu: %s", files[f], cut, tdl_errmsg());
            ck_assert_ptr_null(t);
            free(b);
        }
        free(full);
    }
}
END_TEST

START_TEST(test_npy_errors_writer)
{
    tdl_tensors *s = sample_set(0);
    tdl_tensor bad = s->items[3];
    bad.numel = 5;
    const char *path = tmp_path("bad.npy");
    expect_fail(tdl_npy_write(path, &bad), TDL_EINVAL, "does not match its shape", "numel");
    bad = s->items[3];
    bad.data = NULL;
    expect_fail(tdl_npy_write(path, &bad), TDL_EINVAL, "has no data", "data");
    bad.ndim = 9;
    expect_fail(tdl_npy_write(path, &bad), TDL_EINVAL, "9 dimensions", "ndim");
    ck_assert_int_ne(access(path, F_OK), 0);
    expect_fail(tdl_npy_write(tmp_path("none/x.npy"), &s->items[0]), TDL_EIO, "cannot create",
                "dir");
    tdl_tensors_free(&s);
}
END_TEST

/* ---- errors: npz ------------------------------------------------------- */

/* A minimal zip builder, independent of tdl_npz_write: stored (0) or
 * deflated (8) members; records where each header lives for patching. */
typedef struct zmember {
    const char *name;
    const unsigned char *data;
    size_t len;
    int method;
} zmember;

typedef struct zipimg {
    unsigned char *buf;
    size_t len, local[8], central[8], eocd, data[8];
} zipimg;

static void zip_build(zipimg *z, const zmember *m, size_t n)
{
    size_t cap = 4096;
    for (size_t i = 0; i < n; i++) cap += 2 * m[i].len + 256;
    z->buf = calloc(cap, 1);
    ck_assert_ptr_nonnull(z->buf);
    unsigned char *comp[8];
    size_t clen[8];
    uint32_t crc[8];
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        crc[i] = (uint32_t)crc32(0L, m[i].data, (uInt)m[i].len);
        if (m[i].method == 8) {
            z_stream zs;
            memset(&zs, 0, sizeof zs);
            ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
            comp[i] = malloc(m[i].len * 2 + 64);
            zs.next_in = (Bytef *)(uintptr_t)m[i].data;
            zs.avail_in = (uInt)m[i].len;
            zs.next_out = comp[i];
            zs.avail_out = (uInt)(m[i].len * 2 + 64);
            ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
            clen[i] = zs.total_out;
            deflateEnd(&zs);
        } else {
            comp[i] = dupmem(m[i].data, m[i].len);
            clen[i] = m[i].len;
        }
        size_t nl = strlen(m[i].name);
        unsigned char *h = z->buf + p;
        z->local[i] = p;
        put_le(h, 0x04034b50, 4);
        put_le(h + 4, 20, 2);
        put_le(h + 8, (uint64_t)m[i].method, 2);
        put_le(h + 12, 0x21, 2);
        put_le(h + 14, crc[i], 4);
        put_le(h + 18, clen[i], 4);
        put_le(h + 22, m[i].len, 4);
        put_le(h + 26, nl, 2);
        memcpy(h + 30, m[i].name, nl);
        p += 30 + nl;
        z->data[i] = p;
        memcpy(z->buf + p, comp[i], clen[i]);
        p += clen[i];
    }
    size_t cd = p;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(m[i].name);
        unsigned char *h = z->buf + p;
        z->central[i] = p;
        put_le(h, 0x02014b50, 4);
        put_le(h + 4, 20, 2);
        put_le(h + 6, 20, 2);
        put_le(h + 10, (uint64_t)m[i].method, 2);
        put_le(h + 14, 0x21, 2);
        put_le(h + 16, crc[i], 4);
        put_le(h + 20, clen[i], 4);
        put_le(h + 24, m[i].len, 4);
        put_le(h + 28, nl, 2);
        put_le(h + 42, z->local[i], 4);
        memcpy(h + 46, m[i].name, nl);
        p += 46 + nl;
        free(comp[i]);
    }
    z->eocd = p;
    put_le(z->buf + p, 0x06054b50, 4);
    put_le(z->buf + p + 8, n, 2);
    put_le(z->buf + p + 10, n, 2);
    put_le(z->buf + p + 12, p - cd, 4);
    put_le(z->buf + p + 16, cd, 4);
    z->len = p + 22;
}

static void npz_fail(const unsigned char *b, size_t len, int status, const char *substr,
                     const char *ctx)
{
    tdl_tensors *s = (tdl_tensors *)&len;
    unsigned char *copy = dupmem(b, len);
    tdl_errclear();
    expect_fail(tdl_npz_read_mem(copy, len, "z.npz", &s), status, substr, ctx);
    ck_assert_ptr_null(s);
    ck_assert_msg(strncmp(tdl_errmsg(), "z.npz: ", 7) == 0, "no label: %s", tdl_errmsg());
    free(copy);
}

/* Two members: a.npy (stored) and b.npy (deflated). */
static void two_members(zipimg *z, unsigned char **npy, size_t *npylen)
{
    double v[16];
    for (int i = 0; i < 16; i++) v[i] = i * 0.5;
    size_t shape[1] = {16};
    tdl_tensor t = {.name = "a", .dtype = TDL_F64, .ndim = 1, .numel = 16, .data = v};
    t.shape[0] = shape[0];
    ck_assert_int_eq(tdl_npy_write_mem(&t, npy, npylen), TDL_OK);
    zmember m[2] = {{"a.npy", *npy, *npylen, 0}, {"b.npy", *npy, *npylen, 8}};
    zip_build(z, m, 2);
}

START_TEST(test_npz_builder_ok)
{
    zipimg z;
    unsigned char *npy;
    size_t nl;
    two_members(&z, &npy, &nl);
    tdl_tensors *s = NULL;
    ck_assert_msg(tdl_npz_read_mem(z.buf, z.len, "z.npz", &s) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_uint_eq(s->count, 2);
    assert_same_tensor(&s->items[0], &s->items[1], "stored vs deflated");
    tdl_tensors_free(&s);
    free(z.buf);
    free(npy);
}
END_TEST

START_TEST(test_npz_errors_structure)
{
    zipimg z;
    unsigned char *npy, *b;
    size_t nl;
    two_members(&z, &npy, &nl);

    npz_fail((const unsigned char *)"", 0, TDL_EFORMAT, "empty file", "empty");
    npz_fail(npy, nl, TDL_EFORMAT, "not a zip", "npy as npz");
    npz_fail((const unsigned char *)"PK\x05\x06", 4, TDL_EFORMAT, "too short", "4 bytes");
    /* truncated: no EOCD, but a local header at the start */
    npz_fail(z.buf, z.len - 1, TDL_EFORMAT, "truncated zip", "cut by one");
    npz_fail(z.buf, z.eocd, TDL_EFORMAT, "truncated zip", "EOCD cut off");

    /* truncated central directory: claimed size runs into the EOCD */
    b = dupmem(z.buf, z.len);
    put_le(b + z.eocd + 12, z.eocd - z.central[0] + 10, 4);
    npz_fail(b, z.len, TDL_EFORMAT, "central directory", "cd size");
    memcpy(b, z.buf, z.len);
    put_le(b + z.eocd + 16, z.len, 4);
    npz_fail(b, z.len, TDL_EFORMAT, "out of range", "cd offset");
    memcpy(b, z.buf, z.len);
    put_le(b + z.eocd + 12, 60, 4);  /* holds 1 entry, EOCD claims 2 */
    npz_fail(b, z.len, TDL_EFORMAT, "2 entries cannot fit", "cd count");
    memcpy(b, z.buf, z.len);
    put_le(b + z.eocd + 12, 100, 4);  /* entry 2 cut */
    put_le(b + z.eocd + 16, z.central[0], 4);
    npz_fail(b, z.len, TDL_EFORMAT, "central directory entry 1 is truncated", "cd entry cut");
    memcpy(b, z.buf, z.len);
    b[z.central[1]] = 'X';
    npz_fail(b, z.len, TDL_EFORMAT, "central directory entry 1 is corrupt", "cd signature");
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[1] + 28, 200, 2);  /* name runs past the directory */
    npz_fail(b, z.len, TDL_EFORMAT, "entry 1 is truncated", "cd name length");
    memcpy(b, z.buf, z.len);
    put_le(b + z.eocd + 4, 1, 2);
    npz_fail(b, z.len, TDL_EFORMAT, "multi-disk", "disk number");
    memcpy(b, z.buf, z.len);
    put_le(b + z.eocd + 10, 0xFFFF, 2);
    npz_fail(b, z.len, TDL_EFORMAT, "ZIP64 end of central directory locator missing", "zip64");

    /* local headers */
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[1] + 42, z.central[0] - 10, 4);
    npz_fail(b, z.len, TDL_EFORMAT, "member 'b.npy': local header offset", "local offset");
    memcpy(b, z.buf, z.len);
    b[z.local[1]] = 'Q';
    npz_fail(b, z.len, TDL_EFORMAT, "member 'b.npy': bad local header signature", "local sig");
    memcpy(b, z.buf, z.len);
    put_le(b + z.local[1] + 28, 0xFFFF, 2);
    npz_fail(b, z.len, TDL_EFORMAT, "runs past the central directory", "local extra");
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[0] + 20, z.central[0], 4);  /* compressed size too big */
    put_le(b + z.central[0] + 24, z.central[0], 4);
    npz_fail(b, z.len, TDL_EFORMAT, "runs past the central directory", "csize");
    memcpy(b, z.buf, z.len);
    put_le(b + z.local[1] + 8, 0, 2);
    npz_fail(b, z.len, TDL_EFORMAT, "disagree on the method", "method mismatch");

    /* ZIP64 extra field announced but missing / malformed */
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[0] + 24, 0xFFFFFFFFu, 4);
    npz_fail(b, z.len, TDL_EFORMAT, "malformed ZIP64 extra field", "zip64 extra");

    free(b);
    free(z.buf);

    /* two directory entries sharing one member's bytes */
    zmember m[2] = {{"a.npy", npy, nl, 0}, {"b.npy", npy, nl, 0}};
    zip_build(&z, m, 2);
    b = dupmem(z.buf, z.len);
    put_le(b + z.central[1] + 42, z.local[0], 4);
    npz_fail(b, z.len, TDL_EFORMAT, "members 'a.npy' and 'b.npy' overlap", "overlap");
    free(b);
    free(z.buf);
    free(npy);
}
END_TEST

START_TEST(test_npz_errors_members)
{
    zipimg z;
    unsigned char *npy, *b;
    size_t nl;
    two_members(&z, &npy, &nl);
    b = dupmem(z.buf, z.len);

    /* bad CRC in the stored and in the deflated member */
    b[z.data[0] + nl - 1] ^= 0x40;
    npz_fail(b, z.len, TDL_EFORMAT, "member 'a.npy': bad CRC-32", "stored crc");
    memcpy(b, z.buf, z.len);
    b[z.central[1] + 16] ^= 1;
    npz_fail(b, z.len, TDL_EFORMAT, "member 'b.npy': bad CRC-32", "deflate crc");
    /* unsupported method, encryption */
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[1] + 10, 12, 2);
    put_le(b + z.local[1] + 8, 12, 2);
    npz_fail(b, z.len, TDL_EFORMAT, "compression method 12", "bzip2");
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[0] + 8, 1, 2);
    npz_fail(b, z.len, TDL_EFORMAT, "member 'a.npy' is encrypted", "encrypted");
    memcpy(b, z.buf, z.len);
    put_le(b + z.local[0] + 6, 1, 2);
    npz_fail(b, z.len, TDL_EFORMAT, "is encrypted", "encrypted local");
    /* stored sizes disagree */
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[0] + 24, nl - 8, 4);
    npz_fail(b, z.len, TDL_EFORMAT, "stored member with compressed size", "stored sizes");
    /* deflate: declared size larger, smaller, impossible; corrupt stream */
    size_t dsz = le32(z.buf + z.central[1] + 20);
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[1] + 24, nl + 8, 4);
    npz_fail(b, z.len, TDL_EFORMAT, "inflates to", "usize larger");
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[1] + 24, nl - 8, 4);
    npz_fail(b, z.len, TDL_EFORMAT, "inflates to more than the declared", "usize smaller");
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[1] + 24, 0x7FFFFFFF, 4);
    npz_fail(b, z.len, TDL_EFORMAT, "impossible for", "zip bomb");
    memcpy(b, z.buf, z.len);
    put_le(b + z.central[1] + 20, dsz - 3, 4);  /* stream cut short */
    npz_fail(b, z.len, TDL_EFORMAT, "deflate stream truncated", "deflate cut");
    memcpy(b, z.buf, z.len);
    b[z.data[1]] = 0xFF;  /* block type 3: invalid */
    npz_fail(b, z.len, TDL_EFORMAT, "corrupt deflate data", "deflate corrupt");
    free(b);
    free(z.buf);

    /* names: not .npy, duplicates after dropping directories, empty, NUL */
    zmember m1[1] = {{"a.txt", npy, nl, 0}};
    zip_build(&z, m1, 1);
    npz_fail(z.buf, z.len, TDL_EFORMAT, "member 'a.txt' is not a .npy file", "name");
    free(z.buf);
    zmember m2[2] = {{"x/a.npy", npy, nl, 0}, {"y/a.npy", npy, nl, 8}};
    zip_build(&z, m2, 2);
    npz_fail(z.buf, z.len, TDL_EFORMAT, "tensor 'a' appears twice", "dup");
    free(z.buf);
    zmember m3[1] = {{"dir/.npy", npy, nl, 0}};
    zip_build(&z, m3, 1);
    npz_fail(z.buf, z.len, TDL_EFORMAT, "empty tensor name", "empty name");
    b = dupmem(z.buf, z.len);
    b[z.central[0] + 46 + 1] = '\0';
    npz_fail(b, z.len, TDL_EFORMAT, "contains a NUL byte", "nul name");
    free(b);
    free(z.buf);

    /* a bad .npy inside: the message names the member */
    size_t ol;
    unsigned char *obj = slurp("npy/bad_object.npy", &ol);
    zmember m4[2] = {{"ok.npy", npy, nl, 0}, {"obj.npy", obj, ol, 8}};
    zip_build(&z, m4, 2);
    npz_fail(z.buf, z.len, TDL_EFORMAT, "z.npz: member 'obj.npy': unsupported dtype '|O'", "object");
    free(z.buf);
    free(obj);
    free(npy);
}
END_TEST

START_TEST(test_npz_errors_truncated)
{
    static const char *const files[] = {"npz/savez.npz", "npz/savez_compressed.npz",
                                        "npz/zip64.npz", "npz/descriptor.npz"};
    tdl_tensors *s = NULL;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        unsigned char *full = slurp(files[f], &len);
        for (size_t cut = 0; cut < len; cut++) {
            unsigned char *b = dupmem(full, cut);
            tdl_errclear();
            int st = tdl_npz_read_mem(b, cut, "cut.npz", &s);
            ck_assert_msg(st == TDL_EFORMAT, "%s cut at %zu: %d %s", files[f], cut, st,
                          tdl_errmsg());
            ck_assert_ptr_null(s);
            ck_assert(strlen(tdl_errmsg()) > 10);
            free(b);
        }
        /* flipping any byte of a member's data is caught (CRC or npy check) */
        free(full);
    }
    size_t len;
    unsigned char *full = slurp("npz/savez.npz", &len);
    npz_fail(full, len - 5, TDL_EFORMAT, "truncated zip", "savez cut");
    free(full);
    expect_fail(tdl_npz_read(tmp_path("nope.npz"), &s), TDL_EIO, "cannot open", "missing file");
}
END_TEST

START_TEST(test_npz_errors_zip64)
{
    size_t len;
    unsigned char *full = slurp("npz/zip64.npz", &len), *b = dupmem(full, len);
    size_t loc = len - 22 - 20, rec = (size_t)le64(full + loc + 8);
    put_le(b + loc + 8, len, 8);
    npz_fail(b, len, TDL_EFORMAT, "ZIP64 end of central directory offset", "zip64 offset");
    memcpy(b, full, len);
    b[rec] = 'X';
    npz_fail(b, len, TDL_EFORMAT, "bad ZIP64 end of central directory signature", "zip64 sig");
    memcpy(b, full, len);
    put_le(b + loc + 16, 2, 4);
    npz_fail(b, len, TDL_EFORMAT, "multi-disk", "zip64 disks");
    memcpy(b, full, len);
    put_le(b + rec + 32, 1000, 8);
    npz_fail(b, len, TDL_EFORMAT, "multi-disk", "zip64 counts differ");
    memcpy(b, full, len);
    put_le(b + rec + 24, 1000, 8);
    put_le(b + rec + 32, 1000, 8);
    npz_fail(b, len, TDL_EFORMAT, "1000 entries cannot fit", "zip64 count");
    free(b);
    free(full);
}
END_TEST

START_TEST(test_npz_errors_writer)
{
    tdl_tensors *s = tdl_tensors_new();
    double v = 1;
    size_t one = 1;
    ck_assert_int_eq(tdl_tensors_add(s, "a/b", 1, &one, &v), TDL_OK);
    const char *path = tmp_path("bad.npz");
    expect_fail(tdl_npz_write(path, s), TDL_EINVAL, "cannot be an npz member", "slash");
    ck_assert_int_ne(access(path, F_OK), 0);
    tdl_tensors_free(&s);
    s = sample_set(0);
    expect_fail(tdl_npz_write(tmp_path("none/x.npz"), s), TDL_EIO, "cannot create", "dir");
    tdl_tensors_free(&s);
}
END_TEST

/* ---- errors: CSV ------------------------------------------------------- */

static void csv_fail(const char *text, int status, const char *substr)
{
    tdl_tensor *t = (tdl_tensor *)&status;
    tdl_errclear();
    expect_fail(tdl_csv_read_mem(text, strlen(text), "x.csv", &t), status, substr, text);
    ck_assert_ptr_null(t);
}

START_TEST(test_csv_errors)
{
    csv_fail("", TDL_EFORMAT, "x.csv: empty file, no data rows");
    csv_fail("\n\n  \r\n", TDL_EFORMAT, "x.csv: no data rows");
    csv_fail("a,b,c\n", TDL_EFORMAT, "x.csv: no data rows");
    csv_fail("a,b,c\n\n", TDL_EFORMAT, "no data rows");
    /* ragged */
    csv_fail("1,2,3\n4,5,6\n7,8\n", TDL_EFORMAT, "x.csv: line 3 has 2 cells, expected 3");
    csv_fail("a,b\n1,2,3,4,5\n\n\n\n\n\n\n1,2,3,4\n", TDL_EFORMAT, "line 9 has 4 cells, expected 5");
    csv_fail("1,2\n3,4,\n", TDL_EFORMAT, "line 2 has 3 cells, expected 2");
    /* not numbers */
    csv_fail("a,b,c\n1,2,3\n1,2,3\n1,2,3\n1,2,3\n1,2,3\n1,2,abc\n", TDL_EFORMAT,
             "x.csv: line 7, column 3: 'abc' is not a number");
    csv_fail("1,2\n3,4x\n", TDL_EFORMAT, "line 2, column 2: '4x' is not a number");
    csv_fail("1,2\n3,0x10\n", TDL_EFORMAT, "'0x10' is not a number");
    csv_fail("1,2\n3,\"4\"\n", TDL_EFORMAT, "'\"4\"' is not a number");
    csv_fail("1,2\n3;4\n", TDL_EFORMAT, "line 2 has 1 cell, expected 2");
    csv_fail("1;2\n3;4\n", TDL_EFORMAT, "line 2, column 1: '3;4' is not a number");
    csv_fail("1,2\n3,4 5\n", TDL_EFORMAT, "'4 5' is not a number");
    csv_fail("1,2\n3,\n", TDL_EFORMAT, "line 2, column 2: empty cell");
    csv_fail("1,2\n , 4\n", TDL_EFORMAT, "line 2, column 1: empty cell");
    /* NaN and infinity, in any spelling, also on the first line */
    csv_fail("1,2\nnan,4\n", TDL_EFORMAT, "line 2, column 1: 'nan' is not a finite number");
    csv_fail("1,2\n3,NaN\n", TDL_EFORMAT, "'NaN' is not a finite number");
    csv_fail("1,2\n3,-Inf\n", TDL_EFORMAT, "'-Inf' is not a finite number");
    csv_fail("1,2\n3,infinity\n", TDL_EFORMAT, "'infinity' is not a finite number");
    csv_fail("1,2\n3,+INFINITY\n", TDL_EFORMAT, "not a finite number");
    csv_fail("1,2\n3,nan(0x1)\n", TDL_EFORMAT, "'nan(0x1)' is not a number");
    csv_fail("NAN,2\n3,4\n", TDL_EFORMAT, "line 1, column 1: 'NAN' is not a finite number");
    csv_fail("1,2\n3,1e999\n", TDL_EFORMAT, "'1e999' is out of range for a double");
    csv_fail("-1e400\n", TDL_EFORMAT, "line 1, column 1: '-1e400' is out of range");
    tdl_tensor *t = NULL;
    /* every truncation: a valid (smaller) matrix, or a ragged / empty row */
    static const char full[] = "x,y,z\r\n1.5,-2.25,3\r\n4,5e1,6\r\n";
    for (size_t cut = 0; cut < sizeof full - 1; cut++) {
        tdl_errclear();
        int st = tdl_csv_read_mem(full, cut, "cut.csv", &t);
        if (st == TDL_OK) {
            size_t r = t->shape[0], c = t->shape[1], n = t->numel;
            tdl_tensor_free(&t);
            ck_assert_uint_eq(n, r * c);
            /* a partial first row alone, or whole rows of 3 */
            ck_assert_msg(cut >= 8 && (r == 1 || c == 3), "cut at %zu: %zu x %zu", cut, r, c);
        } else {
            ck_assert_int_eq(st, TDL_EFORMAT);
            ck_assert_ptr_null(t);
            const char *m = tdl_errmsg();
            ck_assert_msg(strstr(m, "no data rows") || strstr(m, "cells, expected") ||
                              strstr(m, "cell, expected") || strstr(m, "empty cell") ||
                              strstr(m, "is not a number"),
                          "cut at %zu: %s", cut, m);
        }
    }
    /* an embedded NUL is a bad cell, not the end of the file */
    expect_fail(tdl_csv_read_mem("1,2\n3,4\0 5\n", 11, "x.csv", &t), TDL_EFORMAT,
                "line 2, column 2: '4? 5' is not a number", "NUL");
    expect_fail(tdl_csv_read(tmp_path("nope.csv"), &t), TDL_EIO, "cannot open", "missing");
    ck_assert_ptr_null(t);
}
END_TEST

/* ---- runner ------------------------------------------------------------ */

static Suite *formats_suite(int n_fixtures)
{
    Suite *s = suite_create("formats");
    TCase *core = tcase_create("core");
    tcase_add_loop_test(core, test_fixture, 0, n_fixtures);
    tcase_add_test(core, test_safetensors_fixture_details);
    tcase_add_test(core, test_npy_fixture_details);
    tcase_add_test(core, test_npz_fixture_details);
    tcase_add_test(core, test_safetensors_roundtrip);
    tcase_add_test(core, test_npy_roundtrip);
    tcase_add_test(core, test_npz_roundtrip);
    tcase_add_test(core, test_cross_format);
    tcase_add_test(core, test_npy_header_variants);
    tcase_add_test(core, test_csv_core);
    tcase_add_test(core, test_npz_builder_ok);
    tcase_add_test(core, test_writers_refuse_duplicate_names);
    suite_add_tcase(s, core);

    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, test_limits_shapes);
    tcase_add_test(limits, test_limits_csv);
    tcase_add_test(limits, test_limits_npz_zip64_writer);
    suite_add_tcase(s, limits);

    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_safetensors_errors_header);
    tcase_add_test(errors, test_safetensors_errors_entries);
    tcase_add_test(errors, test_safetensors_errors_layout);
    tcase_add_test(errors, test_safetensors_errors_fixtures);
    tcase_add_test(errors, test_safetensors_errors_writer);
    tcase_add_test(errors, test_npy_errors_dtype);
    tcase_add_test(errors, test_npy_errors_header);
    tcase_add_test(errors, test_npy_errors_preamble);
    tcase_add_test(errors, test_npy_errors_writer);
    tcase_add_test(errors, test_npz_errors_structure);
    tcase_add_test(errors, test_npz_errors_members);
    tcase_add_test(errors, test_npz_errors_truncated);
    tcase_add_test(errors, test_npz_errors_zip64);
    tcase_add_test(errors, test_npz_errors_writer);
    tcase_add_test(errors, test_csv_errors);
    suite_add_tcase(s, errors);
    return s;
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

int main(void)
{
    unsigned char *js = NULL;
    size_t len = 0;
    if (tdl_read_file(FIX "expected.json", 1 << 22, &js, &len) != TDL_OK) {
        fprintf(stderr, "check_formats: %s\n", tdl_errmsg());
        return EXIT_FAILURE;
    }
    expected = cJSON_ParseWithLength((const char *)js, len);
    free(js);
    if (!expected || cJSON_GetArraySize(expected) < 10) {
        fprintf(stderr, "check_formats: cannot parse %sexpected.json\n", FIX);
        cJSON_Delete(expected);
        return EXIT_FAILURE;
    }
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/tdl_check_formats.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("check_formats: mkdtemp");
        cJSON_Delete(expected);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(formats_suite(cJSON_GetArraySize(expected)));
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_tmpdir();
    cJSON_Delete(expected);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
