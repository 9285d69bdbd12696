/* check_fileio.c — atomic output files: commit renames into place, abort and
 * a signal (as the CLI handles SIGINT/SIGTERM) leave no file and no temporary;
 * the rules for existing targets (fileio.c's header): modes kept, links
 * resolved, devices and FIFOs written in place, directories refused; inputs
 * that are not regular files refused without blocking; EFBIG reported. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tdl/tdl.h"

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


static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = 0;
    fclose(fp);
}

START_TEST(test_modes)
{
    char path[256];
    struct stat sb;
    path_in(path, sizeof path, "new.bin");
    mode_t old = umask(027);
    int st = tdl_write_file_atomic(path, "x", 1);
    umask(old);
    ck_assert_int_eq(st, TDL_OK);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0640); /* 0666 & ~umask, not 0644 */
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(tdl_write_file_atomic(path, "yz", 2), TDL_OK);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0600); /* a private file stays private */
    ck_assert_int_eq((int)sb.st_size, 2);
}
END_TEST

START_TEST(test_links)
{
    char target[256], lnk[256], other[256], buf[64];
    struct stat sb;
    path_in(target, sizeof target, "target.bin");
    path_in(lnk, sizeof lnk, "link.bin");
    path_in(other, sizeof other, "other.bin");
    ck_assert_int_eq(tdl_write_file_atomic(target, "old", 3), TDL_OK);
    ck_assert_int_eq(symlink("target.bin", lnk), 0);
    ck_assert_int_eq(tdl_write_file_atomic(lnk, "new", 3), TDL_OK);
    ck_assert_int_eq(lstat(lnk, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode)); /* the link survives ... */
    slurp(target, buf, sizeof buf);
    ck_assert_str_eq(buf, "new");   /* ... and its target has the new contents */
    ck_assert_uint_eq(entries(), 2);
    /* a hard link: the name given gets the new file, the other keeps the old */
    ck_assert_int_eq(link(target, other) == 0 ? 0 : errno, 0);
    ck_assert_int_eq(tdl_write_file_atomic(target, "newer", 5), TDL_OK);
    slurp(target, buf, sizeof buf);
    ck_assert_str_eq(buf, "newer");
    slurp(other, buf, sizeof buf);
    ck_assert_str_eq(buf, "new");
    /* a dangling link is refused, and nothing is created */
    char dang[256];
    path_in(dang, sizeof dang, "dangling.bin");
    ck_assert_int_eq(symlink("missing.bin", dang), 0);
    ck_assert_int_eq(tdl_write_file_atomic(dang, "x", 1), TDL_EIO);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "symbolic link to a missing file"));
    ck_assert_uint_eq(entries(), 4);
}
END_TEST

START_TEST(test_devices_in_place)
{
    char link[256], node[256];
    struct stat sb;
    /* through a link, so that the old writer (rename over the name) would
     * only replace the link, never the system's /dev/null */
    path_in(link, sizeof link, "devnull");
    ck_assert_int_eq(symlink("/dev/null", link), 0);
    ck_assert_int_eq(tdl_write_file_atomic(link, "abc", 3), TDL_OK);
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    ck_assert_int_eq(stat("/dev/null", &sb), 0);
    ck_assert(S_ISCHR(sb.st_mode));
    ck_assert_uint_eq(entries(), 1); /* no temporary left beside it */
    path_in(node, sizeof node, "null");
    if (mknod(node, S_IFCHR | 0666, makedev(1, 3)) == 0) { /* root only */
        ck_assert_int_eq(tdl_write_file_atomic(node, "abc", 3), TDL_OK);
        ck_assert_int_eq(lstat(node, &sb), 0);
        ck_assert(S_ISCHR(sb.st_mode));
        ck_assert_uint_eq(entries(), 2);
    }
}
END_TEST

START_TEST(test_fifo_in_place)
{
    char fifo[256], buf[64];
    path_in(fifo, sizeof fifo, "pipe");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    tdl_atomic_file af;
    ck_assert_int_eq(tdl_atomic_begin(fifo, &af), TDL_EIO); /* no reader: refused, not waited for */
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "no reader"));
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rfd, 0);
    /* a probe (begin + abort) must not hand the reader an end of file */
    ck_assert_int_eq(tdl_atomic_begin(fifo, &af), TDL_OK);
    tdl_atomic_abort(&af);
    ck_assert_int_eq(tdl_write_file_atomic(fifo, "through", 7), TDL_OK);
    ssize_t n = read(rfd, buf, sizeof buf - 1);
    ck_assert_int_eq((int)n, 7);
    buf[n] = 0;
    ck_assert_str_eq(buf, "through");
    close(rfd);
    struct stat sb;
    ck_assert_int_eq(lstat(fifo, &sb), 0);
    ck_assert(S_ISFIFO(sb.st_mode));
    ck_assert_uint_eq(entries(), 1);
}
END_TEST

START_TEST(test_refused_targets)
{
    tdl_atomic_file af;
    ck_assert_int_eq(tdl_atomic_begin(dir, &af), TDL_EIO);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "not a regular file (a directory)"));
    ck_assert_int_eq(tdl_atomic_begin("", &af), TDL_EINVAL);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "empty output path"));
    ck_assert_uint_eq(entries(), 0);
    struct stat sb;
    ck_assert_int_eq(stat(dir, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
}
END_TEST

START_TEST(test_inputs_not_regular)
{
    char fifo[256];
    unsigned char *buf = NULL;
    size_t len = 0;
    path_in(fifo, sizeof fifo, "in.csv");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    alarm(10); /* the old fopen blocked here forever */
    ck_assert_int_eq(tdl_read_file(fifo, 1000, &buf, &len), TDL_EIO);
    alarm(0);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "not a regular file (a FIFO)"));
    ck_assert_int_eq(tdl_read_file(dir, 1000, &buf, &len), TDL_EIO);
    ck_assert_ptr_nonnull(strstr(tdl_errmsg(), "not a regular file (a directory)"));
    ck_assert_ptr_null(buf);
}
END_TEST

/* A child installs the CLI's handlers, opens two temporaries and gets SIG. */
static void die_of(int sig)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char path[256];
        tdl_atomic_install_signal_cleanup();
        tdl_atomic_file a, b;
        path_in(path, sizeof path, "a.bin");
        if (tdl_atomic_begin(path, &a) != TDL_OK) _exit(3);
        path_in(path, sizeof path, "b.bin");
        if (tdl_atomic_begin(path, &b) != TDL_OK) _exit(3);
        fputs("half written", a.fp);
        fflush(a.fp);
        raise(sig);
        _exit(4); /* not reached */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sig, "signal %d: status %d", sig, status);
    ck_assert_uint_eq(entries(), 0);
}

START_TEST(test_every_terminating_signal)
{
    /* SIGQUIT's default action dumps core: not in this test's directory */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) die_of(sigs[i]);
}
END_TEST

START_TEST(test_file_too_large)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        static char big[8192];
        char path[256];
        struct rlimit lim = {512, 512};
        tdl_atomic_install_signal_cleanup(); /* SIGXFSZ ignored: write fails with EFBIG */
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(5);
        path_in(path, sizeof path, "big.bin");
        memset(big, 'x', sizeof big);
        if (tdl_write_file_atomic(path, big, sizeof big) != TDL_EIO) _exit(6);
        if (!strstr(tdl_errmsg(), "write failed: File too large")) _exit(7);
        tdl_atomic_file af; /* a buffered write that fails only in commit */
        if (tdl_atomic_begin(path, &af) != TDL_OK) _exit(8);
        fwrite(big, 1, 1000, af.fp);
        if (tdl_atomic_commit(&af) != TDL_EIO) _exit(9);
        if (!strstr(tdl_errmsg(), "write failed: File too large")) _exit(10);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    ck_assert_uint_eq(entries(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fileio");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_commit_and_abort);
    tcase_add_test(core, test_signal_removes_temporaries);
    tcase_add_test(core, test_modes);
    tcase_add_test(core, test_links);
    tcase_add_test(core, test_devices_in_place);
    tcase_add_test(core, test_fifo_in_place);
    tcase_add_test(core, test_every_terminating_signal);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_unwritable);
    tcase_add_test(errors, test_refused_targets);
    tcase_add_test(errors, test_inputs_not_regular);
    tcase_add_test(errors, test_file_too_large);
    suite_add_tcase(s, errors);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
