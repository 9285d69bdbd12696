/* json.c — streaming JSON writer (see json.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "json.h"
#include "tdl/blas.h"

int json_open(json_writer *w)
{
    w->buf = NULL;
    w->len = 0;
    w->depth = 0;
    w->count[0] = 0;
    w->fp = open_memstream(&w->buf, &w->len);
    return w->fp ? 0 : -1;
}

void json_discard(json_writer *w)
{
    if (w->fp) fclose(w->fp);
    free(w->buf);
    w->fp = NULL;
    w->buf = NULL;
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
    w->buf = NULL;
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
    /* every document names the BLAS kernel its numbers were computed with:
     * the last digits depend on it (tdl/blas.h) */
    if (top && c == '{') json_string(w, "blas_core", tdl_blas_core());
}

void json_object_begin(json_writer *w, const char *key) { open_container(w, key, '{'); }
void json_array_begin(json_writer *w, const char *key) { open_container(w, key, '['); }

void json_object_end(json_writer *w)
{
    fputc('}', w->fp);
    if (w->depth > 0) w->depth--;
}

void json_array_end(json_writer *w)
{
    fputc(']', w->fp);
    if (w->depth > 0) w->depth--;
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
