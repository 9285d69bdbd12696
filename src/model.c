/* model.c — MLP structure, activations, initialization and model files. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include "tdl/model.h"
#include "tdl/io.h"
#include "tdl/memory.h"
#include "tdl/names.h"
#include "internal.h"
#include "formats_internal.h"
#include "torch_internal.h"

/* ---- activations ------------------------------------------------------- */

static const struct {
    const char *name;
    tdl_act_kind kind;
} act_names[] = {
    {"identity", TDL_ACT_IDENTITY}, {"linear", TDL_ACT_IDENTITY}, {"relu", TDL_ACT_RELU},
    {"leaky-relu", TDL_ACT_LEAKY_RELU}, {"abrelu", TDL_ACT_ABRELU}, {"tanh", TDL_ACT_TANH},
    {"erf", TDL_ACT_ERF}, {"sigmoid", TDL_ACT_SIGMOID}, {"softplus", TDL_ACT_SOFTPLUS},
    {"quadratic", TDL_ACT_QUADRATIC}, {"gelu", TDL_ACT_GELU},
};

int tdl_act_parse(const char *text, tdl_act *out)
{
    const char *colon = strchr(text, ':');
    size_t len = colon ? (size_t)(colon - text) : strlen(text);
    for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++) {
        if (strlen(act_names[i].name) != len || strncmp(text, act_names[i].name, len) != 0) continue;
        tdl_act a = {act_names[i].kind, 0, 0};
        if (a.kind == TDL_ACT_LEAKY_RELU) {
            a.a = 0.01;
            if (colon) {
                char *end;
                a.a = strtod(colon + 1, &end);
                if (end == colon + 1 || *end || !isfinite(a.a))
                    return tdl_fail(TDL_EINVAL, "activation '%s': expected leaky-relu:SLOPE", text);
            }
        } else if (a.kind == TDL_ACT_ABRELU) {
            char *end;
            if (!colon) return tdl_fail(TDL_EINVAL, "activation '%s': expected abrelu:A,B", text);
            a.a = strtod(colon + 1, &end);
            if (end == colon + 1 || *end != ',' || !isfinite(a.a))
                return tdl_fail(TDL_EINVAL, "activation '%s': expected abrelu:A,B", text);
            const char *second = end + 1;
            a.b = strtod(second, &end);
            if (end == second || *end || !isfinite(a.b)) return tdl_fail(TDL_EINVAL, "activation '%s': expected abrelu:A,B", text);
        } else if (colon) {
            return tdl_fail(TDL_EINVAL, "activation '%s' takes no parameters", text);
        }
        *out = a;
        return TDL_OK;
    }
    return tdl_fail(TDL_EINVAL, "unknown activation '%s' (identity relu leaky-relu:A abrelu:A,B tanh erf sigmoid softplus quadratic gelu)", text);
}

void tdl_act_format(const tdl_act *act, char *buf, size_t len)
{
    switch (act->kind) {
    case TDL_ACT_LEAKY_RELU: snprintf(buf, len, "leaky-relu:%.17g", act->a); break;
    case TDL_ACT_ABRELU: snprintf(buf, len, "abrelu:%.17g,%.17g", act->a, act->b); break;
    default:
        for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
            if (act_names[i].kind == act->kind && strcmp(act_names[i].name, "linear") != 0) {
                snprintf(buf, len, "%s", act_names[i].name);
                return;
            }
        snprintf(buf, len, "?");
    }
}

/* phi, phi' and phi'' of each activation.  At the kink of piecewise-linear
 * activations (z = 0) the derivative is taken from the left (phi'(0) = 0 for
 * relu, as PyTorch) and phi'' = 0 everywhere.  The piecewise-linear kinds get
 * their own branch-free loops: they run on every hidden unit of every batch. */
static void act_piecewise_linear(double neg, double pos, const double *z, size_t n,
                                 double *phi, double *dphi, double *d2phi)
{
    /* phi last: it may overwrite z (in-place evaluation) */
    if (d2phi) memset(d2phi, 0, n * sizeof *d2phi);
    if (dphi)
        for (size_t i = 0; i < n; i++) dphi[i] = z[i] > 0 ? pos : neg;
    if (phi)
        for (size_t i = 0; i < n; i++) phi[i] = z[i] > 0 ? pos * z[i] : neg * z[i];
}

void tdl_act_eval(const tdl_act *act, const double *z, size_t n, double *phi, double *dphi, double *d2phi)
{
    const double inv_sqrt_pi = 0.56418958354775628695; /* 1/sqrt(pi) */
    const double inv_sqrt_2pi = 0.39894228040143267794;
    switch (act->kind) {
    case TDL_ACT_IDENTITY: act_piecewise_linear(1, 1, z, n, phi, dphi, d2phi); return;
    case TDL_ACT_RELU: act_piecewise_linear(0, 1, z, n, phi, dphi, d2phi); return;
    case TDL_ACT_LEAKY_RELU: act_piecewise_linear(act->a, 1, z, n, phi, dphi, d2phi); return;
    case TDL_ACT_ABRELU: act_piecewise_linear(act->a, act->b, z, n, phi, dphi, d2phi); return;
    default: break;
    }
    for (size_t i = 0; i < n; i++) {
        double x = z[i], f, d1, d2;
        switch (act->kind) {
        case TDL_ACT_TANH: f = tanh(x); d1 = 1 - f * f; d2 = -2 * f * d1; break;
        case TDL_ACT_ERF: /* erf' = 2/sqrt(pi) e^{-x^2}, erf'' = -2x erf' */
            f = erf(x); d1 = 2 * inv_sqrt_pi * exp(-x * x); d2 = -2 * x * d1; break;
        case TDL_ACT_SIGMOID: {
            double s = x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
            f = s; d1 = s * (1 - s); d2 = d1 * (1 - 2 * s); break;
        }
        case TDL_ACT_SOFTPLUS: { /* log(1 + e^x), stable; ' = sigmoid, '' = s(1-s) */
            double s = x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
            f = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); d1 = s; d2 = s * (1 - s); break;
        }
        case TDL_ACT_QUADRATIC: f = x * x; d1 = 2 * x; d2 = 2; break;
        case TDL_ACT_GELU: { /* exact GELU x Phi(x); ' = Phi + x pdf; '' = pdf (2 - x^2) */
            double cdf = 0.5 * erfc(-x * M_SQRT1_2), pdf = inv_sqrt_2pi * exp(-0.5 * x * x);
            f = x * cdf; d1 = cdf + x * pdf; d2 = pdf * (2 - x * x); break;
        }
        default: f = d1 = d2 = NAN;
        }
        if (phi) phi[i] = f;
        if (dphi) dphi[i] = d1;
        if (d2phi) d2phi[i] = d2;
    }
}

/* ---- configuration ----------------------------------------------------- */

const tdl_name tdl_init_names[] = {
    {"gaussian", TDL_INIT_GAUSSIAN}, {"he", TDL_INIT_HE}, {"xavier", TDL_INIT_XAVIER},
    {"orthogonal", TDL_INIT_ORTHOGONAL}, {"zero", TDL_INIT_ZERO}, {NULL, 0},
};

const tdl_name tdl_param_names[] = {
    {"standard", TDL_PARAM_STANDARD}, {"ntk", TDL_PARAM_NTK}, {"mf", TDL_PARAM_MF}, {NULL, 0},
};

const char *tdl_init_name(tdl_init_kind k)
{
    const char *name = tdl_name_of(tdl_init_names, (int)k);
    return name ? name : "?";
}

int tdl_init_parse(const char *text, tdl_init_kind *out)
{
    int v;
    int st = tdl_name_lookup(tdl_init_names, "init", text, &v);
    if (st == TDL_OK) *out = (tdl_init_kind)v;
    return st;
}

const char *tdl_param_name(tdl_param_kind p)
{
    const char *name = tdl_name_of(tdl_param_names, (int)p);
    return name ? name : "?";
}

int tdl_param_parse(const char *text, tdl_param_kind *out)
{
    int v;
    int st = tdl_name_lookup(tdl_param_names, "parametrization", text, &v);
    if (st == TDL_OK) *out = (tdl_param_kind)v;
    return st;
}

void tdl_mlp_config_default(tdl_mlp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->act.kind = TDL_ACT_RELU;
    cfg->param = TDL_PARAM_STANDARD;
    cfg->init = TDL_INIT_HE;
    cfg->sigma_w = NAN;
    cfg->sigma_b = 0.0;
    cfg->bias = 1;
    for (int i = 0; i < TDL_MAX_DEPTH; i++) cfg->trainable[i] = 1;
}

int tdl_arch_parse(const char *text, tdl_mlp_config *cfg)
{
    size_t count = 0;
    const char *p = text;
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p)) break;
        errno = 0;
        unsigned long long w = strtoull(p, &end, 10);
        if (errno || w == 0 || w > 100000000ULL) break;
        if (count > TDL_MAX_DEPTH)
            return tdl_fail(TDL_EINVAL, "architecture '%s' is deeper than %d layers", text, TDL_MAX_DEPTH);
        cfg->widths[count++] = (size_t)w;
        p = end;
        if (*p == '-') {
            p++;
            if (!*p) { p--; break; } /* a trailing '-' is an error */
        } else if (*p) {
            break;
        }
    }
    if (*p || count < 2)
        return tdl_fail(TDL_EINVAL, "architecture '%s': expected widths like 64-128-10 (input-hidden...-output, each >= 1)", text);
    cfg->depth = count - 1;
    return TDL_OK;
}

void tdl_arch_format(const tdl_mlp *m, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "%zu", m->layers[0].in);
    for (size_t l = 0; l < m->depth && used < len; l++)
        used += (size_t)snprintf(buf + used, len - used, "-%zu", m->layers[l].out);
}

/* ---- construction ------------------------------------------------------ */

static void set_scales(tdl_mlp *m)
{
    for (size_t l = 0; l < m->depth; l++) {
        tdl_layer *L = &m->layers[l];
        if (m->param == TDL_PARAM_NTK || m->param == TDL_PARAM_MF) {
            L->w_scale = m->sigma_w / sqrt((double)L->in);
            L->b_scale = m->sigma_b;
            if (m->param == TDL_PARAM_MF && l + 1 == m->depth) {
                /* mean-field: the output carries one more 1/sqrt(n_{L-1}) (tdl/model.h) */
                L->w_scale = m->sigma_w / (double)L->in;
                L->b_scale = m->sigma_b / sqrt((double)L->in);
            }
        } else {
            L->w_scale = 1.0;
            L->b_scale = 1.0;
        }
    }
}

/* Lay out layers and allocate theta; widths[0..depth]. */
static int mlp_alloc(size_t depth, const size_t *widths, const int *has_bias, tdl_mlp **out)
{
    *out = NULL;
    if (depth == 0 || depth > TDL_MAX_DEPTH)
        return tdl_fail(TDL_EINVAL, "a net needs 1 to %d layers, not %zu", TDL_MAX_DEPTH, depth);
    tdl_mlp *m = tdl_calloc(1, sizeof *m, "a net");
    if (!m) return TDL_ENOMEM;
    m->layers = tdl_calloc(depth, sizeof *m->layers, "the layers of a net");
    if (!m->layers) {
        free(m);
        return TDL_ENOMEM;
    }
    size_t off = 0;
    for (size_t l = 0; l < depth; l++) {
        tdl_layer *L = &m->layers[l];
        size_t wn;
        L->in = widths[l];
        L->out = widths[l + 1];
        L->has_bias = has_bias[l];
        L->trainable = 1;
        if (L->in == 0 || L->out == 0 || tdl_mul_size(L->in, L->out, &wn) != 0 ||
            tdl_add_size(off, wn, &off) != 0 || (L->has_bias && tdl_add_size(off, L->out, &off) != 0)) {
            size_t rows = L->out, cols = L->in; /* L points into m */
            free(m->layers);
            free(m);
            return tdl_fail(TDL_ETOOBIG, "layer %zu of %zu x %zu is empty or too large", l, rows, cols);
        }
        L->w_off = off - wn - (L->has_bias ? L->out : 0);
        L->b_off = L->w_off + wn;
    }
    m->depth = depth;
    m->n_params = off;
    size_t bytes;
    if (tdl_mul_size(off, sizeof(double), &bytes) != 0) {
        free(m->layers);
        free(m);
        return tdl_fail(TDL_ETOOBIG, "%zu parameters are too many", off);
    }
    /* a net keeps theta and its init: refuse, before allocating, what cannot fit */
    char detail[96];
    snprintf(detail, sizeof detail, "%zu parameters and their init", off);
    int st = tdl_memory_require_detail(2, bytes, 0, "a net", detail);
    if (st != TDL_OK) {
        free(m->layers);
        free(m);
        return st;
    }
    m->theta = tdl_calloc(off, sizeof(double), "parameters");
    m->meta = tdl_tensors_new();
    if (!m->theta || !m->meta) {
        tdl_mlp_free(&m);
        return TDL_ENOMEM;
    }
    m->sigma_w = 1.0;
    m->sigma_b = 0.0;
    m->act.kind = TDL_ACT_IDENTITY;
    *out = m;
    return TDL_OK;
}

void tdl_mlp_free(tdl_mlp **m)
{
    if (!m || !*m) return;
    free((*m)->layers);
    free((*m)->theta);
    free((*m)->theta0);
    tdl_tensors_free(&(*m)->meta);
    free(*m);
    *m = NULL;
}

int tdl_mlp_clone(const tdl_mlp *m, tdl_mlp **out)
{
    size_t widths[TDL_MAX_DEPTH + 1];
    int bias[TDL_MAX_DEPTH];
    widths[0] = m->layers[0].in;
    for (size_t l = 0; l < m->depth; l++) {
        widths[l + 1] = m->layers[l].out;
        bias[l] = m->layers[l].has_bias;
    }
    tdl_mlp *c;
    int st = mlp_alloc(m->depth, widths, bias, &c);
    if (st != TDL_OK) return st;
    memcpy(c->layers, m->layers, m->depth * sizeof *m->layers);
    c->act = m->act;
    c->param = m->param;
    c->sigma_w = m->sigma_w;
    c->sigma_b = m->sigma_b;
    memcpy(c->theta, m->theta, m->n_params * sizeof(double));
    if (m->theta0) {
        c->theta0 = tdl_malloc(m->n_params * sizeof(double), "initial parameters");
        if (!c->theta0) {
            tdl_mlp_free(&c);
            return TDL_ENOMEM;
        }
        memcpy(c->theta0, m->theta0, m->n_params * sizeof(double));
    }
    for (size_t i = 0; i < m->meta->meta_count; i++)
        if ((st = tdl_tensors_set_meta(c->meta, m->meta->meta_keys[i], m->meta->meta_values[i])) != TDL_OK) {
            tdl_mlp_free(&c);
            return st;
        }
    *out = c;
    return TDL_OK;
}

/* Rows (or columns, whichever are fewer) of an out x in matrix made
 * orthonormal by a QR factorization of a Gaussian matrix (Saxe et al. 2014),
 * then scaled by `gain`; sign-corrected by diag(R) so the result is Haar. */
static int orthogonal_fill(gsl_rng *r, double *W, size_t out, size_t in, double gain)
{
    int transpose = out < in; /* factor the tall orientation */
    size_t rows = transpose ? in : out, cols = transpose ? out : in;
    size_t k = cols;
    double *A = tdl_malloc(rows * cols * sizeof(double), "an orthogonal init");
    double *tau = tdl_malloc(k * sizeof(double), "an orthogonal init");
    double *diag = tdl_malloc(k * sizeof(double), "an orthogonal init");
    int st = TDL_OK;
    if (!A || !tau || !diag) { st = TDL_ENOMEM; goto cleanup; }
    for (size_t i = 0; i < rows * cols; i++) A[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols, A, (lapack_int)cols, tau);
    if (info == 0) {
        for (size_t j = 0; j < k; j++) diag[j] = A[j * cols + j] < 0 ? -1.0 : 1.0;
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)cols, (lapack_int)k, A, (lapack_int)cols, tau);
    }
    if (info != 0) { st = tdl_fail(TDL_ENOCONV, "orthogonal init: LAPACK QR failed (info %d)", (int)info); goto cleanup; }
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double v = gain * A[i * cols + j] * diag[j];
            if (transpose) W[j * in + i] = v;
            else W[i * in + j] = v;
        }
cleanup:
    free(A);
    free(tau);
    free(diag);
    return st;
}

static int mlp_initialize(tdl_mlp *m, const tdl_mlp_config *cfg)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) return tdl_fail(TDL_ENOMEM, "out of memory for a random generator");
    gsl_rng_set(r, cfg->seed);
    int st = TDL_OK;
    for (size_t l = 0; l < m->depth && st == TDL_OK; l++) {
        tdl_layer *L = &m->layers[l];
        double *W = m->theta + L->w_off;
        size_t wn = L->in * L->out;
        /* standard deviation of the stored weights */
        double sd;
        if (m->param != TDL_PARAM_STANDARD) sd = 1.0;
        else if (cfg->init == TDL_INIT_XAVIER) sd = sqrt(2.0 / (double)(L->in + L->out));
        else sd = m->sigma_w / sqrt((double)L->in);
        switch (cfg->init) {
        case TDL_INIT_ZERO: memset(W, 0, wn * sizeof *W); break;
        case TDL_INIT_ORTHOGONAL:
            /* orthonormal rows have norm 1; scale so entries have variance sd^2 on
             * the long side: gain = sd * sqrt(max(in, out)) */
            st = orthogonal_fill(r, W, L->out, L->in, sd * sqrt((double)(L->in > L->out ? L->in : L->out)));
            break;
        default:
            for (size_t i = 0; i < wn; i++) W[i] = gsl_ran_gaussian_ziggurat(r, sd);
        }
        if (L->has_bias) {
            double bsd = m->param != TDL_PARAM_STANDARD ? 1.0 : m->sigma_b;
            for (size_t i = 0; i < L->out; i++)
                m->theta[L->b_off + i] = (bsd > 0 && cfg->init != TDL_INIT_ZERO) ? gsl_ran_gaussian_ziggurat(r, bsd) : 0.0;
        }
    }
    gsl_rng_free(r);
    return st;
}

int tdl_mlp_create(const tdl_mlp_config *cfg, tdl_mlp **out)
{
    int bias[TDL_MAX_DEPTH];
    *out = NULL;
    if (cfg->depth == 0 || cfg->depth > TDL_MAX_DEPTH)
        return tdl_fail(TDL_EINVAL, "a net needs 1 to %d layers", TDL_MAX_DEPTH);
    if (cfg->init == TDL_INIT_XAVIER && cfg->param != TDL_PARAM_STANDARD)
        return tdl_fail(TDL_EINVAL, "init xavier belongs to the standard parametrization (%s stores N(0,1) weights; set sigma_w)",
                        tdl_param_name(cfg->param));
    for (size_t l = 0; l < cfg->depth; l++) bias[l] = cfg->bias;
    tdl_mlp *m;
    int st = mlp_alloc(cfg->depth, cfg->widths, bias, &m);
    if (st != TDL_OK) return st;
    m->act = cfg->depth > 1 ? cfg->act : (tdl_act){TDL_ACT_IDENTITY, 0, 0};
    if (cfg->depth == 1) m->act = cfg->act; /* kept for the record; unused by a linear model */
    m->param = cfg->param;
    m->sigma_w = isnan(cfg->sigma_w) ? (cfg->init == TDL_INIT_HE ? M_SQRT2 : 1.0) : cfg->sigma_w;
    m->sigma_b = cfg->sigma_b;
    if (!(m->sigma_w >= 0) || !(m->sigma_b >= 0) || !isfinite(m->sigma_w) || !isfinite(m->sigma_b)) {
        tdl_mlp_free(&m);
        return tdl_fail(TDL_EINVAL, "sigma_w and sigma_b must be finite and >= 0");
    }
    for (size_t l = 0; l < cfg->depth; l++) m->layers[l].trainable = cfg->trainable[l];
    set_scales(m);
    char buf[64];
    if ((st = mlp_initialize(m, cfg)) != TDL_OK) goto fail;
    m->theta0 = tdl_malloc(m->n_params * sizeof(double), "initial parameters");
    if (!m->theta0) { st = TDL_ENOMEM; goto fail; }
    memcpy(m->theta0, m->theta, m->n_params * sizeof(double));
    snprintf(buf, sizeof buf, "%lu", cfg->seed);
    if ((st = tdl_tensors_set_meta(m->meta, "seed", buf)) != TDL_OK) goto fail;
    if ((st = tdl_tensors_set_meta(m->meta, "init", tdl_init_name(cfg->init))) != TDL_OK) goto fail;
    *out = m;
    return TDL_OK;
fail:
    tdl_mlp_free(&m);
    return st;
}

/* ---- files ------------------------------------------------------------- */

int tdl_tensors_read(const char *path, tdl_tensors **out)
{
    unsigned char head[9] = {0};
    *out = NULL;
    /* not fopen: a FIFO would block it, a directory would read as empty */
    int fd;
    int st = tdl_open_regular(path, &fd, NULL);
    if (st != TDL_OK) return st;
    size_t got = 0;
    while (got < sizeof head) {
        ssize_t r = read(fd, head + got, sizeof head - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return tdl_fail(TDL_EIO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got >= 4 && head[0] == 'P' && head[1] == 'K') {
        /* a zip: torch.save's (TOP/data.pkl) or an .npz, told by its members */
        unsigned char *buf = NULL;
        size_t len = 0;
        if ((st = tdl_read_file(path, TDL_IO_MAX_FILE_BYTES, &buf, &len)) != TDL_OK) return st;
        st = tdl_torch_is_archive(buf, len) ? tdl_torch_read_mem(buf, len, path, out)
                                            : tdl_npz_read_mem(buf, len, path, out);
        free(buf);
        return st;
    }
    /* a pickle starts 0x80 <protocol>; so does a safetensors file whose JSON
     * header is 128, 384, ... bytes long, but its 9th byte is the '{' */
    if (got >= 2 && head[0] == 0x80 && head[1] <= 5 && !(got == 9 && head[8] == '{'))
        return tdl_torch_read(path, out); /* refuses it, saying how to re-save */
    if (got >= 2 && head[0] == 'P' && head[1] == 'K') return tdl_npz_read(path, out);
    if (got == 0) return tdl_fail(TDL_EFORMAT, "%s: empty file", path);
    return tdl_safetensors_read(path, out);
}

/* ---- recognizing an MLP in a state dict ---------------------------------
 *
 * A Linear layer is a prefix P with a 2-D tensor "P.weight" (out x in) and
 * optionally a 1-D "P.bias" of length out ("weight" / "bias" alone: P is
 * empty, a bare nn.Linear).  Any naming: nn.Sequential's "0", "2", ...;
 * "fc1", "fc2", "fc10"; "layers.0"; "model.layers.3"; "classifier".
 *
 * The chain: the prefixes in natural order (digit runs compared as
 * numbers, so fc2 < fc10 although safetensors sorts fc10 first), checked
 * against the shapes (out of layer k = in of layer k+1).  Prefixes of one
 * pattern (digit runs replaced by <k>: fc<k>, layers.<k>) keep their
 * natural order; where prefixes of several patterns interleave (features.0,
 * features.2, classifier) the shapes must place them: the order is the one
 * order that keeps each pattern's natural order and chains.  None, or
 * several, is an error naming up to LAYOUT_SHOWN orders that chain.  An
 * explicit order (the layers argument) overrides all of this. */

#define LAYOUT_SEARCH_BUDGET 200000u /* DFS steps when looking for chains */
#define LAYOUT_SHOWN 3               /* candidate orders named in a message */

/* Natural order: digit runs compared by value (then by length: "0" < "00"). */
static int natural_cmp(const char *a, const char *b, int *tie)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            const char *a0 = a, *b0 = b;
            while (*a == '0') a++;
            while (*b == '0') b++;
            const char *as = a, *bs = b;
            while (isdigit((unsigned char)*a)) a++;
            while (isdigit((unsigned char)*b)) b++;
            size_t la = (size_t)(a - as), lb = (size_t)(b - bs);
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(as, bs, la);
            if (c) return c;
            if (as - a0 != bs - b0) { /* same number, other leading zeros */
                if (tie) *tie = 1;
            }
            continue;
        }
        if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

/* The prefix with every digit run replaced by "<k>". */
static void name_pattern(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    while (*p && n + 4 < cap) {
        if (isdigit((unsigned char)*p)) {
            memcpy(out + n, "<k>", 3);
            n += 3;
            while (isdigit((unsigned char)*p)) p++;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

typedef struct layout_layer {
    const char *prefix;          /* points into a tensor name (owned by the set) */
    size_t plen;
    char *name;                  /* prefix, NUL-terminated (owned) */
    const tdl_tensor *w, *b;
} layout_layer;

static int ends_with(const char *s, const char *suffix, size_t *plen)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m || strcmp(s + n - m, suffix) != 0) return 0;
    if (n == m) { *plen = 0; return 1; }           /* "weight": a bare Linear */
    if (s[n - m - 1] != '.') return 0;
    *plen = n - m - 1;
    return 1;
}

/* Why a tensor is not part of an MLP, from its name: NULL when no rule. */
static const char *not_mlp_kind(const char *name)
{
    const char *last = strrchr(name, '.');
    last = last ? last + 1 : name;
    if (!strcmp(last, "running_mean") || !strcmp(last, "running_var") || !strcmp(last, "num_batches_tracked"))
        return "a batch-norm statistic";
    for (const char *q = name; *q; q++)
        if (!strncmp(q, "embed", 5)) return "an embedding";
    if (strstr(name, "norm") || !strncmp(last, "bn", 2) || strstr(name, ".bn") || strstr(name, "ln_"))
        return "a normalization layer's";
    if (strstr(name, "conv")) return "a convolution's";
    if (strstr(name, "attn") || strstr(name, "attention")) return "an attention layer's";
    return NULL;
}

#define MLP_SUPPORTED "tdl reads MLPs: Linear layers ('<name>.weight' 2-D out x in, optional '<name>.bias') with one activation"

static int refuse_tensor(const tdl_tensor *t)
{
    const char *kind = not_mlp_kind(t->name);
    if (kind) return tdl_fail(TDL_EFORMAT, "tensor '%s' is not a Linear layer's weight or bias: %s tensor; " MLP_SUPPORTED,
                              t->name, kind);
    return tdl_fail(TDL_EFORMAT, "tensor '%s' is not a Linear layer's '<name>.weight' or '<name>.bias'; " MLP_SUPPORTED, t->name);
}

static int chain_fits(layout_layer *const *c, size_t n, size_t *bad)
{
    for (size_t k = 1; k < n; k++)
        if (c[k]->w->shape[1] != c[k - 1]->w->shape[0]) {
            if (bad) *bad = k;
            return 0;
        }
    return 1;
}

/* Depth-first search of the orders that chain; up to LAYOUT_SHOWN kept in
 * found[][], *count of them (stops at LAYOUT_SHOWN + 1), *budget steps. */
typedef struct chain_search {
    layout_layer *L;
    size_t n, count, budget;
    const size_t *group;         /* NULL, or the pattern group of each layer: layers of
                                    one group keep their natural order */
    size_t cur[TDL_MAX_DEPTH];
    int used[TDL_MAX_DEPTH];
    size_t found[LAYOUT_SHOWN][TDL_MAX_DEPTH];
} chain_search;

static void chain_dfs(chain_search *s, size_t k)
{
    if (s->count > LAYOUT_SHOWN || s->budget == 0) return;
    s->budget--;
    if (k == s->n) {
        if (s->count < LAYOUT_SHOWN) memcpy(s->found[s->count], s->cur, s->n * sizeof s->cur[0]);
        s->count++;
        return;
    }
    for (size_t j = 0; j < s->n; j++) {
        if (s->used[j]) continue;
        if (k && s->L[j].w->shape[1] != s->L[s->cur[k - 1]].w->shape[0]) continue;
        if (s->group) { /* an earlier layer of j's group not placed yet: not j */
            size_t e;
            for (e = 0; e < j; e++)
                if (s->group[e] == s->group[j] && !s->used[e]) break;
            if (e < j) continue;
        }
        s->used[j] = 1;
        s->cur[k] = j;
        chain_dfs(s, k + 1);
        s->used[j] = 0;
        if (s->count > LAYOUT_SHOWN || s->budget == 0) return;
    }
}

/* "a,b,c" of an order into buf. */
static void order_text(layout_layer *L, const size_t *idx, size_t n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < n && used + 1 < cap; k++) {
        int w = snprintf(buf + used, cap - used, "%s%s", k ? "," : "", L[idx[k]].name);
        if (w < 0 || (size_t)w >= cap - used) {
            snprintf(buf + (cap > 4 ? cap - 4 : 0), cap > 4 ? 4 : cap, "...");
            return;
        }
        used += (size_t)w;
    }
}

void tdl_mlp_layout_free(tdl_mlp_layout *l)
{
    if (!l) return;
    for (size_t k = 0; k < TDL_MAX_DEPTH; k++) free(l->prefix[k]);
    memset(l, 0, sizeof *l);
}

static int cmp_layer_natural(const void *x, const void *y)
{
    const layout_layer *a = x, *b = y;
    return natural_cmp(a->name, b->name, NULL);
}

int tdl_mlp_layout_find(const tdl_tensors *set, const char *layers, tdl_mlp_layout *out)
{
    layout_layer L[TDL_MAX_DEPTH];
    size_t n = 0, order[TDL_MAX_DEPTH];
    int st = TDL_OK;
    char msg[1024];
    memset(out, 0, sizeof *out);
    memset(L, 0, sizeof L);
    /* the weights: one layer each */
    for (size_t i = 0; i < set->count; i++) {
        const tdl_tensor *t = &set->items[i];
        size_t plen;
        if (!strncmp(t->name, "init.", 5)) continue; /* tdl's copies of the initial parameters */
        if (!ends_with(t->name, "weight", &plen)) continue;
        if (t->ndim != 2) {
            const char *kind = t->ndim == 1 ? " (a normalization layer's scale?)"
                             : t->ndim >= 3 ? " (a convolution's kernel?)" : "";
            st = tdl_fail(TDL_ESHAPE, "tensor '%s' has %zu dimensions; a Linear weight is 2-D (out x in)%s; " MLP_SUPPORTED,
                          t->name, t->ndim, kind);
            goto fail;
        }
        const char *kind = not_mlp_kind(t->name);
        if (kind && !strcmp(kind, "an embedding")) {
            st = refuse_tensor(t);
            goto fail;
        }
        if (n == TDL_MAX_DEPTH) {
            st = tdl_fail(TDL_EINVAL, "more than %d layers", TDL_MAX_DEPTH);
            goto fail;
        }
        L[n].prefix = t->name;
        L[n].plen = plen;
        L[n].w = t;
        L[n].name = tdl_malloc(plen + 1, "a layer name");
        if (!L[n].name) { st = TDL_ENOMEM; goto fail; }
        memcpy(L[n].name, t->name, plen);
        L[n].name[plen] = '\0';
        n++;
    }
    /* every other tensor: a bias of one of them, or refused by name */
    for (size_t i = 0; i < set->count; i++) {
        const tdl_tensor *t = &set->items[i];
        size_t plen, k;
        if (!strncmp(t->name, "init.", 5)) continue;
        if (ends_with(t->name, "weight", &plen)) continue;
        if (!ends_with(t->name, "bias", &plen)) {
            st = refuse_tensor(t);
            goto fail;
        }
        for (k = 0; k < n; k++)
            if (L[k].plen == plen && !strncmp(L[k].name, t->name, plen)) break;
        if (k == n) {
            st = tdl_fail(TDL_EFORMAT, "tensor '%s' has no matching '%.*s%sweight'", t->name, (int)plen, t->name, plen ? "." : "");
            goto fail;
        }
        if (t->ndim != 1 || t->shape[0] != L[k].w->shape[0]) {
            st = tdl_fail(TDL_ESHAPE, "tensor '%s' should have shape [%zu]", t->name, L[k].w->shape[0]);
            goto fail;
        }
        L[k].b = t;
    }
    if (n == 0) {
        st = tdl_fail(TDL_EFORMAT, "no '<k>.weight' tensors: not an MLP model file (" MLP_SUPPORTED ")");
        goto fail;
    }
    qsort(L, n, sizeof L[0], cmp_layer_natural);
    const char *how = NULL;
    if (layers) {
        /* the explicit order: every layer once */
        int seen[TDL_MAX_DEPTH] = {0};
        size_t m = 0;
        const char *p = layers;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p), k;
            for (k = 0; k < n; k++)
                if (strlen(L[k].name) == len && !strncmp(L[k].name, p, len)) break;
            if (k == n || seen[k] || m == TDL_MAX_DEPTH) {
                size_t all[TDL_MAX_DEPTH];
                for (size_t j = 0; j < n; j++) all[j] = j;
                order_text(L, all, n, msg, sizeof msg);
                st = tdl_fail(TDL_EINVAL, "layer order '%s': '%.*s' is %s (the file's Linear layers: %s)", layers,
                              (int)(len > 64 ? 64 : len), p, k == n ? "not a Linear layer of the file" : "named twice", msg);
                goto fail;
            }
            seen[k] = 1;
            order[m++] = k;
            if (!comma) break;
            p = comma + 1;
        }
        if (m != n) {
            for (size_t k = 0; k < n; k++)
                if (!seen[k]) {
                    st = tdl_fail(TDL_EINVAL, "layer order '%s' leaves out the Linear layer '%s' (give every layer once)", layers, L[k].name);
                    goto fail;
                }
        }
        how = "as given";
    } else {
        for (size_t k = 0; k < n; k++) order[k] = k;
        for (size_t k = 1; k < n; k++) {
            int tie = 0;
            if (natural_cmp(L[k - 1].name, L[k].name, &tie) == 0 || tie) {
                size_t a = strlen(L[k - 1].name) > strlen(L[k].name) ? k - 1 : k;
                st = tdl_fail(TDL_EFORMAT, "tensor '%s' is not a Linear layer's weight tdl can place: '%s' and '%s' number the same layer; give the layer order, e.g. %s,%s",
                              L[a].w->name, L[k - 1].name, L[k].name, L[k - 1].name, L[k].name);
                goto fail;
            }
        }
        /* the pattern groups (fc<k>, layers.<k>, ...): the natural order binds
         * within a group; how the groups interleave the shapes must say */
        size_t group[TDL_MAX_DEPTH];
        for (size_t k = 0; k < n; k++) {
            char pk[128], pe[128];
            name_pattern(L[k].name, pk, sizeof pk);
            group[k] = k;
            for (size_t e = 0; e < k; e++) {
                name_pattern(L[e].name, pe, sizeof pe);
                if (!strcmp(pk, pe)) { group[k] = group[e]; break; }
            }
        }
        layout_layer *nat[TDL_MAX_DEPTH];
        for (size_t k = 0; k < n; k++) nat[k] = &L[k];
        size_t bad = 0;
        int fits = chain_fits(nat, n, &bad);
        chain_search *cs = tdl_calloc(1, sizeof *cs, "a chain search");
        if (!cs) { st = TDL_ENOMEM; goto fail; }
        cs->L = L;
        cs->n = n;
        cs->group = group;
        cs->budget = LAYOUT_SEARCH_BUDGET;
        chain_dfs(cs, 0);
        if (cs->count == 1 && cs->budget) {
            memcpy(order, cs->found[0], n * sizeof order[0]);
            how = fits ? "natural order of the names" : "the only order the shapes chain";
        } else {
            if (cs->count == 0 && cs->budget) {
                /* no order keeps the names' order: which orders chain at all? */
                memset(cs, 0, sizeof *cs);
                cs->L = L;
                cs->n = n;
                cs->budget = LAYOUT_SEARCH_BUDGET;
                chain_dfs(cs, 0);
            }
            /* refuse, naming the candidates */
            char cand[600] = "";
            size_t used = 0, shown_n = cs->count < LAYOUT_SHOWN ? cs->count : LAYOUT_SHOWN;
            for (size_t c = 0; c < shown_n; c++) {
                order_text(L, cs->found[c], n, msg, sizeof msg);
                int w = snprintf(cand + used, sizeof cand - used, "%s%s", c ? " or " : "", msg);
                if (w < 0 || (size_t)w >= sizeof cand - used) break;
                used += (size_t)w;
            }
            int more = cs->count > LAYOUT_SHOWN || !cs->budget;
            char first[512] = "";
            if (shown_n) order_text(L, cs->found[0], n, first, sizeof first);
            if (!fits) {
                if (shown_n)
                    st = tdl_fail(TDL_ESHAPE, "tensor '%s' takes %zu inputs but the previous layer has %zu outputs (the layers in the natural order of their names); orders that chain: %s%s; give the layer order, e.g. %s",
                                  L[bad].w->name, L[bad].w->shape[1], L[bad - 1].w->shape[0], cand, more ? " or more" : "",
                                  first);
                else
                    st = tdl_fail(TDL_ESHAPE, "tensor '%s' takes %zu inputs but the previous layer has %zu outputs; no order of the %zu Linear layers chains (not a plain MLP)",
                                  L[bad].w->name, L[bad].w->shape[1], L[bad - 1].w->shape[0], n);
            } else {
                st = tdl_fail(TDL_EINVAL, "the order of the Linear layers is ambiguous: their names follow several patterns and several orders chain: %s%s; give the layer order, e.g. %s",
                              cand, more ? " or more" : "", first);
            }
            free(cs);
            goto fail;
        }
        free(cs);
    }
    if (layers) {
        layout_layer *c[TDL_MAX_DEPTH];
        size_t bad = 0;
        for (size_t k = 0; k < n; k++) c[k] = &L[order[k]];
        if (!chain_fits(c, n, &bad)) {
            st = tdl_fail(TDL_ESHAPE, "tensor '%s' takes %zu inputs but the previous layer has %zu outputs (layer order '%s')",
                          c[bad]->w->name, c[bad]->w->shape[1], c[bad - 1]->w->shape[0], layers);
            goto fail;
        }
    }
    /* the scheme, from the patterns */
    {
        char pat0[128], pat[128];
        int one = 1;
        name_pattern(L[0].name, pat0, sizeof pat0);
        for (size_t k = 1; k < n; k++) {
            name_pattern(L[k].name, pat, sizeof pat);
            if (strcmp(pat, pat0)) one = 0;
        }
        if (n == 1 && !*L[0].name) snprintf(out->scheme, sizeof out->scheme, "one nn.Linear (weight, bias)");
        else if (one && !strcmp(pat0, "<k>")) snprintf(out->scheme, sizeof out->scheme, "nn.Sequential (<k>.weight, <k>.bias)");
        else if (one && strstr(pat0, "<k>")) snprintf(out->scheme, sizeof out->scheme, "%.64s.weight, %.64s.bias", pat0, pat0);
        else snprintf(out->scheme, sizeof out->scheme, "named modules");
        snprintf(out->order, sizeof out->order, "%s", how);
    }
    out->depth = n;
    for (size_t k = 0; k < n; k++) {
        layout_layer *l = &L[order[k]];
        out->prefix[k] = l->name;
        l->name = NULL;
        out->in[k] = l->w->shape[1];
        out->out[k] = l->w->shape[0];
        out->has_bias[k] = l->b != NULL;
    }
fail:
    for (size_t k = 0; k < n; k++) free(L[k].name);
    if (st != TDL_OK) tdl_mlp_layout_free(out);
    return st;
}

/* The tensor PREFIX.weight / PREFIX.bias (bare "weight" for an empty prefix). */
static const tdl_tensor *layer_tensor(const tdl_tensors *set, const char *init, const char *prefix, int bias,
                                      char *name, size_t cap)
{
    snprintf(name, cap, "%s%s%s%s", init, prefix, *prefix ? "." : "", bias ? "bias" : "weight");
    return tdl_tensors_find(set, name);
}

static int meta_double(const tdl_tensors *set, const char *key, double *out)
{
    const char *v = tdl_tensors_meta(set, key);
    if (!v) return TDL_OK;
    char *end;
    double x = strtod(v, &end);
    if (*end || !isfinite(x)) return tdl_fail(TDL_EFORMAT, "metadata %s='%s' is not a number", key, v);
    *out = x;
    return TDL_OK;
}

int tdl_mlp_from_tensors(const tdl_tensors *set, const tdl_act *act_override, tdl_mlp **out)
{
    return tdl_mlp_from_tensors_ex(set, act_override, NULL, out);
}

int tdl_mlp_from_tensors_ex(const tdl_tensors *set, const tdl_act *act_override, const char *layers,
                            tdl_mlp **out)
{
    tdl_mlp_layout lay;
    *out = NULL;
    int st = tdl_mlp_layout_find(set, layers, &lay);
    if (st != TDL_OK) return st;
    size_t nw = lay.depth;
    size_t widths[TDL_MAX_DEPTH + 1];
    int bias[TDL_MAX_DEPTH];
    const tdl_tensor *W[TDL_MAX_DEPTH], *B[TDL_MAX_DEPTH];
    char name[600];
    for (size_t l = 0; l < nw; l++) {
        W[l] = layer_tensor(set, "", lay.prefix[l], 0, name, sizeof name);
        B[l] = layer_tensor(set, "", lay.prefix[l], 1, name, sizeof name);
        widths[l] = lay.in[l];
        widths[l + 1] = lay.out[l];
        bias[l] = lay.has_bias[l];
    }
    /* init.* tensors: tdl's copies of the initial parameters, init.<layer>.weight / .bias */
    size_t n_init = 0;
    for (size_t i = 0; i < set->count; i++) {
        const char *nm = set->items[i].name;
        size_t plen;
        if (strncmp(nm, "init.", 5) != 0) continue;
        if (!ends_with(nm + 5, "weight", &plen) && !ends_with(nm + 5, "bias", &plen)) {
            tdl_mlp_layout_free(&lay);
            return tdl_fail(TDL_EFORMAT, "tensor '%s' is not an init.<k>.weight / init.<k>.bias", nm);
        }
        n_init++;
    }
    tdl_mlp *m;
    st = mlp_alloc(nw, widths, bias, &m);
    if (st != TDL_OK) {
        tdl_mlp_layout_free(&lay);
        return st;
    }
    for (size_t i = 0; i < set->meta_count; i++)
        if ((st = tdl_tensors_set_meta(m->meta, set->meta_keys[i], set->meta_values[i])) != TDL_OK) goto fail;
    /* Activation */
    const char *act_text = tdl_tensors_meta(set, "activation");
    if (act_override) m->act = *act_override;
    else if (act_text) {
        if ((st = tdl_act_parse(act_text, &m->act)) != TDL_OK) goto fail;
    } else if (nw > 1) {
        st = tdl_fail(TDL_EINVAL, "the model file names no activation (no __metadata__ 'activation'): give one");
        goto fail;
    }
    const char *param = tdl_tensors_meta(set, "parametrization");
    if (param && tdl_param_parse(param, &m->param) != TDL_OK) {
        st = tdl_fail(TDL_EFORMAT, "metadata parametrization='%s' (expected standard, ntk or mf)", param);
        goto fail;
    }
    if ((st = meta_double(set, "sigma_w", &m->sigma_w)) != TDL_OK) goto fail;
    if ((st = meta_double(set, "sigma_b", &m->sigma_b)) != TDL_OK) goto fail;
    set_scales(m);
    const char *trainable = tdl_tensors_meta(set, "trainable");
    if (trainable) {
        for (size_t l = 0; l < nw; l++) {
            if ((trainable[0] != '0' && trainable[0] != '1') || (trainable[1] != (l + 1 < nw ? ',' : '\0'))) {
                st = tdl_fail(TDL_EFORMAT, "metadata trainable='%s' should be %zu comma-separated 0/1 flags", tdl_tensors_meta(set, "trainable"), nw);
                goto fail;
            }
            m->layers[l].trainable = trainable[0] == '1';
            trainable += 2;
        }
    }
    /* Values, and the init if every init tensor is there. */
    size_t n_init_expected = 0;
    for (size_t l = 0; l < nw; l++) {
        tdl_layer *L = &m->layers[l];
        memcpy(m->theta + L->w_off, W[l]->data, L->in * L->out * sizeof(double));
        if (B[l]) memcpy(m->theta + L->b_off, B[l]->data, L->out * sizeof(double));
        n_init_expected += B[l] ? 2 : 1;
    }
    if (n_init > 0) {
        if (n_init != n_init_expected) {
            st = tdl_fail(TDL_EFORMAT, "the file holds %zu init.* tensors, expected %zu (one per weight and bias)", n_init, n_init_expected);
            goto fail;
        }
        m->theta0 = tdl_malloc(m->n_params * sizeof(double), "initial parameters");
        if (!m->theta0) { st = TDL_ENOMEM; goto fail; }
        for (size_t l = 0; l < nw; l++) {
            tdl_layer *L = &m->layers[l];
            for (int b = 0; b < 2; b++) {
                if (b && !B[l]) continue;
                const tdl_tensor *t = layer_tensor(set, "init.", lay.prefix[l], b, name, sizeof name);
                const tdl_tensor *ref = b ? B[l] : W[l];
                if (!t || t->ndim != ref->ndim || t->numel != ref->numel ||
                    memcmp(t->shape, ref->shape, ref->ndim * sizeof(size_t)) != 0) {
                    st = tdl_fail(TDL_ESHAPE, "tensor '%s' is missing or its shape differs from '%s'", name, ref->name);
                    goto fail;
                }
                memcpy(m->theta0 + (b ? L->b_off : L->w_off), t->data, t->numel * sizeof(double));
            }
        }
    }
    /* Name the first non-finite entry as the file names it: tensor and
     * [row,col] of a weight (out x in), [j] of a bias; the init.* copies after. */
    for (int init = 0; init < 2; init++) {
        const double *th = init ? m->theta0 : m->theta;
        if (!th) continue;
        for (size_t l = 0; l < nw; l++) {
            const tdl_layer *L = &m->layers[l];
            for (int b = 0; b < 2; b++) {
                if (b && !B[l]) continue;
                size_t off = b ? L->b_off : L->w_off, cnt = b ? L->out : L->out * L->in;
                for (size_t j = 0; j < cnt; j++) {
                    double v = th[off + j];
                    if (isfinite(v)) continue;
                    layer_tensor(set, init ? "init." : "", lay.prefix[l], b, name, sizeof name);
                    const char *what = isnan(v) ? "NaN" : "infinite";
                    if (b) st = tdl_fail(TDL_ENONFINITE, "tensor '%s' entry [%zu] is %s", name, j, what);
                    else st = tdl_fail(TDL_ENONFINITE, "tensor '%s' entry [%zu,%zu] is %s", name, j / L->in, j % L->in, what);
                    goto fail;
                }
            }
        }
    }
    tdl_mlp_layout_free(&lay);
    *out = m;
    return TDL_OK;
fail:
    tdl_mlp_layout_free(&lay);
    tdl_mlp_free(&m);
    return st;
}

int tdl_mlp_load(const char *path, const tdl_act *act_override, tdl_mlp **out)
{
    return tdl_mlp_load_ex(path, act_override, NULL, out);
}

int tdl_mlp_load_ex(const char *path, const tdl_act *act_override, const char *layers, tdl_mlp **out)
{
    tdl_tensors *set = NULL;
    *out = NULL;
    int st = tdl_tensors_read(path, &set);
    if (st != TDL_OK) return st;
    st = tdl_mlp_from_tensors_ex(set, act_override, layers, out);
    tdl_tensors_free(&set);
    if (st != TDL_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", tdl_errmsg());
        if (strncmp(msg, path, strlen(path)) != 0) tdl_fail(st, "%s: %s", path, msg);
    }
    return st;
}

int tdl_mlp_to_tensors(const tdl_mlp *m, tdl_tensors **out)
{
    char name[64], buf[256];
    tdl_tensors *set = tdl_tensors_new();
    *out = NULL;
    if (!set) return TDL_ENOMEM;
    int st = TDL_OK;
    for (int pass = 0; pass < (m->theta0 ? 2 : 1) && st == TDL_OK; pass++) {
        const double *th = pass ? m->theta0 : m->theta;
        for (size_t l = 0; l < m->depth && st == TDL_OK; l++) {
            const tdl_layer *L = &m->layers[l];
            size_t wshape[2] = {L->out, L->in};
            snprintf(name, sizeof name, "%s%zu.weight", pass ? "init." : "", 2 * l);
            st = tdl_tensors_add(set, name, 2, wshape, th + L->w_off);
            if (st == TDL_OK && L->has_bias) {
                snprintf(name, sizeof name, "%s%zu.bias", pass ? "init." : "", 2 * l);
                st = tdl_tensors_add(set, name, 1, &L->out, th + L->b_off);
            }
        }
    }
    for (size_t i = 0; i < m->meta->meta_count && st == TDL_OK; i++)
        st = tdl_tensors_set_meta(set, m->meta->meta_keys[i], m->meta->meta_values[i]);
    if (st == TDL_OK) st = tdl_tensors_set_meta(set, "format", "tdl-mlp");
    tdl_arch_format(m, buf, sizeof buf);
    if (st == TDL_OK) st = tdl_tensors_set_meta(set, "arch", buf);
    tdl_act_format(&m->act, buf, sizeof buf);
    if (st == TDL_OK) st = tdl_tensors_set_meta(set, "activation", buf);
    if (st == TDL_OK) st = tdl_tensors_set_meta(set, "parametrization", tdl_param_name(m->param));
    snprintf(buf, sizeof buf, "%.17g", m->sigma_w);
    if (st == TDL_OK) st = tdl_tensors_set_meta(set, "sigma_w", buf);
    snprintf(buf, sizeof buf, "%.17g", m->sigma_b);
    if (st == TDL_OK) st = tdl_tensors_set_meta(set, "sigma_b", buf);
    size_t used = 0;
    for (size_t l = 0; l < m->depth; l++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%d", l ? "," : "", m->layers[l].trainable ? 1 : 0);
    if (st == TDL_OK) st = tdl_tensors_set_meta(set, "trainable", buf);
    if (st != TDL_OK) {
        tdl_tensors_free(&set);
        return st;
    }
    *out = set;
    return TDL_OK;
}

int tdl_mlp_save(const char *path, const tdl_mlp *m)
{
    tdl_tensors *set;
    int st = tdl_mlp_to_tensors(m, &set);
    if (st != TDL_OK) return st;
    st = tdl_safetensors_write(path, set);
    tdl_tensors_free(&set);
    return st;
}
