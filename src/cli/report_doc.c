/* report_doc.c — `tdl report`: report.md and index.html written side by
 * side from the saved JSON of the commands (read through the key table,
 * report_keys.h), so every number in them is the number a command printed;
 * every table is also written as tables/NAME.csv.  One function a section:
 * data and model; training curve (when the report trains the model);
 * Hessian spectrum with the Gauss-Newton split and its density; a 2D loss
 * landscape and the interpolation from the initialization; the NTK spectrum
 * and drift; the bounds table (each row's kind, bound or measure, and the
 * classifier a bound is for; vacuous bounds marked) and its figure, drawn
 * here (report_bounds_figure); the theorem checks; the commands and files.
 * A section whose command failed says so.
 */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "report.h"
#include "tdl/blas.h"
#include "tdl/error.h"
#include "tdl/fileio.h"
#include "tdl/version.h"

/* ---- the document: Markdown and HTML side by side, tables also as CSV ---------- */

typedef struct doc {
    FILE *md, *html;
    tdl_atomic_file csv;
    int csv_open;
    int failed_io;
} doc;

static void html_text(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&') fputs("&amp;", fp);
        else if (*s == '<') fputs("&lt;", fp);
        else if (*s == '>') fputs("&gt;", fp);
        else if (*s == '"') fputs("&quot;", fp);
        else fputc(*s, fp);
    }
}

static void md_text(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|') fputs("\\|", fp);
        else if (*s == '\n') fputc(' ', fp);
        else fputc(*s, fp);
    }
}

static void doc_h2(doc *d, const char *id, const char *title)
{
    fprintf(d->md, "\n## %s\n\n", title);
    fprintf(d->html, "<h2 id=\"%s\">", id);
    html_text(d->html, title);
    fputs("</h2>\n", d->html);
}

/* One paragraph in both documents: markdown prefix, HTML opening tag. */
static void doc_para(doc *d, const char *md_prefix, const char *html_open, const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    fprintf(d->md, "%s%s\n\n", md_prefix, buf);
    fputs(html_open, d->html);
    html_text(d->html, buf);
    fputs("</p>\n", d->html);
}

static void doc_p(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void doc_p(doc *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    doc_para(d, "", "<p>", fmt, ap);
    va_end(ap);
}

/* A highlighted remark: a section left out, a failure. */
static void doc_note(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void doc_note(doc *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    doc_para(d, "> **Note.** ", "<p class=\"note\"><b>Note.</b> ", fmt, ap);
    va_end(ap);
}

static void csv_field(FILE *fp, const char *s, int first)
{
    if (!first) fputc(',', fp);
    if (s && strpbrk(s, ",\"\n")) {
        fputc('"', fp);
        for (; *s; s++) {
            if (*s == '"') fputc('"', fp);
            fputc(*s, fp);
        }
        fputc('"', fp);
    } else if (s) {
        fputs(s, fp);
    }
}

/* A table with n columns; also written as tables/CSV (when csv is set). */
static void doc_table_begin(doc *d, const report *r, const char *csv, const char *const *head, size_t n)
{
    fputs("|", d->md);
    for (size_t k = 0; k < n; k++) { fputc(' ', d->md); md_text(d->md, head[k]); fputs(" |", d->md); }
    fputs("\n|", d->md);
    for (size_t k = 0; k < n; k++) fputs("---|", d->md);
    fputc('\n', d->md);
    fputs("<table>\n<tr>", d->html);
    for (size_t k = 0; k < n; k++) { fputs("<th>", d->html); html_text(d->html, head[k]); fputs("</th>", d->html); }
    fputs("</tr>\n", d->html);
    d->csv_open = 0;
    if (csv) {
        char p[PATH_MAX + 64];
        sfmt(p, sizeof p, "%s/tables/%s.csv", r->tmp, csv);
        if (tdl_atomic_begin(p, &d->csv) == TDL_OK) {
            d->csv_open = 1;
            for (size_t k = 0; k < n; k++) csv_field(d->csv.fp, head[k], k == 0);
            fputc('\n', d->csv.fp);
        } else {
            d->failed_io = 1;
        }
    }
}

/* A row; mark highlights it (a vacuous bound, a failed check). */
static void doc_row(doc *d, const char *const *cells, size_t n, int mark)
{
    fputs("|", d->md);
    for (size_t k = 0; k < n; k++) {
        fputc(' ', d->md);
        if (mark && k == 0) fputs("**", d->md);
        md_text(d->md, cells[k]);
        if (mark && k == 0) fputs("**", d->md);
        fputs(" |", d->md);
    }
    fputc('\n', d->md);
    fputs(mark ? "<tr class=\"mark\">" : "<tr>", d->html);
    for (size_t k = 0; k < n; k++) { fputs("<td>", d->html); html_text(d->html, cells[k]); fputs("</td>", d->html); }
    fputs("</tr>\n", d->html);
    if (d->csv_open) {
        for (size_t k = 0; k < n; k++) csv_field(d->csv.fp, cells[k], k == 0);
        fputc('\n', d->csv.fp);
    }
}

static void doc_table_end(doc *d)
{
    fputc('\n', d->md);
    fputs("</table>\n", d->html);
    if (d->csv_open && tdl_atomic_commit(&d->csv) != TDL_OK) d->failed_io = 1;
    d->csv_open = 0;
}

/* Two-column quantity/value table. */
static void doc_kv(doc *d, const char *k, const char *v)
{
    const char *cells[2] = {k, v};
    doc_row(d, cells, 2, 0);
}

static void doc_kv_num(doc *d, const char *k, double v)
{
    char b[64];
    doc_kv(d, k, report_num(b, sizeof b, v));
}

/* fig/NAME.png with links to its SVG, PDF, script and data. */
static void doc_figure(doc *d, const report *r, const char *name, const char *caption)
{
    char rel[128];
    sfmt(rel, sizeof rel, "fig/%s.png", name);
    if (!report_file_exists(r, rel)) {
        doc_note(d, "The figure %s was not drawn (see logs/).", rel);
        return;
    }
    fprintf(d->md, "![%s](fig/%s.png)\n\n*%s* — [SVG](fig/%s.svg) · [PDF](fig/%s.pdf) · [gnuplot script](fig/%s.gp) · [data](fig/%s.dat)\n\n",
            name, name, caption, name, name, name, name);
    fprintf(d->html, "<figure><a href=\"fig/%s.png\"><img src=\"fig/%s.png\" alt=\"%s\"></a><figcaption>", name, name, name);
    html_text(d->html, caption);
    fprintf(d->html, " <span class=\"links\"><a href=\"fig/%s.svg\">SVG</a> · <a href=\"fig/%s.pdf\">PDF</a> · "
                     "<a href=\"fig/%s.gp\">gnuplot</a> · <a href=\"fig/%s.dat\">data</a></span></figcaption></figure>\n",
            name, name, name, name);
}

/* A section whose command did not give its JSON. */
static int section_failed(doc *d, report *r, const char *what, const char *step_name)
{
    const step *s = report_find_step(r, step_name);
    if (!s) doc_note(d, "The %s was not computed.", what);
    else if (s->status != 0) doc_note(d, "The %s failed: %s (logs/%s.log).", what, s->message, step_name);
    else if (s->bad_json) doc_note(d, "The %s failed: %s.", what, s->message);
    else doc_note(d, "The %s gave no readable JSON (json/%s.json).", what, step_name);
    return 0;
}

/* ---- sections ---------------------------------------------------------------------- */

static void section_model(doc *d, report *r)
{
    doc_h2(d, "model", "Model and data");
    const cJSON *data = report_json(r, "data"), *model = report_json(r, "model"), *train = report_json(r, "train");
    const cJSON *ev = report_json(r, "eval-train"), *et = r->has_test ? report_json(r, "eval-test") : NULL;
    char b[64], b2[64];
    const char *head[2] = {"quantity", "value"};
    doc_table_begin(d, r, "summary", head, 2);
    if (data) {
        doc_kv(d, "data", rk_text(data, RK_DATA_SPEC, r->data));
        if (rk_str(data, RK_DATA_DESCRIPTION)) doc_kv(d, "data description", rk_str(data, RK_DATA_DESCRIPTION));
        doc_kv_num(d, "examples n", rk_num(data, RK_DATA_N));
        doc_kv_num(d, "features d", rk_num(data, RK_DATA_D));
        doc_kv_num(d, "classes", rk_num(data, RK_DATA_CLASSES));
        const cJSON *cc = rk_item(data, RK_DATA_CLASS_COUNTS);
        if (cJSON_IsArray(cc)) {
            char counts[1024] = "";
            const cJSON *it;
            cJSON_ArrayForEach(it, cc) {
                size_t l = strlen(counts);
                sfmt(counts + l, sizeof counts - l, "%s%s", l ? " " : "", report_num(b, sizeof b, cJSON_IsNumber(it) ? it->valuedouble : NAN));
            }
            doc_kv(d, "class counts", counts);
        }
    }
    if (r->has_test) doc_kv(d, "test data", r->test);
    if (model) {
        doc_kv(d, "model file", r->o.user_model ? r->model : "model.safetensors");
        doc_kv(d, "architecture", rk_text(model, RK_MODEL_ARCH, "?"));
        doc_kv(d, "activation", rk_text(model, RK_MODEL_ACTIVATION, "?"));
        doc_kv(d, "parametrization", rk_text(model, RK_MODEL_PARAMETRIZATION, "?"));
        doc_kv_num(d, "parameters P", rk_num(model, RK_MODEL_PARAMS));
        doc_kv(d, "initialization kept (init.* tensors)", r->has_init ? "yes" : "no");
    }
    if (train) {
        sfmt(b2, sizeof b2, "%s, lr %s, batch %.0f", rk_text(train, RK_TRAIN_OPTIMIZER, "?"),
                 report_num(b, sizeof b, rk_num(train, RK_TRAIN_LR)), rk_num(train, RK_TRAIN_BATCH));
        doc_kv(d, "training", b2);
        doc_kv_num(d, "epochs", rk_num(train, RK_TRAIN_EPOCHS));
        doc_kv_num(d, "training seconds", rk_num(train, RK_TRAIN_SECONDS));
    }
    /* the last digits of every number depend on the BLAS kernel (tdl/blas.h);
     * the commands ran on the report's own, which they inherit */
    char kernel[320];
    sfmt(kernel, sizeof kernel, "%s (%s)", rk_text(data, RK_DATA_BLAS_CORE, tdl_blas_core()),
         tdl_blas_core_origin());
    doc_kv(d, "BLAS kernel (OpenBLAS)", kernel);
    if (ev) {
        char label[64];
        doc_kv(d, "loss", rk_text(ev, RK_EVAL_LOSS_NAME, "?"));
        doc_kv(d, "loss definition", rk_text(ev, RK_EVAL_LOSS_DEFINITION, "?"));
        sfmt(label, sizeof label, "train loss (%s)", rk_text(ev, RK_EVAL_REDUCTION, "mean"));
        doc_kv_num(d, label, rk_num(ev, RK_EVAL_LOSS));
        doc_kv_num(d, "train error", rk_num(ev, RK_EVAL_ERROR));
        doc_kv_num(d, "train accuracy", rk_num(ev, RK_EVAL_ACCURACY));
    }
    if (et) {
        char label[64];
        sfmt(label, sizeof label, "test loss (%s)", rk_text(et, RK_EVAL_REDUCTION, "mean"));
        doc_kv_num(d, label, rk_num(et, RK_EVAL_LOSS));
        doc_kv_num(d, "test error", rk_num(et, RK_EVAL_ERROR));
        doc_kv_num(d, "test accuracy", rk_num(et, RK_EVAL_ACCURACY));
    }
    doc_table_end(d);
    if (!data) section_failed(d, r, "data summary (tdl info --data)", "data");
    if (!model) section_failed(d, r, "model summary (tdl info --model)", "model");
    if (!ev) section_failed(d, r, "evaluation on the training data (tdl eval)", "eval-train");
    if (r->has_test && !et) section_failed(d, r, "evaluation on the test data (tdl eval)", "eval-test");
    doc_p(d, "Losses are %s over examples (the loss definition above; tdl help conventions); error = 1 - accuracy (0-1 loss).",
          ev && strcmp(rk_text(ev, RK_EVAL_REDUCTION, "mean"), "sum") == 0 ? "sums" : "means");

    doc_h2(d, "training", "Training curve");
    if (r->o.user_model) {
        doc_note(d, "No training curve: the model was given with --model (trained elsewhere); the report analyses it as it is.");
    } else if (train) {
        char cap[256];
        sfmt(cap, sizeof cap, "Training and test loss (%s, left axis) and accuracy (right axis) after each epoch; the log is tables/training.csv.",
             ev ? rk_text(ev, RK_EVAL_REDUCTION, "mean") : "mean");
        doc_figure(d, r, "training", cap);
    } else {
        section_failed(d, r, "training (tdl train)", "train");
    }
}

static void section_hessian(doc *d, report *r)
{
    doc_h2(d, "hessian", "Hessian spectrum");
    const cJSON *h = report_json(r, "hessian"), *hd = h;
    if (!h) {
        section_failed(d, r, "Hessian spectrum (tdl hessian --gn)", "hessian");
    } else {
        int sum = strcmp(rk_text(h, RK_HESS_REDUCTION, "mean"), "sum") == 0;
        doc_p(d, "The Hessian H of the %s training loss (%s) with respect to all %s parameters, in double precision, "
                 "and its Gauss-Newton split H = G + R (G = %s sum_i J_i^T H_l,i J_i). All eigenvalues by LAPACK (%s).",
              sum ? "summed" : "mean", rk_text(h, RK_HESS_LOSS_NAME, "?"), rk_text(h, RK_HESS_ARCH, ""), sum ? "" : "(1/n)",
              rk_text(h, RK_HESS_DRIVER, "?"));
        char top[512];
        const char *head[2] = {"quantity", "value"};
        doc_table_begin(d, r, "hessian", head, 2);
        doc_kv_num(d, "parameters", rk_num(h, RK_HESS_PARAMS));
        doc_kv_num(d, "loss at the model", rk_num(h, RK_HESS_LOSS));
        doc_kv_num(d, "lambda_max(H)", rk_num(h, RK_HESS_LAMBDA_MAX));
        doc_kv_num(d, "lambda_min(H)", rk_num(h, RK_HESS_LAMBDA_MIN));
        doc_kv_num(d, "trace(H)", rk_num(h, RK_HESS_TRACE));
        doc_kv_num(d, "trace(G)", rk_num(h, RK_HESS_GN_TRACE));
        doc_kv_num(d, "fraction of negative eigenvalues", rk_num(h, RK_HESS_NEGATIVE_FRACTION));
        doc_kv_num(d, "condition number of the positive part", rk_num(h, RK_HESS_CONDITION_POSITIVE));
        doc_kv_num(d, "zero tolerance |lambda| <=", rk_num(h, RK_HESS_TOLERANCE));
        const cJSON *ev = rk_item(h, RK_HESS_EIGENVALUES);
        const cJSON *gv = rk_item(h, RK_HESS_GN_EIGENVALUES);
        const cJSON *rv = rk_item(h, RK_HESS_R_EIGENVALUES);
        const cJSON *eb = rk_item(h, RK_HESS_ERROR_BOUNDS), *gb = rk_item(h, RK_HESS_GN_ERROR_BOUNDS);
        double ebmax = 0;
        for (int i = 0; cJSON_IsArray(eb) && i < cJSON_GetArraySize(eb); i++) {
            const cJSON *x = cJSON_GetArrayItem(eb, i);
            if (cJSON_IsNumber(x)) ebmax = fmax(ebmax, x->valuedouble);
        }
        doc_kv_num(d, "error bound of every eigenvalue (certified)", ebmax);
        if (cJSON_IsArray(ev)) {
            report_certified_values(ev, eb, 5, top, sizeof top);
            doc_kv(d, "top 5 eigenvalues of H (certified digits)", top);
        }
        if (cJSON_IsArray(gv)) {
            report_certified_values(gv, gb, 5, top, sizeof top);
            doc_kv(d, "top 5 eigenvalues of G (certified digits)", top);
        }
        if (cJSON_IsArray(rv)) { report_top_values(rv, 5, top, sizeof top); doc_kv(d, "top 5 eigenvalues of R = H - G", top); }
        doc_table_end(d);
        const char *vh[3] = {"H", "G", "R"};
        const cJSON *cols[3] = {ev, gv, rv};
        report_values_csv(r, "hessian-eigenvalues", vh, cols, 3);
        doc_figure(d, r, "hessian-spectrum", "Histogram of all eigenvalues of H (boxes) and of its Gauss-Newton part G (line); "
                                             "all eigenvalues in tables/hessian-eigenvalues.csv.");
        doc_p(d, "Every eigenvalue carries a certified error bound (json/hessian.json, \"error_bounds\"): LAPACK's backward "
                    "error P eps ||H||_2 plus the rounding of summing n per-example terms, n eps ||H||_F. The top eigenvalues "
                    "above are printed with the digits that bound guarantees.");
    }
    if (!hd) {
        section_failed(d, r, "Hessian density (tdl hessian --density)", "hessian");
    } else {
        const cJSON *dens = rk_item(hd, RK_HESS_DENSITY);
        char cap[512], b[64];
        sfmt(cap, sizeof cap, "Spectral density of H: the exact eigenvalues smoothed with a Gaussian (%s convention, sigma %s), log scale.",
                 rk_text(dens, RK_DENS_SMOOTHING, "?"), report_num(b, sizeof b, rk_num(dens, RK_DENS_SIGMA)));
        doc_figure(d, r, "hessian-density", cap);
    }
}

/* The heading and JSON of a section backed by one step that may not apply:
 * NULL (nothing more to write) when the step did not run, did not apply
 * (said) or failed (said by section_failed). */
static const cJSON *step_section(doc *d, report *r, const char *step_name, const char *id, const char *title,
                                 const char *what)
{
    const step *s = report_find_step(r, step_name);
    if (!s) return NULL;
    doc_h2(d, id, title);
    if (s->not_applicable) {
        doc_p(d, "Does not apply: %s.", report_step_why(s));
        return NULL;
    }
    const cJSON *j = report_json(r, step_name);
    if (!j) section_failed(d, r, what, step_name);
    return j;
}

/* tdl hessian --gn --method dual --class-split: the outliers of G and
 * Papyan's class / cross-class split (issue 22). */
static void section_class_split(doc *d, report *r)
{
    if (r->regression) return;
    const cJSON *h = step_section(d, r, "hessian-dual", "class-split", "Class structure of the Gauss-Newton part",
                                  "the class split (tdl hessian --gn --method dual --class-split)");
    if (!h) return;
    const cJSON *sp = rk_item(h, RK_DUAL_SPLIT);
    char b1[64], b2[64], top[512];
    doc_p(d, "The Gauss-Newton part G of the Hessian through its kernel dual K = c S^T (J J^T) S (n C = %s x %s; %s, %s s), "
             "split as G = G_class + G_cross + G_within by the class of each example and each output (Papyan 2019, ICML; "
             "2020, JMLR 21): G_class is spanned by the C class means of the logit gradients, G_cross by the C (C - 1) "
             "cross-class means, G_within is the rest. An outlier eigenvector of G that lies in the span of the class means "
             "has class-mean share 1. (The papers' equation numbers were not checked here; tdl help hessian.)",
          report_num(b1, sizeof b1, rk_num(h, RK_DUAL_N)), report_num(b2, sizeof b2, rk_num(h, RK_DUAL_OUTPUTS)),
          rk_text(h, RK_DUAL_DRIVER, "?"), report_num(top, sizeof top, rk_num(h, RK_DUAL_SECONDS)));
    const char *head[2] = {"quantity", "value"};
    doc_table_begin(d, r, "class-split", head, 2);
    doc_kv_num(d, "trace(G)", rk_num(h, RK_DUAL_TRACE));
    doc_kv_num(d, "trace(G_class)", rk_num(sp, RK_SPLIT_TRACE_CLASS));
    doc_kv_num(d, "trace(G_cross)", rk_num(sp, RK_SPLIT_TRACE_CROSS));
    doc_kv_num(d, "trace(G_within)", rk_num(sp, RK_SPLIT_TRACE_WITHIN));
    const cJSON *cv = rk_item(sp, RK_SPLIT_CLASS_EIGENVALUES), *xv = rk_item(sp, RK_SPLIT_CROSS_EIGENVALUES);
    if (cJSON_IsArray(cv)) { report_top_values(cv, 5, top, sizeof top); doc_kv(d, "top 5 eigenvalues of G_class", top); }
    if (cJSON_IsArray(xv)) { report_top_values(xv, 5, top, sizeof top); doc_kv(d, "top 5 eigenvalues of G_cross", top); }
    doc_table_end(d);
    const cJSON *ov = rk_item(sp, RK_SPLIT_OUTLIERS), *cs = rk_item(sp, RK_SPLIT_CLASS_SHARE), *xs = rk_item(sp, RK_SPLIT_CROSS_SHARE);
    const cJSON *gv = rk_item(h, RK_DUAL_EIGENVALUES), *gb = rk_item(h, RK_DUAL_ERROR_BOUNDS);
    int no = cJSON_GetArraySize(ov), outliers = 0;
    const char *head2[4] = {"j", "lambda_j(G), certified digits", "class-mean share", "cross-class share"};
    doc_table_begin(d, r, "class-split-outliers", head2, 4);
    for (int j = 0; j < no; j++) {
        char cj[16], lam[64], c1[32], c2[32];
        sfmt(cj, sizeof cj, "%d", j + 1);
        /* the outliers, descending, are the top of gn_eigenvalues (ascending),
         * whose bounds give the digits */
        const int ig = cJSON_GetArraySize(gv) - 1 - j;
        const cJSON *x = cJSON_GetArrayItem(ov, j), *xb = ig >= 0 ? cJSON_GetArrayItem(gb, ig) : NULL;
        report_certified_value(cJSON_IsNumber(x) ? x->valuedouble : NAN, cJSON_IsNumber(xb) ? xb->valuedouble : NAN, lam,
                               sizeof lam);
        const cJSON *a = cJSON_GetArrayItem(cs, j), *bx = cJSON_GetArrayItem(xs, j);
        double share = cJSON_IsNumber(a) ? a->valuedouble : NAN;
        sfmt(c1, sizeof c1, "%.4f", share);
        sfmt(c2, sizeof c2, "%.4f", cJSON_IsNumber(bx) ? bx->valuedouble : NAN);
        if (share >= 0.5) outliers++;
        const char *cells[4] = {cj, lam, c1, c2};
        doc_row(d, cells, 4, 0);
    }
    doc_table_end(d);
    doc_p(d, "%d of the top %d eigenvectors of G lie mostly (share >= 0.5) in the span of the %d class means: Papyan's "
                "class outliers (for cross-entropy the logit Hessian annihilates the all-ones direction, so C - 1 are expected).",
             outliers, no, no);
}

/* tdl certify: a certificate for the model's architecture (issue 19) */
static void section_certify(doc *d, report *r)
{
    if (r->regression || !r->has_test) return;
    const cJSON *c = step_section(d, r, "certify", "certify", "PAC-Bayes certificate (data-dependent prior)",
                                  "the PAC-Bayes certificate (tdl certify)");
    if (!c) return;
    char b1[64];
    doc_p(d, "A risk certificate for a net of this architecture trained by the recipe of Perez-Ortiz, Rivasplata, "
             "Shawe-Taylor and Szepesvari 2021 (JMLR 22(227)): a prior net trained on half of the training data (stratified), "
             "a Gaussian posterior trained on the other half with the %s objective, and the 0-1 error of the stochastic net Q "
             "certified on that half (%s s). It certifies Q, not this report's trained model: the prior may not see the data "
             "the bound is computed on. Every term: json/certify.json.",
          rk_text(c, RK_CERT_OBJECTIVE, "?"), report_num(b1, sizeof b1, rk_num(c, RK_CERT_SECONDS)));
    const char *head[2] = {"quantity", "value"};
    doc_table_begin(d, r, "certify", head, 2);
    doc_kv_num(d, "certificate (0-1 error of Q)", rk_num(c, RK_CERT_CERTIFICATE));
    doc_kv_num(d, "confidence 1 - delta - delta_mc", rk_num(c, RK_CERT_CONFIDENCE));
    doc_kv_num(d, "test error of the stochastic net Q", rk_num(c, RK_CERT_STOCHASTIC_TEST));
    doc_kv_num(d, "test error of the mean net", rk_num(c, RK_CERT_MEAN_TEST));
    doc_kv_num(d, "KL(Q || P)", rk_num(c, RK_CERT_KL));
    doc_kv_num(d, "bound part m", rk_num(c, RK_CERT_M_BOUND));
    doc_kv_num(d, "prior part", rk_num(c, RK_CERT_M_PRIOR));
    doc_kv_num(d, "prior scale (chosen on the prior part)", rk_num(c, RK_CERT_PRIOR_SIGMA));
    doc_table_end(d);
    doc_p(d, "Theorem: %s.", rk_text(c, RK_CERT_THEOREM, "?"));
}

static void section_landscape(doc *d, report *r)
{
    doc_h2(d, "landscape", "Loss landscape");
    const cJSON *l2 = report_json(r, "landscape-2d"), *li = report_json(r, "interpolation");
    const char *head[3] = {"slice", "quantity", "value"};
    char b[64];
    doc_table_begin(d, r, "landscape", head, 3);
    if (l2) {
        const char *c1[3] = {"2D random plane", "loss at the model (centre)", report_num(b, sizeof b, rk_num(l2, RK_L2_CENTRE_LOSS))};
        doc_row(d, c1, 3, 0);
        const char *c2[3] = {"2D random plane", "smallest loss on the grid", report_num(b, sizeof b, rk_num(l2, RK_L2_LOSS_MIN))};
        doc_row(d, c2, 3, 0);
        const char *c3[3] = {"2D random plane", "largest loss on the grid", report_num(b, sizeof b, rk_num(l2, RK_L2_LOSS_MAX))};
        doc_row(d, c3, 3, 0);
        const char *c4[3] = {"2D random plane", "cosine between the directions", report_num(b, sizeof b, rk_num(l2, RK_L2_COSINE))};
        doc_row(d, c4, 3, 0);
    }
    if (li) {
        const char *c1[3] = {"interpolation from init", "loss at the initialization (alpha = 0)", report_num(b, sizeof b, rk_num(li, RK_INTERP_LOSS_START))};
        doc_row(d, c1, 3, 0);
        const char *c2[3] = {"interpolation from init", "loss at the model (alpha = 1)", report_num(b, sizeof b, rk_num(li, RK_INTERP_LOSS_END))};
        doc_row(d, c2, 3, 0);
        const char *c3[3] = {"interpolation from init", "largest loss on the path", report_num(b, sizeof b, rk_num(li, RK_INTERP_LOSS_MAX))};
        doc_row(d, c3, 3, 0);
    }
    doc_table_end(d);
    if (l2) {
        char cap[512];
        const cJSON *ev = report_json(r, "eval-train");
        sfmt(cap, sizeof cap, "Training loss (%s) on the plane through the model spanned by two random directions, %s.",
             ev ? rk_text(ev, RK_EVAL_REDUCTION, "mean") : "mean", rk_text(l2, RK_L2_NORMALIZATION, ""));
        doc_figure(d, r, "landscape-2d", cap);
    } else {
        section_failed(d, r, "2D landscape (tdl landscape --plane random)", "landscape-2d");
    }
    if (!r->has_init) {
        doc_note(d, "No interpolation from the initialization: the model file has no init.* tensors.");
    } else if (li) {
        doc_figure(d, r, "interpolation", "Loss along the straight line (1 - alpha) theta_0 + alpha theta from the initialization "
                                          "(alpha = 0, marked init) to the trained model (alpha = 1, marked trained), beyond both ends "
                                          "(Goodfellow et al. 2015); train (and test) accuracy dashed on the right axis.");
    } else {
        section_failed(d, r, "interpolation from the initialization (tdl landscape --from-init)", "interpolation");
    }
}

static void section_ntk(doc *d, report *r)
{
    doc_h2(d, "ntk", "Neural tangent kernel");
    const cJSON *k = report_json(r, "ntk");
    if (!k) {
        section_failed(d, r, "NTK (tdl ntk)", "ntk");
        return;
    }
    doc_p(d, "The empirical NTK Gram matrix of the trained model on the training inputs (%s; %s).",
          rk_text(k, RK_NTK_NORMALIZATION, ""), rk_text(k, RK_NTK_METHOD, ""));
    const char *head[2] = {"quantity", "value"};
    doc_table_begin(d, r, "ntk", head, 2);
    doc_kv_num(d, "n", rk_num(k, RK_NTK_N));
    doc_kv_num(d, "lambda_max", rk_num(k, RK_NTK_LAMBDA_MAX));
    doc_kv_num(d, "lambda_min", rk_num(k, RK_NTK_LAMBDA_MIN));
    doc_kv_num(d, "trace", rk_num(k, RK_NTK_TRACE));
    doc_kv_num(d, "condition number", rk_num(k, RK_NTK_CONDITION_NUMBER));
    doc_kv_num(d, "largest stable learning rate 2n/lambda_max (mse)", rk_num(k, RK_NTK_ETA_MAX));
    if (r->has_init) doc_kv_num(d, "drift ||K_T - K_0||_F / ||K_0||_F", rk_num(k, RK_NTK_DRIFT));
    doc_table_end(d);
    const cJSON *ev = rk_item(k, RK_NTK_EIGENVALUES);
    const char *vh[1] = {"eigenvalue"};
    const cJSON *cols[1] = {ev};
    report_values_csv(r, "ntk-eigenvalues", vh, cols, 1);
    doc_figure(d, r, "ntk-spectrum", "Eigenvalues of the NTK Gram matrix in descending order (log-log); all of them in tables/ntk-eigenvalues.csv.");
    if (!r->o.user_model && r->has_init) {
        if (report_file_exists(r, "fig/ntk-drift.png"))
            doc_figure(d, r, "ntk-drift", "Relative change of the NTK during training, ||K_t - K_0||_F / ||K_0||_F on the first 256 training inputs "
                                          "(tdl train --log-ntk-drift, column ntk_drift of tables/training.csv).");
        else
            doc_note(d, "The NTK drift curve was not drawn (no ntk_drift column in the training log).");
    } else if (r->o.user_model) {
        doc_note(d, "No NTK drift curve: the model was trained elsewhere (the final drift is in the table when the file keeps its initialization).");
    }
}

static void section_bounds(doc *d, report *r)
{
    doc_h2(d, "bounds", "Generalization bounds");
    if (r->regression) {
        doc_note(d, "No bounds table: the bounds are on the classification error and the data set has no class labels (a regression task).");
        return;
    }
    const cJSON *b = report_json(r, "bounds");
    if (!b) {
        section_failed(d, r, "bounds table (tdl bounds)", "bounds");
        return;
    }
    char x[64], y[64], z[64], w[64];
    /* chance: the command's 1 - 1/C, else from the data's number of classes */
    const cJSON *data = report_json(r, "data");
    double chance = rk_num(b, RK_BOUNDS_CHANCE), classes = data ? rk_num(data, RK_DATA_CLASSES) : NAN;
    if (isnan(chance) && classes >= 2) chance = 1 - 1 / classes;
    double n_train = data ? rk_num(data, RK_DATA_N) : NAN;
    const cJSON *ms = rk_item(b, RK_BOUNDS_MEASURES), *it;
    int kinds_stated = 0;
    cJSON_ArrayForEach(it, ms) kinds_stated |= report_bound_kind(it) >= 0;
    doc_p(d, "Complexity measures and bounds on the test error, each with its source and confidence delta; "
             "train error %s%s%s, chance (1 - 1/C, the error of guessing uniformly among the C classes) %s. Rows in bold are vacuous (bound >= 1).",
          report_num(x, sizeof x, rk_num(b, RK_BOUNDS_TRAIN_ERROR)), r->has_test ? ", test error " : "",
          r->has_test ? report_num(y, sizeof y, rk_num(b, RK_BOUNDS_TEST_ERROR)) : "", report_num(z, sizeof z, chance));
    doc_p(d, "A row of kind bound is a theorem's upper bound on the test error, holding with probability at least 1 - delta over the "
             "training sample, of the classifier in the column classifier: deterministic, the trained net itself; Gibbs, the stochastic "
             "classifier Q (the weights drawn afresh from a Gaussian posterior at each prediction), whose expected error is "
             "bounded, not the trained net's. A row of kind measure is not a bound on anything: a complexity quantity, or a norm-based "
             "formula evaluated at the trained net's own norms and a margin chosen from the data without paying the union bound over "
             "those scales; its fixed-scale value (what the formula gives at those scales) is in its own column, not under bound, and "
             "is drawn hatched in the figure.%s",
          kinds_stated ? "" : " This tdl bounds does not state the kind and classifier of its rows (no key \"kind\"): the "
                              "bound column is as the command gave it.");
    const char *head[10] = {"measure", "kind", "classifier", "value", "bound", "fixed-scale value (not a bound)",
                            "vacuous", "below chance", "delta", "source"};
    doc_table_begin(d, r, "bounds", head, 10);
    size_t vacuous = 0, with_bound = 0, below = 0;
    cJSON_ArrayForEach(it, ms) {
        if (rk_bool(it, RK_MEAS_AVAILABLE) == 0) continue;
        int kind = report_bound_kind(it);
        /* a measure shows no bound, whatever the command put there */
        double bound = kind == 0 ? NAN : rk_num(it, RK_MEAS_BOUND);
        int vac = !isnan(bound) && rk_bool(it, RK_MEAS_VACUOUS) == 1;
        int bc = isnan(bound) ? -1 : rk_bool(it, RK_MEAS_BELOW_CHANCE);
        if (!isnan(bound)) { with_bound++; vacuous += (size_t)vac; below += (size_t)(bc == 1); }
        const char *cls = rk_str(it, RK_MEAS_CLASSIFIER);
        const char *cells[10] = {rk_text(it, RK_MEAS_NAME, "?"), kind < 0 ? "-" : kind ? "bound" : "measure",
                                 !cls || kind == 0 ? "-" : strcmp(cls, "gibbs") == 0 ? "Gibbs" : cls,
                                 report_num(x, sizeof x, rk_num(it, RK_MEAS_VALUE)), report_num(y, sizeof y, bound),
                                 report_num(w, sizeof w, kind == 0 ? rk_num(it, RK_MEAS_FIXED_SCALE) : NAN),
                                 isnan(bound) ? "-" : (vac ? "VACUOUS" : "no"), bc < 0 ? "-" : bc ? "yes" : "no",
                                 report_num(z, sizeof z, rk_num(it, RK_MEAS_DELTA)), rk_text(it, RK_MEAS_SOURCE, "")};
        doc_row(d, cells, 10, vac);
    }
    doc_table_end(d);
    if (kinds_stated)
        doc_p(d, "%zu of %zu bounds are vacuous; below chance (bound < 1 - 1/C): %zu. Measures the model does not support are left out "
                 "(json/bounds.json gives the reasons); tdl bounds --explain NAME gives a row's terms and hypotheses.",
              vacuous, with_bound, below);
    else
        doc_p(d, "%zu of %zu bounds are vacuous. Measures the model does not support are left out (json/bounds.json gives the reasons).",
              vacuous, with_bound);
    report_bounds_figure(r, b, chance, isnan(n_train) ? 0 : (size_t)n_train);
    doc_figure(d, r, "bounds", "The bounds on the test error as horizontal bars named by their rows (log axis), coloured by the "
                               "classifier they bound (the trained net; Gibbs: the stochastic net Q), with vertical lines at the train "
                               "error, the test error (with a test set), chance 1 - 1/C and the vacuous level 1; below, in their own "
                               "panel and hatched, the measures' fixed-scale values, which are not bounds.");
}

/* A check's JSON result: 1 when it passed; crit = "MET of JUDGED" over its
 * rows with a criterion. */
static int check_verdict(const cJSON *it, char *crit, size_t len)
{
    int met = 0, judged = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rk_item(it, RK_CHECK_ROWS)) {
        int ok = rk_bool(row, RK_ROW_OK);
        if (ok >= 0) { judged++; met += ok; }
    }
    sfmt(crit, len, "%d of %d", met, judged);
    return rk_bool(it, RK_CHECK_PASSED) == 1;
}

/* One row of the checks table: a check's verdict and criteria. */
static void check_row(doc *d, const cJSON *it, int *passed, int *total)
{
    char crit[32], sec[64];
    int p = check_verdict(it, crit, sizeof crit);
    *passed += p;
    (*total)++;
    const char *cells[6] = {rk_text(it, RK_CHECK_NAME, "?"), p ? "pass" : "FAIL", crit, report_num(sec, sizeof sec, rk_num(it, RK_CHECK_SECONDS)),
                            rk_text(it, RK_CHECK_CLAIM, ""), rk_text(it, RK_CHECK_SOURCE, "")};
    doc_row(d, cells, 6, !p);
}

/* The seconds of the steps whose name starts with PREFIX, and of all. */
static double steps_seconds(const report *r, const char *prefix, double *all)
{
    double sum = 0;
    *all = 0;
    for (size_t i = 0; i < r->n_steps; i++) {
        *all += r->steps[i].seconds;
        if (strncmp(r->steps[i].name, prefix, strlen(prefix)) == 0) sum += r->steps[i].seconds;
    }
    return sum;
}

/* The checks whose claim holds for any data set, run on the report's data
 * (cmd_report.c: steps check-on-data-NAME): each with its verdict, or the
 * reason it does not apply (a hypothesis the data do not meet, a budget). */
static void section_data_checks(doc *d, report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_steps; i++) n += strncmp(r->steps[i].name, "check-on-data-", 14) == 0;
    if (r->o.no_checks || n == 0) return;
    doc_h2(d, "checks-on-data", "Theorem checks on this data set");
    doc_p(d, "The checks whose theorem holds for any data set, run on this report's data (%s) in their quick mode. "
             "Each trains or samples nets of its own on these inputs (not the model analysed above) and compares what it "
             "measures with the theorem's prediction. A check whose hypotheses the data do not meet says so and is "
             "not run: that is not a failure.", r->data);
    const char *head[5] = {"check", "verdict", "criteria met", "seconds", "claim, or why it does not apply"};
    doc_table_begin(d, r, "checks-on-data", head, 5);
    for (size_t i = 0; i < r->n_steps; i++) {
        const step *s = &r->steps[i];
        if (strncmp(s->name, "check-on-data-", 14) != 0) continue;
        char crit[32] = "-", sec[64], why[560];
        const char *verdict;
        int mark = 0;
        if (s->not_applicable) {
            verdict = "does not apply";
            sfmt(why, sizeof why, "%s", report_step_why(s));
        } else if (s->json) {
            int p = check_verdict(s->json, crit, sizeof crit);
            verdict = p ? "pass" : "FAIL";
            mark = !p;
            sfmt(why, sizeof why, "%s", rk_text(s->json, RK_CHECK_CLAIM, ""));
        } else {
            verdict = "FAIL";
            mark = 1;
            sfmt(why, sizeof why, "the check did not run: %s (logs/%s.log)", s->message, s->name);
        }
        const char *cells[5] = {s->name + 14, verdict, crit, report_num(sec, sizeof sec, s->seconds), why};
        doc_row(d, cells, 5, mark);
    }
    doc_table_end(d);
    doc_p(d, "Each check's rows (measured, predicted, criterion) are in json/check-on-data-NAME.json.");
}

/* The built-in theorem checks: a run of tdl's own experiments on their own
 * synthetic data, NOT an analysis of this model, and said so first. */
static void section_checks(doc *d, report *r)
{
    doc_h2(d, "checks", "Theorem checks (built-in experiments, not this model)");
    if (r->o.no_checks) {
        doc_note(d, "The theorem checks were left out (--no-checks).");
        return;
    }
    /* --checks: one JSON a check (json/check-NAME.json); else the list of
     * tdl check --all (json/checks.json) */
    const cJSON *one[REPORT_MAX_CHECKS], *list = NULL;
    size_t n_one = 0;
    if (r->o.n_checks) {
        for (size_t k = 0; k < r->o.n_checks; k++) {
            char name[80];
            sfmt(name, sizeof name, "check-%s", r->o.check_names[k]);
            const cJSON *j = report_json(r, name);
            if (j) one[n_one++] = j;
            else section_failed(d, r, "theorem check", name);
        }
    } else {
        const cJSON *c = report_json(r, "checks");
        list = c ? rk_item(c, RK_CHECKS_LIST) : NULL;
        if (!list) {
            section_failed(d, r, "theorem checks (tdl check --all --quick)", "checks");
            return;
        }
    }
    double all, secs = steps_seconds(r, "check", &all);
    doc_p(d, "This section is not about the model above. Each check runs a small experiment of its own, on its own synthetic "
             "or shipped data, to test that tdl reproduces a named theorem: measured numbers against the theorem's prediction. "
             "It shows that the tools this report used compute what they claim, on this machine and this build. "
             "The checks took %.1f s of the report's %.1f s; `tdl report --no-checks` leaves them out, and `--checks A,B` runs only some.",
          secs, all);
    if (r->o.n_checks)
        doc_p(d, "The checks chosen with --checks, in their quick mode (seconds-scale; `tdl check NAME` runs the full experiment). "
                 "Failed checks are in bold.");
    else
        doc_p(d, "Every check that exists in this build (tdl check --list), in its quick mode (seconds-scale; `tdl check NAME` runs the full experiment). "
                 "Failed checks are in bold.");
    const char *head[6] = {"check", "verdict", "criteria met", "seconds", "claim", "source"};
    doc_table_begin(d, r, "checks", head, 6);
    int passed = 0, total = 0;
    const cJSON *it;
    for (size_t k = 0; k < n_one; k++) check_row(d, one[k], &passed, &total);
    cJSON_ArrayForEach(it, list) check_row(d, it, &passed, &total);
    doc_table_end(d);
    doc_p(d, "%d of %d built-in checks passed (on their own experiments, not on this model). Each check's rows (measured, predicted, criterion) are in %s.",
          passed, total, r->o.n_checks ? "json/check-NAME.json" : "json/checks.json");
    const step *s = report_find_step(r, "checks");
    if (s && s->status != 0 && passed == total)
        doc_note(d, "tdl check ended with status %d: %s (logs/checks.log).", s->status, s->message);
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>tdl report</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\n"
    "h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}\n"
    "table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\n"
    "th{background:#f0f0f0}td:nth-child(2),td:nth-child(3){font-variant-numeric:tabular-nums}\n"
    "tr.mark td{background:#fde8e8}tr.mark td:first-child{font-weight:bold}\n"
    "figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.9em;color:#444}\n"
    ".links{white-space:nowrap;margin-left:.5em}.note{background:#fff6d6;border-left:4px solid #e0b000;padding:.5em .8em}\n"
    "nav a{margin-right:1em}.meta{color:#555;font-size:.9em}code{background:#f4f4f4;padding:0 .2em}\n"
    "</style>\n</head>\n<body>\n";

/* report.md and index.html (written last: the folder is complete when they exist). */
int report_write_documents(report *r, const char *cmdline, double seconds)
{
    char md_path[PATH_MAX + 64], html_path[PATH_MAX + 64];
    sfmt(md_path, sizeof md_path, "%s/report.md", r->tmp);
    sfmt(html_path, sizeof html_path, "%s/index.html", r->tmp);
    tdl_atomic_file amd, ahtml;
    int st = tdl_atomic_begin(md_path, &amd);
    if (st != TDL_OK) return st;
    if ((st = tdl_atomic_begin(html_path, &ahtml)) != TDL_OK) { tdl_atomic_abort(&amd); return st; }
    doc d = {amd.fp, ahtml.fp, {0}, 0, 0};
    time_t t = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    fprintf(d.md, "# tdl report\n\n");
    fputs(html_head, d.html);
    fputs("<h1>tdl report</h1>\n", d.html);
    doc_p(&d, "Model %s on %s%s%s. Made by tdl %s on %s in %.0f s with: %s", r->o.user_model ? r->model : "trained by this report",
          r->data, r->has_test ? ", test data " : "", r->has_test ? r->test : "", tdl_version(), when, seconds, cmdline);
    fputs("<nav><a href=\"#model\">model and data</a><a href=\"#training\">training</a><a href=\"#hessian\">Hessian</a>"
          "<a href=\"#class-split\">class structure</a>"
          "<a href=\"#landscape\">landscape</a><a href=\"#ntk\">NTK</a><a href=\"#bounds\">bounds</a><a href=\"#certify\">certificate</a><a href=\"#checks-on-data\">checks on this data</a><a href=\"#checks\">theorem checks (built-in)</a>"
          "<a href=\"#files\">files</a></nav>\n", d.html);
    if (r->failures) doc_note(&d, "%d part(s) of this report failed; each failed section says why (logs/ holds every command's stderr).", r->failures);
    section_model(&d, r);
    section_hessian(&d, r);
    section_class_split(&d, r);
    section_landscape(&d, r);
    section_ntk(&d, r);
    section_bounds(&d, r);
    section_certify(&d, r);
    section_data_checks(&d, r);
    section_checks(&d, r);
    doc_h2(&d, "files", "Commands and files");
    doc_p(&d, "Every number above comes from the JSON output of a tdl command run by this report (json/NAME.json; its stderr in logs/NAME.log). "
              "Figures are in fig/ as PNG, SVG and PDF with the gnuplot script (.gp) and data (.dat) beside them "
              "(restyle: edit the script, then gnuplot -e \"out='NAME.pdf'\" NAME.gp). Tables are in tables/ as CSV.");
    const char *head[4] = {"step", "command output", "status", "seconds"};
    doc_table_begin(&d, r, "steps", head, 4);
    for (size_t i = 0; i < r->n_steps; i++) {
        char js[64], sec[32], stat[600];
        sfmt(js, sizeof js, "json/%s.json", r->steps[i].name);
        sfmt(sec, sizeof sec, "%.1f", r->steps[i].seconds);
        if (r->steps[i].status == 0 && !r->steps[i].bad_json) sfmt(stat, sizeof stat, "ok");
        else sfmt(stat, sizeof stat, "FAILED: %s", r->steps[i].message);
        const char *cells[4] = {r->steps[i].label, js, stat, sec};
        doc_row(&d, cells, 4, r->steps[i].status != 0 || r->steps[i].bad_json);
    }
    doc_table_end(&d);
    fputs("</body>\n</html>\n", d.html);
    if (d.failed_io) r->failures++;
    if ((st = tdl_atomic_commit(&amd)) != TDL_OK) { tdl_atomic_abort(&ahtml); return st; }
    return tdl_atomic_commit(&ahtml);
}

