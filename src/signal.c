/* signal.c — mean-field signal propagation and Jacobian spectra of deep
 * random nets (tdl/signal.h).
 *
 * References:
 *   Poole, Lahiri, Raghu, Sohl-Dickstein, Ganguli 2016 (NeurIPS), "Exponential
 *     expressivity in deep neural networks through transient chaos", eqs. 3-7
 *     (length map, correlation map, chi_1 and the order-to-chaos transition).
 *   Schoenholz, Gilmer, Ganguli, Sohl-Dickstein 2017 (ICLR), "Deep information
 *     propagation", Sec. 3 eqs. 5-9 (depth scales xi_q, xi_c; xi_c diverges
 *     where chi_1 = 1).
 *   Pennington, Schoenholz, Ganguli 2017 (NeurIPS), "Resurrecting the sigmoid
 *     in deep learning through dynamical isometry", eq. 3 (J = prod D^l W^l).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include "tdl/signal.h"
#include "internal.h"

#define Q_PLAIN_STEPS 300      /* plain iterations of the length map before Newton */
#define Q_NEWTON_STEPS 4000    /* Newton polishing steps */
#define Q_UNBOUNDED 1e100      /* q^l beyond this: no finite fixed point */
#define Q_ZERO 1e-280          /* q below this: the fixed point is 0 */
#define C_STEPS 20000          /* iterations of the correlation map */

void tdl_signal_config_default(tdl_signal_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->act.kind = TDL_ACT_TANH;
    cfg->sigma_w = 1.0;
    cfg->sigma_b = 0.0;
}

static int check_config(const tdl_signal_config *cfg)
{
    if (!cfg) return tdl_fail(TDL_EINVAL, "signal propagation: no configuration");
    if (!(cfg->sigma_w >= 0) || !isfinite(cfg->sigma_w))
        return tdl_fail(TDL_EINVAL, "signal propagation: sigma_w must be finite and >= 0, got %g", cfg->sigma_w);
    if (!(cfg->sigma_b >= 0) || !isfinite(cfg->sigma_b))
        return tdl_fail(TDL_EINVAL, "signal propagation: sigma_b must be finite and >= 0, got %g", cfg->sigma_b);
    return TDL_OK;
}

/* E[phi(u) phi(v)] and E[phi'(u) phi'(v)], (u, v) ~ N(0, [[q1, k], [k, q2]]),
 * by the NTK module's dual maps (closed form or quadrature). */
static int dual(const tdl_signal_config *cfg, double q1, double q2, double k, double *T, double *Td)
{
    tdl_kact ka;
    tdl_kact_from_act(&cfg->act, cfg->force_numeric, &ka);
    return tdl_kact_dual(&ka, q1, q2, k, cfg->quad, T, Td);
}

/* E[phi(sqrt(q) z) phi''(sqrt(q) z)], z ~ N(0, 1), by composite 16-point
 * Gauss-Legendre on z in [-10, 10] (tail mass < 2e-23), panels graded towards
 * z = 0 where the activations' transitions (width 1/sqrt(q) in z) sit. */
static int e_phi_phi2(const tdl_act *act, double q, double *out)
{
    gsl_integration_glfixed_table *t = gsl_integration_glfixed_table_alloc(16);
    if (!t) return tdl_fail(TDL_ENOMEM, "out of memory for a quadrature rule");
    double s = sqrt(q), w = s > 1 ? 1 / s : 1.0;
    double br[64];
    size_t nb = 0;
    static const double grade[] = {1.0 / 64, 1.0 / 16, 0.25, 0.5, 1, 2, 4};
    br[nb++] = 0;
    for (size_t i = 0; i < sizeof grade / sizeof grade[0]; i++) {
        if (grade[i] * w < 10) { br[nb++] = grade[i] * w; br[nb++] = -grade[i] * w; }
    }
    for (double z = 1; z < 10; z += 1) { br[nb++] = z; br[nb++] = -z; }
    br[nb++] = 10;
    br[nb++] = -10;
    /* insertion sort (tiny) */
    for (size_t i = 1; i < nb; i++)
        for (size_t j = i; j > 0 && br[j - 1] > br[j]; j--) { double x = br[j]; br[j] = br[j - 1]; br[j - 1] = x; }
    double sum = 0;
    const double norm = 1 / sqrt(2 * M_PI);
    for (size_t p = 0; p + 1 < nb; p++) {
        double a = br[p], b = br[p + 1];
        if (b - a < 1e-14) continue;
        for (size_t i = 0; i < 16; i++) {
            double z, wi, u, f, d2;
            gsl_integration_glfixed_point(a, b, i, &z, &wi, t);
            u = s * z;
            tdl_act_eval(act, &u, 1, &f, NULL, &d2);
            sum += wi * norm * exp(-0.5 * z * z) * f * d2;
        }
    }
    gsl_integration_glfixed_table_free(t);
    *out = sum;
    return TDL_OK;
}

int tdl_signal_qmap(const tdl_signal_config *cfg, double q, double *q_next)
{
    int st = check_config(cfg);
    if (st) return st;
    if (!(q >= 0) || !isfinite(q)) return tdl_fail(TDL_EINVAL, "length map: q must be finite and >= 0, got %g", q);
    double T;
    if ((st = dual(cfg, q, q, q, &T, NULL)) != TDL_OK) return st;
    *q_next = cfg->sigma_w * cfg->sigma_w * T + cfg->sigma_b * cfg->sigma_b;
    return TDL_OK;
}

int tdl_signal_covmap(const tdl_signal_config *cfg, double q1, double q2, double k, double *q1_next,
                      double *q2_next, double *k_next)
{
    int st = check_config(cfg);
    if (st) return st;
    if (!(q1 >= 0) || !(q2 >= 0) || !isfinite(q1) || !isfinite(q2) || !isfinite(k) || k * k > q1 * q2 * (1 + 1e-12))
        return tdl_fail(TDL_EINVAL, "covariance map: need q1, q2 >= 0 and k^2 <= q1 q2 (q1 = %g, q2 = %g, k = %g)", q1, q2, k);
    double sw2 = cfg->sigma_w * cfg->sigma_w, sb2 = cfg->sigma_b * cfg->sigma_b, T1, T2, T12;
    if ((st = dual(cfg, q1, q1, q1, &T1, NULL)) != TDL_OK) return st;
    /* the iterates ask for q1 = q2 and no q2': one quadrature fewer a layer
     * (a third of the time of 100000 layers); the same T bit for bit */
    if (!q2_next || q2 == q1) T2 = T1;
    else if ((st = dual(cfg, q2, q2, q2, &T2, NULL)) != TDL_OK) return st;
    /* two inputs that have become one (k = q1 = q2, c = 1 exactly, where deep
     * iterates end up) need no second quadrature: the same call as T1 */
    if (q1 == q2 && k == q1) T12 = T1;
    else if ((st = dual(cfg, q1, q2, k, &T12, NULL)) != TDL_OK) return st;
    if (q1_next) *q1_next = sw2 * T1 + sb2;
    if (q2_next) *q2_next = sw2 * T2 + sb2;
    if (k_next) *k_next = sw2 * T12 + sb2;
    return TDL_OK;
}

int tdl_signal_cmap(const tdl_signal_config *cfg, double q, double c, double *c_next)
{
    if (!(c >= -1 && c <= 1)) return tdl_fail(TDL_EINVAL, "correlation map: c must be in [-1, 1], got %g", c);
    double qn, kn;
    int st = tdl_signal_covmap(cfg, q, q, c * q, &qn, NULL, &kn);
    if (st) return st;
    if (!(qn > 0))
        return tdl_fail(TDL_EINVAL, "correlation map: the next length q' = %g is not positive (sigma_w = %g, sigma_b = %g, q = %g)",
                        qn, cfg->sigma_w, cfg->sigma_b, q);
    double r = kn / qn;
    *c_next = r > 1 ? 1 : r < -1 ? -1 : r;
    return TDL_OK;
}

/* chi_1(q) = sigma_w^2 E[phi'(sqrt(q) z)^2] and chi_q(q) = chi_1 + sigma_w^2 E[phi phi'']. */
static int chis_at(const tdl_signal_config *cfg, double q, double *chi1, double *chiq)
{
    double Td, pp;
    int st = dual(cfg, q, q, q, NULL, &Td);
    if (st) return st;
    double sw2 = cfg->sigma_w * cfg->sigma_w;
    *chi1 = sw2 * Td;
    if (chiq) {
        if ((st = e_phi_phi2(&cfg->act, q, &pp)) != TDL_OK) return st;
        *chiq = *chi1 + sw2 * pp;
    }
    return TDL_OK;
}

/* The attracting fixed point of the length map reached from q0. */
static int q_fixed_point(const tdl_signal_config *cfg, double q0, double tol, tdl_signal_stats *s)
{
    double q = q0, qn = q0;
    int st;
    size_t it = 0;
    double phi0;
    tdl_act_eval(&cfg->act, &(double){0.0}, 1, &phi0, NULL, NULL);
    const int zero_fixed = cfg->sigma_b == 0 && phi0 == 0;
    s->q_bounded = 1;
    /* plain iteration: converges at rate chi_q when chi_q < 1 */
    for (; it < Q_PLAIN_STEPS; it++) {
        if ((st = tdl_signal_qmap(cfg, q, &qn)) != TDL_OK) return st;
        if (!isfinite(qn) || qn > Q_UNBOUNDED) { s->q_bounded = 0; q = INFINITY; goto done; }
        double dq = fabs(qn - q);
        q = qn;
        if (q < Q_ZERO) { q = 0; goto done; }
        if (dq <= tol * q) goto done;
    }
    /* Newton on g(q) = q'(q) - q with g' = chi_q - 1 (slow plain convergence
     * near criticality); a plain step where Newton would not descend. */
    for (size_t k = 0; k < Q_NEWTON_STEPS; k++, it++) {
        double chi1, chiq;
        if ((st = tdl_signal_qmap(cfg, q, &qn)) != TDL_OK) return st;
        if (!isfinite(qn) || qn > Q_UNBOUNDED) { s->q_bounded = 0; q = INFINITY; goto done; }
        double g = qn - q;
        if (fabs(g) <= tol * q) goto done;
        /* sigma_b = 0 and phi(0) = 0: q = 0 is a fixed point; at the edge of
         * chaos the iterates approach it only algebraically (q^l ~ 1/l for
         * tanh) and the quadrature's roundoff swamps g below ~1e-8 q0 */
        if (zero_fixed && g < 0 && q < 1e-8 * fmax(q0, 1)) { q = 0; goto done; }
        if ((st = chis_at(cfg, q, &chi1, &chiq)) != TDL_OK) return st;
        double gp = chiq - 1, next;
        if (gp < 0) {
            next = q - g / gp;
            if (!(next >= 0)) next = 0.5 * q;
        } else if (g > 0) {
            /* growing faster than the identity: no fixed point above q */
            if (qn > q * (1 + 1e-3) || k > 100) { s->q_bounded = 0; q = INFINITY; goto done; }
            next = qn;
        } else {
            next = qn;
        }
        q = next;
        if (q < Q_ZERO) { q = 0; goto done; }
    }
    s->q_star = q;
    s->q_iterations = it;
    return tdl_fail(TDL_ENOCONV, "length map: no fixed point within %d iterations from q0 = %g (sigma_w = %g, sigma_b = %g)",
                    Q_PLAIN_STEPS + Q_NEWTON_STEPS, q0, cfg->sigma_w, cfg->sigma_b);
done:
    s->q_star = q;
    s->q_iterations = it;
    if (s->q_bounded) {
        if ((st = tdl_signal_qmap(cfg, q, &qn)) != TDL_OK) return st;
        s->q_residual = fabs(qn - q);
    } else {
        s->q_residual = NAN;
    }
    return TDL_OK;
}

static double depth_scale(double chi)
{
    if (!(chi > 0)) return 0;
    if (chi >= 1) return INFINITY;
    return -1 / log(chi);
}

int tdl_signal_analyze(const tdl_signal_config *cfg, double q0, double c0, double tol, tdl_signal_stats *out)
{
    memset(out, 0, sizeof *out);
    out->q0 = q0;
    out->q_star = out->c_star = out->chi1 = out->chi_q = out->chi_c = out->xi_q = out->xi_c = NAN;
    int st = check_config(cfg);
    if (st) return st;
    if (!(q0 >= 0) || !isfinite(q0)) return tdl_fail(TDL_EINVAL, "signal propagation: q0 must be finite and >= 0, got %g", q0);
    if (!(c0 >= -1 && c0 < 1)) return tdl_fail(TDL_EINVAL, "signal propagation: c0 must be in [-1, 1), got %g", c0);
    if (tol == 0) tol = 1e-13;
    if (!(tol > 0 && tol < 1)) return tdl_fail(TDL_EINVAL, "signal propagation: tolerance must be in (0, 1), got %g", tol);
    if ((st = q_fixed_point(cfg, q0, tol, out)) != TDL_OK) return st;
    if (!out->q_bounded) return TDL_OK;
    double qs = out->q_star;
    if ((st = chis_at(cfg, qs, &out->chi1, &out->chi_q)) != TDL_OK) return st;
    out->xi_q = depth_scale(out->chi_q);
    out->phase = out->chi1 < 1 ? -1 : out->chi1 > 1 ? 1 : 0;
    if (out->chi1 <= 1 || !(qs > 0)) {
        /* ordered (or critical): c = 1 is the attracting fixed point and
         * dc'/dc there is chi_1 (Poole et al. 2016 eq. 7); at q* = 0 the map
         * is linear in the inputs and every c is fixed: c* = 1 by continuity */
        out->c_star = 1;
        out->chi_c = out->chi1;
    } else {
        double c = c0, cn = c0;
        size_t it;
        /* plain iteration towards the attracting c* < 1, then Newton on
         * g(c) = c'(c) - c with g' = sigma_w^2 E[phi'(u) phi'(v)] - 1 (Price's
         * theorem; q' = q* at the fixed point), kept inside [-1, 1) */
        for (it = 0; it < C_STEPS; it++) {
            if ((st = tdl_signal_cmap(cfg, qs, c, &cn)) != TDL_OK) return st;
            double dc = fabs(cn - c);
            if (dc <= tol * fmax(fabs(c), 1e-3)) { c = cn; break; }
            if (it >= 30) {
                double Tdn;
                if ((st = dual(cfg, qs, qs, c * qs, NULL, &Tdn)) != TDL_OK) return st;
                double gp = cfg->sigma_w * cfg->sigma_w * Tdn - 1, nc = gp < 0 ? c - (cn - c) / gp : cn;
                cn = (nc >= -1 && nc < 1) ? nc : cn;
            }
            c = cn;
        }
        out->c_iterations = it;
        out->c_star = c;
        if (it == C_STEPS)
            return tdl_fail(TDL_ENOCONV, "correlation map: no fixed point within %d iterations (sigma_w = %g, sigma_b = %g)",
                            C_STEPS, cfg->sigma_w, cfg->sigma_b);
        double Td;
        if ((st = dual(cfg, qs, qs, c * qs, NULL, &Td)) != TDL_OK) return st;
        out->chi_c = cfg->sigma_w * cfg->sigma_w * Td;
    }
    out->xi_c = depth_scale(out->chi_c);
    return TDL_OK;
}

int tdl_signal_iterate(const tdl_signal_config *cfg, double q0, double c0, size_t depth, double *q, double *c)
{
    int st = check_config(cfg);
    if (st) return st;
    if (!(q0 > 0) || !isfinite(q0)) return tdl_fail(TDL_EINVAL, "signal propagation: q0 must be finite and > 0, got %g", q0);
    if (!(c0 >= -1 && c0 <= 1)) return tdl_fail(TDL_EINVAL, "signal propagation: c0 must be in [-1, 1], got %g", c0);
    double qq = q0, kk = c0 * q0;
    q[0] = q0;
    c[0] = c0;
    for (size_t l = 1; l <= depth; l++) {
        double qn, kn;
        if ((st = tdl_signal_covmap(cfg, qq, qq, kk, &qn, NULL, &kn)) != TDL_OK) return st;
        if (!isfinite(qn)) {
            /* name the parameter that overflowed: sigma_b^2 alone, q0 (or
             * sigma_w) in the first layer, else the growth layer by layer */
            if (!(cfg->sigma_b * cfg->sigma_b < 1e300))
                return tdl_fail(TDL_ENONFINITE, "signal propagation: the length q^%zu overflowed (%g): sigma_b = %g is too "
                                "large (sigma_b^2 alone exceeds the double range); lower sigma_b", l, qn, cfg->sigma_b);
            if (l == 1 && cfg->sigma_w <= 1e10)
                return tdl_fail(TDL_ENONFINITE, "signal propagation: the length q^1 overflowed (%g): q0 = %g is too large "
                                "for sigma_w = %g; lower q0", qn, q0, cfg->sigma_w);
            if (l == 1)
                return tdl_fail(TDL_ENONFINITE, "signal propagation: the length q^1 overflowed (%g): sigma_w = %g is too "
                                "large; lower sigma_w", qn, cfg->sigma_w);
            return tdl_fail(TDL_ENONFINITE, "signal propagation: the length q^%zu overflowed (%g): sigma_w = %g is far in "
                            "the exploding phase; lower sigma_w or the depth (below %zu)", l, qn, cfg->sigma_w, l);
        }
        if (!(qn > 0)) {
            if (cfg->sigma_w == 0 && cfg->sigma_b == 0)
                return tdl_fail(TDL_EINVAL, "signal propagation: the length q^%zu is 0, so the correlation c^%zu is undefined "
                                "(sigma_w = 0 and sigma_b = 0 send every input to 0); use sigma_w > 0 or sigma_b > 0", l, l);
            /* sigma_w > 0 or sigma_b > 0: the length shrank layer by layer
             * until it underflowed -- the depth is what is too large */
            return tdl_fail(TDL_EINVAL, "signal propagation: the length q^%zu underflowed to 0 (sigma_w = %g, sigma_b = %g "
                            "shrink it every layer), so the correlation c^%zu is undefined; lower the depth (below %zu) or "
                            "use sigma_b > 0", l, cfg->sigma_w, cfg->sigma_b, l, l);
        }
        if (cfg->progress && (l % 256 == 0 || l == depth) && cfg->progress("mean field", l, depth, cfg->user) != 0)
            return tdl_fail(TDL_EINVAL, "signal propagation: stopped by the progress callback at layer %zu", l);
        qq = qn;
        kk = fmin(fmax(kn, -qn), qn);
        q[l] = qq;
        c[l] = kk / qq;
    }
    return TDL_OK;
}

static int chi1_of(const tdl_signal_config *cfg, double *chi1)
{
    tdl_signal_stats s;
    memset(&s, 0, sizeof s);
    int st = q_fixed_point(cfg, 1.0, 1e-13, &s);
    if (st) return st;
    if (!s.q_bounded) { *chi1 = NAN; return TDL_OK; }
    return chis_at(cfg, s.q_star, chi1, NULL);
}

int tdl_signal_critical_sigma_w(const tdl_signal_config *cfg, double lo, double hi, double *sigma_w_crit)
{
    int st = check_config(cfg);
    if (st) return st;
    if (!(lo >= 0 && hi > lo) || !isfinite(hi))
        return tdl_fail(TDL_EINVAL, "critical sigma_w: need 0 <= lo < hi (got %g, %g)", lo, hi);
    tdl_signal_config c = *cfg;
    double flo, fhi;
    c.sigma_w = lo;
    if ((st = chi1_of(&c, &flo)) != TDL_OK) return st;
    c.sigma_w = hi;
    if ((st = chi1_of(&c, &fhi)) != TDL_OK) return st;
    if (isnan(fhi)) fhi = INFINITY; /* unbounded q*: far in the chaotic side */
    flo -= 1;
    fhi -= 1;
    if (!(flo < 0 && fhi > 0))
        return tdl_fail(TDL_EINVAL, "critical sigma_w: chi_1 - 1 does not change sign on [%g, %g] (%g, %g) at sigma_b = %g",
                        lo, hi, flo, fhi, cfg->sigma_b);
    /* bisection to double precision: chi_1 is continuous and increasing in sigma_w here */
    for (int it = 0; it < 200 && hi - lo > 4 * DBL_EPSILON * hi; it++) {
        double mid = 0.5 * (lo + hi), f;
        c.sigma_w = mid;
        if ((st = chi1_of(&c, &f)) != TDL_OK) return st;
        if (isnan(f) || f > 1) hi = mid;
        else lo = mid;
    }
    *sigma_w_crit = 0.5 * (lo + hi);
    return TDL_OK;
}

int tdl_signal_phase_diagram(const tdl_signal_config *cfg, const double *sw, size_t nw, const double *sb, size_t nb,
                             double *chi)
{
    int st = check_config(cfg);
    if (st) return st;
    tdl_signal_config c = *cfg;
    for (size_t i = 0; i < nw; i++)
        for (size_t j = 0; j < nb; j++) {
            c.sigma_w = sw[i];
            c.sigma_b = sb[j];
            if ((st = check_config(&c)) != TDL_OK) return st;
            if ((st = chi1_of(&c, &chi[i * nb + j])) != TDL_OK) return st;
        }
    return TDL_OK;
}

/* ---- finite random nets -------------------------------------------------- */

const tdl_name tdl_signal_init_names[] = {
    {"gaussian", TDL_SIGNAL_GAUSSIAN},
    {"orthogonal", TDL_SIGNAL_ORTHOGONAL},
    {NULL, 0},
};

int tdl_signal_memory_check(size_t width, int jacobian, size_t limit)
{
    size_t n2, bytes;
    size_t mats = jacobian ? 4 : 1; /* W; for the Jacobian also J, W J and dgesdd's copy */
    if (tdl_mul_size(width, width, &n2) || tdl_mul_size(n2, mats * sizeof(double), &bytes))
        return tdl_fail(TDL_ETOOBIG, "width %zu: %zu x %zu matrices overflow size_t", width, width, width);
    if (limit == 0) { /* the library's one memory guard (tdl/memory.h) */
        char what[64], detail[96];
        snprintf(what, sizeof what, "width %zu", width);
        snprintf(detail, sizeof detail, "%zu matrices of %zu x %zu doubles", mats, width, width);
        return tdl_memory_require_detail(bytes, 1, 0, what, detail);
    }
    if (bytes > limit)
        return tdl_fail(TDL_ETOOBIG, "width %zu needs %.3g GB for %zu matrices of %zu x %zu doubles (limit %.3g GB)", width,
                        (double)bytes / 1e9, mats, width, width, (double)limit / 1e9);
    return TDL_OK;
}

/* One N x N weight matrix: Gaussian N(0, sigma_w^2 / N) or sigma_w times a
 * Haar orthogonal matrix (QR of a Gaussian, signs fixed by diag R). */
static int draw_weights(gsl_rng *r, tdl_signal_init init, size_t N, double sigma_w, double *W, double *tau)
{
    if (init == TDL_SIGNAL_GAUSSIAN) {
        double sd = sigma_w / sqrt((double)N);
        for (size_t i = 0; i < N * N; i++) W[i] = gsl_ran_gaussian_ziggurat(r, sd);
        return TDL_OK;
    }
    for (size_t i = 0; i < N * N; i++) W[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    lapack_int n = (lapack_int)N;
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, n, n, W, n, tau);
    if (info == 0) {
        /* keep sign(R_jj) in tau's place after dorgqr overwrote it: store first */
        double *sign = tau + N;
        for (size_t j = 0; j < N; j++) sign[j] = W[j * N + j] < 0 ? -1.0 : 1.0;
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, n, n, n, W, n, tau);
        if (info == 0)
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < N; j++) W[i * N + j] *= sigma_w * sign[j];
    }
    if (info == -1011 || info == -1010) return tdl_fail(TDL_ENOMEM, "orthogonal weights: LAPACK out of memory");
    if (info != 0) return tdl_fail(TDL_ENOCONV, "orthogonal weights: LAPACK QR failed (info %d)", (int)info);
    return TDL_OK;
}

/* The progress hook every 16 layers (a layer of a random net costs an
 * N x N matrix product); TDL_EINVAL when it asks to stop. */
static int report_layer(const tdl_signal_config *cfg, const char *stage, size_t done, size_t depth)
{
    if (!cfg->progress || done == 0 || done % 16 != 0) return TDL_OK;
    if (cfg->progress(stage, done, depth, cfg->user) != 0)
        return tdl_fail(TDL_EINVAL, "%s: stopped by the progress callback at layer %zu", stage, done);
    return TDL_OK;
}

static int check_net_args(const tdl_signal_config *cfg, size_t width, size_t depth, int jacobian)
{
    int st = check_config(cfg);
    if (st) return st;
    if (width < 2) return tdl_fail(TDL_EINVAL, "random net: width must be >= 2, got %zu", width);
    if (depth < 1) return tdl_fail(TDL_EINVAL, "random net: depth must be >= 1, got %zu", depth);
    if (width > (size_t)INT32_MAX) return tdl_fail(TDL_ETOOBIG, "random net: width %zu exceeds LAPACK's int range", width);
    return tdl_signal_memory_check(width, jacobian, 0);
}

int tdl_signal_simulate(const tdl_signal_config *cfg, tdl_signal_init init, size_t width, size_t depth, double q0,
                        double c0, unsigned long seed, double *q, double *c, double *chi)
{
    int st = check_net_args(cfg, width, depth, 0);
    if (st) return st;
    if (!(q0 > 0) || !isfinite(q0)) return tdl_fail(TDL_EINVAL, "random net: q0 must be finite and > 0, got %g", q0);
    if (!(c0 >= -1 && c0 <= 1)) return tdl_fail(TDL_EINVAL, "random net: c0 must be in [-1, 1], got %g", c0);
    const size_t N = width;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double *W = tdl_malloc(N * N * sizeof(double), "a weight matrix");
    double *tau = tdl_malloc(2 * N * sizeof(double), "QR scratch");
    double *X = tdl_malloc(2 * N * sizeof(double), "activations");   /* N x 2: x_a, x_b */
    double *H = tdl_malloc(2 * N * sizeof(double), "pre-activations");
    double *D = tdl_malloc(N * sizeof(double), "derivatives");
    if (!r || !W || !tau || !X || !H || !D) { st = r ? TDL_ENOMEM : tdl_fail(TDL_ENOMEM, "out of memory for a random generator"); goto cleanup; }
    gsl_rng_set(r, seed);
    {
        /* inputs with (1/N)|x|^2 = q0 exactly and correlation c0 exactly */
        double *za = D, *zb = H;
        double na = 0, ab = 0, nb2 = 0;
        for (size_t i = 0; i < N; i++) { za[i] = gsl_ran_gaussian_ziggurat(r, 1.0); zb[i] = gsl_ran_gaussian_ziggurat(r, 1.0); }
        for (size_t i = 0; i < N; i++) na += za[i] * za[i];
        for (size_t i = 0; i < N; i++) za[i] /= sqrt(na);
        for (size_t i = 0; i < N; i++) ab += za[i] * zb[i];
        for (size_t i = 0; i < N; i++) zb[i] -= ab * za[i];
        for (size_t i = 0; i < N; i++) nb2 += zb[i] * zb[i];
        for (size_t i = 0; i < N; i++) zb[i] /= sqrt(nb2);
        double s = sqrt(q0 * (double)N), s2 = sqrt(fmax(0, 1 - c0 * c0));
        for (size_t i = 0; i < N; i++) {
            X[2 * i] = s * za[i];
            X[2 * i + 1] = s * (c0 * za[i] + s2 * zb[i]);
        }
        /* these are the pre-activations h^0; the first layer sees phi(h^0) */
        tdl_act_eval(&cfg->act, X, 2 * N, X, NULL, NULL);
    }
    if (q) q[0] = q0;
    if (c) c[0] = c0;
    if (chi) chi[0] = NAN;
    for (size_t l = 1; l <= depth; l++) {
        if ((st = report_layer(cfg, "random net", l - 1, depth)) != TDL_OK) goto cleanup;
        if ((st = draw_weights(r, init, N, cfg->sigma_w, W, tau)) != TDL_OK) goto cleanup;
        /* H = W X + b (b shared by both inputs) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, 2, (int)N, 1.0, W, (int)N, X, 2, 0.0, H, 2);
        if (cfg->sigma_b > 0)
            for (size_t i = 0; i < N; i++) {
                double b = gsl_ran_gaussian_ziggurat(r, cfg->sigma_b);
                H[2 * i] += b;
                H[2 * i + 1] += b;
            }
        double qa = 0, qb = 0, ab = 0, cs = 0;
        for (size_t i = 0; i < N; i++) {
            qa += H[2 * i] * H[2 * i];
            qb += H[2 * i + 1] * H[2 * i + 1];
            ab += H[2 * i] * H[2 * i + 1];
        }
        if (!isfinite(qa) || !isfinite(qb)) { st = tdl_fail(TDL_ENONFINITE, "random net: pre-activations overflow at layer %zu (sigma_w = %g); lower sigma_w or the depth", l, cfg->sigma_w); goto cleanup; }
        tdl_act_eval(&cfg->act, H, 2 * N, X, NULL, NULL);
        for (size_t i = 0; i < N; i++) {
            double d;
            tdl_act_eval(&cfg->act, &H[2 * i], 1, NULL, &d, NULL);
            cs += d * d;
        }
        if (q) q[l] = qa / (double)N;
        if (c) c[l] = (qa > 0 && qb > 0) ? ab / sqrt(qa * qb) : NAN;
        if (chi) chi[l] = cfg->sigma_w * cfg->sigma_w * cs / (double)N;
    }
cleanup:
    if (r) gsl_rng_free(r);
    free(W); free(tau); free(X); free(H); free(D);
    return st;
}

int tdl_signal_jacobian_sv(const tdl_signal_config *cfg, tdl_signal_init init, size_t width, size_t depth, double q_in,
                           unsigned long seed, double *sv)
{
    int st = check_net_args(cfg, width, depth, 1);
    if (st) return st;
    if (!(q_in >= 0) || !isfinite(q_in)) return tdl_fail(TDL_EINVAL, "Jacobian: q_in must be finite and >= 0, got %g", q_in);
    const size_t N = width;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double *W = tdl_malloc(N * N * sizeof(double), "a weight matrix");
    double *J = tdl_malloc(N * N * sizeof(double), "the Jacobian");
    double *M = tdl_malloc(N * N * sizeof(double), "the Jacobian");
    double *tau = tdl_malloc(2 * N * sizeof(double), "QR scratch");
    double *x = tdl_malloc(N * sizeof(double), "activations");
    double *h = tdl_malloc(N * sizeof(double), "pre-activations");
    double *d = tdl_malloc(N * sizeof(double), "derivatives");
    if (!r || !W || !J || !M || !tau || !x || !h || !d) { st = r ? TDL_ENOMEM : tdl_fail(TDL_ENOMEM, "out of memory for a random generator"); goto cleanup; }
    gsl_rng_set(r, seed);
    for (size_t i = 0; i < N; i++) h[i] = gsl_ran_gaussian_ziggurat(r, sqrt(q_in));
    tdl_act_eval(&cfg->act, h, N, x, NULL, NULL);
    memset(J, 0, N * N * sizeof(double));
    for (size_t i = 0; i < N; i++) J[i * N + i] = 1;
    for (size_t l = 1; l <= depth; l++) {
        if ((st = report_layer(cfg, "Jacobian", l - 1, depth)) != TDL_OK) goto cleanup;
        if ((st = draw_weights(r, init, N, cfg->sigma_w, W, tau)) != TDL_OK) goto cleanup;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)N, 1.0, W, (int)N, x, 1, 0.0, h, 1);
        if (cfg->sigma_b > 0)
            for (size_t i = 0; i < N; i++) h[i] += gsl_ran_gaussian_ziggurat(r, cfg->sigma_b);
        tdl_act_eval(&cfg->act, h, N, x, d, NULL);
        /* J <- D^l W^l J: M = W J (BLAS-3), then scale row i by phi'(h_i) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)N, (int)N, 1.0, W, (int)N, J, (int)N, 0.0, M, (int)N);
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) J[i * N + j] = d[i] * M[i * N + j];
        for (size_t i = 0; i < N; i++)
            if (!isfinite(J[i * N + i])) { st = tdl_fail(TDL_ENONFINITE, "Jacobian: overflow at layer %zu (sigma_w = %g); lower sigma_w or the depth", l, cfg->sigma_w); goto cleanup; }
    }
    {
        lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)N, (lapack_int)N, J, (lapack_int)N, sv, NULL, (lapack_int)N, NULL, (lapack_int)N);
        if (info == -1011 || info == -1010) { st = tdl_fail(TDL_ENOMEM, "Jacobian: LAPACK dgesdd out of memory"); goto cleanup; }
        if (info < 0) { st = tdl_fail(TDL_EINVAL, "Jacobian: dgesdd argument %d invalid", (int)-info); goto cleanup; }
        if (info > 0) { st = tdl_fail(TDL_ENOCONV, "Jacobian: dgesdd did not converge (info %d)", (int)info); goto cleanup; }
    }
cleanup:
    if (r) gsl_rng_free(r);
    free(W); free(J); free(M); free(tau); free(x); free(h); free(d);
    return st;
}
