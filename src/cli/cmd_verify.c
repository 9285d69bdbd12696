/* cmd_verify.c — `tdl verify`: compare a user's answer with tdl's exact
 * quantity and name the convention that slipped (issue 21, first stage:
 * single quantities).
 *
 * parse_options (verify_opts) -> read_array (the answer / --vector: .npy,
 * FILE.npz[:member], .csv or a literal number, by the public readers of
 * tdl/io.h) -> compute (tdl's exact quantity, public API only: tdl/net.h,
 * tdl/hessian.h, tdl/linalg.h, tdl/ntk.h, tdl/bounds.h) -> the library's
 * comparison and diagnosis (tdl_verify_compare, tdl/verify.h) -> text or
 * JSON.  Exit status: 0 pass, 1 fail (or a file / work error), 2 usage.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "modelopts.h"
#include "verify_cli.h"
#include "tdl/verify.h"
#include "tdl/ntk.h"
#include "tdl/bounds.h"
#include "tdl/hessian.h"
#include "tdl/linalg.h"
#include "tdl/io.h"
#include "tdl/tensor.h"
#include "tdl/memory.h"

/* the command, and the slip list of `tdl help verify` (both called from
 * commands.c, which declares them) */
int cmd_verify(int argc, char **argv);
void cli_verify_slips_help(char *buf, size_t len);

typedef struct verify_opts {
    const char *quantity_text, *data, *answer, *vector;
    tdl_verify_quantity quantity;
    const char *bound_name;   /* bound:NAME */
    int analytic;             /* ntk:analytic / nngp (analytic kernels) */
    int ntk_full, as_json, q_given, c_given, tol_given;
    double tol, q, c;
} verify_opts;

/* An array read from a FILE spec: values and shape (ndim <= 2). */
typedef struct varray {
    double *v;
    size_t numel;
    tdl_verify_shape shape;
} varray;

static void varray_free(varray *a)
{
    free(a->v);
    memset(a, 0, sizeof *a);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Take a tensor's values and shape (at most 2-D). */
static int take_tensor(const char *what, const char *spec, const tdl_tensor *t, varray *out)
{
    if (t->ndim > 2)
        return tdl_error_set(TDL_ESHAPE, "%s %s: a %zu-D array; verify reads scalars, vectors and matrices (up to 2-D)",
                             what, spec, t->ndim);
    out->numel = t->numel;
    out->shape.ndim = t->ndim;
    out->shape.dim[0] = t->ndim > 0 ? t->shape[0] : 0;
    out->shape.dim[1] = t->ndim > 1 ? t->shape[1] : 0;
    out->v = malloc((t->numel ? t->numel : 1) * sizeof(double));
    if (!out->v) return tdl_error_set(TDL_ENOMEM, "out of memory reading %s %s", what, spec);
    if (t->numel) memcpy(out->v, t->data, t->numel * sizeof(double));
    return TDL_OK;
}

/* Read a FILE spec: .npy; FILE.npz or FILE.npz:member; .csv; or a literal
 * number (when no file of that name exists).  Returns TDL_OK or a status
 * with the message set (the caller prints one line, exit 1). */
static int read_array_raw(const char *what, const char *spec, varray *out);

static int read_array(const char *what, const char *spec, varray *out)
{
    int st = read_array_raw(what, spec, out);
    if (st != TDL_OK && strncmp(tdl_errmsg(), what, strlen(what)) != 0) {
        char msg[512]; /* the reader's message, said of the option */
        snprintf(msg, sizeof msg, "%s", tdl_errmsg());
        st = tdl_error_set(st, "%s %s", what, msg);
    }
    return st;
}

static int read_array_raw(const char *what, const char *spec, varray *out)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    double x;
    if (stat(spec, &sb) != 0 && cli_parse_double(spec, &x) == 0) {
        out->v = malloc(sizeof(double));
        if (!out->v) return tdl_error_set(TDL_ENOMEM, "out of memory");
        out->v[0] = x;
        out->numel = 1;
        out->shape.ndim = 0;
        return TDL_OK;
    }
    int st;
    if (ends_with(spec, ".npy")) {
        tdl_tensor *t = NULL;
        if ((st = tdl_npy_read(spec, &t)) != TDL_OK) return st;
        st = take_tensor(what, spec, t, out);
        tdl_tensor_free(&t);
        return st;
    }
    if (ends_with(spec, ".csv")) {
        tdl_tensor *t = NULL;
        if ((st = tdl_csv_read(spec, &t)) != TDL_OK) return st;
        st = take_tensor(what, spec, t, out);
        tdl_tensor_free(&t);
        return st;
    }
    const char *npz = strstr(spec, ".npz");
    if (npz && (npz[4] == '\0' || npz[4] == ':')) {
        size_t plen = (size_t)(npz + 4 - spec);
        char *path = malloc(plen + 1);
        if (!path) return tdl_error_set(TDL_ENOMEM, "out of memory");
        memcpy(path, spec, plen);
        path[plen] = '\0';
        const char *member = npz[4] == ':' ? npz + 5 : NULL;
        tdl_tensors *set = NULL;
        st = tdl_npz_read(path, &set);
        if (st == TDL_OK) {
            const tdl_tensor *t = NULL;
            if (member && *member) {
                t = tdl_tensors_find(set, member);
                if (!t) {
                    char names[512] = "";
                    size_t len = 0;
                    for (size_t i = 0; i < set->count && len + 4 < sizeof names; i++)
                        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", set->items[i].name);
                    st = tdl_error_set(TDL_EINVAL, "%s %s: no member '%s' in %s (members: %s)", what, spec, member, path,
                                       set->count ? names : "none");
                }
            } else if (set->count != 1) {
                st = tdl_error_set(TDL_EINVAL, "%s %s: the archive has %zu members; name one as %s:MEMBER", what, spec,
                                   set->count, path);
            } else {
                t = &set->items[0];
            }
            if (st == TDL_OK) st = take_tensor(what, spec, t, out);
        }
        tdl_tensors_free(&set);
        free(path);
        return st;
    }
    if (stat(spec, &sb) != 0)
        return tdl_error_set(TDL_EIO, "%s %s: no such file, and not a number", what, spec);
    return tdl_error_set(TDL_EFORMAT, "%s %s: expected a .npy, .npz, .npz:MEMBER or .csv file, or a number", what, spec);
}

/* A CSV of one column (or a row) for a vector quantity, and a 1 x 1 array
 * for a scalar, are read as the quantity's shape: a file format's way of
 * writing it, not a different answer. */
static void conform(varray *a, tdl_verify_shape e)
{
    if (e.ndim == 0 && a->numel == 1) a->shape.ndim = 0;
    else if (e.ndim == 1 && a->shape.ndim == 2 && (a->shape.dim[0] == 1 || a->shape.dim[1] == 1)) {
        a->shape.ndim = 1;
        a->shape.dim[0] = a->numel;
        a->shape.dim[1] = 0;
    }
}

/* ---- the exact quantity ---------------------------------------------------- */

typedef struct exact_q {
    double *v;
    tdl_verify_shape shape;
    double *alt;             /* integer-targets alternative, same shape, or NULL */
    char what[256];          /* how it was computed */
} exact_q;

static void set_shape(exact_q *e, size_t ndim, size_t d0, size_t d1)
{
    e->shape.ndim = ndim;
    e->shape.dim[0] = d0;
    e->shape.dim[1] = d1;
}

/* Loss (and gradient when g != NULL) over ds. */
static int loss_grad(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, double *L, double *g)
{
    tdl_net_work *w = NULL;
    int st = tdl_net_work_alloc(m, ds->n < 2048 ? ds->n : 2048, &w);
    if (st != TDL_OK) return st;
    st = tdl_mlp_loss_grad(m, loss, ds, w, L, g);
    tdl_net_work_free(&w);
    return st;
}

/* The integer-targets alternative: tdl's mse (same convention) against the
 * class index broadcast over the C outputs, Y[i][c] = y_i (what
 * `f - y[:, None]` computes on integer labels), for the loss or gradient. */
static int integer_targets_alt(const tdl_mlp *m, const tdl_dataset *ds, int want_grad, double *alt)
{
    size_t C = m->layers[m->depth - 1].out;
    tdl_dataset reg = *ds;
    reg.classes = 0;
    reg.labels = NULL;
    reg.labels_pm1 = 0;
    reg.Y = gsl_matrix_alloc(ds->n, C);
    if (!reg.Y) return tdl_error_set(TDL_ENOMEM, "out of memory");
    for (size_t i = 0; i < ds->n; i++)
        for (size_t c = 0; c < C; c++) gsl_matrix_set(reg.Y, i, c, (double)ds->labels[i]);
    double L = 0;
    int st = loss_grad(m, TDL_LOSS_MSE, &reg, &L, want_grad ? alt : NULL);
    if (st == TDL_OK && !want_grad) alt[0] = L;
    gsl_matrix_free(reg.Y);
    return st;
}

static int compute(const verify_opts *o, const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds,
                   const varray *vec, exact_q *e)
{
    size_t P = m->n_params, n = ds->n, C = m->layers[m->depth - 1].out;
    int st = TDL_OK;
    switch (o->quantity) {
    case TDL_VQ_LOSS:
    case TDL_VQ_GRADIENT: {
        int grad = o->quantity == TDL_VQ_GRADIENT;
        e->v = calloc(grad ? P : 1, sizeof(double));
        if (!e->v) return tdl_error_set(TDL_ENOMEM, "out of memory");
        double L;
        if ((st = loss_grad(m, loss, ds, &L, grad ? e->v : NULL)) != TDL_OK) return st;
        if (grad) set_shape(e, 1, P, 0);
        else { e->v[0] = L; set_shape(e, 0, 0, 0); }
        if (loss == TDL_LOSS_MSE && ds->classes > 0) {
            e->alt = calloc(grad ? P : 1, sizeof(double));
            if (!e->alt) return tdl_error_set(TDL_ENOMEM, "out of memory");
            if ((st = integer_targets_alt(m, ds, grad, e->alt)) != TDL_OK) return st;
        }
        snprintf(e->what, sizeof e->what, "%s of the %s loss over %zu examples", grad ? "gradient" : "value",
                 tdl_loss_name(loss), n);
        return TDL_OK;
    }
    case TDL_VQ_JACOBIAN: {
        if (P && n * C > SIZE_MAX / sizeof(double) / P)
            return tdl_error_set(TDL_ETOOBIG, "the Jacobian (%zu x %zu) is too large", n * C, P);
        e->v = malloc((n * C * P > 0 ? n * C * P : 1) * sizeof(double));
        if (!e->v) return tdl_error_set(TDL_ENOMEM, "out of memory");
        tdl_net_work *w = NULL;
        if ((st = tdl_net_work_alloc(m, n, &w)) != TDL_OK) return st;
        st = tdl_mlp_jacobian(m, ds, 0, n, w, e->v);
        tdl_net_work_free(&w);
        set_shape(e, 2, n * C, P);
        snprintf(e->what, sizeof e->what, "Jacobian of the outputs, row i*C + c = d f_c(x_i) / d theta");
        return st;
    }
    case TDL_VQ_HESSIAN:
    case TDL_VQ_GN:
    case TDL_VQ_HESSIAN_EIGENVALUES: {
        if ((st = tdl_dense_memory_check(P, 2, 0, "the dense Hessian")) != TDL_OK) return st;
        double *H = malloc(P * P * sizeof(double));
        double *G = o->quantity == TDL_VQ_GN ? malloc(P * P * sizeof(double)) : NULL;
        if (!H || (o->quantity == TDL_VQ_GN && !G)) { free(H); free(G); return tdl_error_set(TDL_ENOMEM, "out of memory"); }
        st = tdl_hessian_dense(m, loss, ds, 0, P, H, G);
        if (st == TDL_OK && o->quantity == TDL_VQ_HESSIAN_EIGENVALUES) {
            tdl_sym_eigen eg = {0};
            st = tdl_sym_eigen_solve(H, P, 0, P - 1, 0, &eg);
            if (st == TDL_OK) {
                e->v = eg.values;
                eg.values = NULL;
                set_shape(e, 1, eg.count, 0);
            }
            tdl_sym_eigen_free(&eg);
            free(H);
            snprintf(e->what, sizeof e->what, "eigenvalues of the %s loss's Hessian, ascending (LAPACK)", tdl_loss_name(loss));
        } else if (o->quantity == TDL_VQ_GN) {
            free(H);
            e->v = G;
            set_shape(e, 2, P, P);
            snprintf(e->what, sizeof e->what, "Gauss-Newton part G of the %s loss's Hessian", tdl_loss_name(loss));
        } else {
            e->v = H;
            set_shape(e, 2, P, P);
            snprintf(e->what, sizeof e->what, "Hessian of the %s loss (exact, dense)", tdl_loss_name(loss));
        }
        return st;
    }
    case TDL_VQ_HVP: {
        if (vec->numel != P)
            return tdl_error_set(TDL_ESHAPE, "--vector %s: %zu values, the model has %zu parameters", o->vector,
                                 vec->numel, P);
        e->v = malloc(P * sizeof(double));
        if (!e->v) return tdl_error_set(TDL_ENOMEM, "out of memory");
        tdl_net_work *w = NULL;
        if ((st = tdl_net_work_alloc(m, n < 2048 ? n : 2048, &w)) != TDL_OK) return st;
        st = tdl_mlp_hvp(m, loss, ds, vec->v, 0, w, e->v);
        tdl_net_work_free(&w);
        set_shape(e, 1, P, 0);
        snprintf(e->what, sizeof e->what, "Hessian-vector product H v of the %s loss (R-operator)", tdl_loss_name(loss));
        return st;
    }
    case TDL_VQ_NTK:
    case TDL_VQ_NNGP: {
        if (o->analytic || o->quantity == TDL_VQ_NNGP) {
            tdl_ntk_analytic_config cfg;
            tdl_ntk_analytic_config_from_mlp(m, &cfg);
            gsl_matrix *K = gsl_matrix_alloc(n, n);
            if (!K) return tdl_error_set(TDL_ENOMEM, "out of memory");
            st = o->quantity == TDL_VQ_NNGP ? tdl_ntk_analytic(&cfg, ds->X, NULL, K, NULL)
                                            : tdl_ntk_analytic(&cfg, ds->X, NULL, NULL, K);
            e->v = malloc(n * n * sizeof(double));
            if (st == TDL_OK && !e->v) st = tdl_error_set(TDL_ENOMEM, "out of memory");
            if (st == TDL_OK)
                for (size_t i = 0; i < n; i++)
                    for (size_t j = 0; j < n; j++) e->v[i * n + j] = gsl_matrix_get(K, i, j);
            gsl_matrix_free(K);
            set_shape(e, 2, n, n);
            snprintf(e->what, sizeof e->what,
                     "analytic infinite-width %s per output (%s parametrization, sigma_w %g, sigma_b %g, depth %zu)",
                     o->quantity == TDL_VQ_NNGP ? "NNGP kernel" : "NTK", tdl_param_name(m->param), m->sigma_w,
                     m->sigma_b, m->depth);
            return st;
        }
        tdl_ntk_config cfg;
        tdl_ntk_config_default(&cfg);
        cfg.full = o->ntk_full;
        size_t dim = o->ntk_full ? n * C : n;
        gsl_matrix *K = gsl_matrix_alloc(dim, dim);
        if (!K) return tdl_error_set(TDL_ENOMEM, "out of memory");
        st = tdl_ntk_empirical(m, ds->X, NULL, &cfg, K);
        e->v = malloc(dim * dim * sizeof(double));
        if (st == TDL_OK && !e->v) st = tdl_error_set(TDL_ENOMEM, "out of memory");
        if (st == TDL_OK)
            for (size_t i = 0; i < dim; i++)
                for (size_t j = 0; j < dim; j++) e->v[i * dim + j] = gsl_matrix_get(K, i, j);
        gsl_matrix_free(K);
        set_shape(e, 2, dim, dim);
        snprintf(e->what, sizeof e->what, o->ntk_full ? "empirical NTK J J^T, (n C) x (n C), row i*C + c"
                                                      : "empirical NTK, traced: (1/C) sum_c J_c J_c^T (mean over the outputs)");
        return st;
    }
    case TDL_VQ_BOUND: {
        tdl_bounds_config bc;
        tdl_bounds_config_default(&bc);
        tdl_measure *rows = NULL;
        size_t nr = 0;
        double train_err;
        if ((st = tdl_bounds_compute(m, loss, ds, &bc, &rows, &nr, &train_err)) != TDL_OK) return st;
        const tdl_measure *r = NULL;
        for (size_t i = 0; i < nr; i++)
            if (!strcmp(rows[i].name, o->bound_name)) r = &rows[i];
        if (!r) {
            char names[1024] = "";
            size_t len = 0;
            for (size_t i = 0; i < nr && len + 2 < sizeof names; i++)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? " " : "", rows[i].name);
            st = tdl_error_set(TDL_EINVAL, "bound:%s: not a row of tdl bounds for this model (rows: %s)", o->bound_name, names);
        }
        else if (!r->available) st = tdl_error_set(TDL_EINVAL, "bound:%s: not available for this model: %s", o->bound_name, r->note);
        else {
            int use_bound = !isnan(r->bound);
            e->v = malloc(sizeof(double));
            if (!e->v) st = tdl_error_set(TDL_ENOMEM, "out of memory");
            else e->v[0] = use_bound ? r->bound : r->value;
            set_shape(e, 0, 0, 0);
            snprintf(e->what, sizeof e->what, "%s of the row %s of tdl bounds (delta %g)", use_bound ? "bound" : "value",
                     o->bound_name, bc.delta);
        }
        free(rows);
        return st;
    }
    case TDL_VQ_KL_INVERSE:
    default:
        return tdl_error_set(TDL_EINVAL, "internal: quantity %d has no model", (int)o->quantity);
    }
}

/* ---- output ---------------------------------------------------------------- */

static const char *shape_text(tdl_verify_shape s, char *buf, size_t len)
{
    if (s.ndim == 0) snprintf(buf, len, "scalar");
    else if (s.ndim == 1) snprintf(buf, len, "%zu", s.dim[0]);
    else snprintf(buf, len, "%zu x %zu", s.dim[0], s.dim[1]);
    return buf;
}

static void shape_json(json_writer *w, const char *key, tdl_verify_shape s)
{
    json_array_begin(w, key);
    for (size_t i = 0; i < s.ndim; i++) json_size(w, NULL, s.dim[i]);
    json_array_end(w);
}

static void quantity_name(const verify_opts *o, char *qname, size_t len)
{
    if (o->quantity == TDL_VQ_BOUND) snprintf(qname, len, "bound:%s", o->bound_name);
    else if (o->quantity == TDL_VQ_NTK && o->analytic) snprintf(qname, len, "ntk:analytic");
    else snprintf(qname, len, "%s", tdl_name_of(tdl_verify_quantity_names, (int)o->quantity));
}

static int emit(const verify_opts *o, const exact_q *e, const varray *a, const tdl_verify_result *r)
{
    const char *slip = tdl_name_of(tdl_verify_slip_names, (int)r->slip);
    char qname[96], es[64], as[64];
    quantity_name(o, qname, sizeof qname);
    if (o->as_json) {
        json_writer w;
        if (json_open(&w) != 0) return cli_failf("out of memory");
        json_object_begin(&w, NULL);
        json_string(&w, "quantity", qname);
        json_string(&w, "exact", e->what);
        json_string(&w, "answer", o->answer);
        shape_json(&w, "shape", e->shape);
        shape_json(&w, "answer_shape", a->shape);
        json_bool(&w, "shape_ok", r->shape_ok);
        json_number(&w, "tol", r->tol);
        json_string(&w, "verdict", r->passed ? "PASS" : "FAIL");
        json_bool(&w, "passed", r->passed);
        json_number_or_reason(&w, "rel_error", r->rel_error, "the shapes differ");
        json_number_or_reason(&w, "abs_error", r->abs_error, "the shapes differ");
        if (r->shape_ok) {
            json_size(&w, "worst_index", r->worst);
            json_string(&w, "worst_meaning", r->worst_meaning);
            json_number(&w, "worst_exact", r->worst_exact);
            json_number(&w, "worst_answer", r->worst_answer);
        }
        json_string(&w, "slip", slip ? slip : "none");
        json_number_or_reason(&w, "factor", r->slip == TDL_SLIP_NONE ? NAN : r->factor, "no scale slip");
        if (r->slip == TDL_SLIP_ONE_LAYER_BLOCK) json_size(&w, "layer", r->layer);
        json_string(&w, "diagnosis", r->diagnosis);
        json_object_end(&w);
        return json_flush_stdout(&w) != 0 ? EXIT_WORK_FAILED : (r->passed ? 0 : EXIT_WORK_FAILED);
    }
    printf("quantity     %s: %s\n", qname, e->what);
    printf("answer       %s (shape %s; tdl's: %s)\n", o->answer, shape_text(a->shape, as, sizeof as),
           shape_text(e->shape, es, sizeof es));
    printf("tolerance    %.3g (relative to max(1, max |exact|))\n", r->tol);
    printf("verdict      %s\n", r->passed ? "PASS" : "FAIL");
    if (r->shape_ok) {
        printf("error        relative %.6g, absolute %.6g\n", r->rel_error, r->abs_error);
        printf("worst entry  [%zu] %s: tdl %.17g, yours %.17g\n", r->worst, r->worst_meaning, r->worst_exact,
               r->worst_answer);
    } else {
        printf("error        the shapes differ\n");
    }
    if (!r->passed) {
        printf("slip         %s", slip ? slip : "none");
        if (r->slip != TDL_SLIP_NONE && isfinite(r->factor) && r->factor != 1) printf(" (factor %.10g)", r->factor);
        printf("\n");
    }
    if (r->diagnosis[0]) printf("diagnosis    %s\n", r->diagnosis);
    return r->passed ? 0 : EXIT_WORK_FAILED;
}

/* ---- parse ----------------------------------------------------------------- */

enum { OPT_QUANTITY = 2000, OPT_DATA, OPT_ANSWER, OPT_VECTOR, OPT_TOL, OPT_JSON, OPT_NTK_FULL, OPT_Q, OPT_C };

static int parse_options(int argc, char **argv, verify_opts *o, cli_model_opts *mo)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"quantity", required_argument, NULL, OPT_QUANTITY}, {"data", required_argument, NULL, OPT_DATA},
        {"answer", required_argument, NULL, OPT_ANSWER}, {"vector", required_argument, NULL, OPT_VECTOR},
        {"tol", required_argument, NULL, OPT_TOL}, {"json", no_argument, NULL, OPT_JSON},
        {"ntk-full", no_argument, NULL, OPT_NTK_FULL}, {"q", required_argument, NULL, OPT_Q},
        {"c", required_argument, NULL, OPT_C},
        {NULL, 0, NULL, 0},
    };
    cli_model_opts_init(mo);
    memset(o, 0, sizeof *o);
    o->tol = 1e-8;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts, "verify")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int rr = cli_model_opts_parse(mo, "verify", c, optarg);
        if (rr < 0) return EXIT_USAGE;
        if (rr > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_QUANTITY: o->quantity_text = optarg; break;
        case OPT_DATA: o->data = optarg; break;
        case OPT_ANSWER: o->answer = optarg; break;
        case OPT_VECTOR: o->vector = optarg; break;
        case OPT_TOL: bad = cli_parse_double(optarg, &o->tol) || !(o->tol > 0) || !isfinite(o->tol); o->tol_given = 1; break;
        case OPT_JSON: o->as_json = 1; break;
        case OPT_NTK_FULL: o->ntk_full = 1; break;
        case OPT_Q: bad = cli_parse_double(optarg, &o->q) || !(o->q >= 0 && o->q <= 1); o->q_given = 1; break;
        case OPT_C: bad = cli_parse_double(optarg, &o->c) || !(o->c >= 0) || !isfinite(o->c); o->c_given = 1; break;
        default: return cli_bad_option("verify", argv, optopt);
        }
        if (bad) return cli_usage("verify", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("verify", "unexpected argument '%s'", argv[optind]);
    if (!o->quantity_text) return cli_usage("verify", "--quantity Q is required");
    if (!o->answer) return cli_usage("verify", "--answer FILE|NUMBER is required");
    const char *q = o->quantity_text;
    int v;
    if (!strncmp(q, "bound:", 6)) {
        o->quantity = TDL_VQ_BOUND;
        o->bound_name = q + 6;
        if (!*o->bound_name) return cli_usage("verify", "--quantity bound:NAME: name a row of tdl bounds");
    } else if (!strcmp(q, "ntk:analytic")) {
        o->quantity = TDL_VQ_NTK;
        o->analytic = 1;
    } else if (tdl_name_lookup(tdl_verify_quantity_names, "quantity", q, &v) == TDL_OK && v != TDL_VQ_BOUND) {
        o->quantity = (tdl_verify_quantity)v;
    } else {
        char names[512];
        cli_name_choices(tdl_verify_quantity_names, names, sizeof names);
        return cli_usage("verify", "--quantity %s: expected %s (bound as bound:NAME; ntk:analytic for the analytic NTK)",
                         q, names);
    }
    if (o->quantity == TDL_VQ_KL_INVERSE) {
        if (!o->q_given || !o->c_given) return cli_usage("verify", "--quantity kl-inverse needs --q Q (in [0,1]) and --c C (>= 0)");
        if (mo->model || mo->arch || o->data) return cli_usage("verify", "--quantity kl-inverse takes --q and --c, no model or data");
    } else {
        if (o->q_given || o->c_given) return cli_usage("verify", "--q and --c belong to --quantity kl-inverse");
        if (!o->data) return cli_usage("verify", "--data SPEC is required");
        if (!mo->model && !mo->arch) return cli_usage("verify", "--model FILE or --arch A is required");
    }
    if ((o->quantity == TDL_VQ_HVP) != (o->vector != NULL))
        return cli_usage("verify", o->vector ? "--vector belongs to --quantity hvp" : "--quantity hvp needs --vector FILE");
    if (o->ntk_full && !(o->quantity == TDL_VQ_NTK && !o->analytic))
        return cli_usage("verify", "--ntk-full belongs to --quantity ntk (empirical)");
    return -1;
}

/* A work error: printed (the single command), or kept in the outcome (an
 * assignment's task). */
static int fail_st(cli_verify_outcome *out, int st)
{
    if (!out) return cli_fail(st);
    const char *msg = tdl_errmsg();
    snprintf(out->error, sizeof out->error, "%s", msg && *msg ? msg : tdl_strerror(st));
    return EXIT_WORK_FAILED;
}

/* Parse, compute tdl's exact quantity, compare and diagnose: the one grading
 * of `tdl verify`, for the single command (out == NULL: the verdict is
 * printed) and for each task of an assignment (out != NULL: the verdict is
 * kept, nothing printed but the model loader's own error lines). */
int cli_verify_grade(int argc, char **argv, cli_verify_outcome *out)
{
    cli_model_opts mo;
    verify_opts o;
    if (out) memset(out, 0, sizeof *out);
    int rc = parse_options(argc, argv, &o, &mo);
    if (rc >= 0) {
        if (out) snprintf(out->error, sizeof out->error, "bad options (the line above)");
        return rc;
    }

    int st;
    tdl_dataset *ds = NULL;
    tdl_mlp *m = NULL;
    tdl_loss_kind loss = TDL_LOSS_MSE;
    varray ans = {0}, vec = {0};
    exact_q e = {0};
    tdl_verify_result res;
    memset(&res, 0, sizeof res);
    tdl_verify_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.quantity = o.quantity;
    ctx.full_ntk = o.ntk_full;

    rc = EXIT_WORK_FAILED;
    if ((st = read_array("--answer", o.answer, &ans)) != TDL_OK) { rc = fail_st(out, st); goto cleanup; }
    if (o.vector && (st = read_array("--vector", o.vector, &vec)) != TDL_OK) { rc = fail_st(out, st); goto cleanup; }
    if (o.quantity == TDL_VQ_KL_INVERSE) {
        e.v = malloc(sizeof(double));
        if (!e.v) { rc = out ? (snprintf(out->error, sizeof out->error, "out of memory"), EXIT_WORK_FAILED) : cli_failf("out of memory"); goto cleanup; }
        if ((st = tdl_kl_inv(o.q, o.c, e.v)) != TDL_OK) { rc = fail_st(out, st); goto cleanup; }
        set_shape(&e, 0, 0, 0);
        snprintf(e.what, sizeof e.what, "kl^-1(q = %g, c = %g) = max {p : kl(q || p) <= c}", o.q, o.c);
    } else {
        if ((st = cli_load_data(o.data, &ds)) != TDL_OK) { rc = fail_st(out, st); goto cleanup; }
        if ((rc = cli_model_build(&mo, "verify", &m)) != 0 || (rc = cli_model_loss(&mo, "verify", m, ds, &loss)) != 0) {
            if (out) snprintf(out->error, sizeof out->error, "the model (the line above)");
            goto cleanup;
        }
        rc = EXIT_WORK_FAILED;
        if ((st = compute(&o, m, loss, ds, &vec, &e)) != TDL_OK) { rc = fail_st(out, st); goto cleanup; }
        ctx.m = m;
        ctx.n = ds->n;
        ctx.C = m->layers[m->depth - 1].out;
        ctx.mse = loss == TDL_LOSS_MSE;
        ctx.ce = loss == TDL_LOSS_CE || loss == TDL_LOSS_LOGISTIC;
        ctx.alt_integer_targets = e.alt;
    }
    conform(&ans, e.shape);
    if ((st = tdl_verify_compare(&ctx, e.v, e.shape, ans.v, ans.shape, o.tol, &res)) != TDL_OK) {
        rc = fail_st(out, st);
        goto cleanup;
    }
    if (out) {
        out->graded = 1;
        out->res = res;
        out->shape = e.shape;
        out->answer_shape = ans.shape;
        quantity_name(&o, out->quantity, sizeof out->quantity);
        rc = res.passed ? 0 : EXIT_WORK_FAILED;
    } else {
        rc = emit(&o, &e, &ans, &res);
    }
cleanup:
    free(e.v);
    free(e.alt);
    varray_free(&ans);
    varray_free(&vec);
    tdl_mlp_free(&m);
    tdl_dataset_free(&ds);
    if (out) out->rc = rc;
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--assignment") || !strncmp(argv[i], "--assignment=", 13)) return cli_verify_assignment(argc, argv);
    return cli_verify_grade(argc, argv, NULL);
}

/* ---- help ------------------------------------------------------------------ */

/* One line per slip the library knows (tdl_verify_slip_names), for `tdl help
 * verify`: the names come from the library's table, the descriptions from
 * here, by the enum's value. */
static const char *slip_description(int slip)
{
    switch ((tdl_verify_slip)slip) {
    case TDL_SLIP_NONE: return "no slip explains the difference (where it concentrates is shown)";
    case TDL_SLIP_SUM_NOT_MEAN: return "answer = n x tdl's: the loss summed over the examples, not averaged";
    case TDL_SLIP_MEAN_NOT_SUM: return "answer = tdl's / n: averaged where the convention sums";
    case TDL_SLIP_NO_HALF: return "answer = 2 x tdl's: the mse without its 1/2";
    case TDL_SLIP_EXTRA_HALF: return "answer = tdl's / 2: an extra 1/2";
    case TDL_SLIP_OUTPUTS_SUMMED: return "answer = C x tdl's: the NTK summed over the outputs, not traced (mean)";
    case TDL_SLIP_OUTPUTS_AVERAGED: return "answer = tdl's / C: averaged over the outputs";
    case TDL_SLIP_TORCH_MSE: return "answer = (2/C) x tdl's: PyTorch's nn.MSELoss (mean over n C entries, no 1/2)";
    case TDL_SLIP_PARAMETRIZATION: return "a parametrization factor (sigma_w^2 / fan_in, 1/m)";
    case TDL_SLIP_LOG2: return "answer = tdl's / ln 2: cross-entropy in bits (log base 2)";
    case TDL_SLIP_SIGN: return "answer = -tdl's: a sign flip";
    case TDL_SLIP_CONSTANT_FACTOR: return "answer = c x tdl's for another constant c (reported)";
    case TDL_SLIP_TRANSPOSED_WEIGHTS: return "weights stored in x out (transposed)";
    case TDL_SLIP_COLUMN_MAJOR: return "the whole matrix stored column-major (a Jacobian as P x nC)";
    case TDL_SLIP_BIASES_FIRST: return "each layer's bias before its weight";
    case TDL_SLIP_LAYERS_REVERSED: return "the layers' blocks in reverse order";
    case TDL_SLIP_NO_BIASES: return "the bias parameters left out";
    case TDL_SLIP_DESCENDING: return "eigenvalues sorted descending (tdl's ascend)";
    case TDL_SLIP_UNSORTED: return "eigenvalues in another order (the same values)";
    case TDL_SLIP_ONE_LAYER_BLOCK: return "one layer's block of the Hessian instead of the whole";
    case TDL_SLIP_INTEGER_TARGETS: return "mse against the class index instead of one-hot targets";
    }
    return "";
}

/* The slip list of `tdl help verify`: "  NAME  description" lines. */
void cli_verify_slips_help(char *buf, size_t len)
{
    size_t used = 0;
    if (len) buf[0] = '\0';
    for (const tdl_name *s = tdl_verify_slip_names; s->name && used < len; s++) {
        if (tdl_name_of(tdl_verify_slip_names, s->value) != s->name) continue; /* an alias */
        int k = snprintf(buf + used, len - used, "  %-20s %s\n", s->name, slip_description(s->value));
        if (k < 0) break;
        used += (size_t)k;
    }
}
