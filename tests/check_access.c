/* check_access.c — tdl/access.h, the accessors and handles the Python
 * package uses: each accessor agrees with what the public API computes, the
 * setters reach the field they name, and every bad field or value is refused
 * with a message.  Links the shared library and includes only
 * the public headers, as a binding would. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tdl.h"
#include "tdl/access.h"

/* 6 examples, 2 inputs, 3 classes; X strided (every other column of a 6 x 4 array). */
static const double XDATA[24] = {
    0.5, 9, -1.0, 9, 1.0, 9, 2.0, 9, -0.5, 9, 0.25, 9,
    1.5, 9, -2.0, 9, 0.0, 9, 1.0, 9, -1.5, 9, 0.75, 9,
};
static const long long LABELS[6] = {0, 1, 2, 0, 1, 2};

static tdl_dataset *small_set(void)
{
    tdl_matrix_view X = {XDATA, 6, 2, 4, 2};
    tdl_dataset *ds = NULL;
    ck_assert_int_eq(tdl_dataset_from_arrays(X, LABELS, 0, NULL, "six points", &ds), TDL_OK);
    return ds;
}

static tdl_mlp *small_net(const char *arch, const char *act)
{
    tdl_mlp_config *cfg = tdl_mlp_config_new();
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "arch", arch), TDL_OK);
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "act", act), TDL_OK);
    ck_assert_int_eq(tdl_mlp_config_set_number(cfg, "seed", 3), TDL_OK);
    ck_assert_int_eq(tdl_mlp_config_set_number(cfg, "sigma_b", 0.5), TDL_OK);
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(cfg, &m), TDL_OK);
    tdl_mlp_config_free(&cfg);
    ck_assert_ptr_null(cfg);
    return m;
}

START_TEST(test_sizeof)
{
    ck_assert_uint_eq(tdl_sizeof("tdl_matrix_view"), sizeof(tdl_matrix_view));
    ck_assert_uint_eq(tdl_sizeof("tdl_act"), sizeof(tdl_act));
    ck_assert_uint_eq(tdl_sizeof("tdl_eval_stats"), sizeof(tdl_eval_stats));
    ck_assert_uint_eq(tdl_sizeof("tdl_sym_eigen"), sizeof(tdl_sym_eigen));
    ck_assert_uint_eq(tdl_sizeof("tdl_lanczos_result"), sizeof(tdl_lanczos_result));
    ck_assert_uint_eq(tdl_sizeof("tdl_slq_result"), sizeof(tdl_slq_result));
    ck_assert_uint_eq(tdl_sizeof("tdl_density"), sizeof(tdl_density));
    ck_assert_uint_eq(tdl_sizeof("tdl_train_result"), sizeof(tdl_train_result));
    ck_assert_uint_eq(tdl_sizeof("tdl_dr_result"), sizeof(tdl_dr_result));
    ck_assert_uint_eq(tdl_sizeof("tdl_train_progress"), sizeof(tdl_train_progress));
    ck_assert_uint_eq(tdl_sizeof("tdl_curve_config"), sizeof(tdl_curve_config));
    ck_assert_uint_eq(tdl_sizeof("tdl_mlp"), 0); /* not for mirroring */
    ck_assert_uint_eq(tdl_sizeof(NULL), 0);
}
END_TEST

START_TEST(test_dataset_accessors)
{
    tdl_dataset *ds = small_set();
    size_t n, d, classes, k;
    tdl_dataset_shape(ds, &n, &d, &classes, &k);
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(d, 2);
    ck_assert_uint_eq(classes, 3);
    ck_assert_uint_eq(k, 0);
    ck_assert_str_eq(tdl_dataset_spec(ds), "six points");
    double X[12];
    long long y[6];
    tdl_dataset_copy(ds, X, y, NULL);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(y[i], LABELS[i]);
        for (size_t j = 0; j < 2; j++) ck_assert(X[i * 2 + j] == XDATA[i * 4 + j * 2]);
    }
    const gsl_matrix *Xg = tdl_dataset_inputs(ds);
    ck_assert_uint_eq(Xg->size1, 6);
    ck_assert(gsl_matrix_get(Xg, 5, 1) == XDATA[5 * 4 + 2]);
    tdl_dataset_free(&ds);

    /* regression targets come back as given */
    double Y[6] = {1, 2, 3, 4, 5, 6};
    tdl_matrix_view Xv = {XDATA, 6, 2, 4, 2}, Yv = {Y, 6, 1, 1, 1};
    ck_assert_int_eq(tdl_dataset_from_arrays(Xv, NULL, 0, &Yv, NULL, &ds), TDL_OK);
    tdl_dataset_shape(ds, &n, NULL, &classes, &k);
    ck_assert_uint_eq(classes, 0);
    ck_assert_uint_eq(k, 1);
    double Yc[6];
    tdl_dataset_copy(ds, NULL, NULL, Yc);
    for (size_t i = 0; i < 6; i++) ck_assert(Yc[i] == Y[i]);
    tdl_dataset_free(&ds);
}
END_TEST

START_TEST(test_matrix_wrap)
{
    double a[6] = {1, 2, 3, 4, 5, 6};
    gsl_matrix *m = tdl_matrix_wrap(a, 2, 3);
    ck_assert_ptr_nonnull(m);
    ck_assert(gsl_matrix_get(m, 1, 2) == 6);
    gsl_matrix_set(m, 0, 1, -2);
    ck_assert(a[1] == -2);            /* the caller's memory, no copy */
    tdl_matrix_wrap_free(&m);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(tdl_matrix_wrap(a, 0, 3));
    tdl_matrix_wrap_free(NULL);
}
END_TEST

START_TEST(test_mlp_accessors)
{
    tdl_mlp *m = small_net("2-5-3", "tanh");
    ck_assert_uint_eq(tdl_mlp_depth(m), 2);
    ck_assert_uint_eq(tdl_mlp_width(m, 0), 2);
    ck_assert_uint_eq(tdl_mlp_width(m, 1), 5);
    ck_assert_uint_eq(tdl_mlp_width(m, 2), 3);
    ck_assert_uint_eq(tdl_mlp_width(m, 3), 0);
    ck_assert_uint_eq(tdl_mlp_param_count(m), 2 * 5 + 5 + 5 * 3 + 3);
    size_t in, out, wo, bo;
    int hb, tr;
    ck_assert_int_eq(tdl_mlp_layer_info(m, 1, &in, &out, &hb, &tr, &wo, &bo), TDL_OK);
    ck_assert_uint_eq(in, 5);
    ck_assert_uint_eq(out, 3);
    ck_assert_int_eq(hb, 1);
    ck_assert_int_eq(tr, 1);
    ck_assert_uint_eq(wo, 15);
    ck_assert_uint_eq(bo, 30);
    ck_assert_int_eq(tdl_mlp_layer_info(m, 2, NULL, NULL, NULL, NULL, NULL, NULL), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "layers 0..1"));
    char act[64];
    tdl_mlp_activation_name(m, act, sizeof act);
    ck_assert_str_eq(act, "tanh");
    ck_assert_str_eq(tdl_mlp_param_kind_name(m), "standard");
    /* biases start at sigma_b N(0,1) draws: theta is the net's own vector */
    double *theta = tdl_mlp_params(m);
    ck_assert_ptr_nonnull(theta);
    ck_assert_ptr_nonnull(tdl_mlp_init_params(m));
    theta[0] += 1;
    ck_assert(tdl_mlp_init_params(m)[0] != theta[0]);
    ck_assert_int_eq(tdl_mlp_set_init_params(m, NULL), TDL_OK);
    ck_assert(tdl_mlp_init_params(m)[0] == theta[0]);
    ck_assert_int_eq(tdl_mlp_set_meta(m, "note", "x"), TDL_OK);
    ck_assert_str_eq(tdl_mlp_meta(m, "note"), "x");
    ck_assert_ptr_null(tdl_mlp_meta(m, "absent"));

    tdl_dataset *ds = small_set();
    tdl_loss_kind loss;
    ck_assert_int_eq(tdl_mlp_default_loss(m, ds, NULL, &loss), TDL_OK);
    ck_assert_int_eq(loss, TDL_LOSS_CE);
    ck_assert_int_eq(tdl_mlp_default_loss(m, ds, "mse", &loss), TDL_OK);
    ck_assert_int_eq(loss, TDL_LOSS_MSE);
    ck_assert_int_eq(tdl_mlp_default_loss(m, ds, "nope", &loss), TDL_EINVAL);
    ck_assert_int_eq(tdl_mlp_set_meta(m, "loss", "hinge"), TDL_OK);
    ck_assert_int_eq(tdl_mlp_default_loss(m, ds, NULL, &loss), TDL_OK);
    ck_assert_int_eq(loss, TDL_LOSS_HINGE);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);

    m = small_net("2-1", "identity");
    ds = small_set(); /* 3 classes: logistic does not fit a one-output net */
    ck_assert_int_ne(tdl_mlp_default_loss(m, ds, NULL, &loss), TDL_OK);
    tdl_dataset_free(&ds);
    tdl_mlp_free(&m);
}
END_TEST

START_TEST(test_train_config)
{
    tdl_train_config *cfg = tdl_train_config_new();
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(tdl_train_config_set_text(cfg, "optimizer", "adam"), TDL_OK);
    ck_assert_int_eq(cfg->opt, TDL_OPT_ADAM);
    ck_assert_int_eq(tdl_train_config_set_text(cfg, "loss", "mse"), TDL_OK);
    ck_assert_int_eq(tdl_train_config_loss(cfg), TDL_LOSS_MSE);
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "lr", 0.25), TDL_OK);
    ck_assert(cfg->lr == 0.25);
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "epochs", 7), TDL_OK);
    ck_assert_uint_eq(cfg->epochs, 7);
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "batch", 0), TDL_OK);
    ck_assert_uint_eq(cfg->batch, 0);
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "seed", 11), TDL_OK);
    ck_assert_uint_eq(cfg->seed, 11);
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "target_loss", NAN), TDL_OK);
    ck_assert(isnan(cfg->target_loss));
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "epochs", 2.5), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "epochs"));
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "batch", -1), TDL_EINVAL);
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "nonsense", 1), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "nonsense"));
    ck_assert_int_eq(tdl_train_config_set_text(cfg, "optimizer", "rmsprop"), TDL_EINVAL);
    ck_assert_int_eq(tdl_train_config_set_text(cfg, "color", "red"), TDL_EINVAL);

    /* a short run through the handle trains */
    tdl_dataset *ds = small_set();
    tdl_mlp *m = small_net("2-5-3", "tanh");
    ck_assert_int_eq(tdl_train_config_set_text(cfg, "loss", "ce"), TDL_OK);
    ck_assert_int_eq(tdl_train_config_set_number(cfg, "lr", 0.05), TDL_OK);
    tdl_train_result res;
    ck_assert_int_eq(tdl_train(m, ds, cfg, &res), TDL_OK);
    ck_assert_uint_eq(res.epochs, 7);
    ck_assert(res.loss < res.initial_loss);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    tdl_train_config_free(&cfg);
    ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_mlp_config_errors)
{
    tdl_mlp_config *cfg = tdl_mlp_config_new();
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "act", "swish"), TDL_EINVAL);
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "param", "mup"), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "mup"));
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "depth", "3"), TDL_EINVAL);
    ck_assert_int_eq(tdl_mlp_config_set_number(cfg, "sigma_b", -1), TDL_EINVAL);
    ck_assert_int_eq(tdl_mlp_config_set_number(cfg, "seed", 0.5), TDL_EINVAL);
    ck_assert_int_eq(tdl_mlp_config_set_number(cfg, "width", 3), TDL_EINVAL);
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "arch", "3-4-2"), TDL_OK);
    ck_assert_int_eq(tdl_mlp_config_set_trainable(cfg, 1, 0), TDL_OK);
    ck_assert_int_eq(tdl_mlp_config_set_trainable(cfg, 2, 0), TDL_EINVAL);
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "param", "ntk"), TDL_OK);
    ck_assert_int_eq(tdl_mlp_config_set_text(cfg, "init", "gaussian"), TDL_OK);
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_create(cfg, &m), TDL_OK);
    ck_assert_str_eq(tdl_mlp_param_kind_name(m), "ntk");
    int tr = 1;
    ck_assert_int_eq(tdl_mlp_layer_info(m, 1, NULL, NULL, NULL, &tr, NULL, NULL), TDL_OK);
    ck_assert_int_eq(tr, 0);
    tdl_mlp_free(&m);
    tdl_mlp_config_free(&cfg);
    tdl_mlp_config_free(NULL);
}
END_TEST

START_TEST(test_bounds_and_ntk_handles)
{
    tdl_bounds_config *bc = tdl_bounds_config_new();
    ck_assert_int_eq(tdl_bounds_config_set_number(bc, "delta", 0.1), TDL_OK);
    ck_assert(bc->delta == 0.1);
    ck_assert_int_eq(tdl_bounds_config_set_number(bc, "flatness", 0), TDL_OK);
    ck_assert_int_eq(bc->flatness, 0);
    ck_assert_int_eq(tdl_bounds_config_set_number(bc, "mc_samples", 5), TDL_OK);
    ck_assert_uint_eq(bc->mc_samples, 5);
    ck_assert_int_eq(tdl_bounds_config_set_number(bc, "delta", 1.5), TDL_EINVAL);
    ck_assert_int_eq(tdl_bounds_config_set_number(bc, "margin_percentile", 101), TDL_EINVAL);
    ck_assert_int_eq(tdl_bounds_config_set_number(bc, "other", 1), TDL_EINVAL);

    tdl_dataset *ds = small_set();
    tdl_mlp *m = small_net("2-5-3", "relu");
    tdl_measure *v = NULL;
    size_t count = 0;
    double err;
    ck_assert_int_eq(tdl_bounds_compute(m, TDL_LOSS_CE, ds, bc, &v, &count, &err), TDL_OK);
    ck_assert_uint_gt(count, 0);
    const char *name = NULL, *source = NULL, *note = NULL;
    double value, bound, delta;
    int vacuous, available;
    tdl_measure_get(v, 0, &name, &value, &bound, &vacuous, &available, &delta, &source, &note);
    ck_assert_str_eq(name, v[0].name);
    ck_assert(value == v[0].value || (isnan(value) && isnan(v[0].value)));
    ck_assert_int_eq(available, v[0].available);
    free(v);
    tdl_bounds_config_free(&bc);

    tdl_dr_config *dc = tdl_dr_config_new();
    ck_assert_ptr_nonnull(dc);
    ck_assert_int_eq(tdl_dr_config_set_number(dc, "epochs", 3), TDL_OK);
    ck_assert_uint_eq(dc->epochs, 3);
    ck_assert_int_eq(tdl_dr_config_set_number(dc, "rho_init", -4), TDL_OK);
    ck_assert(dc->rho_init == -4);
    ck_assert_int_eq(tdl_dr_config_set_text(dc, "objective", "pinsker"), TDL_OK);
    ck_assert_int_eq(dc->objective, TDL_DR_PINSKER);
    ck_assert_int_eq(tdl_dr_config_set_text(dc, "objective", "mcallester"), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "mcallester"));
    ck_assert_int_eq(tdl_dr_config_set_number(dc, "mc_samples", -2), TDL_EINVAL);
    ck_assert_int_eq(tdl_dr_config_set_number(dc, "momentum", 0.9), TDL_EINVAL);
    tdl_dr_config_free(&dc);
    ck_assert_ptr_null(dc);

    tdl_ntk_config *o = NULL;
    ck_assert_int_eq(tdl_ntk_config_new(0, "nope", 0, 0, &o), TDL_EINVAL);
    ck_assert_ptr_null(o);
    ck_assert_int_eq(tdl_ntk_config_new(0, "structured", 0, 0, &o), TDL_OK);
    double K[36], K2[36];
    gsl_matrix *Kg = tdl_matrix_wrap(K, 6, 6), *K2g = tdl_matrix_wrap(K2, 6, 6);
    ck_assert_int_eq(tdl_ntk_empirical(m, tdl_dataset_inputs(ds), NULL, o, Kg), TDL_OK);
    ck_assert_int_eq(tdl_ntk_empirical(m, tdl_dataset_inputs(ds), NULL, NULL, K2g), TDL_OK);
    for (size_t i = 0; i < 36; i++) ck_assert(fabs(K[i] - K2[i]) <= 1e-12 * (1 + fabs(K2[i])));
    tdl_ntk_config_free(&o);

    tdl_ntk_analytic_config *ac = NULL;
    ck_assert_int_eq(tdl_ntk_analytic_config_new(m, NULL, 0, &ac), TDL_OK);
    ck_assert_int_eq(tdl_ntk_analytic_config_numeric(ac), 0);
    ck_assert_str_eq(tdl_ntk_analytic_config_param_name(ac), "standard");
    ck_assert_int_eq(tdl_ntk_analytic(ac, tdl_dataset_inputs(ds), NULL, NULL, Kg), TDL_OK);
    tdl_ntk_analytic_config_free(&ac);
    ck_assert_int_eq(tdl_ntk_analytic_config_new(m, "tanh", 0, &ac), TDL_OK);
    ck_assert_int_eq(tdl_ntk_analytic_config_numeric(ac), 1);
    tdl_ntk_analytic_config_free(&ac);
    ck_assert_int_eq(tdl_ntk_analytic_config_new(m, "swish", 0, &ac), TDL_EINVAL);
    ck_assert_ptr_null(ac);
    tdl_matrix_wrap_free(&Kg);
    tdl_matrix_wrap_free(&K2g);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
}
END_TEST

static Suite *access_suite(void)
{
    Suite *s = suite_create("access");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_sizeof);
    tcase_add_test(core, test_dataset_accessors);
    tcase_add_test(core, test_matrix_wrap);
    tcase_add_test(core, test_mlp_accessors);
    tcase_add_test(core, test_train_config);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_mlp_config_errors);
    tcase_add_test(errors, test_bounds_and_ntk_handles);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(access_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
