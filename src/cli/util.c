/* util.c — error reporting and option parsing shared by the subcommands. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include "cli.h"
#ifdef _OPENMP
#include <omp.h>
#endif

void openblas_set_num_threads(int num_threads);

int cli_fail(int status)
{
    const char *msg = tdl_errmsg();
    fprintf(stderr, "tdl: error: %s\n", msg && *msg ? msg : tdl_strerror(status));
    return EXIT_WORK_FAILED;
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

int cli_parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') return -1;
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
    if (threads == 0) return;
#ifdef _OPENMP
    omp_set_num_threads((int)threads);
#endif
    openblas_set_num_threads((int)threads);
}

/* Test hook, for the CLI tests only (tests/cli/test_landscape.sh and
 * test_report.sh): they must deliver a signal while a command is in the
 * middle of its work, without guessing how long that work takes.  When the
 * environment variable TDL_TEST_PAUSE_AT equals `step`, the process appends
 * the line "STEP PID" to the file named by TDL_TEST_PAUSE_MARK (a FIFO or a
 * regular file; stderr when unset) and waits until a signal arrives.  SIGINT,
 * SIGTERM and SIGHUP are blocked while the line is written and unblocked
 * atomically by sigsuspend, so a signal sent as soon as the line is read is
 * never lost: a signal whose handler ends the process (main.c) ends it here,
 * any other handled signal lets the command go on.  Without the variable this
 * is a getenv and nothing else. */
void cli_test_pause(const char *step)
{
    const char *at = getenv("TDL_TEST_PAUSE_AT");
    if (!at || strcmp(at, step) != 0) return;
    sigset_t stop, prev;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
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
