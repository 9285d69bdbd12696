/* check_datasets.c — tdl/datasets.h: the IDX reader (every IDX type, plain
 * and gzip), idx:images=,labels=, torchvision's MNIST / Fashion-MNIST
 * folders, CIFAR-10's binary batches, the official splits, the --data entry
 * point, and every error path.
 *
 * Every file is written here, byte by byte, by an encoder independent of
 * the reader (big-endian integers and IEEE bits assembled by hand; gzip
 * through zlib's gzwrite), so a value read back must equal the value
 * written exactly: the comparisons are ==, not within a tolerance.  u8
 * pixels read as data are v * (1/255) (tdl/datasets.h), computed here the
 * same way. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "tdl/tdl.h"
#include "tdl/datasets.h"

static char tmpdir[256];

static void setup_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tdl-check-datasets-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* path under tmpdir (each call has its own buffer, 8 in rotation) */
static const char *tmp(const char *name)
{
    static char paths[8][512];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void mkdirs(const char *rel)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", tmpdir, rel);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- an independent IDX encoder ------------------------------------------ */

static size_t elem_size(unsigned code)
{
    switch (code) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    default: return 8;
    }
}

static void put_be(unsigned char *p, uint64_t u, size_t n)
{
    for (size_t k = 0; k < n; k++) p[k] = (unsigned char)(u >> (8 * (n - 1 - k)));
}

/* The IDX image of vals (numel = prod(dims)) as type `code`; malloc'd. */
static unsigned char *idx_image(unsigned code, size_t ndim, const size_t *dims, const double *vals, size_t *len)
{
    size_t numel = 1;
    for (size_t k = 0; k < ndim; k++) numel *= dims[k];
    size_t sz = elem_size(code);
    *len = 4 + 4 * ndim + numel * sz;
    unsigned char *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    b[0] = 0;
    b[1] = 0;
    b[2] = (unsigned char)code;
    b[3] = (unsigned char)ndim;
    for (size_t k = 0; k < ndim; k++) put_be(b + 4 + 4 * k, dims[k], 4);
    unsigned char *p = b + 4 + 4 * ndim;
    for (size_t i = 0; i < numel; i++, p += sz) {
        double v = vals[i];
        uint64_t u;
        switch (code) {
        case 0x08: u = (uint8_t)v; break;
        case 0x09: u = (uint8_t)(int8_t)v; break;
        case 0x0B: u = (uint16_t)(int16_t)v; break;
        case 0x0C: u = (uint32_t)(int32_t)v; break;
        case 0x0D: {
            float f = (float)v;
            uint32_t w;
            memcpy(&w, &f, 4);
            u = w;
            break;
        }
        default: memcpy(&u, &v, 8); break;
        }
        put_be(p, u, sz);
    }
    return b;
}

static void write_bytes(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
}

/* gzip through zlib's gzwrite; append != 0 adds a second member ("ab"). */
static void write_gz(const char *path, const void *buf, size_t len, int append)
{
    gzFile g = gzopen(path, append ? "ab" : "wb");
    ck_assert_ptr_nonnull(g);
    if (len) ck_assert_int_eq(gzwrite(g, buf, (unsigned)len), (int)len);
    ck_assert_int_eq(gzclose(g), Z_OK);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

/* deterministic bytes (a 32-bit LCG) */
static unsigned lcg_state = 12345u;
static unsigned next_byte(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (lcg_state >> 24) & 0xFF;
}

/* Write an IDX file of u8 images (n x h x w) with values from the LCG, and
 * return them (malloc'd, n*h*w doubles). */
static double *write_images(const char *path, size_t n, size_t h, size_t w, int gz)
{
    size_t dims[3] = {n, h, w}, len;
    double *v = malloc(n * h * w * sizeof *v);
    for (size_t i = 0; i < n * h * w; i++) v[i] = next_byte();
    unsigned char *b = idx_image(0x08, 3, dims, v, &len);
    if (gz) write_gz(path, b, len, 0);
    else write_bytes(path, b, len);
    free(b);
    return v;
}

static double *write_labels(const char *path, size_t n, unsigned classes, int gz)
{
    size_t dims[1] = {n}, len;
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = next_byte() % classes;
    unsigned char *b = idx_image(0x08, 1, dims, v, &len);
    if (gz) write_gz(path, b, len, 0);
    else write_bytes(path, b, len);
    free(b);
    return v;
}

/* The message is one line and contains frag. */
static void expect_msg(const char *frag)
{
    const char *m = tdl_errmsg();
    ck_assert_msg(strstr(m, frag) != NULL, "message '%s' lacks '%s'", m, frag);
    ck_assert_msg(strchr(m, '\n') == NULL, "message '%s' is not one line", m);
}

static void expect_read_fails(const char *path, int status, const char *frag)
{
    tdl_tensor *t = (tdl_tensor *)1;
    ck_assert_int_eq(tdl_idx_read(path, &t), status);
    ck_assert_ptr_null(t);
    expect_msg(frag);
    expect_msg(path);
}

/* ---- core: the reader ------------------------------------------------------ */

static const unsigned codes[6] = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E};
static const tdl_dtype dtypes[6] = {TDL_U8, TDL_I8, TDL_I16, TDL_I32, TDL_F32, TDL_F64};

/* 30 values of type code, covering its extremes and signs. */
static void sample_values(unsigned code, double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double r = (double)next_byte();
        switch (code) {
        case 0x08: v[i] = i == 0 ? 0 : i == 1 ? 255 : r; break;
        case 0x09: v[i] = i == 0 ? -128 : i == 1 ? 127 : r - 128; break;
        case 0x0B: v[i] = i == 0 ? -32768 : i == 1 ? 32767 : (r - 128) * 251; break;
        case 0x0C: v[i] = i == 0 ? -2147483648.0 : i == 1 ? 2147483647.0 : (r - 128) * 16777215.0; break;
        case 0x0D: v[i] = (double)(float)(i == 0 ? -3.4e38 : i == 1 ? 1e-45 : (r - 128) / 7.0); break;
        default: v[i] = i == 0 ? -1.7e308 : i == 1 ? 4.9e-324 : (r - 128) / 3.0; break;
        }
    }
}

START_TEST(test_idx_every_type)
{
    const size_t dims[3] = {3, 2, 5}, n = 30;
    for (int t = 0; t < 6; t++) {
        double v[30];
        size_t len;
        sample_values(codes[t], v, n);
        unsigned char *img = idx_image(codes[t], 3, dims, v, &len);
        char name[64];
        snprintf(name, sizeof name, "a%d.idx", t);
        const char *plain = tmp(name);
        write_bytes(plain, img, len);
        snprintf(name, sizeof name, "a%d.idx.gz", t);
        const char *gz = tmp(name);
        write_gz(gz, img, len, 0);
        /* plain file, gzip file (by its magic, whatever the name: also as
         * "z%d" without .gz), memory image, gzip memory image */
        snprintf(name, sizeof name, "z%d", t);
        const char *noname = tmp(name);
        size_t gzlen;
        unsigned char *gzimg = slurp(gz, &gzlen);
        write_bytes(noname, gzimg, gzlen);
        for (int way = 0; way < 5; way++) {
            tdl_tensor *x = NULL;
            int st = way == 0 ? tdl_idx_read(plain, &x)
                   : way == 1 ? tdl_idx_read(gz, &x)
                   : way == 2 ? tdl_idx_read(noname, &x)
                   : way == 3 ? tdl_idx_read_mem(img, len, "mem", &x)
                              : tdl_idx_read_mem(gzimg, gzlen, "gzmem", &x);
            ck_assert_msg(st == TDL_OK, "type 0x%02x way %d: %s", codes[t], way, tdl_errmsg());
            ck_assert_int_eq(x->dtype, dtypes[t]);
            ck_assert_uint_eq(x->ndim, 3);
            for (int k = 0; k < 3; k++) ck_assert_uint_eq(x->shape[k], dims[k]);
            ck_assert_uint_eq(x->numel, n);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(x->data[i] == v[i], "type 0x%02x way %d value %zu: %.17g != %.17g", codes[t], way, i,
                              x->data[i], v[i]);
            tdl_tensor_free(&x);
        }
        free(img);
        free(gzimg);
    }
}
END_TEST

START_TEST(test_idx_gzip_members_and_edges)
{
    /* two gzip members (RFC 1952 2.2): one stream; the split falls inside a
     * value's bytes */
    const size_t dims[2] = {4, 3};
    double v[12];
    size_t len;
    sample_values(0x0C, v, 12);
    unsigned char *img = idx_image(0x0C, 2, dims, v, &len);
    const char *p = tmp("two.gz");
    write_gz(p, img, 11, 0);
    write_gz(p, img + 11, len - 11, 1);
    tdl_tensor *x = NULL;
    ck_assert_int_eq(tdl_idx_read(p, &x), TDL_OK);
    for (size_t i = 0; i < 12; i++) ck_assert(x->data[i] == v[i]);
    tdl_tensor_free(&x);
    free(img);
    /* a dimension of 0: no values; a 1-D file */
    size_t d0[2] = {0, 7};
    img = idx_image(0x08, 2, d0, v, &len);
    ck_assert_int_eq(tdl_idx_read_mem(img, len, "empty", &x), TDL_OK);
    ck_assert_uint_eq(x->numel, 0);
    tdl_tensor_free(&x);
    free(img);
}
END_TEST

/* ---- core: data sets ------------------------------------------------------ */

START_TEST(test_idx_dataset)
{
    lcg_state = 7;
    double *px = write_images(tmp("im.idx"), 7, 4, 3, 0);
    double *py = write_labels(tmp("lb.idx.gz"), 7, 3, 1);
    py[0] = 2;  /* three classes for sure */
    size_t dims1[1] = {7}, len;
    unsigned char *b = idx_image(0x08, 1, dims1, py, &len);
    write_gz(tmp("lb.idx.gz"), b, len, 0);
    free(b);
    tdl_dataset *ds = NULL;
    ck_assert_msg(tdl_idx_dataset_load(tmp("im.idx"), tmp("lb.idx.gz"), NULL, &ds) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_uint_eq(ds->n, 7);
    ck_assert_uint_eq(ds->d, 12);
    size_t top = 0;
    for (size_t i = 0; i < 7; i++) top = (size_t)py[i] > top ? (size_t)py[i] : top;
    ck_assert_uint_eq(ds->classes, top + 1);
    for (size_t i = 0; i < 7; i++) {
        ck_assert_uint_eq(ds->labels[i], (size_t)py[i]);
        for (size_t j = 0; j < 12; j++) ck_assert(gsl_matrix_get(ds->X, i, j) == px[i * 12 + j] * (1.0 / 255.0));
    }
    ck_assert_ptr_nonnull(strstr(ds->description, "u8 inputs / 255"));
    tdl_dataset_free(&ds);

    /* f32 images are read as they are; i8 labels -1/+1 -> classes 0/1 */
    const size_t dims[2] = {4, 2};
    double xf[8] = {-1.5, 2.25, 1e6, -0.125, 3, 4, 5, 6}, yl[4] = {-1, 1, 1, -1};
    b = idx_image(0x0D, 2, dims, xf, &len);
    write_bytes(tmp("f.idx"), b, len);
    free(b);
    b = idx_image(0x09, 1, dims, yl, &len);
    write_bytes(tmp("pm.idx"), b, len);
    free(b);
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("f.idx"), tmp("pm.idx"), "auto", &ds), TDL_OK);
    ck_assert_uint_eq(ds->classes, 2);
    ck_assert_int_eq(ds->labels_pm1, 1);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_uint_eq(ds->labels[i], yl[i] > 0 ? 1u : 0u);
        for (size_t j = 0; j < 2; j++) ck_assert(gsl_matrix_get(ds->X, i, j) == xf[i * 2 + j]);
    }
    tdl_dataset_free(&ds);
    /* f64 targets that are not integers: regression under task=auto; 2-D
     * targets under task=regress */
    double yt[8] = {0.5, -1.25, 3, 2, 1e-3, 7, 8, 9};
    b = idx_image(0x0E, 1, dims, yt, &len);
    write_bytes(tmp("t1.idx"), b, len);
    free(b);
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("f.idx"), tmp("t1.idx"), NULL, &ds), TDL_OK);
    ck_assert_uint_eq(ds->classes, 0);
    for (size_t i = 0; i < 4; i++) ck_assert(gsl_matrix_get(ds->Y, i, 0) == yt[i]);
    tdl_dataset_free(&ds);
    b = idx_image(0x0E, 2, dims, yt, &len);
    write_bytes(tmp("t2.idx"), b, len);
    free(b);
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("f.idx"), tmp("t2.idx"), "regress", &ds), TDL_OK);
    ck_assert_uint_eq(ds->Y->size2, 2);
    for (size_t i = 0; i < 8; i++) ck_assert(gsl_matrix_get(ds->Y, i / 2, i % 2) == yt[i]);
    tdl_dataset_free(&ds);
    free(px);
    free(py);
}
END_TEST

/* An MNIST-like folder: train 6 images, test 3, of 4 x 4 pixels. */
typedef struct fake_mnist {
    double *trx, *try_, *tex, *tey;
} fake_mnist;

static void make_mnist(const char *rel, int gz_images, fake_mnist *m)
{
    char d[600], p[700];
    mkdirs(rel);
    snprintf(d, sizeof d, "%s/%s", tmpdir, rel);
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte%s", d, gz_images ? ".gz" : "");
    m->trx = write_images(p, 6, 4, 4, gz_images);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", d);
    m->try_ = write_labels(p, 6, 10, 0);
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte%s", d, gz_images ? ".gz" : "");
    m->tex = write_images(p, 3, 4, 4, gz_images);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", d);
    m->tey = write_labels(p, 3, 10, 1);
}

static void free_mnist(fake_mnist *m)
{
    free(m->trx);
    free(m->try_);
    free(m->tex);
    free(m->tey);
}

/* ds rows [0, n) equal the images x and labels y of a part (u8 / 255) */
static void expect_rows(const tdl_dataset *ds, size_t row0, const double *x, const double *y, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(ds->labels[row0 + i], (size_t)y[i]);
        for (size_t j = 0; j < d; j++)
            ck_assert_msg(gsl_matrix_get(ds->X, row0 + i, j) == x[i * d + j] * (1.0 / 255.0), "row %zu col %zu",
                          row0 + i, j);
    }
}

START_TEST(test_mnist_layouts)
{
    const char *rels[3] = {"t/MNIST/raw", "r/raw", "d"};
    const char *roots[3] = {"t", "r", "d"};
    for (int k = 0; k < 3; k++) {
        fake_mnist m;
        make_mnist(rels[k], k == 0, &m);
        tdl_dataset *ds = NULL;
        const tdl_data_split splits[3] = {TDL_SPLIT_TRAIN, TDL_SPLIT_TEST, TDL_SPLIT_ALL};
        for (int s = 0; s < 3; s++) {
            ck_assert_msg(tdl_mnist_load(tmp(roots[k]), 0, splits[s], &ds) == TDL_OK, "%s", tdl_errmsg());
            ck_assert_uint_eq(ds->n, s == 0 ? 6 : s == 1 ? 3 : 9);
            ck_assert_uint_eq(ds->d, 16);
            ck_assert_uint_eq(ds->classes, 10);
            if (s != 1) expect_rows(ds, 0, m.trx, m.try_, 6, 16);
            if (s != 0) expect_rows(ds, s == 2 ? 6 : 0, m.tex, m.tey, 3, 16);
            ck_assert_ptr_nonnull(strstr(ds->description, rels[k]));
            tdl_dataset_free(&ds);
        }
        free_mnist(&m);
    }
    /* fashion-mnist: torchvision's FashionMNIST/raw */
    fake_mnist m;
    make_mnist("f/FashionMNIST/raw", 0, &m);
    tdl_dataset *ds = NULL;
    ck_assert_int_eq(tdl_mnist_load(tmp("f"), 1, TDL_SPLIT_TEST, &ds), TDL_OK);
    expect_rows(ds, 0, m.tex, m.tey, 3, 16);
    tdl_dataset_free(&ds);
    free_mnist(&m);
}
END_TEST

/* CIFAR-10 batches with `per` records each (test batch: per + 1). */
static unsigned char *make_cifar(const char *rel, size_t per)
{
    char d[600], p[700];
    const char *files[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                            "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    mkdirs(rel);
    snprintf(d, sizeof d, "%s/%s", tmpdir, rel);
    size_t total = 6 * per + 1;
    unsigned char *all = malloc(total * 3073);
    unsigned char *q = all;
    for (int f = 0; f < 6; f++) {
        size_t n = f == 5 ? per + 1 : per;
        for (size_t i = 0; i < n * 3073; i++) q[i] = (unsigned char)next_byte();
        for (size_t i = 0; i < n; i++) q[i * 3073] %= 10;
        snprintf(p, sizeof p, "%s/%s", d, files[f]);
        write_bytes(p, q, n * 3073);
        q += n * 3073;
    }
    return all;
}

START_TEST(test_cifar10)
{
    const char *rels[2] = {"c/cifar-10-batches-bin", "c2"};
    const char *roots[2] = {"c", "c2"};
    for (int k = 0; k < 2; k++) {
        unsigned char *all = make_cifar(rels[k], 2);
        const tdl_data_split splits[3] = {TDL_SPLIT_TRAIN, TDL_SPLIT_TEST, TDL_SPLIT_ALL};
        for (int s = 0; s < 3; s++) {
            tdl_dataset *ds = NULL;
            ck_assert_msg(tdl_cifar10_load(tmp(roots[k]), splits[s], &ds) == TDL_OK, "%s", tdl_errmsg());
            size_t first = s == 1 ? 10 : 0, n = s == 0 ? 10 : s == 1 ? 3 : 13;
            ck_assert_uint_eq(ds->n, n);
            ck_assert_uint_eq(ds->d, 3072);
            ck_assert_uint_eq(ds->classes, 10);
            for (size_t i = 0; i < n; i++) {
                const unsigned char *rec = all + (first + i) * 3073;
                ck_assert_uint_eq(ds->labels[i], rec[0]);
                /* feature c*1024 + r*32 + col: plane c (R, G, B), row r */
                for (size_t j = 0; j < 3072; j++)
                    ck_assert(gsl_matrix_get(ds->X, i, j) == rec[1 + j] * (1.0 / 255.0));
            }
            tdl_dataset_free(&ds);
        }
        free(all);
    }
}
END_TEST

/* The --data entry point: keys consumed, the official split and
 * normalize=standard applied (and left as split=all, normalize=none). */
START_TEST(test_external_spec)
{
    fake_mnist m;
    make_mnist("s/MNIST/raw", 1, &m);
    char text[700], desc[1024];
    tdl_spec s;
    tdl_dataset *ds = NULL;

    ck_assert_int_eq(tdl_data_spec_parse("mnist:n=5", &s), TDL_OK);
    ck_assert_int_eq(tdl_dataset_is_external(&s), 0);  /* the shipped subset */
    tdl_data_spec_free(&s);
    ck_assert_int_eq(tdl_data_spec_parse("iris", &s), TDL_OK);
    ck_assert_int_eq(tdl_dataset_is_external(&s), 0);
    tdl_data_spec_free(&s);
    ck_assert_int_eq(tdl_data_spec_parse("cifar10", &s), TDL_OK);
    ck_assert_int_eq(tdl_dataset_is_external(&s), 1);
    ck_assert_int_eq(tdl_dataset_load_external(&s, &ds, desc, sizeof desc), TDL_EINVAL);
    expect_msg("cifar10 needs root=DIR");
    tdl_data_spec_free(&s);

    snprintf(text, sizeof text, "mnist:root=%s,split=test", tmp("s"));
    ck_assert_int_eq(tdl_data_spec_parse(text, &s), TDL_OK);
    ck_assert_int_eq(tdl_dataset_is_external(&s), 1);
    ck_assert_msg(tdl_dataset_load_external(&s, &ds, desc, sizeof desc) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_uint_eq(ds->n, 3);
    expect_rows(ds, 0, m.tex, m.tey, 3, 16);
    ck_assert_str_eq(tdl_spec_string(&s, "split"), "all");
    ck_assert_ptr_nonnull(strstr(desc, "official test split: 3 examples"));
    ck_assert_ptr_null(ds->spec);
    ck_assert_int_eq(s.kv[0].used, 1);  /* root= consumed */
    tdl_dataset_free(&ds);
    tdl_data_spec_free(&s);

    /* normalize=standard: the training files' statistics, the same transform
     * for split=test (training files read again) as for split=all (rows in
     * memory): the test rows agree bit for bit */
    tdl_dataset *all = NULL, *te = NULL;
    snprintf(text, sizeof text, "mnist:root=%s,normalize=standard", tmp("s"));
    ck_assert_int_eq(tdl_data_spec_parse(text, &s), TDL_OK);
    ck_assert_int_eq(tdl_dataset_load_external(&s, &all, desc, sizeof desc), TDL_OK);
    ck_assert_str_eq(tdl_spec_string(&s, "normalize"), "none");
    tdl_data_spec_free(&s);
    snprintf(text, sizeof text, "mnist:root=%s,split=test,normalize=standard", tmp("s"));
    ck_assert_int_eq(tdl_data_spec_parse(text, &s), TDL_OK);
    ck_assert_int_eq(tdl_dataset_load_external(&s, &te, desc, sizeof desc), TDL_OK);
    tdl_data_spec_free(&s);
    ck_assert_uint_eq(all->n, 9);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 16; j++) ck_assert(gsl_matrix_get(te->X, i, j) == gsl_matrix_get(all->X, 6 + i, j));
    /* and they are (x - mean) / sd of the 6 training images (two-pass here) */
    for (size_t j = 0; j < 16; j++) {
        double mean = 0, ss = 0;
        for (size_t i = 0; i < 6; i++) mean += m.trx[i * 16 + j] / 255.0;
        mean /= 6;
        for (size_t i = 0; i < 6; i++) ss += pow(m.trx[i * 16 + j] / 255.0 - mean, 2);
        double sd = sqrt(ss / 6);
        for (size_t i = 0; i < 3; i++) {
            double want = sd > 0 ? (m.tex[i * 16 + j] / 255.0 - mean) / sd : m.tex[i * 16 + j] / 255.0 - mean;
            /* x and mean (values in [0, 1]) each within a few ulps of 1 of
             * the loader's (x * (1/255) there, x / 255 here), divided by sd */
            double tol = 32 * DBL_EPSILON * (1 + fabs(want)) / (sd > 0 && sd < 1 ? sd : 1);
            ck_assert_msg(fabs(gsl_matrix_get(te->X, i, j) - want) <= tol,
                          "test row %zu feature %zu: %.17g vs %.17g", i, j, gsl_matrix_get(te->X, i, j), want);
        }
    }
    tdl_dataset_free(&all);
    tdl_dataset_free(&te);

    /* idx: images= and labels= consumed */
    double *px = write_images(tmp("i.idx"), 5, 2, 2, 1), *py = write_labels(tmp("l.idx"), 5, 4, 0);
    snprintf(text, sizeof text, "idx:images=%s,labels=%s", tmp("i.idx"), tmp("l.idx"));
    ck_assert_int_eq(tdl_data_spec_parse(text, &s), TDL_OK);
    ck_assert_int_eq(tdl_dataset_is_external(&s), 1);
    ck_assert_msg(tdl_dataset_load_external(&s, &ds, desc, sizeof desc) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_int_eq(s.kv[0].used && s.kv[1].used, 1);
    ck_assert_ptr_nonnull(strstr(desc, "gzip"));
    for (size_t i = 0; i < 5; i++) {
        ck_assert_uint_eq(ds->labels[i], (size_t)py[i]);
        for (size_t j = 0; j < 4; j++) ck_assert(gsl_matrix_get(ds->X, i, j) == px[i * 4 + j] * (1.0 / 255.0));
    }
    tdl_dataset_free(&ds);
    tdl_data_spec_free(&s);
    free(px);
    free(py);
    free_mnist(&m);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

START_TEST(test_idx_errors)
{
    unsigned char b[64];
    /* empty, short header, bad magic, unknown type, too many dimensions */
    write_bytes(tmp("e0"), b, 0);
    expect_read_fails(tmp("e0"), TDL_EFORMAT, "empty file");
    memcpy(b, "\0\0\x08", 3);
    write_bytes(tmp("e1"), b, 3);
    expect_read_fails(tmp("e1"), TDL_EFORMAT, "truncated IDX header");
    memcpy(b, "\x01\x00\x08\x01\0\0\0\x01\x07", 9);
    write_bytes(tmp("e2"), b, 9);
    expect_read_fails(tmp("e2"), TDL_EFORMAT, "not an IDX file (it starts 01 00 08 01");
    memcpy(b, "\0\0\x0a\x01\0\0\0\x01\x07", 9);
    write_bytes(tmp("e3"), b, 9);
    expect_read_fails(tmp("e3"), TDL_EFORMAT, "unknown IDX data type 0x0a");
    memcpy(b, "\0\0\x08\x09", 4);
    memset(b + 4, 0, 36);
    write_bytes(tmp("e4"), b, 40);
    expect_read_fails(tmp("e4"), TDL_ETOOBIG, "9 dimensions");
    /* dimensions ending early */
    memcpy(b, "\0\0\x08\x03\0\0\0\x02\0\0", 10);
    write_bytes(tmp("e5"), b, 10);
    expect_read_fails(tmp("e5"), TDL_EFORMAT, "truncated IDX header");
    /* dimensions whose product overflows: 3 x (2^32 - 1) */
    memcpy(b, "\0\0\x0e\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16);
    write_bytes(tmp("e6"), b, 16);
    expect_read_fails(tmp("e6"), TDL_ETOOBIG, "overflows");
    /* huge dims that fit size_t but not the file: refused before allocating */
    memcpy(b, "\0\0\x0e\x02\x00\x10\x00\x00\x00\x10\x00\x00\x01\x02", 14);
    write_bytes(tmp("e7"), b, 14);
    expect_read_fails(tmp("e7"), TDL_EFORMAT, "truncated: the header declares 1099511627776 values");
    write_gz(tmp("e7.gz"), b, 14, 0);
    expect_read_fails(tmp("e7.gz"), TDL_EFORMAT, "more than a");
    /* truncated data, trailing bytes */
    const size_t dims[1] = {10};
    double v[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    size_t len;
    unsigned char *img = idx_image(0x0B, 1, dims, v, &len);
    write_bytes(tmp("e8"), img, len - 3);
    expect_read_fails(tmp("e8"), TDL_EFORMAT, "truncated: the header declares 10 values (20 bytes) but 17 bytes");
    unsigned char *longer = malloc(len + 2);
    memcpy(longer, img, len);
    longer[len] = longer[len + 1] = 0;
    write_bytes(tmp("e9"), longer, len + 2);
    expect_read_fails(tmp("e9"), TDL_EFORMAT, "2 bytes after the 10 values");
    /* the same in gzip: the stream's end tells (the file size cannot) */
    write_gz(tmp("e8.gz"), img, len - 3, 0);
    expect_read_fails(tmp("e8.gz"), TDL_EFORMAT, "truncated: the data end after 8 of the 10 values");
    write_gz(tmp("e9.gz"), longer, len + 2, 0);
    expect_read_fails(tmp("e9.gz"), TDL_EFORMAT, "data after the 10 values");
    /* a gzip file cut short, and one with a flipped byte (CRC) */
    write_gz(tmp("ok.gz"), img, len, 0);
    size_t gzlen;
    unsigned char *gz = slurp(tmp("ok.gz"), &gzlen);
    write_bytes(tmp("e10.gz"), gz, gzlen - 6);
    expect_read_fails(tmp("e10.gz"), TDL_EFORMAT, "gzip");
    gz[gzlen - 5] ^= 0x40;  /* inside the CRC-32 trailer */
    write_bytes(tmp("e11.gz"), gz, gzlen);
    expect_read_fails(tmp("e11.gz"), TDL_EFORMAT, "corrupt gzip data");
    /* a file as large as its header says (sparse: no disk used) whose
     * values do not fit in memory as doubles: the memory guard refuses it
     * before allocating (60000 x 1000000 u8 = 6e10 bytes; 4.8e11 as doubles) */
    memcpy(b, "\0\0\x08\x02\x00\x00\xea\x60\x00\x0f\x42\x40", 12);
    write_bytes(tmp("sparse"), b, 12);
    ck_assert_int_eq(truncate(tmp("sparse"), 12 + 60000LL * 1000000LL), 0);
    if (tdl_memory_available() < (size_t)4.8e11) {
        expect_read_fails(tmp("sparse"), TDL_ETOOBIG, "sparse: the IDX array needs 480 GB (60000000000 values as doubles) but");
        double y6[1] = {0};
        size_t d6[1] = {60000};
        double *yy = calloc(60000, sizeof *yy);
        unsigned char *lb = idx_image(0x08, 1, d6, yy, &len);
        write_bytes(tmp("sparse-labels"), lb, len);
        tdl_dataset *ds = (tdl_dataset *)1;
        ck_assert_int_eq(tdl_idx_dataset_load(tmp("sparse"), tmp("sparse-labels"), NULL, &ds), TDL_ETOOBIG);
        ck_assert_ptr_null(ds);
        expect_msg("sparse: the data set needs 480 GB (60000 x 1000000 values as doubles) but");
        (void)y6;
        free(yy);
        free(lb);
    }
    ck_assert_int_eq(unlink(tmp("sparse")), 0);
    /* not a file */
    expect_read_fails(tmp("missing"), TDL_EIO, "cannot open");
    expect_read_fails(tmpdir, TDL_EIO, "not a regular file");
    free(gz);
    free(img);
    free(longer);
}
END_TEST

START_TEST(test_dataset_errors)
{
    tdl_dataset *ds = (tdl_dataset *)1;
    lcg_state = 99;
    free(write_images(tmp("im5"), 5, 2, 2, 0));
    free(write_labels(tmp("lb4"), 4, 10, 0));
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("im5"), tmp("lb4"), NULL, &ds), TDL_ESHAPE);
    ck_assert_ptr_null(ds);
    expect_msg("has 5 images but");
    expect_msg("has 4 labels");
    /* 2-D labels under classify; negative and non-integer labels */
    size_t d2[2] = {5, 2}, d1[1] = {5}, len;
    double y[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    unsigned char *b = idx_image(0x08, 2, d2, y, &len);
    write_bytes(tmp("lb2d"), b, len);
    free(b);
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("im5"), tmp("lb2d"), "classify", &ds), TDL_ESHAPE);
    expect_msg("class labels must be 1-D");
    double yn[5] = {0, 1, -3, 1, 0};
    b = idx_image(0x09, 1, d1, yn, &len);
    write_bytes(tmp("lbneg"), b, len);
    free(b);
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("im5"), tmp("lbneg"), NULL, &ds), TDL_EINVAL);
    expect_msg("label -3 of example 2 is negative");
    double yf[5] = {0, 1, 0.5, 1, 0};
    b = idx_image(0x0D, 1, d1, yf, &len);
    write_bytes(tmp("lbf"), b, len);
    free(b);
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("im5"), tmp("lbf"), "classify", &ds), TDL_EINVAL);
    expect_msg("label 0.5 of example 2 is not an integer");
    double yb[5] = {0, 1, 5000000, 1, 0};
    b = idx_image(0x0C, 1, d1, yb, &len);
    write_bytes(tmp("lbbig"), b, len);
    free(b);
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("im5"), tmp("lbbig"), NULL, &ds), TDL_EINVAL);
    expect_msg("label 5e+06 of example 2 is out of range");
    /* a NaN among f32 pixels */
    double xn[20];
    for (int i = 0; i < 20; i++) xn[i] = i;
    xn[13] = NAN;
    size_t d3[3] = {5, 2, 2};
    b = idx_image(0x0D, 3, d3, xn, &len);
    write_bytes(tmp("imnan"), b, len);
    free(b);
    free(write_labels(tmp("lb5"), 5, 10, 0));
    ck_assert_int_eq(tdl_idx_dataset_load(tmp("imnan"), tmp("lb5"), NULL, &ds), TDL_ENONFINITE);
    expect_msg("image 3, value 1 is nan");

    /* MNIST folders: nothing there, part of the files, a label 10, train
     * and test images of different sizes */
    mkdirs("none");
    ck_assert_int_eq(tdl_mnist_load(tmp("none"), 0, TDL_SPLIT_TRAIN, &ds), TDL_EIO);
    expect_msg("no train-images-idx3-ubyte[.gz] found in");
    expect_msg("MNIST/raw");
    mkdirs("part/MNIST/raw");
    free(write_images(tmp("part/MNIST/raw/train-images-idx3-ubyte"), 5, 2, 2, 0));
    ck_assert_int_eq(tdl_mnist_load(tmp("part"), 0, TDL_SPLIT_TRAIN, &ds), TDL_EIO);
    expect_msg("has some of the files but not train-labels-idx1-ubyte[.gz]");
    fake_mnist m;
    make_mnist("bad/MNIST/raw", 0, &m);
    double y10[6] = {0, 1, 2, 10, 4, 5};
    b = idx_image(0x08, 1, (size_t[]){6}, y10, &len);
    write_bytes(tmp("bad/MNIST/raw/train-labels-idx1-ubyte"), b, len);
    free(b);
    ck_assert_int_eq(tdl_mnist_load(tmp("bad"), 0, TDL_SPLIT_TRAIN, &ds), TDL_EFORMAT);
    expect_msg("train-labels-idx1-ubyte: label 10 of example 3 is not a class 0..9");
    free_mnist(&m);
    make_mnist("mix/MNIST/raw", 0, &m);
    free(write_images(tmp("mix/MNIST/raw/t10k-images-idx3-ubyte"), 3, 5, 5, 0));
    ck_assert_int_eq(tdl_mnist_load(tmp("mix"), 0, TDL_SPLIT_ALL, &ds), TDL_ESHAPE);
    expect_msg("has 25 values per image but");
    free_mnist(&m);

    /* CIFAR: a label byte 10, a file that is not whole records, a missing batch */
    unsigned char *all = make_cifar("cb/cifar-10-batches-bin", 1);
    all[0] = 10;
    write_bytes(tmp("cb/cifar-10-batches-bin/data_batch_1.bin"), all, 3073);
    ck_assert_int_eq(tdl_cifar10_load(tmp("cb"), TDL_SPLIT_TRAIN, &ds), TDL_EFORMAT);
    expect_msg("data_batch_1.bin: record 0 has label byte 10 (CIFAR-10 labels are 0..9)");
    write_bytes(tmp("cb/cifar-10-batches-bin/data_batch_1.bin"), all + 3073, 3000);
    ck_assert_int_eq(tdl_cifar10_load(tmp("cb"), TDL_SPLIT_TRAIN, &ds), TDL_EFORMAT);
    expect_msg("3000 bytes is not a whole number of 3073-byte records");
    ck_assert_int_eq(unlink(tmp("cb/cifar-10-batches-bin/data_batch_4.bin")), 0);
    ck_assert_int_eq(tdl_cifar10_load(tmp("cb"), TDL_SPLIT_TEST, &ds), TDL_EIO);
    expect_msg("has some of the files but not data_batch_4.bin");
    ck_assert_ptr_null(ds);
    free(all);
}
END_TEST

START_TEST(test_spec_errors)
{
    const char *bad[][2] = {
        {"idx:images=a", "idx needs images=PATH and labels=PATH"},
        {"cifar10:split=train", "cifar10 needs root=DIR"},
        {"mnist:root=/nonexistent,test=0.3", "test= does not apply to mnist:root="},
        {"mnist:root=/nonexistent,split=val", "split=val (expected train, test or all)"},
        {"fashion-mnist:root=/nonexistent,task=regress", "holds class labels"},
        {"mnist:root=/nonexistent", "no train-images-idx3-ubyte[.gz] found in /nonexistent/MNIST/raw"},
        {"cifar10:root=/nonexistent", "no data_batch_1.bin found in /nonexistent/cifar-10-batches-bin"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tdl_spec s;
        tdl_dataset *ds = (tdl_dataset *)1;
        char desc[256];
        ck_assert_int_eq(tdl_data_spec_parse(bad[i][0], &s), TDL_OK);
        ck_assert_int_eq(tdl_dataset_is_external(&s), 1);
        ck_assert_int_ne(tdl_dataset_load_external(&s, &ds, desc, sizeof desc), TDL_OK);
        ck_assert_ptr_null(ds);
        expect_msg(bad[i][1]);
        tdl_data_spec_free(&s);
    }
    ck_assert_str_eq(tdl_name_of(tdl_data_split_names, TDL_SPLIT_TEST), "test");
}
END_TEST

static Suite *datasets_suite(void)
{
    Suite *s = suite_create("datasets");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup_tmp, teardown_tmp);
    tcase_add_test(core, test_idx_every_type);
    tcase_add_test(core, test_idx_gzip_members_and_edges);
    tcase_add_test(core, test_idx_dataset);
    tcase_add_test(core, test_mnist_layouts);
    tcase_add_test(core, test_cifar10);
    tcase_add_test(core, test_external_spec);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup_tmp, teardown_tmp);
    tcase_add_test(errors, test_idx_errors);
    tcase_add_test(errors, test_dataset_errors);
    tcase_add_test(errors, test_spec_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(datasets_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
