/* util.c — error reporting and option parsing shared by the subcommands. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
