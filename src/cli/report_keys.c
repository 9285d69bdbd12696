/* report_keys.c — the keys `tdl report` reads from its commands' JSON, and
 * the one reader of them (report_keys.h).
 *
 * A key the commands write only in some cases (with --test, with --drift,
 * a finite value) is RK_OPTIONAL; every other key must be there.  A number
 * may always be null: the commands' JSON writer puts null for NaN and
 * infinities (with a KEY_reason beside it), which the report shows as "-".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report_keys.h"

#define K(id, group, key, type, flags, shown) [id] = {group, key, type, flags, RKG_NONE, shown}
#define NESTED(id, group, key, type, flags, child, shown) [id] = {group, key, type, flags, child, shown}

const rk_key report_keys[RK_COUNT] = {
    /* tdl info --data: the summary table "Model and data" */
    K(RK_DATA_SPEC, RKG_DATA, "spec", RKT_STRING, 0, "the data spec, summary row \"data\""),
    K(RK_DATA_DESCRIPTION, RKG_DATA, "description", RKT_STRING, RK_OPTIONAL, "summary row \"data description\""),
    K(RK_DATA_N, RKG_DATA, "n", RKT_NUMBER, 0, "summary row \"examples n\""),
    K(RK_DATA_D, RKG_DATA, "d", RKT_NUMBER, 0, "summary row \"features d\"; the input width of the net the report trains"),
    K(RK_DATA_CLASSES, RKG_DATA, "classes", RKT_NUMBER, 0,
      "summary row \"classes\"; the output width of the net trained; 0 (regression): no bounds section"),
    K(RK_DATA_CLASS_COUNTS, RKG_DATA, "class_counts", RKT_NUMBERS, RK_OPTIONAL, "summary row \"class counts\" (null for regression)"),
    K(RK_DATA_BLAS_CORE, RKG_DATA, "blas_core", RKT_STRING, RK_OPTIONAL,
      "summary row \"BLAS kernel (OpenBLAS)\" (the report's own tdl_blas_core() without it)"),
    /* tdl info --model */
    K(RK_MODEL_ARCH, RKG_MODEL, "arch", RKT_STRING, 0, "summary row \"architecture\""),
    K(RK_MODEL_ACTIVATION, RKG_MODEL, "activation", RKT_STRING, 0, "summary row \"activation\""),
    K(RK_MODEL_PARAMETRIZATION, RKG_MODEL, "parametrization", RKT_STRING, 0, "summary row \"parametrization\""),
    K(RK_MODEL_PARAMS, RKG_MODEL, "params", RKT_NUMBER, 0, "summary row \"parameters P\""),
    K(RK_MODEL_HAS_INIT, RKG_MODEL, "has_init", RKT_BOOL, 0,
      "the file keeps init.* tensors: summary row \"initialization kept\"; the interpolation and NTK drift run only then"),
    /* tdl train */
    K(RK_TRAIN_OPTIMIZER, RKG_TRAIN, "optimizer", RKT_STRING, 0, "summary row \"training\""),
    K(RK_TRAIN_LR, RKG_TRAIN, "lr", RKT_NUMBER, 0, "summary row \"training\""),
    K(RK_TRAIN_BATCH, RKG_TRAIN, "batch", RKT_NUMBER, 0, "summary row \"training\""),
    K(RK_TRAIN_EPOCHS, RKG_TRAIN, "epochs", RKT_NUMBER, 0, "summary row \"epochs\""),
    K(RK_TRAIN_SECONDS, RKG_TRAIN, "seconds", RKT_NUMBER, 0, "summary row \"training seconds\""),
    /* tdl eval (training and test data) */
    K(RK_EVAL_LOSS_NAME, RKG_EVAL, "loss_name", RKT_STRING, 0, "summary row \"loss\""),
    K(RK_EVAL_REDUCTION, RKG_EVAL, "reduction", RKT_STRING, 0, "the reduction in the rows \"train loss (R)\", \"test loss (R)\" and the landscape's caption"),
    K(RK_EVAL_LOSS_DEFINITION, RKG_EVAL, "loss_definition", RKT_STRING, 0, "summary row \"loss definition\" (with its PyTorch equivalent)"),
    K(RK_EVAL_LOSS, RKG_EVAL, "loss", RKT_NUMBER, 0, "summary rows \"train loss (R)\", \"test loss (R)\" (R the reduction, mean by default)"),
    K(RK_EVAL_ERROR, RKG_EVAL, "error", RKT_NUMBER, 0, "summary rows \"train error\", \"test error\" (null for regression)"),
    K(RK_EVAL_ACCURACY, RKG_EVAL, "accuracy", RKT_NUMBER, 0, "summary rows \"train accuracy\", \"test accuracy\" (null for regression)"),
    /* tdl hessian --gn --density: section "Hessian spectrum" and fig/hessian-spectrum */
    K(RK_HESS_LOSS_NAME, RKG_HESSIAN, "loss_name", RKT_STRING, 0, "the section's first paragraph; the histogram's caption"),
    K(RK_HESS_REDUCTION, RKG_HESSIAN, "reduction", RKT_STRING, 0, "the histogram's caption: loss NAME (REDUCTION)"),
    K(RK_HESS_ARCH, RKG_HESSIAN, "arch", RKT_STRING, 0, "the section's first paragraph; the histogram's caption"),
    K(RK_HESS_DRIVER, RKG_HESSIAN, "driver", RKT_STRING, 0, "the LAPACK driver in the section's first paragraph"),
    K(RK_HESS_PARAMS, RKG_HESSIAN, "params", RKT_NUMBER, 0, "Hessian row \"parameters\""),
    K(RK_HESS_LOSS, RKG_HESSIAN, "loss", RKT_NUMBER, 0, "Hessian row \"loss at the model\"; the histogram's caption"),
    K(RK_HESS_LAMBDA_MAX, RKG_HESSIAN, "lambda_max", RKT_NUMBER, 0, "Hessian row \"lambda_max(H)\""),
    K(RK_HESS_LAMBDA_MIN, RKG_HESSIAN, "lambda_min", RKT_NUMBER, 0, "Hessian row \"lambda_min(H)\""),
    K(RK_HESS_TRACE, RKG_HESSIAN, "trace", RKT_NUMBER, 0, "Hessian row \"trace(H)\""),
    K(RK_HESS_GN_TRACE, RKG_HESSIAN, "gn_trace", RKT_NUMBER, RK_OPTIONAL, "Hessian row \"trace(G)\" (absent when not finite)"),
    K(RK_HESS_NEGATIVE_FRACTION, RKG_HESSIAN, "negative_fraction", RKT_NUMBER, 0, "Hessian row \"fraction of negative eigenvalues\""),
    K(RK_HESS_CONDITION_POSITIVE, RKG_HESSIAN, "condition_positive", RKT_NUMBER, 0,
      "Hessian row \"condition number of the positive part\""),
    K(RK_HESS_TOLERANCE, RKG_HESSIAN, "tolerance", RKT_NUMBER, 0, "Hessian row \"zero tolerance |lambda| <=\""),
    K(RK_HESS_EIGENVALUES, RKG_HESSIAN, "eigenvalues", RKT_NUMBERS, 0,
      "all eigenvalues of H, ascending: \"top 5 eigenvalues of H\", column H of tables/hessian-eigenvalues.csv, the histogram"),
    K(RK_HESS_GN_EIGENVALUES, RKG_HESSIAN, "gn_eigenvalues", RKT_NUMBERS, 0,
      "all eigenvalues of G: \"top 5 eigenvalues of G\", column G of tables/hessian-eigenvalues.csv, the histogram"),
    K(RK_HESS_R_EIGENVALUES, RKG_HESSIAN, "residual_part_eigenvalues", RKT_NUMBERS, RK_OPTIONAL,
      "all eigenvalues of R = H - G: \"top 5 eigenvalues of R = H - G\", column R of tables/hessian-eigenvalues.csv"),
    NESTED(RK_HESS_DENSITY, RKG_HESSIAN, "density", RKT_OBJECT, 0, RKG_DENSITY, "the spectral density (fig/hessian-density)"),
    K(RK_DENS_SMOOTHING, RKG_DENSITY, "smoothing", RKT_STRING, 0, "the caption of fig/hessian-density"),
    K(RK_DENS_SIGMA, RKG_DENSITY, "sigma", RKT_NUMBER, 0, "the caption of fig/hessian-density"),
    K(RK_HESS_ERROR_BOUNDS, RKG_HESSIAN, "error_bounds", RKT_NUMBERS, 0,
      "the certified error bound of every eigenvalue of H: Hessian row \"error bound of every eigenvalue\"; the digits shown"),
    K(RK_HESS_GN_ERROR_BOUNDS, RKG_HESSIAN, "gn_error_bounds", RKT_NUMBERS, 0, "the same for G: the digits of \"top 5 eigenvalues of G\""),
    /* tdl hessian --gn --method dual --class-split --k C (classifiers): section "Class structure of G" */
    K(RK_DUAL_N, RKG_GN_DUAL, "n", RKT_NUMBER, 0, "the section's paragraph: n"),
    K(RK_DUAL_OUTPUTS, RKG_GN_DUAL, "outputs", RKT_NUMBER, 0, "the section's paragraph: C"),
    K(RK_DUAL_DRIVER, RKG_GN_DUAL, "driver", RKT_STRING, 0, "the section's paragraph: the solver"),
    K(RK_DUAL_EIGENVALUES, RKG_GN_DUAL, "gn_eigenvalues", RKT_NUMBERS, 0, "the top C eigenvalues of G (the outliers' column)"),
    K(RK_DUAL_ERROR_BOUNDS, RKG_GN_DUAL, "error_bounds", RKT_NUMBERS, 0, "their certified error bounds (the digits shown)"),
    K(RK_DUAL_TRACE, RKG_GN_DUAL, "gn_trace", RKT_NUMBER, 0, "row \"trace(G)\""),
    K(RK_DUAL_SECONDS, RKG_GN_DUAL, "seconds", RKT_NUMBER, 0, "the section's paragraph: the time"),
    NESTED(RK_DUAL_SPLIT, RKG_GN_DUAL, "class_split", RKT_OBJECT, 0, RKG_SPLIT, "Papyan's class / cross-class split"),
    K(RK_SPLIT_TRACE_CLASS, RKG_SPLIT, "trace_class", RKT_NUMBER, 0, "row \"trace(G_class)\""),
    K(RK_SPLIT_TRACE_CROSS, RKG_SPLIT, "trace_cross", RKT_NUMBER, 0, "row \"trace(G_cross)\""),
    K(RK_SPLIT_TRACE_WITHIN, RKG_SPLIT, "trace_within", RKT_NUMBER, 0, "row \"trace(G_within)\""),
    K(RK_SPLIT_CLASS_EIGENVALUES, RKG_SPLIT, "class_eigenvalues", RKT_NUMBERS, 0, "row \"top eigenvalues of G_class\""),
    K(RK_SPLIT_CROSS_EIGENVALUES, RKG_SPLIT, "cross_eigenvalues", RKT_NUMBERS, 0, "row \"top eigenvalues of G_cross\""),
    K(RK_SPLIT_OUTLIERS, RKG_SPLIT, "outlier_eigenvalues", RKT_NUMBERS, 0, "the outliers' table, column lambda_j"),
    K(RK_SPLIT_CLASS_SHARE, RKG_SPLIT, "outlier_class_share", RKT_NUMBERS, 0, "the outliers' table, column \"class-mean share\""),
    K(RK_SPLIT_CROSS_SHARE, RKG_SPLIT, "outlier_cross_share", RKT_NUMBERS, 0, "the outliers' table, column \"cross-class share\""),
    /* tdl certify --arch (the model's) with the report's data: section "PAC-Bayes certificate" */
    K(RK_CERT_CERTIFICATE, RKG_CERTIFY, "certificate", RKT_NUMBER, 0, "row \"certificate\""),
    K(RK_CERT_CONFIDENCE, RKG_CERTIFY, "confidence", RKT_NUMBER, 0, "row \"confidence 1 - delta - delta_mc\""),
    K(RK_CERT_STOCHASTIC_TEST, RKG_CERTIFY, "stochastic_test_error", RKT_NUMBER, 0, "row \"test error of the stochastic net Q\""),
    K(RK_CERT_MEAN_TEST, RKG_CERTIFY, "mean_net_test_error", RKT_NUMBER, 0, "row \"test error of the mean net\""),
    K(RK_CERT_KL, RKG_CERTIFY, "kl", RKT_NUMBER, 0, "row \"KL(Q || P)\""),
    K(RK_CERT_M_BOUND, RKG_CERTIFY, "m_bound", RKT_NUMBER, 0, "row \"bound part m\""),
    K(RK_CERT_M_PRIOR, RKG_CERTIFY, "m_prior", RKT_NUMBER, 0, "row \"prior part\""),
    K(RK_CERT_OBJECTIVE, RKG_CERTIFY, "objective", RKT_STRING, 0, "the section's paragraph"),
    K(RK_CERT_PRIOR_SIGMA, RKG_CERTIFY, "prior_sigma", RKT_NUMBER, 0, "row \"prior scale\""),
    K(RK_CERT_THEOREM, RKG_CERTIFY, "theorem", RKT_STRING, 0, "the section's note: the theorem"),
    K(RK_CERT_SECONDS, RKG_CERTIFY, "seconds", RKT_NUMBER, 0, "the section's paragraph: the time"),
    /* tdl landscape --plane random: table "Loss landscape" */
    K(RK_L2_CENTRE_LOSS, RKG_LANDSCAPE, "centre_loss", RKT_NUMBER, 0, "landscape row \"loss at the model (centre)\""),
    K(RK_L2_LOSS_MIN, RKG_LANDSCAPE, "loss_min", RKT_NUMBER, 0, "landscape row \"smallest loss on the grid\""),
    K(RK_L2_LOSS_MAX, RKG_LANDSCAPE, "loss_max", RKT_NUMBER, 0, "landscape row \"largest loss on the grid\""),
    K(RK_L2_COSINE, RKG_LANDSCAPE, "cosine", RKT_NUMBER, 0, "landscape row \"cosine between the directions\""),
    K(RK_L2_NORMALIZATION, RKG_LANDSCAPE, "normalization", RKT_STRING, 0, "the caption of fig/landscape-2d"),
    /* tdl landscape --to: the interpolation rows */
    K(RK_INTERP_LOSS_START, RKG_INTERP, "loss_start", RKT_NUMBER, 0, "landscape row \"loss at the initialization (alpha = 0)\""),
    K(RK_INTERP_LOSS_END, RKG_INTERP, "loss_end", RKT_NUMBER, 0, "landscape row \"loss at the model (alpha = 1)\""),
    K(RK_INTERP_LOSS_MAX, RKG_INTERP, "loss_max", RKT_NUMBER, 0, "landscape row \"largest loss on the path\""),
    /* tdl ntk: section "Neural tangent kernel" */
    K(RK_NTK_NORMALIZATION, RKG_NTK, "normalization", RKT_STRING, 0, "the section's first paragraph"),
    K(RK_NTK_METHOD, RKG_NTK, "method", RKT_STRING, 0, "the section's first paragraph"),
    K(RK_NTK_N, RKG_NTK, "n", RKT_NUMBER, 0, "NTK row \"n\""),
    K(RK_NTK_LAMBDA_MAX, RKG_NTK, "lambda_max", RKT_NUMBER, 0, "NTK row \"lambda_max\""),
    K(RK_NTK_LAMBDA_MIN, RKG_NTK, "lambda_min", RKT_NUMBER, 0, "NTK row \"lambda_min\""),
    K(RK_NTK_TRACE, RKG_NTK, "trace", RKT_NUMBER, 0, "NTK row \"trace\""),
    K(RK_NTK_CONDITION_NUMBER, RKG_NTK, "condition_number", RKT_NUMBER, 0, "NTK row \"condition number\" (null when lambda_min <= 0)"),
    K(RK_NTK_ETA_MAX, RKG_NTK, "eta_max", RKT_NUMBER, RK_OPTIONAL,
      "NTK row \"largest stable learning rate 2n/lambda_max (mse)\" (absent when not finite)"),
    K(RK_NTK_DRIFT, RKG_NTK, "drift", RKT_NUMBER, RK_OPTIONAL, "NTK row \"drift ||K_T - K_0||_F / ||K_0||_F\" (tdl ntk --drift)"),
    K(RK_NTK_EIGENVALUES, RKG_NTK, "eigenvalues", RKT_NUMBERS, 0, "tables/ntk-eigenvalues.csv"),
    /* tdl bounds: section "Generalization bounds" */
    K(RK_BOUNDS_TRAIN_ERROR, RKG_BOUNDS, "train_error", RKT_NUMBER, 0, "the section's first paragraph"),
    K(RK_BOUNDS_TEST_ERROR, RKG_BOUNDS, "test_error", RKT_NUMBER, RK_OPTIONAL, "the section's first paragraph (with --test)"),
    K(RK_BOUNDS_CHANCE, RKG_BOUNDS, "chance", RKT_NUMBER, RK_OPTIONAL,
      "1 - 1/C: the section's first paragraph, the vertical line \"chance\" of fig/bounds"),
    NESTED(RK_BOUNDS_MEASURES, RKG_BOUNDS, "measures", RKT_OBJECTS, 0, RKG_MEASURE, "one row of the bounds table each"),
    K(RK_MEAS_NAME, RKG_MEASURE, "name", RKT_STRING, 0, "bounds column \"measure\""),
    K(RK_MEAS_VALUE, RKG_MEASURE, "value", RKT_NUMBER, 0, "bounds column \"value\""),
    K(RK_MEAS_BOUND, RKG_MEASURE, "bound", RKT_NUMBER, 0, "bounds column \"bound\" (null: a measure, not a bound)"),
    K(RK_MEAS_VACUOUS, RKG_MEASURE, "vacuous", RKT_BOOL, 0, "bounds column \"vacuous\"; the row in bold"),
    K(RK_MEAS_AVAILABLE, RKG_MEASURE, "available", RKT_BOOL, 0, "false: the row is left out"),
    K(RK_MEAS_DELTA, RKG_MEASURE, "delta", RKT_NUMBER, 0, "bounds column \"delta\""),
    K(RK_MEAS_SOURCE, RKG_MEASURE, "source", RKT_STRING, 0, "bounds column \"source\""),
    K(RK_MEAS_KIND, RKG_MEASURE, "kind", RKT_STRING, RK_OPTIONAL,
      "bounds column \"kind\" (\"bound\" or \"measure\"); only rows of kind bound are bars of fig/bounds"),
    K(RK_MEAS_CLASSIFIER, RKG_MEASURE, "classifier", RKT_STRING, RK_OPTIONAL,
      "bounds column \"bounds the\" (\"deterministic\": the trained net, \"gibbs\": the stochastic net Q; null for a measure)"),
    K(RK_MEAS_FIXED_SCALE, RKG_MEASURE, "fixed_scale_value", RKT_NUMBER, RK_OPTIONAL,
      "bounds column \"fixed-scale value (measure)\": a measure's value at its data-chosen scales, not a bound"),
    K(RK_MEAS_BELOW_CHANCE, RKG_MEASURE, "below_chance", RKT_BOOL, RK_OPTIONAL,
      "bounds column \"below chance\" (bound < 1 - 1/C; null for a measure)"),
    /* tdl check --all --quick: section "Theorem checks" */
    NESTED(RK_CHECKS_LIST, RKG_CHECKS, "checks", RKT_OBJECTS, 0, RKG_CHECK, "one row of the checks table each"),
    /* one check (tdl check NAME --quick, or an element of "checks") */
    K(RK_CHECK_NAME, RKG_CHECK, "name", RKT_STRING, 0, "checks column \"check\""),
    K(RK_CHECK_PASSED, RKG_CHECK, "passed", RKT_BOOL, 0, "checks column \"verdict\"; a failed check in bold"),
    K(RK_CHECK_SECONDS, RKG_CHECK, "seconds", RKT_NUMBER, 0, "checks column \"seconds\""),
    K(RK_CHECK_CLAIM, RKG_CHECK, "claim", RKT_STRING, 0, "checks column \"claim\""),
    K(RK_CHECK_SOURCE, RKG_CHECK, "source", RKT_STRING, 0, "checks column \"source\""),
    NESTED(RK_CHECK_ROWS, RKG_CHECK, "rows", RKT_OBJECTS, 0, RKG_CHECK_ROW, "checks column \"criteria met\""),
    K(RK_ROW_OK, RKG_CHECK_ROW, "ok", RKT_BOOL, RK_OPTIONAL, "a criterion met (true), missed (false) or not judged (null)"),
};

rk_group report_keys_group(const char *step_name)
{
    static const struct { const char *name; rk_group group; } steps[] = {
        {"data", RKG_DATA}, {"model", RKG_MODEL}, {"train", RKG_TRAIN}, {"eval-train", RKG_EVAL}, {"eval-test", RKG_EVAL},
        {"hessian", RKG_HESSIAN}, {"hessian-dual", RKG_GN_DUAL}, {"certify", RKG_CERTIFY}, {"landscape-2d", RKG_LANDSCAPE}, {"interpolation", RKG_INTERP}, {"ntk", RKG_NTK},
        {"bounds", RKG_BOUNDS}, {"checks", RKG_CHECKS},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (strcmp(step_name, steps[i].name) == 0) return steps[i].group;
    if (strncmp(step_name, "check-", 6) == 0) return RKG_CHECK;
    return RKG_NONE;
}

static const char *type_name(rk_type t)
{
    switch (t) {
    case RKT_NUMBER: return "a number";
    case RKT_STRING: return "a string";
    case RKT_BOOL: return "true or false";
    case RKT_NUMBERS: return "an array of numbers";
    case RKT_OBJECT: return "an object";
    case RKT_OBJECTS: return "an array of objects";
    }
    return "?";
}

static int type_ok(const cJSON *v, rk_type t, int optional)
{
    if (cJSON_IsNull(v)) return t == RKT_NUMBER || optional;
    switch (t) {
    case RKT_NUMBER: return cJSON_IsNumber(v);
    case RKT_STRING: return cJSON_IsString(v);
    case RKT_BOOL: return cJSON_IsBool(v);
    case RKT_OBJECT: return cJSON_IsObject(v);
    case RKT_OBJECTS:
    case RKT_NUMBERS: {
        if (!cJSON_IsArray(v)) return 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
            if (t == RKT_NUMBERS ? !(cJSON_IsNumber(it) || cJSON_IsNull(it)) : !cJSON_IsObject(it)) return 0;
        return 1;
    }
    }
    return 0;
}

/* prefix: the path of obj in its file ("" at the top, "measures[3]." below) */
static int check_group(const cJSON *obj, rk_group group, const char *prefix, char *why, size_t len)
{
    for (size_t i = 0; i < RK_COUNT; i++) {
        const rk_key *k = &report_keys[i];
        if (k->group != group) continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, k->key);
        int optional = k->flags & RK_OPTIONAL;
        if (!v) {
            if (optional) continue;
            snprintf(why, len, "no key \"%s%s\" (%s)", prefix, k->key, type_name(k->type));
            return -1;
        }
        if (!type_ok(v, k->type, optional)) {
            snprintf(why, len, "the key \"%s%s\" is not %s", prefix, k->key, type_name(k->type));
            return -1;
        }
        if (k->type == RKT_OBJECT && cJSON_IsObject(v)) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s%s.", prefix, k->key);
            if (check_group(v, k->child, sub, why, len) != 0) return -1;
        } else if (k->type == RKT_OBJECTS && cJSON_IsArray(v)) {
            const cJSON *it;
            int idx = 0;
            cJSON_ArrayForEach(it, v) {
                char sub[256];
                snprintf(sub, sizeof sub, "%s%s[%d].", prefix, k->key, idx++);
                if (check_group(it, k->child, sub, why, len) != 0) return -1;
            }
        }
    }
    return 0;
}

int report_keys_check(const cJSON *obj, rk_group group, char *why, size_t len)
{
    if (group == RKG_NONE) return 0;
    if (!cJSON_IsObject(obj)) {
        snprintf(why, len, "not a JSON object");
        return -1;
    }
    return check_group(obj, group, "", why, len);
}

double rk_num(const cJSON *obj, rk_id id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, report_keys[id].key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *rk_str(const cJSON *obj, rk_id id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, report_keys[id].key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *rk_text(const cJSON *obj, rk_id id, const char *absent)
{
    const char *s = rk_str(obj, id);
    return s ? s : absent;
}

int rk_bool(const cJSON *obj, rk_id id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, report_keys[id].key);
    return cJSON_IsTrue(v) ? 1 : cJSON_IsFalse(v) ? 0 : -1;
}

const cJSON *rk_item(const cJSON *obj, rk_id id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, report_keys[id].key);
    return cJSON_IsArray(v) || cJSON_IsObject(v) ? v : NULL;
}
