/* tdl/stats.h — sorting, order statistics, rank correlation, summaries and
 * evenly spaced grids: the small numeric utilities every module may use.
 *
 * Nothing here allocates or fails: the functions take caller buffers and
 * return values (NaN where a statistic is undefined).  The module sits at the
 * bottom of the library and includes no other libtdl header but export.h.
 */
#ifndef TDL_STATS_H
#define TDL_STATS_H
#include "tdl/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sort n doubles ascending in place (NaN-free input). */
TDL_API void tdl_sort_doubles(double *v, size_t n);

/* Percentile p in [0, 100] of an ascending sample of n >= 1 values by linear
 * interpolation between order statistics (NumPy's default "linear" method:
 * position p/100 (n - 1)). */
TDL_API double tdl_percentile_sorted(const double *v, size_t n, double p);

/* Kendall's tau-b of n pairs (a_i, b_i): (C - D) / sqrt((n0 - n1)(n0 - n2)),
 * n0 = n(n-1)/2, n1, n2 the pairs tied in a, in b (SciPy's kendalltau
 * default).  Pairs with a NaN (or an infinity) are skipped; NaN when fewer
 * than 2 remain or one side is constant.  O(n^2). */
TDL_API double tdl_kendall_tau(const double *a, const double *b, size_t n);

/* Mean, sample standard deviation (n - 1 in the denominator; 0 for one
 * value), min and max of the finite values among n doubles; n counts them.
 * All four NaN when none is finite. */
typedef struct tdl_summary {
    double mean, std, min, max;
    size_t n;
} tdl_summary;

/* The values are read at base, base + stride, ... (stride in BYTES, so that
 * a double member of an array of structs can be summarized in place:
 * tdl_summarize(&runs[0].loss, count, sizeof runs[0])). */
TDL_API tdl_summary tdl_summarize(const double *base, size_t n, size_t stride);

/* Evenly spaced coordinates: v[j] = ((n-1-j) lo + j hi) / (n-1), so that
 * lo and hi are hit exactly (n >= 2; n == 1 gives (lo+hi)/2). */
TDL_API void tdl_linspace(double lo, double hi, size_t n, double *v);

#ifdef __cplusplus
}
#endif
#endif
