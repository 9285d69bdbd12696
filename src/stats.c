/* stats.c — sorting, order statistics, Kendall's tau, summaries and
 * linspace (tdl/stats.h).  Bottom of the library: no other module is used. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/stats.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void tdl_sort_doubles(double *v, size_t n) { qsort(v, n, sizeof *v, cmp_double); }

double tdl_percentile_sorted(const double *v, size_t n, double p)
{
    double pos = p / 100.0 * (double)(n - 1);
    size_t k = (size_t)floor(pos);
    if (k + 1 >= n) return v[n - 1];
    return v[k] + (pos - (double)k) * (v[k + 1] - v[k]);
}

double tdl_kendall_tau(const double *a, const double *b, size_t n)
{
    /* tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)) over the pairs of finite
     * points; O(n^2), the sweeps have at most a few thousand runs. */
    double conc = 0, disc = 0, tie_a = 0, tie_b = 0, pairs = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) continue;
        for (size_t j = i + 1; j < n; j++) {
            if (!isfinite(a[j]) || !isfinite(b[j])) continue;
            double da = a[i] - a[j], db = b[i] - b[j];
            pairs += 1;
            if (da == 0) tie_a += 1;
            if (db == 0) tie_b += 1;
            if (da == 0 || db == 0) continue;
            if ((da > 0) == (db > 0)) conc += 1;
            else disc += 1;
        }
    }
    double den = sqrt((pairs - tie_a) * (pairs - tie_b));
    return den > 0 ? (conc - disc) / den : NAN;
}

static double value_at(const double *base, size_t k, size_t stride)
{
    double x;
    memcpy(&x, (const char *)base + k * stride, sizeof x);
    return x;
}

tdl_summary tdl_summarize(const double *base, size_t n, size_t stride)
{
    /* two passes: the mean, then the squared deviations from it */
    tdl_summary s = {NAN, NAN, NAN, NAN, 0};
    double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < n; k++) {
        double x = value_at(base, k, stride);
        if (!isfinite(x)) continue;
        sum += x;
        lo = fmin(lo, x);
        hi = fmax(hi, x);
        s.n++;
    }
    if (!s.n) return s;
    s.mean = sum / (double)s.n;
    for (size_t k = 0; k < n; k++) {
        double x = value_at(base, k, stride);
        if (isfinite(x)) sum2 += (x - s.mean) * (x - s.mean);
    }
    s.std = s.n > 1 ? sqrt(sum2 / (double)(s.n - 1)) : 0.0;
    s.min = lo;
    s.max = hi;
    return s;
}

void tdl_linspace(double lo, double hi, size_t n, double *v)
{
    if (n == 1) {
        v[0] = 0.5 * (lo + hi);
        return;
    }
    for (size_t j = 0; j < n; j++) v[j] = ((double)(n - 1 - j) * lo + (double)j * hi) / (double)(n - 1);
}
