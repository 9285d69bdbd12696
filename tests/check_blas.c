/* check_blas.c — the CBLAS that runs is OpenBLAS, not GSL's reference CBLAS.
 *
 * GSL's pkg-config file adds -lgslcblas and libgsl.so itself needs
 * libgslcblas.so; the build links OpenBLAS ahead of it, so the dynamic linker
 * binds every cblas_* call (ours and GSL's gsl_blas_*) to OpenBLAS.  This test
 * asks the dynamic linker where cblas_dgemm resolves, and checks a product. */
#include <check.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gsl/gsl_blas.h>
#include <lapacke.h>
#include "tdl/blas.h"

START_TEST(test_cblas_is_openblas)
{
    void *sym = dlsym(RTLD_DEFAULT, "cblas_dgemm");
    ck_assert_ptr_nonnull(sym);
    Dl_info info;
    ck_assert_int_ne(dladdr(sym, &info), 0);
    ck_assert_msg(strstr(info.dli_fname, "openblas") != NULL, "cblas_dgemm comes from %s", info.dli_fname);
    sym = dlsym(RTLD_DEFAULT, "dsyevr_");
    ck_assert_ptr_nonnull(sym);
    ck_assert_int_ne(dladdr(sym, &info), 0);
    ck_assert_msg(strstr(info.dli_fname, "openblas") != NULL, "LAPACK dsyevr comes from %s", info.dli_fname);
}
END_TEST

START_TEST(test_gsl_blas_product)
{
    /* [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50], through GSL's wrapper */
    double a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8}, c[4] = {0};
    gsl_matrix_view A = gsl_matrix_view_array(a, 2, 2), B = gsl_matrix_view_array(b, 2, 2), C = gsl_matrix_view_array(c, 2, 2);
    ck_assert_int_eq(gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &A.matrix, &B.matrix, 0.0, &C.matrix), 0);
    ck_assert_double_eq(c[0], 19);
    ck_assert_double_eq(c[1], 22);
    ck_assert_double_eq(c[2], 43);
    ck_assert_double_eq(c[3], 50);
}
END_TEST

/* tdl_blas_choose: every branch of the rule in tdl/blas.h. */
static tdl_blas_choice choose(const char *current, const char *coretype, const char *request, tdl_cpu_features cpu)
{
    tdl_blas_choice c;
    memset(&c, 0x55, sizeof c);
    tdl_blas_choose(current, coretype, request, &cpu, &c);
    ck_assert_msg(strlen(c.reason) > 0 && strlen(c.reason) < sizeof c.reason, "a reason is given");
    return c;
}

static const tdl_cpu_features cpu_sse = {0, 0, 0, 0}, cpu_avx = {1, 0, 0, 0}, cpu_avx2 = {1, 1, 0, 0},
                              cpu_avx512 = {1, 1, 1, 0}, cpu_bf16 = {1, 1, 1, 1};

START_TEST(test_choose_automatic)
{
    /* the user's case: an unrecognized AVX2 CPU, OpenBLAS on Prescott, nothing set */
    tdl_blas_choice c = choose("Prescott", NULL, NULL, cpu_avx2);
    ck_assert_int_eq(c.action, TDL_BLAS_SWITCH);
    ck_assert_str_eq(c.core, "Haswell");
    ck_assert_msg(strstr(c.reason, "Prescott") != NULL, "reason names the generic core: %s", c.reason);
    /* "auto" and "" mean the same; AVX-512 CPUs also get the safe Haswell */
    ck_assert_int_eq(choose("Prescott", NULL, "auto", cpu_avx512).action, TDL_BLAS_SWITCH);
    ck_assert_str_eq(choose("Prescott", "", "", cpu_bf16).core, "Haswell");
    /* Sandybridge (AVX only) and Nehalem are not tuned for AVX2 either */
    ck_assert_int_eq(choose("Sandybridge", NULL, NULL, cpu_avx2).action, TDL_BLAS_SWITCH);
    ck_assert_int_eq(choose("Nehalem", NULL, NULL, cpu_avx2).action, TDL_BLAS_SWITCH);
    /* kept: a tuned core, a CPU without AVX2, an OPENBLAS_CORETYPE the user set */
    ck_assert_int_eq(choose("Cooperlake", NULL, NULL, cpu_bf16).action, TDL_BLAS_KEEP);
    ck_assert_int_eq(choose("Zen", NULL, NULL, cpu_avx2).action, TDL_BLAS_KEEP);
    ck_assert_int_eq(choose("Haswell", NULL, NULL, cpu_avx2).action, TDL_BLAS_KEEP);
    ck_assert_int_eq(choose("Prescott", NULL, NULL, cpu_avx).action, TDL_BLAS_KEEP);
    ck_assert_int_eq(choose("Prescott", NULL, NULL, cpu_sse).action, TDL_BLAS_KEEP);
    ck_assert_int_eq(choose("Prescott", "Prescott", NULL, cpu_avx2).action, TDL_BLAS_KEEP);
    ck_assert_int_eq(choose(NULL, NULL, NULL, cpu_sse).action, TDL_BLAS_KEEP);
}
END_TEST

START_TEST(test_choose_requested)
{
    ck_assert_int_eq(choose("Prescott", NULL, "keep", cpu_avx2).action, TDL_BLAS_KEEP);
    ck_assert_int_eq(choose("Prescott", NULL, "KEEP", cpu_avx2).action, TDL_BLAS_KEEP);
    tdl_blas_choice c = choose("Cooperlake", NULL, "skylakex", cpu_bf16);
    ck_assert_int_eq(c.action, TDL_BLAS_SWITCH);
    ck_assert_str_eq(c.core, "SkylakeX"); /* OpenBLAS's spelling */
    /* a name overrides OPENBLAS_CORETYPE */
    c = choose("Prescott", "Prescott", "Haswell", cpu_avx2);
    ck_assert_int_eq(c.action, TDL_BLAS_SWITCH);
    ck_assert_str_eq(c.core, "Haswell");
    ck_assert_int_eq(choose("Haswell", NULL, "haswell", cpu_avx2).action, TDL_BLAS_KEEP);
    ck_assert_int_eq(choose("Cooperlake", NULL, "Prescott", cpu_bf16).action, TDL_BLAS_SWITCH);
    /* refused: instructions the CPU lacks, unknown names, cores tdl does not vouch for */
    c = choose("Haswell", NULL, "SkylakeX", cpu_avx2);
    ck_assert_int_eq(c.action, TDL_BLAS_REFUSED);
    ck_assert_msg(strstr(c.reason, "lacks") != NULL, "%s", c.reason);
    ck_assert_int_eq(choose("SkylakeX", NULL, "Cooperlake", cpu_avx512).action, TDL_BLAS_REFUSED);
    ck_assert_int_eq(choose("Prescott", NULL, "Haswell", cpu_avx).action, TDL_BLAS_REFUSED);
    ck_assert_int_eq(choose("Prescott", NULL, "Sandybridge", cpu_sse).action, TDL_BLAS_REFUSED);
    ck_assert_int_eq(choose("Haswell", NULL, "Pentium9", cpu_bf16).action, TDL_BLAS_REFUSED);
    ck_assert_int_eq(choose("Haswell", NULL, "SapphireRapids", cpu_bf16).action, TDL_BLAS_REFUSED);
}
END_TEST

START_TEST(test_core_names)
{
    ck_assert_int_eq(tdl_blas_core_is_tuned("Haswell"), 1);
    ck_assert_int_eq(tdl_blas_core_is_tuned("skylakex"), 1);
    ck_assert_int_eq(tdl_blas_core_is_tuned("Cooperlake"), 1);
    ck_assert_int_eq(tdl_blas_core_is_tuned("Zen"), 1);
    ck_assert_int_eq(tdl_blas_core_is_tuned("Prescott"), 0);
    ck_assert_int_eq(tdl_blas_core_is_tuned("Sandybridge"), 0);
    ck_assert_int_eq(tdl_blas_core_is_tuned("Unknown"), 0);
    ck_assert_int_eq(tdl_blas_core_is_tuned(NULL), 0);
    /* the running core is one OpenBLAS names, and matches its config string */
    const char *core = tdl_blas_core();
    ck_assert_ptr_nonnull(core);
    ck_assert_msg(strstr(tdl_blas_config(), core) != NULL, "config '%s' names core '%s'", tdl_blas_config(), core);
    /* OPENBLAS_CORETYPE, when the test runs under one, is obeyed */
    const char *forced = getenv("OPENBLAS_CORETYPE");
    if (forced && forced[0]) ck_assert_msg(strcasecmp(forced, core) == 0, "forced %s, running %s", forced, core);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("blas");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_cblas_is_openblas);
    tcase_add_test(core, test_gsl_blas_product);
    suite_add_tcase(s, core);
    TCase *choice = tcase_create("kernel_choice");
    tcase_add_test(choice, test_choose_automatic);
    tcase_add_test(choice, test_choose_requested);
    tcase_add_test(choice, test_core_names);
    suite_add_tcase(s, choice);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
