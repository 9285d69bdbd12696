/* kernel_dual.c — analytic infinite-width kernels (tdl/kernel_dual.h): the
 * dual maps T = E[phi(u) phi(v)], Tdot = E[phi'(u) phi'(v)] of an activation
 * in closed form or by composite Gauss-Legendre quadrature, the accurate
 * angles they are written in, and the NNGP / NTK recursion.  signal.c's
 * mean-field maps use the same dual maps (tdl_kact_dual).
 *
 * References:
 *   Jacot, Gabriel, Hongler 2018 (NeurIPS), "Neural tangent kernel" (Thm 1).
 *   Arora et al. 2019 (arXiv 1904.11955), exact NTK recursion (eq. 9-11).
 *   Cho and Saul 2009 (arc-cosine kernels), Williams 1997 (erf kernel).
 *   neural-tangents (Novak et al. 2020) for conventions (../shared/reference/ntk.md).
 *   W. Kahan on angles between vectors (below).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/stats.h"
#include "tdl/kernel_dual.h"
#include "tdl/linalg.h"
#include "internal.h"
#include "kernel_internal.h"

/* ---- accurate angles -------------------------------------------------------
 *
 * Every closed-form dual map below depends on the pair (x, x') through the
 * variances q1, q2 and the angle theta between the two (augmented) vectors.
 * theta = atan2(sqrt(q1 q2 - k^2), k) is NOT accurate near theta = 0 or pi:
 * q1 q2 - k^2 is then a difference of nearly equal rounded numbers, an error
 * of eps q1 q2 in it gives theta ~ sqrt(eps) = 1e-8 instead of 0, and the
 * kinked duals (Tdot of relu = (pi - theta)/(2 pi)) inherit that error
 * linearly.  We carry, per pair, the half-angle squares
 *     cm = sin^2(theta/2) = (1 - cos theta)/2,   cp = cos^2(theta/2) = (1 + cos theta)/2
 * (cm + cp = 1), each to a few ulps RELATIVE, so that
 *     theta = 2 atan2(sqrt cm, sqrt cp),   pi - theta = 2 atan2(sqrt cp, sqrt cm),
 *     1 - cos theta = 2 cm,  1 + cos theta = 2 cp,  sin^2 theta = 4 cm cp
 * are all accurate, at theta = 0 and pi included.  This is Kahan's advice for
 * angles between vectors (W. Kahan, "How futile are mindless assessments of
 * roundoff in floating-point computation?", 2006, the section on mangled
 * angles; in the spirit of his "Miscalculating area and angles of a
 * needle-like triangle", 2000/2014): the angle from the difference AND the sum
 * of the unit vectors, 2 atan2(|u^ - v^|, |u^ + v^|), is accurate to a few
 * ulps for every angle and 0 for equal vectors. */

/* a b - c d to within ~1.5 ulp (Kahan's fma algorithm, see Jeannerod, Louvet
 * and Muller, Math. Comp. 82 (2013)). */
static double diff_of_products(double a, double b, double c, double d)
{
    double w = c * d;
    double e = fma(-c, d, w); /* w - c d, exactly */
    double f = fma(a, b, -w);
    return f + e;
}

/* (cm, cp) from h- = sqrt(q1 q2) - k and h+ = sqrt(q1 q2) + k (both >= 0);
 * (1/2, 1/2), i.e. theta = pi/2, when both vanish (a zero-variance input:
 * then every closed form below gives E[phi(u)] E[phi(v)] with the angle
 * irrelevant, except step and the derivative maps, which take theta = pi/2). */
static void angle_normalize(double hm, double hp, double *cm, double *cp)
{
    if (!(hm > 0)) hm = 0;
    if (!(hp > 0)) hp = 0;
    double s = hm + hp;
    if (!(s > 0) || !isfinite(s)) {
        *cm = 0.5;
        *cp = 0.5;
        return;
    }
    *cm = hm / s;
    *cp = hp / s;
}

/* The angle of a covariance (q1, q2, k) (tdl_kact_dual's arguments): with
 * r = sqrt(q1 q2) and the discriminant q1 q2 - k^2 = (r - k)(r + k) computed
 * to ~1 ulp by diff_of_products, the one of h-+ = r -+ k that cancels is
 * (q1 q2 - k^2) / (r +- k).  Exact at k = +-r (theta = 0, pi); near there as
 * accurate as (q1, q2, k) themselves allow. */
static void angle_from_cov(double q1, double q2, double k, double *cm, double *cp)
{
    double r = sqrt(q1 * q2), disc = diff_of_products(q1, q2, k, k);
    if (!(disc > 0)) disc = 0;
    double hm, hp;
    if (k >= 0) {
        hp = r + k;
        hm = hp > 0 ? disc / hp : 0;
    } else {
        hm = r - k;
        hp = disc / hm;
    }
    angle_normalize(hm, hp, cm, cp);
}

/* The angle between u = (s x, t) and v = (s y, t) (x, y in R^d; t = 0 for no
 * bias) with |u|^2 = qx, |v|^2 = qy and u.v = k given (k from BLAS).  With
 * c = k / (|u| |v|): for |c| < 1/2 neither 1 - c nor 1 + c cancels and
 * (cm, cp) = ((1 - c)/2, (1 + c)/2) to a few ulps.  Otherwise the small one is
 * recomputed from the inputs (Kahan, above), cm = |u^ - v^|^2 / 4 or
 * cp = |u^ + v^|^2 / 4 with u^ = u/|u|, and u^ -+ v^ is formed without
 * cancellation (sigma = -1 for the difference, +1 for the sum; u the shorter):
 *     u^ + sigma v^ = (u + sigma v)/|v| + u (|v|^2 - |u|^2) / (|u| |v| (|u| + |v|)),
 *     |v|^2 - |u|^2 = s^2 sum_t (y_t - x_t)(y_t + x_t),
 * where x_t + sigma y_t is exact when the two are within a factor 2 (Sterbenz)
 * and relatively accurate otherwise, and both terms are O(1).  So theta (or
 * pi - theta) is accurate to a few ulps RELATIVE for nearly parallel inputs
 * of similar norms (dividing x and y by their norms first would leave an
 * absolute error eps per component, i.e. a relative error eps/theta, which
 * the kinked duals amplify layer after layer, theta' ~ sqrt theta), to a few
 * ulps absolute always, and exactly 0 for x = y.  O(d) per pair, only when
 * |c| >= 1/2. */
void tdl_kernel_angle_from_inputs(const double *x, const double *y, size_t d, double s, double t, double qx,
                                  double qy, double k, double *cm, double *cp)
{
    double rx = sqrt(qx), ry = sqrt(qy);
    if (!(rx > 0) || !(ry > 0)) {
        angle_normalize(0, 0, cm, cp);
        return;
    }
    double c = k / (rx * ry);
    if (fabs(c) < 0.5) {
        *cm = (1 - c) / 2;
        *cp = (1 + c) / 2;
        return;
    }
    if (rx > ry) { /* |u^ + sigma v^| is symmetric in u, v: let x be the shorter */
        const double *tp = x;
        x = y;
        y = tp;
        double tr = rx;
        rx = ry;
        ry = tr;
    }
    const double sg = c > 0 ? -1.0 : 1.0;
    double dq = 0;
    for (size_t i = 0; i < d; i++) dq += (y[i] - x[i]) * (y[i] + x[i]);
    const double g = (s * s * dq) / (rx * ry * (rx + ry));
    double e = (t + sg * t) / ry + t * g, acc = e * e;
    for (size_t i = 0; i < d; i++) {
        e = s * (x[i] + sg * y[i]) / ry + s * x[i] * g;
        acc += e * e;
    }
    double small = acc / 4;
    if (small > 1) small = 1;
    if (c > 0) {
        *cm = small;
        *cp = 1 - small;
    } else {
        *cp = small;
        *cm = 1 - small;
    }
}

/* theta and pi - theta from (cm, cp), each accurate to a few ulps relative. */
double tdl_kernel_angle_theta(double cm, double cp) { return 2 * atan2(sqrt(cm), sqrt(cp)); }
double tdl_kernel_angle_comp(double cm, double cp) { return 2 * atan2(sqrt(cp), sqrt(cm)); }

/* ---- activations of the analytic kernels ----------------------------------- */

void tdl_kact_from_act(const tdl_act *act, int force_numeric, tdl_kact *out)
{
    memset(out, 0, sizeof *out);
    out->numeric = *act;
    out->kind = TDL_KACT_NUMERIC;
    if (force_numeric) return;
    switch (act->kind) {
    case TDL_ACT_IDENTITY: out->kind = TDL_KACT_ABRELU; out->a = 1; out->b = 1; break;
    case TDL_ACT_RELU: out->kind = TDL_KACT_ABRELU; out->a = 0; out->b = 1; break;
    case TDL_ACT_LEAKY_RELU: out->kind = TDL_KACT_ABRELU; out->a = act->a; out->b = 1; break;
    case TDL_ACT_ABRELU: out->kind = TDL_KACT_ABRELU; out->a = act->a; out->b = act->b; break;
    case TDL_ACT_ERF: out->kind = TDL_KACT_ERF; out->a = 1; out->b = 1; out->c = 0; break;
    case TDL_ACT_QUADRATIC: out->kind = TDL_KACT_QUADRATIC; break;
    default: break;
    }
}

int tdl_kact_parse(const char *text, tdl_kact *out)
{
    memset(out, 0, sizeof *out);
    double a = 1, b = 1, c = 0;
    if (!text) return tdl_fail(TDL_EINVAL, "no activation");
    if (!strcmp(text, "sign")) { out->kind = TDL_KACT_SIGN; return TDL_OK; }
    if (!strcmp(text, "step")) { out->kind = TDL_KACT_STEP; return TDL_OK; }
    if (!strcmp(text, "abs")) { out->kind = TDL_KACT_ABRELU; out->a = -1; out->b = 1; return TDL_OK; }
    if (!strncmp(text, "sin", 3) && (text[3] == 0 || text[3] == ':')) {
        if (text[3] == ':') {
            char tail;
            if (sscanf(text + 4, "%lf,%lf,%lf%c", &a, &b, &c, &tail) != 3 || !isfinite(a) || !isfinite(b) || !isfinite(c))
                return tdl_fail(TDL_EINVAL, "activation '%s': expected sin:A,B,C (phi = A sin(B x + C))", text);
        }
        out->kind = TDL_KACT_SIN; out->a = a; out->b = b; out->c = c;
        return TDL_OK;
    }
    if (!strncmp(text, "erf:", 4)) {
        char tail;
        if (sscanf(text + 4, "%lf,%lf,%lf%c", &a, &b, &c, &tail) != 3 || !isfinite(a) || !isfinite(b) || !isfinite(c))
            return tdl_fail(TDL_EINVAL, "activation '%s': expected erf:A,B,C (phi = A erf(B x) + C)", text);
        out->kind = TDL_KACT_ERF; out->a = a; out->b = b; out->c = c;
        return TDL_OK;
    }
    tdl_act act;
    int rc = tdl_act_parse(text, &act);
    if (rc) return rc;
    tdl_kact_from_act(&act, 0, out);
    return TDL_OK;
}

/* Quadrature of the dual maps for activations without closed forms.
 *
 * Gauss-Hermite product rules converge slowly here: tanh and sigmoid have
 * complex poles at distance pi/2 / sqrt(q) from the real axis, so at
 * pre-activation variances q >> 1 the integrand has a transition of width
 * 1/sqrt(q) that no global polynomial rule resolves (GH-128 errs by 1e-8 at
 * q = 2.5 and by O(1e-2) at q = 40, enough to make a Gram matrix indefinite).
 * We write E[g(u) h(v)] = E_z1[g(u(z1)) E_z2[h(v(z1, z2))]] with
 * u = sqrt(q1) z1, v = a z1 + c z2 (a = k / sqrt(q1), c^2 = (q1 q2 - k^2) / q1),
 * and integrate each 1D Gaussian integral on [-9, 9] (tail mass < 1e-18) by
 * composite Gauss-Legendre on panels graded geometrically towards the point
 * where the activation's argument crosses 0 (z1 = 0 outside, z2 = -a z1 / c
 * inside), where the transitions of tanh, sigmoid, softplus and gelu sit. */
#define PANEL_PTS_MAX 64
#define PANEL_BREAKS 32
#define NODE_MAX (PANEL_BREAKS * PANEL_PTS_MAX)
typedef struct gh_rule { size_t deg; double x[PANEL_PTS_MAX], w[PANEL_PTS_MAX]; } gh_rule;

static int gh_rule_make(size_t deg, gh_rule *g)
{
    if (deg < 2 || deg > PANEL_PTS_MAX)
        return tdl_fail(TDL_EINVAL, "quadrature points per panel must be in 2..%d, got %zu", PANEL_PTS_MAX, deg);
    /* Golub-Welsch for Gauss-Legendre on [-1, 1]: off-diagonal k / sqrt(4k^2 - 1),
     * weights 2 v_0^2. */
    double T[PANEL_PTS_MAX * PANEL_PTS_MAX];
    memset(T, 0, deg * deg * sizeof(double));
    for (size_t k = 1; k < deg; k++) {
        double b = (double)k / sqrt(4.0 * (double)k * (double)k - 1.0);
        T[k * deg + k - 1] = b;
        T[(k - 1) * deg + k] = b;
    }
    tdl_sym_eigen e;
    int rc = tdl_sym_eigen_solve(T, deg, 0, deg - 1, 1, &e);
    if (rc) return rc;
    g->deg = deg;
    for (size_t i = 0; i < deg; i++) {
        g->x[i] = e.values[i];
        double v0 = e.vectors[i * deg];
        g->w[i] = 2 * v0 * v0;
    }
    tdl_sym_eigen_free(&e);
    return TDL_OK;
}

/* Nodes z and weights w (standard normal density included) of the composite
 * rule on [-9, 9] graded geometrically towards t at distances scale x
 * {1/256, ..., 2.5}; returns the count. */
static size_t panel_rule(const gh_rule *g, double t, double scale, double *z, double *w)
{
    static const double fixed[] = {-5, -2.5, -1, 1, 2.5, 5};
    static const double grade[] = {1.0 / 256, 1.0 / 64, 1.0 / 16, 0.25, 1, 2.5};
    const double L = 9.0;
    double b[PANEL_BREAKS];
    size_t nb = 0;
    b[nb++] = -L;
    b[nb++] = L;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) b[nb++] = fixed[i];
    if (fabs(t) < L) {
        b[nb++] = t;
        for (size_t i = 0; i < sizeof grade / sizeof grade[0]; i++) {
            double dlt = scale * grade[i];
            if (fabs(t - dlt) < L) b[nb++] = t - dlt;
            if (fabs(t + dlt) < L) b[nb++] = t + dlt;
        }
    }
    tdl_sort_doubles(b, nb);
    size_t cnt = 0;
    const double norm = 1.0 / sqrt(2 * M_PI);
    for (size_t p = 0; p + 1 < nb; p++) {
        double lo = b[p], hi = b[p + 1];
        if (hi - lo < 1e-12) continue;
        double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
        for (size_t i = 0; i < g->deg; i++) {
            double x = mid + half * g->x[i];
            z[cnt] = x;
            w[cnt] = half * g->w[i] * norm * exp(-0.5 * x * x);
            cnt++;
        }
    }
    return cnt;
}

/* E[phi(u) phi(v)] and E[phi'(u) phi'(v)] by the split composite rule above;
 * disc = q1 q2 - k^2 >= 0. */
static void dual_numeric(const tdl_act *act, const gh_rule *g, double q1, double q2, double k, double disc,
                         double *T, double *Td)
{
    double z1[NODE_MAX], w1[NODE_MAX], z2[NODE_MAX], w2[NODE_MAX];
    double u[NODE_MAX] = {0}, pu[NODE_MAX], du[NODE_MAX], v[NODE_MAX], pv[NODE_MAX], dv[NODE_MAX];
    double a, c;
    if (q1 > 0) {
        a = k / sqrt(q1);
        double s = disc / q1; /* disc = q1 q2 - k^2, computed accurately by the caller */
        c = sqrt(s > 0 ? s : 0);
    } else {
        a = 0;
        c = sqrt(q2 > 0 ? q2 : 0);
    }
    double sq1 = sqrt(q1 > 0 ? q1 : 0);
    /* transition widths: 1/sqrt(q1) in z1, 1/c in z2 (the activations change over O(1)) */
    size_t n1 = panel_rule(g, 0.0, sq1 > 1 ? 1 / sq1 : 1.0, z1, w1);
    for (size_t i = 0; i < n1; i++) u[i] = sq1 * z1[i];
    tdl_act_eval(act, u, n1, pu, du, NULL);
    double t = 0, td = 0;
    for (size_t i = 0; i < n1; i++) {
        double s0, s1;
        if (c > 0) {
            /* inner integral over z2, split where a z1 + c z2 = 0 */
            size_t n2 = panel_rule(g, -a * z1[i] / c, c > 1 ? 1 / c : 1.0, z2, w2);
            for (size_t j = 0; j < n2; j++) v[j] = a * z1[i] + c * z2[j];
            tdl_act_eval(act, v, n2, pv, dv, NULL);
            s0 = 0;
            s1 = 0;
            for (size_t j = 0; j < n2; j++) {
                s0 += w2[j] * pv[j];
                s1 += w2[j] * dv[j];
            }
        } else {
            double vv = a * z1[i];
            tdl_act_eval(act, &vv, 1, &s0, &s1, NULL);
        }
        t += w1[i] * pu[i] * s0;
        td += w1[i] * du[i] * s1;
    }
    if (T) *T = t;
    if (Td) *Td = td;
}

/* Closed forms of ntk.md (Cho and Saul 2009; Williams 1997; neural-tangents),
 * written in the pair's half-angle squares (cm, cp) so that every output is
 * accurate to a few ulps where the map is well conditioned, in particular at
 * and near theta = 0 and pi.  Besides T = E[phi(u) phi(v)] and
 * Tdot = E[phi'(u) phi'(v)] a pair also yields, for the next layer's angle
 * (tdl_ntk_analytic), with T_ii = E[phi(u_i)^2] and R = sqrt(T_11 T_22):
 *     E = R - T >= 0,  F = R + T >= 0  (Cauchy-Schwarz),  dsq = sqrt(T_11) - sqrt(T_22),
 * each from a cancellation-free formula (derivations with each case). */
typedef struct dual_pair {
    double T, Td, E, F, dsq;
} dual_pair;

/* sin t - t cos t >= 0 on [0, pi] (Cho and Saul 2009, J_1(t) = sin t + (pi - t) cos t
 * is its mirror image): by its series sum_{n>=1} (-1)^(n+1) 2n t^(2n+1) / (2n+1)!
 * = t^3/3 - t^5/30 + t^7/840 - ... for t <= 1, where the direct form loses
 * digits like t^3/3 against t; directly above (callers pass t <= pi/2). */
static double sin_minus_tcos(double t)
{
    /* coefficients (-1)^(n+1) 2n / (2n+1)!, n = 1..11 (the 12th term is < 1e-24 t^3) */
    static const double c[] = {0.33333333333333331,     -0.033333333333333333,  0.0011904761904761906,
                               -2.2045855379188714e-05, 2.5052108385441718e-07, -1.9270852604185937e-09,
                               1.0706029224547743e-11,  -4.498331606952833e-14, 1.4797143443923793e-16,
                               -3.9145882126782523e-19, 8.5099743753875053e-22};
    if (t > 1) return sin(t) - t * cos(t);
    double t2 = t * t, p = c[10];
    for (int n = 9; n >= 0; n--) p = p * t2 + c[n]; /* Horner in t^2 */
    return t * t2 * p;
}

/* asin x - asin y for x, y in [-1, 1], given dsq = x^2 - y^2, ox = 1 - x^2 and
 * oy = 1 - y^2 computed without cancellation by the caller.  With A = asin x,
 * B = asin y (cos A = sqrt(1 - x^2) >= 0):
 *     sin(A - B) = x sqrt(1-y^2) - y sqrt(1-x^2) = (x^2 - y^2) / (x sqrt(1-y^2) + y sqrt(1-x^2)),
 *     cos(A - B) = sqrt(1-x^2) sqrt(1-y^2) + x y,
 * and for x, y of the same sign every sum there has terms of one sign, so
 * A - B = atan2(sin, cos) is accurate to a few ulps relative; for opposite
 * signs asin x - asin y is itself such a sum. */
static double asin_diff(double x, double y, double dsq, double ox, double oy)
{
    if (!((x > 0 && y > 0) || (x < 0 && y < 0))) return asin(x) - asin(y);
    if (dsq == 0) return 0; /* x = y exactly (same sign) */
    double sx = sqrt(ox > 0 ? ox : 0), sy = sqrt(oy > 0 ? oy : 0);
    return atan2(dsq / (x * sy + y * sx), sx * sy + x * y);
}

/* (a - b) / (sqrt a + sqrt b) = sqrt a - sqrt b for a, b >= 0 given a - b. */
static double sqrt_diff(double a, double b, double amb)
{
    double s = sqrt(a > 0 ? a : 0) + sqrt(b > 0 ? b : 0);
    return s > 0 ? amb / s : 0;
}

static void dual_closed(const tdl_kact *f, double q1, double q2, double cm, double cp, dual_pair *o)
{
    const double r0 = sqrt(q1 * q2); /* sqrt(q q) == q exactly: the diagonal stays exact */
    const double cosv = cp - cm, sin2 = 4 * cm * cp;
    memset(o, 0, sizeof *o);
    switch (f->kind) {
    case TDL_KACT_ABRELU: {
        /* phi = a min(x,0) + b max(x,0), c = (a^2 + b^2)/2, e = (a - b)^2/(2 pi)
         * (Cho and Saul 2009, arc-cosine kernel of degree 1; ntk.md):
         *   T = r0 [c cos t + e g(t)],  g(t) = sin t - t cos t,  Tdot = c - e t,
         *   T_ii = c q_i, R = c r0, so E = r0 [c (1 - cos t) - e g(t)] = r0 [2c cm - e g(t)],
         *   F = r0 [2c cp + e g(t)].
         * For t > pi/2 in s = pi - t (c - e pi = ab, cos t = -cos s = cp - cm):
         *   T = r0 [e g(s) - ab (cm - cp)],  Tdot = ab + e s,
         *   E = r0 [cm (a+b)^2/2 + cp (a-b)^2/2 - e g(s)],
         *   F = r0 [cm (a-b)^2/2 + cp (a+b)^2/2 + e g(s)]
         * (c +- ab (cm - cp) = cm (c +- ab) + cp (c -+ ab)): every term keeps its
         * relative accuracy, and relu's T, Tdot -> 0 at t = pi come out as such. */
        const double a = f->a, b = f->b, c = (a * a + b * b) / 2, e = (a - b) * (a - b) / (2 * M_PI);
        if (cp >= cm) {
            double t = tdl_kernel_angle_theta(cm, cp), g = sin_minus_tcos(t);
            o->T = r0 * (c * cosv + e * g);
            o->Td = c - e * t;
            o->E = r0 * (2 * c * cm - e * g);
            o->F = r0 * (2 * c * cp + e * g);
        } else {
            double s = tdl_kernel_angle_comp(cm, cp), g = sin_minus_tcos(s), pl = (a + b) * (a + b) / 2, mi = (a - b) * (a - b) / 2;
            o->T = r0 * (e * g + a * b * cosv);
            o->Td = a * b + e * s;
            o->E = r0 * (cm * pl + cp * mi - e * g);
            o->F = r0 * (cm * mi + cp * pl + e * g);
        }
        o->dsq = sqrt(c) * sqrt_diff(q1, q2, q1 - q2);
        break;
    }
    case TDL_KACT_ERF: {
        /* phi = a erf(b x) + c (Williams 1997): with p_i = b^2 q_i, s_i = 1 + 2 p_i,
         *   rho_i = 2 p_i / s_i,  rho0 = 2 sqrt(p1 p2) / sqrt(s1 s2) = sqrt(rho_1 rho_2),
         *   T = K asin(rho0 cos t) + c^2,  K = 2 a^2 / pi,  T_ii = K asin(rho_i) + c^2,
         *   Tdot = (4 a^2 b^2 / pi) / sqrt(s1 s2 - 4 b^4 k^2)
         *        = (4 a^2 b^2 / pi) / sqrt(1 + 2 p1 + 2 p2 + 4 p1 p2 sin^2 t).
         * Exact complements: 1 - rho_i^2 = (1 + 4 p_i) / s_i^2,
         * 1 - rho0^2 = (1 + 2 p1 + 2 p2) / (s1 s2), rho_1 - rho_2 = 2 (p1 - p2) / (s1 s2).
         * With alpha_i = asin rho_i, alpha0 = asin rho0, beta = asin(rho0 cos t), A_i = K alpha_i:
         *   E = R - T = [R - (sqrt(A1 A2) + c^2)] + K [sqrt(alpha_1 alpha_2) - alpha0] + K [alpha0 - beta]
         *   F = R + T = [R - (sqrt(A1 A2) + c^2)] + 2 c^2 + K [sqrt(alpha_1 alpha_2) - alpha0] + K [alpha0 + beta]
         * where R - (sqrt(A1 A2) + c^2) = c^2 (sqrt A1 - sqrt A2)^2 / (R + sqrt(A1 A2) + c^2)
         * (square both sides), sqrt(alpha_1 alpha_2) - alpha0 = (alpha0 (d1 + d2) + d1 d2) /
         * (sqrt(alpha_1 alpha_2) + alpha0) with d_i = alpha_i - alpha0 (>= 0: log asin(e^x)
         * is convex), and the asin differences by asin_diff with
         * rho0^2 - (rho0 cos t)^2 = rho0^2 sin^2 t, rho_i^2 - rho0^2 = rho_i (rho_i - rho_j). */
        const double b2 = f->b * f->b, K = 2 * f->a * f->a / M_PI, c2 = f->c * f->c;
        const double p1 = b2 * q1, p2 = b2 * q2, s1 = 1 + 2 * p1, s2 = 1 + 2 * p2;
        const double rho1 = 2 * p1 / s1, rho2 = 2 * p2 / s2, rho0 = 2 * sqrt(p1 * p2) / sqrt(s1 * s2);
        const double o1 = (1 + 4 * p1) / (s1 * s1), o2 = (1 + 4 * p2) / (s2 * s2), o0 = (1 + 2 * p1 + 2 * p2) / (s1 * s2);
        const double r12 = 2 * (p1 - p2) / (s1 * s2);
        const double y = rho0 * cosv, oy = o0 + rho0 * rho0 * sin2, dy = rho0 * rho0 * sin2;
        const double al1 = asin(rho1), al2 = asin(rho2), al0 = asin(rho0);
        const double d1 = asin_diff(rho1, rho0, rho1 * r12, o1, o0), d2 = asin_diff(rho2, rho0, -rho2 * r12, o2, o0);
        const double gm = sqrt(al1 * al2), den = gm + al0;
        const double gap1 = den > 0 ? (al0 * (d1 + d2) + d1 * d2) / den : 0;
        const double gapm = asin_diff(rho0, y, dy, o0, oy), gapp = asin_diff(rho0, -y, dy, o0, oy);
        const double A1 = K * al1, A2 = K * al2, T1 = A1 + c2, T2 = A2 + c2, R = sqrt(T1 * T2);
        const double sa = sqrt_diff(A1, A2, K * (d1 - d2)), dd = R + sqrt(A1 * A2) + c2;
        const double Dc = dd > 0 ? c2 * sa * sa / dd : 0;
        o->T = K * asin(y) + c2;
        o->Td = 2 * K * b2 / sqrt(1 + 2 * p1 + 2 * p2 + 4 * p1 * p2 * sin2);
        o->E = Dc + K * (gap1 + gapm);
        o->F = Dc + 2 * c2 + K * (gap1 + gapp);
        o->dsq = sqrt_diff(T1, T2, K * (d1 - d2));
        break;
    }
    case TDL_KACT_SIGN:
        /* E[sign u sign v] = 1 - 2t/pi = (s - t)/pi (Sheppard), T_ii = 1:
         * E = 2t/pi, F = 2s/pi, s = pi - t. */
        {
            double t = tdl_kernel_angle_theta(cm, cp), s = tdl_kernel_angle_comp(cm, cp);
            o->T = (s - t) / M_PI;
            o->E = 2 * t / M_PI;
            o->F = 2 * s / M_PI;
        }
        break;
    case TDL_KACT_STEP:
        /* P(u > 0, v > 0) = (pi - t)/(2 pi) = s/(2 pi), T_ii = 1/2:
         * E = t/(2 pi), F = (pi + s)/(2 pi). */
        {
            double t = tdl_kernel_angle_theta(cm, cp), s = tdl_kernel_angle_comp(cm, cp);
            o->T = s / (2 * M_PI);
            o->E = t / (2 * M_PI);
            o->F = (M_PI + s) / (2 * M_PI);
        }
        break;
    case TDL_KACT_SIN: {
        /* phi = a sin(b x + c), C = cos 2c = 1 - 2 sin^2 c = 2 cos^2 c - 1 (ntk.md):
         *   T = (a^2/2) [e- - C e+],  Tdot = (a^2 b^2/2) [e- + C e+],
         *   e-+ = exp(-b^2 D-+ / 2),  D-+ = q1 + q2 -+ 2k = (r1 - r2)^2 + 4 r0 (cm | cp),
         *   T_ii = (a^2/2) (1 - C w_i),  w_i = exp(-2 b^2 q_i) (so sqrt(w1 w2) = e- e+).
         * e- - e+ = -e- expm1(-2 b^2 k) (k >= 0) or e+ expm1(2 b^2 k), so
         * T = (a^2/2) [(e- - e+) + 2 sin^2(c) e+].  With S = sqrt((1 - C w1)(1 - C w2)):
         *   S - (1 - C sqrt(w1 w2)) = -C (sqrt w1 - sqrt w2)^2 / (S + 1 - C sqrt(w1 w2)),
         *   E = (a^2/2) [that + (1 - e-)(1 + C e+)],  F = (a^2/2) [that + (1 + e-)(1 - C e+)]
         * (expand: 1 - C e- e+ -+ (e- - C e+)), with 1 - e- = -expm1(-b^2 D-/2) and
         * 1 + C e+ = 2 cos^2 c - C (1 - e+), 1 - C e+ = 2 sin^2 c + C (1 - e+) when
         * those signs avoid cancellation. */
        const double a2h = f->a * f->a / 2, b2 = f->b * f->b, sc = sin(f->c), cc = cos(f->c);
        const double sc2 = 2 * sc * sc, cc2 = 2 * cc * cc, C = cos(2 * f->c);
        const double dr = sqrt_diff(q1, q2, q1 - q2), k = r0 * cosv;
        const double Dm = dr * dr + 4 * r0 * cm, Dp = dr * dr + 4 * r0 * cp;
        const double em = exp(-b2 * Dm / 2), ep = exp(-b2 * Dp / 2);
        const double omem = -expm1(-b2 * Dm / 2), omep = -expm1(-b2 * Dp / 2);
        const double emmep = k >= 0 ? -em * expm1(-2 * b2 * k) : ep * expm1(2 * b2 * k);
        const double w1 = exp(-2 * b2 * q1), w2 = exp(-2 * b2 * q2);
        const double om1 = C >= 0 ? sc2 - C * expm1(-2 * b2 * q1) : 1 - C * w1;
        const double om2 = C >= 0 ? sc2 - C * expm1(-2 * b2 * q2) : 1 - C * w2;
        const double S = sqrt(om1 * om2), dw = exp(-b2 * q2) * expm1(-b2 * (q1 - q2));
        const double den = S + 1 - C * exp(-b2 * (q1 + q2));
        const double lead = den > 0 ? -C * dw * dw / den : 0;
        const double opc = C >= 0 ? 1 + C * ep : cc2 - C * omep, omc = C <= 0 ? 1 - C * ep : sc2 + C * omep;
        o->T = a2h * (emmep + sc2 * ep);
        o->Td = a2h * b2 * (em + C * ep);
        o->E = a2h * (lead + omem * opc);
        o->F = a2h * (lead + (1 + em) * omc);
        o->dsq = sqrt_diff(a2h * om1, a2h * om2, a2h * C * w1 * expm1(-2 * b2 * (q2 - q1)));
        break;
    }
    case TDL_KACT_QUADRATIC:
        /* Isserlis: E[u^2 v^2] = q1 q2 + 2 k^2 = q1 q2 (1 + 2 cos^2 t), E[2u 2v] = 4k,
         * T_ii = 3 q_i^2: E = 2 q1 q2 sin^2 t, F = q1 q2 (4 + 2 cos^2 t). */
        o->T = q1 * q2 * (1 + 2 * cosv * cosv);
        o->Td = 4 * r0 * cosv;
        o->E = 2 * q1 * q2 * sin2;
        o->F = q1 * q2 * (4 + 2 * cosv * cosv);
        o->dsq = sqrt(3.0) * (q1 - q2);
        break;
    default: break;
    }
    if (!(o->E > 0)) o->E = 0;
    if (!(o->F > 0)) o->F = 0;
}

/* The dual maps at one covariance (q1, q2, k).  Only those three numbers are
 * known here, so the angle is taken from them (angle_from_cov: the fma
 * discriminant q1 q2 - k^2, exact at k = +-sqrt(q1 q2), i.e. theta = 0 and pi),
 * accurate to a few ulps of (q1, q2, k); tdl_ntk_analytic does not go through
 * k but carries each pair's angle from the inputs (see above), which is what
 * makes its kernels accurate for nearly parallel inputs. */
int tdl_kact_dual(const tdl_kact *act, double q1, double q2, double k, size_t quad, double *T, double *Tdot)
{
    if (!(q1 >= 0) || !(q2 >= 0) || !isfinite(q1) || !isfinite(q2) || !isfinite(k))
        return tdl_fail(TDL_EINVAL, "dual map: variances must be finite and >= 0 (q1 = %g, q2 = %g, k = %g)", q1,
                        q2, k);
    if (act->kind != TDL_KACT_NUMERIC) {
        /* the angle of (q1, q2, k) to ~1 ulp of those three numbers (angle_from_cov) */
        double cm, cp;
        dual_pair o;
        angle_from_cov(q1, q2, k, &cm, &cp);
        dual_closed(act, q1, q2, cm, cp, &o);
        if (T) *T = o.T;
        if (Tdot) *Tdot = o.Td;
        return TDL_OK;
    }
    gh_rule g;
    int rc = gh_rule_make(quad ? quad : TDL_NTK_QUAD_DEFAULT, &g);
    if (rc) return rc;
    double disc = diff_of_products(q1, q2, k, k);
    dual_numeric(&act->numeric, &g, q1, q2, k, disc > 0 ? disc : 0, T, Tdot);
    return TDL_OK;
}

void tdl_ntk_analytic_config_from_mlp(const tdl_mlp *m, tdl_ntk_analytic_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->depth = m->depth;
    cfg->widths[0] = m->layers[0].in;
    for (size_t l = 0; l < m->depth; l++) cfg->widths[l + 1] = m->layers[l].out;
    tdl_kact_from_act(&m->act, 0, &cfg->act);
    cfg->param = m->param;
    cfg->sigma_w = m->sigma_w;
    cfg->sigma_b = m->sigma_b;
    cfg->bias = m->layers[0].has_bias;
}

/* The recursion of ntk.h, evaluated per pair (i, j) on the state
 * (q_i, q_j, Sigma_ij, Theta_ij, cm_ij, cp_ij): layer 1's half-angle squares
 * come from the augmented inputs u = (sigma_w x / sqrt d, sigma_b)
 * (angle_from_inputs: exactly theta = 0 for equal rows, a few ulps relative
 * near 0 and pi), and every further layer's from h-+ = sqrt(q1 q2) -+ k, built
 * from the cancellation-free E = R - T, F = R + T of dual_closed (formula in
 * the loop).  Rounding errors then stay at a few ulps per layer for every
 * closed form, for identical, nearly parallel, orthogonal and opposite inputs
 * alike (tests/check_ntk.c, "closed_forms_mp", against 50-digit mpmath).
 * The quadrature kinds use the same state for q1 q2 - k^2 (the conditional
 * variance of their inner integral). */
int tdl_ntk_analytic(const tdl_ntk_analytic_config *cfg, const gsl_matrix *X1, const gsl_matrix *X2,
                     gsl_matrix *nngp, gsl_matrix *ntk)
{
    if (!cfg || !X1 || X1->size1 == 0 || X1->size2 == 0) return tdl_fail(TDL_EINVAL, "analytic kernel: no inputs");
    if (cfg->depth < 1 || cfg->depth > TDL_MAX_DEPTH)
        return tdl_fail(TDL_EINVAL, "analytic kernel: depth must be in 1..%d", TDL_MAX_DEPTH);
    if (!(cfg->sigma_w >= 0) || !(cfg->sigma_b >= 0) || !isfinite(cfg->sigma_w) || !isfinite(cfg->sigma_b))
        return tdl_fail(TDL_EINVAL, "analytic kernel: sigma_w and sigma_b must be finite and >= 0");
    const int sym = X2 == NULL;
    if (sym) X2 = X1;
    if (X2->size2 != X1->size2)
        return tdl_fail(TDL_ESHAPE, "analytic kernel: inputs have %zu and %zu features", X1->size2, X2->size2);
    const size_t n1 = X1->size1, n2 = X2->size1, d = X1->size2;
    if (nngp && (nngp->size1 != n1 || nngp->size2 != n2))
        return tdl_fail(TDL_ESHAPE, "analytic kernel: NNGP matrix must be %zu x %zu", n1, n2);
    if (ntk && (ntk->size1 != n1 || ntk->size2 != n2))
        return tdl_fail(TDL_ESHAPE, "analytic kernel: NTK matrix must be %zu x %zu", n1, n2);
    if (cfg->param == TDL_PARAM_MF)
        return tdl_fail(TDL_EINVAL, "analytic kernel: the mean-field parametrization has no infinite-width kernel: its NNGP "
                        "and NTK are the ntk parametrization's divided by the last hidden width (-> 0), and n Theta, "
                        "though it starts at the ntk kernel, moves by O(1) in training (use --param ntk for the kernel at init)");
    const int standard = cfg->param == TDL_PARAM_STANDARD;
    if (standard && ntk)
        for (size_t l = 0; l + 1 < cfg->depth; l++)
            if (cfg->widths[l + 1] == 0)
                return tdl_fail(TDL_EINVAL, "analytic kernel: the standard parametrization's NTK needs the hidden widths");
    gh_rule g;
    int rc;
    if (cfg->act.kind == TDL_KACT_NUMERIC && cfg->depth > 1 &&
        (rc = gh_rule_make(cfg->quad ? cfg->quad : TDL_NTK_QUAD_DEFAULT, &g)) != TDL_OK)
        return rc;
    int have_bias = cfg->bias;
    const double sw2 = cfg->sigma_w * cfg->sigma_w, sb2 = have_bias ? cfg->sigma_b * cfg->sigma_b : 0.0;
    const int numeric = cfg->act.kind == TDL_KACT_NUMERIC;
    /* per pair: S = Sigma^(l), Th = Theta^(l), and the half-angle squares
     * (CM, CP) of Sigma^(l) (angle_from_inputs); per row: the variances and T_ii */
    double *S = tdl_malloc(n1 * n2 * sizeof(double), "NNGP kernel");
    double *Th = tdl_malloc(n1 * n2 * sizeof(double), "NTK kernel");
    double *CM = tdl_malloc(n1 * n2 * sizeof(double), "NNGP angles");
    double *CP = tdl_malloc(n1 * n2 * sizeof(double), "NNGP angles");
    double *q1 = tdl_malloc(n1 * sizeof(double), "NNGP diagonal");
    double *q2 = tdl_malloc(n2 * sizeof(double), "NNGP diagonal");
    double *t1 = tdl_malloc(n1 * sizeof(double), "NNGP diagonal");
    double *t2 = tdl_malloc(n2 * sizeof(double), "NNGP diagonal");
    if (!S || !Th || !CM || !CP || !q1 || !q2 || !t1 || !t2) {
        rc = TDL_ENOMEM;
        goto cleanup;
    }
    rc = TDL_OK;
    /* layer 1: Sigma_0 = x.x'/d; Sigma^(1) = sigma_w^2 Sigma_0 + sigma_b^2 = u.v for the
     * augmented u = (sigma_w x / sqrt d, sigma_b); squared norms by a plain loop
     * (kernel-independent bits), inner products by BLAS */
    tdl_kernel_gemm_nt(n1, n2, d, 1.0 / (double)d, X1->data, X1->tda, X2->data, X2->tda, 0.0, S, n2);
    for (int side = 0; side < 2; side++) {
        const gsl_matrix *X = side ? X2 : X1;
        double *q = side ? q2 : q1;
        for (size_t i = 0; i < X->size1; i++) {
            const double *x = X->data + i * X->tda;
            double s = 0;
            for (size_t t = 0; t < d; t++) s += x[t] * x[t];
            q[i] = sw2 * (s / (double)d) + sb2;
        }
    }
    const double su = cfg->sigma_w / sqrt((double)d), tu = have_bias ? cfg->sigma_b : 0.0;
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n2; j++) {
            double *e = S + i * n2 + j;
            Th[i * n2 + j] = standard ? (double)d * *e + (have_bias ? 1.0 : 0.0) : sw2 * *e + sb2;
            *e = sw2 * *e + sb2;
            if (cfg->depth > 1 && (!sym || j >= i))
                tdl_kernel_angle_from_inputs(X1->data + i * X1->tda, X2->data + j * X2->tda, d, su, tu, q1[i], q2[j], *e,
                                  CM + i * n2 + j, CP + i * n2 + j);
        }
    for (size_t l = 1; l < cfg->depth; l++) {
        const double nin = (double)cfg->widths[l];
        /* T_ii of this layer (the dual at theta = 0); the next variances follow */
        for (int side = 0; side < 2; side++) {
            double *q = side ? q2 : q1, *tr = side ? t2 : t1;
            size_t nn = side ? n2 : n1;
            for (size_t i = 0; i < nn; i++) {
                if (numeric) {
                    dual_numeric(&cfg->act.numeric, &g, q[i], q[i], q[i], 0.0, tr + i, NULL);
                } else {
                    dual_pair o;
                    dual_closed(&cfg->act, q[i], q[i], 0.0, 1.0, &o);
                    tr[i] = o.T;
                }
            }
        }
        for (size_t i = 0; i < n1; i++)
            for (size_t j = sym ? i : 0; j < n2; j++) { /* sym: upper triangle, mirrored below */
                const size_t ij = i * n2 + j;
                const double T11 = t1[i], T22 = t2[j], R = sqrt(T11 * T22);
                dual_pair o;
                if (numeric) {
                    /* q1 q2 - k^2 = q1 q2 sin^2 theta = 4 q1 q2 cm cp */
                    dual_numeric(&cfg->act.numeric, &g, q1[i], q2[j], S[ij], 4 * q1[i] * q2[j] * CM[ij] * CP[ij],
                                 &o.T, &o.Td);
                    o.E = R - o.T;
                    o.F = R + o.T;
                    o.dsq = sqrt_diff(T11, T22, T11 - T22);
                } else {
                    dual_closed(&cfg->act, q1[i], q2[j], CM[ij], CP[ij], &o);
                }
                double Sn = sw2 * o.T + sb2;
                /* Theta^(l) = Sigma^(l) + sigma_w^2 Tdot Theta^(l-1) (NTK param);
                 * standard: n_{l-1} T + [bias] replaces Sigma^(l). */
                double head = standard ? nin * o.T + (have_bias ? 1.0 : 0.0) : Sn;
                Th[ij] = head + sw2 * o.Td * Th[ij];
                S[ij] = Sn;
                /* The next angle, from h-+ = sqrt(q1' q2') -+ k' with q_i' = sw2 T_ii + sb2,
                 * k' = sw2 T + sb2 and sqrt(q1' q2') = D + sw2 R + sb2, where
                 *   D = sqrt(q1' q2') - (sw2 R + sb2) = sb2 sw2 (sqrt T11 - sqrt T22)^2 / (sqrt(q1' q2') + sw2 R + sb2)
                 * exactly (square both sides: q1' q2' - (sw2 R + sb2)^2 = sb2 sw2 (T11 + T22 - 2R)):
                 *   h- = D + sw2 (R - T) = D + sw2 E,   h+ = D + 2 sb2 + sw2 (R + T) = D + 2 sb2 + sw2 F,
                 * sums of non-negative terms, each accurate (dual_closed). */
                double Q = sqrt((sw2 * T11 + sb2) * (sw2 * T22 + sb2)), den = Q + sw2 * R + sb2;
                double D = den > 0 ? sb2 * sw2 * o.dsq * o.dsq / den : 0;
                angle_normalize(D + sw2 * o.E, D + 2 * sb2 + sw2 * o.F, CM + ij, CP + ij);
            }
        for (size_t i = 0; i < n1; i++) q1[i] = sw2 * t1[i] + sb2;
        for (size_t i = 0; i < n2; i++) q2[i] = sw2 * t2[i] + sb2;
    }
    for (size_t i = 0; i < n1 * n2; i++)
        if (!isfinite(S[i]) || !isfinite(Th[i])) {
            rc = tdl_fail(TDL_ENONFINITE, "analytic kernel: non-finite entry (the recursion overflowed; lower sigma_w or the depth)");
            goto cleanup;
        }
    if (sym) /* exact symmetry: the recursion is evaluated on (i,j) and (j,i) alike up to rounding */
        for (size_t i = 0; i < n1; i++)
            for (size_t j = 0; j < i; j++) {
                S[i * n2 + j] = S[j * n2 + i];
                Th[i * n2 + j] = Th[j * n2 + i];
            }
    for (size_t i = 0; i < n1; i++) {
        if (nngp) memcpy(nngp->data + i * nngp->tda, S + i * n2, n2 * sizeof(double));
        if (ntk) memcpy(ntk->data + i * ntk->tda, Th + i * n2, n2 * sizeof(double));
    }
cleanup:
    free(S);
    free(Th);
    free(CM);
    free(CP);
    free(q1);
    free(q2);
    free(t1);
    free(t2);
    return rc;
}
