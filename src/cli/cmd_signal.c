/* cmd_signal.c — `tdl signal`: mean-field signal propagation (length and
 * correlation maps, q*, chi_1, depth scales), finite deep random nets, the
 * order-to-chaos phase diagram and Jacobian spectra (tdl/signal.h).
 *
 * In three steps: signal_parse (argv -> signal_opts, usage errors),
 * signal_run (library calls only -> signal_result) and signal_emit (the
 * figure, JSON or text).  Only the public API (include/tdl/). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "plot.h"
#include "tdl/signal.h"

enum {
    S_ACT = 3000, S_SW, S_SB, S_Q0, S_C0, S_DEPTH, S_WIDTH, S_SIMULATE, S_NETS, S_SEED, S_PHASE, S_JACOBIAN,
    S_INIT, S_MAPS, S_NUMERIC, S_QUAD, S_JSON, S_PLOT, S_THREADS, S_QUIET
};

/* The phase diagram's grid and the maps' sample count. */
#define PD_NW 36
#define PD_NB 11
#define MAP_N 41

/* What the command line asks for. */
typedef struct signal_opts {
    tdl_signal_config cfg;
    double q0, c0;
    size_t depth, width, nets, threads, quad;
    unsigned long seed;
    int simulate, phase, jacobian, maps, as_json, quiet;
    tdl_signal_init init;
    const char *plot;
} signal_opts;

/* What the library computed (arrays owned, NULL when not asked for). */
typedef struct signal_result {
    char actname[64];
    tdl_signal_stats s;
    double *qi, *ci;                 /* mean-field iterates, depth + 1 */
    double *mq, *mqn, *mc, *mcn;     /* the maps, MAP_N samples */
    double *qsum, *csum, *chisum;    /* finite nets, averaged, depth + 1 */
    double *sv, sv_mean, sv_var;     /* Jacobian singular values, width */
    double *pd_sw, *pd_sb, *pd_chi, *crit; /* phase diagram */
    double chi_mean;
} signal_result;

static void json_num_or_null(json_writer *w, const char *key, double v, const char *reason)
{
    if (isfinite(v)) {
        json_number(w, key, v);
    } else {
        char rk[64];
        json_null(w, key);
        snprintf(rk, sizeof rk, "%s_reason", key);
        json_string(w, rk, reason);
    }
}

/* The progress line on stderr (only when stderr is a terminal and without
 * --quiet): at --depth 100000 the mean-field iterates alone take a minute. */
static int on_layer(const char *stage, size_t layer, size_t depth, void *user)
{
    (void)user;
    fprintf(stderr, "\rtdl signal: %s, layer %zu/%zu   ", stage, layer, depth);
    fflush(stderr);
    return 0;
}

/* The library ends a message about an overflow or underflow with advice in
 * the configuration's terms ("; lower sigma_w or the depth (below 43)");
 * the command says which option sets each ("lower --sigma-w or --depth
 * (below 43)").  Only an advice tail that starts with "lower " is
 * rewritten; other messages print as they are. */
static int signal_fail(int st)
{
    static const struct { const char *term, *flag; } terms[] = {
        {"sigma_w", "--sigma-w"}, {"sigma_b", "--sigma-b"}, {"q0", "--q0"}, {"the depth", "--depth"},
    };
    const char *msg = tdl_errmsg();
    const char *tail = NULL;
    for (const char *p = strstr(msg, "; "); p; p = strstr(p + 2, "; ")) tail = p + 2;
    if (!tail || strncmp(tail, "lower ", 6) != 0) return cli_fail(st);
    char out[1024];
    size_t used = (size_t)(tail - msg);
    if (used >= sizeof out) return cli_fail(st);
    memcpy(out, msg, used);
    for (const char *p = tail; *p && used + 1 < sizeof out;) {
        size_t i, k = 0;
        for (i = 0; i < sizeof terms / sizeof terms[0]; i++) {
            k = strlen(terms[i].term);
            if (!strncmp(p, terms[i].term, k) && (p == tail || p[-1] == ' ')) break;
        }
        if (i < sizeof terms / sizeof terms[0]) {
            size_t f = strlen(terms[i].flag);
            if (used + f + 1 >= sizeof out) break;
            memcpy(out + used, terms[i].flag, f);
            used += f;
            p += k;
        } else {
            out[used++] = *p++;
        }
    }
    out[used] = '\0';
    tdl_error_set(st, "%s", out);
    return cli_fail(st);
}

/* ---- parse -------------------------------------------------------------- */

/* argv into o: 0, or the exit code after a usage error. */
static int signal_parse(int argc, char **argv, signal_opts *o)
{
    static const struct option opts[] = {
        {"act", required_argument, NULL, S_ACT}, {"sigma-w", required_argument, NULL, S_SW},
        {"sigma-b", required_argument, NULL, S_SB}, {"q0", required_argument, NULL, S_Q0},
        {"c0", required_argument, NULL, S_C0}, {"depth", required_argument, NULL, S_DEPTH},
        {"width", required_argument, NULL, S_WIDTH}, {"simulate", no_argument, NULL, S_SIMULATE},
        {"nets", required_argument, NULL, S_NETS}, {"seed", required_argument, NULL, S_SEED},
        {"phase-diagram", no_argument, NULL, S_PHASE}, {"jacobian", no_argument, NULL, S_JACOBIAN},
        {"init", required_argument, NULL, S_INIT}, {"maps", no_argument, NULL, S_MAPS},
        {"numeric", no_argument, NULL, S_NUMERIC}, {"quad", required_argument, NULL, S_QUAD},
        {"json", no_argument, NULL, S_JSON}, {"plot", required_argument, NULL, S_PLOT},
        {"threads", required_argument, NULL, S_THREADS}, {"quiet", no_argument, NULL, S_QUIET},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    tdl_signal_config_default(&o->cfg);
    tdl_signal_config *cfg = &o->cfg;
    o->q0 = 1.0;
    o->c0 = 0.5;
    o->depth = 50;
    o->width = 1000;
    o->nets = 1;
    o->init = TDL_SIGNAL_GAUSSIAN;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts, "signal")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int bad = 0;
        switch (c) {
        case S_ACT:
            if (tdl_act_parse(optarg, &cfg->act) != TDL_OK) return cli_usage("signal", "--act %s: %s", optarg, tdl_errmsg());
            break;
        case S_SW: bad = cli_parse_double(optarg, &cfg->sigma_w) || !(cfg->sigma_w >= 0) || !isfinite(cfg->sigma_w); break;
        case S_SB: bad = cli_parse_double(optarg, &cfg->sigma_b) || !(cfg->sigma_b >= 0) || !isfinite(cfg->sigma_b); break;
        case S_Q0: bad = cli_parse_double(optarg, &o->q0) || !(o->q0 > 0) || !isfinite(o->q0); break;
        case S_C0: bad = cli_parse_double(optarg, &o->c0) || !(o->c0 >= -1 && o->c0 < 1); break;
        case S_DEPTH: bad = cli_parse_size(optarg, 1, 100000, &o->depth); break;
        case S_WIDTH: bad = cli_parse_size(optarg, 2, (size_t)1 << 40, &o->width); break;
        case S_SIMULATE: o->simulate = 1; break;
        case S_NETS: bad = cli_parse_size(optarg, 1, 10000, &o->nets); break;
        case S_SEED: bad = cli_parse_ulong(optarg, &o->seed); break;
        case S_PHASE: o->phase = 1; break;
        case S_JACOBIAN: o->jacobian = 1; break;
        case S_INIT: {
            int v;
            if (tdl_name_lookup(tdl_signal_init_names, "init", optarg, &v) != TDL_OK) {
                char list[128];
                return cli_usage("signal", "--init %s: expected %s", optarg,
                                 cli_name_choices(tdl_signal_init_names, list, sizeof list));
            }
            o->init = (tdl_signal_init)v;
            break;
        }
        case S_MAPS: o->maps = 1; break;
        case S_NUMERIC: cfg->force_numeric = 1; break;
        case S_QUAD: bad = cli_parse_size(optarg, 2, 64, &o->quad); break;
        case S_JSON: o->as_json = 1; break;
        case S_PLOT: o->plot = optarg; break;
        case S_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        case S_QUIET: o->quiet = 1; break;
        default: return cli_bad_option("signal", argv, optopt);
        }
        if (bad) return cli_usage("signal", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("signal", "unexpected argument '%s'", argv[optind]);
    if (o->plot) {
        const char *ext = strrchr(o->plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("signal", "--plot %s: the figure must end in .png, .svg or .pdf", o->plot);
    }
    if (o->nets > 1 && !o->simulate) return cli_usage("signal", "--nets belongs to --simulate");
    cfg->quad = o->quad;
    return 0;
}

/* ---- run ---------------------------------------------------------------- */

static void signal_result_free(signal_result *r)
{
    double *arrays[] = {r->qi, r->ci, r->mq, r->mqn, r->mc, r->mcn, r->qsum, r->csum, r->chisum,
                        r->sv, r->pd_sw, r->pd_sb, r->pd_chi, r->crit};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) free(arrays[i]);
}

/* The length and correlation maps on a grid (--maps). */
static int signal_maps(const signal_opts *o, signal_result *r)
{
    const tdl_signal_stats *s = &r->s;
    int st;
    r->mq = malloc(MAP_N * sizeof(double)); r->mqn = malloc(MAP_N * sizeof(double));
    r->mc = malloc(MAP_N * sizeof(double)); r->mcn = malloc(MAP_N * sizeof(double));
    if (!r->mq || !r->mqn || !r->mc || !r->mcn) return cli_failf("out of memory");
    double qmax = fmax(2 * (s->q_bounded ? s->q_star : o->q0), 2 * o->q0);
    double qref = s->q_bounded && s->q_star > 0 ? s->q_star : o->q0;
    for (size_t i = 0; i < MAP_N; i++) {
        r->mq[i] = qmax * (double)i / (double)(MAP_N - 1);
        r->mc[i] = -1 + 2 * (double)i / (double)(MAP_N - 1);
        if ((st = tdl_signal_qmap(&o->cfg, r->mq[i], &r->mqn[i])) != TDL_OK) return signal_fail(st);
        if ((st = tdl_signal_cmap(&o->cfg, qref, r->mc[i], &r->mcn[i])) != TDL_OK) return signal_fail(st);
    }
    return 0;
}

/* --nets finite random nets, averaged layer by layer (--simulate). */
static int signal_simulate(const signal_opts *o, const tdl_signal_config *lcfg, int progress, signal_result *r)
{
    size_t depth = o->depth;
    int rc = 0;
    double *qs = malloc((depth + 1) * sizeof(double)), *cs = malloc((depth + 1) * sizeof(double));
    double *chs = malloc((depth + 1) * sizeof(double));
    r->qsum = calloc(depth + 1, sizeof(double)); r->csum = calloc(depth + 1, sizeof(double));
    r->chisum = calloc(depth + 1, sizeof(double));
    if (!qs || !cs || !chs || !r->qsum || !r->csum || !r->chisum) {
        rc = cli_failf("out of memory for %zu layers", depth);
        goto done;
    }
    for (size_t k = 0; k < o->nets; k++) {
        int st = tdl_signal_simulate(lcfg, o->init, o->width, depth, o->q0, o->c0, o->seed + k, qs, cs, chs);
        if (st != TDL_OK) {
            if (progress) fputc('\n', stderr);
            rc = signal_fail(st);
            goto done;
        }
        for (size_t l = 0; l <= depth; l++) {
            r->qsum[l] += qs[l] / (double)o->nets;
            r->csum[l] += cs[l] / (double)o->nets;
            r->chisum[l] += chs[l] / (double)o->nets;
        }
    }
    for (size_t l = 1; l <= depth; l++) r->chi_mean += r->chisum[l] / (double)depth;
done:
    free(qs);
    free(cs);
    free(chs);
    return rc;
}

/* chi_1 on the (sigma_w, sigma_b) grid and the edge of chaos per sigma_b. */
static int signal_phase(const signal_opts *o, signal_result *r)
{
    int st;
    r->pd_sw = malloc(PD_NW * sizeof(double)); r->pd_sb = malloc(PD_NB * sizeof(double));
    r->pd_chi = malloc(PD_NW * PD_NB * sizeof(double)); r->crit = malloc(PD_NB * sizeof(double));
    if (!r->pd_sw || !r->pd_sb || !r->pd_chi || !r->crit) return cli_failf("out of memory");
    for (size_t i = 0; i < PD_NW; i++) r->pd_sw[i] = 0.5 + 0.1 * (double)i;
    for (size_t j = 0; j < PD_NB; j++) r->pd_sb[j] = 0.05 * (double)j;
    if ((st = tdl_signal_phase_diagram(&o->cfg, r->pd_sw, PD_NW, r->pd_sb, PD_NB, r->pd_chi)) != TDL_OK) return signal_fail(st);
    for (size_t j = 0; j < PD_NB; j++) {
        tdl_signal_config cj = o->cfg;
        cj.sigma_b = r->pd_sb[j];
        if (tdl_signal_critical_sigma_w(&cj, 0.05, 4.0, &r->crit[j]) != TDL_OK) r->crit[j] = NAN;
    }
    return 0;
}

/* Library calls only (and the progress line): 0, or the exit code after
 * the error was printed. */
static int signal_run(const signal_opts *o, signal_result *r)
{
    const tdl_signal_config *cfg = &o->cfg;
    size_t depth = o->depth;
    int st, rc;
    /* refuse too-large nets before allocating anything */
    if ((o->simulate || o->jacobian) && (st = tdl_signal_memory_check(o->width, o->jacobian, 0)) != TDL_OK) return cli_fail(st);
    r->sv_mean = r->sv_var = NAN;
    tdl_act_format(&cfg->act, r->actname, sizeof r->actname);
    if ((st = tdl_signal_analyze(cfg, o->q0, 0.0, 0, &r->s)) != TDL_OK) return signal_fail(st);
    r->qi = malloc((depth + 1) * sizeof(double));
    r->ci = malloc((depth + 1) * sizeof(double));
    if (!r->qi || !r->ci) return cli_failf("out of memory for %zu layers", depth);
    /* progress only for the layer loops, not the phase diagram's fixed points */
    tdl_signal_config lcfg = *cfg;
    int progress = !o->quiet && isatty(2);
    if (progress) lcfg.progress = on_layer;
    st = tdl_signal_iterate(&lcfg, o->q0, o->c0, depth, r->qi, r->ci);
    if (st != TDL_OK) { if (progress) fputc('\n', stderr); return signal_fail(st); }
    if (o->maps && (rc = signal_maps(o, r)) != 0) return rc;
    if (o->simulate && (rc = signal_simulate(o, &lcfg, progress, r)) != 0) return rc;
    if (o->jacobian) {
        size_t width = o->width;
        r->sv = malloc(width * sizeof(double));
        if (!r->sv) return cli_failf("out of memory");
        double qin = r->s.q_bounded ? r->s.q_star : o->q0;
        if ((st = tdl_signal_jacobian_sv(&lcfg, o->init, width, depth, qin, o->seed, r->sv)) != TDL_OK) {
            if (progress) fputc('\n', stderr);
            return signal_fail(st);
        }
        double m = 0, v = 0;
        for (size_t i = 0; i < width; i++) m += r->sv[i] * r->sv[i] / (double)width;
        for (size_t i = 0; i < width; i++) v += (r->sv[i] * r->sv[i] - m) * (r->sv[i] * r->sv[i] - m) / (double)width;
        r->sv_mean = m;
        r->sv_var = v;
    }
    if (progress) fputc('\n', stderr);
    if (o->phase && (rc = signal_phase(o, r)) != 0) return rc;
    return 0;
}

/* ---- emit --------------------------------------------------------------- */

static const char *init_name(tdl_signal_init init) { return tdl_name_of(tdl_signal_init_names, (int)init); }

/* The Jacobian spectrum, the phase diagram's edge of chaos, or the
 * iterates (mean field and finite nets), by what was asked. */
static int signal_plot(const signal_opts *o, const signal_result *r)
{
    const tdl_signal_config *cfg = &o->cfg;
    size_t depth = o->depth, width = o->width;
    plot_spec ps;
    memset(&ps, 0, sizeof ps);
    plot_series ser[4];
    size_t ns = 0;
    char cap[320], title[160];
    double *xl = malloc((depth + 1) * sizeof(double));
    if (!xl) return cli_failf("out of memory");
    for (size_t l = 0; l <= depth; l++) xl[l] = (double)l;
    size_t cnt = 0;
    double *rank = NULL, *cx = NULL, *cy = NULL;
    if (o->jacobian) {
        rank = malloc(width * sizeof(double));
        if (!rank) { free(xl); return cli_failf("out of memory"); }
        for (size_t i = 0; i < width; i++) rank[i] = (double)(i + 1) / (double)width;
        ser[ns++] = (plot_series){"singular values of J", rank, r->sv, width, PLOT_LINES};
        snprintf(title, sizeof title, "Input-output Jacobian spectrum (%s init)", o->init == TDL_SIGNAL_ORTHOGONAL ? "orthogonal" : "Gaussian");
        ps = (plot_spec){title, "rank / N", "singular value", cap, 0, plot_spans_decades(r->sv, width, 2), 0, ser, ns};
    } else if (o->phase) {
        cx = malloc(PD_NB * sizeof(double));
        cy = malloc(PD_NB * sizeof(double));
        if (!cx || !cy) { free(xl); free(cx); free(cy); return cli_failf("out of memory"); }
        for (size_t j = 0; j < PD_NB; j++)
            if (isfinite(r->crit[j])) { cx[cnt] = r->crit[j]; cy[cnt] = r->pd_sb[j]; cnt++; }
        ser[ns++] = (plot_series){"edge of chaos (chi_1 = 1)", cx, cy, cnt, PLOT_LINESPOINTS};
        snprintf(title, sizeof title, "Order-to-chaos phase diagram (%s): ordered left, chaotic right", r->actname);
        ps = (plot_spec){title, "sigma_w", "sigma_b", cap, 0, 0, 0, ser, ns};
    } else {
        ser[ns++] = (plot_series){"c^l mean field", xl, r->ci, depth + 1, PLOT_LINES};
        if (o->simulate) ser[ns++] = (plot_series){"c^l finite nets", xl, r->csum, depth + 1, PLOT_POINTS};
        ser[ns++] = (plot_series){"q^l mean field", xl, r->qi, depth + 1, PLOT_LINES};
        if (o->simulate) ser[ns++] = (plot_series){"q^l finite nets", xl, r->qsum, depth + 1, PLOT_POINTS};
        snprintf(title, sizeof title, "Signal propagation: %s, sigma_w = %g, sigma_b = %g", r->actname, cfg->sigma_w, cfg->sigma_b);
        ps = (plot_spec){title, "layer l", "q^l, c^l", cap, 0, 0, 0, ser, ns};
    }
    snprintf(cap, sizeof cap, "no data; mean-field maps (%s)%s; %s, sigma_w = %g, sigma_b = %g; seed %lu",
             cfg->force_numeric ? "quadrature" : "closed form where available", o->simulate || o->jacobian ? "; finite random nets" : "",
             r->actname, cfg->sigma_w, cfg->sigma_b, o->seed);
    int st = plot_render(o->plot, &ps);
    free(xl);
    free(rank);
    free(cx);
    free(cy);
    return st != TDL_OK ? cli_fail(st) : 0;
}

static int signal_emit_json(const signal_opts *o, const signal_result *r, const char *phase_name)
{
    const tdl_signal_config *cfg = &o->cfg;
    const tdl_signal_stats *s = &r->s;
    size_t depth = o->depth, width = o->width;
    json_writer w;
    if (json_open(&w) != 0) return cli_failf("out of memory");
    json_object_begin(&w, NULL);
    json_string(&w, "activation", r->actname);
    json_number(&w, "sigma_w", cfg->sigma_w);
    json_number(&w, "sigma_b", cfg->sigma_b);
    json_string(&w, "convention", "W ~ N(0, sigma_w^2/N), b ~ N(0, sigma_b^2); q = (1/N)|h|^2 of pre-activations (Poole et al. 2016)");
    json_string(&w, "method", cfg->force_numeric ? "quadrature" : "closed form where available, else quadrature");
    json_number(&w, "q0", o->q0);
    json_num_or_null(&w, "q_star", s->q_star, "q^l grows without bound: no finite fixed point");
    json_size(&w, "q_iterations", s->q_iterations);
    json_string(&w, "phase", phase_name);
    json_num_or_null(&w, "chi1", s->chi1, "no finite q*");
    json_num_or_null(&w, "chi_q", s->chi_q, "no finite q*");
    json_num_or_null(&w, "chi_c", s->chi_c, "no finite q*");
    json_num_or_null(&w, "c_star", s->c_star, "no finite q*");
    json_num_or_null(&w, "xi_q", s->xi_q, s->q_bounded ? "chi_q = 1: the depth scale diverges" : "no finite q*");
    json_num_or_null(&w, "xi_c", s->xi_c, s->q_bounded ? "chi_c = 1: the depth scale diverges (edge of chaos)" : "no finite q*");
    json_size(&w, "depth", depth);
    json_number(&w, "c0", o->c0);
    if (o->maps) {
        json_object_begin(&w, "maps");
        json_number_array(&w, "q", r->mq, MAP_N, 1);
        json_number_array(&w, "q_next", r->mqn, MAP_N, 1);
        json_number(&w, "c_map_q", s->q_bounded && s->q_star > 0 ? s->q_star : o->q0);
        json_number_array(&w, "c", r->mc, MAP_N, 1);
        json_number_array(&w, "c_next", r->mcn, MAP_N, 1);
        json_number_array(&w, "q_iterates", r->qi, depth + 1, 1);
        json_number_array(&w, "c_iterates", r->ci, depth + 1, 1);
        json_object_end(&w);
    }
    if (o->simulate) {
        json_object_begin(&w, "simulation");
        json_size(&w, "width", width);
        json_size(&w, "nets", o->nets);
        json_string(&w, "init", init_name(o->init));
        json_number_array(&w, "q", r->qsum, depth + 1, 1);
        json_number_array(&w, "c", r->csum, depth + 1, 1);
        json_number_array(&w, "chi1", r->chisum + 1, depth, 1);
        json_number_array(&w, "q_mean_field", r->qi, depth + 1, 1);
        json_number_array(&w, "c_mean_field", r->ci, depth + 1, 1);
        json_object_end(&w);
    }
    if (o->jacobian) {
        json_object_begin(&w, "jacobian");
        json_size(&w, "width", width);
        json_string(&w, "init", init_name(o->init));
        json_number(&w, "q_in", s->q_bounded ? s->q_star : o->q0);
        json_number_array(&w, "singular_values", r->sv, width, 1);
        json_number(&w, "mean_s2", r->sv_mean);
        json_number(&w, "var_s2", r->sv_var);
        json_number(&w, "max", r->sv[0]);
        json_number(&w, "min", r->sv[width - 1]);
        json_object_end(&w);
    }
    if (o->phase) {
        json_object_begin(&w, "phase_diagram");
        json_number_array(&w, "sigma_w", r->pd_sw, PD_NW, 1);
        json_number_array(&w, "sigma_b", r->pd_sb, PD_NB, 1);
        json_array_begin(&w, "chi1");
        for (size_t i = 0; i < PD_NW; i++) {
            json_array_begin(&w, NULL);
            for (size_t j = 0; j < PD_NB; j++) {
                double v = r->pd_chi[i * PD_NB + j];
                if (isfinite(v)) json_number(&w, NULL, v);
                else json_null(&w, NULL);
            }
            json_array_end(&w);
        }
        json_array_end(&w);
        json_string(&w, "chi1_layout", "chi1[i][j] at sigma_w[i], sigma_b[j]; null where q* is unbounded");
        json_string(&w, "chi1_reason", "null where q* is unbounded (no fixed point): chi1 undefined");
        json_array_begin(&w, "critical_sigma_w");
        for (size_t j = 0; j < PD_NB; j++) {
            if (isfinite(r->crit[j])) json_number(&w, NULL, r->crit[j]);
            else json_null(&w, NULL);
        }
        json_array_end(&w);
        json_string(&w, "critical_sigma_w_reason", "null where no order-to-chaos transition (chi1 = 1) lies in sigma_w in [0.05, 4]");
        json_object_end(&w);
    }
    json_object_end(&w);
    json_flush_stdout(&w);
    return 0;
}

static void signal_emit_text(const signal_opts *o, const signal_result *r, const char *phase_name)
{
    const tdl_signal_config *cfg = &o->cfg;
    const tdl_signal_stats *s = &r->s;
    size_t depth = o->depth, width = o->width;
    printf("activation   %s, sigma_w = %g, sigma_b = %g (W ~ N(0, sigma_w^2/N))\n", r->actname, cfg->sigma_w, cfg->sigma_b);
    if (s->q_bounded) printf("q*           %.10g (from q0 = %g, %zu iterations)\n", s->q_star, o->q0, s->q_iterations);
    else printf("q*           none: q^l grows without bound\n");
    if (s->q_bounded) {
        printf("chi_1        %.10g  (%s)\n", s->chi1, phase_name);
        printf("c*           %.10g\n", s->c_star);
        printf("chi_q        %.10g   xi_q = %.6g layers\n", s->chi_q, s->xi_q);
        printf("chi_c        %.10g   xi_c = %.6g layers\n", s->chi_c, s->xi_c);
    }
    printf("mean field   q^%zu = %.6g, c^%zu = %.6g (from q0 = %g, c0 = %g)\n", depth, r->qi[depth], depth, r->ci[depth], o->q0, o->c0);
    if (o->simulate)
        printf("finite nets  q^%zu = %.6g, c^%zu = %.6g, mean chi_1 over layers = %.6g (%zu net%s of width %zu)\n", depth,
               r->qsum[depth], depth, r->csum[depth], r->chi_mean, o->nets, o->nets > 1 ? "s" : "", width);
    if (o->jacobian)
        printf("jacobian     %s, width %zu, depth %zu: s_max = %.6g, s_min = %.6g, mean s^2 = %.6g, var s^2 = %.6g\n",
               init_name(o->init), width, depth, r->sv[0], r->sv[width - 1], r->sv_mean, r->sv_var);
    if (o->phase) {
        printf("edge of chaos (chi_1 = 1):\n  sigma_b   sigma_w\n");
        for (size_t j = 0; j < PD_NB; j++) printf("  %-8.3g  %.8g\n", r->pd_sb[j], r->crit[j]);
    }
}

/* The figure, then JSON or text: 0 or an exit code. */
static int signal_emit(const signal_opts *o, const signal_result *r)
{
    int rc;
    if (o->plot && (rc = signal_plot(o, r)) != 0) return rc;
    const tdl_signal_stats *s = &r->s;
    const char *phase_name = !s->q_bounded ? "unbounded" : s->phase < 0 ? "ordered" : s->phase > 0 ? "chaotic" : "critical";
    if (o->as_json) return signal_emit_json(o, r, phase_name);
    signal_emit_text(o, r, phase_name);
    return 0;
}

int cmd_signal(int argc, char **argv)
{
    signal_opts o;
    int rc = signal_parse(argc, argv, &o);
    if (rc != 0) return rc;
    cli_set_threads(o.threads);
    signal_result r;
    memset(&r, 0, sizeof r);
    rc = signal_run(&o, &r);
    if (rc == 0) rc = signal_emit(&o, &r);
    signal_result_free(&r);
    return rc;
}
