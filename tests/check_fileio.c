/* check_fileio.c — atomic output files: commit renames into place, abort and
 * a signal (as the CLI handles SIGINT/SIGTERM) leave no file and no temporary. */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tdl/tdl.h"
#include "internal.h"

static char dir[128];

static size_t entries(void)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/tdl-check-fileio-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_commit_and_abort)
{
    char path[256];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    tdl_atomic_file af;
    ck_assert_int_eq(tdl_atomic_begin(path, &af), TDL_OK);
    fputs("partial", af.fp);
    ck_assert_uint_eq(entries(), 1);           /* only the temporary */
    ck_assert_int_ne(access(path, F_OK), 0);   /* not under the final name */
    tdl_atomic_abort(&af);
    ck_assert_uint_eq(entries(), 0);
    ck_assert_int_eq(tdl_write_file_atomic(path, "abc", 3), TDL_OK);
    ck_assert_uint_eq(entries(), 1);
    ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

static void on_signal(int sig)
{
    tdl_atomic_cleanup_on_signal();
    signal(sig, SIG_DFL);
    raise(sig);
}

START_TEST(test_signal_removes_temporaries)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char path[256];
        signal(SIGINT, on_signal);
        tdl_atomic_file a, b;
        snprintf(path, sizeof path, "%s/a.bin", dir);
        if (tdl_atomic_begin(path, &a) != TDL_OK) _exit(3);
        snprintf(path, sizeof path, "%s/b.bin", dir);
        if (tdl_atomic_begin(path, &b) != TDL_OK) _exit(3);
        fputs("half written", a.fp);
        fflush(a.fp);
        raise(SIGINT);
        _exit(4); /* not reached */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
    ck_assert_uint_eq(entries(), 0);
}
END_TEST

START_TEST(test_unwritable)
{
    tdl_atomic_file af;
    ck_assert_int_eq(tdl_atomic_begin("/nonexistent-dir/x.bin", &af), TDL_EIO);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "cannot create output file"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fileio");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_commit_and_abort);
    tcase_add_test(core, test_signal_removes_temporaries);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_unwritable);
    suite_add_tcase(s, errors);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
