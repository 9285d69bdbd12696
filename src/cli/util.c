/* util.c — error reporting and option parsing shared by the subcommands. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"


int cli_load_data(const char *spec, tdl_dataset **out)
{
    int st = tdl_dataset_load(spec, out);
    if (st == TDL_OK && (*out)->warning) fprintf(stderr, "tdl: warning: %s\n", (*out)->warning);
    return st;
}

int cli_fail(int status)
{
    const char *msg = tdl_errmsg();
    fprintf(stderr, "tdl: error: %s\n", msg && *msg ? msg : tdl_strerror(status));
    return EXIT_WORK_FAILED;
}

const char *cli_name_choices(const tdl_name *table, char *buf, size_t len)
{
    tdl_name_list(table, ", ", buf, len);
    char *last = NULL;
    for (char *p = strstr(buf, ", "); p; p = strstr(p + 2, ", ")) last = p;
    if (last && strlen(buf) + 3 < len) {
        memmove(last + 4, last + 2, strlen(last + 2) + 1);
        memcpy(last, " or ", 4);
    }
    return buf;
}

int cli_failf(const char *fmt, ...)
{
    va_list ap;
    fputs("tdl: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_WORK_FAILED;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tdl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'tdl help %s')\n", cmd);
    return EXIT_USAGE;
}

int cli_bad_option(const char *cmd, char **argv, int optopt_value)
{
    extern int optind;
    const char *arg = argv[optind - 1];
    if (optopt_value && !(arg && arg[0] == '-' && arg[1] == '-'))
        return cli_usage(cmd, "unknown option or missing value for '-%c'", optopt_value);
    return cli_usage(cmd, "unknown option or missing value: '%s'", arg ? arg : "?");
}

const char *cli_option_name(const struct option *opts, int code)
{
    static char name[96];
    for (const struct option *o = opts; o && o->name; o++)
        if (o->flag == NULL && o->val == code) {
            snprintf(name, sizeof name, "--%s", o->name);
            return name;
        }
    if (code > 0 && code < 128) snprintf(name, sizeof name, "-%c", code);
    else snprintf(name, sizeof name, "this option");
    return name;
}

/* The path a file would have once created: the directory through realpath,
 * plus the last component; the text as given when the directory does not
 * resolve (then nothing can be created there anyway). */
static void resolve_new(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX], real[PATH_MAX];
    const char *base = slash ? slash + 1 : path;
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || !realpath(dir, real)) {
        snprintf(out, len, "%s", path);
        return;
    }
    snprintf(out, len, "%s/%s", strcmp(real, "/") ? real : "", base);
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    /* a character device or FIFO (-o /dev/null --log /dev/null) is written in
     * place, never replaced: two outputs there overwrite nothing */
    if (ea && eb) return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea || eb) return 0;
    char ra[PATH_MAX + 256], rb[PATH_MAX + 256];
    resolve_new(a, ra, sizeof ra);
    resolve_new(b, rb, sizeof rb);
    return strcmp(ra, rb) == 0;
}

/* The files one cli_file stands for: the path itself, a spec's files, or a
 * figure with its FILE.dat and FILE.gp (plot.h).  *owned: free() after use. */
static size_t expand(const cli_file *f, const char *paths[3], char **owned)
{
    *owned = NULL;
    if (!f->path || !*f->path) return 0;
    if (f->kind == CLI_FILE_SPEC) {
        char **files = NULL;
        if (tdl_dataset_spec_files(f->path, &files) != TDL_OK) return 0; /* the loader reports it */
        size_t n = 0;
        for (; files[n] && n < 3; n++) paths[n] = files[n];
        *owned = (char *)files;
        return n;
    }
    paths[0] = f->path;
    if (f->kind != CLI_FILE_FIGURE) return 1;
    const char *dot = strrchr(f->path, '.'), *slash = strrchr(f->path, '/');
    size_t base = dot && (!slash || dot > slash) ? (size_t)(dot - f->path) : strlen(f->path);
    char *buf = malloc(2 * (base + 8));
    if (!buf) return 1;
    snprintf(buf, base + 8, "%.*s.dat", (int)base, f->path);
    snprintf(buf + base + 8, base + 8, "%.*s.gp", (int)base, f->path);
    paths[1] = buf;
    paths[2] = buf + base + 8;
    *owned = buf;
    return 3;
}

/* "--model m.safetensors", "X.npy in --data npy:X=X.npy,y=y.npy",
 * "m.dat (written with --plot m.png)" */
static void describe(char *buf, size_t len, const cli_file *f, const char *path)
{
    if (strcmp(path, f->path) == 0) snprintf(buf, len, "%s %s", f->option, f->path);
    else if (f->kind == CLI_FILE_SPEC) snprintf(buf, len, "%s in %s %s", path, f->option, f->path);
    else snprintf(buf, len, "%s (written with %s %s)", path, f->option, f->path);
}

int cli_check_outputs(const char *cmd, const cli_file *inputs, size_t n_in,
                      const cli_file *outputs, size_t n_out)
{
    (void)cmd;
    for (size_t k = 0; k < n_out; k++) {
        const cli_file *o = &outputs[k];
        const char *op[3];
        char *o_owned;
        size_t no = expand(o, op, &o_owned);
        for (size_t j = 0; j < n_in + k; j++) {
            const cli_file *other = j < n_in ? &inputs[j] : &outputs[j - n_in];
            if (j < n_in && other->in_place && strcmp(other->in_place, o->option) == 0) continue;
            const char *xp[3];
            char *x_owned;
            size_t nx = expand(other, xp, &x_owned);
            for (size_t a = 0; a < no; a++)
                for (size_t b = 0; b < nx; b++)
                    if (same_file(op[a], xp[b])) {
                        char d1[PATH_MAX + 512], d2[PATH_MAX + 512];
                        describe(d1, sizeof d1, o, op[a]);
                        describe(d2, sizeof d2, other, xp[b]);
                        free(o_owned);
                        free(x_owned);
                        return cli_failf("%s is the same file as %s", d1, d2);
                    }
            free(x_owned);
        }
        free(o_owned);
    }
    return 0;
}

int cli_parse_index_list(const char *s, size_t hi, unsigned long long *mask)
{
    *mask = 0;
    if (!s || !*s) return -1;
    for (const char *p = s;;) {
        if (*p < '0' || *p > '9') return -1; /* an empty item: ",1", "1,,2", "1," */
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v > hi || v >= 64) return -1;
        *mask |= 1ULL << v;
        if (!*end) return 0;
        if (*end != ',') return -1;
        p = end + 1;
    }
}

/* The options seen by cli_getopt in this parse: the canonical name and the
 * first value.  A command parses its options once, so static storage is
 * enough; it is reset when a parse starts (optind back at 1) or argv changes. */
static struct { char name[96]; const char *value; } seen_opts[128];
static size_t n_seen_opts;
static char **seen_argv;

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts, const char *cmd)
{
    if (optind <= 1 || argv != seen_argv) {
        n_seen_opts = 0;
        seen_argv = argv;
    }
    int c = getopt_long(argc, argv, shortopts, opts, NULL);
    if (c == -1 || c == '?' || c == ':' || !optarg) return c;
    char name[96];
    snprintf(name, sizeof name, "%s", cli_option_name(opts, c));
    if (strcmp(name, "-o") == 0) /* -o is --out where the table has only --out */
        for (const struct option *o = opts; o->name; o++)
            if (strcmp(o->name, "out") == 0) snprintf(name, sizeof name, "--out");
    for (size_t i = 0; i < n_seen_opts; i++)
        if (strcmp(seen_opts[i].name, name) == 0) {
            if (strcmp(seen_opts[i].value, optarg) == 0) return c;
            cli_usage(cmd, "%s given twice ('%s' and '%s'): give it once", name, seen_opts[i].value, optarg);
            return CLI_GETOPT_USAGE;
        }
    if (n_seen_opts < sizeof seen_opts / sizeof seen_opts[0]) {
        snprintf(seen_opts[n_seen_opts].name, sizeof seen_opts[0].name, "%s", name);
        seen_opts[n_seen_opts++].value = optarg;
    }
    return c;
}

int cli_parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    /* digits only: strtoull would skip blanks and wrap " -1" to SIZE_MAX (fuzz_options) */
    if (!s || !isdigit((unsigned char)*s)) return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = (size_t)v;
    return 0;
}

int cli_parse_ulong(const char *s, unsigned long *out)
{
    size_t v;
    if (cli_parse_size(s, 0, 4294967295UL, &v) != 0) return -1;
    *out = (unsigned long)v;
    return 0;
}

int cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    if (!s || !*s) return -1;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

void cli_set_threads(size_t threads)
{
    tdl_set_threads(threads);
}

/* Test hook, for the CLI tests only (tests/cli/test_landscape.sh and
 * test_report.sh): they must deliver a signal while a command is in the
 * middle of its work, without guessing how long that work takes.  When the
 * environment variable TDL_TEST_PAUSE_AT equals `step`, the process appends
 * the line "STEP PID" to the file named by TDL_TEST_PAUSE_MARK (a FIFO or a
 * regular file; stderr when unset) and waits until a signal arrives.  The
 * terminating signals (TDL_STOP_SIGNALS) are blocked while the line is written and unblocked
 * atomically by sigsuspend, so a signal sent as soon as the line is read is
 * never lost: a signal whose handler ends the process (main.c) ends it here,
 * any other handled signal lets the command go on.  Without the variable this
 * is a getenv and nothing else. */
void cli_test_pause(const char *step)
{
    const char *at = getenv("TDL_TEST_PAUSE_AT");
    if (!at || strcmp(at, step) != 0) return;
    static const int stop_signals[] = {TDL_STOP_SIGNALS};
    sigset_t stop, prev;
    sigemptyset(&stop);
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) sigaddset(&stop, stop_signals[i]);
    sigprocmask(SIG_BLOCK, &stop, &prev);
    char line[160];
    int len = snprintf(line, sizeof line, "%s %ld\n", step, (long)getpid());
    const char *mark = getenv("TDL_TEST_PAUSE_MARK");
    int fd = mark && *mark ? open(mark, O_WRONLY | O_CREAT | O_APPEND, 0644) : STDERR_FILENO;
    if (fd >= 0 && len > 0 && write(fd, line, (size_t)len) != len) { /* the test sees no marker and fails */ }
    if (fd >= 0 && fd != STDERR_FILENO) close(fd);
    sigset_t wait_mask = prev;
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGHUP);
    sigsuspend(&wait_mask);
    sigprocmask(SIG_SETMASK, &prev, NULL);
}
