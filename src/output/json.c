/* json.c — streaming JSON writer (see json.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "tdl/blas.h"

int json_open(json_writer *w)
{
    w->buf = NULL;
    w->len = 0;
    w->depth = 0;
    w->count[0] = 0;
    w->is_object[0] = 0;
    w->nulls[0] = 0;
    w->ckey[0][0] = '\0';
    w->pending = NULL;
    w->npending = w->cap_pending = 0;
    w->fp = open_memstream(&w->buf, &w->len);
    return w->fp ? 0 : -1;
}

void json_discard(json_writer *w)
{
    if (w->fp) fclose(w->fp);
    free(w->buf);
    free(w->pending);
    w->fp = NULL;
    w->buf = NULL;
    w->pending = NULL;
    w->npending = w->cap_pending = 0;
}

int json_flush_stdout(json_writer *w)
{
    int bad = fclose(w->fp) != 0;
    w->fp = NULL;
    if (!bad) {
        fwrite(w->buf, 1, w->len, stdout);
        fputc('\n', stdout);
        bad = fflush(stdout) != 0;
    }
    free(w->buf);
    free(w->pending);
    w->buf = NULL;
    w->pending = NULL;
    w->npending = w->cap_pending = 0;
    return bad ? -1 : 0;
}

/* Length of the well-formed UTF-8 sequence at p (1-4), or 0 when the bytes
 * there are not one: a stray continuation byte, a truncated sequence, an
 * overlong form, a UTF-16 surrogate (U+D800..U+DFFF) or a code point above
 * U+10FFFF (Unicode 15, table 3-7 "Well-Formed UTF-8 Byte Sequences").
 * p[0] >= 0x80; the string is NUL-terminated, and NUL is never a
 * continuation byte, so the look-ahead stops at the end. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        if (p[0] == 0xE0) lo = 0xA0;          /* overlong below U+0800 */
        else if (p[0] == 0xED) hi = 0x9F;     /* surrogates */
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        if (p[0] == 0xF0) lo = 0x90;          /* overlong below U+10000 */
        else if (p[0] == 0xF4) hi = 0x8F;     /* above U+10FFFF */
    } else return 0;                          /* 0x80..0xC1, 0xF5..0xFF */
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

/* A JSON string is Unicode (RFC 8259 section 8.1: UTF-8 on the wire), but
 * file names and tensor names are bytes: well-formed UTF-8 sequences pass
 * through, every other byte >= 0x80 becomes U+FFFD, written as the escape
 * \ufffd so that the document stays ASCII-safe there. */
static void put_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20) fprintf(fp, "\\u%04x", *p);
            else if (*p < 0x80) fputc(*p, fp);
            else {
                size_t n = utf8_len(p);
                if (n == 0) fputs("\\ufffd", fp);
                else {
                    fwrite(p, 1, n, fp);
                    p += n - 1;
                }
            }
        }
    }
    fputc('"', fp);
}

/* ---- the null convention (json.h): every null gets a "<key>_reason" ---- */

enum { NULL_NAN = 1, NULL_INF = 2, NULL_NA = 4 };

static json_pending *find_pending(json_writer *w, const char *key)
{
    for (size_t i = 0; i < w->npending; i++)
        if (w->pending[i].depth == w->depth && strcmp(w->pending[i].key, key) == 0) return &w->pending[i];
    return NULL;
}

static void add_pending(json_writer *w, const char *key, int state)
{
    if (w->npending == w->cap_pending) {
        size_t cap = w->cap_pending ? 2 * w->cap_pending : 8;
        json_pending *p = realloc(w->pending, cap * sizeof *p);
        if (!p) return;          /* out of memory: the automatic reason is lost, the document stays valid */
        w->pending = p;
        w->cap_pending = cap;
    }
    json_pending *e = &w->pending[w->npending++];
    e->depth = w->depth;
    e->state = state;
    snprintf(e->key, sizeof e->key, "%s", key);
}

/* A null was written under key (NULL: an array element) at the current depth. */
static void note_null(json_writer *w, const char *key, int kind)
{
    if (!key || !w->is_object[w->depth]) {
        w->nulls[w->depth] = (unsigned char)(w->nulls[w->depth] | kind);
        return;
    }
    json_pending *e = find_pending(w, key);
    if (e) {
        if (e->state) e->state |= kind;     /* the same key twice: keep one entry */
        return;                              /* else its reason came first */
    }
    add_pending(w, key, kind);
}

/* A member "<base>_reason" was written at the current depth. */
static void note_key(json_writer *w, const char *key)
{
    static const char suffix[] = "_reason";
    size_t n = strlen(key), m = sizeof suffix - 1;
    if (!w->is_object[w->depth] || n <= m || n - m >= JSON_KEY_MAX || strcmp(key + n - m, suffix) != 0) return;
    char base[JSON_KEY_MAX];
    memcpy(base, key, n - m);
    base[n - m] = '\0';
    json_pending *e = find_pending(w, base);
    if (e) {
        if (e->state) *e = w->pending[--w->npending];   /* satisfied */
        return;
    }
    add_pending(w, base, 0);
}

static void reason_text(char *buf, size_t size, int kind, int elements)
{
    const char *what = kind & NULL_NA ? "not available"
                     : (kind & NULL_NAN) && (kind & NULL_INF) ? "not finite (NaN or infinite)"
                     : kind & NULL_INF ? "not finite (infinite)" : "not finite (NaN)";
    snprintf(buf, size, "%s%s", elements ? "null elements: " : "", what);
}

static void prefix(json_writer *w, const char *key);

/* Before an object at the current depth ends: the reasons nobody wrote. */
static void flush_reasons(json_writer *w)
{
    size_t i = 0;
    while (i < w->npending) {
        json_pending *e = &w->pending[i];
        if (e->depth != w->depth) { i++; continue; }
        if (e->state) {
            char k[JSON_KEY_MAX + 8], r[64];
            snprintf(k, sizeof k, "%s_reason", e->key);
            reason_text(r, sizeof r, e->state & 0xff, (e->state & 0x100) != 0);
            prefix(w, k);
            put_string(w->fp, r);
        }
        *e = w->pending[--w->npending];
    }
}

static void prefix(json_writer *w, const char *key)
{
    if (w->count[w->depth]++ > 0) fputc(',', w->fp);
    if (key) {
        put_string(w->fp, key);
        fputc(':', w->fp);
    }
}

static void open_container(json_writer *w, const char *key, char c)
{
    int top = w->depth == 0 && w->count[0] == 0;
    if (!top) prefix(w, key);
    else w->count[0]++;
    fputc(c, w->fp);
    if (w->depth + 1 < JSON_MAX_DEPTH) w->depth++;
    w->count[w->depth] = 0;
    w->is_object[w->depth] = c == '{';
    w->nulls[w->depth] = 0;
    snprintf(w->ckey[w->depth], sizeof w->ckey[w->depth], "%s", key && !top ? key : "");
    /* every document names the BLAS kernel its numbers were computed with:
     * the last digits depend on it (tdl/blas.h) */
    if (top && c == '{') json_string(w, "blas_core", tdl_blas_core());
}

void json_object_begin(json_writer *w, const char *key) { open_container(w, key, '{'); }
void json_array_begin(json_writer *w, const char *key) { open_container(w, key, '['); }

void json_object_end(json_writer *w)
{
    flush_reasons(w);
    fputc('}', w->fp);
    if (w->depth > 0) w->depth--;
}

/* Null elements (or rows with null elements) make the array itself need a
 * "<key>_reason" in the enclosing object (state bit 0x100: "elements"). */
void json_array_end(json_writer *w)
{
    int m = w->nulls[w->depth];
    char key[JSON_KEY_MAX];
    memcpy(key, w->ckey[w->depth], sizeof key);
    fputc(']', w->fp);
    if (w->depth > 0) w->depth--;
    if (!m) return;
    if (!w->is_object[w->depth]) w->nulls[w->depth] = (unsigned char)(w->nulls[w->depth] | m);
    else if (key[0]) note_null(w, key, m | 0x100);
}

static void put_number(FILE *fp, double v)
{
    if (!isfinite(v)) fputs("null", fp);
    else if (v == 0) fputs(signbit(v) ? "-0.0" : "0", fp);
    else fprintf(fp, "%.17g", v);
}

void json_number(json_writer *w, const char *key, double v)
{
    prefix(w, key);
    put_number(w->fp, v);
    if (!isfinite(v)) note_null(w, key, isnan(v) ? NULL_NAN : NULL_INF);
}

void json_number_or_reason(json_writer *w, const char *key, double v, const char *reason)
{
    json_number(w, key, v);
    if (!isfinite(v) && reason && key) {
        char k[JSON_KEY_MAX + 8];
        snprintf(k, sizeof k, "%s_reason", key);
        json_string(w, k, reason);
    }
}

void json_integer(json_writer *w, const char *key, long long v)
{
    prefix(w, key);
    fprintf(w->fp, "%lld", v);
}

void json_size(json_writer *w, const char *key, size_t v)
{
    prefix(w, key);
    fprintf(w->fp, "%zu", v);
}

void json_string(json_writer *w, const char *key, const char *s)
{
    prefix(w, key);
    if (s) put_string(w->fp, s);
    else fputs("null", w->fp);
    if (!s) note_null(w, key, NULL_NA);
    else if (key) note_key(w, key);
}

void json_bool(json_writer *w, const char *key, int v)
{
    prefix(w, key);
    fputs(v ? "true" : "false", w->fp);
}

void json_null(json_writer *w, const char *key)
{
    prefix(w, key);
    fputs("null", w->fp);
    note_null(w, key, NULL_NA);
}

void json_null_reason(json_writer *w, const char *key, const char *reason)
{
    json_null(w, key);
    if (key) {
        char k[JSON_KEY_MAX + 8];
        snprintf(k, sizeof k, "%s_reason", key);
        json_string(w, k, reason);
    }
}

void json_number_array(json_writer *w, const char *key, const double *v, size_t n, size_t stride)
{
    json_array_begin(w, key);
    for (size_t i = 0; i < n; i++) json_number(w, NULL, v[i * stride]);
    json_array_end(w);
}

void json_size_array(json_writer *w, const char *key, const size_t *v, size_t n)
{
    json_array_begin(w, key);
    for (size_t i = 0; i < n; i++) json_size(w, NULL, v[i]);
    json_array_end(w);
}
