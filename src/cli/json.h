/* json.h — a small streaming JSON writer for the CLI's --json outputs.
 *
 * Numbers are written with 17 significant digits ("%.17g", round-trip
 * exact) under the C locale; a NaN or infinity is written as null (callers
 * add a "<key>_reason" string beside it).  Every string is valid UTF-8:
 * file and tensor names are bytes, so a well-formed UTF-8 sequence passes
 * through unchanged and each byte that is not part of one (a stray
 * continuation byte, a truncated, overlong or surrogate sequence, 0xF5..0xFF)
 * is replaced by U+FFFD, written as the escape "\ufffd"; control
 * characters are escaped.  Output goes to a memory buffer
 * so that nothing reaches stdout unless the command succeeds.
 */
#ifndef TDL_CLI_JSON_H
#define TDL_CLI_JSON_H

#include <stddef.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct json_writer {
    FILE *fp;
    char *buf;
    size_t len;
    int depth;
    int count[JSON_MAX_DEPTH];   /* items written at each depth */
} json_writer;

int json_open(json_writer *w);
/* Print the document and a newline to stdout and free it. */
int json_flush_stdout(json_writer *w);
void json_discard(json_writer *w);

/* key is NULL inside arrays (and for the top-level object). */
void json_object_begin(json_writer *w, const char *key);
void json_object_end(json_writer *w);
void json_array_begin(json_writer *w, const char *key);
void json_array_end(json_writer *w);
void json_number(json_writer *w, const char *key, double v);
void json_integer(json_writer *w, const char *key, long long v);
void json_size(json_writer *w, const char *key, size_t v);
void json_string(json_writer *w, const char *key, const char *s);
void json_bool(json_writer *w, const char *key, int v);
void json_null(json_writer *w, const char *key);
/* An array of n doubles (stride in elements). */
void json_number_array(json_writer *w, const char *key, const double *v, size_t n, size_t stride);
void json_size_array(json_writer *w, const char *key, const size_t *v, size_t n);

#endif
