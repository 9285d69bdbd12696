/* report_steps.c — `tdl report`: the other commands run as subprocesses of
 * the same binary (/proc/self/exe), in the output folder, each with --json
 * (stdout saved in json/NAME.json, stderr in logs/NAME.log), and the output
 * folder built beside DIR and renamed to it at the end (report.h).
 *
 * Signals: every terminating signal (TDL_STOP_SIGNALS, tdl/fileio.h: those
 * of tdl_atomic_install_signal_cleanup) is forwarded to the running command,
 * which the report waits for; the report then removes the temporary folder,
 * leaves DIR as it was and dies of the same signal (cmd_report.c).  A signal
 * inherited ignored (SIGHUP under nohup) stays ignored.
 *
 * JSON: when a step ends, its output is parsed (cJSON) and checked against
 * the key table (report_keys.c); a key missing makes the step fail with one
 * message naming the command, the file and the key.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "plot.h"
#include "report.h"
#include "tdl/data.h"
#include "tdl/error.h"
#include "tdl/fileio.h"
#include "tdl/io.h"

volatile sig_atomic_t report_signal = 0;

void sfmt(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

double report_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void report_path(const report *r, char *out, size_t len, const char *rel)
{
    sfmt(out, len, "%s/%s", r->tmp, rel);
}

int report_file_exists(const report *r, const char *rel)
{
    char p[PATH_MAX + 256];
    report_path(r, p, sizeof p, rel);
    return access(p, F_OK) == 0;
}

/* ---- signals ------------------------------------------------------------------- */

/* The signals that end tdl: those of tdl_atomic_install_signal_cleanup
 * (tdl/fileio.h), which main installed before the command ran. */
static const int stop_signals[] = {TDL_STOP_SIGNALS};
#define N_STOP_SIGNALS (sizeof stop_signals / sizeof stop_signals[0])
/* 1 for the signals the report catches (SIGHUP and SIGPIPE stay ignored when
 * tdl started with them ignored, as under nohup) */
static int stop_caught[N_STOP_SIGNALS];

/* The signals the report catches.  An ignored one (SIGHUP under nohup) is
 * left out: blocked, or waited for with sigwaitinfo, it would be queued and
 * taken as a stop signal instead of being discarded. */
void report_stop_signal_set(sigset_t *set)
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

void report_catch_signals(void)
{
    /* from here a signal is recorded (and the temporary folder, once made,
     * removed at the end) instead of ending the process at once */
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

/* ---- the folder -------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int report_remove_tree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int report_dir_state(const char *path, int *exists, int *empty, int *is_report)
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
        if (strcmp(e->d_name, REPORT_MARKER) == 0) *is_report = 1;
    }
    closedir(d);
    return 0;
}

/* An --out the report can rename its finished folder over, checked before
 * any work: rename(2) fails (EBUSY / EINVAL) for ".", "..", "/", a folder
 * that holds the current one (by any spelling: compared by st_dev/st_ino
 * with "." and each of its parents) and a mount point (st_dev differs from
 * that of its parent).  The last path component "." or ".." is refused by
 * spelling, even when the folder does not exist. */
int report_check_renamable(const char *dir, int exists)
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

/* The report replaces DIR as a whole: an input inside it (a model file kept
 * in an earlier report, say) would be deleted with the earlier report. */
static int inside_dir(const char *dir_real, const char *path)
{
    char res[PATH_MAX];
    if (!realpath(path, res)) return 0; /* missing: the command says so later */
    size_t n = strlen(dir_real);
    return strncmp(res, dir_real, n) == 0 && (res[n] == '/' || (n == 1 && dir_real[0] == '/'));
}

int report_check_inputs_outside(const char *dir, const report_opts *o)
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

/* Copy spec[from, to) to out + *used, then the text rep. */
static void spec_piece(char *out, size_t len, size_t *used, const char *from, size_t n, const char *rep)
{
    if (*used < len) {
        sfmt(out + *used, len - *used, "%.*s%s", (int)n, from, rep);
        *used += strlen(out + *used);
    }
}

/* The files of the spec (tdl_dataset_spec_files: the path of PATH.csv /
 * PATH.npz, the X= and y= of npy:) are replaced, where they stand in the
 * spec, by their real paths; files that do not exist stay as they are (the
 * command names them).  A spec the library's grammar refuses keeps its
 * name before ':' made absolute when it names a file, so that the
 * command's message about the spec reads as before. */
void report_absolute_spec(const char *spec, char *out, size_t len)
{
    char **files = NULL, res[PATH_MAX];
    sfmt(out, len, "%s", spec);
    if (tdl_dataset_spec_files(spec, &files) != TDL_OK) {
        const char *colon = strchr(spec, ':');
        char name[PATH_MAX];
        sfmt(name, sizeof name, "%.*s", (int)(colon ? (size_t)(colon - spec) : strlen(spec)), spec);
        if ((strchr(name, '/') || strchr(name, '.')) && access(name, F_OK) == 0 && realpath(name, res))
            sfmt(out, len, "%s%s", res, colon ? colon : "");
        tdl_errclear();
        return;
    }
    /* each file stands in the spec as a whole item value: at the start
     * (ended by ':' or the end) or after '=' (ended by ',' or the end);
     * the spec is copied in order, each file replaced where it stands */
    struct spec_place { const char *at; size_t len; const char *file; } place[2];
    size_t n = 0;
    for (char **f = files; *f && n < 2; f++) {
        size_t fl = strlen(*f);
        for (const char *q = spec; (q = strstr(q, *f)) != NULL; q++)
            if ((q == spec || q[-1] == '=') && (q[fl] == 0 || q[fl] == ',' || (q == spec && q[fl] == ':')) &&
                !(n == 1 && place[0].at == q)) {
                place[n].at = q;
                place[n].len = fl;
                place[n++].file = *f;
                break;
            }
    }
    if (n == 2 && place[1].at < place[0].at) {
        struct spec_place t = place[0];
        place[0] = place[1];
        place[1] = t;
    }
    size_t used = 0;
    const char *p = spec;
    for (size_t i = 0; i < n; i++) {
        spec_piece(out, len, &used, p, (size_t)(place[i].at - p), realpath(place[i].file, res) ? res : place[i].file);
        p = place[i].at + place[i].len;
    }
    spec_piece(out, len, &used, p, strlen(p), "");
    free(files);
}

int report_make_tmp(report *r)
{
    char tmpl[PATH_MAX];
    sfmt(tmpl, sizeof tmpl, "%s.tmp.XXXXXX", r->dir);
    if (!mkdtemp(tmpl)) return cli_failf("%s: cannot create a folder beside it: %s", r->dir, strerror(errno));
    if (!realpath(tmpl, r->tmp)) return cli_failf("%s: %s", tmpl, strerror(errno));
    const char *subdirs[4] = {"json", "logs", "fig", "tables"};
    for (int k = 0; k < 4; k++) {
        char p[PATH_MAX + 16];
        report_path(r, p, sizeof p, subdirs[k]);
        if (mkdir(p, 0755) != 0) return cli_failf("%s: %s", p, strerror(errno));
    }
    return 0;
}

int report_put_in_place(report *r)
{
    char old[PATH_MAX + 32] = "";
    int exists, empty, is_report;
    if (report_dir_state(r->dir, &exists, &empty, &is_report) == 0 && exists) {
        if (empty) rmdir(r->dir);
        else {
            sfmt(old, sizeof old, "%s.old.%ld", r->dir, (long)getpid());
            if (rename(r->dir, old) != 0) return cli_failf("%s: cannot replace the earlier report: %s", r->dir, strerror(errno));
        }
    }
    if (rename(r->tmp, r->dir) != 0) {
        int rc = cli_failf("%s: cannot rename %s to it: %s", r->dir, r->tmp, strerror(errno));
        if (old[0]) rename(old, r->dir);
        return rc;
    }
    r->tmp[0] = 0;
    if (old[0]) report_remove_tree(old);
    return 0;
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

/* The command of a step, from its label "what (tdl CMD ...)". */
static void step_command(const step *s, char *out, size_t len)
{
    const char *open = strrchr(s->label, '(');
    const char *close = open ? strchr(open, ')') : NULL;
    if (open && close) sfmt(out, len, "%.*s", (int)(close - open - 1), open + 1);
    else sfmt(out, len, "tdl %s", s->name);
}

/* json/NAME.json parsed and checked against the key table: the step's JSON,
 * or NULL (no JSON: the section says so; a key missing from the output of a
 * command that succeeded: the step failed, its message names the key). */
static void load_step_json(const report *r, step *s)
{
    char p[PATH_MAX + 64];
    sfmt(p, sizeof p, "%s/json/%s.json", r->tmp, s->name);
    unsigned char *buf = NULL;
    size_t len = 0;
    s->json = NULL;
    if (tdl_read_file(p, (size_t)1 << 34, &buf, &len) != TDL_OK) {
        tdl_errclear();
        return;
    }
    cJSON *j = len ? cJSON_Parse((const char *)buf) : NULL;
    free(buf);
    if (!j) return;
    char why[400], cmd[128];
    if (report_keys_check(j, report_keys_group(s->name), why, sizeof why) != 0) {
        /* a command that failed keeps its own error line */
        if (s->status == 0) {
            step_command(s, cmd, sizeof cmd);
            sfmt(s->message, sizeof s->message, "%s, json/%s.json: %s", cmd, s->name, why);
            s->bad_json = 1;
        }
        cJSON_Delete(j);
        return;
    }
    s->json = j;
}

static step *new_step(report *r, const char *name, const char *label)
{
    step *s = &r->steps[r->n_steps < REPORT_MAX_STEPS ? r->n_steps++ : REPORT_MAX_STEPS - 1];
    cJSON_Delete(s->json);
    memset(s, 0, sizeof *s);
    sfmt(s->name, sizeof s->name, "%s", name);
    sfmt(s->label, sizeof s->label, "%s", label);
    s->status = -1;
    return s;
}

void report_failed_step(report *r, const char *name, const char *label, const char *message)
{
    step *s = new_step(r, name, label);
    s->status = 1;
    sfmt(s->message, sizeof s->message, "%s", message);
    r->failures++;
}

static step *run_step(report *r, const char *name, const char *label, int json, int may_not_apply, const char *const *args);

step *report_run_step(report *r, const char *name, const char *label, int json, const char *const *args)
{
    return run_step(r, name, label, json, 0, args);
}

step *report_run_data_check(report *r, const char *name, const char *label, const char *const *args)
{
    return run_step(r, name, label, 1, 1, args);
}

static step *run_step(report *r, const char *name, const char *label, int json, int may_not_apply, const char *const *args)
{
    step *s = new_step(r, name, label);
    char out_path[PATH_MAX + 64], log_path[PATH_MAX + 64];
    sfmt(out_path, sizeof out_path, "%s/json/%s.json", r->tmp, name);
    sfmt(log_path, sizeof log_path, "%s/logs/%s.log", r->tmp, name);
    if (!r->o.quiet) {
        fprintf(stderr, "tdl report: [%zu/%zu] %s ...", r->n_steps, r->total_steps, label);
        fflush(stderr);
    }
    const char *argv[REPORT_MAX_ARGS + 2];
    size_t argc = 0;
    argv[argc++] = "tdl";
    for (size_t i = 0; args[i] && argc < REPORT_MAX_ARGS; i++) argv[argc++] = args[i];
    /* --loss and --reduction: every command that evaluates a loss; tdl ntk
     * takes the loss but no convention (its kernel does not depend on it) */
    int loss_cmd = strcmp(args[0], "info") != 0 && strcmp(args[0], "check") != 0;
    int is_ntk = strcmp(args[0], "ntk") == 0;
    if (r->o.loss && loss_cmd && !(is_ntk && strchr(r->o.loss, ':')) && argc < REPORT_MAX_ARGS - 1) {
        argv[argc++] = "--loss";
        argv[argc++] = r->o.loss;
    }
    if (r->o.reduction && loss_cmd && !is_ntk && argc < REPORT_MAX_ARGS - 1) {
        argv[argc++] = "--reduction";
        argv[argc++] = r->o.reduction;
    }
    char threads[32];
    if (r->o.threads && strcmp(args[0], "info") != 0 && argc < REPORT_MAX_ARGS - 1) {
        sfmt(threads, sizeof threads, "%zu", r->o.threads);
        argv[argc++] = "--threads";
        argv[argc++] = threads;
    }
    argv[argc] = NULL;
    double t = report_now();
    fflush(NULL);
    /* The terminating signals and SIGCHLD stay blocked from before the fork
     * until the command has ended, and the parent takes them with
     * sigwaitinfo: a stop signal that arrives at any moment (even between the
     * fork and the wait) is forwarded to the running command, never lost. */
    sigset_t waited, prev;
    report_stop_signal_set(&waited);
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
        if (json) load_step_json(r, s);
    }
    sigprocmask(SIG_SETMASK, &prev, NULL);
    s->seconds = report_now() - t;
    int failed = s->status != 0 || s->bad_json;
    /* a check that ran prints its JSON (passed or not); one that refused the
     * data prints none and exits 1 with its reason */
    if (may_not_apply && s->status == 1 && !s->json && !s->bad_json && !report_signal) {
        s->not_applicable = 1;
        failed = 0;
    }
    if (failed) r->failures++;
    if (!r->o.quiet) {
        if (s->not_applicable) fprintf(stderr, " does not apply (%.1f s): %s\n", s->seconds, s->message);
        else if (!failed) fprintf(stderr, " %.1f s\n", s->seconds);
        else fprintf(stderr, " FAILED (%.1f s): %s\n", s->seconds, s->message);
    }
    return s;
}

const char *report_step_why(const step *s)
{
    return strncmp(s->message, "tdl: error: ", 12) == 0 ? s->message + 12 : s->message;
}

const step *report_find_step(const report *r, const char *name)
{
    for (size_t i = 0; i < r->n_steps; i++)
        if (strcmp(r->steps[i].name, name) == 0) return &r->steps[i];
    return NULL;
}

const cJSON *report_json(const report *r, const char *name)
{
    const step *s = report_find_step(r, name);
    return s ? s->json : NULL;
}

void report_free(report *r)
{
    for (size_t i = 0; i < r->n_steps; i++) {
        cJSON_Delete(r->steps[i].json);
        r->steps[i].json = NULL;
    }
}

void report_other_formats(report *r, const char *name)
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
    report_stop_signal_set(&held);
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
