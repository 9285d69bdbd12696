/* json.h — a small streaming JSON writer for the CLI's --json outputs.
 *
 * Numbers are written with 17 significant digits ("%.17g", round-trip
 * exact) under the C locale; a NaN or infinity is written as null.
 *
 * Null convention (SPEC "JSON"): every null has a sibling "<key>_reason"
 * string in the same object.  For an array, "<key>_reason" beside the
 * array covers its null elements (at any depth of nested arrays; nulls
 * inside objects in the array are covered by those objects).  The writer
 * enforces this: when an object ends, each null member (or array with null
 * elements) that got no "<key>_reason" from the caller gets one written
 * automatically -- "not finite (NaN)", "not finite (infinite)" or "not
 * available" -- so a caller can never leave a bare null.  Callers should
 * still give a meaningful reason (json_number_or_reason, json_null_reason,
 * or a json_string "<key>_reason" before or after the value).  Every string is valid UTF-8:
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
#define JSON_KEY_MAX 96

/* A null member still waiting for its "<key>_reason" (or a reason seen
 * before its value); private to json.c. */
typedef struct json_pending {
    int depth;
    int state;                   /* 0: reason seen; else the kind of null */
    char key[JSON_KEY_MAX];
} json_pending;

typedef struct json_writer {
    FILE *fp;
    char *buf;
    size_t len;
    int depth;
    int count[JSON_MAX_DEPTH];   /* items written at each depth */
    /* per depth: 1 inside an object, the container's key, and the kinds of
     * null found among an array's elements (bit mask) */
    unsigned char is_object[JSON_MAX_DEPTH];
    unsigned char nulls[JSON_MAX_DEPTH];
    char ckey[JSON_MAX_DEPTH][JSON_KEY_MAX];
    json_pending *pending;
    size_t npending, cap_pending;
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
/* A null member with its "<key>_reason" string. */
void json_null_reason(json_writer *w, const char *key, const char *reason);
/* v when finite; else null and "<key>_reason": reason (NULL: the automatic
 * "not finite (NaN)" / "not finite (infinite)"). */
void json_number_or_reason(json_writer *w, const char *key, double v, const char *reason);
/* An array of n doubles (stride in elements); a non-finite element is null
 * and the array's "<key>_reason" is added when the enclosing object ends
 * unless the caller wrote one. */
void json_number_array(json_writer *w, const char *key, const double *v, size_t n, size_t stride);
void json_size_array(json_writer *w, const char *key, const size_t *v, size_t n);

#endif
