/* report_keys.h — every key `tdl report` reads from the --json output of the
 * commands it runs, named once (report_keys.c: key, expected type, where the
 * report shows it) and read through one set of helpers.
 *
 * When a step ends, its JSON is checked against the table
 * (report_keys_check): a key that is missing, or of another type, makes the
 * step fail with one message naming the command, the file and the key, and
 * the section that reads it says so; the sections then read only JSON that
 * passed the check.  Numbers may be null (NaN: the commands write null for a
 * number that is not finite; the report shows "-").
 */
#ifndef TDL_CLI_REPORT_KEYS_H
#define TDL_CLI_REPORT_KEYS_H
#include <cjson/cJSON.h>
#include <stddef.h>

/* The objects the keys live in: one JSON file each, or an object nested in one. */
typedef enum rk_group {
    RKG_DATA,          /* json/data.json: tdl info --data */
    RKG_MODEL,         /* json/model.json: tdl info --model */
    RKG_TRAIN,         /* json/train.json: tdl train */
    RKG_EVAL,          /* json/eval-train.json, json/eval-test.json: tdl eval */
    RKG_HESSIAN,       /* json/hessian.json: tdl hessian --gn --density */
    RKG_DENSITY,       /*   its "density" object */
    RKG_GN_DUAL,       /* json/hessian-dual.json: tdl hessian --gn --method dual --class-split */
    RKG_SPLIT,         /*   its "class_split" object */
    RKG_CERTIFY,       /* json/certify.json: tdl certify (classifiers with test data) */
    RKG_LANDSCAPE,     /* json/landscape-2d.json: tdl landscape --plane random */
    RKG_INTERP,        /* json/interpolation.json: tdl landscape --to */
    RKG_NTK,           /* json/ntk.json: tdl ntk */
    RKG_BOUNDS,        /* json/bounds.json: tdl bounds */
    RKG_MEASURE,       /*   each element of its "measures" */
    RKG_CHECKS,        /* json/checks.json: tdl check --all */
    RKG_CHECK,         /* json/check-NAME.json, and each element of "checks" */
    RKG_CHECK_ROW,     /*   each element of a check's "rows" */
    RKG_COUNT,
    RKG_NONE = -1      /* a step whose output the report does not read */
} rk_group;

typedef enum rk_type {
    RKT_NUMBER,        /* a number or null (NaN) */
    RKT_STRING,
    RKT_BOOL,          /* true / false (or null, where RK_OPTIONAL) */
    RKT_NUMBERS,       /* an array of numbers (or nulls), or null where RK_OPTIONAL */
    RKT_OBJECT,        /* an object of the group `child` */
    RKT_OBJECTS        /* an array of objects of the group `child` */
} rk_type;

/* flags */
#define RK_OPTIONAL 1  /* may be absent (or null): the report leaves it out or shows "-" */

typedef struct rk_key {
    rk_group group;
    const char *key;
    rk_type type;
    int flags;
    rk_group child;    /* RKT_OBJECT / RKT_OBJECTS: the group of the elements */
    const char *shown; /* what it is and where the report shows it */
} rk_key;

typedef enum rk_id {
    RK_DATA_SPEC, RK_DATA_DESCRIPTION, RK_DATA_N, RK_DATA_D, RK_DATA_CLASSES, RK_DATA_CLASS_COUNTS, RK_DATA_BLAS_CORE,
    RK_MODEL_ARCH, RK_MODEL_ACTIVATION, RK_MODEL_PARAMETRIZATION, RK_MODEL_PARAMS, RK_MODEL_HAS_INIT,
    RK_TRAIN_OPTIMIZER, RK_TRAIN_LR, RK_TRAIN_BATCH, RK_TRAIN_EPOCHS, RK_TRAIN_SECONDS,
    RK_EVAL_LOSS_NAME, RK_EVAL_REDUCTION, RK_EVAL_LOSS_DEFINITION, RK_EVAL_LOSS, RK_EVAL_ERROR, RK_EVAL_ACCURACY,
    RK_HESS_LOSS_NAME, RK_HESS_REDUCTION, RK_HESS_ARCH, RK_HESS_DRIVER, RK_HESS_PARAMS, RK_HESS_LOSS, RK_HESS_LAMBDA_MAX, RK_HESS_LAMBDA_MIN,
    RK_HESS_TRACE, RK_HESS_GN_TRACE, RK_HESS_NEGATIVE_FRACTION, RK_HESS_CONDITION_POSITIVE, RK_HESS_TOLERANCE,
    RK_HESS_EIGENVALUES, RK_HESS_GN_EIGENVALUES, RK_HESS_R_EIGENVALUES, RK_HESS_DENSITY,
    RK_HESS_ERROR_BOUNDS, RK_HESS_GN_ERROR_BOUNDS,
    RK_DUAL_N, RK_DUAL_OUTPUTS, RK_DUAL_DRIVER, RK_DUAL_EIGENVALUES, RK_DUAL_ERROR_BOUNDS, RK_DUAL_TRACE, RK_DUAL_SECONDS,
    RK_DUAL_SPLIT,
    RK_SPLIT_TRACE_CLASS, RK_SPLIT_TRACE_CROSS, RK_SPLIT_TRACE_WITHIN, RK_SPLIT_CLASS_EIGENVALUES,
    RK_SPLIT_CROSS_EIGENVALUES, RK_SPLIT_OUTLIERS, RK_SPLIT_CLASS_SHARE, RK_SPLIT_CROSS_SHARE,
    RK_CERT_CERTIFICATE, RK_CERT_CONFIDENCE, RK_CERT_STOCHASTIC_TEST, RK_CERT_MEAN_TEST, RK_CERT_KL, RK_CERT_M_BOUND,
    RK_CERT_M_PRIOR, RK_CERT_OBJECTIVE, RK_CERT_PRIOR_SIGMA, RK_CERT_THEOREM, RK_CERT_SECONDS,
    RK_DENS_SMOOTHING, RK_DENS_SIGMA,
    RK_L2_CENTRE_LOSS, RK_L2_LOSS_MIN, RK_L2_LOSS_MAX, RK_L2_COSINE, RK_L2_NORMALIZATION,
    RK_INTERP_LOSS_START, RK_INTERP_LOSS_END, RK_INTERP_LOSS_MAX,
    RK_NTK_NORMALIZATION, RK_NTK_METHOD, RK_NTK_N, RK_NTK_LAMBDA_MAX, RK_NTK_LAMBDA_MIN, RK_NTK_TRACE,
    RK_NTK_CONDITION_NUMBER, RK_NTK_ETA_MAX, RK_NTK_DRIFT, RK_NTK_EIGENVALUES,
    RK_BOUNDS_TRAIN_ERROR, RK_BOUNDS_TEST_ERROR, RK_BOUNDS_CHANCE, RK_BOUNDS_MEASURES,
    RK_MEAS_NAME, RK_MEAS_VALUE, RK_MEAS_BOUND, RK_MEAS_VACUOUS, RK_MEAS_AVAILABLE, RK_MEAS_DELTA, RK_MEAS_SOURCE,
    RK_MEAS_KIND, RK_MEAS_CLASSIFIER, RK_MEAS_FIXED_SCALE, RK_MEAS_BELOW_CHANCE,
    RK_CHECKS_LIST,
    RK_CHECK_NAME, RK_CHECK_PASSED, RK_CHECK_SECONDS, RK_CHECK_CLAIM, RK_CHECK_SOURCE, RK_CHECK_ROWS,
    RK_ROW_OK,
    RK_COUNT
} rk_id;

/* The table, indexed by rk_id. */
extern const rk_key report_keys[RK_COUNT];

/* The group of a step's JSON, by the step's name (data, eval-train,
 * check-NAME, ...); RKG_NONE for a name the report does not read. */
rk_group report_keys_group(const char *step_name);

/* Check obj (a group's object) against the table, nested objects included.
 * 0, or -1 with a message naming the key path in why ("density.sigma",
 * "measures[3].bound") and the type expected. */
int report_keys_check(const cJSON *obj, rk_group group, char *why, size_t len);

/* Reading a checked object (obj may be NULL): */
double rk_num(const cJSON *obj, rk_id id);       /* NaN when absent or null */
const char *rk_str(const cJSON *obj, rk_id id);  /* NULL when absent */
const char *rk_text(const cJSON *obj, rk_id id, const char *absent); /* the string, or `absent` */
int rk_bool(const cJSON *obj, rk_id id);         /* 1, 0, or -1 when absent or null */
const cJSON *rk_item(const cJSON *obj, rk_id id);/* an array or object, or NULL */

#endif
