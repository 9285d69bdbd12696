/* error.c — status codes and the thread-local last-error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "tdl/error.h"
#include "internal.h"

static _Thread_local char last_message[1024];

static const char *const status_text[TDL_STATUS_COUNT] = {
    [TDL_OK] = "success",
    [TDL_EINVAL] = "invalid argument",
    [TDL_ENOMEM] = "out of memory",
    [TDL_EIO] = "input/output error",
    [TDL_EFORMAT] = "malformed file",
    [TDL_ESHAPE] = "shape mismatch",
    [TDL_ENONFINITE] = "NaN or infinity",
    [TDL_ETOOBIG] = "too large",
    [TDL_ENOCONV] = "no convergence",
    [TDL_ENOTPD] = "matrix not positive definite",
    [TDL_EDIVERGED] = "training diverged",
    [TDL_EINTR] = "interrupted",
};

const char *tdl_strerror(int status)
{
    if (status < 0 || status >= TDL_STATUS_COUNT) return "unknown error";
    return status_text[status];
}

const char *tdl_errmsg(void) { return last_message; }

void tdl_errclear(void) { last_message[0] = '\0'; }

/* Both record the message on one line. */
static int record(int status, const char *fmt, va_list ap)
{
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    for (char *p = last_message; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return status;
}

int tdl_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status = record(status, fmt, ap);
    va_end(ap);
    return status;
}

int tdl_error_set(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status = record(status, fmt, ap);
    va_end(ap);
    return status;
}
