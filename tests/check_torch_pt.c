/* check_torch_pt.c — torch.save .pt state dicts (tdl_torch_read) and the
 * recognition of any MLP state dict naming (tdl_mlp_layout_find,
 * tdl_mlp_load_ex), issue 18.
 *
 * Fixtures: tests/fixtures/state_dicts/, written by PyTorch
 * (tests/fixtures/make_state_dict_fixtures.py): every layout as .npz
 * (numpy.savez of the float64 state dict) and .pt (torch.save), the .pt
 * also in float32, seq also in float16 / bfloat16 and as strided views of
 * one shared storage; hostile/ holds refused pickles.
 *
 * Tolerances: a float64 .pt holds the very bytes of the .npz, so values are
 * compared for equality; a float32 / float16 / bfloat16 value is the
 * round-to-nearest of the float64 one, relative error at most 2^-24, 2^-11,
 * 2^-8 (unit roundoff of 24, 11 and 8 significant bits). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdl/tdl.h"

#define FIX TDL_TEST_FIXTURES "/state_dicts/"

static const char *const layouts[] = {"seq", "fc", "fc10", "layers", "nested", "nobias", "mixed"};
#define NLAYOUTS (sizeof layouts / sizeof layouts[0])

static tdl_tensors *read_ok(const char *path)
{
    tdl_tensors *set = NULL;
    int st = tdl_tensors_read(path, &set);
    ck_assert_msg(st == TDL_OK, "%s: %s", path, tdl_errmsg());
    return set;
}

/* b's tensors are a's (same names, shapes) with values within rel * |a|. */
static void same_tensors(const tdl_tensors *a, const tdl_tensors *b, double rel, tdl_dtype dt, const char *what)
{
    ck_assert_msg(a->count == b->count, "%s: %zu vs %zu tensors", what, a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const tdl_tensor *x = &a->items[i], *y = tdl_tensors_find(b, x->name);
        ck_assert_msg(y != NULL, "%s: no tensor '%s'", what, x->name);
        ck_assert_msg(y->dtype == dt, "%s: '%s' dtype %s", what, x->name, tdl_dtype_name(y->dtype));
        ck_assert_uint_eq(x->ndim, y->ndim);
        for (size_t d = 0; d < x->ndim; d++) ck_assert_uint_eq(x->shape[d], y->shape[d]);
        for (size_t j = 0; j < x->numel; j++)
            ck_assert_msg(fabs(x->data[j] - y->data[j]) <= rel * fabs(x->data[j]),
                          "%s: '%s'[%zu] %.17g vs %.17g", what, x->name, j, x->data[j], y->data[j]);
    }
}

/* ---- core ------------------------------------------------------------------- */

START_TEST(test_pt_equals_npz)
{
    char p[512];
    for (size_t i = 0; i < NLAYOUTS; i++) {
        snprintf(p, sizeof p, FIX "%s.npz", layouts[i]);
        tdl_tensors *npz = read_ok(p);
        snprintf(p, sizeof p, FIX "%s.pt", layouts[i]);
        tdl_tensors *pt = NULL;
        ck_assert_msg(tdl_torch_read(p, &pt) == TDL_OK, "%s: %s", p, tdl_errmsg());
        same_tensors(npz, pt, 0.0, TDL_F64, p);
        /* the keys in the state dict's order, as torch wrote them */
        for (size_t k = 0; k < npz->count; k++) ck_assert_str_eq(npz->items[k].name, pt->items[k].name);
        tdl_tensors_free(&pt);
        snprintf(p, sizeof p, FIX "%s_f32.pt", layouts[i]);
        pt = read_ok(p);
        same_tensors(npz, pt, 0x1p-24, TDL_F32, p);
        tdl_tensors_free(&pt);
        tdl_tensors_free(&npz);
    }
}
END_TEST

START_TEST(test_pt_half_and_strided)
{
    tdl_tensors *npz = read_ok(FIX "seq.npz"), *pt = read_ok(FIX "seq_f16.pt");
    same_tensors(npz, pt, 0x1p-11, TDL_F16, "seq_f16.pt");
    tdl_tensors_free(&pt);
    pt = read_ok(FIX "seq_bf16.pt");
    same_tensors(npz, pt, 0x1p-8, TDL_BF16, "seq_bf16.pt");
    tdl_tensors_free(&pt);
    /* transposed views at offsets into one shared storage: the same values */
    pt = read_ok(FIX "strided.pt");
    same_tensors(npz, pt, 0.0, TDL_F64, "strided.pt");
    tdl_tensors_free(&pt);
    tdl_tensors_free(&npz);
}
END_TEST

START_TEST(test_load_layouts)
{
    /* every layout loads from every format into the same net */
    static const char *const fmts[] = {"safetensors", "npz", "pt"};
    static const size_t depth[] = {3, 3, 10, 3, 3, 3, 3};
    tdl_act act = {TDL_ACT_TANH, 0, 0};
    char p[512];
    for (size_t i = 0; i < NLAYOUTS; i++) {
        tdl_mlp *ref = NULL;
        for (size_t f = 0; f < 3; f++) {
            tdl_mlp *m = NULL;
            snprintf(p, sizeof p, FIX "%s.%s", layouts[i], fmts[f]);
            ck_assert_msg(tdl_mlp_load(p, &act, &m) == TDL_OK, "%s: %s", p, tdl_errmsg());
            ck_assert_uint_eq(m->depth, depth[i]);
            ck_assert_uint_eq(m->layers[0].in, 6);
            ck_assert_uint_eq(m->layers[m->depth - 1].out, 3);
            if (!ref) ref = m;
            else {
                ck_assert_uint_eq(m->n_params, ref->n_params);
                ck_assert(memcmp(m->theta, ref->theta, m->n_params * sizeof(double)) == 0);
                tdl_mlp_free(&m);
            }
        }
        tdl_mlp_free(&ref);
    }
    /* fc10: fc1 (6 -> 8) first and fc10 (8 -> 3) last, whatever the file's key order */
    tdl_tensors *set = read_ok(FIX "fc10.safetensors");
    size_t at10 = 0, at2 = 0; /* safetensors sorts fc10 before fc2 */
    for (size_t i = 0; i < set->count; i++) {
        if (!strcmp(set->items[i].name, "fc10.weight")) at10 = i;
        if (!strcmp(set->items[i].name, "fc2.weight")) at2 = i;
    }
    ck_assert_uint_lt(at10, at2);
    tdl_mlp_layout lay;
    ck_assert_int_eq(tdl_mlp_layout_find(set, NULL, &lay), TDL_OK);
    ck_assert_uint_eq(lay.depth, 10);
    for (size_t k = 0; k < 10; k++) {
        char want[8];
        snprintf(want, sizeof want, "fc%zu", k + 1);
        ck_assert_str_eq(lay.prefix[k], want);
    }
    ck_assert_str_eq(lay.scheme, "fc<k>.weight, fc<k>.bias");
    ck_assert_str_eq(lay.order, "natural order of the names");
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
    /* mixed: classifier sorts first but the shapes chain it last */
    set = read_ok(FIX "mixed.pt");
    ck_assert_int_eq(tdl_mlp_layout_find(set, NULL, &lay), TDL_OK);
    ck_assert_str_eq(lay.prefix[0], "features.0");
    ck_assert_str_eq(lay.prefix[2], "classifier");
    ck_assert_str_eq(lay.order, "the only order the shapes chain");
    ck_assert_str_eq(lay.scheme, "named modules");
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
    set = read_ok(FIX "nested.npz");
    ck_assert_int_eq(tdl_mlp_layout_find(set, NULL, &lay), TDL_OK);
    ck_assert_str_eq(lay.scheme, "model.layers.<k>.weight, model.layers.<k>.bias");
    ck_assert_str_eq(lay.prefix[1], "model.layers.2");
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
    set = read_ok(FIX "nobias.pt");
    ck_assert_int_eq(tdl_mlp_layout_find(set, NULL, &lay), TDL_OK);
    ck_assert(!lay.has_bias[0] && !lay.has_bias[1] && !lay.has_bias[2]);
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
}
END_TEST

/* A set of named 2-D / 1-D zero tensors: {name, ndim, d0, d1}. */
typedef struct { const char *name; size_t ndim, d0, d1; } tspec;

static tdl_tensors *make_set(const tspec *t, size_t n)
{
    tdl_tensors *set = tdl_tensors_new();
    static double zeros[4096];
    for (size_t i = 0; i < n; i++) {
        size_t shape[4] = {t[i].d0, t[i].d1, 3, 3};
        ck_assert_int_eq(tdl_tensors_add(set, t[i].name, t[i].ndim, shape, zeros), TDL_OK);
    }
    return set;
}

static void layout_fails(const tspec *t, size_t n, const char *layers, int status, const char *frag)
{
    tdl_tensors *set = make_set(t, n);
    tdl_mlp_layout lay;
    int st = tdl_mlp_layout_find(set, layers, &lay);
    ck_assert_msg(st == status, "%s: status %d (%s), expected %d", t[0].name, st, tdl_errmsg(), status);
    ck_assert_msg(strstr(tdl_errmsg(), frag) != NULL, "message '%s' lacks '%s'", tdl_errmsg(), frag);
    ck_assert_uint_eq(lay.depth, 0);
    tdl_mlp *m = NULL;
    ck_assert_int_eq(tdl_mlp_from_tensors_ex(set, NULL, layers, &m), status);
    ck_assert_ptr_null(m);
    tdl_tensors_free(&set);
}

START_TEST(test_layout_orders)
{
    tdl_mlp_layout lay;
    /* a bare nn.Linear */
    const tspec bare[] = {{"weight", 2, 3, 4}, {"bias", 1, 3, 0}};
    tdl_tensors *set = make_set(bare, 2);
    ck_assert_int_eq(tdl_mlp_layout_find(set, NULL, &lay), TDL_OK);
    ck_assert_uint_eq(lay.depth, 1);
    ck_assert_str_eq(lay.prefix[0], "");
    ck_assert(lay.has_bias[0]);
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
    /* an explicit order wins over the names: fc2 first */
    const tspec two[] = {{"fc1.weight", 2, 4, 4}, {"fc2.weight", 2, 4, 3}};
    set = make_set(two, 2);
    ck_assert_int_eq(tdl_mlp_layout_find(set, "fc2,fc1", &lay), TDL_OK);
    ck_assert_str_eq(lay.prefix[0], "fc2");
    ck_assert_str_eq(lay.order, "as given");
    tdl_mlp_layout_free(&lay);
    /* and the natural order does not chain (fc1 gives 4, fc2 takes 3) */
    tdl_tensors_free(&set);
    layout_fails(two, 2, NULL, TDL_ESHAPE, "'fc2.weight' takes 3 inputs but the previous layer has 4 outputs");
    layout_fails(two, 2, NULL, TDL_ESHAPE, "orders that chain: fc2,fc1; give the layer order, e.g. fc2,fc1");
    layout_fails(two, 2, "fc1,fc2", TDL_ESHAPE, "(layer order 'fc1,fc2')");
    layout_fails(two, 2, "fc2,fc3", TDL_EINVAL, "'fc3' is not a Linear layer of the file (the file's Linear layers: fc1,fc2)");
    layout_fails(two, 2, "fc2", TDL_EINVAL, "leaves out the Linear layer 'fc1'");
    layout_fails(two, 2, "fc2,fc2", TDL_EINVAL, "'fc2' is named twice");
    /* names of several patterns, several orders chain: ambiguous */
    const tspec amb[] = {{"fc1.weight", 2, 4, 4}, {"fc2.weight", 2, 4, 4}, {"head.weight", 2, 4, 4}};
    layout_fails(amb, 3, NULL, TDL_EINVAL, "the order of the Linear layers is ambiguous");
    layout_fails(amb, 3, NULL, TDL_EINVAL, "fc1,fc2,head or fc1,head,fc2 or head,fc1,fc2; give the layer order, e.g. fc1,fc2,head");
    /* the same names where the shapes place head: accepted (fc1 before fc2 by name) */
    const tspec placed[] = {{"fc1.weight", 2, 4, 4}, {"fc2.weight", 2, 4, 4}, {"head.weight", 2, 2, 4}};
    set = make_set(placed, 3);
    ck_assert_int_eq(tdl_mlp_layout_find(set, NULL, &lay), TDL_OK);
    ck_assert_str_eq(lay.prefix[0], "fc1");
    ck_assert_str_eq(lay.prefix[2], "head");
    ck_assert_str_eq(lay.order, "natural order of the names");
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
    const tspec placed2[] = {{"fc1.weight", 2, 4, 4}, {"fc2.weight", 2, 2, 4}, {"input.weight", 2, 4, 6}};
    set = make_set(placed2, 3);
    ck_assert_int_eq(tdl_mlp_layout_find(set, NULL, &lay), TDL_OK);
    ck_assert_str_eq(lay.prefix[0], "input");
    ck_assert_str_eq(lay.prefix[1], "fc1");
    ck_assert_str_eq(lay.order, "the only order the shapes chain");
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
    /* ... but one pattern decides: layers.0 .. layers.2, all 4 x 4 */
    const tspec seq[] = {{"layers.10.weight", 2, 4, 4}, {"layers.2.weight", 2, 4, 4}, {"layers.0.weight", 2, 4, 4}};
    set = make_set(seq, 3);
    ck_assert_int_eq(tdl_mlp_layout_find(set, NULL, &lay), TDL_OK);
    ck_assert_str_eq(lay.prefix[0], "layers.0");
    ck_assert_str_eq(lay.prefix[1], "layers.2");
    ck_assert_str_eq(lay.prefix[2], "layers.10");
    tdl_mlp_layout_free(&lay);
    tdl_tensors_free(&set);
    /* no order chains at all */
    const tspec none[] = {{"a.weight", 2, 4, 3}, {"b.weight", 2, 5, 6}};
    layout_fails(none, 2, NULL, TDL_ESHAPE, "no order of the 2 Linear layers chains");
    /* two names for one number */
    const tspec tie[] = {{"fc1.weight", 2, 3, 3}, {"fc01.weight", 2, 3, 3}};
    layout_fails(tie, 2, NULL, TDL_EFORMAT, "'fc01.weight' is not a Linear layer's weight tdl can place");
}
END_TEST

START_TEST(test_layout_refusals)
{
    const tspec conv[] = {{"conv1.weight", 4, 8, 3}, {"fc.weight", 2, 3, 8}};
    layout_fails(conv, 2, NULL, TDL_ESHAPE, "tensor 'conv1.weight' has 4 dimensions; a Linear weight is 2-D (out x in) (a convolution's kernel?)");
    const tspec bn[] = {{"fc1.weight", 2, 4, 3}, {"bn1.running_mean", 1, 4, 0}};
    layout_fails(bn, 2, NULL, TDL_EFORMAT, "tensor 'bn1.running_mean' is not a Linear layer's weight or bias: a batch-norm statistic tensor");
    const tspec bnw[] = {{"fc1.weight", 2, 4, 3}, {"bn1.weight", 1, 4, 0}};
    layout_fails(bnw, 2, NULL, TDL_ESHAPE, "'bn1.weight' has 1 dimensions; a Linear weight is 2-D (out x in) (a normalization layer's scale?)");
    const tspec emb[] = {{"embedding.weight", 2, 100, 8}, {"fc.weight", 2, 3, 8}};
    layout_fails(emb, 2, NULL, TDL_EFORMAT, "tensor 'embedding.weight' is not a Linear layer's weight or bias: an embedding tensor");
    const tspec other[] = {{"fc.weight", 2, 3, 8}, {"fc.scale", 1, 3, 0}};
    layout_fails(other, 2, NULL, TDL_EFORMAT, "tensor 'fc.scale' is not a Linear layer's '<name>.weight' or '<name>.bias'; tdl reads MLPs");
    const tspec orphan[] = {{"fc1.weight", 2, 3, 8}, {"fc2.bias", 1, 3, 0}};
    layout_fails(orphan, 2, NULL, TDL_EFORMAT, "tensor 'fc2.bias' has no matching 'fc2.weight'");
    const tspec badbias[] = {{"fc1.weight", 2, 3, 8}, {"fc1.bias", 1, 8, 0}};
    layout_fails(badbias, 2, NULL, TDL_ESHAPE, "tensor 'fc1.bias' should have shape [3]");
}
END_TEST

START_TEST(test_load_ex)
{
    tdl_act relu = {TDL_ACT_RELU, 0, 0};
    tdl_mlp *a = NULL, *b = NULL;
    ck_assert_int_eq(tdl_mlp_load(FIX "fc.pt", &relu, &a), TDL_OK);
    ck_assert_int_eq(tdl_mlp_load_ex(FIX "fc.pt", &relu, "fc1,fc2,fc3", &b), TDL_OK);
    ck_assert(memcmp(a->theta, b->theta, a->n_params * sizeof(double)) == 0);
    tdl_mlp_free(&b);
    ck_assert_int_eq(tdl_mlp_load_ex(FIX "fc.pt", &relu, "fc2,fc1,fc3", &b), TDL_ESHAPE);
    ck_assert_ptr_null(b);
    ck_assert_msg(strstr(tdl_errmsg(), "fc.pt: tensor 'fc1.weight' takes 6 inputs but the previous layer has 5 outputs") != NULL,
                  "%s", tdl_errmsg());
    tdl_mlp_free(&a);
    /* a tdl model file keeps its init.* under the new reader */
    tdl_mlp_config cfg;
    tdl_mlp_config_default(&cfg);
    ck_assert_int_eq(tdl_arch_parse("3-4-2", &cfg), TDL_OK);
    ck_assert_int_eq(tdl_mlp_create(&cfg, &a), TDL_OK);
    char p[] = "/tmp/check_torch_pt_XXXXXX";
    int fd = mkstemp(p);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(tdl_mlp_save(p, a), TDL_OK);
    ck_assert_int_eq(tdl_mlp_load(p, NULL, &b), TDL_OK);
    ck_assert_ptr_nonnull(b->theta0);
    ck_assert(memcmp(a->theta0, b->theta0, a->n_params * sizeof(double)) == 0);
    remove(p);
    tdl_mlp_free(&a);
    tdl_mlp_free(&b);
}
END_TEST

/* ---- errors ----------------------------------------------------------------- */

START_TEST(test_hostile)
{
    static const struct { const char *file; int status; const char *frag; } cases[] = {
        {"os_system", TDL_EFORMAT, "data.pkl byte 2: the pickle calls for 'os.system', which is not part of a state dict"},
        {"builtins_eval", TDL_EFORMAT, "the pickle calls for 'builtins.eval'"},
        {"stack_global", TDL_EFORMAT, "the pickle calls for 'posix.system'"},
        {"reduce_chain", TDL_EFORMAT, "(REDUCE): REDUCE calls a dict, not a whitelisted callable"},
        {"memo_huge", TDL_ETOOBIG, "(LONG_BINPUT): memo index 2147483648 over the limit 1048576"},
        {"memo_unset", TDL_EFORMAT, "(BINGET): memo index 7 was never set"},
        {"frame_truncated", TDL_EFORMAT, "FRAME of 255 bytes runs past the end (truncated)"},
        {"deep_marks", TDL_ETOOBIG, "MARKs nested deeper than 32"},
        {"view_too_big", TDL_EFORMAT, "a tensor view reaches element 15 of a storage of 12 elements"},
        {"storage_short", TDL_EFORMAT, "storage '0' declares 16 F64 elements but its member holds 96 bytes"},
        {"inst", TDL_EFORMAT, "opcode 0x69 INST is outside the state-dict subset"},
        {"no_stop", TDL_EFORMAT, "data.pkl ends before STOP (truncated)"},
        {"legacy", TDL_EFORMAT, "a bare pickle (torch.save before torch 1.6"},
        {"checkpoint", TDL_EFORMAT, "entry 'epoch' is an int, not a tensor"},
        {"compressed", TDL_EFORMAT, "member 'archive/data.pkl' is compressed (method 8); torch.save stores its members"},
    };
    char p[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tdl_tensors *set = (tdl_tensors *)1;
        snprintf(p, sizeof p, FIX "hostile/%s.pt", cases[i].file);
        int st = tdl_tensors_read(p, &set);
        ck_assert_msg(st == cases[i].status, "%s: status %d (%s)", p, st, tdl_errmsg());
        ck_assert_ptr_null(set);
        ck_assert_msg(strstr(tdl_errmsg(), cases[i].frag) != NULL, "%s: '%s' lacks '%s'", p, tdl_errmsg(), cases[i].frag);
        ck_assert_msg(strchr(tdl_errmsg(), '\n') == NULL, "%s: message of several lines", p);
        ck_assert_msg(strncmp(tdl_errmsg(), p, strlen(p)) == 0, "%s: message does not start with the file", p);
    }
    /* the control built the same way loads */
    tdl_tensors *set = read_ok(FIX "hostile/ok_small.pt");
    ck_assert_uint_eq(set->count, 1);
    ck_assert_uint_eq(set->items[0].shape[0], 3);
    for (size_t j = 0; j < 12; j++) ck_assert(set->items[0].data[j] == (double)j);
    tdl_tensors_free(&set);
}
END_TEST

START_TEST(test_mutations)
{
    /* every truncation of a .pt fails cleanly; every one-byte change either
     * loads or fails, without a crash or a leak (ASan in the sanitizer CI) */
    unsigned char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tdl_read_file(FIX "strided.pt", (size_t)1 << 24, &buf, &len), TDL_OK);
    tdl_tensors *set = NULL;
    ck_assert_int_eq(tdl_torch_read_mem(buf, len, "strided.pt", &set), TDL_OK);
    tdl_tensors_free(&set);
    for (size_t n = 0; n < len; n++) {
        ck_assert_int_ne(tdl_torch_read_mem(buf, n, "cut.pt", &set), TDL_OK);
        ck_assert_ptr_null(set);
    }
    size_t loaded = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char keep = buf[i];
        buf[i] ^= 0x5a;
        int st = tdl_torch_read_mem(buf, len, "flip.pt", &set);
        if (st == TDL_OK) loaded++;
        else ck_assert_ptr_null(set);
        tdl_tensors_free(&set);
        buf[i] = keep;
    }
    /* CRC-32 catches changes of the members' bytes: only header bytes that
     * do not matter (times, attributes, padding) still load */
    ck_assert_uint_lt(loaded, len / 2);
    free(buf);
}
END_TEST

static Suite *torch_pt_suite(void)
{
    Suite *s = suite_create("torch_pt");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_pt_equals_npz);
    tcase_add_test(core, test_pt_half_and_strided);
    tcase_add_test(core, test_load_layouts);
    tcase_add_test(core, test_load_ex);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, test_layout_orders);
    tcase_add_test(limits, test_mutations);
    suite_add_tcase(s, limits);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_layout_refusals);
    tcase_add_test(errors, test_hostile);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(torch_pt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
