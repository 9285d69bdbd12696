/* cmd_info.c — `tdl info`: describe a data set or a model file. */
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* Describe the data set of spec; with out, also write it there as an .npz
 * (tdl_dataset_save) that --data out reads back to the same numbers. */
static int info_data(const char *spec, const char *out, int as_json)
{
    tdl_dataset *ds = NULL;
    size_t *counts = NULL;
    json_writer w = {0};
    int st = tdl_dataset_load(spec, &ds);
    if (st != TDL_OK) return cli_fail(st);
    if (ds->warning) fprintf(stderr, "tdl: warning: %s\n", ds->warning);
    if (out && (st = tdl_dataset_save(ds, out)) != TDL_OK) {
        tdl_dataset_free(&ds);
        return cli_fail(st);
    }
    double lo = DBL_MAX, hi = -DBL_MAX;
    for (size_t i = 0; i < ds->n * ds->d; i++) {
        double v = ds->X->data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (ds->classes && (st = tdl_dataset_class_counts(ds, &counts)) != TDL_OK) {
        tdl_dataset_free(&ds);
        return cli_fail(st);
    }
    if (as_json) {
        if (json_open(&w) != 0) {
            tdl_dataset_free(&ds);
            free(counts);
            return cli_failf("out of memory");
        }
        json_object_begin(&w, NULL);
        json_string(&w, "spec", ds->spec);
        json_string(&w, "description", ds->description);
        json_size(&w, "n", ds->n);
        json_size(&w, "d", ds->d);
        json_string(&w, "task", ds->classes ? "classification" : "regression");
        json_size(&w, "classes", ds->classes);
        if (counts) json_size_array(&w, "class_counts", counts, ds->classes);
        else json_null_reason(&w, "class_counts", "regression targets: no classes");
        if (!ds->classes) json_size(&w, "targets", ds->Y->size2);
        if (ds->labels_pm1) json_string(&w, "labels", "-1/+1 read as classes 0/1");
        if (out) json_string(&w, "written", out);
        json_number(&w, "x_min", lo);
        json_number(&w, "x_max", hi);
        json_object_end(&w);
        json_flush_stdout(&w);
    } else {
        printf("data         %s\n", ds->spec);
        printf("source       %s\n", ds->description);
        printf("examples     %zu\n", ds->n);
        printf("features     %zu\n", ds->d);
        printf("input range  [%.6g, %.6g]\n", lo, hi);
        if (ds->classes) {
            printf("classes      %zu\n", ds->classes);
            printf("per class   ");
            for (size_t c = 0; c < ds->classes; c++) printf(" %zu", counts[c]);
            printf("\n");
            if (ds->labels_pm1) printf("labels       -1/+1 read as classes 0/1 (-1 -> 0, +1 -> 1)\n");
        } else {
            printf("task         regression, %zu target column%s\n", ds->Y->size2, ds->Y->size2 == 1 ? "" : "s");
        }
        if (out)
            printf("written      %s (X float64 %zu x %zu, y float64 %s, tdl_classes %zu)\n", out, ds->n, ds->d,
                   ds->classes ? "labels" : "targets", ds->classes);
    }
    free(counts);
    tdl_dataset_free(&ds);
    return 0;
}

static void shape_text(const tdl_tensor *t, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (size_t i = 0; i < t->ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%zu", i ? ", " : "", t->shape[i]);
    if (used < len) snprintf(buf + used, len - used, "]");
}

static int info_model(const char *path, const char *act_text, const char *layers, int as_json)
{
    tdl_tensors *set = NULL;
    tdl_mlp *m = NULL;
    tdl_mlp_layout lay;
    tdl_act act, *act_override = NULL;
    int st;
    if (act_text) {
        if ((st = tdl_act_parse(act_text, &act)) != TDL_OK) return cli_usage("info", "%s", tdl_errmsg());
        act_override = &act;
    }
    if ((st = tdl_tensors_read(path, &set)) != TDL_OK) return cli_fail(st);
    /* The tensor listing works for any file; the MLP reading may not. */
    st = tdl_mlp_from_tensors_ex(set, act_override, layers, &m);
    char mlp_error[1024] = "";
    if (st != TDL_OK) snprintf(mlp_error, sizeof mlp_error, "%s", tdl_errmsg());
    /* the layout needs no activation: shown whenever the layers chain */
    char layout_error[1024] = "";
    if (tdl_mlp_layout_find(set, layers, &lay) != TDL_OK) snprintf(layout_error, sizeof layout_error, "%s", tdl_errmsg());
    size_t stored = 0;
    for (size_t i = 0; i < set->count; i++)
        if (strncmp(set->items[i].name, "init.", 5) != 0) stored += set->items[i].numel;
    char arch[512] = "", actbuf[128] = "", shape[256];
    if (m) {
        tdl_arch_format(m, arch, sizeof arch);
        tdl_act_format(&m->act, actbuf, sizeof actbuf);
    }
    if (as_json) {
        json_writer w;
        if (json_open(&w) != 0) {
            tdl_tensors_free(&set);
            tdl_mlp_free(&m);
            return cli_failf("out of memory");
        }
        json_object_begin(&w, NULL);
        json_string(&w, "file", path);
        json_size(&w, "params", m ? m->n_params : stored);
        if (m) {
            json_string(&w, "arch", arch);
            json_size(&w, "depth", m->depth);
            if (m->depth > 1) json_string(&w, "activation", actbuf);
            else json_string(&w, "activation", "none (linear model)");
            json_string(&w, "parametrization", tdl_param_name(m->param));
            json_bool(&w, "has_init", m->theta0 != NULL);
        } else {
            json_null(&w, "arch");
            json_null(&w, "activation");
            json_string(&w, "arch_reason", mlp_error);
            json_string(&w, "activation_reason", mlp_error);
        }
        if (lay.depth) {
            json_object_begin(&w, "layout");
            json_string(&w, "scheme", lay.scheme);
            json_string(&w, "order", lay.order);
            json_array_begin(&w, "chain");
            for (size_t l = 0; l < lay.depth; l++) {
                json_object_begin(&w, NULL);
                json_string(&w, "layer", lay.prefix[l]);
                json_size(&w, "in", lay.in[l]);
                json_size(&w, "out", lay.out[l]);
                json_bool(&w, "bias", lay.has_bias[l]);
                json_object_end(&w);
            }
            json_array_end(&w);
            json_object_end(&w);
        } else {
            json_null(&w, "layout");
            json_string(&w, "layout_reason", layout_error);
        }
        json_array_begin(&w, "tensors");
        for (size_t i = 0; i < set->count; i++) {
            const tdl_tensor *t = &set->items[i];
            json_object_begin(&w, NULL);
            json_string(&w, "name", t->name);
            json_string(&w, "dtype", tdl_dtype_name(t->dtype));
            json_size_array(&w, "shape", t->shape, t->ndim);
            json_object_end(&w);
        }
        json_array_end(&w);
        json_object_begin(&w, "metadata");
        for (size_t i = 0; i < set->meta_count; i++) json_string(&w, set->meta_keys[i], set->meta_values[i]);
        json_object_end(&w);
        json_object_end(&w);
        json_flush_stdout(&w);
    } else {
        printf("file         %s\n", path);
        if (m) {
            printf("arch         %s (%zu layer%s)\n", arch, m->depth, m->depth == 1 ? "" : "s");
            printf("activation   %s\n", m->depth > 1 ? actbuf : "none (linear model)");
            printf("param.       %s (sigma_w %.6g, sigma_b %.6g)\n", tdl_param_name(m->param), m->sigma_w, m->sigma_b);
            printf("parameters   %zu\n", m->n_params);
            printf("init kept    %s\n", m->theta0 ? "yes" : "no");

        } else {
            printf("parameters   %zu (not an MLP tdl can use: %s)\n", stored, mlp_error);
        }
        if (lay.depth) {
            printf("layout       %s (order: %s)\n", lay.scheme, lay.order);
            printf("chain       ");
            for (size_t l = 0; l < lay.depth; l++)
                printf("%s %s: %zu -> %zu%s", l ? "," : "", *lay.prefix[l] ? lay.prefix[l] : "(top level)", lay.in[l],
                       lay.out[l], lay.has_bias[l] ? "" : " (no bias)");
            printf("\n");
        }
        printf("tensors      %zu\n", set->count);
        for (size_t i = 0; i < set->count; i++) {
            shape_text(&set->items[i], shape, sizeof shape);
            printf("  %-24s %-5s %s\n", set->items[i].name, tdl_dtype_name(set->items[i].dtype), shape);
        }
        if (set->meta_count) printf("metadata\n");
        for (size_t i = 0; i < set->meta_count; i++) printf("  %-16s %s\n", set->meta_keys[i], set->meta_values[i]);
    }
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
    tdl_mlp_free(&m);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"model", required_argument, NULL, 'm'},
        {"act", required_argument, NULL, 'a'},
        {"layer-order", required_argument, NULL, 'L'},
        {"json", no_argument, NULL, 'j'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *model = NULL, *act = NULL, *out = NULL, *layers = NULL;
    int as_json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "info")) != -1) {
        if (c == CLI_GETOPT_USAGE) return EXIT_USAGE;
        switch (c) {
        case 'd': data = optarg; break;
        case 'm': model = optarg; break;
        case 'a': act = optarg; break;
        case 'L': layers = optarg; break;
        case 'j': as_json = 1; break;
        case 'o': out = optarg; break;
        default: return cli_bad_option("info", argv, optopt);
        }
    }
    if (optind < argc) return cli_usage("info", "unexpected argument '%s'", argv[optind]);
    if (!data == !model) return cli_usage("info", "give exactly one of --data SPEC or --model FILE");
    if (out && !data) return cli_usage("info", "-o FILE.npz writes a data set: give --data SPEC");
    if (out) {
        const char *ext = strrchr(out, '.');
        if (!ext || strcmp(ext, ".npz") != 0)
            return cli_usage("info", "-o %s: the data set is written as .npz (X, y); give a name ending in .npz", out);
        const cli_file ins[] = {{"--data", data, CLI_FILE_SPEC, NULL}};
        const cli_file outs[] = {{"-o", out, CLI_FILE_PATH, NULL}};
        if (cli_check_outputs("info", ins, 1, outs, 1) != 0) return EXIT_WORK_FAILED;
        tdl_atomic_file probe; /* refuse an unwritable path before loading */
        int pst = tdl_atomic_begin(out, &probe);
        if (pst != TDL_OK) return cli_fail(pst);
        tdl_atomic_abort(&probe);
    }
    if (layers && !model) return cli_usage("info", "--layer-order orders the layers of --model FILE: give --model");
    return data ? info_data(data, out, as_json) : info_model(model, act, layers, as_json);
}
