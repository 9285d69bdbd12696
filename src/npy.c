/* npy.c — NumPy .npy reader and writer, plus the helpers shared by the
 * format modules (dtype conversion, tensor-set building, message quoting).
 *
 * Format (numpy/lib/format.py, "NEP 1 — A Simple File Format for NumPy
 * Arrays"):
 *
 *   offset  size      field
 *   0       6         magic "\x93NUMPY"
 *   6       1         major version (1, 2 or 3)
 *   7       1         minor version (0)
 *   8       2 or 4    header length H, little-endian: u16 for v1.0,
 *                     u32 for v2.0 and v3.0
 *   10/12   H         header: a Python dict literal
 *                     {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 *                     padded with spaces and ending in '\n' (v3.0: UTF-8)
 *   10/12+H ...       data: prod(shape) elements, C or Fortran order
 *
 * numpy aligns the data to 64 bytes when it writes; readers must not
 * assume it.  The header is parsed here by hand (never evaluated): the
 * three keys in any order, single or double quotes, optional trailing
 * comma, whitespace between tokens.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "tdl/io.h"
#include "internal.h"
#include "formats_internal.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* ---- shared helpers ---------------------------------------------------- */

const char *tdl_io_label(const char *label) { return label ? label : "<memory>"; }

const char *tdl_msg_str(const char *s, size_t len, char *out, size_t cap)
{
    const size_t max_chars = 48;
    size_t n = 0, i = 0;
    if (cap == 0) return out;
    while (i < len && n + 4 < cap && i < max_chars) {
        unsigned char c = (unsigned char)s[i++];
        out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (i < len) {
        /* do not cut a UTF-8 sequence in the middle */
        while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80) n--;
        if (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0xC0) n--;
        if (n + 4 <= cap) {
            memcpy(out + n, "...", 3);
            n += 3;
        }
    }
    out[n] = '\0';
    return out;
}

/* Assemble an unsigned integer from sz bytes in the given byte order. */
static uint64_t load_uint(const unsigned char *p, size_t sz, int big_endian)
{
    uint64_t u = 0;
    if (big_endian)
        for (size_t k = 0; k < sz; k++) u = (u << 8) | p[k];
    else
        for (size_t k = sz; k-- > 0;) u = (u << 8) | p[k];
    return u;
}

/* Two's-complement value of the low `bits` bits of u. */
static double signed_value(uint64_t u, unsigned bits)
{
    int64_t s;
    if (bits < 64 && ((u >> (bits - 1)) & 1u)) u |= ~UINT64_C(0) << bits;
    memcpy(&s, &u, sizeof s);
    return (double)s;
}

void tdl_convert_to_double(const unsigned char *src, tdl_dtype dt, int big_endian,
                           size_t numel, double *dst)
{
    size_t sz = tdl_dtype_size(dt);
    for (size_t i = 0; i < numel; i++, src += sz) {
        uint64_t u = load_uint(src, sz, big_endian);
        switch (dt) {
        case TDL_BOOL: dst[i] = u ? 1.0 : 0.0; break;
        case TDL_U8: case TDL_U16: case TDL_U32: case TDL_U64:
            dst[i] = (double)u;
            break;
        case TDL_I8: dst[i] = signed_value(u, 8); break;
        case TDL_I16: dst[i] = signed_value(u, 16); break;
        case TDL_I32: dst[i] = signed_value(u, 32); break;
        case TDL_I64: dst[i] = signed_value(u, 64); break;
        case TDL_F16: dst[i] = tdl_f16_to_double((uint16_t)u); break;
        case TDL_BF16: dst[i] = tdl_bf16_to_double((uint16_t)u); break;
        case TDL_F32: {
            uint32_t b = (uint32_t)u;
            float f;
            memcpy(&f, &b, sizeof f);
            dst[i] = (double)f;
            break;
        }
        case TDL_F64: {
            double d;
            memcpy(&d, &u, sizeof d);
            dst[i] = d;
            break;
        }
        default: dst[i] = 0.0; break;
        }
    }
}

void tdl_store_f64le(unsigned char *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &src[i], sizeof u);
        for (int k = 0; k < 8; k++) dst[8 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
    }
}

int tdl_tensors_reserve(tdl_tensors *set, size_t n)
{
    size_t want, bytes;
    if (tdl_add_size(set->count, n, &want) != 0 ||
        tdl_mul_size(want, sizeof(tdl_tensor), &bytes) != 0)
        return tdl_fail(TDL_ETOOBIG, "too many tensors (%zu)", n);
    if (want <= set->capacity) return TDL_OK;
    /* grow geometrically, so that appending one at a time stays linear */
    size_t cap = want, twice;
    if (tdl_mul_size(set->capacity, 2, &twice) == 0 && twice > cap &&
        tdl_mul_size(twice, sizeof(tdl_tensor), &bytes) == 0)
        cap = twice;
    else
        bytes = want * sizeof(tdl_tensor);
    tdl_tensor *items = realloc(set->items, bytes ? bytes : 1);
    if (!items) return tdl_fail(TDL_ENOMEM, "out of memory for %zu tensors", want);
    set->items = items;
    set->capacity = cap;
    return TDL_OK;
}

int tdl_tensors_push(tdl_tensors *set, const char *name, tdl_dtype dt, size_t ndim,
                     const size_t *shape, size_t numel, double *data)
{
    char *copy = tdl_strdup(name);
    if (!copy) {
        free(data);
        return TDL_ENOMEM;
    }
    tdl_tensor *t = &set->items[set->count];
    memset(t, 0, sizeof *t);
    t->name = copy;
    t->dtype = dt;
    t->ndim = ndim;
    for (size_t i = 0; i < ndim && i < TDL_MAX_NDIM; i++) t->shape[i] = shape[i];
    t->numel = numel;
    t->data = data;
    set->count++;
    return TDL_OK;
}

/* Public (tdl/tensor.h); here beside the reserve/push it is built on. */
int tdl_tensors_append(tdl_tensors *set, tdl_tensor **t)
{
    if (!t || !*t) return tdl_fail(TDL_EINVAL, "tensors: no tensor to append");
    tdl_tensor *src = *t;
    *t = NULL;
    int st = tdl_tensors_reserve(set, 1);
    if (st == TDL_OK) /* push owns data from here, freed on failure */
        st = tdl_tensors_push(set, src->name ? src->name : "", src->dtype, src->ndim, src->shape,
                              src->numel, src->data);
    else
        free(src->data);
    free(src->name);
    free(src);
    return st;
}

typedef struct name_ref {
    const char *name;
    size_t index;
} name_ref;

static int cmp_name_ref(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0) return c;
    return (x->index > y->index) - (x->index < y->index);
}

size_t tdl_find_duplicate_name(char *const *names, size_t count)
{
    /* Sort (name, index) pairs and compare neighbours: O(n log n), so that
     * a hostile header with many entries cannot make this quadratic. */
    size_t found = (size_t)-1, bytes;
    if (count < 2) return found;
    if (tdl_mul_size(count, sizeof(name_ref), &bytes) != 0) return (size_t)-2;
    name_ref *refs = malloc(bytes);
    if (!refs) return (size_t)-2;
    for (size_t i = 0; i < count; i++) {
        refs[i].name = names[i];
        refs[i].index = i;
    }
    qsort(refs, count, sizeof *refs, cmp_name_ref);
    for (size_t i = 1; i < count; i++)
        if (strcmp(refs[i - 1].name, refs[i].name) == 0) {
            found = refs[i].index;
            break;
        }
    free(refs);
    return found;
}

int tdl_tensors_check_unique(const tdl_tensors *set, const char *label)
{
    if (set->count < 2) return TDL_OK;
    char **names = tdl_calloc(set->count, sizeof *names, "tensor names");
    if (!names) return TDL_ENOMEM;
    for (size_t i = 0; i < set->count; i++) names[i] = set->items[i].name ? set->items[i].name : "";
    size_t dup = tdl_find_duplicate_name(names, set->count);
    int st = TDL_OK;
    if (dup == (size_t)-2) {
        st = tdl_fail(TDL_ENOMEM, "%s: out of memory checking names", tdl_io_label(label));
    } else if (dup != (size_t)-1) {
        char shown[64];
        st = tdl_fail(TDL_EINVAL, "%s: two tensors are named '%s'", tdl_io_label(label),
                      tdl_msg_str(names[dup], strlen(names[dup]), shown, sizeof shown));
    }
    free(names);
    return st;
}

/* ---- header parsing ---------------------------------------------------- */

typedef struct npy_cursor {
    const char *p, *end;
    const char *label;
} npy_cursor;

static void skip_ws(npy_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int at(const npy_cursor *c, char ch) { return c->p < c->end && *c->p == ch; }

static int header_error(const npy_cursor *c, const char *start, const char *what)
{
    return tdl_fail(TDL_EFORMAT, "%s: npy header: %s at header byte %zu",
                    c->label, what, (size_t)(c->p - start));
}

/* A Python string literal without escapes: 'abc' or "abc".  *s, *n point
 * into the header. */
static int parse_pystr(npy_cursor *c, const char *start, const char **s, size_t *n)
{
    if (!(at(c, '\'') || at(c, '"'))) return header_error(c, start, "expected a quoted string");
    char q = *c->p++;
    const char *b = c->p;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n')
            return header_error(c, start, "escape or newline inside a string");
        c->p++;
    }
    if (c->p >= c->end) return header_error(c, start, "unterminated string");
    *s = b;
    *n = (size_t)(c->p - b);
    c->p++;
    return TDL_OK;
}

static int match_word(npy_cursor *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
    /* the word must end here (no "Falsey") */
    if ((size_t)(c->end - c->p) > n) {
        char nx = c->p[n];
        if ((nx >= 'a' && nx <= 'z') || (nx >= 'A' && nx <= 'Z') || (nx >= '0' && nx <= '9') ||
            nx == '_')
            return 0;
    }
    c->p += n;
    return 1;
}

/* descr -> dtype.  Byte order '<' little, '>' big, '=' and '|' taken as
 * little (native of the machines numpy runs on in practice), none = '='. */
static int parse_descr(const char *s, size_t n, const char *label, tdl_dtype *dt, int *big)
{
    char shown[64];
    const char *p = s;
    size_t m = n;
    *big = 0;
    if (m > 0 && (*p == '<' || *p == '>' || *p == '=' || *p == '|')) {
        *big = (*p == '>');
        p++;
        m--;
    }
    static const struct { const char *code; tdl_dtype dt; } table[] = {
        {"f2", TDL_F16}, {"f4", TDL_F32}, {"f8", TDL_F64},
        {"i1", TDL_I8}, {"i2", TDL_I16}, {"i4", TDL_I32}, {"i8", TDL_I64},
        {"u1", TDL_U8}, {"u2", TDL_U16}, {"u4", TDL_U32}, {"u8", TDL_U64},
        {"b1", TDL_BOOL},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (m == 2 && memcmp(p, table[i].code, 2) == 0) {
            *dt = table[i].dt;
            return TDL_OK;
        }
    }
    tdl_msg_str(s, n, shown, sizeof shown);
    if (m >= 1 && *p == 'O')
        return tdl_fail(TDL_EFORMAT,
                        "%s: unsupported dtype '%s' (Python objects, pickled; save a numeric array)",
                        label, shown);
    return tdl_fail(TDL_EFORMAT, "%s: unsupported dtype '%s'", label, shown);
}

/* Shape tuple: () | (d,) | (d, d, ...) with an optional trailing comma;
 * a one-element tuple needs its comma, as in Python. */
static int parse_shape(npy_cursor *c, const char *start, size_t *ndim, size_t *shape)
{
    size_t k = 0;
    int comma_after_last = 0;
    if (!at(c, '(')) return header_error(c, start, "'shape' is not a tuple");
    c->p++;
    skip_ws(c);
    while (!at(c, ')')) {
        if (c->p >= c->end) return header_error(c, start, "unterminated shape tuple");
        if (at(c, '-')) return header_error(c, start, "negative dimension in 'shape'");
        if (!(*c->p >= '0' && *c->p <= '9'))
            return header_error(c, start, "expected a non-negative integer in 'shape'");
        uint64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            unsigned d = (unsigned)(*c->p - '0');
            if (v > (UINT64_MAX - d) / 10 || (v * 10 + d) > (uint64_t)SIZE_MAX)
                return tdl_fail(TDL_ETOOBIG, "%s: npy header: dimension too large", c->label);
            v = v * 10 + d;
            c->p++;
        }
        if (at(c, 'L') || at(c, 'l')) c->p++;       /* Python 2 long literal */
        if (k >= TDL_MAX_NDIM)
            return tdl_fail(TDL_ETOOBIG, "%s: npy header: more than %d dimensions", c->label,
                            TDL_MAX_NDIM);
        shape[k++] = (size_t)v;
        skip_ws(c);
        comma_after_last = 0;
        if (at(c, ',')) {
            c->p++;
            comma_after_last = 1;
            skip_ws(c);
        } else if (!at(c, ')')) {
            return header_error(c, start, "expected ',' or ')' in 'shape'");
        }
    }
    if (k == 1 && !comma_after_last)
        return header_error(c, start, "'shape' (n) is not a tuple, write (n,)");
    c->p++;
    *ndim = k;
    return TDL_OK;
}

typedef struct npy_header {
    tdl_dtype dt;
    int big_endian;
    int fortran;
    size_t ndim;
    size_t shape[TDL_MAX_NDIM];
} npy_header;

static int parse_header(const char *h, size_t hlen, const char *label, npy_header *out)
{
    npy_cursor c = {h, h + hlen, label};
    int have_descr = 0, have_fortran = 0, have_shape = 0, st;
    const char *s;
    size_t n;

    skip_ws(&c);
    if (!at(&c, '{')) return header_error(&c, h, "expected '{'");
    c.p++;
    for (;;) {
        skip_ws(&c);
        if (at(&c, '}')) break;
        if ((st = parse_pystr(&c, h, &s, &n)) != TDL_OK) return st;
        int key;
        if (n == 5 && memcmp(s, "descr", 5) == 0) key = 0;
        else if (n == 13 && memcmp(s, "fortran_order", 13) == 0) key = 1;
        else if (n == 5 && memcmp(s, "shape", 5) == 0) key = 2;
        else {
            char shown[64];
            return tdl_fail(TDL_EFORMAT, "%s: npy header: unexpected key '%s'", label,
                            tdl_msg_str(s, n, shown, sizeof shown));
        }
        int *seen = key == 0 ? &have_descr : key == 1 ? &have_fortran : &have_shape;
        if (*seen) return header_error(&c, h, "duplicate key");
        *seen = 1;
        skip_ws(&c);
        if (!at(&c, ':')) return header_error(&c, h, "expected ':'");
        c.p++;
        skip_ws(&c);
        if (key == 0) {
            if (at(&c, '[') || at(&c, '('))
                return tdl_fail(TDL_EFORMAT,
                                "%s: unsupported dtype (structured array with fields)", label);
            if ((st = parse_pystr(&c, h, &s, &n)) != TDL_OK) return st;
            if ((st = parse_descr(s, n, label, &out->dt, &out->big_endian)) != TDL_OK) return st;
        } else if (key == 1) {
            if (match_word(&c, "True")) out->fortran = 1;
            else if (match_word(&c, "False")) out->fortran = 0;
            else return header_error(&c, h, "'fortran_order' is not True or False");
        } else {
            if ((st = parse_shape(&c, h, &out->ndim, out->shape)) != TDL_OK) return st;
        }
        skip_ws(&c);
        if (at(&c, ',')) {
            c.p++;
            continue;
        }
        if (at(&c, '}')) break;
        return header_error(&c, h, "expected ',' or '}'");
    }
    c.p++;
    skip_ws(&c);
    if (c.p != c.end) return header_error(&c, h, "unexpected text after '}'");
    if (!have_descr || !have_fortran || !have_shape)
        return tdl_fail(TDL_EFORMAT, "%s: npy header lacks '%s'", label,
                        !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
    return TDL_OK;
}

/* Column-major (Fortran) src -> row-major dst: walk src in order with a
 * multi-index whose first coordinate runs fastest, tracking the row-major
 * offset of that index incrementally. */
static void fortran_to_c(const double *src, double *dst, size_t ndim, const size_t *shape,
                         size_t numel)
{
    size_t idx[TDL_MAX_NDIM] = {0}, stride[TDL_MAX_NDIM];
    size_t s = 1, off = 0;
    for (size_t k = ndim; k-- > 0;) {
        stride[k] = s;
        s *= shape[k];
    }
    for (size_t j = 0; j < numel; j++) {
        dst[off] = src[j];
        for (size_t k = 0; k < ndim; k++) {
            idx[k]++;
            off += stride[k];
            if (idx[k] < shape[k]) break;
            off -= idx[k] * stride[k];
            idx[k] = 0;
        }
    }
}

/* ---- reader ------------------------------------------------------------ */

int tdl_npy_parse(const unsigned char *buf, size_t len, const char *label, const char *name,
                  tdl_tensor **out)
{
    npy_header hd;
    size_t pre, hlen, numel, nbytes, dbytes, data_off;
    double *vals = NULL, *tmp = NULL;
    tdl_tensor *t = NULL;
    int st = TDL_OK;

    *out = NULL;
    label = tdl_io_label(label);
    memset(&hd, 0, sizeof hd);
    if (len == 0) return tdl_fail(TDL_EFORMAT, "%s: empty file (not a .npy file)", label);
    if (memcmp(buf, npy_magic, len < 6 ? len : 6) != 0)
        return tdl_fail(TDL_EFORMAT, "%s: bad magic (not a .npy file)", label);
    if (len < 8)
        return tdl_fail(TDL_EFORMAT, "%s: truncated: %zu bytes, shorter than the .npy preamble",
                        label, len);
    if (buf[7] != 0 || (buf[6] != 1 && buf[6] != 2 && buf[6] != 3))
        return tdl_fail(TDL_EFORMAT, "%s: unsupported .npy version %u.%u", label, buf[6], buf[7]);
    if (buf[6] == 1) {
        pre = 10;
        if (len < pre)
            return tdl_fail(TDL_EFORMAT, "%s: truncated: %zu bytes, shorter than the .npy preamble",
                            label, len);
        hlen = tdl_le16(buf + 8);
    } else {
        pre = 12;
        if (len < pre)
            return tdl_fail(TDL_EFORMAT, "%s: truncated: %zu bytes, shorter than the .npy preamble",
                            label, len);
        hlen = tdl_le32(buf + 8);
    }
    if (hlen > len - pre)
        return tdl_fail(TDL_EFORMAT,
                        "%s: truncated: header length %zu exceeds the %zu bytes after the preamble",
                        label, hlen, len - pre);
    if ((st = parse_header((const char *)buf + pre, hlen, label, &hd)) != TDL_OK) return st;

    if (tdl_shape_numel(hd.ndim, hd.shape, &numel) != TDL_OK)
        return tdl_fail(TDL_ETOOBIG, "%s: shape product overflows", label);
    if (tdl_mul_size(numel, tdl_dtype_size(hd.dt), &nbytes) != 0)
        return tdl_fail(TDL_ETOOBIG, "%s: data size overflows (%zu elements of %s)", label,
                        numel, tdl_dtype_name(hd.dt));
    data_off = pre + hlen;
    if (len - data_off < nbytes)
        return tdl_fail(TDL_EFORMAT, "%s: truncated: needs %zu bytes of data, has %zu", label,
                        nbytes, len - data_off);
    if (len - data_off > nbytes)
        return tdl_fail(TDL_EFORMAT, "%s: %zu trailing bytes after the %zu bytes of data", label,
                        len - data_off - nbytes, nbytes);
    if (tdl_mul_size(numel, sizeof(double), &dbytes) != 0)
        return tdl_fail(TDL_ETOOBIG, "%s: %zu elements do not fit in memory", label, numel);

    vals = tdl_malloc(dbytes, "npy data");
    if (!vals) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    if (hd.fortran && hd.ndim > 1 && numel > 0) {
        tmp = tdl_malloc(dbytes, "npy data");
        if (!tmp) {
            st = TDL_ENOMEM;
            goto cleanup;
        }
        tdl_convert_to_double(buf + data_off, hd.dt, hd.big_endian, numel, tmp);
        fortran_to_c(tmp, vals, hd.ndim, hd.shape, numel);
    } else {
        tdl_convert_to_double(buf + data_off, hd.dt, hd.big_endian, numel, vals);
    }
    t = tdl_calloc(1, sizeof *t, "a tensor");
    if (!t) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    t->name = tdl_strdup(name ? name : "");
    if (!t->name) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    t->dtype = hd.dt;
    t->ndim = hd.ndim;
    memcpy(t->shape, hd.shape, sizeof t->shape);
    t->numel = numel;
    t->data = vals;
    vals = NULL;
    *out = t;
    t = NULL;
cleanup:
    free(tmp);
    free(vals);
    tdl_tensor_free(&t);
    return st;
}

/* Tensor name for a file read on its own: the label's base name without
 * ".npy" ("npy" when nothing is left). */
static char *name_from_label(const char *label, char *out, size_t cap)
{
    const char *b = label ? label : "";
    const char *slash = strrchr(b, '/');
    if (slash) b = slash + 1;
    size_t n = strlen(b);
    if (n >= 4 && strcmp(b + n - 4, ".npy") == 0) n -= 4;
    if (n == 0) {
        b = "npy";
        n = 3;
    }
    if (n >= cap) n = cap - 1;
    memcpy(out, b, n);
    out[n] = '\0';
    return out;
}

int tdl_npy_read_mem(const unsigned char *buf, size_t len, const char *label, tdl_tensor **out)
{
    char name[256];
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_npy_read_mem: out is NULL");
    *out = NULL;
    if (!buf && len) return tdl_fail(TDL_EINVAL, "tdl_npy_read_mem: buffer is NULL");
    if (!buf) buf = (const unsigned char *)"";
    return tdl_npy_parse(buf, len, label, name_from_label(label, name, sizeof name), out);
}

int tdl_npy_read(const char *path, tdl_tensor **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_npy_read: out is NULL");
    *out = NULL;
    int st = tdl_read_file(path, TDL_IO_MAX_FILE_BYTES, &buf, &len);
    if (st != TDL_OK) return st;
    st = tdl_npy_read_mem(buf, len, path, out);
    free(buf);
    return st;
}

/* ---- writer ------------------------------------------------------------ */

/* Where serialized bytes go: a FILE, a memory buffer, or only a CRC. */
typedef struct npy_sink {
    FILE *fp;
    unsigned char *mem;
    size_t pos;
    int want_crc;
    uLong crc;
} npy_sink;

static int sink_put(npy_sink *k, const unsigned char *p, size_t n)
{
    if (n == 0) return 0;
    if (k->want_crc) {
        size_t off = 0;
        while (off < n) {
            size_t take = n - off > 0x40000000u ? 0x40000000u : n - off;
            k->crc = crc32(k->crc, p + off, (uInt)take);
            off += take;
        }
    }
    if (k->fp && fwrite(p, 1, n, k->fp) != n) return -1;
    if (k->mem) memcpy(k->mem + k->pos, p, n);
    k->pos += n;
    return 0;
}

static int check_tensor(const tdl_tensor *t, const char *label)
{
    size_t numel;
    if (!t) return tdl_fail(TDL_EINVAL, "%s: no tensor", label);
    if (t->ndim > TDL_MAX_NDIM)
        return tdl_fail(TDL_EINVAL, "%s: tensor has %zu dimensions (at most %d)", label, t->ndim,
                        TDL_MAX_NDIM);
    if (tdl_shape_numel(t->ndim, t->shape, &numel) != TDL_OK)
        return tdl_fail(TDL_ETOOBIG, "%s: shape product overflows", label);
    if (numel != t->numel)
        return tdl_fail(TDL_EINVAL, "%s: tensor numel %zu does not match its shape (%zu)", label,
                        t->numel, numel);
    if (numel && !t->data) return tdl_fail(TDL_EINVAL, "%s: tensor has no data", label);
    return TDL_OK;
}

/* The preamble + header of t into hdr (cap >= 1024); *n its length. */
static int format_header(const tdl_tensor *t, unsigned char *hdr, size_t cap, size_t *n)
{
    char dict[512];
    int w = snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (");
    for (size_t k = 0; k < t->ndim; k++)
        w += snprintf(dict + w, sizeof dict - (size_t)w, k ? ", %zu" : "%zu", t->shape[k]);
    w += snprintf(dict + w, sizeof dict - (size_t)w, "%s), }", t->ndim == 1 ? "," : "");
    size_t dlen = (size_t)w;
    /* v1.0: 10-byte preamble, u16 header length; v2.0 when it does not fit */
    size_t pre = 10;
    size_t total = pre + dlen + 1;
    total = (total + 63) / 64 * 64;
    if (total - pre > 65535) {
        pre = 12;
        total = (pre + dlen + 1 + 63) / 64 * 64;
    }
    if (total > cap) return tdl_fail(TDL_ETOOBIG, "npy header too long");
    size_t hlen = total - pre;
    memcpy(hdr, npy_magic, 6);
    hdr[6] = pre == 10 ? 1 : 2;
    hdr[7] = 0;
    for (size_t k = 0; k < pre - 8; k++) hdr[8 + k] = (unsigned char)(hlen >> (8 * k));
    memcpy(hdr + pre, dict, dlen);
    memset(hdr + pre + dlen, ' ', total - pre - dlen - 1);
    hdr[total - 1] = '\n';
    *n = total;
    return TDL_OK;
}

static int npy_emit(const tdl_tensor *t, npy_sink *k)
{
    unsigned char hdr[1024], chunk[4096];
    size_t hn;
    int st = format_header(t, hdr, sizeof hdr, &hn);
    if (st != TDL_OK) return st;
    if (sink_put(k, hdr, hn) != 0) return TDL_EIO;
    for (size_t i = 0; i < t->numel;) {
        size_t m = t->numel - i < 512 ? t->numel - i : 512;
        tdl_store_f64le(chunk, t->data + i, m);
        if (sink_put(k, chunk, 8 * m) != 0) return TDL_EIO;
        i += m;
    }
    return TDL_OK;
}

int tdl_npy_image_size(const tdl_tensor *t, size_t *size)
{
    unsigned char hdr[1024];
    size_t hn, db;
    int st = check_tensor(t, "npy");
    if (st != TDL_OK) return st;
    if ((st = format_header(t, hdr, sizeof hdr, &hn)) != TDL_OK) return st;
    if (tdl_mul_size(t->numel, 8, &db) != 0 || tdl_add_size(hn, db, size) != 0)
        return tdl_fail(TDL_ETOOBIG, "npy image of %zu elements too large", t->numel);
    return TDL_OK;
}

int tdl_npy_write_mem(const tdl_tensor *t, unsigned char **buf, size_t *len)
{
    size_t size;
    *buf = NULL;
    *len = 0;
    int st = tdl_npy_image_size(t, &size);
    if (st != TDL_OK) return st;
    npy_sink k = {0};
    k.mem = tdl_malloc(size, "npy image");
    if (!k.mem) return TDL_ENOMEM;
    if ((st = npy_emit(t, &k)) != TDL_OK) {
        free(k.mem);
        return st;
    }
    *buf = k.mem;
    *len = k.pos;
    return TDL_OK;
}

int tdl_npy_crc32(const tdl_tensor *t, uint32_t *crc)
{
    int st = check_tensor(t, "npy");
    if (st != TDL_OK) return st;
    npy_sink k = {0};
    k.want_crc = 1;
    k.crc = crc32(0L, Z_NULL, 0);
    if ((st = npy_emit(t, &k)) != TDL_OK) return st;
    *crc = (uint32_t)k.crc;
    return TDL_OK;
}

int tdl_npy_fwrite(const tdl_tensor *t, FILE *fp, const char *label, uint32_t *crc)
{
    label = tdl_io_label(label);
    int st = check_tensor(t, label);
    if (st != TDL_OK) return st;
    npy_sink k = {0};
    k.fp = fp;
    k.want_crc = crc != NULL;
    k.crc = crc ? *crc : 0;
    st = npy_emit(t, &k);
    if (st == TDL_EIO) return tdl_fail(TDL_EIO, "%s: write failed: %s", label, strerror(errno));
    if (st != TDL_OK) return st;
    if (crc) *crc = (uint32_t)k.crc;
    return TDL_OK;
}

int tdl_npy_write(const char *path, const tdl_tensor *t)
{
    tdl_atomic_file af;
    int st;
    if (!path) return tdl_fail(TDL_EINVAL, "tdl_npy_write: path is NULL");
    if ((st = check_tensor(t, path)) != TDL_OK) return st;
    if ((st = tdl_atomic_begin(path, &af)) != TDL_OK) return st;
    if ((st = tdl_npy_fwrite(t, af.fp, path, NULL)) != TDL_OK) {
        tdl_atomic_abort(&af);
        return st;
    }
    return tdl_atomic_commit(&af);
}
