/* cmd_report.c — `tdl report`: the whole analysis of one model on one data
 * set, as a folder with index.html, report.md, figures, tables and the JSON
 * of every command it ran.
 *
 * The report runs the other commands as subprocesses of the same binary
 * (/proc/self/exe), in the output folder, each with --json (stdout saved in
 * json/NAME.json, stderr in logs/NAME.log) and, where a figure is drawn,
 * --plot fig/NAME.png; every figure is then rendered again as SVG and PDF
 * from the gnuplot script beside it (plot_also).  report.md and index.html
 * are written last, from the saved JSON files (cJSON), so every number in
 * them is the number a command printed.  Tables are also written as CSV
 * (tables/).
 *
 * Sections: data and model; training curve (when the report trains the
 * model); Hessian spectrum with the Gauss-Newton split and its density; a
 * 2D loss landscape and the interpolation from the initialization; the NTK
 * spectrum and drift; the bounds table (vacuous bounds marked); the theorem
 * checks (`tdl check --all --quick`).  A section whose command fails says so
 * in the report, and the exit status is 1 at the end.
 *
 * Atomicity: everything is built in DIR.tmp.XXXXXX beside DIR and renamed
 * to DIR at the end; an earlier report in DIR (marked by DIR/.tdl-report) is
 * replaced; any other existing non-empty DIR is refused before work starts.
 * Every terminating signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
 * SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGVTALRM, SIGPROF: those of
 * tdl_atomic_install_signal_cleanup) is forwarded to the running command,
 * which the report waits for; the report then removes the temporary folder,
 * leaves DIR as it was and dies of the same signal; one that arrives while the finished report is being
 * put in place acts once it is (DIR is then the new report).  An --out that
 * cannot be renamed over (".", "..", "/", the current folder or one that
 * holds it by any spelling, a mount point) is refused before work starts.  The tests stop
 * a report in the middle of a step with the test hook TDL_TEST_PAUSE_AT
 * (util.c), which the commands inherit.
 */
#define _XOPEN_SOURCE 700
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "modelopts.h"
#include "plot.h"
#include "check.h"
#include "internal.h"
#include "tdl_config.h"
#include "tdl/blas.h"

#define MAX_ARGS 64
#define MAX_STEPS 48
#define MAX_CHECKS 32
#define MARKER ".tdl-report"

/* ---- settings --------------------------------------------------------------- */

typedef struct report_opts {
    const char *model, *data, *test, *out, *arch, *act, *loss;
    size_t width, epochs, grid, threads;
    unsigned long seed;
    double lr;
    int quick, quiet, user_model, no_checks;
    const char *checks;        /* --checks a,b: these checks only (default: --all) */
    char check_names[MAX_CHECKS][64];
    size_t n_checks;
} report_opts;

/* One subprocess: what ran, how it ended. */
typedef struct step {
    char name[80];
    char label[128];
    int status;          /* exit status, or -1 not run */
    double seconds;
    char message[512];   /* last line of its stderr when it failed */
} step;

typedef struct report {
    report_opts o;
    char self[PATH_MAX];       /* this executable */
    char dir[PATH_MAX];        /* the final folder (as given) */
    char tmp[PATH_MAX];        /* the folder being built (absolute) */
    char model[PATH_MAX];      /* the model analysed (absolute) */
    char data[PATH_MAX], test[PATH_MAX];
    int has_test, has_init;
    int regression;            /* the data have no class labels: no bounds */
    step steps[MAX_STEPS];
    size_t n_steps, total_steps;
    int failures;
    double t0;
} report;

/* snprintf into a fixed buffer; text that does not fit is cut (names and
 * captions here are far below the buffer sizes). */
static void sfmt(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sfmt(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

/* A terminating signal during a report: the running command is stopped, the
 * temporary folder removed, and the report dies of the same signal. */
static volatile sig_atomic_t report_signal = 0;

/* The signals that end tdl: those of tdl_atomic_install_signal_cleanup
 * (internal.h), which main installed before the command ran. */
static const int stop_signals[] = {TDL_STOP_SIGNALS};
#define N_STOP_SIGNALS (sizeof stop_signals / sizeof stop_signals[0])
/* 1 for the signals the report catches (SIGHUP and SIGPIPE stay ignored when
 * tdl started with them ignored, as under nohup) */
static int stop_caught[N_STOP_SIGNALS];

/* The signals the report catches.  An ignored one (SIGHUP under nohup) is
 * left out: blocked, or waited for with sigwaitinfo, it would be queued and
 * taken as a stop signal instead of being discarded. */
static void stop_signal_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < N_STOP_SIGNALS; i++)
        if (stop_caught[i]) sigaddset(set, stop_signals[i]);
}

static int is_stop_signal(int sig)
{
    for (size_t i = 0; i < N_STOP_SIGNALS; i++)
        if (stop_signals[i] == sig) return stop_caught[i];
    return 0;
}

static void on_report_signal(int sig)
{
    report_signal = sig;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A file argument of a data spec made absolute (the commands run in the
 * output folder): PATH.csv/.npz[:mods] and npy:X=PATH,y=PATH[,mods]. */
static void absolute_spec(const char *spec, char *out, size_t len)
{
    char buf[PATH_MAX * 2 + 64], res[PATH_MAX];
    if (strncmp(spec, "npy:", 4) == 0) {
        size_t used = 4;
        sfmt(out, len, "npy:");
        sfmt(buf, sizeof buf, "%s", spec + 4);
        char *save = NULL;
        int first = 1;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            const char *val = tok;
            char key[4] = "";
            if ((tok[0] == 'X' || tok[0] == 'y') && tok[1] == '=') {
                key[0] = tok[0];
                key[1] = '=';
                val = tok + 2;
                if (realpath(val, res)) val = res;
            }
            if (used < len) {
                sfmt(out + used, len - used, "%s%s%s", first ? "" : ",", key, val);
                used += strlen(out + used);
            }
            first = 0;
        }
        return;
    }
    const char *colon = strchr(spec, ':');
    size_t plen = colon ? (size_t)(colon - spec) : strlen(spec);
    sfmt(buf, sizeof buf, "%.*s", (int)plen, spec);
    if ((strchr(buf, '/') || strchr(buf, '.')) && access(buf, F_OK) == 0 && realpath(buf, res))
        sfmt(out, len, "%s%s", res, colon ? colon : "");
    else
        sfmt(out, len, "%s", spec);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int remove_tree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Whether a folder exists and holds anything. */
static int dir_state(const char *path, int *exists, int *empty, int *is_report)
{
    struct stat sb;
    *exists = *empty = *is_report = 0;
    if (stat(path, &sb) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode)) return -1;
    *exists = 1;
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    *empty = 1;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        *empty = 0;
        if (strcmp(e->d_name, MARKER) == 0) *is_report = 1;
    }
    closedir(d);
    return 0;
}

static void path_in(const report *r, char *out, size_t len, const char *rel)
{
    sfmt(out, len, "%s/%s", r->tmp, rel);
}

static int file_exists(const report *r, const char *rel)
{
    char p[PATH_MAX + 256];
    path_in(r, p, sizeof p, rel);
    return access(p, F_OK) == 0;
}

/* ---- subprocesses ------------------------------------------------------------ */

/* The last non-empty line of a log file (the command's error line). */
static void last_line(const char *path, char *out, size_t len)
{
    out[0] = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        char *cr = strrchr(line, '\r'); /* progress lines: keep the text after the last \r */
        const char *text = cr && cr[1] && cr[1] != '\n' ? cr + 1 : line;
        size_t n = strlen(text);
        while (n && (text[n - 1] == '\n' || text[n - 1] == ' ')) n--;
        if (n) sfmt(out, len, "%.*s", (int)n, text);
    }
    fclose(fp);
}

/* Run `tdl ARGS...` in the output folder; stdout to json/NAME.json (when
 * json is set), stderr to logs/NAME.log.  Returns the step. */
static step *run_step(report *r, const char *name, const char *label, int json, const char *const *args)
{
    step *s = &r->steps[r->n_steps < MAX_STEPS ? r->n_steps++ : MAX_STEPS - 1];
    sfmt(s->name, sizeof s->name, "%s", name);
    sfmt(s->label, sizeof s->label, "%s", label);
    s->status = -1;
    s->message[0] = 0;
    char out_path[PATH_MAX + 64], log_path[PATH_MAX + 64];
    sfmt(out_path, sizeof out_path, "%s/json/%s.json", r->tmp, name);
    sfmt(log_path, sizeof log_path, "%s/logs/%s.log", r->tmp, name);
    if (!r->o.quiet) {
        fprintf(stderr, "tdl report: [%zu/%zu] %s ...", r->n_steps, r->total_steps, label);
        fflush(stderr);
    }
    const char *argv[MAX_ARGS + 2];
    size_t argc = 0;
    argv[argc++] = "tdl";
    for (size_t i = 0; args[i] && argc < MAX_ARGS; i++) argv[argc++] = args[i];
    /* --loss: every command that evaluates a loss */
    if (r->o.loss && strcmp(args[0], "info") != 0 && strcmp(args[0], "check") != 0 && argc < MAX_ARGS - 1) {
        argv[argc++] = "--loss";
        argv[argc++] = r->o.loss;
    }
    char threads[32];
    if (r->o.threads && strcmp(args[0], "info") != 0 && argc < MAX_ARGS - 1) {
        sfmt(threads, sizeof threads, "%zu", r->o.threads);
        argv[argc++] = "--threads";
        argv[argc++] = threads;
    }
    argv[argc] = NULL;
    double t = now();
    fflush(NULL);
    /* The terminating signals and SIGCHLD stay blocked from before the fork
     * until the command has ended, and the parent takes them with
     * sigwaitinfo: a stop signal that arrives at any moment (even between the
     * fork and the wait) is forwarded to the running command, never lost. */
    sigset_t waited, prev;
    stop_signal_set(&waited);
    sigaddset(&waited, SIGCHLD);
    sigprocmask(SIG_BLOCK, &waited, &prev);
    pid_t pid = report_signal ? -1 : fork();
    if (pid < 0) {
        if (report_signal) sfmt(s->message, sizeof s->message, "interrupted");
        else sfmt(s->message, sizeof s->message, "cannot start a subprocess: %s", strerror(errno));
    } else if (pid == 0) {
        /* the command's own signal handling: default dispositions (a
         * forwarded signal pending since the fork ends it), the mask as before;
         * an ignored SIGHUP / SIGPIPE stays ignored */
        for (size_t i = 0; i < N_STOP_SIGNALS; i++)
            if (stop_caught[i]) signal(stop_signals[i], SIG_DFL);
        sigprocmask(SIG_SETMASK, &prev, NULL);
        /* Plain open(2), not the atomic writer: these files are inside the
         * report's own temporary folder, which is renamed to DIR as a whole
         * only when the report is complete and removed on failure or a
         * signal, so no half-written file ever appears in DIR; and between
         * fork and exec only async-signal-safe calls are allowed. */
        int fo = open(json ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || chdir(r->tmp) != 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0) _exit(126);
        close(fo);
        close(fe);
        execv(r->self, (char *const *)(uintptr_t)argv);
        _exit(127);
    } else {
        int status = 0, forwarded = 0;
        for (;;) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid || (w < 0 && errno != EINTR)) break;
            if (report_signal && !forwarded) {
                kill(pid, report_signal);
                forwarded = 1;
            }
            int sig = sigwaitinfo(&waited, NULL); /* SIGCHLD: look again */
            if (is_stop_signal(sig)) report_signal = sig;
        }
        s->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        if (s->status != 0) last_line(log_path, s->message, sizeof s->message);
        if (s->status != 0 && !s->message[0]) sfmt(s->message, sizeof s->message, "exit status %d", s->status);
    }
    sigprocmask(SIG_SETMASK, &prev, NULL);
    s->seconds = now() - t;
    if (s->status != 0) r->failures++;
    if (!r->o.quiet) {
        if (s->status == 0) fprintf(stderr, " %.1f s\n", s->seconds);
        else fprintf(stderr, " FAILED (%.1f s): %s\n", s->seconds, s->message);
    }
    return s;
}

static const step *find_step(const report *r, const char *name)
{
    for (size_t i = 0; i < r->n_steps; i++)
        if (strcmp(r->steps[i].name, name) == 0) return &r->steps[i];
    return NULL;
}

/* The figure fig/NAME.png again as SVG and PDF. */
static void other_formats(report *r, const char *name)
{
    char png[PATH_MAX + 64];
    sfmt(png, sizeof png, "%s/fig/%s.png", r->tmp, name);
    if (access(png, F_OK) != 0) return;
    const char *exts[2] = {"svg", "pdf"};
    /* plot_also runs gnuplot (plot.c) and waits for it: the terminating
     * signals are held meanwhile (gnuplot inherits the mask and finishes),
     * so that no gnuplot outlives the report writing into its removed
     * folder; a held signal acts when they are released */
    sigset_t held, prev;
    stop_signal_set(&held);
    for (int k = 0; k < 2 && !report_signal; k++) {
        sigprocmask(SIG_BLOCK, &held, &prev);
        int st = plot_also(png, exts[k]);
        sigprocmask(SIG_SETMASK, &prev, NULL);
        if (st != TDL_OK && !report_signal) {
            if (!r->o.quiet) fprintf(stderr, "tdl report: %s\n", tdl_errmsg());
            r->failures++;
        }
    }
}

/* ---- JSON --------------------------------------------------------------------- */

static cJSON *load_json(const report *r, const char *name)
{
    char p[PATH_MAX + 64];
    sfmt(p, sizeof p, "%s/json/%s.json", r->tmp, name);
    FILE *fp = fopen(p, "rb");
    if (!fp) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            cap = 2 * cap + 65536 + 1;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(fp); return NULL; }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, 65536, fp);
        len += got;
        if (got < 65536) break;
    }
    fclose(fp);
    buf[len] = 0;
    cJSON *j = len ? cJSON_Parse(buf) : NULL;
    free(buf);
    return j;
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jbool(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsTrue(v) ? 1 : cJSON_IsFalse(v) ? 0 : -1;
}

/* Numbers in the report: 6 significant digits ("-" for none). */
static const char *num(char *buf, size_t len, double v)
{
    if (isnan(v)) sfmt(buf, len, "-");
    else sfmt(buf, len, "%.6g", v);
    return buf;
}

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
    doc_kv(d, k, num(b, sizeof b, v));
}

/* fig/NAME.png with links to its SVG, PDF, script and data. */
static void doc_figure(doc *d, const report *r, const char *name, const char *caption)
{
    char rel[128];
    sfmt(rel, sizeof rel, "fig/%s.png", name);
    if (!file_exists(r, rel)) {
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
    const step *s = find_step(r, step_name);
    if (!s) doc_note(d, "The %s was not computed.", what);
    else if (s->status != 0) doc_note(d, "The %s failed: %s (logs/%s.log).", what, s->message, step_name);
    else doc_note(d, "The %s gave no readable JSON (json/%s.json).", what, step_name);
    return 0;
}

/* The report replaces DIR as a whole: an input inside it (a model file kept
 * in an earlier report, say) would be deleted with the earlier report.
 * Refused before any work: 1 (message printed) or 0. */
static int inside_dir(const char *dir_real, const char *path)
{
    char res[PATH_MAX];
    if (!realpath(path, res)) return 0; /* missing: the command says so later */
    size_t n = strlen(dir_real);
    return strncmp(res, dir_real, n) == 0 && (res[n] == '/' || (n == 1 && dir_real[0] == '/'));
}

static int check_inputs_outside(const char *dir, const report_opts *o)
{
    char dir_real[PATH_MAX];
    if (!realpath(dir, dir_real)) return 0;
    if (o->model && inside_dir(dir_real, o->model))
        return cli_failf("--model %s lies inside --out %s, which the report replaces: move it or choose another --out", o->model, dir);
    const char *specs[2] = {o->data, o->test}, *names[2] = {"--data", "--test"};
    for (int k = 0; k < 2; k++) {
        char **files = NULL;
        if (!specs[k] || tdl_dataset_spec_files(specs[k], &files) != TDL_OK) continue; /* a bad spec fails later, by name */
        for (char **f = files; *f; f++)
            if (inside_dir(dir_real, *f)) {
                int rc = cli_failf("%s %s reads %s, which lies inside --out %s (the report replaces it): move it or choose another --out",
                                   names[k], specs[k], *f, dir);
                free(files);
                return rc;
            }
        free(files);
    }
    return 0;
}

/* ---- sections ---------------------------------------------------------------------- */

static void section_model(doc *d, report *r)
{
    doc_h2(d, "model", "Model and data");
    cJSON *data = load_json(r, "data"), *model = load_json(r, "model"), *train = load_json(r, "train");
    cJSON *ev = load_json(r, "eval-train"), *et = r->has_test ? load_json(r, "eval-test") : NULL;
    char b[64], b2[64];
    const char *head[2] = {"quantity", "value"};
    doc_table_begin(d, r, "summary", head, 2);
    if (data) {
        doc_kv(d, "data", jstr(data, "spec") ? jstr(data, "spec") : r->data);
        if (jstr(data, "description")) doc_kv(d, "data description", jstr(data, "description"));
        doc_kv_num(d, "examples n", jnum(data, "n"));
        doc_kv_num(d, "features d", jnum(data, "d"));
        doc_kv_num(d, "classes", jnum(data, "classes"));
        const cJSON *cc = cJSON_GetObjectItemCaseSensitive(data, "class_counts");
        if (cJSON_IsArray(cc)) {
            char counts[1024] = "";
            const cJSON *it;
            cJSON_ArrayForEach(it, cc) {
                size_t l = strlen(counts);
                sfmt(counts + l, sizeof counts - l, "%s%s", l ? " " : "", num(b, sizeof b, it->valuedouble));
            }
            doc_kv(d, "class counts", counts);
        }
    }
    if (r->has_test) doc_kv(d, "test data", r->test);
    if (model) {
        doc_kv(d, "model file", r->o.user_model ? r->model : "model.safetensors");
        doc_kv(d, "architecture", jstr(model, "arch") ? jstr(model, "arch") : "?");
        doc_kv(d, "activation", jstr(model, "activation") ? jstr(model, "activation") : "?");
        doc_kv(d, "parametrization", jstr(model, "parametrization") ? jstr(model, "parametrization") : "?");
        doc_kv_num(d, "parameters P", jnum(model, "params"));
        doc_kv(d, "initialization kept (init.* tensors)", r->has_init ? "yes" : "no");
    }
    if (train) {
        sfmt(b2, sizeof b2, "%s, lr %s, batch %.0f", jstr(train, "optimizer") ? jstr(train, "optimizer") : "?",
                 num(b, sizeof b, jnum(train, "lr")), jnum(train, "batch"));
        doc_kv(d, "training", b2);
        doc_kv_num(d, "epochs", jnum(train, "epochs"));
        doc_kv_num(d, "training seconds", jnum(train, "seconds"));
    }
    /* the last digits of every number depend on the BLAS kernel (tdl/blas.h);
     * the commands ran on the report's own, which they inherit */
    char kernel[320];
    sfmt(kernel, sizeof kernel, "%s (%s)", data && jstr(data, "blas_core") ? jstr(data, "blas_core") : tdl_blas_core(),
         tdl_blas_core_origin());
    doc_kv(d, "BLAS kernel (OpenBLAS)", kernel);
    if (ev) {
        doc_kv(d, "loss", jstr(ev, "loss_name") ? jstr(ev, "loss_name") : "?");
        doc_kv_num(d, "train loss (mean)", jnum(ev, "loss"));
        doc_kv_num(d, "train error", jnum(ev, "error"));
        doc_kv_num(d, "train accuracy", jnum(ev, "accuracy"));
    }
    if (et) {
        doc_kv_num(d, "test loss (mean)", jnum(et, "loss"));
        doc_kv_num(d, "test error", jnum(et, "error"));
        doc_kv_num(d, "test accuracy", jnum(et, "accuracy"));
    }
    doc_table_end(d);
    if (!data) section_failed(d, r, "data summary (tdl info --data)", "data");
    if (!model) section_failed(d, r, "model summary (tdl info --model)", "model");
    if (!ev) section_failed(d, r, "evaluation on the training data (tdl eval)", "eval-train");
    if (r->has_test && !et) section_failed(d, r, "evaluation on the test data (tdl eval)", "eval-test");
    doc_p(d, "Losses are means over examples (tdl help conventions); error = 1 - accuracy (0-1 loss).");

    doc_h2(d, "training", "Training curve");
    if (r->o.user_model) {
        doc_note(d, "No training curve: the model was given with --model (trained elsewhere); the report analyses it as it is.");
    } else if (train) {
        doc_figure(d, r, "training", "Training and test loss (mean, left axis) and accuracy (right axis) after each epoch; the log is tables/training.csv.");
    } else {
        section_failed(d, r, "training (tdl train)", "train");
    }
    cJSON_Delete(data);
    cJSON_Delete(model);
    cJSON_Delete(train);
    cJSON_Delete(ev);
    cJSON_Delete(et);
}

static void write_values_csv(report *r, const char *name, const char *const *head, const cJSON *const *cols, size_t ncols)
{
    char p[PATH_MAX + 64];
    sfmt(p, sizeof p, "%s/tables/%s.csv", r->tmp, name);
    tdl_atomic_file af;
    if (tdl_atomic_begin(p, &af) != TDL_OK) { r->failures++; return; }
    fputs("index", af.fp);
    for (size_t k = 0; k < ncols; k++) fprintf(af.fp, ",%s", head[k]);
    fputc('\n', af.fp);
    int rows = 0;
    for (size_t k = 0; k < ncols; k++)
        if (cols[k] && cJSON_GetArraySize(cols[k]) > rows) rows = cJSON_GetArraySize(cols[k]);
    for (int i = 0; i < rows; i++) {
        fprintf(af.fp, "%d", i);
        for (size_t k = 0; k < ncols; k++) {
            const cJSON *v = cols[k] ? cJSON_GetArrayItem(cols[k], i) : NULL;
            if (cJSON_IsNumber(v)) fprintf(af.fp, ",%.17g", v->valuedouble);
            else fputc(',', af.fp);
        }
        fputc('\n', af.fp);
    }
    if (tdl_atomic_commit(&af) != TDL_OK) r->failures++;
}

/* The k largest entries of an ascending array, as text. */
static void top_values(const cJSON *arr, int k, char *out, size_t len)
{
    int n = cJSON_GetArraySize(arr);
    out[0] = 0;
    char b[64];
    for (int i = n - 1; i >= 0 && i >= n - k; i--) {
        size_t l = strlen(out);
        sfmt(out + l, len - l, "%s%s", l ? ", " : "", num(b, sizeof b, cJSON_GetArrayItem(arr, i)->valuedouble));
    }
}

static void section_hessian(doc *d, report *r)
{
    doc_h2(d, "hessian", "Hessian spectrum");
    cJSON *h = load_json(r, "hessian"), *hd = h;
    if (!h) {
        section_failed(d, r, "Hessian spectrum (tdl hessian --gn)", "hessian");
    } else {
        doc_p(d, "The Hessian H of the mean training loss (%s) with respect to all %s parameters, in double precision, "
                 "and its Gauss-Newton split H = G + R (G = (1/n) sum_i J_i^T H_l,i J_i). All eigenvalues by LAPACK (%s).",
              jstr(h, "loss_name") ? jstr(h, "loss_name") : "?", jstr(h, "arch") ? jstr(h, "arch") : "",
              jstr(h, "driver") ? jstr(h, "driver") : "?");
        char top[512];
        const char *head[2] = {"quantity", "value"};
        doc_table_begin(d, r, "hessian", head, 2);
        doc_kv_num(d, "parameters", jnum(h, "params"));
        doc_kv_num(d, "loss at the model", jnum(h, "loss"));
        doc_kv_num(d, "lambda_max(H)", jnum(h, "lambda_max"));
        doc_kv_num(d, "lambda_min(H)", jnum(h, "lambda_min"));
        doc_kv_num(d, "trace(H)", jnum(h, "trace"));
        doc_kv_num(d, "trace(G)", jnum(h, "gn_trace"));
        doc_kv_num(d, "fraction of negative eigenvalues", jnum(h, "negative_fraction"));
        doc_kv_num(d, "condition number of the positive part", jnum(h, "condition_positive"));
        doc_kv_num(d, "zero tolerance |lambda| <=", jnum(h, "tolerance"));
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(h, "eigenvalues");
        const cJSON *gv = cJSON_GetObjectItemCaseSensitive(h, "gn_eigenvalues");
        const cJSON *rv = cJSON_GetObjectItemCaseSensitive(h, "residual_part_eigenvalues");
        if (cJSON_IsArray(ev)) { top_values(ev, 5, top, sizeof top); doc_kv(d, "top 5 eigenvalues of H", top); }
        if (cJSON_IsArray(gv)) { top_values(gv, 5, top, sizeof top); doc_kv(d, "top 5 eigenvalues of G", top); }
        if (cJSON_IsArray(rv)) { top_values(rv, 5, top, sizeof top); doc_kv(d, "top 5 eigenvalues of R = H - G", top); }
        doc_table_end(d);
        const char *vh[3] = {"H", "G", "R"};
        const cJSON *cols[3] = {ev, gv, rv};
        write_values_csv(r, "hessian-eigenvalues", vh, cols, 3);
        doc_figure(d, r, "hessian-spectrum", "Histogram of all eigenvalues of H (boxes) and of its Gauss-Newton part G (line); "
                                             "all eigenvalues in tables/hessian-eigenvalues.csv.");
    }
    if (!hd) {
        section_failed(d, r, "Hessian density (tdl hessian --density)", "hessian");
    } else {
        const cJSON *dens = cJSON_GetObjectItemCaseSensitive(hd, "density");
        char cap[512], b[64];
        sfmt(cap, sizeof cap, "Spectral density of H: the exact eigenvalues smoothed with a Gaussian (%s convention, sigma %s), log scale.",
                 dens && jstr(dens, "smoothing") ? jstr(dens, "smoothing") : "?", num(b, sizeof b, dens ? jnum(dens, "sigma") : NAN));
        doc_figure(d, r, "hessian-density", cap);
    }
    cJSON_Delete(h);
}

static void section_landscape(doc *d, report *r)
{
    doc_h2(d, "landscape", "Loss landscape");
    cJSON *l2 = load_json(r, "landscape-2d"), *li = load_json(r, "interpolation");
    const char *head[3] = {"slice", "quantity", "value"};
    char b[64];
    doc_table_begin(d, r, "landscape", head, 3);
    if (l2) {
        const char *c1[3] = {"2D random plane", "loss at the model (centre)", num(b, sizeof b, jnum(l2, "centre_loss"))};
        doc_row(d, c1, 3, 0);
        const char *c2[3] = {"2D random plane", "smallest loss on the grid", num(b, sizeof b, jnum(l2, "loss_min"))};
        doc_row(d, c2, 3, 0);
        const char *c3[3] = {"2D random plane", "largest loss on the grid", num(b, sizeof b, jnum(l2, "loss_max"))};
        doc_row(d, c3, 3, 0);
        const char *c4[3] = {"2D random plane", "cosine between the directions", num(b, sizeof b, jnum(l2, "cosine"))};
        doc_row(d, c4, 3, 0);
    }
    if (li) {
        const char *c1[3] = {"interpolation from init", "loss at the initialization (alpha = 0)", num(b, sizeof b, jnum(li, "loss_start"))};
        doc_row(d, c1, 3, 0);
        const char *c2[3] = {"interpolation from init", "loss at the model (alpha = 1)", num(b, sizeof b, jnum(li, "loss_end"))};
        doc_row(d, c2, 3, 0);
        const char *c3[3] = {"interpolation from init", "largest loss on the path", num(b, sizeof b, jnum(li, "loss_max"))};
        doc_row(d, c3, 3, 0);
    }
    doc_table_end(d);
    if (l2) {
        char cap[512];
        sfmt(cap, sizeof cap, "Training loss (mean) on the plane through the model spanned by two random directions, %s.",
                 jstr(l2, "normalization") ? jstr(l2, "normalization") : "");
        doc_figure(d, r, "landscape-2d", cap);
    } else {
        section_failed(d, r, "2D landscape (tdl landscape --plane random)", "landscape-2d");
    }
    if (!r->has_init) {
        doc_note(d, "No interpolation from the initialization: the model file has no init.* tensors.");
    } else if (li) {
        doc_figure(d, r, "interpolation", "Loss along the straight line (1 - alpha) theta_0 + alpha theta from the initialization "
                                          "(alpha = 0) to the trained model (alpha = 1), beyond both ends (Goodfellow et al. 2015).");
    } else {
        section_failed(d, r, "interpolation from the initialization (tdl landscape --to)", "interpolation");
    }
    cJSON_Delete(l2);
    cJSON_Delete(li);
}

/* Column `name` of tables/training.csv (NaN where empty); n rows. */
static int read_log_column(const report *r, const char *name, double **epochs, double **vals, size_t *n)
{
    char p[PATH_MAX + 64];
    sfmt(p, sizeof p, "%s/tables/training.csv", r->tmp);
    FILE *fp = fopen(p, "r");
    *epochs = *vals = NULL;
    *n = 0;
    if (!fp) return -1;
    char line[4096];
    int col = -1, rc = -1;
    size_t cap = 0;
    if (fgets(line, sizeof line, fp)) {
        int k = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save), k++)
            if (strcmp(tok, name) == 0) col = k;
    }
    if (col < 0) goto done;
    while (fgets(line, sizeof line, fp)) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            double *e = realloc(*epochs, cap * sizeof(double)), *v = e ? realloc(*vals, cap * sizeof(double)) : NULL;
            if (e) *epochs = e;
            if (!e || !v) goto done;
            *vals = v;
        }
        /* fields may be empty: walk by commas */
        const char *f = line;
        double ep = NAN, val = NAN;
        for (int k = 0; f; k++) {
            if (k == 0) ep = strtod(f, NULL);
            if (k == col) val = (*f == ',' || *f == '\n' || !*f) ? NAN : strtod(f, NULL);
            f = strchr(f, ',');
            if (f) f++;
        }
        (*epochs)[*n] = ep;
        (*vals)[*n] = val;
        (*n)++;
    }
    rc = 0;
done:
    fclose(fp);
    return rc;
}

static void section_ntk(doc *d, report *r)
{
    doc_h2(d, "ntk", "Neural tangent kernel");
    cJSON *k = load_json(r, "ntk");
    if (!k) {
        section_failed(d, r, "NTK (tdl ntk)", "ntk");
        return;
    }
    doc_p(d, "The empirical NTK Gram matrix of the trained model on the training inputs (%s; %s).",
          jstr(k, "normalization") ? jstr(k, "normalization") : "", jstr(k, "method") ? jstr(k, "method") : "");
    const char *head[2] = {"quantity", "value"};
    doc_table_begin(d, r, "ntk", head, 2);
    doc_kv_num(d, "n", jnum(k, "n"));
    doc_kv_num(d, "lambda_max", jnum(k, "lambda_max"));
    doc_kv_num(d, "lambda_min", jnum(k, "lambda_min"));
    doc_kv_num(d, "trace", jnum(k, "trace"));
    doc_kv_num(d, "condition number", jnum(k, "condition_number"));
    doc_kv_num(d, "largest stable learning rate 2n/lambda_max (mse)", jnum(k, "eta_max"));
    if (r->has_init) doc_kv_num(d, "drift ||K_T - K_0||_F / ||K_0||_F", jnum(k, "drift"));
    doc_table_end(d);
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(k, "eigenvalues");
    const char *vh[1] = {"eigenvalue"};
    const cJSON *cols[1] = {ev};
    write_values_csv(r, "ntk-eigenvalues", vh, cols, 1);
    doc_figure(d, r, "ntk-spectrum", "Eigenvalues of the NTK Gram matrix in descending order (log-log); all of them in tables/ntk-eigenvalues.csv.");
    if (!r->o.user_model && r->has_init) {
        if (file_exists(r, "fig/ntk-drift.png"))
            doc_figure(d, r, "ntk-drift", "Relative change of the NTK during training, ||K_t - K_0||_F / ||K_0||_F on the first 256 training inputs "
                                          "(tdl train --log-ntk-drift, column ntk_drift of tables/training.csv).");
        else
            doc_note(d, "The NTK drift curve was not drawn (no ntk_drift column in the training log).");
    } else if (r->o.user_model) {
        doc_note(d, "No NTK drift curve: the model was trained elsewhere (the final drift is in the table when the file keeps its initialization).");
    }
    cJSON_Delete(k);
}

static void section_bounds(doc *d, report *r)
{
    doc_h2(d, "bounds", "Generalization bounds");
    if (r->regression) {
        doc_note(d, "No bounds table: the bounds are on the classification error and the data set has no class labels (a regression task).");
        return;
    }
    cJSON *b = load_json(r, "bounds");
    if (!b) {
        section_failed(d, r, "bounds table (tdl bounds)", "bounds");
        return;
    }
    char x[64], y[64], z[64];
    doc_p(d, "Complexity measures and bounds on the test error, each with its source and confidence delta; "
             "train error %s%s%s. Rows in bold are vacuous (bound >= 1).",
          num(x, sizeof x, jnum(b, "train_error")), r->has_test ? ", test error " : "", r->has_test ? num(y, sizeof y, jnum(b, "test_error")) : "");
    const char *head[6] = {"measure", "value", "bound", "vacuous", "delta", "source"};
    doc_table_begin(d, r, "bounds", head, 6);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(b, "measures"), *it;
    size_t vacuous = 0, with_bound = 0;
    cJSON_ArrayForEach(it, ms) {
        if (jbool(it, "available") == 0) continue;
        double bound = jnum(it, "bound");
        int vac = !isnan(bound) && jbool(it, "vacuous") == 1;
        if (!isnan(bound)) { with_bound++; vacuous += (size_t)vac; }
        const char *cells[6] = {jstr(it, "name") ? jstr(it, "name") : "?", num(x, sizeof x, jnum(it, "value")), num(y, sizeof y, bound),
                                isnan(bound) ? "-" : (vac ? "VACUOUS" : "no"), num(z, sizeof z, jnum(it, "delta")),
                                jstr(it, "source") ? jstr(it, "source") : ""};
        doc_row(d, cells, 6, vac);
    }
    doc_table_end(d);
    doc_p(d, "%zu of %zu bounds are vacuous. Measures the model does not support are left out (json/bounds.json gives the reasons).",
          vacuous, with_bound);
    doc_figure(d, r, "bounds", "Each bound on the test error (log scale) against the vacuous level 1; the caption names the measures in table order.");
    cJSON_Delete(b);
}

static void section_checks(doc *d, report *r)
{
    doc_h2(d, "checks", "Theorem checks");
    if (r->o.no_checks) {
        doc_note(d, "The theorem checks were left out (--no-checks).");
        return;
    }
    cJSON *c = NULL;
    const cJSON *list = NULL;
    if (r->o.n_checks) {
        /* --checks: one JSON a check (json/check-NAME.json) */
        c = cJSON_CreateArray();
        for (size_t k = 0; c && k < r->o.n_checks; k++) {
            char name[80];
            sfmt(name, sizeof name, "check-%s", r->o.check_names[k]);
            cJSON *one = load_json(r, name);
            if (one) cJSON_AddItemToArray(c, one);
            else section_failed(d, r, "theorem check", name);
        }
        list = c;
    } else {
        c = load_json(r, "checks");
        list = c ? cJSON_GetObjectItemCaseSensitive(c, "checks") : NULL;
    }
    if (!cJSON_IsArray(list)) {
        section_failed(d, r, "theorem checks (tdl check --all --quick)", "checks");
        cJSON_Delete(c);
        return;
    }
    if (r->o.n_checks)
        doc_p(d, "The checks chosen with --checks, in their quick mode (seconds-scale; `tdl check NAME` runs the full experiment). "
                 "A check compares measured numbers with a theorem's prediction; failed checks are in bold.");
    else
        doc_p(d, "Every check that exists in this build (tdl check --list), in its quick mode (seconds-scale; `tdl check NAME` runs the full experiment). "
                 "A check compares measured numbers with a theorem's prediction; failed checks are in bold.");
    const char *head[6] = {"check", "verdict", "criteria met", "seconds", "claim", "source"};
    doc_table_begin(d, r, "checks", head, 6);
    const cJSON *it;
    int passed = 0, total = 0;
    cJSON_ArrayForEach(it, list) {
        int met = 0, judged = 0;
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(it, "rows"), *row;
        cJSON_ArrayForEach(row, rows) {
            int ok = jbool(row, "ok");
            if (ok >= 0) { judged++; met += ok; }
        }
        int p = jbool(it, "passed") == 1;
        passed += p;
        total++;
        char crit[32], sec[64];
        sfmt(crit, sizeof crit, "%d of %d", met, judged);
        const char *cells[6] = {jstr(it, "name") ? jstr(it, "name") : "?", p ? "pass" : "FAIL", crit, num(sec, sizeof sec, jnum(it, "seconds")),
                                jstr(it, "claim") ? jstr(it, "claim") : "", jstr(it, "source") ? jstr(it, "source") : ""};
        doc_row(d, cells, 6, !p);
    }
    doc_table_end(d);
    doc_p(d, "%d of %d checks passed. Each check's rows (measured, predicted, criterion) are in %s.", passed, total,
          r->o.n_checks ? "json/check-NAME.json" : "json/checks.json");
    const step *s = find_step(r, "checks");
    if (s && s->status != 0 && passed == total)
        doc_note(d, "tdl check ended with status %d: %s (logs/checks.log).", s->status, s->message);
    cJSON_Delete(c);
}

/* fig/hessian-spectrum: histograms of the eigenvalues of H and G on common
 * bins (the numbers of json/hessian.json). */
static int hessian_histogram(report *r, const cJSON *h)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(h, "eigenvalues");
    const cJSON *gv = cJSON_GetObjectItemCaseSensitive(h, "gn_eigenvalues");
    int n = cJSON_GetArraySize(ev), ng = cJSON_GetArraySize(gv);
    if (!cJSON_IsArray(ev) || n < 1) return tdl_fail(TDL_EFORMAT, "json/hessian.json: no eigenvalues");
    enum { BINS = 60 };
    double lo = INFINITY, hi = -INFINITY;
    const cJSON *it;
    cJSON_ArrayForEach(it, ev) { lo = fmin(lo, it->valuedouble); hi = fmax(hi, it->valuedouble); }
    cJSON_ArrayForEach(it, gv) { lo = fmin(lo, it->valuedouble); hi = fmax(hi, it->valuedouble); }
    if (!(hi > lo)) { hi = lo + 0.5; lo -= 0.5; }
    double centre[BINS], ch[BINS], cg[BINS], w = (hi - lo) / BINS;
    for (int b = 0; b < BINS; b++) { centre[b] = lo + (b + 0.5) * w; ch[b] = cg[b] = 0; }
    cJSON_ArrayForEach(it, ev) { int b = (int)((it->valuedouble - lo) / w); ch[b < BINS ? b : BINS - 1] += 1; }
    cJSON_ArrayForEach(it, gv) { int b = (int)((it->valuedouble - lo) / w); cg[b < BINS ? b : BINS - 1] += 1; }
    plot_series ser[2] = {{"H = G + R", centre, ch, BINS, PLOT_BOXES}, {"Gauss-Newton part G", centre, cg, BINS, PLOT_LINESPOINTS}};
    char title[128], cap[1024], p[PATH_MAX + 64];
    sfmt(title, sizeof title, "Hessian spectrum: all %d eigenvalues of H and of G (LAPACK)", n);
    sfmt(cap, sizeof cap, "%s (%s), all parameters, loss %s (mean) = %.6g; data %s; exact H and G (tdl hessian --gn), 60 common bins",
         r->o.user_model ? r->model : "model.safetensors", jstr(h, "arch") ? jstr(h, "arch") : "?",
         jstr(h, "loss_name") ? jstr(h, "loss_name") : "?", jnum(h, "loss"), r->data);
    plot_spec spec = {0};
    spec.title = title;
    spec.xlabel = "eigenvalue (Hessian of the mean training loss)";
    spec.ylabel = "count (log scale)";
    spec.caption = cap;
    spec.logy = 1;
    spec.ymin = 0.5; /* single eigenvalues stay visible */
    spec.series = ser;
    spec.n_series = ng > 0 ? 2 : 1;
    sfmt(p, sizeof p, "%s/fig/hessian-spectrum.png", r->tmp);
    return plot_render(p, &spec);
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
static int write_documents(report *r, const char *cmdline, double seconds)
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
          r->data, r->has_test ? ", test data " : "", r->has_test ? r->test : "", TDL_VERSION, when, seconds, cmdline);
    fputs("<nav><a href=\"#model\">model and data</a><a href=\"#training\">training</a><a href=\"#hessian\">Hessian</a>"
          "<a href=\"#landscape\">landscape</a><a href=\"#ntk\">NTK</a><a href=\"#bounds\">bounds</a><a href=\"#checks\">theorem checks</a>"
          "<a href=\"#files\">files</a></nav>\n", d.html);
    if (r->failures) doc_note(&d, "%d part(s) of this report failed; each failed section says why (logs/ holds every command's stderr).", r->failures);
    section_model(&d, r);
    section_hessian(&d, r);
    section_landscape(&d, r);
    section_ntk(&d, r);
    section_bounds(&d, r);
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
        if (r->steps[i].status == 0) sfmt(stat, sizeof stat, "ok");
        else sfmt(stat, sizeof stat, "FAILED: %s", r->steps[i].message);
        const char *cells[4] = {r->steps[i].label, js, stat, sec};
        doc_row(&d, cells, 4, r->steps[i].status != 0);
    }
    doc_table_end(&d);
    fputs("</body>\n</html>\n", d.html);
    if (d.failed_io) r->failures++;
    if ((st = tdl_atomic_commit(&amd)) != TDL_OK) { tdl_atomic_abort(&ahtml); return st; }
    return tdl_atomic_commit(&ahtml);
}

/* ---- the command ------------------------------------------------------------------------ */

/* Model file with its initialization as the parameters (for the
 * interpolation from init). */
static int write_init_model(report *r, const char *rel)
{
    tdl_mlp *m = NULL;
    tdl_act act;
    int st = TDL_OK;
    if (r->o.act && (st = tdl_act_parse(r->o.act, &act)) != TDL_OK) return st;
    char src[PATH_MAX + 64];
    if (r->model[0] == '/') sfmt(src, sizeof src, "%s", r->model);
    else path_in(r, src, sizeof src, r->model);
    if ((st = tdl_mlp_load(src, r->o.act ? &act : NULL, &m)) != TDL_OK) return st;
    if (!m->theta0) {
        tdl_mlp_free(&m);
        return tdl_fail(TDL_EINVAL, "%s: no init.* tensors", r->model);
    }
    memcpy(m->theta, m->theta0, m->n_params * sizeof(double));
    char p[PATH_MAX + 64];
    path_in(r, p, sizeof p, rel);
    st = tdl_mlp_save(p, m);
    tdl_mlp_free(&m);
    return st;
}

enum {
    OPT_DATA = 2000, OPT_TEST, OPT_OUT, OPT_QUICK, OPT_EPOCHS, OPT_WIDTH, OPT_LR, OPT_GRID, OPT_NO_CHECKS,
    OPT_THREADS, OPT_QUIET, OPT_CHECKS
};

/* An --out the report can rename its finished folder over, checked before
 * any work: rename(2) fails (EBUSY / EINVAL) for ".", "..", "/", a folder
 * that holds the current one (by any spelling: compared by st_dev/st_ino
 * with "." and each of its parents) and a mount point (st_dev differs from
 * that of its parent).  The last path component "." or ".." is refused by
 * spelling, even when the folder does not exist.  Returns 0 or the exit
 * status of the one-line error. */
static int check_renamable(const char *dir, int exists)
{
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    if (strcmp(dir, "/") == 0)
        return cli_failf("/: the root folder cannot be replaced by a report (--out); choose a folder inside it");
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return cli_failf("%s: a report replaces its --out folder, which cannot be '.' or '..'; name a folder", dir);
    if (!exists) return 0;
    struct stat d, up, c;
    char parent[PATH_MAX + 4];
    if (stat(dir, &d) != 0) return cli_failf("%s: %s", dir, strerror(errno));
    sfmt(parent, sizeof parent, "%s/..", dir);
    if (stat(parent, &up) != 0) return cli_failf("%s: %s", parent, strerror(errno));
    if (d.st_dev == up.st_dev && d.st_ino == up.st_ino)
        return cli_failf("%s: the root folder cannot be replaced by a report (--out); choose a folder inside it", dir);
    if (d.st_dev != up.st_dev)
        return cli_failf("%s: a mount point cannot be replaced by a report (--out); choose a folder inside it", dir);
    /* the current folder and its parents up to the root */
    char cur[PATH_MAX] = ".";
    for (int depth = 0; depth < PATH_MAX / 3 && stat(cur, &c) == 0; depth++) {
        if (c.st_dev == d.st_dev && c.st_ino == d.st_ino)
            return cli_failf("%s: %s; a report replaces its --out folder: choose another one", dir,
                             depth == 0 ? "the current folder" : "holds the current folder");
        struct stat above;
        sfmt(parent, sizeof parent, "%s/..", cur);
        if (stat(parent, &above) != 0 || (above.st_dev == c.st_dev && above.st_ino == c.st_ino)) break; /* the root */
        sfmt(cur, sizeof cur, "%s", depth == 0 ? ".." : parent);
    }
    return 0;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        MODEL_LONG_OPTIONS,
        {"data", required_argument, NULL, OPT_DATA}, {"test", required_argument, NULL, OPT_TEST},
        {"out", required_argument, NULL, OPT_OUT}, {"quick", no_argument, NULL, OPT_QUICK},
        {"epochs", required_argument, NULL, OPT_EPOCHS}, {"width", required_argument, NULL, OPT_WIDTH},
        {"lr", required_argument, NULL, OPT_LR}, {"grid", required_argument, NULL, OPT_GRID},
        {"no-checks", no_argument, NULL, OPT_NO_CHECKS}, {"checks", required_argument, NULL, OPT_CHECKS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {NULL, 0, NULL, 0},
    };
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    report *r = calloc(1, sizeof *r);
    if (!r) return cli_failf("out of memory");
    report_opts *o = &r->o;
    o->out = "report";
    o->lr = 0.05;
    int epochs_given = 0, width_given = 0, grid_given = 0, test_given = 0, c, rc = EXIT_WORK_FAILED;
    opterr = 0;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "o:", opts, "report")) != -1) {
        if (c == CLI_GETOPT_USAGE) { free(r); return EXIT_USAGE; }
        int mr = cli_model_opts_parse(&mo, "report", c, optarg);
        if (mr < 0) { free(r); return EXIT_USAGE; }
        if (mr > 0) continue;
        int bad = 0;
        switch (c) {
        case OPT_DATA: o->data = optarg; break;
        case OPT_TEST: o->test = optarg; test_given = 1; break;
        case 'o':
        case OPT_OUT: o->out = optarg; break;
        case OPT_QUICK: o->quick = 1; break;
        case OPT_EPOCHS: bad = cli_parse_size(optarg, 1, 100000, &o->epochs); epochs_given = 1; break;
        case OPT_WIDTH: bad = cli_parse_size(optarg, 1, 100000, &o->width); width_given = 1; break;
        case OPT_LR: bad = cli_parse_double(optarg, &o->lr) || !(o->lr > 0) || !isfinite(o->lr); break;
        case OPT_GRID: bad = cli_parse_size(optarg, 3, 501, &o->grid); grid_given = 1; break;
        case OPT_NO_CHECKS: o->no_checks = 1; break;
        case OPT_CHECKS: o->checks = optarg; break;
        case OPT_THREADS: bad = cli_parse_size(optarg, 1, 1024, &o->threads); break;
        case OPT_QUIET: o->quiet = 1; break;
        default: free(r); return cli_bad_option("report", argv, optopt);
        }
        if (bad) { free(r); return cli_usage("report", "bad value '%s' for %s", optarg, cli_option_name(opts, c)); }
    }
    if (optind < argc) { free(r); return cli_usage("report", "unexpected argument '%s'", argv[optind]); }
    o->model = mo.model;
    o->act = mo.act;
    o->arch = mo.arch;
    if (o->checks) {
        if (o->no_checks) { free(r); return cli_usage("report", "give --checks LIST or --no-checks, not both"); }
        char buf[MAX_CHECKS * 64], *save = NULL;
        size_t cl = strlen(o->checks);
        if (!cl || o->checks[0] == ',' || o->checks[cl - 1] == ',' || strstr(o->checks, ",,")) {
            int st = cli_usage("report", "bad value '%s' for --checks: check names, comma separated, none empty", o->checks);
            free(r);
            return st;
        }
        sfmt(buf, sizeof buf, "%s", o->checks);
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (!pc_find(tok)) { free(r); return cli_usage("report", "--checks: unknown check '%s' (see 'tdl check --list')", tok); }
            if (o->n_checks == MAX_CHECKS) { free(r); return cli_usage("report", "--checks: at most %d names", MAX_CHECKS); }
            sfmt(o->check_names[o->n_checks++], sizeof o->check_names[0], "%s", tok);
        }
        if (!o->n_checks) { free(r); return cli_usage("report", "--checks: give check names, comma separated"); }
    }
    o->loss = mo.loss;
    o->user_model = mo.model != NULL;
    int init_opts = mo.init || mo.param || mo.freeze || !isnan(mo.sigma_w) || mo.sigma_b != 0 || !mo.bias;
    if (o->user_model && init_opts) {
        free(r);
        return cli_usage("report", "--init, --param, --sigma-w, --sigma-b, --no-bias and --freeze describe the net the report trains; drop them with --model");
    }
    if (o->user_model && !o->data) { free(r); return cli_usage("report", "--model needs --data SPEC (the data to analyse it on)"); }
    if (o->user_model && (epochs_given || width_given || o->arch)) {
        free(r);
        return cli_usage("report", "--epochs, --width and --arch describe the net the report trains; drop them with --model");
    }
    if (o->arch && width_given) { free(r); return cli_usage("report", "give --arch or --width, not both"); }
    if (!o->data) {
        /* the shipped default: digits, train/test split */
        o->data = o->quick ? "digits:split=train,n=400" : "digits:split=train";
        if (!test_given) o->test = o->quick ? "digits:split=test,n=200" : "digits:split=test";
    }
    if (!epochs_given) o->epochs = o->quick ? 8 : 30;
    if (!width_given) o->width = o->quick ? 16 : 32;
    if (!grid_given) o->grid = o->quick ? 9 : 31;
    o->seed = mo.seed;
    cli_set_threads(o->threads);

    double t0 = now();
    cJSON *dj = NULL;
    /* the terminating signals are held while the documents are written and
     * the folder is renamed: the signal then acts after it, so DIR is always
     * the earlier report or the new one, never missing or half replaced */
    sigset_t stop_set, stop_prev;
    int stop_held = 0; /* stop_set: once the handlers are installed */
    sfmt(r->dir, sizeof r->dir, "%s", o->out);
    size_t dl = strlen(r->dir);
    while (dl > 1 && r->dir[dl - 1] == '/') r->dir[--dl] = 0;
    int exists, empty, is_report;
    if (dir_state(r->dir, &exists, &empty, &is_report) != 0) { rc = cli_failf("%s: not a folder (--out)", r->dir); goto cleanup; }
    if ((rc = check_renamable(r->dir, exists)) != 0) goto cleanup;
    if (exists && (rc = check_inputs_outside(r->dir, o)) != 0) goto cleanup;
    rc = EXIT_WORK_FAILED;
    if (exists && !empty && !is_report) {
        rc = cli_failf("%s: the folder exists and is not a tdl report (no %s); choose another --out or remove it", r->dir, MARKER);
        goto cleanup;
    }
    if (readlink("/proc/self/exe", r->self, sizeof r->self - 1) < 0) { rc = cli_failf("cannot find the tdl executable: %s", strerror(errno)); goto cleanup; }
    {
        /* from here a signal is recorded (and the temporary folder, once
         * made, removed at the end) instead of ending the process at once */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_report_signal;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < N_STOP_SIGNALS; i++) {
            struct sigaction old;
            stop_caught[i] = 0;
            if (sigaction(stop_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN &&
                (stop_signals[i] == SIGHUP || stop_signals[i] == SIGPIPE))
                continue; /* inherited ignored (nohup): main left it so */
            if (sigaction(stop_signals[i], &sa, NULL) == 0) stop_caught[i] = 1;
        }
    }
    {
        char tmpl[PATH_MAX];
        sfmt(tmpl, sizeof tmpl, "%s.tmp.XXXXXX", r->dir);
        if (!mkdtemp(tmpl)) { rc = cli_failf("%s: cannot create a folder beside it: %s", r->dir, strerror(errno)); goto cleanup; }
        if (!realpath(tmpl, r->tmp)) { rc = cli_failf("%s: %s", tmpl, strerror(errno)); goto cleanup; }
    }
    const char *subdirs[4] = {"json", "logs", "fig", "tables"};
    for (int k = 0; k < 4; k++) {
        char p[PATH_MAX + 16];
        path_in(r, p, sizeof p, subdirs[k]);
        if (mkdir(p, 0755) != 0) { rc = cli_failf("%s: %s", p, strerror(errno)); goto cleanup; }
    }
    absolute_spec(o->data, r->data, sizeof r->data);
    r->has_test = o->test != NULL;
    if (r->has_test) absolute_spec(o->test, r->test, sizeof r->test);
    if (o->user_model && !realpath(o->model, r->model)) { rc = cli_failf("%s: %s", o->model, strerror(errno)); goto cleanup; }
    /* the commands run in the folder: the trained model by its own name */
    if (!o->user_model) sfmt(r->model, sizeof r->model, "model.safetensors");
    if (!o->quiet) fprintf(stderr, "tdl report: building %s in %s\n", r->dir, r->tmp);

    char seed[32], epochs[32], lr[64], grid[32], arch[128];
    sfmt(seed, sizeof seed, "%lu", o->seed);
    sfmt(epochs, sizeof epochs, "%zu", o->epochs);
    sfmt(lr, sizeof lr, "%.17g", o->lr);
    sfmt(grid, sizeof grid, "%zu", o->grid);
    const char *act = o->act ? o->act : "relu";
    r->total_steps = (o->user_model ? 8 : 9) + (r->has_test ? 1 : 0) + (o->no_checks ? 0 : o->n_checks ? o->n_checks : 1);

    /* 1. the data */
    {
        const char *a[] = {"info", "--data", r->data, "--json", NULL};
        run_step(r, "data", "data summary (tdl info --data)", 1, a);
    }
    dj = load_json(r, "data");
    r->regression = dj && jnum(dj, "classes") == 0;
    if (r->regression) r->total_steps--;
    /* 2. the model: trained here, or the user's */
    if (!o->user_model) {
        if (o->arch) {
            sfmt(arch, sizeof arch, "%s", o->arch);
        } else {
            double d = dj ? jnum(dj, "d") : NAN, classes = dj ? jnum(dj, "classes") : NAN;
            if (isnan(d)) { rc = cli_failf("%s: the data set could not be read (%s)", o->data, r->steps[0].message); goto cleanup; }
            sfmt(arch, sizeof arch, "%.0f-%zu-%.0f", d, o->width, classes > 0 ? classes : 1);
        }
        const char *a[MAX_ARGS] = {"train", "--data", r->data, "--arch", arch, "--act", act, "--seed", seed, "--epochs", epochs,
                                   "--lr", lr, "--log", "tables/training.csv", "--plot", "fig/training.png",
                                   "-o", "model.safetensors", "--json", "--quiet"};
        size_t n = 0;
        while (a[n]) n++;
        if (r->has_test) { a[n++] = "--test"; a[n++] = r->test; }
        a[n++] = "--log-ntk-drift";
        /* the fresh net's options, as given */
        char sw[64], sb[64];
        if (mo.init) { a[n++] = "--init"; a[n++] = mo.init; }
        if (mo.param) { a[n++] = "--param"; a[n++] = mo.param; }
        if (mo.freeze) { a[n++] = "--freeze"; a[n++] = mo.freeze; }
        if (!isnan(mo.sigma_w)) { sfmt(sw, sizeof sw, "%.17g", mo.sigma_w); a[n++] = "--sigma-w"; a[n++] = sw; }
        if (mo.sigma_b != 0) { sfmt(sb, sizeof sb, "%.17g", mo.sigma_b); a[n++] = "--sigma-b"; a[n++] = sb; }
        if (!mo.bias) a[n++] = "--no-bias";
        a[n] = NULL;
        step *s = run_step(r, "train", "training (tdl train)", 1, a);
        if (s->status != 0 && report_signal) { rc = cli_failf("interrupted; %s was not written", r->dir); goto cleanup; }
        if (s->status != 0) { rc = cli_failf("training failed: %s (the report needs the model)", s->message); goto cleanup; }
        other_formats(r, "training");
    }
    {
        const char *a[] = {"info", "--model", r->model, "--json", o->act ? "--act" : NULL, o->act, NULL};
        step *s = run_step(r, "model", "model summary (tdl info --model)", 1, a);
        if (s->status != 0 && report_signal) { rc = cli_failf("interrupted; %s was not written", r->dir); goto cleanup; }
        if (s->status != 0) {
            const char *why = s->message;
            if (strncmp(why, "tdl: error: ", 12) == 0) why += 12;   /* the command's own prefix */
            rc = cli_failf("the model cannot be read: %s", why);
            goto cleanup;
        }
        cJSON *mj = load_json(r, "model");
        r->has_init = mj && jbool(mj, "has_init") == 1;
        cJSON_Delete(mj);
    }
    /* every later command takes the model (and --act for a file without it) */
#define MODEL_ARGS "--model", r->model, "--data", r->data
    {
        /* A model that cannot be evaluated on the data (NaN weights, input
         * width or class count that do not match) fails the whole report
         * here, before any folder appears: every later section would fail. */
        const char *a[] = {"eval", MODEL_ARGS, "--json", o->act ? "--act" : NULL, o->act, NULL};
        step *s = run_step(r, "eval-train", "evaluation on the training data (tdl eval)", 1, a);
        if (s->status != 0 && report_signal) { rc = cli_failf("interrupted; %s was not written", r->dir); goto cleanup; }
        if (s->status != 0) {
            const char *why = s->message;
            if (strncmp(why, "tdl: error: ", 12) == 0) why += 12;
            rc = cli_failf("the model cannot be evaluated on %s: %s", r->data, why);
            goto cleanup;
        }
    }
    if (r->has_test) {
        const char *a[] = {"eval", "--model", r->model, "--data", r->test, "--json", o->act ? "--act" : NULL, o->act, NULL};
        run_step(r, "eval-test", "evaluation on the test data (tdl eval)", 1, a);
    }
    {
        /* one exact run: all eigenvalues of H, G and R, and the density */
        const char *a[] = {"hessian", MODEL_ARGS, "--gn", "--density", "--json", "--quiet", "--plot", "fig/hessian-density.png",
                           o->act ? "--act" : NULL, o->act, NULL};
        step *s = run_step(r, "hessian", "Hessian spectrum, Gauss-Newton split and density (tdl hessian --gn --density)", 1, a);
        other_formats(r, "hessian-density");
        if (s->status == 0) {
            cJSON *h = load_json(r, "hessian");
            if (!h || hessian_histogram(r, h) != TDL_OK) {
                if (!o->quiet) fprintf(stderr, "tdl report: the Hessian histogram: %s\n", h ? tdl_errmsg() : "no JSON");
                r->failures++;
            } else {
                other_formats(r, "hessian-spectrum");
            }
            cJSON_Delete(h);
        }
    }
    {
        const char *a[] = {"landscape", MODEL_ARGS, "--plane", "random", "--grid", grid, "--direction-seed", seed, "--json", "--quiet",
                           "--plot", "fig/landscape-2d.png", o->act ? "--act" : NULL, o->act, NULL};
        run_step(r, "landscape-2d", "2D loss landscape, random plane (tdl landscape)", 1, a);
        other_formats(r, "landscape-2d");
    }
    if (r->has_init) {
        int st = write_init_model(r, "model-init.safetensors");
        if (st != TDL_OK) {
            step *s = &r->steps[r->n_steps++];
            sfmt(s->name, sizeof s->name, "interpolation");
            sfmt(s->label, sizeof s->label, "interpolation from the initialization (tdl landscape --to)");
            s->status = 1;
            sfmt(s->message, sizeof s->message, "%s", tdl_errmsg());
            r->failures++;
        } else {
            const char *a[MAX_ARGS] = {"landscape", "--model", "model-init.safetensors", "--to", r->model, "--data", r->data,
                                       "--json", "--quiet", "--plot", "fig/interpolation.png"};
            size_t n = 0;
            while (a[n]) n++;
            if (o->quick) { a[n++] = "--grid"; a[n++] = "21"; }
            if (r->has_test) { a[n++] = "--test"; a[n++] = r->test; }
            if (o->act) { a[n++] = "--act"; a[n++] = o->act; }
            a[n] = NULL;
            run_step(r, "interpolation", "interpolation from the initialization (tdl landscape --to)", 1, a);
            other_formats(r, "interpolation");
        }
    } else {
        r->total_steps--;
    }
    {
        const char *a[] = {"ntk", MODEL_ARGS, "--json", "--plot", "fig/ntk-spectrum.png", r->has_init ? "--drift" : "--quiet",
                           o->act ? "--act" : NULL, o->act, NULL};
        run_step(r, "ntk", "NTK spectrum and drift (tdl ntk)", 1, a);
        other_formats(r, "ntk-spectrum");
    }
    if (!o->user_model && r->has_init) {
        /* the drift curve from the training log */
        double *ep = NULL, *dr = NULL;
        size_t n = 0;
        if (read_log_column(r, "ntk_drift", &ep, &dr, &n) == 0 && n > 0) {
            char p[PATH_MAX + 64], cap[512];
            sfmt(p, sizeof p, "%s/fig/ntk-drift.png", r->tmp);
            sfmt(cap, sizeof cap, "model.safetensors (%s, %s), data %s; empirical NTK (traced) on the first 256 training inputs; seed %lu",
                     arch, act, r->data, o->seed);
            plot_series s = {"||K_t - K_0||_F / ||K_0||_F", ep, dr, n, PLOT_LINESPOINTS};
            plot_spec spec = {.title = "NTK drift during training", .xlabel = "epoch", .ylabel = "relative change of the NTK (Frobenius)",
                              .caption = cap, .series = &s, .n_series = 1};
            if (plot_render(p, &spec) != TDL_OK) {
                if (!o->quiet) fprintf(stderr, "tdl report: %s\n", tdl_errmsg());
                r->failures++;
            } else {
                other_formats(r, "ntk-drift");
            }
        }
        free(ep);
        free(dr);
    }
    if (!r->regression) {
        const char *a[MAX_ARGS] = {"bounds", MODEL_ARGS, "--json", "--quiet", "--plot", "fig/bounds.png", "--bound-seed", seed};
        size_t n = 0;
        while (a[n]) n++;
        if (r->has_test) { a[n++] = "--test"; a[n++] = r->test; }
        if (o->quick) a[n++] = "--quick";
        if (r->has_init) a[n++] = "--pac-bayes-opt";
        if (o->act) { a[n++] = "--act"; a[n++] = o->act; }
        a[n] = NULL;
        run_step(r, "bounds", "generalization bounds (tdl bounds)", 1, a);
        other_formats(r, "bounds");
    }
#undef MODEL_ARGS
    if (!o->no_checks && !o->n_checks) {
        const char *a[] = {"check", "--all", "--quick", "--json", "--quiet", NULL};
        run_step(r, "checks", "theorem checks (tdl check --all --quick)", 1, a);
    }
    for (size_t k = 0; !o->no_checks && k < o->n_checks; k++) {
        char name[80], label[128];
        sfmt(name, sizeof name, "check-%s", o->check_names[k]);
        sfmt(label, sizeof label, "theorem check (tdl check %s --quick)", o->check_names[k]);
        const char *a[] = {"check", o->check_names[k], "--quick", "--json", "--quiet", NULL};
        run_step(r, name, label, 1, a);
    }

    stop_signal_set(&stop_set);
    sigprocmask(SIG_BLOCK, &stop_set, &stop_prev);
    stop_held = 1;
    if (report_signal) { rc = cli_failf("interrupted; %s was not written", r->dir); goto cleanup; }
    /* the documents, the marker, then the folder under its name */
    {
        char cmdline[2048] = "tdl";
        for (int i = 0; i < argc; i++) {
            size_t l = strlen(cmdline);
            sfmt(cmdline + l, sizeof cmdline - l, " %s", argv[i]);
        }
        if (!o->quiet) fprintf(stderr, "tdl report: writing report.md and index.html\n");
        char p[PATH_MAX + 32];
        path_in(r, p, sizeof p, MARKER);
        static const char marker_text[] = "a folder written by tdl report; tdl report --out replaces it\n";
        int st = tdl_write_file_atomic(p, marker_text, sizeof marker_text - 1);
        if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
        st = write_documents(r, cmdline, now() - t0);
        if (st != TDL_OK) { rc = cli_fail(st); goto cleanup; }
    }
    {
        char old[PATH_MAX + 32] = "";
        if (dir_state(r->dir, &exists, &empty, &is_report) == 0 && exists) {
            if (empty) rmdir(r->dir);
            else {
                sfmt(old, sizeof old, "%s.old.%ld", r->dir, (long)getpid());
                if (rename(r->dir, old) != 0) { rc = cli_failf("%s: cannot replace the earlier report: %s", r->dir, strerror(errno)); goto cleanup; }
            }
        }
        if (rename(r->tmp, r->dir) != 0) {
            rc = cli_failf("%s: cannot rename %s to it: %s", r->dir, r->tmp, strerror(errno));
            if (old[0]) rename(old, r->dir);
            goto cleanup;
        }
        r->tmp[0] = 0;
        if (old[0]) remove_tree(old);
    }
    if (!o->quiet) fprintf(stderr, "tdl report: %s/index.html and %s/report.md in %.0f s%s\n", r->dir, r->dir, now() - t0,
                           r->failures ? "; some sections FAILED (see the report)" : "");
    if (r->failures) rc = cli_failf("%d part(s) of the report failed; %s/report.md says which", r->failures, r->dir);
    else rc = 0;
cleanup:
    if (stop_held) sigprocmask(SIG_SETMASK, &stop_prev, NULL); /* a held signal sets report_signal now */
    /* a run that stops before the documents leaves no folder behind */
    if (rc != 0 && r->tmp[0] && (report_signal || !file_exists(r, "index.html"))) remove_tree(r->tmp);
    cJSON_Delete(dj);
    free(r);
    if (report_signal) {
        int sig = report_signal;
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return rc;
}
