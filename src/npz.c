/* npz.c — NumPy .npz (a zip archive of NAME.npy members) reader and writer.
 *
 * Zip structures (PKWARE APPNOTE.TXT 6.3.x, sections 4.3.7, 4.3.12,
 * 4.3.14-16, 4.5.3); all integers little-endian:
 *
 *   local file header (4.3.7), 30 bytes + name + extra, then the data:
 *     0 sig 0x04034b50   4 version   6 flags   8 method  10 time  12 date
 *     14 crc-32  18 compressed size  22 uncompressed size
 *     26 name length  28 extra length
 *   central directory header (4.3.12), 46 bytes + name + extra + comment:
 *     0 sig 0x02014b50   4 made by   6 version   8 flags  10 method
 *     12 time  14 date  16 crc-32  20 compressed  24 uncompressed
 *     28 name length  30 extra length  32 comment length  34 disk
 *     36 internal attr  38 external attr  42 local header offset
 *   ZIP64 end of central directory record (4.3.14), 56 bytes:
 *     0 sig 0x06064b50  4 record size  12 made by  14 version  16 disk
 *     20 cd disk  24 entries on disk  32 entries  40 cd size  48 cd offset
 *   ZIP64 end of central directory locator (4.3.15), 20 bytes:
 *     0 sig 0x07064b50  4 disk  8 zip64 EOCD offset  16 disks
 *   end of central directory record (4.3.16), 22 bytes + comment (< 64K):
 *     0 sig 0x06054b50  4 disk  6 cd disk  8 entries on disk  10 entries
 *     12 cd size  16 cd offset  20 comment length
 *   ZIP64 extended information extra field (4.5.3), id 0x0001: the 8-byte
 *     uncompressed size, compressed size, local header offset (and a 4-byte
 *     disk number), each present only when the 32-bit field is 0xFFFFFFFF.
 *
 * numpy writes a ZIP64 extra field in every LOCAL header (with the 32-bit
 * sizes set to 0xFFFFFFFF) while the central directory has none, so the
 * data offset must be computed from the local header's own lengths.  The
 * central directory is authoritative for sizes, CRC and method.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "tdl/io.h"
#include "internal.h"
#include "formats_internal.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define EOCD_LEN 22u
#define LOC64_LEN 20u
#define EOCD64_LEN 56u
#define CENTRAL_LEN 46u
#define LOCAL_LEN 30u
/* zlib technical details: deflate's best ratio is 1032:1 (258-byte
 * matches coded in 2 bits); anything declaring more is a lie or a bomb. */
#define DEFLATE_MAX_RATIO 1032u

typedef struct zip_member {
    char *name;          /* full member name, NUL-terminated (owned) */
    char *tensor;        /* name without directory and ".npy" (owned) */
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, local_off;
    size_t data_off;     /* from the local header */
} zip_member;

/* ---- reading ----------------------------------------------------------- */

/* Parse a ZIP64 extra field (id 0x0001) within extra[0..n) and replace the
 * fields that are 0xFFFFFFFF.  Returns 0, or -1 when a needed value is
 * missing or the extra block is malformed. */
static int apply_zip64_extra(const unsigned char *extra, size_t n, uint64_t *usize,
                             uint64_t *csize, uint64_t *off)
{
    int need_u = usize && *usize == 0xFFFFFFFFu;
    int need_c = csize && *csize == 0xFFFFFFFFu;
    int need_o = off && *off == 0xFFFFFFFFu;
    size_t p = 0;
    while (p + 4 <= n) {
        uint16_t id = tdl_le16(extra + p), sz = tdl_le16(extra + p + 2);
        if (sz > n - p - 4) return -1;
        if (id == 0x0001) {
            const unsigned char *f = extra + p + 4;
            size_t left = sz;
            if (need_u) {
                if (left < 8) return -1;
                *usize = tdl_le64(f);
                f += 8;
                left -= 8;
                need_u = 0;
            }
            if (need_c) {
                if (left < 8) return -1;
                *csize = tdl_le64(f);
                f += 8;
                left -= 8;
                need_c = 0;
            }
            if (need_o) {
                if (left < 8) return -1;
                *off = tdl_le64(f);
                need_o = 0;
            }
            break;
        }
        p += 4 + (size_t)sz;
    }
    return (need_u || need_c || need_o) ? -1 : 0;
}

static uLong crc32_big(const unsigned char *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        size_t take = n > 0x40000000u ? 0x40000000u : n;
        c = crc32(c, p, (uInt)take);
        p += take;
        n -= take;
    }
    return c;
}

/* Raw-inflate (RFC 1951; zlib window bits -15) exactly `usize` bytes. */
static int inflate_member(const unsigned char *in, size_t csize, unsigned char *out, size_t usize,
                          const char *label)
{
    z_stream zs;
    unsigned char probe[1];
    size_t in_left = csize, out_left = usize;
    int ret, st = TDL_OK, probing = 0;

    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -15) != Z_OK)
        return tdl_fail(TDL_ENOMEM, "%s: cannot initialise zlib", label);
    zs.next_out = out;
    for (;;) {
        if (zs.avail_in == 0 && in_left) {
            size_t take = in_left > 0x40000000u ? 0x40000000u : in_left;
            zs.next_in = (Bytef *)(uintptr_t)in;  /* zlib does not write input */
            zs.avail_in = (uInt)take;
            in += take;
            in_left -= take;
        }
        if (zs.avail_out == 0) {
            if (out_left) {
                size_t take = out_left > 0x40000000u ? 0x40000000u : out_left;
                zs.avail_out = (uInt)take;
                out_left -= take;
            } else if (!probing) {
                /* all declared bytes produced: is there more? */
                probing = 1;
                zs.next_out = probe;
                zs.avail_out = 1;
            } else {
                st = tdl_fail(TDL_EFORMAT, "%s: inflates to more than the declared %zu bytes",
                              label, usize);
                goto cleanup;
            }
        }
        ret = inflate(&zs, Z_NO_FLUSH);
        if (ret == Z_STREAM_END) break;
        if (ret == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
            st = tdl_fail(TDL_EFORMAT, "%s: deflate stream truncated", label);
            goto cleanup;
        }
        if (ret == Z_MEM_ERROR) {
            st = tdl_fail(TDL_ENOMEM, "%s: out of memory inflating", label);
            goto cleanup;
        }
        if (ret != Z_OK && ret != Z_BUF_ERROR) {
            st = tdl_fail(TDL_EFORMAT, "%s: corrupt deflate data (%s)", label,
                          zs.msg ? zs.msg : "zlib error");
            goto cleanup;
        }
    }
    if (probing && zs.avail_out == 0) {
        st = tdl_fail(TDL_EFORMAT, "%s: inflates to more than the declared %zu bytes", label,
                      usize);
        goto cleanup;
    }
    if (!probing && (out_left || zs.avail_out)) {
        st = tdl_fail(TDL_EFORMAT, "%s: inflates to %zu bytes, declared %zu", label,
                      usize - out_left - zs.avail_out, usize);
        goto cleanup;
    }
cleanup:
    inflateEnd(&zs);
    return st;
}

static void free_members(zip_member *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        free(m[i].name);
        free(m[i].tensor);
    }
    free(m);
}

static int cmp_local_off(const void *a, const void *b)
{
    const zip_member *x = *(const zip_member *const *)a, *y = *(const zip_member *const *)b;
    return (x->local_off > y->local_off) - (x->local_off < y->local_off);
}

/* Locate and validate the central directory; *cd_off, *cd_size, *count. */
static int find_central_directory(const unsigned char *buf, size_t len, const char *label,
                                  size_t *cd_off, size_t *cd_size, size_t *count)
{
    size_t eocd = SIZE_MAX;
    if (len < EOCD_LEN)
        return tdl_fail(TDL_EFORMAT, "%s: %s", label,
                        len == 0 ? "empty file (not a zip/npz file)"
                                 : "too short for a zip end of central directory (not a zip/npz file, or truncated)");
    /* The EOCD is the last 22 bytes plus a comment of at most 65535 bytes:
     * search backwards for a signature whose comment ends the file. */
    size_t lo = len - EOCD_LEN > 65535u ? len - EOCD_LEN - 65535u : 0;
    for (size_t i = len - EOCD_LEN + 1; i-- > lo;) {
        if (tdl_le32(buf + i) == SIG_EOCD && i + EOCD_LEN + tdl_le16(buf + i + 20) == len) {
            eocd = i;
            break;
        }
    }
    if (eocd == SIZE_MAX) {
        if (len >= 4 && tdl_le32(buf) == SIG_LOCAL)
            return tdl_fail(TDL_EFORMAT,
                            "%s: truncated zip: no end of central directory record", label);
        return tdl_fail(TDL_EFORMAT, "%s: bad magic: not a zip/npz file (no end of central directory)",
                        label);
    }
    const unsigned char *e = buf + eocd;
    uint64_t disk = tdl_le16(e + 4), cd_disk = tdl_le16(e + 6);
    uint64_t n_disk = tdl_le16(e + 8), n_total = tdl_le16(e + 10);
    uint64_t size = tdl_le32(e + 12), off = tdl_le32(e + 16);
    size_t cd_end = eocd;

    int has_loc = eocd >= LOC64_LEN && tdl_le32(buf + eocd - LOC64_LEN) == SIG_LOC64;
    if (has_loc) {
        const unsigned char *l = buf + eocd - LOC64_LEN;
        uint64_t rec = tdl_le64(l + 8);
        if (tdl_le32(l + 4) != 0 || tdl_le32(l + 16) > 1)
            return tdl_fail(TDL_EFORMAT, "%s: multi-disk zip archives are not supported", label);
        if (rec > eocd - LOC64_LEN || eocd - LOC64_LEN - rec < EOCD64_LEN)
            return tdl_fail(TDL_EFORMAT,
                            "%s: ZIP64 end of central directory offset %llu out of range", label,
                            (unsigned long long)rec);
        const unsigned char *r = buf + rec;
        if (tdl_le32(r) != SIG_EOCD64)
            return tdl_fail(TDL_EFORMAT, "%s: bad ZIP64 end of central directory signature",
                            label);
        disk = tdl_le32(r + 16);
        cd_disk = tdl_le32(r + 20);
        n_disk = tdl_le64(r + 24);
        n_total = tdl_le64(r + 32);
        size = tdl_le64(r + 40);
        off = tdl_le64(r + 48);
        cd_end = (size_t)rec;
    } else if (n_total == 0xFFFFu || size == 0xFFFFFFFFu || off == 0xFFFFFFFFu) {
        return tdl_fail(TDL_EFORMAT, "%s: ZIP64 end of central directory locator missing", label);
    }
    if (disk != 0 || cd_disk != 0 || n_disk != n_total)
        return tdl_fail(TDL_EFORMAT, "%s: multi-disk zip archives are not supported", label);
    if (off > cd_end || size > cd_end - off)
        return tdl_fail(TDL_EFORMAT,
                        "%s: central directory [%llu, +%llu) out of range (file truncated?)",
                        label, (unsigned long long)off, (unsigned long long)size);
    if (n_total > size / CENTRAL_LEN)
        return tdl_fail(TDL_EFORMAT,
                        "%s: %llu entries cannot fit in a %llu-byte central directory", label,
                        (unsigned long long)n_total, (unsigned long long)size);
    *cd_off = (size_t)off;
    *cd_size = (size_t)size;
    *count = (size_t)n_total;
    return TDL_OK;
}

/* Read the central directory entries into m[0..count), validating each
 * against the buffer; then the local headers. */
static int read_members(const unsigned char *buf, size_t len, const char *label, size_t cd_off,
                        size_t cd_size, zip_member *m, size_t count)
{
    size_t p = cd_off, cd_end = cd_off + cd_size;
    char shown[64];
    for (size_t i = 0; i < count; i++) {
        if (cd_end - p < CENTRAL_LEN || tdl_le32(buf + p) != SIG_CENTRAL)
            return tdl_fail(TDL_EFORMAT, "%s: central directory entry %zu is %s", label, i,
                            cd_end - p < CENTRAL_LEN ? "truncated" : "corrupt (bad signature)");
        const unsigned char *c = buf + p;
        size_t nlen = tdl_le16(c + 28), xlen = tdl_le16(c + 30), clen = tdl_le16(c + 32);
        if (nlen + xlen + clen > cd_end - p - CENTRAL_LEN)
            return tdl_fail(TDL_EFORMAT, "%s: central directory entry %zu is truncated", label, i);
        zip_member *z = &m[i];
        z->flags = tdl_le16(c + 8);
        z->method = tdl_le16(c + 10);
        z->crc = tdl_le32(c + 16);
        z->csize = tdl_le32(c + 20);
        z->usize = tdl_le32(c + 24);
        z->local_off = tdl_le32(c + 42);
        const char *nm = (const char *)c + CENTRAL_LEN;
        tdl_msg_str(nm, nlen, shown, sizeof shown);
        if (memchr(nm, '\0', nlen))
            return tdl_fail(TDL_EFORMAT, "%s: member name '%s' contains a NUL byte", label, shown);
        z->name = tdl_malloc(nlen + 1, "a member name");
        if (!z->name) return TDL_ENOMEM;
        memcpy(z->name, nm, nlen);
        z->name[nlen] = '\0';
        if (apply_zip64_extra(c + CENTRAL_LEN + nlen, xlen, &z->usize, &z->csize, &z->local_off))
            return tdl_fail(TDL_EFORMAT, "%s: member '%s': malformed ZIP64 extra field", label,
                            shown);
        if (z->flags & 0x0041u)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s' is encrypted (not supported)", label,
                            shown);
        if (z->method != 0 && z->method != 8)
            return tdl_fail(TDL_EFORMAT,
                            "%s: member '%s' uses compression method %u (only 0 stored and 8 deflate are supported)",
                            label, shown, z->method);
        /* tensor name: base name without ".npy" */
        if (nlen < 4 || memcmp(nm + nlen - 4, ".npy", 4) != 0)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s' is not a .npy file", label, shown);
        const char *base = z->name;
        for (const char *q = z->name; *q; q++)
            if (*q == '/') base = q + 1;
        size_t blen = strlen(base) - 4;
        if (blen == 0)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s' has an empty tensor name", label, shown);
        z->tensor = tdl_malloc(blen + 1, "a tensor name");
        if (!z->tensor) return TDL_ENOMEM;
        memcpy(z->tensor, base, blen);
        z->tensor[blen] = '\0';
        p += CENTRAL_LEN + nlen + xlen + clen;
    }

    /* local headers: each inside the file and before the central directory */
    for (size_t i = 0; i < count; i++) {
        zip_member *z = &m[i];
        tdl_msg_str(z->name, strlen(z->name), shown, sizeof shown);
        if (z->local_off > cd_off || cd_off - z->local_off < LOCAL_LEN)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s': local header offset %llu out of range",
                            label, shown, (unsigned long long)z->local_off);
        const unsigned char *l = buf + z->local_off;
        if (tdl_le32(l) != SIG_LOCAL)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s': bad local header signature", label,
                            shown);
        size_t nlen = tdl_le16(l + 26), xlen = tdl_le16(l + 28);
        size_t hdr_end = (size_t)z->local_off + LOCAL_LEN + nlen + xlen;
        if (hdr_end > cd_off || z->csize > cd_off - hdr_end)
            return tdl_fail(TDL_EFORMAT,
                            "%s: member '%s': data [%zu, +%llu) runs past the central directory (truncated?)",
                            label, shown, hdr_end, (unsigned long long)z->csize);
        if (tdl_le16(l + 8) != z->method)
            return tdl_fail(TDL_EFORMAT,
                            "%s: member '%s': local and central headers disagree on the method",
                            label, shown);
        if (tdl_le16(l + 6) & 0x0041u)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s' is encrypted (not supported)", label,
                            shown);
        z->data_off = hdr_end;
    }
    (void)len;
    return TDL_OK;
}

int tdl_npz_read_mem(const unsigned char *buf, size_t len, const char *label, tdl_tensors **out)
{
    zip_member *m = NULL, **order = NULL;
    char **names = NULL, *sublabel = NULL;
    unsigned char *inflated = NULL;
    tdl_tensor *t = NULL;
    tdl_tensors *set = NULL;
    size_t cd_off = 0, cd_size = 0, count = 0;
    int st;

    if (!out) return tdl_fail(TDL_EINVAL, "tdl_npz_read_mem: out is NULL");
    *out = NULL;
    label = tdl_io_label(label);
    if (!buf && len) return tdl_fail(TDL_EINVAL, "%s: buffer is NULL", label);
    if ((st = find_central_directory(buf, len, label, &cd_off, &cd_size, &count)) != TDL_OK)
        return st;
    m = tdl_calloc(count, sizeof *m, "zip members");
    names = tdl_calloc(count, sizeof *names, "zip member names");
    order = tdl_calloc(count, sizeof *order, "zip members");
    if (!m || !names || !order) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    if ((st = read_members(buf, len, label, cd_off, cd_size, m, count)) != TDL_OK) goto cleanup;

    /* members must not share bytes (bounds the total inflated size) */
    for (size_t i = 0; i < count; i++) order[i] = &m[i];
    qsort(order, count, sizeof *order, cmp_local_off);
    for (size_t i = 1; i < count; i++) {
        if (order[i]->local_off < order[i - 1]->data_off + order[i - 1]->csize) {
            char a[64], b[64];
            st = tdl_fail(TDL_EFORMAT, "%s: members '%s' and '%s' overlap", label,
                          tdl_msg_str(order[i - 1]->name, strlen(order[i - 1]->name), a, sizeof a),
                          tdl_msg_str(order[i]->name, strlen(order[i]->name), b, sizeof b));
            goto cleanup;
        }
    }
    for (size_t i = 0; i < count; i++) names[i] = m[i].tensor;
    size_t dup = tdl_find_duplicate_name(names, count);
    if (dup == (size_t)-2) {
        st = tdl_fail(TDL_ENOMEM, "%s: out of memory checking names", label);
        goto cleanup;
    }
    if (dup != (size_t)-1) {
        char a[64];
        st = tdl_fail(TDL_EFORMAT, "%s: tensor '%s' appears twice", label,
                      tdl_msg_str(names[dup], strlen(names[dup]), a, sizeof a));
        goto cleanup;
    }

    set = tdl_tensors_new();
    if (!set) {
        st = TDL_ENOMEM;
        goto cleanup;
    }
    if ((st = tdl_tensors_reserve(set, count)) != TDL_OK) goto cleanup;
    for (size_t i = 0; i < count; i++) {
        zip_member *z = &m[i];
        char shown[64];
        size_t slen = strlen(label) + 80;
        free(sublabel);
        sublabel = tdl_malloc(slen, "a message label");
        if (!sublabel) {
            st = TDL_ENOMEM;
            goto cleanup;
        }
        snprintf(sublabel, slen, "%s: member '%s'", label,
                 tdl_msg_str(z->name, strlen(z->name), shown, sizeof shown));
        const unsigned char *data = buf + z->data_off;
        size_t csize = (size_t)z->csize, usize;
        if (z->usize > SIZE_MAX) {
            st = tdl_fail(TDL_ETOOBIG, "%s: declared size too large", sublabel);
            goto cleanup;
        }
        usize = (size_t)z->usize;
        if (z->method == 0) {
            if (csize != usize) {
                st = tdl_fail(TDL_EFORMAT,
                              "%s: stored member with compressed size %zu != uncompressed size %zu",
                              sublabel, csize, usize);
                goto cleanup;
            }
        } else {
            /* bound the allocation by what deflate can possibly produce */
            size_t bound;
            if (tdl_mul_size(csize, DEFLATE_MAX_RATIO, &bound) != 0) bound = SIZE_MAX;
            if (tdl_add_size(bound, 1024, &bound) != 0) bound = SIZE_MAX;
            if (usize > bound) {
                st = tdl_fail(TDL_EFORMAT,
                              "%s: declared uncompressed size %zu is impossible for %zu deflated bytes",
                              sublabel, usize, csize);
                goto cleanup;
            }
            free(inflated);
            inflated = tdl_malloc(usize, "inflated member");
            if (!inflated) {
                st = TDL_ENOMEM;
                goto cleanup;
            }
            if ((st = inflate_member(data, csize, inflated, usize, sublabel)) != TDL_OK)
                goto cleanup;
            data = inflated;
        }
        uint32_t crc = (uint32_t)crc32_big(data, usize);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
        crc = z->crc;  /* let the fuzzer reach the .npy parser behind the CRC */
#endif
        if (crc != z->crc) {
            st = tdl_fail(TDL_EFORMAT, "%s: bad CRC-32 %08lx, expected %08lx (corrupt data)",
                          sublabel, (unsigned long)crc, (unsigned long)z->crc);
            goto cleanup;
        }
        if ((st = tdl_npy_parse(data, usize, sublabel, z->tensor, &t)) != TDL_OK) goto cleanup;
        set->items[set->count++] = *t;  /* move the fields; free the shell */
        free(t);
        t = NULL;
        free(inflated);
        inflated = NULL;
    }
    *out = set;
    set = NULL;
cleanup:
    tdl_tensor_free(&t);
    tdl_tensors_free(&set);
    free(inflated);
    free(sublabel);
    free(order);
    free(names);
    free_members(m, count);
    return st;
}

int tdl_npz_read(const char *path, tdl_tensors **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_npz_read: out is NULL");
    *out = NULL;
    int st = tdl_read_file(path, TDL_IO_MAX_FILE_BYTES, &buf, &len);
    if (st != TDL_OK) return st;
    st = tdl_npz_read_mem(buf, len, path, out);
    free(buf);
    return st;
}

/* ---- writing ----------------------------------------------------------- */

static void put16(unsigned char *p, uint64_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

typedef struct npz_out {
    uint64_t offset;   /* local header offset */
    uint64_t size;     /* npy image size (stored: compressed == uncompressed) */
    uint32_t crc;
} npz_out;

/* DOS date 1980-01-01 00:00:00: fixed, so that the output is reproducible. */
#define DOS_TIME 0x0000u
#define DOS_DATE 0x0021u

static int name_is_utf8(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 1;
    return 0;
}

int tdl_npz_write(const char *path, const tdl_tensors *set)
{
    tdl_atomic_file af;
    npz_out *ent = NULL;
    unsigned char hdr[128];
    int st = TDL_OK, opened = 0;
    uint64_t pos = 0;

    if (!path || !set) return tdl_fail(TDL_EINVAL, "tdl_npz_write: NULL argument");
    if ((st = tdl_tensors_check_unique(set, path)) != TDL_OK) return st;
    ent = tdl_calloc(set->count, sizeof *ent, "npz entries");
    if (!ent) return TDL_ENOMEM;
    for (size_t i = 0; i < set->count; i++) {
        const char *nm = set->items[i].name;
        char shown[64];
        tdl_msg_str(nm, strlen(nm), shown, sizeof shown);
        if (nm[0] == '\0' || strchr(nm, '/') || strchr(nm, '\\') || strlen(nm) > 65535 - 4) {
            st = tdl_fail(TDL_EINVAL,
                          "%s: tensor name '%s' cannot be an npz member (empty, too long, or has a '/')",
                          path, shown);
            goto cleanup;
        }
        size_t size;
        if ((st = tdl_npy_image_size(&set->items[i], &size)) != TDL_OK ||
            (st = tdl_npy_crc32(&set->items[i], &ent[i].crc)) != TDL_OK)
            goto cleanup;
        ent[i].size = size;
    }
    if ((st = tdl_atomic_begin(path, &af)) != TDL_OK) goto cleanup;
    opened = 1;

    /* local headers and data */
    for (size_t i = 0; i < set->count; i++) {
        const char *nm = set->items[i].name;
        size_t nlen = strlen(nm) + 4;
        int z64 = ent[i].size >= 0xFFFFFFFFu;
        ent[i].offset = pos;
        put32(hdr, SIG_LOCAL);
        put16(hdr + 4, z64 ? 45 : 20);
        put16(hdr + 6, name_is_utf8(nm) ? 0x0800u : 0);  /* bit 11: UTF-8 name */
        put16(hdr + 8, 0);
        put16(hdr + 10, DOS_TIME);
        put16(hdr + 12, DOS_DATE);
        put32(hdr + 14, ent[i].crc);
        put32(hdr + 18, z64 ? 0xFFFFFFFFu : ent[i].size);
        put32(hdr + 22, z64 ? 0xFFFFFFFFu : ent[i].size);
        put16(hdr + 26, nlen);
        put16(hdr + 28, z64 ? 20 : 0);
        size_t hn = LOCAL_LEN;
        if (fwrite(hdr, 1, hn, af.fp) != hn || fwrite(nm, 1, nlen - 4, af.fp) != nlen - 4 ||
            fwrite(".npy", 1, 4, af.fp) != 4) {
            st = tdl_fail(TDL_EIO, "%s: write failed: %s", path, strerror(errno));
            goto cleanup;
        }
        if (z64) {
            put16(hdr, 0x0001);
            put16(hdr + 2, 16);
            put64(hdr + 4, ent[i].size);
            put64(hdr + 12, ent[i].size);
            if (fwrite(hdr, 1, 20, af.fp) != 20) {
                st = tdl_fail(TDL_EIO, "%s: write failed: %s", path, strerror(errno));
                goto cleanup;
            }
        }
        if ((st = tdl_npy_fwrite(&set->items[i], af.fp, path, NULL)) != TDL_OK) goto cleanup;
        pos += LOCAL_LEN + nlen + (z64 ? 20u : 0u) + ent[i].size;
    }

    /* central directory */
    uint64_t cd_off = pos;
    for (size_t i = 0; i < set->count; i++) {
        const char *nm = set->items[i].name;
        size_t nlen = strlen(nm) + 4;
        int big = ent[i].size >= 0xFFFFFFFFu, far = ent[i].offset >= 0xFFFFFFFFu;
        unsigned char x[28];
        size_t xn = 0;
        if (big || far) {
            size_t body = (big ? 16u : 0u) + (far ? 8u : 0u);
            put16(x, 0x0001);
            put16(x + 2, body);
            xn = 4;
            if (big) {
                put64(x + xn, ent[i].size);
                put64(x + xn + 8, ent[i].size);
                xn += 16;
            }
            if (far) {
                put64(x + xn, ent[i].offset);
                xn += 8;
            }
        }
        put32(hdr, SIG_CENTRAL);
        put16(hdr + 4, (big || far) ? 45 : 20);   /* made by: MS-DOS, spec 2.0 / 4.5 */
        put16(hdr + 6, (big || far) ? 45 : 20);
        put16(hdr + 8, name_is_utf8(nm) ? 0x0800u : 0);
        put16(hdr + 10, 0);
        put16(hdr + 12, DOS_TIME);
        put16(hdr + 14, DOS_DATE);
        put32(hdr + 16, ent[i].crc);
        put32(hdr + 20, big ? 0xFFFFFFFFu : ent[i].size);
        put32(hdr + 24, big ? 0xFFFFFFFFu : ent[i].size);
        put16(hdr + 28, nlen);
        put16(hdr + 30, xn);
        put16(hdr + 32, 0);
        put16(hdr + 34, 0);
        put16(hdr + 36, 0);
        put32(hdr + 38, 0);
        put32(hdr + 42, far ? 0xFFFFFFFFu : ent[i].offset);
        if (fwrite(hdr, 1, CENTRAL_LEN, af.fp) != CENTRAL_LEN ||
            fwrite(nm, 1, nlen - 4, af.fp) != nlen - 4 || fwrite(".npy", 1, 4, af.fp) != 4 ||
            (xn && fwrite(x, 1, xn, af.fp) != xn)) {
            st = tdl_fail(TDL_EIO, "%s: write failed: %s", path, strerror(errno));
            goto cleanup;
        }
        pos += CENTRAL_LEN + nlen + xn;
    }
    uint64_t cd_size = pos - cd_off;
    uint64_t n = set->count;
    if (n >= 0xFFFFu || cd_size >= 0xFFFFFFFFu || cd_off >= 0xFFFFFFFFu) {
        /* ZIP64 end of central directory record + locator */
        put32(hdr, SIG_EOCD64);
        put64(hdr + 4, EOCD64_LEN - 12);
        put16(hdr + 12, 45);
        put16(hdr + 14, 45);
        put32(hdr + 16, 0);
        put32(hdr + 20, 0);
        put64(hdr + 24, n);
        put64(hdr + 32, n);
        put64(hdr + 40, cd_size);
        put64(hdr + 48, cd_off);
        put32(hdr + 56, SIG_LOC64);
        put32(hdr + 60, 0);
        put64(hdr + 64, pos);
        put32(hdr + 72, 1);
        if (fwrite(hdr, 1, EOCD64_LEN + LOC64_LEN, af.fp) != EOCD64_LEN + LOC64_LEN) {
            st = tdl_fail(TDL_EIO, "%s: write failed: %s", path, strerror(errno));
            goto cleanup;
        }
    }
    put32(hdr, SIG_EOCD);
    put16(hdr + 4, 0);
    put16(hdr + 6, 0);
    put16(hdr + 8, n >= 0xFFFFu ? 0xFFFFu : n);
    put16(hdr + 10, n >= 0xFFFFu ? 0xFFFFu : n);
    put32(hdr + 12, cd_size >= 0xFFFFFFFFu ? 0xFFFFFFFFu : cd_size);
    put32(hdr + 16, cd_off >= 0xFFFFFFFFu ? 0xFFFFFFFFu : cd_off);
    put16(hdr + 20, 0);
    if (fwrite(hdr, 1, EOCD_LEN, af.fp) != EOCD_LEN) {
        st = tdl_fail(TDL_EIO, "%s: write failed: %s", path, strerror(errno));
        goto cleanup;
    }
    st = tdl_atomic_commit(&af);
    opened = 0;
cleanup:
    if (opened) tdl_atomic_abort(&af);
    free(ent);
    return st;
}
