/* check_data.c — the data module: shipped sets, the spec grammar, modifiers,
 * synthetic generators, and every error path of dataset loading. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_blas.h>
#include "tdl/tdl.h"

static char tmpdir[256];

static void setup_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tdl-check-data-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static tdl_dataset *load_ok(const char *spec)
{
    tdl_dataset *ds = NULL;
    int st = tdl_dataset_load(spec, &ds);
    ck_assert_msg(st == TDL_OK, "loading '%s' failed: %s", spec, tdl_errmsg());
    ck_assert_ptr_nonnull(ds);
    return ds;
}

static void load_fails(const char *spec, int expected, const char *fragment)
{
    tdl_dataset *ds = NULL;
    tdl_errclear();
    int st = tdl_dataset_load(spec, &ds);
    ck_assert_msg(st == expected, "'%s': status %d (%s), expected %d", spec, st, tdl_errmsg(), expected);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(tdl_errmsg(), fragment) != NULL, "'%s': message '%s' lacks '%s'", spec, tdl_errmsg(), fragment);
}

/* ---- core ---- */

START_TEST(test_shipped_counts)
{
    static const struct { const char *name; size_t n, d, classes; } sets[] = {
        {"iris", 150, 4, 3}, {"wine", 178, 13, 3}, {"breast-cancer", 569, 30, 2},
        {"digits", 1797, 64, 10}, {"mnist", 10000, 784, 10}, {"fashion-mnist", 10000, 784, 10},
    };
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        tdl_dataset *ds = load_ok(sets[k].name);
        ck_assert_uint_eq(ds->n, sets[k].n);
        ck_assert_uint_eq(ds->d, sets[k].d);
        ck_assert_uint_eq(ds->classes, sets[k].classes);
        tdl_dataset_free(&ds);
        ck_assert_ptr_null(ds);
    }
}
END_TEST

START_TEST(test_mnist_class_counts_and_scale)
{
    static const size_t expected[10] = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
    tdl_dataset *ds = load_ok("mnist");
    size_t *counts;
    ck_assert_int_eq(tdl_dataset_class_counts(ds, &counts), TDL_OK);
    for (int c = 0; c < 10; c++) ck_assert_uint_eq(counts[c], expected[c]);
    free(counts);
    double lo = 1, hi = 0;
    for (size_t i = 0; i < ds->n * ds->d; i++) {
        double v = ds->X->data[i];
        lo = fmin(lo, v);
        hi = fmax(hi, v);
        /* bytes / 255 exactly */
        ck_assert_double_eq_tol(v * 255.0, round(v * 255.0), 1e-9);
    }
    ck_assert_double_eq(lo, 0.0);
    ck_assert_double_eq(hi, 1.0);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_split_stratified_partition)
{
    tdl_dataset *all = load_ok("iris");
    tdl_dataset *tr = load_ok("iris:split=train");
    tdl_dataset *te = load_ok("iris:split=test");
    ck_assert_uint_eq(tr->n, 120);
    ck_assert_uint_eq(te->n, 30);
    size_t *ct;
    ck_assert_int_eq(tdl_dataset_class_counts(te, &ct), TDL_OK);
    for (int c = 0; c < 3; c++) ck_assert_uint_eq(ct[c], 10); /* stratified: round(0.2 * 50) */
    free(ct);
    /* train and test partition the set: every row of `all` appears exactly once */
    size_t found = 0;
    for (size_t i = 0; i < all->n; i++) {
        int hits = 0;
        for (int part = 0; part < 2; part++) {
            tdl_dataset *p = part ? te : tr;
            for (size_t j = 0; j < p->n; j++)
                if (memcmp(gsl_matrix_const_ptr(all->X, i, 0), gsl_matrix_const_ptr(p->X, j, 0), 4 * sizeof(double)) == 0 &&
                    all->labels[i] == p->labels[j])
                    hits++;
        }
        ck_assert_int_ge(hits, 1);
        found += (size_t)hits;
    }
    /* iris has one duplicated row (two identical examples): allow for it */
    ck_assert_uint_le(found, all->n + 2);
    tdl_dataset_free(&all);
    tdl_dataset_free(&tr);
    tdl_dataset_free(&te);
}
END_TEST

START_TEST(test_split_seed_changes_and_determinism)
{
    tdl_dataset *a = load_ok("digits:split=test,seed=1");
    tdl_dataset *b = load_ok("digits:split=test,seed=1");
    tdl_dataset *c = load_ok("digits:split=test,seed=2");
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_int_eq(memcmp(a->X->data, b->X->data, a->n * a->d * sizeof(double)), 0);
    ck_assert_int_ne(memcmp(a->X->data, c->X->data, a->n * a->d * sizeof(double)), 0);
    tdl_dataset *t = load_ok("digits:split=test,test=0.5");
    ck_assert_uint_ge(t->n, 890);
    ck_assert_uint_le(t->n, 905);
    tdl_dataset_free(&a);
    tdl_dataset_free(&b);
    tdl_dataset_free(&c);
    tdl_dataset_free(&t);
}
END_TEST

START_TEST(test_modifiers)
{
    tdl_dataset *ds = load_ok("mnist:binary=5,n=1000");
    ck_assert_uint_eq(ds->n, 1000);
    ck_assert_uint_eq(ds->classes, 2);
    size_t *ct;
    ck_assert_int_eq(tdl_dataset_class_counts(ds, &ct), TDL_OK);
    /* digits 0-4 are 5131 of 10000: a random 1000 holds 513 +- 5 sigma (sigma ~ 16) */
    ck_assert_uint_gt(ct[0], 430);
    ck_assert_uint_lt(ct[0], 600);
    free(ct);
    tdl_dataset_free(&ds);

    /* unit normalization */
    ds = load_ok("wine:normalize=unit");
    for (size_t i = 0; i < ds->n; i++) {
        double s = 0;
        for (size_t j = 0; j < ds->d; j++) s += gsl_matrix_get(ds->X, i, j) * gsl_matrix_get(ds->X, i, j);
        ck_assert_double_eq_tol(s, 1.0, 1e-13);
    }
    tdl_dataset_free(&ds);

    /* standard normalization: the training part has mean 0 and std 1 per feature */
    ds = load_ok("wine:split=train,normalize=standard");
    for (size_t j = 0; j < ds->d; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < ds->n; i++) m += gsl_matrix_get(ds->X, i, j);
        m /= (double)ds->n;
        for (size_t i = 0; i < ds->n; i++) v += pow(gsl_matrix_get(ds->X, i, j) - m, 2);
        ck_assert_double_eq_tol(m, 0.0, 1e-12);
        ck_assert_double_eq_tol(v / (double)ds->n, 1.0, 1e-12);
    }
    tdl_dataset_free(&ds);
    /* ... and the test part is transformed with the same statistics: not exactly mean 0 */
    ds = load_ok("wine:split=test,normalize=standard");
    double m0 = 0;
    for (size_t i = 0; i < ds->n; i++) m0 += gsl_matrix_get(ds->X, i, 0);
    ck_assert(fabs(m0 / (double)ds->n) > 1e-6);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_random_labels)
{
    tdl_dataset *clean = load_ok("digits");
    tdl_dataset *noisy = load_ok("digits:random-labels=0.5,seed=3");
    size_t changed = 0;
    for (size_t i = 0; i < clean->n; i++) changed += clean->labels[i] != noisy->labels[i];
    /* 899 replaced, each changes with probability 0.9: expect 809 +- 9 */
    ck_assert_uint_gt(changed, 760);
    ck_assert_uint_lt(changed, 860);
    tdl_dataset *full = load_ok("digits:random-labels=1");
    changed = 0;
    for (size_t i = 0; i < clean->n; i++) changed += clean->labels[i] != full->labels[i];
    ck_assert_uint_gt(changed, 1550); /* 1797 * 0.9 = 1617 */
    tdl_dataset_free(&clean);
    tdl_dataset_free(&noisy);
    tdl_dataset_free(&full);
}
END_TEST

START_TEST(test_synthetic)
{
    tdl_dataset *g = load_ok("gauss:n=3000,d=3,classes=3,sep=4,seed=5");
    ck_assert_uint_eq(g->n, 3000);
    ck_assert_uint_eq(g->d, 3);
    /* class c has mean (sep / sqrt 2) e_c: check the class means to 5 sigma (sigma = 1/sqrt(1000)) */
    for (size_t c = 0; c < 3; c++)
        for (size_t j = 0; j < 3; j++) {
            double s = 0;
            size_t m = 0;
            for (size_t i = 0; i < g->n; i++)
                if (g->labels[i] == c) {
                    s += gsl_matrix_get(g->X, i, j);
                    m++;
                }
            ck_assert_uint_eq(m, 1000);
            ck_assert_double_eq_tol(s / (double)m, c == j ? 4.0 / M_SQRT2 : 0.0, 5.0 / sqrt(1000.0));
        }
    tdl_dataset *g2 = load_ok("gauss:n=3000,d=3,classes=3,sep=4,seed=5");
    ck_assert_int_eq(memcmp(g->X->data, g2->X->data, 9000 * sizeof(double)), 0);
    tdl_dataset_free(&g);
    tdl_dataset_free(&g2);

    tdl_dataset *s = load_ok("sphere:n=100,d=7,k=3,act=identity");
    ck_assert_uint_eq(s->classes, 0);
    ck_assert_uint_eq(s->Y->size2, 1);
    for (size_t i = 0; i < s->n; i++) {
        gsl_vector_view r = gsl_matrix_row(s->X, i);
        ck_assert_double_eq_tol(gsl_blas_dnrm2(&r.vector), 1.0, 1e-14);
        /* identity teacher with 3 orthonormal w_j: |y| = |sum_j w_j . x| <= sqrt(3) */
        ck_assert(fabs(gsl_matrix_get(s->Y, i, 0)) <= sqrt(3.0) + 1e-12);
    }
    tdl_dataset_free(&s);

    tdl_dataset *x = load_ok("xor:n=500,d=4");
    for (size_t i = 0; i < x->n; i++) {
        double p = gsl_matrix_get(x->X, i, 0) * gsl_matrix_get(x->X, i, 1);
        ck_assert_uint_eq(x->labels[i], p < 0 ? 1u : 0u);
        for (size_t j = 0; j < 4; j++) ck_assert(fabs(gsl_matrix_get(x->X, i, j)) <= 1.0);
    }
    tdl_dataset_free(&x);

    tdl_dataset *sp = load_ok("spirals:n=400,noise=0");
    for (size_t i = 0; i < sp->n; i++) {
        double r = hypot(gsl_matrix_get(sp->X, i, 0), gsl_matrix_get(sp->X, i, 1));
        ck_assert(r <= 1.0 + 1e-12);
    }
    tdl_dataset_free(&sp);

    tdl_dataset *t = load_ok("teacher:n=50,d=5,k=2,split=train");
    ck_assert_uint_eq(t->n, 40);
    tdl_dataset_free(&t);
}
END_TEST

START_TEST(test_csv_and_npy_sources)
{
    const char *p = write_tmp("a.csv", "f1,f2,label\n0.5,1,0\n1.5,2,2\n2.5,3,1\n");
    char spec[1200];
    snprintf(spec, sizeof spec, "%s", p);
    tdl_dataset *ds = load_ok(spec);
    ck_assert_uint_eq(ds->n, 3);
    ck_assert_uint_eq(ds->d, 2);
    ck_assert_uint_eq(ds->classes, 3);
    ck_assert_uint_eq(ds->labels[1], 2);
    ck_assert_double_eq(gsl_matrix_get(ds->X, 2, 0), 2.5);
    tdl_dataset_free(&ds);
    /* label=0: first column is the label */
    snprintf(spec, sizeof spec, "%s:label=1", p);
    ds = load_ok(spec);
    ck_assert_uint_eq(ds->labels[2], 3);
    ck_assert_double_eq(gsl_matrix_get(ds->X, 2, 1), 1.0);
    tdl_dataset_free(&ds);
    /* non-integer targets: regression */
    p = write_tmp("r.csv", "1,2,0.25\n3,4,0.5\n");
    snprintf(spec, sizeof spec, "%s", p);
    ds = load_ok(spec);
    ck_assert_uint_eq(ds->classes, 0);
    ck_assert_double_eq(gsl_matrix_get(ds->Y, 1, 0), 0.5);
    tdl_dataset_free(&ds);
    /* npy pair written by tdl itself */
    tdl_tensor X = {0}, y = {0};
    double xv[6] = {1, 2, 3, 4, 5, 6}, yv[3] = {1, 0, 1};
    X.name = "X"; X.dtype = TDL_F64; X.ndim = 2; X.shape[0] = 3; X.shape[1] = 2; X.numel = 6; X.data = xv;
    y.name = "y"; y.dtype = TDL_F64; y.ndim = 1; y.shape[0] = 3; y.numel = 3; y.data = yv;
    char xp[512], yp[512];
    snprintf(xp, sizeof xp, "%s/X.npy", tmpdir);
    snprintf(yp, sizeof yp, "%s/y.npy", tmpdir);
    ck_assert_int_eq(tdl_npy_write(xp, &X), TDL_OK);
    ck_assert_int_eq(tdl_npy_write(yp, &y), TDL_OK);
    snprintf(spec, sizeof spec, "npy:X=%s,y=%s", xp, yp);
    ds = load_ok(spec);
    ck_assert_uint_eq(ds->n, 3);
    ck_assert_uint_eq(ds->classes, 2);
    ck_assert_double_eq(gsl_matrix_get(ds->X, 1, 1), 4.0);
    tdl_dataset_free(&ds);
}
END_TEST


/* +-1 labels (tdl/data.h): one column of -1 / +1 is two classes, -1 -> 0
 * and +1 -> 1, under task=auto and task=classify, and the targets -1 / +1
 * under task=regress; any other negative label stays refused. */
START_TEST(test_pm1_labels)
{
    char spec[1200];
    const char *p = write_tmp("pm.csv", "x1,x2,y\n1,2,1\n3,4,-1\n5,6,1\n7,8,-1\n9,0,-1\n");
    const char *task[2] = {"", ":task=classify"};
    for (int t = 0; t < 2; t++) {
        snprintf(spec, sizeof spec, "%s%s", p, task[t]);
        tdl_dataset *ds = load_ok(spec);
        ck_assert_uint_eq(ds->classes, 2);
        ck_assert_int_eq(ds->labels_pm1, 1);
        const size_t want[5] = {1, 0, 1, 0, 0};
        for (size_t i = 0; i < 5; i++) ck_assert_uint_eq(ds->labels[i], want[i]);
        ck_assert_ptr_nonnull(strstr(ds->description, "labels -1/+1 read as classes 0/1"));
        tdl_dataset_free(&ds);
    }
    snprintf(spec, sizeof spec, "%s:task=regress", p);
    tdl_dataset *ds = load_ok(spec);
    ck_assert_uint_eq(ds->classes, 0);
    ck_assert_int_eq(ds->labels_pm1, 0);
    ck_assert_double_eq(gsl_matrix_get(ds->Y, 1, 0), -1.0);
    ck_assert_double_eq(gsl_matrix_get(ds->Y, 0, 0), 1.0);
    tdl_dataset_free(&ds);
    /* only -1 present: still the two classes of the +-1 convention */
    snprintf(spec, sizeof spec, "%s", write_tmp("m1.csv", "1,2,-1\n3,4,-1\n"));
    ds = load_ok(spec);
    ck_assert_uint_eq(ds->classes, 2);
    ck_assert_int_eq(ds->labels_pm1, 1);
    ck_assert_uint_eq(ds->labels[0], 0);
    tdl_dataset_free(&ds);
    /* only +1: ordinary labels (class 1 of 2), not flagged */
    snprintf(spec, sizeof spec, "%s", write_tmp("p1.csv", "1,2,1\n3,4,1\n"));
    ds = load_ok(spec);
    ck_assert_uint_eq(ds->classes, 2);
    ck_assert_int_eq(ds->labels_pm1, 0);
    tdl_dataset_free(&ds);
    /* an npz with y = +-1, and binary= / split= applied after the mapping */
    tdl_tensors *set = tdl_tensors_new();
    double xv[8] = {1, 2, 3, 4, 5, 6, 7, 8}, yv[4] = {-1, 1, 1, -1};
    size_t xs[2] = {4, 2}, ys[1] = {4};
    ck_assert_int_eq(tdl_tensors_add(set, "X", 2, xs, xv), TDL_OK);
    ck_assert_int_eq(tdl_tensors_add(set, "y", 1, ys, yv), TDL_OK);
    snprintf(spec, sizeof spec, "%s/pm.npz", tmpdir);
    ck_assert_int_eq(tdl_npz_write(spec, set), TDL_OK);
    tdl_tensors_free(&set);
    ds = load_ok(spec);
    ck_assert_uint_eq(ds->classes, 2);
    ck_assert_int_eq(ds->labels_pm1, 1);
    ck_assert_uint_eq(ds->labels[0], 0);
    ck_assert_uint_eq(ds->labels[1], 1);
    tdl_dataset_free(&ds);
    /* other negatives: refused as before */
    snprintf(spec, sizeof spec, "%s", write_tmp("m2.csv", "1,2,-2\n3,4,1\n"));
    load_fails(spec, TDL_EINVAL, "label -2 of example 0 is negative");
    snprintf(spec, sizeof spec, "%s", write_tmp("m3.csv", "1,2,-1\n3,4,1\n5,6,0\n"));
    load_fails(spec, TDL_EINVAL, "label -1 of example 0 is negative");
}
END_TEST

/* path.csv:targets=K reads the last K columns as n x K regression targets. */
START_TEST(test_csv_targets)
{
    char spec[1200];
    const char *p = write_tmp("mt.csv", "a,b,y1,y2\n1,2,3,4\n5,6,7,8\n9,10,11,12\n");
    snprintf(spec, sizeof spec, "%s:targets=2", p);
    tdl_dataset *ds = load_ok(spec);
    ck_assert_uint_eq(ds->classes, 0);
    ck_assert_uint_eq(ds->d, 2);
    ck_assert_uint_eq(ds->Y->size2, 2);
    ck_assert_ptr_null(ds->warning);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_double_eq(gsl_matrix_get(ds->X, i, 1), 4.0 * (double)i + 2);
        ck_assert_double_eq(gsl_matrix_get(ds->Y, i, 0), 4.0 * (double)i + 3);
        ck_assert_double_eq(gsl_matrix_get(ds->Y, i, 1), 4.0 * (double)i + 4);
    }
    tdl_dataset_free(&ds);
    /* integers too are targets under targets=K (one column included) */
    snprintf(spec, sizeof spec, "%s:targets=1", p);
    ds = load_ok(spec);
    ck_assert_uint_eq(ds->classes, 0);
    ck_assert_uint_eq(ds->d, 3);
    ck_assert_uint_eq(ds->Y->size2, 1);
    tdl_dataset_free(&ds);
    snprintf(spec, sizeof spec, "%s:targets=2,label=0", p);
    load_fails(spec, TDL_EINVAL, "label= (one label column) and targets= (the last K columns as targets) exclude each other");
    snprintf(spec, sizeof spec, "%s:targets=4", p);
    load_fails(spec, TDL_EINVAL, "targets=4 is not an integer in [1, 3]");
    snprintf(spec, sizeof spec, "%s:targets=0", p);
    load_fails(spec, TDL_EINVAL, "targets=0");
    snprintf(spec, sizeof spec, "%s:targets=2,task=classify", p);
    load_fails(spec, TDL_EINVAL, "task=classify needs one label column");
}
END_TEST

/* The multi-target warning: set for a header with two or more trailing
 * target names, not for ordinary feature + label files. */
START_TEST(test_csv_multitarget_warning)
{
    char spec[1200];
    tdl_dataset *ds;
    snprintf(spec, sizeof spec, "%s", write_tmp("w.csv", "a,b, Y1 ,y2\n1,2,3.5,4.5\n5,6,7.5,8.5\n"));
    ds = load_ok(spec);
    ck_assert_ptr_nonnull(ds->warning);
    ck_assert_msg(strstr(ds->warning, "2 target-like columns at the end (Y1, y2)") &&
                      strstr(ds->warning, "add :targets=2"), "%s", ds->warning);
    tdl_dataset_free(&ds);
    snprintf(spec, sizeof spec, "%s", write_tmp("w3.csv", "x,target_a,target_b,target_c\n1,2,3,4\n"));
    ds = load_ok(spec);
    ck_assert_ptr_nonnull(ds->warning);
    ck_assert_ptr_nonnull(strstr(ds->warning, "add :targets=3"));
    tdl_dataset_free(&ds);
    /* label= given: the user chose; no warning */
    snprintf(spec, sizeof spec, "%s:label=3", write_tmp("w4.csv", "a,b,y1,y2\n1,2,3,1\n"));
    ds = load_ok(spec);
    ck_assert_ptr_null(ds->warning);
    tdl_dataset_free(&ds);
    /* ordinary files: no warning */
    const char *plain[] = {
        "x1,x2,y\n1,2,0\n3,4,1\n",            /* one target */
        "x1,x2,label\n1,2,0\n3,4,1\n",
        "y1,y2,label\n1,2,0\n3,4,1\n",        /* features named y, label last */
        "1,2,0.5\n3,4,1.5\n",                 /* no header */
        "sepal,petal,class\n1,2,0\n3,4,1\n",
        "x,y\n1,0.5\n2,0.25\n",               /* one feature, one target */
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        snprintf(spec, sizeof spec, "%s", write_tmp("plain.csv", plain[i]));
        ds = load_ok(spec);
        ck_assert_msg(ds->warning == NULL, "file %zu: %s", i, ds->warning ? ds->warning : "");
        tdl_dataset_free(&ds);
    }
    /* shipped and synthetic sets never warn */
    const char *sets[] = {"iris", "wine", "breast-cancer", "digits", "teacher:n=20,d=3"};
    for (size_t i = 0; i < 5; i++) {
        ds = load_ok(sets[i]);
        ck_assert_ptr_null(ds->warning);
        tdl_dataset_free(&ds);
    }
}
END_TEST

/* Two data sets hold the same numbers, bit for bit. */
static void assert_same_data(const tdl_dataset *a, const tdl_dataset *b)
{
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_uint_eq(a->d, b->d);
    ck_assert_uint_eq(a->classes, b->classes);
    for (size_t i = 0; i < a->n; i++) {
        ck_assert_mem_eq(gsl_matrix_const_ptr(a->X, i, 0), gsl_matrix_const_ptr(b->X, i, 0), a->d * sizeof(double));
        if (a->classes) ck_assert_uint_eq(a->labels[i], b->labels[i]);
        else {
            ck_assert_uint_eq(a->Y->size2, b->Y->size2);
            ck_assert_mem_eq(gsl_matrix_const_ptr(a->Y, i, 0), gsl_matrix_const_ptr(b->Y, i, 0), a->Y->size2 * sizeof(double));
        }
    }
}

/* tdl_dataset_save writes what --data FILE.npz reads back unchanged: after
 * modifiers, with a class missing from a subset, with regression targets
 * that are integers (or +-1), with several targets. */
START_TEST(test_dataset_save_roundtrip)
{
    char path[600], spec[1200];
    snprintf(path, sizeof path, "%s/saved.npz", tmpdir);
    const char *pm = write_tmp("pm.csv", "1,2,1\n3,4,-1\n5,6,1\n7,8,-1\n");
    const char *mt = write_tmp("mt.csv", "1,2,3,4\n5,6,7,8\n9,10,11,12\n");
    char pm_reg[700], pm_cls[700], mt_k[700];
    snprintf(pm_reg, sizeof pm_reg, "%s:task=regress", pm);
    snprintf(pm_cls, sizeof pm_cls, "%s", pm);
    snprintf(mt_k, sizeof mt_k, "%s:targets=2,normalize=unit", mt);
    const char *specs[] = {
        "iris:n=20,split=train,normalize=standard",
        "iris:n=3,seed=4",          /* 3 examples: some class may be absent */
        "digits:binary=5,random-labels=0.3,n=50",
        "teacher:n=12,d=3,k=2",
        "sphere:n=10,d=4",
        pm_reg, pm_cls, mt_k,
    };
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        tdl_dataset *a = load_ok(specs[k]);
        ck_assert_msg(tdl_dataset_save(a, path) == TDL_OK, "%s: %s", specs[k], tdl_errmsg());
        tdl_dataset *b = load_ok(path);
        assert_same_data(a, b);
        tdl_dataset_free(&a);
        tdl_dataset_free(&b);
    }
    /* the subset of iris that misses a class keeps the 3 classes */
    tdl_dataset *a = load_ok("iris:n=2,seed=1");
    size_t *counts = NULL;
    ck_assert_int_eq(tdl_dataset_class_counts(a, &counts), TDL_OK);
    int missing = counts[0] == 0 || counts[1] == 0 || counts[2] == 0;
    free(counts);
    ck_assert_msg(missing, "two examples cannot cover three classes");
    ck_assert_int_eq(tdl_dataset_save(a, path), TDL_OK);
    tdl_dataset *b = load_ok(path);
    ck_assert_uint_eq(b->classes, 3);
    tdl_dataset_free(&b);
    /* the file's arrays: X n x d, y (n,), tdl_classes 0-d */
    tdl_tensors *set = NULL;
    ck_assert_int_eq(tdl_npz_read(path, &set), TDL_OK);
    ck_assert_uint_eq(tdl_tensors_find(set, "X")->ndim, 2);
    ck_assert_uint_eq(tdl_tensors_find(set, "y")->ndim, 1);
    ck_assert_uint_eq(tdl_tensors_find(set, "tdl_classes")->ndim, 0);
    ck_assert_double_eq(tdl_tensors_find(set, "tdl_classes")->data[0], 3.0);
    tdl_tensors_free(&set);
    /* a label at or above tdl_classes, and a bad tdl_classes, are refused */
    snprintf(spec, sizeof spec, "%s/bad.npz", tmpdir);
    set = tdl_tensors_new();
    double xv[4] = {1, 2, 3, 4}, yv[2] = {0, 3}, c = 2, cbad = 1.5;
    size_t xs[2] = {2, 2}, ys[1] = {2};
    ck_assert_int_eq(tdl_tensors_add(set, "X", 2, xs, xv), TDL_OK);
    ck_assert_int_eq(tdl_tensors_add(set, "y", 1, ys, yv), TDL_OK);
    ck_assert_int_eq(tdl_tensors_add(set, "tdl_classes", 0, NULL, &c), TDL_OK);
    ck_assert_int_eq(tdl_npz_write(spec, set), TDL_OK);
    load_fails(spec, TDL_EINVAL, "label 3 is not below the 2 classes the file states (tdl_classes)");
    set->items[2].data[0] = cbad;
    ck_assert_int_eq(tdl_npz_write(spec, set), TDL_OK);
    load_fails(spec, TDL_EFORMAT, "'tdl_classes' must be one integer");
    tdl_tensors_free(&set);
    /* an unwritable path: an error, no file */
    snprintf(spec, sizeof spec, "%s/no/such/dir/d.npz", tmpdir);
    tdl_errclear();
    ck_assert_int_eq(tdl_dataset_save(a, spec), TDL_EIO);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), spec));
    ck_assert_int_ne(access(spec, F_OK), 0);
    tdl_dataset_free(&a);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_spec_errors)
{
    load_fails("", TDL_EINVAL, "empty data spec");
    load_fails("nosuchset", TDL_EINVAL, "unknown data set 'nosuchset'");
    load_fails("iris:foo=1", TDL_EINVAL, "unknown key 'foo'");
    load_fails("iris:split=middle", TDL_EINVAL, "split=middle");
    load_fails("iris:test=1.5", TDL_EINVAL, "test=1.5");
    load_fails("iris:n=0", TDL_EINVAL, "n=0");
    load_fails("iris:n=abc", TDL_EINVAL, "n=abc");
    load_fails("iris:split", TDL_EINVAL, "not key=value");
    load_fails("iris:seed=1,seed=2", TDL_EINVAL, "given twice");
    load_fails("iris:normalize=l2", TDL_EINVAL, "normalize=l2");
    load_fails("teacher:act=swish", TDL_EINVAL, "act=swish");
    load_fails("teacher:random-labels=0.5", TDL_EINVAL, "random-labels needs class labels");
    load_fails("gauss:classes=1", TDL_EINVAL, "classes=1");
    load_fails(":x=1", TDL_EINVAL, "no name");
    load_fails("npy:X=/nonexistent.npy", TDL_EINVAL, "npy needs X=path and y=path");
    load_fails("/nonexistent/file.csv", TDL_EIO, "cannot open");
    /* a subset larger than the set, and empty modifier items, are refused */
    load_fails("iris:n=1000", TDL_EINVAL, "data spec 'iris:n=1000': n=1000 exceeds the 150 examples of iris");
    load_fails("iris:split=test,n=31", TDL_EINVAL, "n=31 exceeds the 30 examples of iris after split=test");
    load_fails("iris:", TDL_EINVAL, "data spec 'iris:': nothing after ':'");
    load_fails("iris:n=50,", TDL_EINVAL, "data spec 'iris:n=50,': a trailing comma");
    load_fails("iris:n=50,,split=train", TDL_EINVAL, "an empty item between commas");
}
END_TEST

START_TEST(test_file_errors)
{
    char spec[1200];
    snprintf(spec, sizeof spec, "%s", write_tmp("neg.csv", "1,2,-1\n3,4,0\n"));
    load_fails(spec, TDL_EINVAL, "negative");
    snprintf(spec, sizeof spec, "%s", write_tmp("big.csv", "1,2,1e9\n3,4,0\n"));
    load_fails(spec, TDL_EINVAL, "out of range");
    snprintf(spec, sizeof spec, "%s", write_tmp("one.csv", "1\n2\n"));
    load_fails(spec, TDL_ESHAPE, "at least 2 columns");
    snprintf(spec, sizeof spec, "%s:label=5", write_tmp("lab.csv", "1,2,1\n3,4,0\n"));
    load_fails(spec, TDL_EINVAL, "label=5");
    snprintf(spec, sizeof spec, "%s:task=classify", write_tmp("frac.csv", "1,2,0.5\n3,4,0\n"));
    load_fails(spec, TDL_EINVAL, "integer labels");
    /* X and y with different row counts */
    tdl_tensor X = {0}, y = {0};
    double xv[4] = {1, 2, 3, 4}, yv[3] = {1, 0, 1};
    X.name = "X"; X.dtype = TDL_F64; X.ndim = 2; X.shape[0] = 2; X.shape[1] = 2; X.numel = 4; X.data = xv;
    y.name = "y"; y.dtype = TDL_F64; y.ndim = 1; y.shape[0] = 3; y.numel = 3; y.data = yv;
    char xp[512], yp[512];
    snprintf(xp, sizeof xp, "%s/X.npy", tmpdir);
    snprintf(yp, sizeof yp, "%s/y.npy", tmpdir);
    ck_assert_int_eq(tdl_npy_write(xp, &X), TDL_OK);
    ck_assert_int_eq(tdl_npy_write(yp, &y), TDL_OK);
    snprintf(spec, sizeof spec, "npy:X=%s,y=%s", xp, yp);
    /* the y file is blamed for its own problems, the X file named beside it */
    char frag[1200];
    snprintf(frag, sizeof frag, "%s: the targets y have 3 entries but the inputs X (%s) have 2 rows", yp, xp);
    load_fails(spec, TDL_ESHAPE, frag);
    yv[1] = NAN;
    y.shape[0] = 2; y.numel = 2;
    ck_assert_int_eq(tdl_npy_write(yp, &y), TDL_OK);
    snprintf(frag, sizeof frag, "%s: target of example 1 is NaN", yp);
    load_fails(spec, TDL_ENONFINITE, frag);
    yv[1] = 0;
    /* NaN in inputs */
    xv[3] = NAN;
    y.shape[0] = 2; y.numel = 2;
    ck_assert_int_eq(tdl_npy_write(xp, &X), TDL_OK);
    ck_assert_int_eq(tdl_npy_write(yp, &y), TDL_OK);
    load_fails(spec, TDL_ENONFINITE, "NaN");
    /* npz without y */
    tdl_tensors *set = tdl_tensors_new();
    xv[3] = 4;
    ck_assert_int_eq(tdl_tensors_add(set, "X", 2, X.shape, xv), TDL_OK);
    snprintf(spec, sizeof spec, "%s/noy.npz", tmpdir);
    ck_assert_int_eq(tdl_npz_write(spec, set), TDL_OK);
    tdl_tensors_free(&set);
    load_fails(spec, TDL_EFORMAT, "missing 'y'");
}
END_TEST

START_TEST(test_data_dir_env)
{
    setenv("TDL_DATA_DIR", tmpdir, 1);
    /* TDL_DATA_DIR is searched first: a fake iris there wins */
    tdl_tensors *set = tdl_tensors_new();
    double xv[2] = {7, 8}, yv[2] = {0, 1};
    size_t xs[2] = {2, 1}, ys[1] = {2};
    ck_assert_int_eq(tdl_tensors_add(set, "X", 2, xs, xv), TDL_OK);
    ck_assert_int_eq(tdl_tensors_add(set, "y", 1, ys, yv), TDL_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/iris.npz", tmpdir);
    ck_assert_int_eq(tdl_npz_write(path, set), TDL_OK);
    tdl_tensors_free(&set);
    tdl_dataset *ds = load_ok("iris");
    ck_assert_uint_eq(ds->n, 2);
    tdl_dataset_free(&ds);
    unsetenv("TDL_DATA_DIR");
    ds = load_ok("iris");
    ck_assert_uint_eq(ds->n, 150);
    tdl_dataset_free(&ds);
}
END_TEST

/* tdl_dataset_spec_files: the files a spec reads, by the loader's grammar,
 * nothing opened (the files below do not exist). */
START_TEST(test_spec_files)
{
    char **f = NULL;
    ck_assert_int_eq(tdl_dataset_spec_files("npy:X=dir/a.npy,y=b.npy", &f), TDL_OK);
    ck_assert_str_eq(f[0], "dir/a.npy");
    ck_assert_str_eq(f[1], "b.npy");
    ck_assert_ptr_null(f[2]);
    free(f);
    ck_assert_int_eq(tdl_dataset_spec_files("no/such.csv:split=train,normalize=standard", &f), TDL_OK);
    ck_assert_str_eq(f[0], "no/such.csv");
    ck_assert_ptr_null(f[1]);
    free(f);
    ck_assert_int_eq(tdl_dataset_spec_files("m.npz", &f), TDL_OK);
    ck_assert_str_eq(f[0], "m.npz");
    ck_assert_ptr_null(f[1]);
    free(f);
    const char *none[] = {"iris", "digits:split=test", "sphere:n=10,d=5"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(tdl_dataset_spec_files(none[i], &f), TDL_OK);
        ck_assert_ptr_null(f[0]);
        free(f);
    }
    f = (char **)1;
    ck_assert_int_ne(tdl_dataset_spec_files("iris:split", &f), TDL_OK);
    ck_assert_ptr_null(f);
    ck_assert_msg(strlen(tdl_errmsg()) > 0, "a message names the problem");
}
END_TEST

static Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_checked_fixture(core, setup_tmp, teardown_tmp);
    tcase_add_test(core, test_shipped_counts);
    tcase_add_test(core, test_spec_files);
    tcase_add_test(core, test_mnist_class_counts_and_scale);
    tcase_add_test(core, test_split_stratified_partition);
    tcase_add_test(core, test_split_seed_changes_and_determinism);
    tcase_add_test(core, test_modifiers);
    tcase_add_test(core, test_random_labels);
    tcase_add_test(core, test_synthetic);
    tcase_add_test(core, test_csv_and_npy_sources);
    tcase_add_test(core, test_pm1_labels);
    tcase_add_test(core, test_csv_targets);
    tcase_add_test(core, test_csv_multitarget_warning);
    tcase_add_test(core, test_dataset_save_roundtrip);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup_tmp, teardown_tmp);
    tcase_add_test(limits, test_data_dir_env);
    suite_add_tcase(s, limits);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup_tmp, teardown_tmp);
    tcase_add_test(errors, test_spec_errors);
    tcase_add_test(errors, test_file_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(data_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
