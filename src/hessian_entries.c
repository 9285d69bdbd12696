/* hessian_entries.c — any submatrix H[rows, cols] of the exact Hessian (and
 * of its Gauss-Newton part G), tdl/hessian.h: tdl_hessian_entries.
 *
 * The closed forms are those of hessian.c (its header comment; the notation
 * is kept): for a one-hidden-layer net, per example,
 *   x~ = [s1 x ; t1] (d1),  a~ = [s2 phi(z) ; t2] (h1),  B = s2 W2 diag(phi'(z)) (C x h),
 *   g = dl/df, L = d2l/df2, both times the loss convention's scale (1/n),
 * and with a parameter named by its "unit" (hidden unit a = row a of W~1,
 * output c = row c of W~2) and its "feature" (j: a column of W~1, an entry
 * of x~; b: a column of W~2, an entry of a~):
 *   G[(a,j),(b,k)]  = sum_i M_i[a,b] x~_j x~_k,  M = B^T L B   (side 1, side 1)
 *   R[(a,j),(b,k)]  = delta_ab sum_i r_i[a] x~_j x~_k,  r = s2 (W2^T g) phi''(z)
 *   G[(c,a),(c',b)] = sum_i L_i[c,c'] a~_a a~_b                (side 2, side 2)
 *   G[(a,j),(c,b)]  = sum_i (B^T L)_i[a,c] x~_j a~_b            (side 1, side 2)
 *   R[(a,j),(c,b)]  = delta_ab sum_i s2 g_c phi'(z_a) x~_j      (b < h)
 * and a linear model is side 2 alone with a~ = x~.  Every block is
 *     sum_i w_i[u,v] F_i[j] F'_i[k]
 * for a pair of units u, v with a weight w per example and two feature
 * vectors F, F' (x~ or a~).  So the requested entries are computed as
 * "items" (a unit pair and the features it needs) times "products" (the
 * needed feature products, per example): T = W^T Prod with W (n x items)
 * and Prod (n x products) — one dgemm over the examples for every group of
 * items that need the same products, the structure of hessian.c's
 * Q^T XX, restricted to what was asked.
 *
 * The features a unit pair {u, v} needs: R_u x C_v (rows of unit u times
 * columns of unit v) and R_v x C_u.  Three ways (the cheapest is taken, per
 * pair; the count is of products, each 2 n flops):
 *   packed   same side: the products F_j F_k, j <= k, over U = the union of
 *            those features, |U|(|U|+1)/2; both mirrored entries and both
 *            rectangles are read from one number each;
 *   union    the rectangle A x B, A = the features of u's entries, B = of
 *            v's, |A||B|; the mirror rectangle R_v x C_u is read transposed
 *            (a diagonal rank of a square grid, whose rows and columns share
 *            one pattern, gets both blocks for the price of one);
 *   direct   the rectangles R_u x C_v and R_v x C_u as they are.
 * A rank's share of a 2D block-cyclic matrix with the units aligned to its
 * blocks (digits 64-H-10 with nb = 64) needs whole units: the packed way then
 * costs what the dense assembly does for those pairs, and a 1 x 2 grid's
 * share about 3/4 of the full set (the pairs it needs).  Items with the same
 * feature sets (interned, so compared by id) form a group: one dgemm
 * W^T Prod for a group of many rows (the products built once per example
 * serve them all), or, for a group of few rows (units that straddle the
 * blocks: many feature patterns, few pairs each), the scaled features
 * (w F_A)^T F_B, which builds O(rows |A| + |B|) numbers per example instead
 * of |A||B| (the cheaper by a cost count, in task setup).
 *
 * Memory: items and their features (O(nr + nc + pairs)), the accumulators
 * of one pass (ACC_BUDGET: passes over the examples are repeated when the
 * items need more), and the per-example temporaries of a block of examples
 * (EX_BUDGET), beside the caller's outputs.
 *
 * Deeper nets: exact Hessian-vector products with unit vectors, one for
 * each distinct index of the shorter side (rows or columns), O(n P) each.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h> /* declarations only: the symbols come from OpenBLAS */
#include "tdl/hessian.h"
#include "internal.h"
#include "net_internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS extensions (the library links OpenBLAS) */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

/* accumulators of one pass over the examples */
#define ACC_BUDGET ((size_t)64 << 20)
/* per-example temporaries of a block of examples */
#define EX_BUDGET ((size_t)32 << 20)
/* products per dgemm (columns of T) */
#define PROD_CHUNK ((size_t)4096)
/* Test hook: with TDL_TEST_ENTRIES_SMALL set in the environment the three
 * limits above become tiny (7 products a chunk, 300 accumulator doubles a
 * pass, 5 examples a block), so the unit test reaches the chunked, multi-pass
 * and multi-block paths on small nets. */
#define TEST_HOOK_ENV "TDL_TEST_ENTRIES_SMALL"
/* operands of a task run by one thread, doubles per example (per-thread buffers) */
#define TINY_W ((size_t)1024)

/* an output row or column: its position and its parameter's feature */
typedef struct ent {
    size_t pos, f;
} ent;

/* entries grouped by unit: unit u has e[start[u] .. start[u + 1]) */
typedef struct unit_lists {
    size_t *start;
    ent *e;
} unit_lists;

/* interned feature sets (sorted, distinct) */
typedef struct setpool {
    size_t *data, used, cap;         /* members, concatenated */
    size_t *off, *len, count, scap;  /* set k: data[off[k] .. off[k] + len[k]) */
    uint64_t *hash;
    size_t *table, tcap;             /* open addressing: set id + 1, 0 empty */
} setpool;

enum { MODE_UNION = 0, MODE_D1 = 1, MODE_D2 = 2 };

typedef struct item {
    size_t u, v;      /* units, u <= v */
    int mode;         /* union; D1: rows of u x cols of v; D2: rows of v x cols of u */
    int packed;       /* products F_j F_k, j <= k, over set ida (same side, union) */
    int rs, cs;       /* sides (1, 2) of the products' first and second features */
    size_t ida, idb;  /* feature sets of the first and second factors */
    int has_r;        /* a second weight row: the (1,1) residual r[a] (u == v) */
    size_t row;       /* its first weight row within the group */
} item;

typedef struct task {
    size_t g0, g1;    /* items [g0, g1) of the sorted list (one group) */
    size_t r0, rows;  /* weight rows */
    size_t p0, p1;    /* products [p0, p1) */
    size_t nprod;     /* of the group */
    int scaled;       /* computed as (w F_A)^T F_B (below), not W^T Prod */
    size_t nb;        /* scaled: |B| (products x |B| + y, chunks of whole x) */
    size_t wneed, pneed; /* doubles per example of the two operands */
    size_t grow;      /* global weight row of its first row (weights of a pass: one array) */
    int tiny;         /* little work, small operands: run by one thread (TINY_W) */
    double *T;        /* rows x (p1 - p0), inside the pass buffer */
} task;

/* The shallow net's dimensions, scales and the per-example block cache. */
typedef struct shallow {
    const tdl_mlp *m;
    tdl_loss_kind loss;
    const tdl_dataset *ds;
    int linear, need_r;
    size_t d, d1, h, h1, C, nunits, side1; /* side-1 units: [0, side1) */
    double s1, t1, s2, t2, scale;
    /* block of examples (capacity nbmax) */
    double *Xt, *At, *Lm, *Bt, *LBt, *Rv, *Z, *D1, *D2, *F, *gv, *unit;
    double *XT, *AT;  /* x~ and a~ feature-major: feature f of the block at XT + f * ldT */
    size_t ldT;
} shallow;

static inline int side_of(const shallow *S, size_t u) { return u < S->side1 ? 1 : 2; }
static inline size_t nfeat(const shallow *S, int side) { return side == 1 ? S->d1 : S->h1; }

/* ---- interned sets --------------------------------------------------------- */

static uint64_t set_hash(const size_t *m, size_t k)
{
    uint64_t x = 1469598103934665603ull ^ (uint64_t)k;
    for (size_t i = 0; i < k; i++) {
        x ^= (uint64_t)m[i] + 0x9e3779b97f4a7c15ull;
        x *= 1099511628211ull;
    }
    return x ^ (x >> 29);
}

static int pool_grow_table(setpool *sp)
{
    size_t nc = sp->tcap ? 2 * sp->tcap : 64;
    size_t *t = tdl_calloc(nc, sizeof(size_t), "a feature-set table");
    if (!t) return TDL_ENOMEM;
    for (size_t k = 0; k < sp->count; k++) {
        size_t s = (size_t)sp->hash[k] & (nc - 1);
        while (t[s]) s = (s + 1) & (nc - 1);
        t[s] = k + 1;
    }
    free(sp->table);
    sp->table = t;
    sp->tcap = nc;
    return TDL_OK;
}

/* id of the set m[0..k) (sorted, distinct), added when new */
static int pool_intern(setpool *sp, const size_t *m, size_t k, size_t *id)
{
    uint64_t hv = set_hash(m, k);
    if (2 * (sp->count + 1) > sp->tcap && pool_grow_table(sp) != TDL_OK) return TDL_ENOMEM;
    size_t s = (size_t)hv & (sp->tcap - 1);
    while (sp->table[s]) {
        size_t c = sp->table[s] - 1;
        if (sp->hash[c] == hv && sp->len[c] == k && (k == 0 || !memcmp(sp->data + sp->off[c], m, k * sizeof(size_t)))) {
            *id = c;
            return TDL_OK;
        }
        s = (s + 1) & (sp->tcap - 1);
    }
    if (sp->count == sp->scap) {
        size_t nc = sp->scap ? 2 * sp->scap : 64;
        size_t *o = realloc(sp->off, nc * sizeof(size_t));
        if (o) sp->off = o;
        size_t *l = realloc(sp->len, nc * sizeof(size_t));
        if (l) sp->len = l;
        uint64_t *hh = realloc(sp->hash, nc * sizeof(uint64_t));
        if (hh) sp->hash = hh;
        if (!o || !l || !hh) return tdl_fail(TDL_ENOMEM, "out of memory for the feature sets of the Hessian entries");
        sp->scap = nc;
    }
    if (sp->used + k > sp->cap) {
        size_t nc = sp->cap ? sp->cap : 1024;
        while (nc < sp->used + k) nc *= 2;
        size_t *d = realloc(sp->data, nc * sizeof(size_t));
        if (!d) return tdl_fail(TDL_ENOMEM, "out of memory for the feature sets of the Hessian entries");
        sp->data = d;
        sp->cap = nc;
    }
    if (k) memcpy(sp->data + sp->used, m, k * sizeof(size_t));
    sp->off[sp->count] = sp->used;
    sp->len[sp->count] = k;
    sp->hash[sp->count] = hv;
    sp->used += k;
    sp->table[s] = sp->count + 1;
    *id = sp->count++;
    return TDL_OK;
}

static void pool_free(setpool *sp)
{
    free(sp->data);
    free(sp->off);
    free(sp->len);
    free(sp->hash);
    free(sp->table);
    memset(sp, 0, sizeof *sp);
}

/* out = union of the sorted sets a and b; returns its size */
static size_t set_union(const size_t *a, size_t na, const size_t *b, size_t nb, size_t *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        if (j == nb || (i < na && a[i] < b[j])) out[k++] = a[i++];
        else if (i == na || b[j] < a[i]) out[k++] = b[j++];
        else { out[k++] = a[i++]; j++; }
    }
    return k;
}

/* ---- the parameters' units and features ------------------------------------ */

/* unit and feature of flat parameter p of a depth <= 2 net */
static void locate(const shallow *S, size_t p, size_t *unit, size_t *f)
{
    const tdl_mlp *m = S->m;
    size_t base = 0;
    for (size_t l = 0; l < m->depth; l++) {
        const tdl_layer *L = &m->layers[l];
        if (p >= L->w_off && p < L->w_off + L->in * L->out) {
            *unit = base + (p - L->w_off) / L->in;
            *f = (p - L->w_off) % L->in;
            return;
        }
        if (L->has_bias && p >= L->b_off && p < L->b_off + L->out) {
            *unit = base + (p - L->b_off);
            *f = L->in;
            return;
        }
        base += L->out;
    }
    *unit = *f = 0; /* not reached: p < P was checked */
}

/* idx[0..k) grouped by unit (counting sort, stable: input order within a unit) */
static int group_by_unit(const shallow *S, const size_t *idx, size_t k, unit_lists *out)
{
    out->start = tdl_calloc(S->nunits + 1, sizeof(size_t), "the Hessian entries' index lists");
    out->e = tdl_malloc((k ? k : 1) * sizeof(ent), "the Hessian entries' index lists");
    size_t *unit = tdl_malloc((k ? k : 1) * sizeof(size_t), "the Hessian entries' index lists");
    size_t *feat = tdl_malloc((k ? k : 1) * sizeof(size_t), "the Hessian entries' index lists");
    if (!out->start || !out->e || !unit || !feat) {
        free(unit);
        free(feat);
        return TDL_ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        locate(S, idx[i], &unit[i], &feat[i]);
        out->start[unit[i] + 1]++;
    }
    for (size_t u = 0; u < S->nunits; u++) out->start[u + 1] += out->start[u];
    size_t *fill = tdl_malloc((S->nunits + 1) * sizeof(size_t), "the Hessian entries' index lists");
    if (!fill) {
        free(unit);
        free(feat);
        return TDL_ENOMEM;
    }
    memcpy(fill, out->start, (S->nunits + 1) * sizeof(size_t));
    for (size_t i = 0; i < k; i++) out->e[fill[unit[i]]++] = (ent){i, feat[i]};
    free(fill);
    free(unit);
    free(feat);
    return TDL_OK;
}

/* the distinct features of each unit's entries, interned: id[u] */
static int unit_sets(const shallow *S, const unit_lists *ul, setpool *sp, size_t *id, size_t *scratch, unsigned char *mark)
{
    for (size_t u = 0; u < S->nunits; u++) {
        size_t nf = nfeat(S, side_of(S, u)), k = 0;
        for (size_t q = ul->start[u]; q < ul->start[u + 1]; q++) mark[ul->e[q].f] = 1;
        for (size_t f = 0; f < nf; f++)
            if (mark[f]) { scratch[k++] = f; mark[f] = 0; }
        int st = pool_intern(sp, scratch, k, &id[u]);
        if (st != TDL_OK) return st;
    }
    return TDL_OK;
}

static int item_cmp(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
#define CMP(x) if (a->x != b->x) return a->x < b->x ? -1 : 1
    CMP(packed); CMP(rs); CMP(cs); CMP(ida); CMP(idb); CMP(u); CMP(v); CMP(mode);
#undef CMP
    return 0;
}

static inline int same_group(const item *a, const item *b)
{
    return a->packed == b->packed && a->rs == b->rs && a->cs == b->cs && a->ida == b->ida && a->idb == b->idb;
}

/* ---- the block of examples: forward pass, loss derivatives ----------------- */

/* Fill the cache for examples [r0, r0 + nr): x~, a~, L, and for a hidden
 * layer B^T, (L B)^T and r.  The same operations as hessian.c's assembly. */
static int block_cache(shallow *S, size_t r0, size_t nr)
{
    const tdl_mlp *m = S->m;
    const tdl_dataset *ds = S->ds;
    const tdl_layer *L2 = &m->layers[m->depth - 1];
    const size_t d1 = S->d1, h = S->h, h1 = S->h1, C = S->C;
    /* x~, the hidden layer, a~ and f (tdl_shallow_forward, hessian.c) */
    tdl_shallow_forward(m, ds, r0, nr, S->Xt, S->Z, S->D1, S->D2, S->At, S->F);
    /* feature-major copies: the products and scaled features are built
     * along the examples, contiguous */
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < d1; j++) S->XT[j * S->ldT + i] = S->Xt[i * d1 + j];
    if (!S->linear)
        for (size_t i = 0; i < nr; i++)
            for (size_t b = 0; b < h1; b++) S->AT[b * S->ldT + i] = S->At[i * h1 + b];
    for (size_t i = 0; i < nr; i++) {
        const size_t row = r0 + i;
        const double *f = S->F + i * C;
        const double *y = ds->Y ? gsl_matrix_const_ptr(ds->Y, row, 0) : NULL;
        double *g = S->gv + i * C, *Lm = S->Lm + i * C * C;
        double li = tdl_net_example_loss(S->loss, C, f, ds->labels ? ds->labels[row] : 0, y, g);
        if (!isfinite(li)) return tdl_fail(TDL_ENONFINITE, "the loss of example %zu is not finite", row);
        for (size_t c = 0; c < C; c++) g[c] *= S->scale;
        for (size_t c = 0; c < C; c++) {
            memset(S->unit, 0, C * sizeof(double));
            S->unit[c] = 1.0;
            tdl_net_example_loss_hess(S->loss, C, f, ds->Y != NULL, S->unit, Lm + c * C);
        }
        for (size_t k = 0; k < C * C; k++) Lm[k] *= S->scale;
    }
    if (S->linear) return TDL_OK;
    const double *W2 = m->theta + L2->w_off;
    const double s2 = S->s2;
    double *Bt = S->Bt, *LBt = S->LBt, *D1 = S->D1, *D2 = S->D2, *Rv = S->Rv, *Lall = S->Lm, *gall = S->gv;
    const int need_r = S->need_r;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (nr * h * C * C > 100000)
#endif
    for (size_t i = 0; i < nr; i++) {
        double *bt = Bt + i * h * C, *lbt = LBt + i * h * C;
        const double *Lm = Lall + i * C * C, *g = gall + i * C;
        for (size_t a = 0; a < h; a++) {
            for (size_t c = 0; c < C; c++) bt[a * C + c] = s2 * W2[c * h + a] * D1[i * h + a];
            /* (L B)^T row a = L B[:, a] (L symmetric) */
            for (size_t c = 0; c < C; c++) {
                double v = 0;
                for (size_t c2 = 0; c2 < C; c2++) v += Lm[c * C + c2] * bt[a * C + c2];
                lbt[a * C + c] = v;
            }
            if (need_r) {
                double wg = 0;
                for (size_t c = 0; c < C; c++) wg += W2[c * h + a] * g[c];
                Rv[i * h + a] = s2 * wg * D2[i * h + a];
            }
        }
    }
    return TDL_OK;
}

/* weight of item it (row 0: G's, row 1: the residual) for example i */
static inline double item_weight(const shallow *S, const item *it, int rrow, size_t i)
{
    const size_t h = S->h, C = S->C;
    if (rrow) return S->Rv[i * h + it->u];
    int su = side_of(S, it->u), sv = side_of(S, it->v);
    if (su == 2) { /* both outputs */
        size_t c = it->u - S->side1, c2 = it->v - S->side1;
        return S->Lm[i * C * C + c * C + c2];
    }
    if (sv == 2) /* (B^T L)[a, c] */
        return S->LBt[i * h * C + it->u * C + (it->v - S->side1)];
    const double *b = S->Bt + i * h * C + it->u * C, *lb = S->LBt + i * h * C + it->v * C;
    double w = 0;
    for (size_t c = 0; c < C; c++) w += b[c] * lb[c];
    return w;
}

/* feature f of a side along the block's examples */
static inline const double *feature_row(const shallow *S, int side, size_t f)
{
    return (side == 1 || S->linear ? S->XT : S->AT) + f * S->ldT;
}

/* Write one item's entries: G from its accumulator row Tg and H from Tg
 * plus the residual row Tr (NULL: none), both holding the products
 * [tk->p0, tk->p1) of the group.  The item's one or two rectangles are rows
 * of unit ru times columns of unit cu ("swap": the row's feature is the
 * product's second factor).  rx, rt: scratch for one unit's row entries. */
static void scatter_item(const item *it, const unit_lists *RL, const unit_lists *CL, const size_t *posA,
                         const size_t *posB, size_t na, size_t nbB, const task *tk, const double *Tg, const double *Tr,
                         double *H, double *G, size_t ld, size_t *rx, size_t *rt)
{
    const size_t p0 = tk->p0, p1 = tk->p1;
    /* a packed group computed scaled holds its full square: rectangle indexing */
    const int packed = it->packed && !tk->scaled;
    const int whole = p0 == 0 && p1 == tk->nprod;
    for (int part = 0; part < 2; part++) {
        size_t ru, cu;
        int swap;
        if (it->mode == MODE_UNION) {
            if (part == 1 && it->u == it->v) break;
            ru = part ? it->v : it->u;
            cu = part ? it->u : it->v;
            swap = part;
        } else {
            if (part) break;
            ru = it->mode == MODE_D1 ? it->u : it->v;
            cu = it->mode == MODE_D1 ? it->v : it->u;
            swap = 0;
        }
        const ent *re = RL->e + RL->start[ru];
        const size_t nre = RL->start[ru + 1] - RL->start[ru];
        if (!nre) continue;
        /* the row entries' share of the product index */
        for (size_t q = 0; q < nre; q++) {
            if (packed) {
                rx[q] = posA[re[q].f];
                rt[q] = rx[q] * (2 * na - rx[q] - 1) / 2;
            } else {
                rt[q] = swap ? posB[re[q].f] : posA[re[q].f] * nbB;
            }
        }
        for (size_t qc = CL->start[cu]; qc < CL->start[cu + 1]; qc++) {
            const ent ce = CL->e[qc];
            double *Hc = H ? H + ce.pos * ld : NULL, *Gc = G ? G + ce.pos * ld : NULL;
            size_t y = 0, cterm;
            if (packed) {
                y = posA[ce.f];
                cterm = y * (2 * na - y - 1) / 2;
            } else {
                cterm = swap ? posA[ce.f] * nbB : posB[ce.f];
            }
            for (size_t q = 0; q < nre; q++) {
                /* packed: entry (min, max) of the pair of positions */
                size_t pidx = packed ? (rx[q] <= y ? rt[q] + y : cterm + rx[q]) : rt[q] + cterm;
                if (!whole) {
                    if (pidx < p0 || pidx >= p1) continue;
                }
                pidx -= p0;
                double g = Tg[pidx];
                if (Gc) Gc[re[q].pos] = g;
                if (Hc) Hc[re[q].pos] = Tr ? g + Tr[pidx] : g;
            }
        }
    }
}

/* One task on a block of nb examples: its two operands, feature-major (rows
 * along the examples, stride nbx), then T (M x N) += Lop (M x nb) Rop^T
 * (Rop: N x nb), split in row or column blocks over nth threads, each a
 * single-threaded dgemm (one pool of threads: OpenBLAS's own would spin
 * against OpenMP's between the two phases).  W: the task's weight rows;
 * Lbuf, Pbuf: room for wneed and pneed doubles per example. */
static void run_task(const shallow *S, const task *tk, const item *items, const setpool *sp, const double *Wall,
                     size_t rlo, size_t nb, size_t nbx, double *Lbuf, double *Pbuf, int nth)
{
    const item *it0 = &items[tk->g0];
    const size_t rows_t = tk->rows, pc = tk->p1 - tk->p0;
    const size_t *A = sp->data + sp->off[it0->ida], *B = sp->data + sp->off[it0->idb];
    const size_t na = sp->len[it0->ida];
    const int packed = it0->packed, rs = it0->rs, cs = it0->cs;
    const double *W = Wall + (tk->grow - rlo) * nbx;
    double *Wt = Lbuf, *Prod = Pbuf;
    const double *Lop, *Rop;
    size_t M, N;
    const int par = nth > 1;
    if (tk->scaled) {
        /* Lop rows (row, x) = w_row F[A[x]], Rop rows y = F'[B[y]] */
        const size_t xr = pc / tk->nb, x0 = tk->p0 / tk->nb, nB = tk->nb;
        M = rows_t * xr;
        N = nB;
        Lop = Wt;
        Rop = Prod;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nth) if (par)
#endif
        for (size_t r = 0; r < rows_t + nB; r++) {
            if (r < rows_t) {
                const double *w = W + r * nbx;
                for (size_t x = 0; x < xr; x++) {
                    const double *f = feature_row(S, rs, A[x0 + x]);
                    double *dst = Wt + (r * xr + x) * nbx;
                    for (size_t i = 0; i < nb; i++) dst[i] = w[i] * f[i];
                }
            } else {
                memcpy(Prod + (r - rows_t) * nbx, feature_row(S, cs, B[r - rows_t]), nb * sizeof(double));
            }
        }
    } else {
        /* Lop = the weights, Rop rows = the products F[A[x]] F'[B[y]] of this chunk */
        M = rows_t;
        N = pc;
        Lop = W;
        Rop = Prod;
        const size_t nx = packed ? na : sp->len[it0->ida], nyB = packed ? na : sp->len[it0->idb];
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (par)
#endif
        for (size_t x = 0; x < nx; x++) {
            /* row x of the product table: indices [start, start + len), y = y0 + t */
            const size_t start = packed ? x * (2 * na - x + 1) / 2 : x * nyB, len = packed ? na - x : nyB;
            const size_t y0 = packed ? x : 0;
            size_t lo = start > tk->p0 ? start : tk->p0, hi = start + len < tk->p1 ? start + len : tk->p1;
            const double *fx = feature_row(S, rs, A[x]);
            for (size_t pidx = lo; pidx < hi; pidx++) {
                const double *fy = feature_row(S, cs, B[y0 + pidx - start]);
                double *dst = Prod + (pidx - tk->p0) * nbx;
                for (size_t i = 0; i < nb; i++) dst[i] = fx[i] * fy[i];
            }
        }
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(nth) if (par)
#endif
    {
#ifdef _OPENMP
        const size_t me = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
#else
        const size_t me = 0, nt = 1;
#endif
        if (M >= N) {
            size_t lo = M * me / nt, hi = M * (me + 1) / nt;
            if (hi > lo)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(hi - lo), (int)N, (int)nb, 1.0,
                            Lop + lo * nbx, (int)nbx, Rop, (int)nbx, 1.0, tk->T + lo * N, (int)N);
        } else {
            size_t lo = N * me / nt, hi = N * (me + 1) / nt;
            if (hi > lo)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)(hi - lo), (int)nb, 1.0, Lop,
                            (int)nbx, Rop + lo * nbx, (int)nbx, 1.0, tk->T + lo, (int)N);
        }
    }
}

/* ---- the shallow path -------------------------------------------------------- */

static int shallow_entries(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const size_t *rows,
                           size_t nr, const size_t *cols, size_t nc, double *H, double *G, size_t ld)
{
    shallow S = {0};
    const tdl_layer *L1 = &m->layers[0], *L2 = &m->layers[m->depth - 1];
    S.m = m;
    S.loss = loss;
    S.ds = ds;
    S.linear = m->depth == 1;
    S.d = ds->d;
    S.C = L2->out;
    S.d1 = S.d + (L1->has_bias ? 1 : 0);
    S.h = S.linear ? S.d : L1->out;
    S.h1 = S.linear ? S.d1 : S.h + (L2->has_bias ? 1 : 0);
    S.side1 = S.linear ? 0 : S.h;
    S.nunits = S.side1 + S.C;
    S.s1 = L1->w_scale;
    S.t1 = L1->b_scale;
    S.s2 = L2->w_scale;
    S.t2 = L2->b_scale;
    /* phi'' vanishes for piecewise-linear activations: no (1,1) residual */
    S.need_r = H != NULL && !S.linear && m->act.kind != TDL_ACT_IDENTITY && m->act.kind != TDL_ACT_RELU &&
               m->act.kind != TDL_ACT_LEAKY_RELU && m->act.kind != TDL_ACT_ABRELU;
    const size_t n = ds->n, d1 = S.d1, h = S.h, h1 = S.h1, C = S.C, nunits = S.nunits;
    const size_t nfmax = d1 > h1 ? d1 : h1;
    int st = tdl_mlp_loss_scale(m, loss, n, &S.scale);
    if (st != TDL_OK) return st;

    unit_lists RL = {0}, CL = {0};
    setpool sp = {0};
    size_t *rid = NULL, *cid = NULL, *scratch = NULL, *ra = NULL, *rc = NULL;
    unsigned char *mark = NULL;
    item *items = NULL;
    task *tasks = NULL;
    double *cache = NULL, *acc = NULL, *Wt = NULL, *Prod = NULL, *V = NULL, *Sm = NULL;
    size_t *rowbuf = NULL, maxrow = 1;
    int blas_threads = 0; /* to restore (0: untouched) */
    size_t nitems = 0, icap = 0, ntasks = 0, tcap = 0;

    if ((st = group_by_unit(&S, rows, nr, &RL)) != TDL_OK || (st = group_by_unit(&S, cols, nc, &CL)) != TDL_OK)
        goto cleanup;
    rid = tdl_malloc(nunits * sizeof(size_t), "the Hessian entries' feature sets");
    cid = tdl_malloc(nunits * sizeof(size_t), "the Hessian entries' feature sets");
    scratch = tdl_malloc(5 * nfmax * sizeof(size_t), "the Hessian entries' feature sets");
    mark = tdl_calloc(nfmax, 1, "the Hessian entries' feature sets");
    if (!rid || !cid || !scratch || !mark) { st = TDL_ENOMEM; goto cleanup; }
    for (size_t u = 0; u < nunits; u++)
        if (RL.start[u + 1] - RL.start[u] > maxrow) maxrow = RL.start[u + 1] - RL.start[u];
    {
#ifdef _OPENMP
        size_t nth = (size_t)omp_get_max_threads();
#else
        size_t nth = 1;
#endif
        rowbuf = tdl_malloc(nth * 2 * (maxrow + nfmax) * sizeof(size_t), "the Hessian entries' scatter buffers");
        if (!rowbuf) { st = TDL_ENOMEM; goto cleanup; }
        for (size_t k = 0; k < nth * 2 * (maxrow + nfmax); k++) rowbuf[k] = SIZE_MAX;
    }
    if ((st = unit_sets(&S, &RL, &sp, rid, scratch, mark)) != TDL_OK ||
        (st = unit_sets(&S, &CL, &sp, cid, scratch, mark)) != TDL_OK)
        goto cleanup;

    /* ---- items: every unit pair with requested entries, the cheaper way ---- */
    for (size_t u = 0; u < nunits; u++)
        for (size_t v = u; v < nunits; v++) {
            const size_t *Ru = sp.data + sp.off[rid[u]], *Cu = sp.data + sp.off[cid[u]];
            const size_t *Rv = sp.data + sp.off[rid[v]], *Cv = sp.data + sp.off[cid[v]];
            size_t nRu = sp.len[rid[u]], nCu = sp.len[cid[u]], nRv = sp.len[rid[v]], nCv = sp.len[cid[v]];
            int n1 = nRu && nCv, n2 = u != v && nRv && nCu;
            if (!n1 && !n2) continue;
            int s = side_of(&S, u), t = side_of(&S, v);
            /* direct: the rectangles; union packed (same side): the products
             * F_j F_k, j <= k, over U; union rectangle: A x B with A the
             * features of u's entries, B of v's (the mirror block read
             * transposed) */
            double costD = (n1 ? (double)nRu * (double)nCv : 0) + (n2 ? (double)nRv * (double)nCu : 0);
            double costP = INFINITY, costR = INFINITY;
            size_t *U = scratch, *A = scratch + nfmax, *B = scratch + 2 * nfmax, *tmp = scratch + 3 * nfmax;
            size_t nU = 0, nA = 0, nB = 0;
            if (s == t) {
                size_t k1 = n1 ? set_union(Ru, nRu, Cv, nCv, tmp) : 0;
                size_t k2 = n2 ? set_union(Rv, nRv, Cu, nCu, tmp + nfmax) : 0;
                nU = set_union(tmp, k1, tmp + nfmax, k2, U);
                costP = (double)nU * (double)(nU + 1) / 2;
            }
            if (u != v) {
                nA = set_union(n1 ? Ru : NULL, n1 ? nRu : 0, n2 ? Cu : NULL, n2 ? nCu : 0, A);
                nB = set_union(n1 ? Cv : NULL, n1 ? nCv : 0, n2 ? Rv : NULL, n2 ? nRv : 0, B);
                costR = (double)nA * (double)nB;
            }
            const int way_union = costP < costD || costR < costD, packed = costP <= costR;
            for (int way = 0; way < 3; way++) {
                item it = {0};
                it.u = u;
                it.v = v;
                if (way_union) {
                    if (way) break;
                    it.mode = MODE_UNION;
                    it.packed = packed;
                    it.rs = s;
                    it.cs = t;
                    if (packed) {
                        if ((st = pool_intern(&sp, U, nU, &it.ida)) != TDL_OK) goto cleanup;
                        it.idb = it.ida;
                    } else if ((st = pool_intern(&sp, A, nA, &it.ida)) != TDL_OK ||
                               (st = pool_intern(&sp, B, nB, &it.idb)) != TDL_OK) {
                        goto cleanup;
                    }
                } else if (way == 1 && n1) {
                    it.mode = MODE_D1;
                    it.rs = s;
                    it.cs = t;
                    it.ida = rid[u];
                    it.idb = cid[v];
                } else if (way == 2 && n2) {
                    it.mode = MODE_D2;
                    it.rs = t;
                    it.cs = s;
                    it.ida = rid[v];
                    it.idb = cid[u];
                } else {
                    continue;
                }
                it.has_r = S.need_r && u == v && s == 1;
                if (nitems == icap) {
                    size_t ncap = icap ? 2 * icap : 256;
                    if ((st = tdl_memory_require(ncap, sizeof(item), 0, "the Hessian entries' unit pairs")) != TDL_OK)
                        goto cleanup;
                    item *ni = realloc(items, ncap * sizeof(item));
                    if (!ni) { st = tdl_fail(TDL_ENOMEM, "out of memory for the Hessian entries' unit pairs"); goto cleanup; }
                    items = ni;
                    icap = ncap;
                }
                items[nitems++] = it;
            }
        }
    if (nitems) qsort(items, nitems, sizeof(item), item_cmp);

    /* ---- tasks: groups x product chunks x item chunks, packed into passes ---- */
    const int small = getenv(TEST_HOOK_ENV) != NULL;
    const size_t acc_max = small ? 300 : ACC_BUDGET / sizeof(double), prod_chunk = small ? 7 : PROD_CHUNK;
    size_t growbase = 0;
    for (size_t g0 = 0; g0 < nitems;) {
        size_t g1 = g0 + 1;
        while (g1 < nitems && same_group(&items[g0], &items[g1])) g1++;
        const int packed = items[g0].packed;
        size_t na = sp.len[items[g0].ida], nb = packed ? na : sp.len[items[g0].idb];
        size_t rowsg = 0;
        for (size_t k = g0; k < g1; k++) { items[k].row = rowsg; rowsg += 1 + (size_t)items[k].has_r; }
        /* Two ways to the same sums: W^T Prod with the products built once
         * for all the group's rows (packed: j <= k only), or, for a group of
         * few rows, the scaled features (w_r F_A)^T F_B, one dgemm with
         * rows |A| x |B| outputs (a packed group then fills its full square).
         * Per example: every double written costs about as much as 8 flops
         * (memory), every product of the dgemm 2. */
        double nP = packed ? (double)na * (double)(na + 1) / 2 : (double)na * (double)nb, r = (double)rowsg;
        double costP = 8 * nP + 2 * r * nP, costS = 8 * (r * (double)na + (double)nb) + 2 * r * (double)na * (double)nb;
        const int scaled = costS < costP;
        size_t nprod = scaled ? na * nb : (size_t)nP;
        size_t npc = (nprod + prod_chunk - 1) / prod_chunk;
        size_t pcl = (nprod + npc - 1) / npc;
        if (scaled) pcl = (pcl + nb - 1) / nb * nb; /* whole x */
        size_t rmax = acc_max / pcl;
        if (rmax < 2) rmax = 2;
        for (size_t p0 = 0; p0 < nprod; p0 += pcl)
            for (size_t k0 = g0; k0 < g1;) {
                size_t k1 = k0, rws = 0;
                while (k1 < g1 && (k1 == k0 || rws + 1 + (size_t)items[k1].has_r <= rmax)) rws += 1 + (size_t)items[k1++].has_r;
                if (ntasks == tcap) {
                    size_t ncap = tcap ? 2 * tcap : 64;
                    task *nt = realloc(tasks, ncap * sizeof(task));
                    if (!nt) { st = tdl_fail(TDL_ENOMEM, "out of memory for the Hessian entries' tasks"); goto cleanup; }
                    tasks = nt;
                    tcap = ncap;
                }
                task tk = {k0, k1, items[k0].row, rws, p0, p0 + pcl < nprod ? p0 + pcl : nprod, nprod, scaled, nb, 0, 0,
                           growbase + items[k0].row, 0, NULL};
                tk.wneed = scaled ? rws * ((tk.p1 - tk.p0) / nb) : 0;
                tk.pneed = scaled ? nb : tk.p1 - tk.p0;
                {
                    double Mt = scaled ? (double)tk.wneed : (double)rws, Nt = (double)tk.pneed;
                    tk.tiny = tk.wneed + tk.pneed <= TINY_W && Mt * Nt <= 65536.0;
                }
                tasks[ntasks++] = tk;
                k0 = k1;
            }
        growbase += rowsg;
        g0 = g1;
    }

    /* ---- the (1,2) residual: V[a, c, j] = sum_i s2 g_c phi'(z_a) x~_j for the
     * hidden units a it reaches (a row (a, j) and a column (c, a), or the mirror) */
    size_t nra = 0;
    if (H && !S.linear) {
        ra = tdl_malloc(h * sizeof(size_t), "the Hessian entries' residual units");
        rc = tdl_malloc((h + 1) * sizeof(size_t), "the Hessian entries' residual units");
        if (!ra || !rc) { st = TDL_ENOMEM; goto cleanup; }
        /* which hidden units appear as a feature of a side-2 row or column */
        memset(mark, 0, nfmax);
        for (size_t u = S.side1; u < nunits; u++) {
            for (size_t q = RL.start[u]; q < RL.start[u + 1]; q++)
                if (RL.e[q].f < h) mark[RL.e[q].f] |= 1;
            for (size_t q = CL.start[u]; q < CL.start[u + 1]; q++)
                if (CL.e[q].f < h) mark[CL.e[q].f] |= 2;
        }
        for (size_t a = 0; a < h; a++) {
            int hit = ((mark[a] & 2) && RL.start[a + 1] > RL.start[a]) || ((mark[a] & 1) && CL.start[a + 1] > CL.start[a]);
            rc[a] = hit ? nra : SIZE_MAX;
            if (hit) ra[nra++] = a;
        }
        memset(mark, 0, nfmax);
        if (nra) {
            if ((st = tdl_memory_require(nra * C, d1 * sizeof(double), 0, "the Hessian entries' residual block")) != TDL_OK)
                goto cleanup;
            V = tdl_calloc(nra * C * d1, sizeof(double), "the Hessian entries' residual block");
            if (!V) { st = TDL_ENOMEM; goto cleanup; }
        }
    }

    /* ---- passes over the examples ---- */
    int nth = 1;
#ifdef _OPENMP
    /* OpenBLAS runs single-threaded inside our parallel regions; restored at cleanup */
    nth = omp_get_max_threads();
    if (nth > 1) {
        blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
    }
#endif
    size_t cache_per = 2 * d1 + (S.linear ? 0 : 2 * h1) + C * C + 3 * C + (S.linear ? 0 : 2 * h * C + 4 * h) + nra * C;
    for (size_t t0 = 0; t0 < ntasks || (t0 == 0 && nra);) {
        size_t t1 = t0, accn = 0, wmax = 0, pmax = 0, rlo = SIZE_MAX, rhi = 0;
        while (t1 < ntasks && (t1 == t0 || accn + tasks[t1].rows * (tasks[t1].p1 - tasks[t1].p0) <= acc_max)) {
            accn += tasks[t1].rows * (tasks[t1].p1 - tasks[t1].p0);
            if (tasks[t1].wneed > wmax) wmax = tasks[t1].wneed;
            if (tasks[t1].pneed > pmax) pmax = tasks[t1].pneed;
            if (tasks[t1].grow < rlo) rlo = tasks[t1].grow;
            if (tasks[t1].grow + tasks[t1].rows > rhi) rhi = tasks[t1].grow + tasks[t1].rows;
            t1++;
        }
        if (t1 == t0) rlo = rhi = 0;
        size_t ntiny = 0;
        for (size_t t = t0; t < t1; t++) ntiny += (size_t)tasks[t].tiny;
        /* per example: the cache, the weights of the pass's rows, the two
         * operands, and the threads' buffers for the tiny tasks */
        size_t per = cache_per + (rhi - rlo) + wmax + pmax + (ntiny ? (size_t)nth * TINY_W : 0);
        size_t nbx = small ? 5 : EX_BUDGET / (per * sizeof(double));
        if (nbx == 0) nbx = 1;
        if (nbx > n) nbx = n;
        size_t need = accn + nbx * per + C;
        if ((st = tdl_memory_require(need, sizeof(double), 0, "the Hessian entries' temporaries")) != TDL_OK) goto cleanup;
        free(acc);
        free(cache);
        acc = tdl_calloc(accn ? accn : 1, sizeof(double), "the Hessian entries' accumulators");
        cache = tdl_malloc((nbx * per + C) * sizeof(double), "the Hessian entries' example block");
        if (!acc || !cache) { st = TDL_ENOMEM; goto cleanup; }
        double *p = cache;
        S.ldT = nbx;
        S.Xt = p; p += nbx * d1;
        S.XT = p; p += nbx * d1;
        if (!S.linear) { S.At = p; p += nbx * h1; S.AT = p; p += nbx * h1; }
        S.Lm = p; p += nbx * C * C;
        S.F = p; p += nbx * C;
        S.gv = p; p += nbx * C;
        S.unit = p; p += C;
        if (!S.linear) {
            S.Bt = p; p += nbx * h * C;
            S.LBt = p; p += nbx * h * C;
            S.Z = p; p += nbx * h;
            S.D1 = p; p += nbx * h;
            S.D2 = p; p += nbx * h;
            S.Rv = p; p += nbx * h;
        }
        Sm = p; p += nbx * nra * C;
        double *Wall = p; p += nbx * (rhi - rlo); /* weight rows [rlo, rhi), feature-major: row r at (r - rlo) * nbx */
        Wt = p; p += nbx * wmax;
        Prod = p; p += nbx * pmax;
        double *tbuf = p;
        double *q = acc;
        for (size_t t = t0; t < t1; t++) { tasks[t].T = q; q += tasks[t].rows * (tasks[t].p1 - tasks[t].p0); }

        for (size_t r0 = 0; r0 < n; r0 += nbx) {
            const size_t nb = n - r0 < nbx ? n - r0 : nbx;
            if ((st = block_cache(&S, r0, nb)) != TDL_OK) goto cleanup;
            if (t0 == 0 && nra) { /* the (1,2) residual, once */
                for (size_t i = 0; i < nb; i++)
                    for (size_t k = 0; k < nra; k++)
                        for (size_t c = 0; c < C; c++)
                            Sm[i * nra * C + k * C + c] = S.s2 * S.gv[i * C + c] * S.D1[i * h + ra[k]];
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(nra * C), (int)d1, (int)nb, 1.0, Sm,
                            (int)(nra * C), S.Xt, (int)d1, 1.0, V, (int)d1);
            }
            /* the weights of every row of the pass, in one sweep over the
             * block's examples (tiles of 16 stay in cache); tasks that share
             * their items (other product chunks) are skipped */
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1 && nb * (rhi - rlo) > 100000)
#endif
            for (size_t i0 = 0; i0 < nb; i0 += 16) {
                const size_t i1 = i0 + 16 < nb ? i0 + 16 : nb;
                for (size_t t = t0; t < t1; t++) {
                    const task *tk = &tasks[t];
                    if (t > t0 && tasks[t - 1].g0 == tk->g0 && tasks[t - 1].g1 == tk->g1) continue;
                    for (size_t k = tk->g0; k < tk->g1; k++) {
                        const item *it = &items[k];
                        for (int rr = 0; rr <= it->has_r; rr++) {
                            double *w = Wall + (tk->grow - rlo + it->row - tk->r0 + (size_t)rr) * nbx;
                            for (size_t i = i0; i < i1; i++) w[i] = item_weight(&S, it, rr, i);
                        }
                    }
                }
            }
            /* tasks of little work or small operands: one task a thread (a
             * parallel region costs a barrier, and on a loaded machine a barrier
             * waits for a descheduled thread); the others: threads inside */
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (nth > 1 && ntiny > 1)
#endif
            for (size_t t = t0; t < t1; t++) {
                if (!tasks[t].tiny) continue;
#ifdef _OPENMP
                double *tb = tbuf + (size_t)omp_get_thread_num() * nbx * TINY_W;
#else
                double *tb = tbuf;
#endif
                run_task(&S, &tasks[t], items, &sp, Wall, rlo, nb, nbx, tb, tb + tasks[t].wneed * nbx, 1);
            }
            for (size_t t = t0; t < t1; t++)
                if (!tasks[t].tiny) run_task(&S, &tasks[t], items, &sp, Wall, rlo, nb, nbx, Wt, Prod, nth);
        }

        /* scatter: every requested entry is read from exactly one item and one
         * product chunk; mirrored entries of a union item from the same number.
         * One parallel region over the pass's (task, item) pairs; each thread
         * keeps the feature positions of the task it is in. */
        {
            size_t total = 0;
            for (size_t t = t0; t < t1; t++) total += tasks[t].g1 - tasks[t].g0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nth) if (nth > 1 && total > 8)
#endif
            {
#ifdef _OPENMP
                size_t *rbuf = rowbuf + (size_t)omp_get_thread_num() * 2 * (maxrow + nfmax);
#else
                size_t *rbuf = rowbuf;
#endif
                size_t *pA = rbuf + 2 * maxrow, *pB = pA + nfmax; /* SIZE_MAX outside the current sets */
                size_t cur = SIZE_MAX, t = t0, before = 0; /* items of tasks t0 .. t - 1 */
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 8)
#endif
                for (size_t fl = 0; fl < total; fl++) {
                    /* the task of flat item fl (iterations come in increasing order per thread) */
                    if (fl < before) { t = t0; before = 0; }
                    while (fl >= before + tasks[t].g1 - tasks[t].g0) { before += tasks[t].g1 - tasks[t].g0; t++; }
                    const task *tk = &tasks[t];
                    const item *it0 = &items[tk->g0];
                    const size_t na = sp.len[it0->ida], nbB = sp.len[it0->idb], pc = tk->p1 - tk->p0;
                    if (cur != t) {
                        if (cur != SIZE_MAX) {
                            const item *old = &items[tasks[cur].g0];
                            for (size_t x = 0; x < sp.len[old->ida]; x++) pA[sp.data[sp.off[old->ida] + x]] = SIZE_MAX;
                            for (size_t y = 0; y < sp.len[old->idb]; y++) pB[sp.data[sp.off[old->idb] + y]] = SIZE_MAX;
                        }
                        for (size_t x = 0; x < na; x++) pA[sp.data[sp.off[it0->ida] + x]] = x;
                        for (size_t y = 0; y < nbB; y++) pB[sp.data[sp.off[it0->idb] + y]] = y;
                        cur = t;
                    }
                    const size_t k = tk->g0 + (fl - before);
                    const double *Tg = tk->T + (items[k].row - tk->r0) * pc;
                    scatter_item(&items[k], &RL, &CL, pA, pB, na, nbB, tk, Tg, items[k].has_r ? Tg + pc : NULL, H, G, ld,
                                 rbuf, rbuf + maxrow);
                }
                /* leave the positions clean for the next pass */
                if (cur != SIZE_MAX) {
                    const item *old = &items[tasks[cur].g0];
                    for (size_t x = 0; x < sp.len[old->ida]; x++) pA[sp.data[sp.off[old->ida] + x]] = SIZE_MAX;
                    for (size_t y = 0; y < sp.len[old->idb]; y++) pB[sp.data[sp.off[old->idb] + y]] = SIZE_MAX;
                }
            }
        }
        t0 = t1;
        if (ntasks == 0) break; /* a pass for the residual alone */
    }

    /* ---- the (1,2) residual, added to H's entries of both mirrored blocks ---- */
    if (nra) {
        for (size_t u = S.side1; u < nunits; u++) {
            const size_t c = u - S.side1;
            /* rows (a, j) of layer 1 x columns (c, a) of layer 2 */
            for (size_t qc = CL.start[u]; qc < CL.start[u + 1]; qc++) {
                const ent ce = CL.e[qc];
                if (ce.f >= h || rc[ce.f] == SIZE_MAX) continue;
                const double *v = V + (rc[ce.f] * C + c) * d1;
                for (size_t qr = RL.start[ce.f]; qr < RL.start[ce.f + 1]; qr++) H[RL.e[qr].pos + ce.pos * ld] += v[RL.e[qr].f];
            }
            /* rows (c, a) of layer 2 x columns (a, j) of layer 1 */
            for (size_t qr = RL.start[u]; qr < RL.start[u + 1]; qr++) {
                const ent re = RL.e[qr];
                if (re.f >= h || rc[re.f] == SIZE_MAX) continue;
                const double *v = V + (rc[re.f] * C + c) * d1;
                for (size_t qc = CL.start[re.f]; qc < CL.start[re.f + 1]; qc++) H[re.pos + CL.e[qc].pos * ld] += v[CL.e[qc].f];
            }
        }
    }

cleanup:
    if (blas_threads > 0) openblas_set_num_threads(blas_threads);
    free(RL.start);
    free(RL.e);
    free(CL.start);
    free(CL.e);
    pool_free(&sp);
    free(rid);
    free(cid);
    free(scratch);
    free(mark);
    free(items);
    free(tasks);
    free(cache);
    free(acc);
    free(V);
    free(ra);
    free(rc);
    free(rowbuf);
    return st;
}

/* ---- deeper nets: columns of exact Hessian-vector products ------------------ */

typedef struct idxpos {
    size_t idx, pos;
} idxpos;

static int idxpos_cmp(const void *pa, const void *pb)
{
    const idxpos *a = pa, *b = pb;
    if (a->idx != b->idx) return a->idx < b->idx ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static size_t distinct(const size_t *v, size_t k, idxpos *out)
{
    for (size_t i = 0; i < k; i++) out[i] = (idxpos){v[i], i};
    if (k) qsort(out, k, sizeof(idxpos), idxpos_cmp);
    size_t c = 0;
    for (size_t i = 0; i < k; i++) c += i == 0 || out[i].idx != out[i - 1].idx;
    return c;
}

static int column_entries(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const size_t *rows,
                          size_t nr, const size_t *cols, size_t nc, double *H, double *G, size_t ld)
{
    const size_t P = m->n_params;
    idxpos *pr = tdl_malloc((nr ? nr : 1) * sizeof(idxpos), "the Hessian entries' index lists");
    idxpos *pc = tdl_malloc((nc ? nc : 1) * sizeof(idxpos), "the Hessian entries' index lists");
    double *v = tdl_calloc(P, sizeof(double), "a unit vector");
    double *out = tdl_malloc(P * sizeof(double), "a Hessian column");
    tdl_net_work *w = NULL;
    int st = (!pr || !pc || !v || !out) ? TDL_ENOMEM : tdl_net_work_alloc(m, ds->n < 1024 ? ds->n : 1024, &w);
    if (st != TDL_OK) goto done;
    /* H is symmetric: products with the unit vectors of the side with fewer
     * distinct indices give every entry */
    size_t dr = distinct(rows, nr, pr), dc = distinct(cols, nc, pc);
    int by_rows = dr < dc;
    const idxpos *lst = by_rows ? pr : pc;
    const size_t k = by_rows ? nr : nc;
    for (size_t i = 0; i < k && st == TDL_OK;) {
        size_t j = i;
        while (j < k && lst[j].idx == lst[i].idx) j++;
        v[lst[i].idx] = 1.0;
        for (int part = 0; part < 2 && st == TDL_OK; part++) {
            double *M = part ? G : H;
            if (!M) continue;
            if ((st = tdl_mlp_hvp(m, loss, ds, v, part, w, out)) != TDL_OK) break;
            for (size_t q = i; q < j; q++) {
                size_t at = lst[q].pos;
                if (by_rows)
                    for (size_t b = 0; b < nc; b++) M[at + b * ld] = out[cols[b]];
                else
                    for (size_t a = 0; a < nr; a++) M[a + at * ld] = out[rows[a]];
            }
        }
        v[lst[i].idx] = 0.0;
        i = j;
    }
done:
    tdl_net_work_free(&w);
    free(pr);
    free(pc);
    free(v);
    free(out);
    return st;
}

int tdl_hessian_entries(const tdl_mlp *m, tdl_loss_kind loss, const tdl_dataset *ds, const size_t *rows, size_t nr,
                        const size_t *cols, size_t nc, double *H, double *G, size_t ld)
{
    if (!m || !ds) return tdl_fail(TDL_EINVAL, "Hessian entries: no model or no data");
    int st = tdl_loss_check(loss, m, ds);
    if (st != TDL_OK) return st;
    if ((nr && !rows) || (nc && !cols))
        return tdl_fail(TDL_EINVAL, "Hessian entries: %zu %s requested but no index list given", nr ? nr : nc,
                        nr && !rows ? "rows" : "columns");
    if (ld < nr)
        return tdl_fail(TDL_ESHAPE, "Hessian entries: leading dimension %zu is smaller than the %zu rows", ld, nr);
    const size_t P = m->n_params;
    for (size_t a = 0; a < nr; a++)
        if (rows[a] >= P)
            return tdl_fail(TDL_EINVAL, "Hessian entries: row index %zu (position %zu) is outside the %zu parameters",
                            rows[a], a, P);
    for (size_t b = 0; b < nc; b++)
        if (cols[b] >= P)
            return tdl_fail(TDL_EINVAL, "Hessian entries: column index %zu (position %zu) is outside the %zu parameters",
                            cols[b], b, P);
    if ((!H && !G) || nr == 0 || nc == 0) return TDL_OK;
    if (m->depth <= 2) return shallow_entries(m, loss, ds, rows, nr, cols, nc, H, G, ld);
    return column_entries(m, loss, ds, rows, nr, cols, nc, H, G, ld);
}
