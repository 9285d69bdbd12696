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
#include <gsl/gsl_blas.h>
#include <lapacke.h>

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

int main(void)
{
    Suite *s = suite_create("blas");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_cblas_is_openblas);
    tcase_add_test(core, test_gsl_blas_product);
    suite_add_tcase(s, core);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
