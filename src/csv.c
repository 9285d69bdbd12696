/* csv.c — numeric CSV reader.
 *
 * Accepted input (a subset of RFC 4180 without quoting): lines separated by
 * LF or CRLF, cells separated by commas, spaces and tabs around a cell
 * ignored, blank lines skipped, an optional UTF-8 byte-order mark.  The
 * first non-blank line is a header, and skipped, when any of its cells is
 * not a number.  Every other cell must be a finite number in the C locale
 * (strtod under uselocale("C"), the whole cell consumed; no hex, NaN or
 * infinity), and every row must have as many cells as the first data row.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/io.h"
#include "internal.h"
#include "formats_internal.h"

enum cell_kind { CELL_OK, CELL_EMPTY, CELL_TEXT, CELL_NONFINITE, CELL_RANGE };

/* Classify and convert one cell: s[0..n) with s[n] writable.  *ts, *tn
 * receive the trimmed text (for messages). */
static enum cell_kind parse_cell(char *s, size_t n, double *v, const char **ts, size_t *tn)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    *ts = s;
    *tn = n;
    if (n == 0) return CELL_EMPTY;
    s[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (s[i] == 'x' || s[i] == 'X') return CELL_TEXT;  /* no hexadecimal floats */
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (end != s + n) return CELL_TEXT;
    if (isnan(d) || (isinf(d) && errno != ERANGE)) return CELL_NONFINITE;
    if (isinf(d)) return CELL_RANGE;
    *v = d;  /* underflow to a subnormal or 0 is accepted */
    return CELL_OK;
}

int tdl_csv_read_mem(const char *buf, size_t len, const char *label, tdl_tensor **out)
{
    char *work = NULL;
    double *vals = NULL, *row = NULL;
    tdl_tensor *t = NULL;
    size_t rows = 0, cols = 0, cap = 0, row_cap = 0, line_no = 0;
    int st = TDL_OK, seen_line = 0;
    locale_t c_loc = (locale_t)0, old_loc = (locale_t)0;

    if (!out) return tdl_fail(TDL_EINVAL, "tdl_csv_read_mem: out is NULL");
    *out = NULL;
    label = tdl_io_label(label);
    if (!buf && len) return tdl_fail(TDL_EINVAL, "%s: buffer is NULL", label);
    if (len == 0) return tdl_fail(TDL_EFORMAT, "%s: empty file, no data rows", label);
    size_t wlen;
    if (tdl_add_size(len, 1, &wlen) != 0) return tdl_fail(TDL_ETOOBIG, "%s: too large", label);
    work = tdl_malloc(wlen, "CSV text");
    if (!work) return TDL_ENOMEM;
    memcpy(work, buf, len);
    work[len] = '\0';

    /* numbers are read in the C locale whatever the caller's locale is */
    c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_loc) old_loc = uselocale(c_loc);

    char *p = work, *end = work + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;  /* UTF-8 BOM */
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        line_no++;
        if (le > p && le[-1] == '\r') le--;
        int blank = 1;
        for (char *q = p; q < le; q++)
            if (*q != ' ' && *q != '\t') {
                blank = 0;
                break;
            }
        if (blank) {
            p = next;
            continue;
        }

        /* count cells, then classify them left to right */
        int first_line = !seen_line;
        seen_line = 1;
        size_t ncell = 1;
        for (char *q = p; q < le; q++)
            if (*q == ',') ncell++;
        if (rows > 0 && ncell != cols) {
            st = tdl_fail(TDL_EFORMAT, "%s: line %zu has %zu cell%s, expected %zu", label,
                          line_no, ncell, ncell == 1 ? "" : "s", cols);
            goto cleanup;
        }
        if (ncell > row_cap) {
            size_t bytes;
            if (tdl_mul_size(ncell, sizeof(double), &bytes) != 0) {
                st = tdl_fail(TDL_ETOOBIG, "%s: line %zu has too many cells", label, line_no);
                goto cleanup;
            }
            double *r = realloc(row, bytes);
            if (!r) {
                st = tdl_fail(TDL_ENOMEM, "%s: out of memory", label);
                goto cleanup;
            }
            row = r;
            row_cap = ncell;
        }
        int header = 0;
        size_t bad_col = 0;
        enum cell_kind bad_kind = CELL_OK;
        char shown[64] = "";
        char *cs = p;
        for (size_t k = 0; k < ncell; k++) {
            char *ce = memchr(cs, ',', (size_t)(le - cs));
            if (!ce) ce = le;
            const char *ts;
            size_t tn;
            enum cell_kind kind = parse_cell(cs, (size_t)(ce - cs), &row[k], &ts, &tn);
            if (kind == CELL_EMPTY || kind == CELL_TEXT) header = 1;
            if (kind != CELL_OK && bad_kind == CELL_OK) {
                bad_kind = kind;
                bad_col = k + 1;
                tdl_msg_str(ts, tn, shown, sizeof shown);
                if (!first_line) break;  /* report the leftmost bad cell */
            }
            cs = ce + 1;
        }
        if (first_line && header) {  /* a header line: skipped */
            p = next;
            continue;
        }
        if (bad_kind != CELL_OK) {
            static const char *const what[] = {
                [CELL_TEXT] = "is not a number",
                [CELL_NONFINITE] = "is not a finite number",
                [CELL_RANGE] = "is out of range for a double",
            };
            if (bad_kind == CELL_EMPTY)
                st = tdl_fail(TDL_EFORMAT, "%s: line %zu, column %zu: empty cell", label, line_no,
                              bad_col);
            else
                st = tdl_fail(TDL_EFORMAT, "%s: line %zu, column %zu: '%s' %s", label, line_no,
                              bad_col, shown, what[bad_kind]);
            goto cleanup;
        }
        if (rows == 0) cols = ncell;

        /* append the row */
        size_t need;
        if (tdl_mul_size(rows + 1, cols, &need) != 0) {
            st = tdl_fail(TDL_ETOOBIG, "%s: too many cells", label);
            goto cleanup;
        }
        if (need > cap) {
            size_t ncap = cap ? cap : 1024, bytes;
            while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
            if (tdl_mul_size(ncap, sizeof(double), &bytes) != 0) {
                st = tdl_fail(TDL_ETOOBIG, "%s: too many cells", label);
                goto cleanup;
            }
            double *nv = realloc(vals, bytes);
            if (!nv) {
                st = tdl_fail(TDL_ENOMEM, "%s: out of memory for %zu cells", label, need);
                goto cleanup;
            }
            vals = nv;
            cap = ncap;
        }
        memcpy(vals + rows * cols, row, cols * sizeof(double));
        rows++;
        p = next;
    }
    if (rows == 0) {
        st = tdl_fail(TDL_EFORMAT, "%s: no data rows", label);
        goto cleanup;
    }
    t = tdl_calloc(1, sizeof *t, "a tensor");
    if (!t || !(t->name = tdl_strdup("csv"))) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    t->dtype = TDL_F64;
    t->ndim = 2;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->numel = rows * cols;
    t->data = vals;
    vals = NULL;
    *out = t;
    t = NULL;
cleanup:
    if (c_loc) {
        uselocale(old_loc);
        freelocale(c_loc);
    }
    tdl_tensor_free(&t);
    free(vals);
    free(row);
    free(work);
    return st;
}

int tdl_csv_read(const char *path, tdl_tensor **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_csv_read: out is NULL");
    *out = NULL;
    int st = tdl_read_file(path, TDL_IO_MAX_FILE_BYTES, &buf, &len);
    if (st != TDL_OK) return st;
    st = tdl_csv_read_mem((const char *)buf, len, path, out);
    free(buf);
    return st;
}
