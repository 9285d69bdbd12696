/* check_internal.c — white-box tests of libtdl's internal helpers (the
 * message quoting, the duplicate-name finder, the dtype converter, the npy
 * image size and CRC used by the npz writer).  These helpers have no public
 * API, so this is the one test program that includes src/ headers; it lives
 * beside them in src/tests/.  Everything else (tests/, the CLI, the checks,
 * bench, fuzz, python) goes through include/tdl/ only. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "tdl/error.h"
#include "tdl/io.h"
#include "tdl/tensor.h"
#include "internal.h"
#include "formats_internal.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

START_TEST(test_internal_helpers)
{
    char out[64];
    ck_assert_str_eq(tdl_msg_str("a\nb", 3, out, sizeof out), "a?b");
    char longs[100];
    memset(longs, 'x', sizeof longs);
    tdl_msg_str(longs, sizeof longs, out, sizeof out);
    ck_assert_uint_eq(strlen(out), 51);
    ck_assert(ends_with(out, "..."));
    char *names[40];
    char store[40][16];
    for (int i = 0; i < 40; i++) {
        snprintf(store[i], sizeof store[i], "n%d", i);
        names[i] = store[i];
    }
    ck_assert_uint_eq(tdl_find_duplicate_name(names, 40), (size_t)-1);
    names[33] = store[7];
    ck_assert_uint_eq(tdl_find_duplicate_name(names, 40), 33);
    ck_assert_uint_eq(tdl_find_duplicate_name(names, 0), (size_t)-1);
    /* F16 and BF16 conversion through the shared converter */
    unsigned char h[6] = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00};  /* 1, -2, 2^-24 */
    double d[3];
    tdl_convert_to_double(h, TDL_F16, 0, 3, d);
    ck_assert(d[0] == 1.0 && d[1] == -2.0 && d[2] == ldexp(1.0, -24));
    unsigned char bf[4] = {0x3f, 0x80, 0xc0, 0x49};  /* big-endian BF16: 1, -3.140625 */
    tdl_convert_to_double(bf, TDL_BF16, 1, 2, d);
    ck_assert(d[0] == 1.0 && d[1] == -3.140625);
}
END_TEST

START_TEST(test_npy_image_size_and_crc)
{
    /* the npz writer sizes and checksums members without writing them: the
     * numbers must be those of the bytes tdl_npy_write_mem produces */
    static const size_t shapes[][3] = {{0, 0, 0}, {1, 5, 0}, {2, 3, 7}, {3, 1, 1}};
    static const size_t ndims[] = {0, 1, 2, 3};
    for (size_t c = 0; c < 4; c++) {
        tdl_tensor t = {0};
        t.name = "x";
        t.dtype = TDL_F64;
        t.ndim = ndims[c];
        t.numel = 1;
        for (size_t i = 0; i < t.ndim; i++) {
            t.shape[i] = shapes[c][i];
            t.numel *= shapes[c][i];
        }
        double v[64];
        for (size_t i = 0; i < 64; i++) v[i] = sin((double)i) * 1e3;
        t.data = v;
        unsigned char *img = NULL;
        size_t len = 0, isz = 0;
        uint32_t crc = 0;
        ck_assert_int_eq(tdl_npy_write_mem(&t, &img, &len), TDL_OK);
        ck_assert_int_eq(tdl_npy_image_size(&t, &isz), TDL_OK);
        ck_assert_uint_eq(isz, len);
        ck_assert_int_eq(tdl_npy_crc32(&t, &crc), TDL_OK);
        ck_assert_uint_eq(crc, (uint32_t)crc32(0L, img, (uInt)len));
        free(img);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("internal");
    TCase *tc = tcase_create("helpers");
    tcase_add_test(tc, test_internal_helpers);
    tcase_add_test(tc, test_npy_image_size_and_crc);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
