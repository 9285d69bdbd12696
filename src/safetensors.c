/* safetensors.c — reader and writer of the safetensors format.
 *
 * Format (huggingface/safetensors, README "Format" and the reference
 * reader safetensors/src/tensor.rs):
 *
 *   offset   size  field
 *   0        8     N, header length, u64 little-endian (N <= 100,000,000)
 *   8        N     UTF-8 JSON object, starting with '{', may be padded
 *                  with trailing spaces:
 *                  {"__metadata__": {"k": "v", ...},
 *                   "name": {"dtype": "F32", "shape": [2, 3],
 *                            "data_offsets": [begin, end]}, ...}
 *   8 + N    ...   data buffer; offsets are relative to its start, end is
 *                  one past the last byte, data little-endian, row-major.
 *
 * The reference reader requires: end - begin == numel * dtype size, and
 * the offsets, sorted, contiguous from 0 and covering the buffer exactly
 * (no gaps, no overlaps, no trailing bytes).  We check the same, plus JSON
 * integers exactly representable (<= 2^53), no duplicate names and a
 * string-to-string "__metadata__".
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tdl/io.h"
#include "internal.h"
#include "formats_internal.h"

#define ST_MAX_HEADER 100000000u
/* JSON numbers are doubles: integers beyond 2^53 are not exact. */
#define ST_MAX_INT 9007199254740992.0

typedef struct st_entry {
    const char *name;
    tdl_dtype dt;
    size_t ndim;
    size_t shape[TDL_MAX_NDIM];
    size_t numel;
    size_t nbytes;
    size_t begin, end;
    size_t order;  /* position in the JSON object, to keep sorting stable */
} st_entry;

static const struct { const char *name; tdl_dtype dt; } st_dtypes[] = {
    {"BOOL", TDL_BOOL}, {"U8", TDL_U8}, {"I8", TDL_I8}, {"U16", TDL_U16}, {"I16", TDL_I16},
    {"U32", TDL_U32}, {"I32", TDL_I32}, {"U64", TDL_U64}, {"I64", TDL_I64},
    {"F16", TDL_F16}, {"BF16", TDL_BF16}, {"F32", TDL_F32}, {"F64", TDL_F64},
};

/* Deepest nesting of arrays and objects in JSON text (strings skipped),
 * stopping once past `limit`.  cJSON parses recursively, to 1000 levels: a
 * header of 100000 '[' would need far more stack than a small thread or a
 * `ulimit -s 64` process has; a safetensors header nests 3 deep. */
#define ST_MAX_JSON_DEPTH 64
static size_t json_depth(const char *s, size_t n, size_t limit)
{
    size_t depth = 0, deepest = 0;
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
            if (deepest > limit) break;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

/* A JSON number that is an integer in [0, 2^53]. */
static int json_size(const cJSON *v, size_t *out)
{
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0.0) || d > ST_MAX_INT || d != floor(d)) return -1;
    if (d > (double)SIZE_MAX) return -1;
    *out = (size_t)d;
    return 0;
}

static void shape_text(const st_entry *e, char *out, size_t cap)
{
    size_t n = 0;
    n += (size_t)snprintf(out, cap, "[");
    for (size_t k = 0; k < e->ndim && n < cap; k++)
        n += (size_t)snprintf(out + n, cap - n, k ? ", %zu" : "%zu", e->shape[k]);
    if (n < cap) snprintf(out + n, cap - n, "]");
}

/* Validate one tensor entry (everything but its place in the buffer). */
static int parse_entry(const cJSON *item, size_t buflen, const char *label, st_entry *e)
{
    char nm[64], txt[256];
    const char *name = item->string;
    tdl_msg_str(name, strlen(name), nm, sizeof nm);
    if (!cJSON_IsObject(item))
        return tdl_fail(TDL_EFORMAT, "%s: tensor '%s': entry is not a JSON object", label, nm);

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!dtype || !shape || !offs)
        return tdl_fail(TDL_EFORMAT, "%s: tensor '%s': missing \"%s\"", label, nm,
                        !dtype ? "dtype" : !shape ? "shape" : "data_offsets");

    /* dtype */
    if (!cJSON_IsString(dtype) || !dtype->valuestring)
        return tdl_fail(TDL_EFORMAT, "%s: tensor '%s': dtype is not a string", label, nm);
    const char *ds = dtype->valuestring;
    size_t i;
    for (i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(ds, st_dtypes[i].name) == 0) break;
    if (i == sizeof st_dtypes / sizeof st_dtypes[0]) {
        tdl_msg_str(ds, strlen(ds), txt, sizeof txt);
        if (strncmp(ds, "F8", 2) == 0)
            return tdl_fail(TDL_EFORMAT,
                            "%s: tensor '%s': unsupported dtype '%s' (8-bit floats are not supported)",
                            label, nm, txt);
        return tdl_fail(TDL_EFORMAT, "%s: tensor '%s': unsupported dtype '%s'", label, nm, txt);
    }
    e->dt = st_dtypes[i].dt;

    /* shape: a list of non-negative integers */
    if (!cJSON_IsArray(shape))
        return tdl_fail(TDL_EFORMAT, "%s: tensor '%s': shape is not a list", label, nm);
    int nd = cJSON_GetArraySize(shape);
    if (nd > TDL_MAX_NDIM)
        return tdl_fail(TDL_ETOOBIG, "%s: tensor '%s': shape has %d dimensions (at most %d)",
                        label, nm, nd, TDL_MAX_NDIM);
    e->ndim = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        if (json_size(d, &e->shape[e->ndim]) != 0) {
            if (cJSON_IsNumber(d) && d->valuedouble > ST_MAX_INT)
                return tdl_fail(TDL_ETOOBIG, "%s: tensor '%s': dimension %zu is too large",
                                label, nm, e->ndim);
            return tdl_fail(TDL_EFORMAT,
                            "%s: tensor '%s': dimension %zu is not a non-negative integer",
                            label, nm, e->ndim);
        }
        e->ndim++;
    }
    if (tdl_shape_numel(e->ndim, e->shape, &e->numel) != TDL_OK ||
        tdl_mul_size(e->numel, tdl_dtype_size(e->dt), &e->nbytes) != 0) {
        shape_text(e, txt, sizeof txt);
        return tdl_fail(TDL_ETOOBIG, "%s: tensor '%s': shape %s %s overflows the size range",
                        label, nm, txt, tdl_dtype_name(e->dt));
    }

    /* data_offsets: [begin, end], begin <= end <= buffer length */
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return tdl_fail(TDL_EFORMAT, "%s: tensor '%s': data_offsets is not a list of two integers",
                        label, nm);
    if (json_size(offs->child, &e->begin) != 0 || json_size(offs->child->next, &e->end) != 0)
        return tdl_fail(TDL_EFORMAT,
                        "%s: tensor '%s': data_offsets are not non-negative integers", label, nm);
    if (e->begin > e->end)
        return tdl_fail(TDL_EFORMAT, "%s: tensor '%s': data_offsets [%zu, %zu] run backwards",
                        label, nm, e->begin, e->end);
    if (e->end > buflen)
        return tdl_fail(TDL_EFORMAT,
                        "%s: tensor '%s': data_offsets [%zu, %zu] exceed the %zu-byte data buffer",
                        label, nm, e->begin, e->end, buflen);
    if (e->end - e->begin != e->nbytes) {
        shape_text(e, txt, sizeof txt);
        return tdl_fail(TDL_EFORMAT,
                        "%s: tensor '%s': data_offsets [%zu, %zu] hold %zu bytes, shape %s %s needs %zu",
                        label, nm, e->begin, e->end, e->end - e->begin, txt,
                        tdl_dtype_name(e->dt), e->nbytes);
    }
    e->name = name;
    return TDL_OK;
}

static int cmp_begin(const void *a, const void *b)
{
    /* by begin; at equal begins zero-size tensors (end == begin) first;
     * then in JSON order */
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

int tdl_safetensors_read_mem(const unsigned char *buf, size_t len, const char *label,
                             tdl_tensors **out)
{
    char *hdr = NULL;
    cJSON *root = NULL;
    st_entry *ents = NULL;
    char **names = NULL;
    tdl_tensors *set = NULL;
    const cJSON *meta = NULL;
    size_t count = 0, n_meta_objs = 0, n, buflen;
    const unsigned char *data;
    int st = TDL_OK;

    if (!out) return tdl_fail(TDL_EINVAL, "tdl_safetensors_read_mem: out is NULL");
    *out = NULL;
    label = tdl_io_label(label);
    if (!buf && len) return tdl_fail(TDL_EINVAL, "%s: buffer is NULL", label);
    if (len == 0) return tdl_fail(TDL_EFORMAT, "%s: empty file (not a safetensors file)", label);
    if (len < 8)
        return tdl_fail(TDL_EFORMAT,
                        "%s: truncated: %zu bytes, shorter than the 8-byte header length", label,
                        len);
    uint64_t n64 = tdl_le64(buf);
    if (n64 > ST_MAX_HEADER)
        return tdl_fail(TDL_ETOOBIG,
                        "%s: header length %llu exceeds the 100,000,000-byte limit (not a safetensors file?)",
                        label, (unsigned long long)n64);
    n = (size_t)n64;
    if (n > len - 8)
        return tdl_fail(TDL_EFORMAT,
                        "%s: truncated: header length %zu exceeds the %zu bytes after it", label,
                        n, len - 8);
    if (n < 2 || buf[8] != '{')
        return tdl_fail(TDL_EFORMAT, "%s: header does not start with '{' (not a safetensors file?)",
                        label);
    data = buf + 8 + n;
    buflen = len - 8 - n;

    /* cJSON gets a NUL-terminated copy so it can never read past the header */
    hdr = tdl_malloc(n + 1, "safetensors header");
    if (!hdr) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    memcpy(hdr, buf + 8, n);
    hdr[n] = '\0';
    if (json_depth(hdr, n, ST_MAX_JSON_DEPTH) > ST_MAX_JSON_DEPTH) {
        st = tdl_fail(TDL_EFORMAT, "%s: header nests JSON arrays or objects more than %d levels deep", label,
                      ST_MAX_JSON_DEPTH);
        goto cleanup;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, n, &end, 0);
    if (!root) {
        size_t at = (end && end >= hdr && end <= hdr + n) ? (size_t)(end - hdr) : 0;
        st = tdl_fail(TDL_EFORMAT, "%s: header is not valid JSON (error near header byte %zu)",
                      label, at);
        goto cleanup;
    }
    for (const char *p = end; p && p < hdr + n; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            st = tdl_fail(TDL_EFORMAT, "%s: unexpected text after the JSON header at byte %zu",
                          label, (size_t)(p - hdr));
            goto cleanup;
        }
    }
    if (!cJSON_IsObject(root)) {
        st = tdl_fail(TDL_EFORMAT, "%s: header is not a JSON object", label);
        goto cleanup;
    }

    size_t total = 0;
    for (const cJSON *it = root->child; it; it = it->next) total++;
    ents = tdl_calloc(total, sizeof *ents, "safetensors entries");
    names = tdl_calloc(total, sizeof *names, "safetensors names");
    if (!ents || !names) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!it->string) {
            st = tdl_fail(TDL_EFORMAT, "%s: header entry without a name", label);
            goto cleanup;
        }
        if (strcmp(it->string, "__metadata__") == 0) {
            meta = it;
            n_meta_objs++;
            continue;
        }
        st_entry *e = &ents[count];
        if ((st = parse_entry(it, buflen, label, e)) != TDL_OK) goto cleanup;
        e->order = count;
        names[count] = it->string;
        count++;
    }
    if (n_meta_objs > 1) {
        st = tdl_fail(TDL_EFORMAT, "%s: \"__metadata__\" appears %zu times", label, n_meta_objs);
        goto cleanup;
    }
    size_t dup = tdl_find_duplicate_name(names, count);
    if (dup == (size_t)-2) {
        st = tdl_fail(TDL_ENOMEM, "%s: out of memory checking names", label);
        goto cleanup;
    }
    if (dup != (size_t)-1) {
        char nm[64];
        st = tdl_fail(TDL_EFORMAT, "%s: tensor '%s' appears twice", label,
                      tdl_msg_str(names[dup], strlen(names[dup]), nm, sizeof nm));
        goto cleanup;
    }

    /* __metadata__: a map of strings to strings */
    if (meta) {
        if (!cJSON_IsObject(meta)) {
            st = tdl_fail(TDL_EFORMAT, "%s: \"__metadata__\" is not a JSON object", label);
            goto cleanup;
        }
        size_t nmeta = 0, k = 0;
        for (const cJSON *m = meta->child; m; m = m->next) nmeta++;
        free(names);
        names = tdl_calloc(nmeta, sizeof *names, "metadata keys");
        if (!names) {
            st = TDL_ENOMEM;
            goto cleanup;
        }
        for (const cJSON *m = meta->child; m; m = m->next) {
            char nm[64];
            if (!m->string) {
                st = tdl_fail(TDL_EFORMAT, "%s: \"__metadata__\" entry without a key", label);
                goto cleanup;
            }
            if (!cJSON_IsString(m) || !m->valuestring) {
                st = tdl_fail(TDL_EFORMAT, "%s: \"__metadata__\" value of '%s' is not a string",
                              label, tdl_msg_str(m->string, strlen(m->string), nm, sizeof nm));
                goto cleanup;
            }
            names[k++] = m->string;
        }
        dup = tdl_find_duplicate_name(names, nmeta);
        if (dup == (size_t)-2) {
            st = tdl_fail(TDL_ENOMEM, "%s: out of memory checking metadata", label);
            goto cleanup;
        }
        if (dup != (size_t)-1) {
            char nm[64];
            st = tdl_fail(TDL_EFORMAT, "%s: \"__metadata__\" key '%s' appears twice", label,
                          tdl_msg_str(names[dup], strlen(names[dup]), nm, sizeof nm));
            goto cleanup;
        }
    }

    /* The data buffer: sorted by begin, the entries must tile [0, buflen). */
    qsort(ents, count, sizeof *ents, cmp_begin);
    size_t expect = 0;
    for (size_t i = 0; i < count; i++) {
        const st_entry *e = &ents[i];
        char nm[64], pn[64];
        tdl_msg_str(e->name, strlen(e->name), nm, sizeof nm);
        if (e->begin < expect) {
            const st_entry *p = &ents[i - 1];
            st = tdl_fail(TDL_EFORMAT,
                          "%s: tensor '%s': data_offsets [%zu, %zu] overlap tensor '%s' at [%zu, %zu]",
                          label, nm, e->begin, e->end,
                          tdl_msg_str(p->name, strlen(p->name), pn, sizeof pn), p->begin, p->end);
            goto cleanup;
        }
        if (e->begin > expect) {
            st = tdl_fail(TDL_EFORMAT,
                          "%s: tensor '%s': gap of %zu bytes before data_offsets [%zu, %zu] (offsets must be contiguous from 0)",
                          label, nm, e->begin - expect, e->begin, e->end);
            goto cleanup;
        }
        expect = e->end;
    }
    if (expect != buflen) {
        st = tdl_fail(TDL_EFORMAT,
                      "%s: tensors cover %zu of the %zu bytes of the data buffer (%zu bytes not covered)",
                      label, expect, buflen, buflen - expect);
        goto cleanup;
    }

    set = tdl_tensors_new();
    if (!set) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    if ((st = tdl_tensors_reserve(set, count)) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < count; i++) {
        const st_entry *e = &ents[i];
        size_t dbytes;
        if (tdl_mul_size(e->numel, sizeof(double), &dbytes) != 0) {
            st = tdl_fail(TDL_ETOOBIG, "%s: tensor too large for memory", label);
            goto cleanup;
        }
        double *vals = tdl_malloc(dbytes, "tensor data");
        if (!vals) {
            st = TDL_ENOMEM;
            goto cleanup;
        }
        tdl_convert_to_double(data + e->begin, e->dt, 0, e->numel, vals);
        if ((st = tdl_tensors_push(set, e->name, e->dt, e->ndim, e->shape, e->numel, vals)) !=
            TDL_OK)
            goto cleanup;
    }
    if (meta && meta->child) {
        /* keys are distinct (checked above): append without searching */
        size_t nmeta = 0;
        for (const cJSON *m = meta->child; m; m = m->next) nmeta++;
        set->meta_keys = tdl_calloc(nmeta, sizeof(char *), "metadata keys");
        set->meta_values = tdl_calloc(nmeta, sizeof(char *), "metadata values");
        if (!set->meta_keys || !set->meta_values) {
            st = TDL_ENOMEM;
            goto cleanup;
        }
        for (const cJSON *m = meta->child; m; m = m->next) {
            char *k = tdl_strdup(m->string), *v = tdl_strdup(m->valuestring);
            if (!k || !v) {
                free(k);
                free(v);
                st = TDL_ENOMEM;
                goto cleanup;
            }
            set->meta_keys[set->meta_count] = k;
            set->meta_values[set->meta_count] = v;
            set->meta_count++;
        }
    }
    *out = set;
    set = NULL;
cleanup:
    tdl_tensors_free(&set);
    free(names);
    free(ents);
    cJSON_Delete(root);
    free(hdr);
    return st;
}

int tdl_safetensors_read(const char *path, tdl_tensors **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_safetensors_read: out is NULL");
    *out = NULL;
    int st = tdl_read_file(path, TDL_IO_MAX_FILE_BYTES, &buf, &len);
    if (st != TDL_OK) return st;
    st = tdl_safetensors_read_mem(buf, len, path, out);
    free(buf);
    return st;
}

/* ---- writer ------------------------------------------------------------ */

typedef struct strbuf {
    char *s;
    size_t len, cap;
    int failed;
} strbuf;

static void sb_add(strbuf *b, const char *p, size_t n)
{
    if (b->failed) return;
    if (n > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_fmt_size(strbuf *b, size_t v)
{
    char tmp[32];
    int w = snprintf(tmp, sizeof tmp, "%zu", v);
    sb_add(b, tmp, (size_t)w);
}

/* A JSON string literal (RFC 8259 section 7): escape '"', '\\' and
 * control characters; other bytes pass through (names are UTF-8). */
static void sb_json_string(strbuf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            sb_add(b, esc, 2);
        } else if (*p < 0x20) {
            int w = snprintf(esc, sizeof esc, "\\u%04x", *p);
            sb_add(b, esc, (size_t)w);
        } else {
            sb_add(b, (const char *)p, 1);
        }
    }
    sb_add(b, "\"", 1);
}

int tdl_safetensors_write(const char *path, const tdl_tensors *set)
{
    strbuf hb = {0};
    tdl_atomic_file af;
    int st = TDL_OK, opened = 0;
    size_t offset = 0;

    if (!path || !set) return tdl_fail(TDL_EINVAL, "tdl_safetensors_write: NULL argument");
    if ((st = tdl_tensors_check_unique(set, path)) != TDL_OK) return st;
    /* header: {"__metadata__":{...},"name":{"dtype":"F64","shape":[..],"data_offsets":[b,e]},...} */
    sb_add(&hb, "{", 1);
    if (set->meta_count) {
        sb_str(&hb, "\"__metadata__\":{");
        for (size_t i = 0; i < set->meta_count; i++) {
            if (i) sb_add(&hb, ",", 1);
            sb_json_string(&hb, set->meta_keys[i]);
            sb_add(&hb, ":", 1);
            sb_json_string(&hb, set->meta_values[i]);
        }
        sb_add(&hb, "}", 1);
    }
    for (size_t i = 0; i < set->count; i++) {
        const tdl_tensor *t = &set->items[i];
        size_t numel, nbytes, end;
        char nm[64];
        tdl_msg_str(t->name, strlen(t->name), nm, sizeof nm);
        if (strcmp(t->name, "__metadata__") == 0) {
            st = tdl_fail(TDL_EINVAL, "%s: a tensor cannot be named \"__metadata__\"", path);
            goto cleanup;
        }
        if (t->ndim > TDL_MAX_NDIM || tdl_shape_numel(t->ndim, t->shape, &numel) != TDL_OK ||
            numel != t->numel || (numel && !t->data)) {
            st = tdl_fail(TDL_EINVAL, "%s: tensor '%s': inconsistent shape or data", path, nm);
            goto cleanup;
        }
        if (tdl_mul_size(numel, 8, &nbytes) != 0 || tdl_add_size(offset, nbytes, &end) != 0) {
            st = tdl_fail(TDL_ETOOBIG, "%s: tensor '%s': too large", path, nm);
            goto cleanup;
        }
        if (i || set->meta_count) sb_add(&hb, ",", 1);
        sb_json_string(&hb, t->name);
        sb_str(&hb, ":{\"dtype\":\"F64\",\"shape\":[");
        for (size_t k = 0; k < t->ndim; k++) {
            if (k) sb_add(&hb, ",", 1);
            sb_fmt_size(&hb, t->shape[k]);
        }
        sb_str(&hb, "],\"data_offsets\":[");
        sb_fmt_size(&hb, offset);
        sb_add(&hb, ",", 1);
        sb_fmt_size(&hb, end);
        sb_str(&hb, "]}");
        offset = end;
    }
    sb_add(&hb, "}", 1);
    while (!hb.failed && hb.len % 8 != 0) sb_add(&hb, " ", 1);  /* pad to a multiple of 8 */
    if (hb.failed) {
        st = tdl_fail(TDL_ENOMEM, "%s: out of memory building the header", path);
        goto cleanup;
    }
    if (hb.len > ST_MAX_HEADER) {
        st = tdl_fail(TDL_ETOOBIG, "%s: header of %zu bytes exceeds the 100,000,000-byte limit",
                      path, hb.len);
        goto cleanup;
    }

    if ((st = tdl_atomic_begin(path, &af)) != TDL_OK) goto cleanup;
    opened = 1;
    unsigned char lenbuf[8], chunk[4096];
    for (int k = 0; k < 8; k++) lenbuf[k] = (unsigned char)((uint64_t)hb.len >> (8 * k));
    if (fwrite(lenbuf, 1, 8, af.fp) != 8 || fwrite(hb.s, 1, hb.len, af.fp) != hb.len) {
        st = tdl_fail(TDL_EIO, "%s: write failed: %s", path, strerror(errno));
        goto cleanup;
    }
    for (size_t i = 0; i < set->count; i++) {
        const tdl_tensor *t = &set->items[i];
        for (size_t j = 0; j < t->numel;) {
            size_t m = t->numel - j < 512 ? t->numel - j : 512;
            tdl_store_f64le(chunk, t->data + j, m);
            if (fwrite(chunk, 8, m, af.fp) != m) {
                st = tdl_fail(TDL_EIO, "%s: write failed: %s", path, strerror(errno));
                goto cleanup;
            }
            j += m;
        }
    }
    st = tdl_atomic_commit(&af);
    opened = 0;
cleanup:
    if (opened) tdl_atomic_abort(&af);
    free(hb.s);
    return st;
}
