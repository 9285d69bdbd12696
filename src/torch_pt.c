/* torch_pt.c — state dicts written by torch.save (the zip format of
 * torch >= 1.6), read without running any pickle code.
 *
 * The archive (a zip of STORED members; the top directory is the file's
 * base name at save time, so any one name is accepted):
 *   TOP/data.pkl       the pickled object (protocol 2 by default)
 *   TOP/data/KEY       the raw bytes of storage KEY (little-endian unless
 *                      TOP/byteorder says "big")
 *   TOP/version, TOP/byteorder, TOP/.data/..., TOP/data/serialization_id
 *
 * The pickle of model.state_dict() (pickletools.dis of a torch 1.13 file):
 *   GLOBAL 'collections OrderedDict'; EMPTY_TUPLE; REDUCE    -> the dict
 *   MARK; for each entry:
 *     BINUNICODE 'fc1.weight'
 *     GLOBAL 'torch._utils _rebuild_tensor_v2'
 *     MARK; MARK 'storage' GLOBAL 'torch FloatStorage' '0' 'cpu' 12 TUPLE
 *           BINPERSID                               -> storage '0', 12 elements
 *           0 (3,4)... TUPLE2 (4,1) TUPLE2 NEWFALSE  -> offset, sizes, strides, requires_grad
 *           OrderedDict() (the backward hooks, empty) TUPLE REDUCE
 *   SETITEMS; EMPTY_DICT ... (the '_metadata' attribute) BUILD; STOP
 * plus BINPUT/BINGET memo traffic.  Protocols 3-5 add FRAME, MEMOIZE,
 * SHORT_BINUNICODE and STACK_GLOBAL.
 *
 * This reader is a stack machine for exactly that subset.  GLOBAL is
 * whitelisted (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
 * _rebuild_parameter, torch.<T>Storage); REDUCE calls only those; every
 * other opcode or global is refused by name before anything happens.  The
 * interpreter creates at most one value per opcode, so every count (values,
 * tuple items, dict entries) is bounded by the pickle's length; the memo
 * index is bounded by PT_MEMO_MAX, MARK nesting by PT_MARK_MAX, and the
 * tensors' values by PT_VALUES_PER_BYTE times the file size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "tdl/io.h"
#include "internal.h"
#include "formats_internal.h"
#include "torch_internal.h"

#define PT_MEMO_MAX (1u << 20)
#define PT_MARK_MAX 32u
#define PT_VALUES_PER_BYTE 4u

#define PT_EXPORT_HINT \
    "export with safetensors instead: from safetensors.torch import save_file; " \
    "save_file(model.state_dict(), \"m.safetensors\")"

/* ---- the zip container ------------------------------------------------- */

typedef struct pt_member {
    const char *name;   /* into the buffer, not NUL-terminated */
    size_t nlen;
    const unsigned char *data;
    size_t size;
    uint32_t crc;
    unsigned method;    /* 0: stored; any other is refused when the member is read */
} pt_member;

typedef struct pt_zip {
    pt_member *m;
    size_t count;
} pt_zip;

/* ZIP64 extended information (APPNOTE 4.5.3): replace the 0xFFFFFFFF fields. */
static int pt_zip64_extra(const unsigned char *x, size_t n, uint64_t *usize, uint64_t *csize,
                          uint64_t *off)
{
    int need_u = *usize == 0xFFFFFFFFu, need_c = *csize == 0xFFFFFFFFu, need_o = *off == 0xFFFFFFFFu;
    size_t p = 0;
    while (p + 4 <= n) {
        size_t id = tdl_le16(x + p), sz = tdl_le16(x + p + 2);
        if (sz > n - p - 4) return -1;
        if (id == 1) {
            const unsigned char *f = x + p + 4;
            size_t left = sz;
            uint64_t *fields[3] = {need_u ? usize : NULL, need_c ? csize : NULL, need_o ? off : NULL};
            for (int k = 0; k < 3; k++) {
                if (!fields[k]) continue;
                if (left < 8) return -1;
                *fields[k] = tdl_le64(f);
                f += 8;
                left -= 8;
            }
            return 0;
        }
        p += 4 + sz;
    }
    return need_u || need_c || need_o ? -1 : 0;
}

/* The members of a zip archive (stored ones only: torch never compresses). */
static int pt_zip_open(const unsigned char *buf, size_t len, const char *label, pt_zip *z)
{
    memset(z, 0, sizeof *z);
    if (len < 22) return tdl_fail(TDL_EFORMAT, "%s: too short for a zip archive (truncated?)", label);
    size_t eocd = SIZE_MAX, lo = len - 22 > 65535u ? len - 22 - 65535u : 0;
    for (size_t i = len - 22 + 1; i-- > lo;)
        if (tdl_le32(buf + i) == 0x06054b50u && i + 22 + tdl_le16(buf + i + 20) == len) {
            eocd = i;
            break;
        }
    if (eocd == SIZE_MAX)
        return tdl_fail(TDL_EFORMAT, "%s: no zip end of central directory (truncated?)", label);
    uint64_t n = tdl_le16(buf + eocd + 10), size = tdl_le32(buf + eocd + 12),
             off = tdl_le32(buf + eocd + 16);
    size_t cd_end = eocd;
    if (eocd >= 20 && tdl_le32(buf + eocd - 20) == 0x07064b50u) {
        uint64_t rec = tdl_le64(buf + eocd - 20 + 8);
        if (rec > eocd - 20 || eocd - 20 - rec < 56 || tdl_le32(buf + rec) != 0x06064b50u)
            return tdl_fail(TDL_EFORMAT, "%s: bad ZIP64 end of central directory", label);
        n = tdl_le64(buf + rec + 32);
        size = tdl_le64(buf + rec + 40);
        off = tdl_le64(buf + rec + 48);
        cd_end = (size_t)rec;
    }
    if (off > cd_end || size > cd_end - off)
        return tdl_fail(TDL_EFORMAT, "%s: zip central directory out of range (truncated?)", label);
    if (n > size / 46)
        return tdl_fail(TDL_EFORMAT, "%s: %llu zip entries cannot fit in a %llu-byte directory", label,
                        (unsigned long long)n, (unsigned long long)size);
    z->m = tdl_calloc(n ? (size_t)n : 1, sizeof *z->m, "zip members");
    if (!z->m) return TDL_ENOMEM;
    size_t p = (size_t)off, end = (size_t)(off + size);
    char shown[64];
    for (size_t i = 0; i < n; i++) {
        if (end - p < 46 || tdl_le32(buf + p) != 0x02014b50u)
            return tdl_fail(TDL_EFORMAT, "%s: zip directory entry %zu is corrupt", label, i);
        const unsigned char *c = buf + p;
        size_t nlen = tdl_le16(c + 28), xlen = tdl_le16(c + 30), clen = tdl_le16(c + 32);
        if (nlen + xlen + clen > end - p - 46)
            return tdl_fail(TDL_EFORMAT, "%s: zip directory entry %zu is truncated", label, i);
        pt_member *m = &z->m[i];
        m->name = (const char *)c + 46;
        m->nlen = nlen;
        tdl_msg_str(m->name, nlen, shown, sizeof shown);
        uint64_t csize = tdl_le32(c + 20), usize = tdl_le32(c + 24), loff = tdl_le32(c + 42);
        if (pt_zip64_extra(c + 46 + nlen, xlen, &usize, &csize, &loff) != 0)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s': malformed ZIP64 extra field", label, shown);
        if (tdl_le16(c + 8) & 0x41u)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s' is encrypted", label, shown);
        m->method = tdl_le16(c + 10);
        if (m->method == 0 && csize != usize)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s': stored size %llu != size %llu", label, shown,
                            (unsigned long long)csize, (unsigned long long)usize);
        if (loff > off || off - loff < 30 || tdl_le32(buf + loff) != 0x04034b50u)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s': bad local header", label, shown);
        size_t hdr = (size_t)loff + 30 + tdl_le16(buf + loff + 26) + tdl_le16(buf + loff + 28);
        if (hdr > off || csize > off - hdr)
            return tdl_fail(TDL_EFORMAT, "%s: member '%s': data runs past the directory (truncated?)", label, shown);
        m->data = buf + hdr;
        m->size = (size_t)csize;
        m->crc = tdl_le32(c + 16);
        z->count++;
        p += 46 + nlen + xlen + clen;
    }
    return TDL_OK;
}

/* The member TOP/rest, or NULL. */
static const pt_member *pt_zip_find(const pt_zip *z, const char *top, size_t tlen, const char *rest,
                                    size_t rlen)
{
    for (size_t i = 0; i < z->count; i++) {
        const pt_member *m = &z->m[i];
        if (m->nlen == tlen + rlen && memcmp(m->name, top, tlen) == 0 &&
            memcmp(m->name + tlen, rest, rlen) == 0)
            return m;
    }
    return NULL;
}

/* TOP of the one "TOP/data.pkl" member: 1 found, 0 none, -1 several. */
static int pt_zip_top(const pt_zip *z, const char **top, size_t *tlen)
{
    int found = 0;
    for (size_t i = 0; i < z->count; i++) {
        const pt_member *m = &z->m[i];
        if (m->nlen < 10 || memcmp(m->name + m->nlen - 9, "/data.pkl", 9) != 0) continue;
        if (memchr(m->name, '/', m->nlen - 9)) continue; /* TOP has no '/' */
        if (found) return -1;
        *top = m->name;
        *tlen = m->nlen - 8; /* with the '/' */
        found = 1;
    }
    return found;
}

/* A member's bytes are usable: stored, not compressed. */
static int pt_member_check(const pt_member *m, const char *label)
{
    if (m->method == 0) return TDL_OK;
    char shown[64];
    return tdl_fail(TDL_EFORMAT, "%s: member '%s' is compressed (method %u); torch.save stores its members: re-save it with torch.save, or %s",
                    label, tdl_msg_str(m->name, m->nlen, shown, sizeof shown), m->method, PT_EXPORT_HINT);
}

static int pt_crc_ok(const pt_member *m)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    (void)m;
    return 1;
#else
    /* torch >= 2.4 may write without CRCs (torch.serialization.set_crc32_options) */
    if (m->crc == 0) return 1;
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *p = m->data;
    for (size_t n = m->size; n;) {
        size_t take = n > 0x40000000u ? 0x40000000u : n;
        c = crc32(c, p, (uInt)take);
        p += take;
        n -= take;
    }
    return (uint32_t)c == m->crc;
#endif
}

int tdl_torch_is_archive(const unsigned char *buf, size_t len)
{
    pt_zip z;
    const char *top;
    size_t tlen;
    if (len < 4 || buf[0] != 'P' || buf[1] != 'K') return 0;
    int st = pt_zip_open(buf, len, "", &z);
    int yes = st == TDL_OK && pt_zip_top(&z, &top, &tlen) != 0;
    free(z.m);
    return yes;
}

/* ---- the pickle subset --------------------------------------------------- */

typedef enum { V_NONE, V_BOOL, V_INT, V_STR, V_TUPLE, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR } pv_kind;
typedef enum { G_ORDERED_DICT, G_REBUILD_V2, G_REBUILD_PARAMETER, G_STORAGE } pv_global;

typedef struct pv {
    pv_kind kind;
    int64_t i;                  /* BOOL, INT; GLOBAL: pv_global */
    tdl_dtype dt;               /* GLOBAL G_STORAGE, STORAGE, TENSOR */
    const char *s;              /* STR: into the pickle, not NUL-terminated */
    size_t len;                 /* STR length */
    struct pv **items;          /* TUPLE: n items; DICT: keys and values, 2n */
    size_t n, cap;
    const unsigned char *data;  /* STORAGE bytes; TENSOR: its storage's */
    size_t numel;               /* STORAGE elements */
    size_t offset, ndim;        /* TENSOR */
    size_t *shape, *stride;     /* TENSOR: ndim each, one allocation (owned) */
} pv;

typedef struct pt_vm {
    const char *label;
    const unsigned char *p;     /* the pickle */
    size_t len, pos, op_at;
    pv **all;                   /* every value made, freed at the end */
    size_t n_all, cap_all;
    pv **stack;
    size_t sp, cap_stack;
    size_t marks[PT_MARK_MAX];
    size_t n_marks;
    pv **memo;
    size_t memo_cap, memo_n;    /* memo_n: indices set (MEMOIZE's next index) */
    const pt_zip *zip;
    const char *top;
    size_t tlen;
    int big_endian;
    size_t file_len, values; /* bound of the tensors' values */
    size_t max_values;       /* bound of n_all */
    int too_many;
} pt_vm;

static const struct { unsigned char op; const char *name; } pt_opnames[] = {
    {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}, {'F', "FLOAT"},
    {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"}, {'M', "BININT2"}, {'N', "NONE"},
    {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"}, {'S', "STRING"}, {'T', "BINSTRING"},
    {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"}, {'X', "BINUNICODE"}, {'a', "APPEND"}, {'b', "BUILD"},
    {'c', "GLOBAL"}, {'d', "DICT"}, {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'g', "GET"},
    {'h', "BINGET"}, {'i', "INST"}, {'j', "LONG_BINGET"}, {'l', "LIST"}, {']', "EMPTY_LIST"},
    {'o', "OBJ"}, {'p', "PUT"}, {'q', "BINPUT"}, {'r', "LONG_BINPUT"}, {'s', "SETITEM"},
    {'t', "TUPLE"}, {')', "EMPTY_TUPLE"}, {'u', "SETITEMS"}, {'G', "BINFLOAT"}, {0x80, "PROTO"},
    {0x81, "NEWOBJ"}, {0x82, "EXT1"}, {0x83, "EXT2"}, {0x84, "EXT4"}, {0x85, "TUPLE1"},
    {0x86, "TUPLE2"}, {0x87, "TUPLE3"}, {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"}, {0x8a, "LONG1"},
    {0x8b, "LONG4"}, {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"}, {0x8c, "SHORT_BINUNICODE"},
    {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"}, {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"},
    {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"}, {0x94, "MEMOIZE"},
    {0x95, "FRAME"}, {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
};

static const char *pt_opname(unsigned char op)
{
    for (size_t i = 0; i < sizeof pt_opnames / sizeof pt_opnames[0]; i++)
        if (pt_opnames[i].op == op) return pt_opnames[i].name;
    return "unknown";
}

static const char *const pv_kind_names[] = {"None", "a bool", "an int", "a str", "a tuple",
                                            "a dict", "a global", "a storage", "a tensor"};

static int pt_bad(pt_vm *vm, const char *what)
{
    unsigned char op = vm->p[vm->op_at];
    return tdl_fail(TDL_EFORMAT, "%s: data.pkl byte %zu (%s): %s; tdl reads torch.save(model.state_dict()) files only: %s",
                    vm->label, vm->op_at, pt_opname(op), what, PT_EXPORT_HINT);
}

static pv *pt_new(pt_vm *vm, pv_kind kind)
{
    if (vm->n_all >= vm->max_values) {
        vm->too_many = 1;
        return NULL;
    }
    if (vm->n_all == vm->cap_all) {
        size_t cap = vm->cap_all ? 2 * vm->cap_all : 64;
        pv **a = realloc(vm->all, cap * sizeof *a);
        if (!a) return NULL;
        vm->all = a;
        vm->cap_all = cap;
    }
    pv *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->kind = kind;
    vm->all[vm->n_all++] = v;
    return v;
}

static int pt_push(pt_vm *vm, pv *v)
{
    if (!v && vm->too_many)
        return tdl_fail(TDL_ETOOBIG, "%s: data.pkl byte %zu: more than %zu pickle values (one per 2 bytes of data.pkl)",
                        vm->label, vm->op_at, vm->max_values);
    if (!v) return tdl_fail(TDL_ENOMEM, "%s: out of memory reading the pickle", vm->label);
    if (vm->sp == vm->cap_stack) {
        size_t cap = vm->cap_stack ? 2 * vm->cap_stack : 64;
        pv **s = realloc(vm->stack, cap * sizeof *s);
        if (!s) return tdl_fail(TDL_ENOMEM, "%s: out of memory reading the pickle", vm->label);
        vm->stack = s;
        vm->cap_stack = cap;
    }
    vm->stack[vm->sp++] = v;
    return TDL_OK;
}

/* Bottom of the values above the innermost MARK (0 outside one). */
static size_t pt_floor(const pt_vm *vm)
{
    return vm->n_marks ? vm->marks[vm->n_marks - 1] : 0;
}

static int pt_need(pt_vm *vm, size_t k)
{
    if (vm->sp - pt_floor(vm) < k) return pt_bad(vm, "stack underflow");
    return TDL_OK;
}

static int pt_read(pt_vm *vm, size_t n, const unsigned char **out)
{
    if (vm->len - vm->pos < n) {
        return tdl_fail(TDL_EFORMAT, "%s: data.pkl ends inside %s at byte %zu (truncated)", vm->label,
                        pt_opname(vm->p[vm->op_at]), vm->op_at);
    }
    *out = vm->p + vm->pos;
    vm->pos += n;
    return TDL_OK;
}

static int pt_items_add(pv *c, pv *x)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        pv **it = realloc(c->items, cap * sizeof *it);
        if (!it) return TDL_ENOMEM;
        c->items = it;
        c->cap = cap;
    }
    c->items[c->n++] = x;
    return TDL_OK;
}

/* The top k stack values (k <= sp - floor) into a new tuple. */
static int pt_tuple(pt_vm *vm, size_t k)
{
    pv *t = pt_new(vm, V_TUPLE);
    if (!t) return pt_push(vm, NULL);
    if (k) {
        t->items = malloc(k * sizeof *t->items);
        if (!t->items) return tdl_fail(TDL_ENOMEM, "%s: out of memory reading the pickle", vm->label);
        memcpy(t->items, vm->stack + vm->sp - k, k * sizeof *t->items);
        t->n = t->cap = k;
    }
    vm->sp -= k;
    return pt_push(vm, t);
}

static int pt_str_is(const pv *v, const char *s)
{
    return v->kind == V_STR && v->len == strlen(s) && memcmp(v->s, s, v->len) == 0;
}

/* module, name -> a whitelisted global, or a refusal naming it. */
static int pt_global(pt_vm *vm, const char *mod, size_t mlen, const char *name, size_t nlen)
{
    static const struct { const char *name; tdl_dtype dt; } storages[] = {
        {"FloatStorage", TDL_F32}, {"DoubleStorage", TDL_F64}, {"HalfStorage", TDL_F16},
        {"BFloat16Storage", TDL_BF16}, {"LongStorage", TDL_I64}, {"IntStorage", TDL_I32},
        {"ShortStorage", TDL_I16}, {"CharStorage", TDL_I8}, {"ByteStorage", TDL_U8},
        {"BoolStorage", TDL_BOOL},
    };
    pv *g = pt_new(vm, V_GLOBAL);
    if (!g) return pt_push(vm, NULL);
#define IS(s, l, lit) ((l) == sizeof(lit) - 1 && memcmp((s), (lit), (l)) == 0)
    if (IS(mod, mlen, "collections") && IS(name, nlen, "OrderedDict")) g->i = G_ORDERED_DICT;
    else if (IS(mod, mlen, "torch._utils") && IS(name, nlen, "_rebuild_tensor_v2")) g->i = G_REBUILD_V2;
    else if (IS(mod, mlen, "torch._utils") && IS(name, nlen, "_rebuild_parameter")) g->i = G_REBUILD_PARAMETER;
    else {
        int found = 0;
        if (IS(mod, mlen, "torch"))
            for (size_t k = 0; k < sizeof storages / sizeof storages[0]; k++)
                if (nlen == strlen(storages[k].name) && memcmp(name, storages[k].name, nlen) == 0) {
                    g->i = G_STORAGE;
                    g->dt = storages[k].dt;
                    found = 1;
                }
        if (!found) {
            char a[64], b[64];
            return tdl_fail(TDL_EFORMAT,
                            "%s: data.pkl byte %zu: the pickle calls for '%s.%s', which is not part of a state dict of tensors; tdl runs no pickle code and reads only OrderedDicts of CPU float/int tensors; %s",
                            vm->label, vm->op_at, tdl_msg_str(mod, mlen, a, sizeof a),
                            tdl_msg_str(name, nlen, b, sizeof b), PT_EXPORT_HINT);
        }
    }
#undef IS
    return pt_push(vm, g);
}

/* BINPERSID of ('storage', <storage global>, key, location, numel). */
static int pt_persid(pt_vm *vm, pv *id)
{
    if (id->kind != V_TUPLE || id->n != 5 || !pt_str_is(id->items[0], "storage"))
        return pt_bad(vm, "a persistent id that is not ('storage', type, key, location, numel)");
    pv *type = id->items[1], *key = id->items[2], *loc = id->items[3], *num = id->items[4];
    if (type->kind != V_GLOBAL || type->i != G_STORAGE || key->kind != V_STR || loc->kind != V_STR ||
        num->kind != V_INT || num->i < 0)
        return pt_bad(vm, "a storage id that is not (torch.<T>Storage, 'key', 'location', numel >= 0)");
    char shown[64];
    tdl_msg_str(key->s, key->len, shown, sizeof shown);
    if (memchr(key->s, '/', key->len) || memchr(key->s, '\0', key->len))
        return tdl_fail(TDL_EFORMAT, "%s: storage key '%s' is not a member name", vm->label, shown);
    const pt_member *m = NULL;
    char rest[300];
    if (key->len < 256) {
        memcpy(rest, "data/", 5);
        memcpy(rest + 5, key->s, key->len);
        m = pt_zip_find(vm->zip, vm->top, vm->tlen, rest, 5 + key->len);
    }
    if (!m) return tdl_fail(TDL_EFORMAT, "%s: storage '%s' has no member data/%s in the archive", vm->label, shown, shown);
    int cst = pt_member_check(m, vm->label);
    if (cst != TDL_OK) return cst;
    size_t es = tdl_dtype_size(type->dt), bytes;
    if ((uint64_t)num->i > SIZE_MAX || tdl_mul_size((size_t)num->i, es, &bytes) != 0 || bytes != m->size)
        return tdl_fail(TDL_EFORMAT, "%s: storage '%s' declares %lld %s elements but its member holds %zu bytes",
                        vm->label, shown, (long long)num->i, tdl_dtype_name(type->dt), m->size);
    if (!pt_crc_ok(m))
        return tdl_fail(TDL_EFORMAT, "%s: storage '%s': bad CRC-32 (corrupt data)", vm->label, shown);
    pv *s = pt_new(vm, V_STORAGE);
    if (!s) return pt_push(vm, NULL);
    s->dt = type->dt;
    s->data = m->data;
    s->numel = (size_t)num->i;
    return pt_push(vm, s);
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
static int pt_rebuild_tensor(pt_vm *vm, pv *args)
{
    if (args->kind != V_TUPLE || args->n < 6 || args->n > 7)
        return pt_bad(vm, "_rebuild_tensor_v2 with other than 6 or 7 arguments");
    pv *st = args->items[0], *off = args->items[1], *size = args->items[2], *stride = args->items[3];
    pv *hooks = args->items[5];
    if (st->kind != V_STORAGE) return pt_bad(vm, "_rebuild_tensor_v2 of something that is not a storage");
    if (off->kind != V_INT || off->i < 0) return pt_bad(vm, "a tensor's storage offset is not an int >= 0");
    if (size->kind != V_TUPLE || stride->kind != V_TUPLE || size->n != stride->n)
        return pt_bad(vm, "a tensor's size and stride are not tuples of one length");
    if (size->n > TDL_MAX_NDIM) {
        return tdl_fail(TDL_ETOOBIG, "%s: data.pkl byte %zu: a tensor of %zu dimensions (at most %d)",
                        vm->label, vm->op_at, size->n, TDL_MAX_NDIM);
    }
    if (args->items[4]->kind != V_BOOL) return pt_bad(vm, "requires_grad is not a bool");
    if (hooks->kind != V_DICT || hooks->n != 0) return pt_bad(vm, "a tensor with backward hooks");
    if (args->n == 7 && args->items[6]->kind != V_NONE && (args->items[6]->kind != V_DICT || args->items[6]->n))
        return pt_bad(vm, "a tensor with metadata");
    pv *t = pt_new(vm, V_TENSOR);
    if (!t) return pt_push(vm, NULL);
    t->dt = st->dt;
    t->data = st->data;
    t->numel = st->numel;
    t->ndim = size->n;
    t->offset = (size_t)off->i;
    t->shape = calloc(2 * size->n + 1, sizeof *t->shape);
    if (!t->shape) return tdl_fail(TDL_ENOMEM, "%s: out of memory reading the pickle", vm->label);
    t->stride = t->shape + size->n;
    size_t numel = 1, last = t->offset;
    int overflow = (uint64_t)off->i > SIZE_MAX;
    for (size_t d = 0; d < size->n; d++) {
        pv *a = size->items[d], *b = stride->items[d];
        if (a->kind != V_INT || b->kind != V_INT || a->i < 0 || b->i < 0)
            return pt_bad(vm, "a tensor size or stride is not an int >= 0");
        if ((uint64_t)a->i > SIZE_MAX || (uint64_t)b->i > SIZE_MAX) overflow = 1;
        t->shape[d] = (size_t)a->i;
        t->stride[d] = (size_t)b->i;
        size_t reach;
        if (tdl_mul_size(numel, t->shape[d], &numel) != 0) overflow = 1;
        if (t->shape[d] && (tdl_mul_size(t->shape[d] - 1, t->stride[d], &reach) != 0 ||
                            tdl_add_size(last, reach, &last) != 0))
            overflow = 1;
    }
    if (overflow) return tdl_fail(TDL_ETOOBIG, "%s: data.pkl byte %zu: a tensor's size overflows", vm->label, vm->op_at);
    if (numel && last >= st->numel)
        return tdl_fail(TDL_EFORMAT,
                        "%s: data.pkl byte %zu: a tensor view reaches element %zu of a storage of %zu elements",
                        vm->label, vm->op_at, last, st->numel);
    size_t limit = vm->file_len * PT_VALUES_PER_BYTE + 4096;
    if (tdl_add_size(vm->values, numel, &vm->values) != 0 || vm->values > limit)
        return tdl_fail(TDL_ETOOBIG, "%s: the tensors hold more than %zu values (%u per byte of the file): views repeat their storages",
                        vm->label, limit, PT_VALUES_PER_BYTE);
    return pt_push(vm, t);
}

static int pt_reduce(pt_vm *vm)
{
    int st = pt_need(vm, 2);
    if (st != TDL_OK) return st;
    pv *fn = vm->stack[vm->sp - 2], *args = vm->stack[vm->sp - 1];
    vm->sp -= 2;
    if (fn->kind != V_GLOBAL) {
        char what[96];
        snprintf(what, sizeof what, "REDUCE calls %s, not a whitelisted callable", pv_kind_names[fn->kind]);
        return pt_bad(vm, what);
    }
    if (args->kind != V_TUPLE) return pt_bad(vm, "REDUCE arguments are not a tuple");
    switch ((pv_global)fn->i) {
    case G_ORDERED_DICT:
        if (args->n != 0) return pt_bad(vm, "OrderedDict called with arguments");
        return pt_push(vm, pt_new(vm, V_DICT));
    case G_REBUILD_V2: return pt_rebuild_tensor(vm, args);
    case G_REBUILD_PARAMETER:
        if (args->n != 3 || args->items[0]->kind != V_TENSOR || args->items[1]->kind != V_BOOL ||
            args->items[2]->kind != V_DICT || args->items[2]->n)
            return pt_bad(vm, "_rebuild_parameter with other arguments than (tensor, requires_grad, {})");
        return pt_push(vm, args->items[0]);
    default: return pt_bad(vm, "REDUCE on a storage type");
    }
}

static int pt_setitems(pt_vm *vm, size_t k)
{
    if (k % 2) return pt_bad(vm, "SETITEMS with an odd number of values");
    if (vm->sp < k + 1 || vm->sp - k - 1 < pt_floor(vm)) return pt_bad(vm, "stack underflow");
    pv *d = vm->stack[vm->sp - k - 1];
    if (d->kind != V_DICT) return pt_bad(vm, "SETITEM on something that is not a dict");
    for (size_t j = vm->sp - k; j < vm->sp; j++)
        if (pt_items_add(d, vm->stack[j]) != TDL_OK)
            return tdl_fail(TDL_ENOMEM, "%s: out of memory reading the pickle", vm->label);
    vm->sp -= k;
    return TDL_OK;
}

static int pt_memo_put(pt_vm *vm, uint64_t idx)
{
    if (vm->sp == pt_floor(vm)) return pt_bad(vm, "memo PUT of an empty stack");
    if (idx >= PT_MEMO_MAX) {
        return tdl_fail(TDL_ETOOBIG, "%s: data.pkl byte %zu (%s): memo index %llu over the limit %u",
                        vm->label, vm->op_at, pt_opname(vm->p[vm->op_at]), (unsigned long long)idx, PT_MEMO_MAX);
    }
    if (idx >= vm->memo_cap) {
        size_t cap = vm->memo_cap ? vm->memo_cap : 64;
        while (cap <= idx) cap *= 2;
        pv **m = realloc(vm->memo, cap * sizeof *m);
        if (!m) return tdl_fail(TDL_ENOMEM, "%s: out of memory reading the pickle", vm->label);
        memset(m + vm->memo_cap, 0, (cap - vm->memo_cap) * sizeof *m);
        vm->memo = m;
        vm->memo_cap = cap;
    }
    if (!vm->memo[idx]) vm->memo_n++;
    vm->memo[idx] = vm->stack[vm->sp - 1];
    return TDL_OK;
}

static int pt_memo_get(pt_vm *vm, uint64_t idx)
{
    if (idx >= vm->memo_cap || !vm->memo[idx]) {
        char what[80];
        snprintf(what, sizeof what, "memo index %llu was never set", (unsigned long long)idx);
        return pt_bad(vm, what);
    }
    return pt_push(vm, vm->memo[idx]);
}

static int pt_int(pt_vm *vm, int64_t x)
{
    pv *v = pt_new(vm, V_INT);
    if (v) v->i = x;
    return pt_push(vm, v);
}

static int pt_string(pt_vm *vm, size_t n)
{
    const unsigned char *s = NULL;
    int st = pt_read(vm, n, &s);
    if (st != TDL_OK) return st;
    pv *v = pt_new(vm, V_STR);
    if (v) {
        v->s = (const char *)s;
        v->len = n;
    }
    return pt_push(vm, v);
}

/* Run the pickle to STOP; *result is the value left. */
static int pt_run(pt_vm *vm, pv **result)
{
    const unsigned char *a = NULL;
    int st = TDL_OK;
    while (st == TDL_OK) {
        if (vm->pos >= vm->len)
            return tdl_fail(TDL_EFORMAT, "%s: data.pkl ends before STOP (truncated)", vm->label);
        vm->op_at = vm->pos;
        unsigned char op = vm->p[vm->pos++];
        switch (op) {
        case 0x80: /* PROTO */
            if ((st = pt_read(vm, 1, &a)) == TDL_OK && (a[0] < 2 || a[0] > 5))
                st = pt_bad(vm, "pickle protocol other than 2 to 5");
            break;
        case 0x95: /* FRAME: a length hint; the opcodes follow inline */
            if ((st = pt_read(vm, 8, &a)) == TDL_OK && tdl_le64(a) > vm->len - vm->pos)
                st = tdl_fail(TDL_EFORMAT, "%s: data.pkl byte %zu: FRAME of %llu bytes runs past the end (truncated)",
                              vm->label, vm->op_at, (unsigned long long)tdl_le64(a));
            break;
        case '(':
            if (vm->n_marks == PT_MARK_MAX) {
                st = tdl_fail(TDL_ETOOBIG, "%s: data.pkl byte %zu: MARKs nested deeper than %u", vm->label,
                              vm->op_at, PT_MARK_MAX);
                break;
            }
            vm->marks[vm->n_marks++] = vm->sp;
            break;
        case ')': st = pt_tuple(vm, 0); break;
        case 0x85: case 0x86: case 0x87:
            if ((st = pt_need(vm, (size_t)(op - 0x84))) == TDL_OK) st = pt_tuple(vm, (size_t)(op - 0x84));
            break;
        case 't':
            if (!vm->n_marks) { st = pt_bad(vm, "TUPLE without a MARK"); break; }
            st = pt_tuple(vm, vm->sp - vm->marks[--vm->n_marks]);
            break;
        case '}': st = pt_push(vm, pt_new(vm, V_DICT)); break;
        case 'N': st = pt_push(vm, pt_new(vm, V_NONE)); break;
        case 0x88: case 0x89: {
            pv *v = pt_new(vm, V_BOOL);
            if (v) v->i = op == 0x88;
            st = pt_push(vm, v);
            break;
        }
        case 'K': if ((st = pt_read(vm, 1, &a)) == TDL_OK) st = pt_int(vm, a[0]); break;
        case 'M': if ((st = pt_read(vm, 2, &a)) == TDL_OK) st = pt_int(vm, tdl_le16(a)); break;
        case 'J': if ((st = pt_read(vm, 4, &a)) == TDL_OK) st = pt_int(vm, (int32_t)tdl_le32(a)); break;
        case 0x8a: { /* LONG1: n bytes, two's complement little-endian */
            if ((st = pt_read(vm, 1, &a)) != TDL_OK) break;
            size_t n = a[0];
            if (n > 8) { st = pt_bad(vm, "an integer wider than 64 bits"); break; }
            if ((st = pt_read(vm, n, &a)) != TDL_OK) break;
            uint64_t u = 0;
            for (size_t k = 0; k < n; k++) u |= (uint64_t)a[k] << (8 * k);
            if (n && n < 8 && (a[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
            st = pt_int(vm, (int64_t)u);
            break;
        }
        case 'X': if ((st = pt_read(vm, 4, &a)) == TDL_OK) st = pt_string(vm, tdl_le32(a)); break;
        case 0x8c: if ((st = pt_read(vm, 1, &a)) == TDL_OK) st = pt_string(vm, a[0]); break;
        case 'c': { /* GLOBAL "module\nname\n" */
            const unsigned char *s = vm->p + vm->pos, *end = vm->p + vm->len;
            const unsigned char *nl1 = memchr(s, '\n', (size_t)(end - s));
            const unsigned char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
            if (!nl2) {
                st = tdl_fail(TDL_EFORMAT, "%s: data.pkl ends inside GLOBAL at byte %zu (truncated)", vm->label, vm->op_at);
                break;
            }
            vm->pos = (size_t)(nl2 + 1 - vm->p);
            st = pt_global(vm, (const char *)s, (size_t)(nl1 - s), (const char *)nl1 + 1, (size_t)(nl2 - nl1 - 1));
            break;
        }
        case 0x93: { /* STACK_GLOBAL: module, name */
            if ((st = pt_need(vm, 2)) != TDL_OK) break;
            pv *mod = vm->stack[vm->sp - 2], *name = vm->stack[vm->sp - 1];
            if (mod->kind != V_STR || name->kind != V_STR) { st = pt_bad(vm, "STACK_GLOBAL of non-strings"); break; }
            vm->sp -= 2;
            st = pt_global(vm, mod->s, mod->len, name->s, name->len);
            break;
        }
        case 'Q': {
            if ((st = pt_need(vm, 1)) != TDL_OK) break;
            pv *id = vm->stack[--vm->sp];
            st = pt_persid(vm, id);
            break;
        }
        case 'R': st = pt_reduce(vm); break;
        case 'b': {
            /* BUILD: only the '_metadata' state of an OrderedDict, ignored */
            if ((st = pt_need(vm, 2)) != TDL_OK) break;
            pv *obj = vm->stack[vm->sp - 2], *state = vm->stack[vm->sp - 1];
            if (obj->kind != V_DICT || (state->kind != V_DICT && state->kind != V_NONE)) {
                st = pt_bad(vm, "BUILD of something other than an OrderedDict's attributes");
                break;
            }
            vm->sp--;
            break;
        }
        case 's': st = pt_setitems(vm, 2); break;
        case 'u': {
            if (!vm->n_marks) { st = pt_bad(vm, "SETITEMS without a MARK"); break; }
            size_t k = vm->sp - vm->marks[--vm->n_marks];
            st = pt_setitems(vm, k);
            break;
        }
        case 'q': if ((st = pt_read(vm, 1, &a)) == TDL_OK) st = pt_memo_put(vm, a[0]); break;
        case 'r': if ((st = pt_read(vm, 4, &a)) == TDL_OK) st = pt_memo_put(vm, tdl_le32(a)); break;
        case 0x94: st = pt_memo_put(vm, vm->memo_n); break;
        case 'h': if ((st = pt_read(vm, 1, &a)) == TDL_OK) st = pt_memo_get(vm, a[0]); break;
        case 'j': if ((st = pt_read(vm, 4, &a)) == TDL_OK) st = pt_memo_get(vm, tdl_le32(a)); break;
        case '.':
            if (vm->n_marks || vm->sp != 1) return pt_bad(vm, "STOP with other than one value left");
            if (vm->pos != vm->len)
                return tdl_fail(TDL_EFORMAT, "%s: data.pkl has %zu bytes after STOP", vm->label, vm->len - vm->pos);
            *result = vm->stack[0];
            return TDL_OK;
        default: {
            char what[320];
            snprintf(what, sizeof what, "opcode 0x%02x %s is outside the state-dict subset tdl reads (it runs no pickle code)",
                     op, pt_opname(op));
            st = pt_bad(vm, what);
        }
        }
    }
    return st;
}

/* ---- tensors ------------------------------------------------------------- */

/* The values of a tensor view, row-major, into dst (its numel doubles). */
static void pt_gather(const pv *t, int big_endian, size_t numel, double *dst)
{
    size_t es = tdl_dtype_size(t->dt), idx[TDL_MAX_NDIM] = {0}, off = t->offset;
    if (!numel) return;
    int contiguous = 1;
    size_t expect = 1;
    for (size_t d = t->ndim; d-- > 0;) {
        if (t->shape[d] != 1 && t->stride[d] != expect) contiguous = 0;
        expect *= t->shape[d];
    }
    if (contiguous) {
        tdl_convert_to_double(t->data + off * es, t->dt, big_endian, numel, dst);
        return;
    }
    for (size_t k = 0; k < numel; k++) {
        tdl_convert_to_double(t->data + off * es, t->dt, big_endian, 1, dst + k);
        for (size_t d = t->ndim; d-- > 0;) {
            off += t->stride[d];
            if (++idx[d] < t->shape[d]) break;
            off -= t->stride[d] * t->shape[d];
            idx[d] = 0;
        }
    }
}

static void pt_vm_free(pt_vm *vm)
{
    for (size_t i = 0; i < vm->n_all; i++) {
        free(vm->all[i]->items);
        free(vm->all[i]->shape);
        free(vm->all[i]);
    }
    free(vm->all);
    free(vm->stack);
    free(vm->memo);
}

/* The state dict's entries into a tensor set. */
static int pt_to_set(pt_vm *vm, const pv *d, tdl_tensors **out)
{
    char shown[64];
    int st = TDL_OK;
    size_t n = d->n / 2;
    char **names = NULL;
    tdl_tensors *set = tdl_tensors_new();
    if (!set) return TDL_ENOMEM;
    if (n == 0) st = tdl_fail(TDL_EFORMAT, "%s: the state dict is empty", vm->label);
    if (st == TDL_OK) st = tdl_tensors_reserve(set, n);
    for (size_t i = 0; i < n && st == TDL_OK; i++) {
        const pv *k = d->items[2 * i], *v = d->items[2 * i + 1];
        if (k->kind != V_STR) {
            st = tdl_fail(TDL_EFORMAT, "%s: a state dict key is %s, not a str", vm->label, pv_kind_names[k->kind]);
            break;
        }
        tdl_msg_str(k->s, k->len, shown, sizeof shown);
        if (k->len == 0 || memchr(k->s, '\0', k->len)) {
            st = tdl_fail(TDL_EFORMAT, "%s: state dict key '%s' is empty or holds a NUL byte", vm->label, shown);
            break;
        }
        if (v->kind != V_TENSOR) {
            st = tdl_fail(TDL_EFORMAT,
                          "%s: entry '%s' is %s, not a tensor: tdl reads a state dict, torch.save(model.state_dict(), \"m.pt\"), not a checkpoint; or %s",
                          vm->label, shown, pv_kind_names[v->kind], PT_EXPORT_HINT);
            break;
        }
        size_t numel = 1;
        for (size_t a = 0; a < v->ndim; a++) numel *= v->shape[a]; /* checked in pt_rebuild_tensor */
        double *vals = tdl_malloc(numel ? numel * sizeof *vals : 1, "tensor values");
        char *name = tdl_malloc(k->len + 1, "a tensor name");
        if (!vals || !name) {
            free(vals);
            free(name);
            st = TDL_ENOMEM;
            break;
        }
        memcpy(name, k->s, k->len);
        name[k->len] = '\0';
        pt_gather(v, vm->big_endian, numel, vals);
        st = tdl_tensors_push(set, name, v->dt, v->ndim, v->shape, numel, vals);
        free(name);
    }
    if (st == TDL_OK) {
        names = tdl_calloc(set->count ? set->count : 1, sizeof *names, "tensor names");
        if (!names) st = TDL_ENOMEM;
    }
    if (st == TDL_OK) {
        for (size_t i = 0; i < set->count; i++) names[i] = set->items[i].name;
        size_t dup = tdl_find_duplicate_name(names, set->count);
        if (dup == (size_t)-2) st = tdl_fail(TDL_ENOMEM, "%s: out of memory checking names", vm->label);
        else if (dup != (size_t)-1)
            st = tdl_fail(TDL_EFORMAT, "%s: tensor '%s' appears twice", vm->label,
                          tdl_msg_str(names[dup], strlen(names[dup]), shown, sizeof shown));
    }
    free(names);
    if (st != TDL_OK) {
        tdl_tensors_free(&set);
        return st;
    }
    *out = set;
    return TDL_OK;
}

int tdl_torch_read_mem(const unsigned char *buf, size_t len, const char *label, tdl_tensors **out)
{
    pt_zip z = {0};
    pt_vm vm;
    pv *result = NULL;
    const char *top = NULL;
    size_t tlen = 0;
    int st;
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_torch_read_mem: out is NULL");
    *out = NULL;
    label = tdl_io_label(label);
    if (!buf && len) return tdl_fail(TDL_EINVAL, "%s: buffer is NULL", label);
    if (len >= 2 && buf[0] == 0x80 && buf[1] <= 5)
        return tdl_fail(TDL_EFORMAT,
                        "%s: a bare pickle (torch.save before torch 1.6, or _use_new_zipfile_serialization=False) is not read; re-save it with torch >= 1.6, or %s",
                        label, PT_EXPORT_HINT);
    if ((st = pt_zip_open(buf, len, label, &z)) != TDL_OK) goto cleanup;
    int tops = pt_zip_top(&z, &top, &tlen);
    if (tops != 1) {
        st = tdl_fail(TDL_EFORMAT, "%s: %s", label,
                      tops ? "several */data.pkl members: not one torch.save archive"
                           : "no TOP/data.pkl member: not a torch.save archive");
        goto cleanup;
    }
    if (pt_zip_find(&z, top, tlen, "constants.pkl", 13)) {
        st = tdl_fail(TDL_EFORMAT, "%s: a TorchScript archive (torch.jit.save) is not read; save the weights with torch.save(model.state_dict(), \"m.pt\"), or %s",
                      label, PT_EXPORT_HINT);
        goto cleanup;
    }
    memset(&vm, 0, sizeof vm);
    const pt_member *order = pt_zip_find(&z, top, tlen, "byteorder", 9);
    if (order) {
        if (order->size == 3 && memcmp(order->data, "big", 3) == 0) vm.big_endian = 1;
        else if (!(order->size == 6 && memcmp(order->data, "little", 6) == 0)) {
            st = tdl_fail(TDL_EFORMAT, "%s: member byteorder is neither 'little' nor 'big'", label);
            goto cleanup;
        }
    }
    const pt_member *pkl = pt_zip_find(&z, top, tlen, "data.pkl", 8);
    if ((st = pt_member_check(pkl, label)) != TDL_OK) goto cleanup;
    if (order && (st = pt_member_check(order, label)) != TDL_OK) goto cleanup;
    if (!pt_crc_ok(pkl)) {
        st = tdl_fail(TDL_EFORMAT, "%s: data.pkl: bad CRC-32 (corrupt data)", label);
        goto cleanup;
    }
    vm.label = label;
    vm.p = pkl->data;
    vm.len = pkl->size;
    vm.zip = &z;
    vm.top = top;
    vm.tlen = tlen;
    vm.file_len = len;
    vm.max_values = pkl->size / 2 + 64;
    st = pt_run(&vm, &result);
    if (st == TDL_OK && result->kind != V_DICT)
        st = tdl_fail(TDL_EFORMAT, "%s: the pickle holds %s, not a state dict (torch.save(model.state_dict(), \"m.pt\")); or %s",
                      label, pv_kind_names[result->kind], PT_EXPORT_HINT);
    if (st == TDL_OK) st = pt_to_set(&vm, result, out);
    pt_vm_free(&vm);
cleanup:
    free(z.m);
    return st;
}

int tdl_torch_read(const char *path, tdl_tensors **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!out) return tdl_fail(TDL_EINVAL, "tdl_torch_read: out is NULL");
    *out = NULL;
    int st = tdl_read_file(path, TDL_IO_MAX_FILE_BYTES, &buf, &len);
    if (st != TDL_OK) return st;
    st = tdl_torch_read_mem(buf, len, path, out);
    free(buf);
    return st;
}
