/* cmd_signal.c — `tdl signal`: mean-field signal propagation (length and
 * correlation maps, q*, chi_1, depth scales), finite deep random nets, the
 * order-to-chaos phase diagram and Jacobian spectra (tdl/signal.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "plot.h"
#include "internal.h"
#include "tdl/signal.h"

enum {
    S_ACT = 3000, S_SW, S_SB, S_Q0, S_C0, S_DEPTH, S_WIDTH, S_SIMULATE, S_NETS, S_SEED, S_PHASE, S_JACOBIAN,
    S_INIT, S_MAPS, S_NUMERIC, S_QUAD, S_JSON, S_PLOT, S_THREADS, S_QUIET
};

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

int cmd_signal(int argc, char **argv)
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
    tdl_signal_config cfg;
    tdl_signal_config_default(&cfg);
    double q0 = 1.0, c0 = 0.5;
    size_t depth = 50, width = 1000, nets = 1, threads = 0, quad = 0;
    unsigned long seed = 0;
    int simulate = 0, phase = 0, jacobian = 0, maps = 0, as_json = 0, quiet = 0;
    tdl_signal_init init = TDL_SIGNAL_GAUSSIAN;
    const char *plot = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "", opts, "signal")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        int bad = 0;
        switch (c) {
        case S_ACT:
            if (tdl_act_parse(optarg, &cfg.act) != TDL_OK) return cli_usage("signal", "--act %s: %s", optarg, tdl_errmsg());
            break;
        case S_SW: bad = cli_parse_double(optarg, &cfg.sigma_w) || !(cfg.sigma_w >= 0) || !isfinite(cfg.sigma_w); break;
        case S_SB: bad = cli_parse_double(optarg, &cfg.sigma_b) || !(cfg.sigma_b >= 0) || !isfinite(cfg.sigma_b); break;
        case S_Q0: bad = cli_parse_double(optarg, &q0) || !(q0 > 0) || !isfinite(q0); break;
        case S_C0: bad = cli_parse_double(optarg, &c0) || !(c0 >= -1 && c0 < 1); break;
        case S_DEPTH: bad = cli_parse_size(optarg, 1, 100000, &depth); break;
        case S_WIDTH: bad = cli_parse_size(optarg, 2, (size_t)1 << 40, &width); break;
        case S_SIMULATE: simulate = 1; break;
        case S_NETS: bad = cli_parse_size(optarg, 1, 10000, &nets); break;
        case S_SEED: bad = cli_parse_ulong(optarg, &seed); break;
        case S_PHASE: phase = 1; break;
        case S_JACOBIAN: jacobian = 1; break;
        case S_INIT:
            if (!strcmp(optarg, "gaussian")) init = TDL_SIGNAL_GAUSSIAN;
            else if (!strcmp(optarg, "orthogonal")) init = TDL_SIGNAL_ORTHOGONAL;
            else return cli_usage("signal", "--init %s: expected gaussian or orthogonal", optarg);
            break;
        case S_MAPS: maps = 1; break;
        case S_NUMERIC: cfg.force_numeric = 1; break;
        case S_QUAD: bad = cli_parse_size(optarg, 2, 64, &quad); break;
        case S_JSON: as_json = 1; break;
        case S_PLOT: plot = optarg; break;
        case S_THREADS: bad = cli_parse_size(optarg, 1, 1024, &threads); break;
        case S_QUIET: quiet = 1; break;
        default: return cli_bad_option("signal", argv, optopt);
        }
        if (bad) return cli_usage("signal", "bad value '%s' for %s", optarg, cli_option_name(opts, c));
    }
    if (optind < argc) return cli_usage("signal", "unexpected argument '%s'", argv[optind]);
    if (plot) {
        const char *ext = strrchr(plot, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg") && strcmp(ext, ".pdf")))
            return cli_usage("signal", "--plot %s: the figure must end in .png, .svg or .pdf", plot);
    }
    if (nets > 1 && !simulate) return cli_usage("signal", "--nets belongs to --simulate");
    cfg.quad = quad;
    cli_set_threads(threads);
    int st;
    /* refuse too-large nets before allocating anything */
    if ((simulate || jacobian) && (st = tdl_signal_memory_check(width, jacobian, 0)) != TDL_OK) return cli_fail(st);

    int rc = EXIT_WORK_FAILED;
    double *qi = NULL, *ci = NULL, *qs = NULL, *cs = NULL, *chs = NULL, *qsum = NULL, *csum = NULL, *chisum = NULL;
    double *sv = NULL, *pd_sw = NULL, *pd_sb = NULL, *pd_chi = NULL, *crit = NULL;
    double *mq = NULL, *mqn = NULL, *mc = NULL, *mcn = NULL;
    const size_t pd_nw = 36, pd_nb = 11, map_n = 41;
    char actname[64];
    tdl_act_format(&cfg.act, actname, sizeof actname);
    tdl_signal_stats s;
    if ((st = tdl_signal_analyze(&cfg, q0, 0.0, 0, &s)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    qi = malloc((depth + 1) * sizeof(double));
    ci = malloc((depth + 1) * sizeof(double));
    if (!qi || !ci) { rc = cli_failf("out of memory for %zu layers", depth); goto cleanup; }
    /* progress only for the layer loops, not the phase diagram's fixed points */
    tdl_signal_config lcfg = cfg;
    int progress = !quiet && isatty(2);
    if (progress) lcfg.progress = on_layer;
    st = tdl_signal_iterate(&lcfg, q0, c0, depth, qi, ci);
    if (st != TDL_OK) { if (progress) fputc('\n', stderr); rc = cli_fail(st); goto cleanup; }
    if (maps) {
        mq = malloc(map_n * sizeof(double)); mqn = malloc(map_n * sizeof(double));
        mc = malloc(map_n * sizeof(double)); mcn = malloc(map_n * sizeof(double));
        if (!mq || !mqn || !mc || !mcn) { rc = cli_failf("out of memory"); goto cleanup; }
        double qmax = fmax(2 * (s.q_bounded ? s.q_star : q0), 2 * q0);
        double qref = s.q_bounded && s.q_star > 0 ? s.q_star : q0;
        for (size_t i = 0; i < map_n; i++) {
            mq[i] = qmax * (double)i / (double)(map_n - 1);
            mc[i] = -1 + 2 * (double)i / (double)(map_n - 1);
            if ((st = tdl_signal_qmap(&cfg, mq[i], &mqn[i])) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
            if ((st = tdl_signal_cmap(&cfg, qref, mc[i], &mcn[i])) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
        }
    }
    if (simulate) {
        qs = malloc((depth + 1) * sizeof(double)); cs = malloc((depth + 1) * sizeof(double));
        chs = malloc((depth + 1) * sizeof(double));
        qsum = calloc(depth + 1, sizeof(double)); csum = calloc(depth + 1, sizeof(double));
        chisum = calloc(depth + 1, sizeof(double));
        if (!qs || !cs || !chs || !qsum || !csum || !chisum) { rc = cli_failf("out of memory for %zu layers", depth); goto cleanup; }
        for (size_t r = 0; r < nets; r++) {
            if ((st = tdl_signal_simulate(&lcfg, init, width, depth, q0, c0, seed + r, qs, cs, chs)) != TDL_OK) {
                if (progress) fputc('\n', stderr);
                rc = cli_fail(st);
                goto cleanup;
            }
            for (size_t l = 0; l <= depth; l++) {
                qsum[l] += qs[l] / (double)nets;
                csum[l] += cs[l] / (double)nets;
                chisum[l] += chs[l] / (double)nets;
            }
        }
    }
    double sv_mean = NAN, sv_var = NAN;
    if (jacobian) {
        sv = malloc(width * sizeof(double));
        if (!sv) { rc = cli_failf("out of memory"); goto cleanup; }
        double qin = s.q_bounded ? s.q_star : q0;
        if ((st = tdl_signal_jacobian_sv(&lcfg, init, width, depth, qin, seed, sv)) != TDL_OK) {
            if (progress) fputc('\n', stderr);
            rc = cli_fail(st);
            goto cleanup;
        }
        double m = 0, v = 0;
        for (size_t i = 0; i < width; i++) m += sv[i] * sv[i] / (double)width;
        for (size_t i = 0; i < width; i++) v += (sv[i] * sv[i] - m) * (sv[i] * sv[i] - m) / (double)width;
        sv_mean = m;
        sv_var = v;
    }
    if (progress) fputc('\n', stderr);
    if (phase) {
        pd_sw = malloc(pd_nw * sizeof(double)); pd_sb = malloc(pd_nb * sizeof(double));
        pd_chi = malloc(pd_nw * pd_nb * sizeof(double)); crit = malloc(pd_nb * sizeof(double));
        if (!pd_sw || !pd_sb || !pd_chi || !crit) { rc = cli_failf("out of memory"); goto cleanup; }
        for (size_t i = 0; i < pd_nw; i++) pd_sw[i] = 0.5 + 0.1 * (double)i;
        for (size_t j = 0; j < pd_nb; j++) pd_sb[j] = 0.05 * (double)j;
        if ((st = tdl_signal_phase_diagram(&cfg, pd_sw, pd_nw, pd_sb, pd_nb, pd_chi)) != TDL_OK) { rc = cli_fail(st); goto cleanup; }
        for (size_t j = 0; j < pd_nb; j++) {
            tdl_signal_config cj = cfg;
            cj.sigma_b = pd_sb[j];
            if (tdl_signal_critical_sigma_w(&cj, 0.05, 4.0, &crit[j]) != TDL_OK) crit[j] = NAN;
        }
    }
    if (plot) {
        plot_spec ps;
        memset(&ps, 0, sizeof ps);
        plot_series ser[4];
        size_t ns = 0;
        char cap[320], title[160];
        double *xl = malloc((depth + 1) * sizeof(double));
        if (!xl) { rc = cli_failf("out of memory"); goto cleanup; }
        for (size_t l = 0; l <= depth; l++) xl[l] = (double)l;
        size_t cnt = 0;
        double *rank = NULL, *cx = NULL, *cy = NULL;
        if (jacobian) {
            rank = malloc(width * sizeof(double));
            if (!rank) { free(xl); rc = cli_failf("out of memory"); goto cleanup; }
            for (size_t i = 0; i < width; i++) rank[i] = (double)(i + 1) / (double)width;
            ser[ns++] = (plot_series){"singular values of J", rank, sv, width, PLOT_LINES};
            snprintf(title, sizeof title, "Input-output Jacobian spectrum (%s init)", init == TDL_SIGNAL_ORTHOGONAL ? "orthogonal" : "Gaussian");
            ps = (plot_spec){title, "rank / N", "singular value", cap, 0, plot_spans_decades(sv, width, 2), 0, ser, ns};
        } else if (phase) {
            cx = malloc(pd_nb * sizeof(double));
            cy = malloc(pd_nb * sizeof(double));
            if (!cx || !cy) { free(xl); free(cx); free(cy); rc = cli_failf("out of memory"); goto cleanup; }
            for (size_t j = 0; j < pd_nb; j++)
                if (isfinite(crit[j])) { cx[cnt] = crit[j]; cy[cnt] = pd_sb[j]; cnt++; }
            ser[ns++] = (plot_series){"edge of chaos (chi_1 = 1)", cx, cy, cnt, PLOT_LINESPOINTS};
            snprintf(title, sizeof title, "Order-to-chaos phase diagram (%s): ordered left, chaotic right", actname);
            ps = (plot_spec){title, "sigma_w", "sigma_b", cap, 0, 0, 0, ser, ns};
        } else {
            ser[ns++] = (plot_series){"c^l mean field", xl, ci, depth + 1, PLOT_LINES};
            if (simulate) ser[ns++] = (plot_series){"c^l finite nets", xl, csum, depth + 1, PLOT_POINTS};
            ser[ns++] = (plot_series){"q^l mean field", xl, qi, depth + 1, PLOT_LINES};
            if (simulate) ser[ns++] = (plot_series){"q^l finite nets", xl, qsum, depth + 1, PLOT_POINTS};
            snprintf(title, sizeof title, "Signal propagation: %s, sigma_w = %g, sigma_b = %g", actname, cfg.sigma_w, cfg.sigma_b);
            ps = (plot_spec){title, "layer l", "q^l, c^l", cap, 0, 0, 0, ser, ns};
        }
        snprintf(cap, sizeof cap, "no data; mean-field maps (%s)%s; %s, sigma_w = %g, sigma_b = %g; seed %lu",
                 cfg.force_numeric ? "quadrature" : "closed form where available", simulate || jacobian ? "; finite random nets" : "",
                 actname, cfg.sigma_w, cfg.sigma_b, seed);
        st = plot_render(plot, &ps);
        free(xl);
        free(rank);
        free(cx);
        free(cy);
        if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    }
    double chi_mean = 0;
    if (simulate)
        for (size_t l = 1; l <= depth; l++) chi_mean += chisum[l] / (double)depth;
    const char *phase_name = !s.q_bounded ? "unbounded" : s.phase < 0 ? "ordered" : s.phase > 0 ? "chaotic" : "critical";
    if (as_json) {
        json_writer w;
        if (json_open(&w) != 0) { rc = cli_failf("out of memory"); goto cleanup; }
        json_object_begin(&w, NULL);
        json_string(&w, "activation", actname);
        json_number(&w, "sigma_w", cfg.sigma_w);
        json_number(&w, "sigma_b", cfg.sigma_b);
        json_string(&w, "convention", "W ~ N(0, sigma_w^2/N), b ~ N(0, sigma_b^2); q = (1/N)|h|^2 of pre-activations (Poole et al. 2016)");
        json_string(&w, "method", cfg.force_numeric ? "quadrature" : "closed form where available, else quadrature");
        json_number(&w, "q0", q0);
        json_num_or_null(&w, "q_star", s.q_star, "q^l grows without bound: no finite fixed point");
        json_size(&w, "q_iterations", s.q_iterations);
        json_string(&w, "phase", phase_name);
        json_num_or_null(&w, "chi1", s.chi1, "no finite q*");
        json_num_or_null(&w, "chi_q", s.chi_q, "no finite q*");
        json_num_or_null(&w, "chi_c", s.chi_c, "no finite q*");
        json_num_or_null(&w, "c_star", s.c_star, "no finite q*");
        json_num_or_null(&w, "xi_q", s.xi_q, s.q_bounded ? "chi_q = 1: the depth scale diverges" : "no finite q*");
        json_num_or_null(&w, "xi_c", s.xi_c, s.q_bounded ? "chi_c = 1: the depth scale diverges (edge of chaos)" : "no finite q*");
        json_size(&w, "depth", depth);
        json_number(&w, "c0", c0);
        if (maps) {
            json_object_begin(&w, "maps");
            json_number_array(&w, "q", mq, map_n, 1);
            json_number_array(&w, "q_next", mqn, map_n, 1);
            json_number(&w, "c_map_q", s.q_bounded && s.q_star > 0 ? s.q_star : q0);
            json_number_array(&w, "c", mc, map_n, 1);
            json_number_array(&w, "c_next", mcn, map_n, 1);
            json_number_array(&w, "q_iterates", qi, depth + 1, 1);
            json_number_array(&w, "c_iterates", ci, depth + 1, 1);
            json_object_end(&w);
        }
        if (simulate) {
            json_object_begin(&w, "simulation");
            json_size(&w, "width", width);
            json_size(&w, "nets", nets);
            json_string(&w, "init", init == TDL_SIGNAL_ORTHOGONAL ? "orthogonal" : "gaussian");
            json_number_array(&w, "q", qsum, depth + 1, 1);
            json_number_array(&w, "c", csum, depth + 1, 1);
            json_number_array(&w, "chi1", chisum + 1, depth, 1);
            json_number_array(&w, "q_mean_field", qi, depth + 1, 1);
            json_number_array(&w, "c_mean_field", ci, depth + 1, 1);
            json_object_end(&w);
        }
        if (jacobian) {
            json_object_begin(&w, "jacobian");
            json_size(&w, "width", width);
            json_string(&w, "init", init == TDL_SIGNAL_ORTHOGONAL ? "orthogonal" : "gaussian");
            json_number(&w, "q_in", s.q_bounded ? s.q_star : q0);
            json_number_array(&w, "singular_values", sv, width, 1);
            json_number(&w, "mean_s2", sv_mean);
            json_number(&w, "var_s2", sv_var);
            json_number(&w, "max", sv[0]);
            json_number(&w, "min", sv[width - 1]);
            json_object_end(&w);
        }
        if (phase) {
            json_object_begin(&w, "phase_diagram");
            json_number_array(&w, "sigma_w", pd_sw, pd_nw, 1);
            json_number_array(&w, "sigma_b", pd_sb, pd_nb, 1);
            json_array_begin(&w, "chi1");
            for (size_t i = 0; i < pd_nw; i++) {
                json_array_begin(&w, NULL);
                for (size_t j = 0; j < pd_nb; j++) {
                    double v = pd_chi[i * pd_nb + j];
                    if (isfinite(v)) json_number(&w, NULL, v);
                    else json_null(&w, NULL);
                }
                json_array_end(&w);
            }
            json_array_end(&w);
            json_string(&w, "chi1_layout", "chi1[i][j] at sigma_w[i], sigma_b[j]; null where q* is unbounded");
            json_string(&w, "chi1_reason", "null where q* is unbounded (no fixed point): chi1 undefined");
            json_array_begin(&w, "critical_sigma_w");
            for (size_t j = 0; j < pd_nb; j++) {
                if (isfinite(crit[j])) json_number(&w, NULL, crit[j]);
                else json_null(&w, NULL);
            }
            json_array_end(&w);
            json_string(&w, "critical_sigma_w_reason", "null where no order-to-chaos transition (chi1 = 1) lies in sigma_w in [0.05, 4]");
            json_object_end(&w);
        }
        json_object_end(&w);
        json_flush_stdout(&w);
    } else {
        printf("activation   %s, sigma_w = %g, sigma_b = %g (W ~ N(0, sigma_w^2/N))\n", actname, cfg.sigma_w, cfg.sigma_b);
        if (s.q_bounded) printf("q*           %.10g (from q0 = %g, %zu iterations)\n", s.q_star, q0, s.q_iterations);
        else printf("q*           none: q^l grows without bound\n");
        if (s.q_bounded) {
            printf("chi_1        %.10g  (%s)\n", s.chi1, phase_name);
            printf("c*           %.10g\n", s.c_star);
            printf("chi_q        %.10g   xi_q = %.6g layers\n", s.chi_q, s.xi_q);
            printf("chi_c        %.10g   xi_c = %.6g layers\n", s.chi_c, s.xi_c);
        }
        printf("mean field   q^%zu = %.6g, c^%zu = %.6g (from q0 = %g, c0 = %g)\n", depth, qi[depth], depth, ci[depth], q0, c0);
        if (simulate)
            printf("finite nets  q^%zu = %.6g, c^%zu = %.6g, mean chi_1 over layers = %.6g (%zu net%s of width %zu)\n", depth,
                   qsum[depth], depth, csum[depth], chi_mean, nets, nets > 1 ? "s" : "", width);
        if (jacobian)
            printf("jacobian     %s, width %zu, depth %zu: s_max = %.6g, s_min = %.6g, mean s^2 = %.6g, var s^2 = %.6g\n",
                   init == TDL_SIGNAL_ORTHOGONAL ? "orthogonal" : "gaussian", width, depth, sv[0], sv[width - 1], sv_mean, sv_var);
        if (phase) {
            printf("edge of chaos (chi_1 = 1):\n  sigma_b   sigma_w\n");
            for (size_t j = 0; j < pd_nb; j++) printf("  %-8.3g  %.8g\n", pd_sb[j], crit[j]);
        }
    }
    rc = 0;
cleanup:
    free(qi); free(ci); free(qs); free(cs); free(chs); free(qsum); free(csum); free(chisum);
    free(sv); free(pd_sw); free(pd_sb); free(pd_chi); free(crit);
    free(mq); free(mqn); free(mc); free(mcn);
    return rc;
}
