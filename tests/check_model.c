/* check_model.c — MLP structure, activations, initialization and model files
 * (tdl/model.h).
 *
 *   core    activations (values at known points, phi' and phi'' against
 *           central differences), architecture strings, the flat layout,
 *           initializations (statistics, orthogonality, determinism), the
 *           save -> load round trip (bit-exact, theta0 and metadata)
 *   limits  extreme arguments of the activations, the deepest net, loading
 *           PyTorch-style files written by tests/fixtures/make_net_fixtures.py
 *   errors  every refusal of tdl_act_parse, tdl_arch_parse, tdl_mlp_create
 *           and of the model-file reader
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tdl/error.h"
#include "tdl/io.h"
#include "tdl/model.h"

#ifndef TDL_TEST_FIXTURES
#error "TDL_TEST_FIXTURES must name tests/fixtures"
#endif

static char tmpdir[256];

static void setup_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tdl-check-model-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *tmp_path(const char *name)
{
    static char path[2][512];
    static int which;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", tmpdir, name);
    return path[which];
}

static void expect_fail(int st, int code, const char *fragment)
{
    ck_assert_msg(st == code, "status %d (%s), expected %d", st, tdl_errmsg(), code);
    ck_assert_msg(strstr(tdl_errmsg(), fragment) != NULL, "message '%s' lacks '%s'", tdl_errmsg(), fragment);
}

static tdl_act act_of(const char *text)
{
    tdl_act a;
    ck_assert_msg(tdl_act_parse(text, &a) == TDL_OK, "'%s': %s", text, tdl_errmsg());
    return a;
}

/* ---- activations ------------------------------------------------------------- */

static const char *const all_acts[] = {
    "identity", "relu", "leaky-relu:0.1", "abrelu:-0.5,1", "tanh", "erf",
    "sigmoid", "softplus", "quadratic", "gelu", "leaky-relu:0.01", "abrelu:0.25,-2",
};
#define NACTS (sizeof all_acts / sizeof all_acts[0])

START_TEST(test_act_parse_format_round_trip)
{
    char buf[128], buf2[128];
    for (size_t i = 0; i < NACTS; i++) {
        tdl_act a = act_of(all_acts[i]);
        tdl_act_format(&a, buf, sizeof buf);
        tdl_act b = act_of(buf);
        ck_assert_int_eq(a.kind, b.kind);
        ck_assert(a.a == b.a && a.b == b.b); /* %.17g: exact */
        tdl_act_format(&b, buf2, sizeof buf2);
        ck_assert_str_eq(buf, buf2);
    }
    /* canonical spellings */
    tdl_act a = act_of("linear");
    ck_assert_int_eq(a.kind, TDL_ACT_IDENTITY);
    tdl_act_format(&a, buf, sizeof buf);
    ck_assert_str_eq(buf, "identity");
    a = act_of("leaky-relu");
    ck_assert_int_eq(a.kind, TDL_ACT_LEAKY_RELU);
    ck_assert(a.a == 0.01);
    a = act_of("abrelu:-0.5,1");
    ck_assert(a.kind == TDL_ACT_ABRELU && a.a == -0.5 && a.b == 1.0);
    tdl_act_format(&a, buf, sizeof buf);
    ck_assert_str_eq(buf, "abrelu:-0.5,1");
    a = act_of("leaky-relu:0.1");
    tdl_act_format(&a, buf, sizeof buf);
    ck_assert_str_eq(buf, "leaky-relu:0.10000000000000001");
    ck_assert(act_of(buf).a == 0.1);
    a = act_of("gelu");
    tdl_act_format(&a, buf, sizeof buf);
    ck_assert_str_eq(buf, "gelu");
    /* truncation is safe */
    a = act_of("abrelu:-0.5,1");
    tdl_act_format(&a, buf, 4);
    ck_assert_str_eq(buf, "abr");
}
END_TEST

/* Values at known points (references: mpmath at 30 digits, rounded to 17). */
START_TEST(test_act_known_values)
{
    static const struct { const char *act; double x, f, d1, d2; } pts[] = {
        {"identity", -3.5, -3.5, 1, 0},
        {"relu", -2, 0, 0, 0}, {"relu", 3, 3, 1, 0},
        {"relu", 0, 0, 0, 0}, /* phi'(0) = 0 as PyTorch */
        {"leaky-relu:0.1", -2, -0.2, 0.1, 0}, {"leaky-relu:0.1", 2, 2, 1, 0},
        {"abrelu:-0.5,1", -2, 1, -0.5, 0}, {"abrelu:-0.5,1", 3, 3, 1, 0},
        {"tanh", 0, 0, 1, 0},
        {"tanh", 1, 0.76159415595576489, 0.41997434161402607, -0.6397000084492245},
        {"erf", 0, 0, 1.1283791670955126, 0},
        {"erf", 1, 0.84270079294971487, 0.4151074974205947, -0.83021499484118941},
        {"sigmoid", 0, 0.5, 0.25, 0},
        {"sigmoid", 2, 0.88079707797788244, 0.10499358540350652, -0.079962501056153063},
        {"softplus", 0, 0.69314718055994531, 0.5, 0.25},
        {"softplus", -1, 0.31326168751822283, 0.26894142136999512, 0.19661193324148185},
        {"quadratic", 3, 9, 6, 2}, {"quadratic", -0.5, 0.25, -1, 2},
        {"gelu", 1, 0.84134474606854295, 1.0833154705876863, 0.24197072451914335},
        {"gelu", -1, -0.15865525393145705, -0.083315470587686298, 0.24197072451914335},
        {"gelu", 0, 0, 0.5, 0.79788456080286536},
    };
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        tdl_act a = act_of(pts[i].act);
        double f, d1, d2;
        tdl_act_eval(&a, &pts[i].x, 1, &f, &d1, &d2);
        double tol = 4 * DBL_EPSILON;
        ck_assert_msg(fabs(f - pts[i].f) <= tol * fmax(1, fabs(pts[i].f)), "%s(%g) = %.17g, expected %.17g", pts[i].act, pts[i].x, f, pts[i].f);
        ck_assert_msg(fabs(d1 - pts[i].d1) <= tol * fmax(1, fabs(pts[i].d1)), "%s'(%g) = %.17g, expected %.17g", pts[i].act, pts[i].x, d1, pts[i].d1);
        ck_assert_msg(fabs(d2 - pts[i].d2) <= tol * fmax(1, fabs(pts[i].d2)), "%s''(%g) = %.17g, expected %.17g", pts[i].act, pts[i].x, d2, pts[i].d2);
    }
}
END_TEST

/* phi' and phi'' against central differences of phi and phi' at points
 * away from the kink at 0.  Step h = eps^(1/3) max(1, |x|): truncation
 * h^2/6 |phi'''| and rounding eps |phi| / h are both ~ eps^(2/3) ~ 4e-11
 * in units of the function's scale; tolerance 20 (h^2 + eps/h) scale. */
START_TEST(test_act_derivatives_fd)
{
    static const double xs[] = {-3.1, -1.7, -0.9, -0.35, 0.2, 0.6, 1.3, 2.4, 4.2};
    const double nx = sizeof xs / sizeof xs[0];
    double worst1 = 0, worst2 = 0;
    for (size_t i = 0; i < NACTS; i++) {
        tdl_act a = act_of(all_acts[i]);
        for (size_t k = 0; k < (size_t)nx; k++) {
            double x = xs[k], h = cbrt(DBL_EPSILON) * fmax(1, fabs(x));
            double z[3] = {x - h, x, x + h}, f[3], d1[3], d2[3];
            tdl_act_eval(&a, z, 3, f, d1, d2);
            double fd1 = (f[2] - f[0]) / (2 * h), fd2 = (d1[2] - d1[0]) / (2 * h);
            double s1 = fmax(1, fmax(fabs(f[1]), fabs(d1[1]))), s2 = fmax(1, fmax(fabs(d1[1]), fabs(d2[1])));
            double tol1 = 20 * (h * h + DBL_EPSILON / h) * s1, tol2 = 20 * (h * h + DBL_EPSILON / h) * s2;
            worst1 = fmax(worst1, fabs(fd1 - d1[1]) / s1);
            worst2 = fmax(worst2, fabs(fd2 - d2[1]) / s2);
            ck_assert_msg(fabs(fd1 - d1[1]) <= tol1, "%s'(%g) = %.17g, central difference %.17g", all_acts[i], x, d1[1], fd1);
            ck_assert_msg(fabs(fd2 - d2[1]) <= tol2, "%s''(%g) = %.17g, central difference %.17g", all_acts[i], x, d2[1], fd2);
            /* any output may be NULL, and the others do not change */
            double g, e1, e2;
            tdl_act_eval(&a, &x, 1, &g, NULL, NULL);
            tdl_act_eval(&a, &x, 1, NULL, &e1, NULL);
            tdl_act_eval(&a, &x, 1, NULL, NULL, &e2);
            ck_assert(g == f[1] && e1 == d1[1] && e2 == d2[1]);
        }
    }
    printf("model act fd: phi' worst %.2e, phi'' worst %.2e (relative to scale)\n", worst1, worst2);
}
END_TEST

/* ---- architectures and layout ------------------------------------------------- */

START_TEST(test_arch_parse_good)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("64-128-10", &cfg), TDL_OK);
    ck_assert_uint_eq(cfg.depth, 2);
    ck_assert_uint_eq(cfg.widths[0], 64);
    ck_assert_uint_eq(cfg.widths[1], 128);
    ck_assert_uint_eq(cfg.widths[2], 10);
    ck_assert_int_eq(tdl_arch_parse("5-3", &cfg), TDL_OK);
    ck_assert_uint_eq(cfg.depth, 1);
    ck_assert_int_eq(tdl_arch_parse("784-1000-1000-1000-10", &cfg), TDL_OK);
    ck_assert_uint_eq(cfg.depth, 4);
    ck_assert_uint_eq(cfg.widths[4], 10);
    ck_assert_int_eq(tdl_arch_parse("1-100000000", &cfg), TDL_OK);
    /* the deepest: TDL_MAX_DEPTH layers, TDL_MAX_DEPTH + 1 widths */
    char text[512] = "2";
    for (int l = 0; l < TDL_MAX_DEPTH; l++) strcat(text, "-2");
    ck_assert_int_eq(tdl_arch_parse(text, &cfg), TDL_OK);
    ck_assert_uint_eq(cfg.depth, TDL_MAX_DEPTH);
}
END_TEST

START_TEST(test_layout_file_order)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("5-7-4-3", &cfg), TDL_OK);
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    /* W0 7x5 at 0, b0 at 35, W1 4x7 at 42, b1 at 70, W2 3x4 at 74, b2 at 86 */
    static const size_t w_off[3] = {0, 42, 74}, b_off[3] = {35, 70, 86};
    static const size_t in[3] = {5, 7, 4}, out[3] = {7, 4, 3};
    ck_assert_uint_eq(m->depth, 3);
    ck_assert_uint_eq(m->n_params, 89);
    for (size_t l = 0; l < 3; l++) {
        ck_assert_uint_eq(m->layers[l].in, in[l]);
        ck_assert_uint_eq(m->layers[l].out, out[l]);
        ck_assert_uint_eq(m->layers[l].w_off, w_off[l]);
        ck_assert_uint_eq(m->layers[l].b_off, b_off[l]);
        ck_assert(m->layers[l].has_bias && m->layers[l].trainable);
        ck_assert(m->layers[l].w_scale == 1.0 && m->layers[l].b_scale == 1.0);
    }
    char buf[64];
    tdl_arch_format(m, buf, sizeof buf);
    ck_assert_str_eq(buf, "5-7-4-3");
    /* the file tensors are views of theta in that order */
    tdl_tensors *set = NULL;
    ck_assert_int_eq(tdl_mlp_to_tensors(m, &set), TDL_OK);
    static const char *const names[6] = {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"};
    size_t off = 0;
    for (size_t k = 0; k < 6; k++) {
        const tdl_tensor *t = tdl_tensors_find(set, names[k]);
        ck_assert_ptr_nonnull(t);
        ck_assert(memcmp(t->data, m->theta + off, t->numel * sizeof(double)) == 0);
        if (k % 2 == 0) {
            ck_assert_uint_eq(t->ndim, 2);
            ck_assert_uint_eq(t->shape[0], out[k / 2]); /* out x in, as nn.Linear */
            ck_assert_uint_eq(t->shape[1], in[k / 2]);
        }
        off += t->numel;
    }
    ck_assert_uint_eq(off, 89);
    ck_assert_ptr_nonnull(tdl_tensors_find(set, "init.4.bias"));
    tdl_tensors_free(&set);
    tdl_mlp_free(&m);
    ck_assert_ptr_null(m);

    cfg.bias = 0;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    ck_assert_uint_eq(m->n_params, 35 + 28 + 12);
    ck_assert_uint_eq(m->layers[1].w_off, 35);
    ck_assert_uint_eq(m->layers[2].w_off, 63);
    for (size_t l = 0; l < 3; l++) ck_assert(!m->layers[l].has_bias);
    tdl_mlp_free(&m);

    /* NTK scales: w_scale = sigma_w / sqrt(fan_in), b_scale = sigma_b */
    cfg.bias = 1;
    cfg.param = TDL_PARAM_NTK;
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = 1.3;
    cfg.sigma_b = 0.7;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    for (size_t l = 0; l < 3; l++) {
        ck_assert_double_eq_tol(m->layers[l].w_scale, 1.3 / sqrt((double)in[l]), 1e-16);
        ck_assert(m->layers[l].b_scale == 0.7);
    }
    tdl_mlp_free(&m);
}
END_TEST

START_TEST(test_names)
{
    static const char *const inits[] = {"gaussian", "he", "xavier", "orthogonal", "zero"};
    for (int i = 0; i < 5; i++) {
        tdl_init_kind k;
        ck_assert_int_eq(tdl_init_parse(inits[i], &k), TDL_OK);
        ck_assert_int_eq(k, i);
        ck_assert_str_eq(tdl_init_name(k), inits[i]);
    }
    ck_assert_str_eq(tdl_init_name((tdl_init_kind)9), "?");
    ck_assert_str_eq(tdl_param_name(TDL_PARAM_STANDARD), "standard");
    ck_assert_str_eq(tdl_param_name(TDL_PARAM_NTK), "ntk");
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(cfg.act.kind, TDL_ACT_RELU);
    ck_assert_int_eq(cfg.param, TDL_PARAM_STANDARD);
    ck_assert_int_eq(cfg.init, TDL_INIT_HE);
    ck_assert(isnan(cfg.sigma_w) && cfg.sigma_b == 0.0 && cfg.bias == 1 && cfg.seed == 0);
    for (int l = 0; l < TDL_MAX_DEPTH; l++) ck_assert(cfg.trainable[l]);
}
END_TEST

/* ---- initialization ------------------------------------------------------------ */

static tdl_mlp *create(const char *arch, tdl_init_kind init, tdl_param_kind param, double sigma_w,
                       double sigma_b, unsigned long seed)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse(arch, &cfg), TDL_OK);
    cfg.init = init;
    cfg.param = param;
    cfg.sigma_w = sigma_w;
    cfg.sigma_b = sigma_b;
    cfg.seed = seed;
    tdl_mlp *m = NULL;
    ck_assert_msg(tdl_mlp_create(&cfg, &m) == TDL_OK, "%s", tdl_errmsg());
    return m;
}

/* The sample variance s^2 of N iid N(0, v) values has standard error
 * v sqrt(2 / (N - 1)); the sample mean has standard error sqrt(v / N).
 * Require both within 3 standard errors (a 0.3% chance of a false alarm
 * for a given seed; the seeds are fixed, so the test is deterministic). */
static void check_gaussian(const char *what, const double *x, size_t N, double v)
{
    double mean = 0, ss = 0;
    for (size_t i = 0; i < N; i++) mean += x[i];
    mean /= (double)N;
    for (size_t i = 0; i < N; i++) ss += (x[i] - mean) * (x[i] - mean);
    double s2 = ss / (double)(N - 1), se = v * sqrt(2.0 / (double)(N - 1));
    printf("model init %-26s: variance %.6g expected %.6g (%.2f standard errors)\n", what, s2, v, (s2 - v) / se);
    ck_assert_msg(fabs(s2 - v) <= 3 * se, "%s: sample variance %.6g, expected %.6g +- %.2g", what, s2, v, 3 * se);
    ck_assert_msg(fabs(mean) <= 3 * sqrt(v / (double)N), "%s: sample mean %.3g", what, mean);
}

START_TEST(test_init_statistics)
{
    tdl_mlp *m = create("400-400", TDL_INIT_HE, TDL_PARAM_STANDARD, NAN, 0.0, 1);
    ck_assert(m->sigma_w == M_SQRT2);
    check_gaussian("he 400x400", m->theta, 160000, 2.0 / 400);
    for (size_t i = 0; i < 400; i++) ck_assert(m->theta[m->layers[0].b_off + i] == 0.0); /* sigma_b = 0 */
    tdl_mlp_free(&m);

    m = create("400-200", TDL_INIT_XAVIER, TDL_PARAM_STANDARD, NAN, 0.0, 2);
    check_gaussian("xavier 400->200", m->theta, 80000, 2.0 / 600);
    tdl_mlp_free(&m);

    m = create("400-300", TDL_INIT_GAUSSIAN, TDL_PARAM_STANDARD, 1.5, 0.3, 3);
    ck_assert(m->sigma_w == 1.5);
    check_gaussian("gaussian sigma_w 1.5", m->theta, 120000, 2.25 / 400);
    check_gaussian("bias sigma_b 0.3", m->theta + m->layers[0].b_off, 300, 0.09);
    tdl_mlp_free(&m);

    /* default sigma_w of gaussian is 1 */
    m = create("400-400", TDL_INIT_GAUSSIAN, TDL_PARAM_STANDARD, NAN, 0.0, 4);
    ck_assert(m->sigma_w == 1.0);
    check_gaussian("gaussian default", m->theta, 160000, 1.0 / 400);
    tdl_mlp_free(&m);

    /* ntk stores N(0,1) weights and biases whatever the sigmas */
    m = create("400-400", TDL_INIT_GAUSSIAN, TDL_PARAM_NTK, 1.3, 0.7, 5);
    check_gaussian("ntk weights N(0,1)", m->theta, 160000, 1.0);
    check_gaussian("ntk biases N(0,1)", m->theta + m->layers[0].b_off, 400, 1.0);
    ck_assert_double_eq_tol(m->layers[0].w_scale, 1.3 / 20, 1e-16);
    tdl_mlp_free(&m);
    m = create("400-400", TDL_INIT_HE, TDL_PARAM_NTK, NAN, 0.0, 6);
    check_gaussian("ntk he weights N(0,1)", m->theta, 160000, 1.0);
    ck_assert_double_eq_tol(m->layers[0].w_scale, M_SQRT2 / 20, 1e-16);
    tdl_mlp_free(&m);
}
END_TEST

/* max |A^T A - g^2 I| over the k x k Gram matrix of the columns of the
 * rows x cols matrix W (transposed: of the rows), relative to g^2. */
static double gram_error(const double *W, size_t out, size_t in, int of_rows, double g2)
{
    size_t k = of_rows ? out : in, len = of_rows ? in : out;
    double worst = 0;
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            double s = 0;
            for (size_t t = 0; t < len; t++)
                s += of_rows ? W[a * in + t] * W[b * in + t] : W[t * in + a] * W[t * in + b];
            worst = fmax(worst, fabs(s - (a == b ? g2 : 0.0)) / g2);
        }
    return worst;
}

START_TEST(test_init_orthogonal)
{
    /* gain = sd sqrt(max(in, out)), sd = sigma_w / sqrt(in) (standard);
     * sigma_w = sqrt 2 here, as for he */
    tdl_mlp *m = create("50-20", TDL_INIT_ORTHOGONAL, TDL_PARAM_STANDARD, M_SQRT2, 0.0, 7); /* wide: out < in */
    double g2 = 2.0 / 50 * 50;
    double e = gram_error(m->theta, 20, 50, 1, g2);
    printf("model init orthogonal wide : |W W' - g^2 I| / g^2 = %.2e\n", e);
    ck_assert_msg(e <= 1e-12, "wide orthogonal: W W^T != %g I (%.2e)", g2, e);
    tdl_mlp_free(&m);

    m = create("20-50", TDL_INIT_ORTHOGONAL, TDL_PARAM_STANDARD, NAN, 0.0, 8); /* tall: out > in */
    ck_assert(m->sigma_w == 1.0); /* the default of every init but he */
    g2 = 1.0 / 20 * 50;
    e = gram_error(m->theta, 50, 20, 0, g2);
    printf("model init orthogonal tall : |W' W - g^2 I| / g^2 = %.2e\n", e);
    ck_assert_msg(e <= 1e-12, "tall orthogonal: W^T W != %g I (%.2e)", g2, e);
    tdl_mlp_free(&m);

    m = create("30-30", TDL_INIT_ORTHOGONAL, TDL_PARAM_STANDARD, 1.0, 0.0, 9); /* square: both */
    ck_assert(gram_error(m->theta, 30, 30, 1, 1.0) <= 1e-12);
    ck_assert(gram_error(m->theta, 30, 30, 0, 1.0) <= 1e-12);
    tdl_mlp_free(&m);

    m = create("40-10", TDL_INIT_ORTHOGONAL, TDL_PARAM_NTK, 1.0, 0.0, 10); /* ntk: sd = 1 */
    ck_assert(gram_error(m->theta, 10, 40, 1, 40.0) <= 1e-12);
    tdl_mlp_free(&m);

    /* every layer of a deep net, and a different seed gives another matrix */
    m = create("12-30-30-5", TDL_INIT_ORTHOGONAL, TDL_PARAM_STANDARD, 1.0, 0.0, 11);
    ck_assert(gram_error(m->theta + m->layers[0].w_off, 30, 12, 0, 30.0 / 12) <= 1e-12);
    ck_assert(gram_error(m->theta + m->layers[1].w_off, 30, 30, 1, 1.0) <= 1e-12);
    ck_assert(gram_error(m->theta + m->layers[2].w_off, 5, 30, 1, 1.0) <= 1e-12);
    tdl_mlp *m2 = create("12-30-30-5", TDL_INIT_ORTHOGONAL, TDL_PARAM_STANDARD, 1.0, 0.0, 12);
    ck_assert(memcmp(m->theta, m2->theta, m->n_params * sizeof(double)) != 0);
    tdl_mlp_free(&m);
    tdl_mlp_free(&m2);
}
END_TEST

START_TEST(test_init_zero_and_determinism)
{
    tdl_mlp *m = create("6-5-3", TDL_INIT_ZERO, TDL_PARAM_STANDARD, NAN, 0.5, 1);
    for (size_t p = 0; p < m->n_params; p++) ck_assert(m->theta[p] == 0.0);
    tdl_mlp_free(&m);
    m = create("6-5-3", TDL_INIT_ZERO, TDL_PARAM_NTK, NAN, 0.5, 1);
    for (size_t p = 0; p < m->n_params; p++) ck_assert(m->theta[p] == 0.0);
    tdl_mlp_free(&m);

    static const tdl_init_kind inits[] = {TDL_INIT_GAUSSIAN, TDL_INIT_HE, TDL_INIT_XAVIER, TDL_INIT_ORTHOGONAL};
    for (size_t k = 0; k < 4; k++) {
        tdl_mlp *a = create("6-5-4-3", inits[k], TDL_PARAM_STANDARD, NAN, 0.2, 42);
        tdl_mlp *b = create("6-5-4-3", inits[k], TDL_PARAM_STANDARD, NAN, 0.2, 42);
        tdl_mlp *c = create("6-5-4-3", inits[k], TDL_PARAM_STANDARD, NAN, 0.2, 43);
        ck_assert(memcmp(a->theta, b->theta, a->n_params * sizeof(double)) == 0);
        ck_assert(memcmp(a->theta, c->theta, a->n_params * sizeof(double)) != 0);
        /* theta0 = theta on creation; metadata records seed and init */
        ck_assert_ptr_nonnull(a->theta0);
        ck_assert_ptr_ne(a->theta0, a->theta);
        ck_assert(memcmp(a->theta, a->theta0, a->n_params * sizeof(double)) == 0);
        ck_assert_str_eq(tdl_tensors_meta(a->meta, "seed"), "42");
        ck_assert_str_eq(tdl_tensors_meta(a->meta, "init"), tdl_init_name(inits[k]));
        /* no layer is left unset: every weight nonzero */
        for (size_t l = 0; l < a->depth; l++)
            for (size_t i = 0; i < a->layers[l].in * a->layers[l].out; i++)
                ck_assert(a->theta[a->layers[l].w_off + i] != 0.0);
        tdl_mlp_free(&a);
        tdl_mlp_free(&b);
        tdl_mlp_free(&c);
    }
}
END_TEST

START_TEST(test_clone)
{
    tdl_mlp *m = create("4-6-2", TDL_INIT_HE, TDL_PARAM_NTK, 1.1, 0.3, 3), *c = NULL;
    m->layers[1].trainable = 0;
    m->act = act_of("abrelu:-0.5,1");
    ck_assert_int_eq(tdl_mlp_clone(m, &c), TDL_OK);
    ck_assert_ptr_ne(c->theta, m->theta);
    ck_assert_ptr_ne(c->theta0, m->theta0);
    ck_assert_ptr_ne(c->meta, m->meta);
    ck_assert(memcmp(c->layers, m->layers, m->depth * sizeof *m->layers) == 0);
    ck_assert(c->layers != m->layers);
    ck_assert(memcmp(c->theta, m->theta, m->n_params * sizeof(double)) == 0);
    ck_assert(memcmp(c->theta0, m->theta0, m->n_params * sizeof(double)) == 0);
    ck_assert(c->act.kind == TDL_ACT_ABRELU && c->act.a == -0.5 && c->act.b == 1.0);
    ck_assert(c->param == m->param && c->sigma_w == 1.1 && c->sigma_b == 0.3);
    ck_assert_str_eq(tdl_tensors_meta(c->meta, "seed"), "3");
    c->theta[0] += 1;
    ck_assert(c->theta[0] != m->theta[0]);
    tdl_mlp_free(&c);
    /* a net without theta0 clones without one */
    free(m->theta0);
    m->theta0 = NULL;
    ck_assert_int_eq(tdl_mlp_clone(m, &c), TDL_OK);
    ck_assert_ptr_null(c->theta0);
    tdl_mlp_free(&c);
    tdl_mlp_free(&m);
}
END_TEST

/* ---- files ------------------------------------------------------------------------ */

static unsigned char *slurp(const char *path, size_t *len)
{
    unsigned char *buf = NULL;
    ck_assert_msg(tdl_read_file(path, 1 << 24, &buf, len) == TDL_OK, "%s", tdl_errmsg());
    return buf;
}

static void assert_same_net(const tdl_mlp *a, const tdl_mlp *b)
{
    ck_assert_uint_eq(a->depth, b->depth);
    ck_assert_uint_eq(a->n_params, b->n_params);
    for (size_t l = 0; l < a->depth; l++) {
        const tdl_layer *x = &a->layers[l], *y = &b->layers[l];
        ck_assert(x->in == y->in && x->out == y->out && x->has_bias == y->has_bias);
        ck_assert(x->w_off == y->w_off && (!x->has_bias || x->b_off == y->b_off));
        ck_assert_int_eq(x->trainable, y->trainable);
        ck_assert(x->w_scale == y->w_scale && x->b_scale == y->b_scale);
    }
    ck_assert(a->act.kind == b->act.kind && a->act.a == b->act.a && a->act.b == b->act.b);
    ck_assert(a->param == b->param && a->sigma_w == b->sigma_w && a->sigma_b == b->sigma_b);
    ck_assert(memcmp(a->theta, b->theta, a->n_params * sizeof(double)) == 0);
    ck_assert((a->theta0 == NULL) == (b->theta0 == NULL));
    if (a->theta0) ck_assert(memcmp(a->theta0, b->theta0, a->n_params * sizeof(double)) == 0);
}

START_TEST(test_save_load_round_trip)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("5-7-4-3", &cfg), TDL_OK);
    cfg.act = act_of("abrelu:-0.3,1.7");
    cfg.param = TDL_PARAM_NTK;
    cfg.init = TDL_INIT_GAUSSIAN;
    cfg.sigma_w = 1.3;
    cfg.sigma_b = 0.7;
    cfg.trainable[1] = 0;
    cfg.seed = 2024;
    tdl_mlp *m = NULL, *back = NULL, *back2 = NULL;
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    /* "train": theta moves away from theta0, with values that need all 17 digits */
    for (size_t p = 0; p < m->n_params; p++) m->theta[p] += 1.0 / 3.0 * sin((double)p + 0.1) + 1e-300 * (double)(p % 3);
    ck_assert_int_eq(tdl_tensors_set_meta(m->meta, "loss", "ce"), TDL_OK);
    ck_assert_int_eq(tdl_tensors_set_meta(m->meta, "data", "iris:split=train,seed=3"), TDL_OK);
    const char *p1 = tmp_path("m.safetensors"), *p2 = tmp_path("m2.safetensors");
    ck_assert_int_eq(tdl_mlp_save(p1, m), TDL_OK);
    ck_assert_int_eq(tdl_mlp_load(p1, NULL, &back), TDL_OK);
    assert_same_net(m, back);
    ck_assert_int_eq(back->layers[1].trainable, 0);
    /* every metadata entry survives, and the model's own description is added */
    for (size_t i = 0; i < m->meta->meta_count; i++) {
        const char *v = tdl_tensors_meta(back->meta, m->meta->meta_keys[i]);
        ck_assert_msg(v && strcmp(v, m->meta->meta_values[i]) == 0, "metadata '%s' lost", m->meta->meta_keys[i]);
    }
    ck_assert_str_eq(tdl_tensors_meta(back->meta, "arch"), "5-7-4-3");
    ck_assert_str_eq(tdl_tensors_meta(back->meta, "activation"), "abrelu:-0.29999999999999999,1.7");
    ck_assert_str_eq(tdl_tensors_meta(back->meta, "parametrization"), "ntk");
    ck_assert_str_eq(tdl_tensors_meta(back->meta, "trainable"), "1,0,1");
    ck_assert_str_eq(tdl_tensors_meta(back->meta, "format"), "tdl-mlp");
    /* saving what was loaded writes the same bytes */
    ck_assert_int_eq(tdl_mlp_save(p2, back), TDL_OK);
    size_t l1, l2;
    unsigned char *b1 = slurp(p1, &l1), *b2 = slurp(p2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(b1, b2, l1) == 0);
    free(b1);
    free(b2);
    /* the activation given by the caller wins over the file's */
    tdl_act relu = act_of("relu");
    ck_assert_int_eq(tdl_mlp_load(p1, &relu, &back2), TDL_OK);
    ck_assert_int_eq(back2->act.kind, TDL_ACT_RELU);
    tdl_mlp_free(&back2);
    /* an .npz model (no metadata): activation from the caller */
    tdl_tensors *set = NULL;
    ck_assert_int_eq(tdl_mlp_to_tensors(m, &set), TDL_OK);
    const char *pz = tmp_path("m.npz");
    ck_assert_int_eq(tdl_npz_write(pz, set), TDL_OK);
    tdl_tensors_free(&set);
    expect_fail(tdl_mlp_load(pz, NULL, &back2), TDL_EINVAL, "names no activation");
    ck_assert_ptr_null(back2);
    ck_assert_int_eq(tdl_mlp_load(pz, &m->act, &back2), TDL_OK);
    ck_assert(memcmp(back2->theta, m->theta, m->n_params * sizeof(double)) == 0);
    ck_assert(memcmp(back2->theta0, m->theta0, m->n_params * sizeof(double)) == 0);
    ck_assert_int_eq(back2->param, TDL_PARAM_STANDARD); /* no metadata: the defaults */
    tdl_mlp_free(&back2);
    tdl_mlp_free(&back);
    tdl_mlp_free(&m);

    /* without biases and without an init */
    m = create("3-4-2", TDL_INIT_HE, TDL_PARAM_STANDARD, NAN, 0.0, 5);
    tdl_mlp_free(&m);
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("3-4-2", &cfg), TDL_OK);
    cfg.bias = 0;
    cfg.act = act_of("tanh");
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    free(m->theta0);
    m->theta0 = NULL;
    ck_assert_int_eq(tdl_mlp_save(p1, m), TDL_OK);
    ck_assert_int_eq(tdl_mlp_load(p1, NULL, &back), TDL_OK);
    assert_same_net(m, back);
    ck_assert_ptr_null(back->theta0);
    ck_assert_int_eq(tdl_tensors_read(p1, &set), TDL_OK);
    ck_assert_uint_eq(set->count, 2); /* 0.weight, 2.weight */
    ck_assert_ptr_null(tdl_tensors_find(set, "0.bias"));
    tdl_tensors_free(&set);
    tdl_mlp_free(&back);
    tdl_mlp_free(&m);
}
END_TEST

/* The golden fixtures were written by PyTorch's nn.Sequential state dict
 * names and a separate safetensors writer (make_net_fixtures.py). */
START_TEST(test_load_pytorch_fixture)
{
    char path[1024];
    tdl_mlp *m = NULL;
    snprintf(path, sizeof path, "%s/net/ntk_softplus_ce.safetensors", TDL_TEST_FIXTURES);
    ck_assert_msg(tdl_mlp_load(path, NULL, &m) == TDL_OK, "%s", tdl_errmsg());
    ck_assert_uint_eq(m->depth, 2);
    ck_assert_int_eq(m->act.kind, TDL_ACT_SOFTPLUS);
    ck_assert_int_eq(m->param, TDL_PARAM_NTK);
    ck_assert(m->sigma_w == 1.3 && m->sigma_b == 0.7);
    ck_assert_double_eq_tol(m->layers[0].w_scale, 1.3 / 2, 1e-16);
    ck_assert_double_eq_tol(m->layers[1].w_scale, 1.3 / sqrt(6.0), 1e-16);
    ck_assert(m->layers[1].b_scale == 0.7);
    ck_assert_ptr_null(m->theta0);
    tdl_mlp_free(&m);
    snprintf(path, sizeof path, "%s/net/abrelu_mse_onehot.safetensors", TDL_TEST_FIXTURES);
    ck_assert_int_eq(tdl_mlp_load(path, NULL, &m), TDL_OK);
    ck_assert(m->act.kind == TDL_ACT_ABRELU && m->act.a == -0.5 && m->act.b == 1.0);
    ck_assert_int_eq(m->param, TDL_PARAM_STANDARD);
    tdl_mlp_free(&m);
    snprintf(path, sizeof path, "%s/net/nobias_tanh_ce.safetensors", TDL_TEST_FIXTURES);
    ck_assert_int_eq(tdl_mlp_load(path, NULL, &m), TDL_OK);
    ck_assert(!m->layers[0].has_bias && !m->layers[1].has_bias);
    ck_assert_uint_eq(m->n_params, 4 * 5 + 5 * 3);
    tdl_mlp_free(&m);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------ */

START_TEST(test_act_parse_errors)
{
    static const struct { const char *text, *fragment; } bad[] = {
        {"", "unknown activation ''"},
        {"swish", "unknown activation 'swish'"},
        {"Relu", "unknown activation"},
        {"relux", "unknown activation"},
        {"relu:2", "takes no parameters"},
        {"tanh:", "takes no parameters"},
        {"leaky-relu:", "expected leaky-relu:SLOPE"},
        {"leaky-relu:x", "expected leaky-relu:SLOPE"},
        {"leaky-relu:0.1x", "expected leaky-relu:SLOPE"},
        {"leaky-relu:inf", "expected leaky-relu:SLOPE"},
        {"leaky-relu:nan", "expected leaky-relu:SLOPE"},
        {"abrelu", "expected abrelu:A,B"},
        {"abrelu:1", "expected abrelu:A,B"},
        {"abrelu:1,", "expected abrelu:A,B"},
        {"abrelu:,1", "expected abrelu:A,B"},
        {"abrelu:1,2,3", "expected abrelu:A,B"},
        {"abrelu:nan,1", "expected abrelu:A,B"},
        {"abrelu:1,-inf", "expected abrelu:A,B"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tdl_act a = {TDL_ACT_TANH, 7, 7};
        tdl_errclear();
        int st = tdl_act_parse(bad[i].text, &a);
        ck_assert_msg(st == TDL_EINVAL, "'%s' parsed (status %d)", bad[i].text, st);
        ck_assert_msg(strstr(tdl_errmsg(), bad[i].fragment), "'%s': message '%s'", bad[i].text, tdl_errmsg());
        ck_assert(a.kind == TDL_ACT_TANH && a.a == 7 && a.b == 7); /* untouched */
    }
}
END_TEST

START_TEST(test_arch_parse_errors)
{
    static const char *const bad[] = {
        "", "5", "5-", "-5-3", "5--3", "0-3", "5-0", "a-3", "5-3x", "5-3-",
        "5 - 3", "5-3 ", "5,3", "5-100000001", "5-99999999999999999999999", "5-+3", "5--",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tdl_mlp_config cfg;
        tdl_mlp_config_default(&cfg);
        tdl_errclear();
        int st = tdl_arch_parse(bad[i], &cfg);
        ck_assert_msg(st == TDL_EINVAL, "'%s' parsed as an architecture", bad[i]);
        ck_assert_msg(strstr(tdl_errmsg(), "expected widths like 64-128-10") != NULL, "'%s': %s", bad[i], tdl_errmsg());
    }
    char text[512] = "2";
    for (int l = 0; l <= TDL_MAX_DEPTH; l++) strcat(text, "-2");
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    expect_fail(tdl_arch_parse(text, &cfg), TDL_EINVAL, "deeper than 64 layers");
}
END_TEST

START_TEST(test_create_errors)
{
    tdl_mlp_config cfg;
    tdl_mlp *m = (tdl_mlp *)&cfg; /* must be reset to NULL on failure */
    tdl_mlp_config_default(&cfg);
    expect_fail(tdl_mlp_create(&cfg, &m), TDL_EINVAL, "1 to 64 layers");
    ck_assert_ptr_null(m);
    ck_assert_int_eq(tdl_arch_parse("4-3", &cfg), TDL_OK);
    cfg.depth = TDL_MAX_DEPTH + 1;
    expect_fail(tdl_mlp_create(&cfg, &m), TDL_EINVAL, "1 to 64 layers");
    ck_assert_int_eq(tdl_arch_parse("4-3", &cfg), TDL_OK);
    cfg.init = TDL_INIT_XAVIER;
    cfg.param = TDL_PARAM_NTK;
    expect_fail(tdl_mlp_create(&cfg, &m), TDL_EINVAL, "xavier");
    ck_assert_ptr_null(m);
    cfg.init = TDL_INIT_HE;
    cfg.param = TDL_PARAM_STANDARD;
    static const double sw[] = {-1.0, INFINITY, NAN, 1.0, 1.0, 1.0}, sb[] = {0, 0, 0, -0.1, INFINITY, NAN};
    for (size_t i = 0; i < 6; i++) {
        cfg.sigma_w = sw[i];
        cfg.sigma_b = sb[i];
        if (isnan(sw[i])) continue; /* NaN sigma_w means "the init's default" */
        expect_fail(tdl_mlp_create(&cfg, &m), TDL_EINVAL, "sigma_w and sigma_b must be finite and >= 0");
        ck_assert_ptr_null(m);
    }
    cfg.sigma_w = NAN;
    cfg.sigma_b = 0;
    cfg.widths[1] = 0;
    expect_fail(tdl_mlp_create(&cfg, &m), TDL_ETOOBIG, "empty or too large");
    ck_assert_ptr_null(m);
}
END_TEST

/* A model file from a tensor set built here (F64 safetensors). */
typedef struct { const char *name; size_t ndim, s0, s1; } tspec;

static const char *write_model(const char *file, const tspec *ts, size_t count, const char *const *meta,
                               double fill_nan_at)
{
    tdl_tensors *set = tdl_tensors_new();
    ck_assert_ptr_nonnull(set);
    for (size_t i = 0; i < count; i++) {
        size_t shape[2] = {ts[i].s0, ts[i].s1}, numel = ts[i].ndim == 0 ? 1 : ts[i].s0 * (ts[i].ndim == 2 ? ts[i].s1 : 1);
        double *data = calloc(numel ? numel : 1, sizeof(double));
        for (size_t k = 0; k < numel; k++) data[k] = 0.1 * (double)(k + 1);
        if (fill_nan_at >= 0 && i == (size_t)fill_nan_at && numel) data[numel - 1] = NAN;
        ck_assert_int_eq(tdl_tensors_add(set, ts[i].name, ts[i].ndim, shape, data), TDL_OK);
        free(data);
    }
    for (size_t k = 0; meta && meta[k]; k += 2) ck_assert_int_eq(tdl_tensors_set_meta(set, meta[k], meta[k + 1]), TDL_OK);
    const char *path = tmp_path(file);
    ck_assert_msg(tdl_safetensors_write(path, set) == TDL_OK, "%s", tdl_errmsg());
    tdl_tensors_free(&set);
    return path;
}

static void load_fails(const char *path, int code, const char *fragment)
{
    tdl_mlp *m = NULL;
    tdl_errclear();
    expect_fail(tdl_mlp_load(path, NULL, &m), code, fragment);
    ck_assert_ptr_null(m);
    /* the message names the file */
    ck_assert_msg(strstr(tdl_errmsg(), path) != NULL, "message '%s' does not name %s", tdl_errmsg(), path);
}

START_TEST(test_load_errors)
{
    static const char *const act_tanh[] = {"activation", "tanh", NULL};
    const tspec ok2[] = {{"0.weight", 2, 4, 3}, {"0.bias", 1, 4, 0}, {"2.weight", 2, 2, 4}, {"2.bias", 1, 2, 0}};
    tdl_mlp *m = NULL;

    /* the good file loads, and so does a linear model without an activation */
    ck_assert_int_eq(tdl_mlp_load(write_model("ok.safetensors", ok2, 4, act_tanh, -1), NULL, &m), TDL_OK);
    ck_assert_uint_eq(m->n_params, 4 * 3 + 4 + 2 * 4 + 2);
    tdl_mlp_free(&m);
    ck_assert_int_eq(tdl_mlp_load(write_model("lin.safetensors", ok2, 2, NULL, -1), NULL, &m), TDL_OK);
    ck_assert_int_eq(m->act.kind, TDL_ACT_IDENTITY);
    tdl_mlp_free(&m);

    load_fails(write_model("noact.safetensors", ok2, 4, NULL, -1), TDL_EINVAL, "names no activation");
    const tspec chain[] = {{"0.weight", 2, 4, 3}, {"2.weight", 2, 2, 5}};
    load_fails(write_model("chain.safetensors", chain, 2, act_tanh, -1), TDL_ESHAPE,
               "'2.weight' takes 5 inputs but the previous layer has 4 outputs");
    const tspec bias[] = {{"0.weight", 2, 4, 3}, {"0.bias", 1, 3, 0}};
    load_fails(write_model("bias.safetensors", bias, 2, NULL, -1), TDL_ESHAPE, "'0.bias' should have shape [4]");
    const tspec bias2d[] = {{"0.weight", 2, 4, 3}, {"0.bias", 2, 4, 1}};
    load_fails(write_model("bias2d.safetensors", bias2d, 2, NULL, -1), TDL_ESHAPE, "'0.bias' should have shape [4]");
    const tspec w1d[] = {{"0.weight", 1, 4, 0}};
    load_fails(write_model("w1d.safetensors", w1d, 1, NULL, -1), TDL_ESHAPE, "a Linear weight is 2-D");
    const tspec unknown[] = {{"0.weight", 2, 4, 3}, {"0.running_mean", 1, 4, 0}};
    load_fails(write_model("unknown.safetensors", unknown, 2, NULL, -1), TDL_EFORMAT,
               "tensor '0.running_mean' is not a Linear layer's");
    const tspec unknown2[] = {{"fc.kernel", 2, 4, 3}};
    load_fails(write_model("unknown2.safetensors", unknown2, 1, NULL, -1), TDL_EFORMAT, "'fc.kernel' is not a Linear layer's");
    const tspec lead0[] = {{"0.weight", 2, 3, 3}, {"00.weight", 2, 3, 3}};
    load_fails(write_model("lead0.safetensors", lead0, 2, act_tanh, -1), TDL_EFORMAT, "'00.weight' is not a Linear layer's");
    const tspec orphan[] = {{"0.weight", 2, 4, 3}, {"2.bias", 1, 2, 0}};
    load_fails(write_model("orphan.safetensors", orphan, 2, NULL, -1), TDL_EFORMAT, "'2.bias' has no matching '2.weight'");
    const tspec only_init[] = {{"init.0.weight", 2, 4, 3}};
    load_fails(write_model("onlyinit.safetensors", only_init, 1, NULL, -1), TDL_EFORMAT, "no '<k>.weight' tensors");
    const tspec badinit[] = {{"0.weight", 2, 4, 3}, {"init.0.kernel", 2, 4, 3}};
    load_fails(write_model("badinit.safetensors", badinit, 2, NULL, -1), TDL_EFORMAT, "'init.0.kernel' is not an init");
    const tspec partial[] = {{"0.weight", 2, 4, 3}, {"0.bias", 1, 4, 0}, {"init.0.weight", 2, 4, 3}};
    load_fails(write_model("partial.safetensors", partial, 3, NULL, -1), TDL_EFORMAT, "holds 1 init.* tensors, expected 2");
    const tspec initshape[] = {{"0.weight", 2, 4, 3}, {"init.0.weight", 2, 3, 4}};
    load_fails(write_model("initshape.safetensors", initshape, 2, NULL, -1), TDL_ESHAPE,
               "'init.0.weight' is missing or its shape differs");
    const tspec initname[] = {{"0.weight", 2, 4, 3}, {"0.bias", 1, 4, 0}, {"init.0.weight", 2, 4, 3}, {"init.2.bias", 1, 4, 0}};
    load_fails(write_model("initname.safetensors", initname, 4, NULL, -1), TDL_ESHAPE, "'init.0.bias' is missing");
    /* a non-finite value: the file first, then the tensor and the entry as the file names them */
    char frag[1200];
    const char *nanp = write_model("nan.safetensors", ok2, 4, act_tanh, 2);
    snprintf(frag, sizeof frag, "%s: tensor '2.weight' entry [1,3] is NaN", nanp);
    load_fails(nanp, TDL_ENONFINITE, frag);
    load_fails(write_model("nanb.safetensors", ok2, 4, act_tanh, 1), TDL_ENONFINITE, "tensor '0.bias' entry [3] is NaN");
    const tspec init_ok[] = {{"0.weight", 2, 4, 3}, {"init.0.weight", 2, 4, 3}};
    load_fails(write_model("nan0.safetensors", init_ok, 2, NULL, 1), TDL_ENONFINITE, "tensor 'init.0.weight' entry [3,2] is NaN");
    const tspec empty_in[] = {{"0.weight", 2, 4, 0}};
    load_fails(write_model("emptyin.safetensors", empty_in, 1, NULL, -1), TDL_ETOOBIG, "empty or too large");

    static const char *const bad_act[] = {"activation", "swish", NULL};
    load_fails(write_model("badact.safetensors", ok2, 4, bad_act, -1), TDL_EINVAL, "unknown activation 'swish'");
    static const char *const bad_param[] = {"activation", "tanh", "parametrization", "mup", NULL};
    load_fails(write_model("badparam.safetensors", ok2, 4, bad_param, -1), TDL_EFORMAT, "parametrization='mup'");
    static const char *const bad_sigma[] = {"activation", "tanh", "sigma_w", "1.3x", NULL};
    load_fails(write_model("badsigma.safetensors", ok2, 4, bad_sigma, -1), TDL_EFORMAT, "sigma_w='1.3x' is not a number");
    static const char *const inf_sigma[] = {"activation", "tanh", "sigma_b", "inf", NULL};
    load_fails(write_model("infsigma.safetensors", ok2, 4, inf_sigma, -1), TDL_EFORMAT, "sigma_b='inf'");
    static const char *const bad_tr[] = {"activation", "tanh", "trainable", "1,2", NULL};
    load_fails(write_model("badtr.safetensors", ok2, 4, bad_tr, -1), TDL_EFORMAT, "trainable='1,2' should be 2");
    static const char *const short_tr[] = {"activation", "tanh", "trainable", "1", NULL};
    load_fails(write_model("shorttr.safetensors", ok2, 4, short_tr, -1), TDL_EFORMAT, "trainable='1'");
    static const char *const long_tr[] = {"activation", "tanh", "trainable", "1,1,1", NULL};
    load_fails(write_model("longtr.safetensors", ok2, 4, long_tr, -1), TDL_EFORMAT, "trainable='1,1,1'");

    /* a safetensors file whose JSON header is 128 or 384 bytes long starts
     * 0x80 0x00 / 0x80 0x01 like a pickle: it must still load */
    for (size_t hl = 128; hl <= 384; hl += 256) {
        unsigned char buf[8 + 384 + 8];
        const char *json = "{\"0.weight\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[0,8]}}";
        memset(buf, 0, sizeof buf);
        for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((hl >> (8 * k)) & 0xff);
        memset(buf + 8, ' ', hl);
        memcpy(buf + 8, json, strlen(json));
        double one = 1.5;
        memcpy(buf + 8 + hl, &one, 8); /* little-endian host */
        const char *pp = tmp_path("hl.safetensors");
        ck_assert_int_eq(tdl_write_file_atomic(pp, buf, 8 + hl + 8), TDL_OK);
        ck_assert_msg(tdl_mlp_load(pp, NULL, &m) == TDL_OK, "header of %zu bytes: %s", hl, tdl_errmsg());
        ck_assert(m->n_params == 1 && m->theta[0] == 1.5);
        tdl_mlp_free(&m);
    }

    /* files that are not model files */
    load_fails(tmp_path("missing.safetensors"), TDL_EIO, "cannot open");
    const char *p = tmp_path("empty.safetensors");
    FILE *fp = fopen(p, "wb");
    fclose(fp);
    load_fails(p, TDL_EFORMAT, "empty file");
    p = tmp_path("model.pt");
    fp = fopen(p, "wb");
    fputs("\x80\x02}q\x00.", fp);
    fclose(fp);
    load_fails(p, TDL_EFORMAT, "pickle");
}
END_TEST

/* ---- limits ------------------------------------------------------------------------ */

START_TEST(test_act_extremes)
{
    /* no overflow, no NaN far out: softplus, sigmoid and gelu are stable */
    static const double xs[] = {-1000, -745, -40, 40, 745, 1000};
    for (size_t i = 0; i < NACTS; i++) {
        tdl_act a = act_of(all_acts[i]);
        double f[6], d1[6], d2[6];
        tdl_act_eval(&a, xs, 6, f, d1, d2);
        for (int k = 0; k < 6; k++)
            ck_assert_msg(isfinite(f[k]) && isfinite(d1[k]) && isfinite(d2[k]), "%s at %g: %g %g %g",
                          all_acts[i], xs[k], f[k], d1[k], d2[k]);
    }
    tdl_act sp = act_of("softplus"), sg = act_of("sigmoid"), ge = act_of("gelu"), th = act_of("tanh");
    double f, d1, d2, x;
    x = 1000;
    tdl_act_eval(&sp, &x, 1, &f, &d1, &d2);
    ck_assert(f == 1000 && d1 == 1 && d2 == 0);
    x = -1000;
    tdl_act_eval(&sp, &x, 1, &f, &d1, &d2);
    ck_assert(f == 0 && d1 == 0 && d2 == 0);
    x = -30; /* log1p(e^-30) = e^-30 - e^-60/2 + ...: no cancellation */
    tdl_act_eval(&sp, &x, 1, &f, NULL, NULL);
    ck_assert_double_eq_tol(f, exp(-30.0) - 0.5 * exp(-60.0), 4 * DBL_EPSILON * exp(-30.0));
    x = -1000;
    tdl_act_eval(&sg, &x, 1, &f, &d1, &d2);
    ck_assert(f == 0 && d1 == 0 && d2 == 0);
    x = -40; /* gelu(-40) = -40 Phi(-40) ~ -1.5e-349: underflows to -0 */
    tdl_act_eval(&ge, &x, 1, &f, &d1, &d2);
    ck_assert(f == 0 && d1 == 0 && d2 == 0);
    x = -8; /* Phi(-8) = 6.22096057427178e-16: from erfc, not 1 - erf */
    tdl_act_eval(&ge, &x, 1, &f, NULL, NULL);
    ck_assert_double_eq_tol(f, -8 * 6.220960574271784e-16, 1e-12 * 8 * 6.22e-16);
    x = 40;
    tdl_act_eval(&ge, &x, 1, &f, &d1, NULL);
    ck_assert(f == 40 && d1 == 1);
    x = 30;
    tdl_act_eval(&th, &x, 1, &f, &d1, &d2);
    ck_assert(f == 1 && d1 == 0 && d2 == 0);
    /* n = 0 touches nothing */
    tdl_act_eval(&th, NULL, 0, NULL, NULL, NULL);
}
END_TEST

START_TEST(test_deepest_net)
{
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    char text[512] = "3";
    for (int l = 0; l < TDL_MAX_DEPTH; l++) strcat(text, "-2");
    ck_assert_int_eq(tdl_arch_parse(text, &cfg), TDL_OK);
    tdl_mlp *m = NULL, *back = NULL;
    cfg.act = act_of("tanh");
    ck_assert_int_eq(tdl_mlp_create(&cfg, &m), TDL_OK);
    ck_assert_uint_eq(m->n_params, 3 * 2 + 2 + (size_t)(TDL_MAX_DEPTH - 1) * 6);
    const char *p = tmp_path("deep.safetensors");
    ck_assert_int_eq(tdl_mlp_save(p, m), TDL_OK);
    ck_assert_int_eq(tdl_mlp_load(p, NULL, &back), TDL_OK);
    assert_same_net(m, back);
    tdl_mlp_free(&back);
    tdl_mlp_free(&m);
    tdl_mlp_free(&m); /* freeing NULL is fine */
    tdl_mlp_free(NULL);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_checked_fixture(core, setup_tmp, teardown_tmp);
    tcase_add_test(core, test_act_parse_format_round_trip);
    tcase_add_test(core, test_act_known_values);
    tcase_add_test(core, test_act_derivatives_fd);
    tcase_add_test(core, test_arch_parse_good);
    tcase_add_test(core, test_layout_file_order);
    tcase_add_test(core, test_names);
    tcase_add_test(core, test_init_statistics);
    tcase_add_test(core, test_init_orthogonal);
    tcase_add_test(core, test_init_zero_and_determinism);
    tcase_add_test(core, test_clone);
    tcase_add_test(core, test_save_load_round_trip);
    tcase_add_test(core, test_load_pytorch_fixture);
    suite_add_tcase(s, core);

    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup_tmp, teardown_tmp);
    tcase_add_test(limits, test_act_extremes);
    tcase_add_test(limits, test_deepest_net);
    suite_add_tcase(s, limits);

    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup_tmp, teardown_tmp);
    tcase_add_test(errors, test_act_parse_errors);
    tcase_add_test(errors, test_arch_parse_errors);
    tcase_add_test(errors, test_create_errors);
    tcase_add_test(errors, test_load_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(model_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
