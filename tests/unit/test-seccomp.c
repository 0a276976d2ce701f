// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for util/seccomp.c: each case runs in a forked child that
 * installs the filter, since a filter never comes off. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lkvm/log.h"
#include "lkvm/seccomp.h"
#include "lkvm/term.h"
#include "unit.h"

#ifdef HAVE_SECCOMP
#include <seccomp.h>

/* exit_group itself, and not noreturn: before a noreturn call or in
 * _exit, AddressSanitizer makes calls (sigaltstack) the filter denies */
static void child_exit(int status)
{
	syscall(SYS_exit_group, status);
}

struct child {
	int status;
	char out[4096];
};

/* Run fn in a child with stderr to a pipe; its output and wait status. */
static bool run_child(void (*fn)(void), struct child *c)
{
	size_t n = 0;
	ssize_t r;
	int p[2];
	pid_t pid;

	memset(c, 0, sizeof(*c));
	if (pipe(p))
		return false;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return false;
	if (!pid) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		fn();
		child_exit(0); /* the filter did not stop it */
	}
	close(p[1]);
	while (n < sizeof(c->out) - 1 &&
	       (r = read(p[0], c->out + n, sizeof(c->out) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	close(p[0]);
	return waitpid(pid, &c->status, 0) == pid;
}

static void say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0)
		child_exit(3);
}

/* What the sanitizers' runtime calls on its own: a new thread sets up
 * its signal stack, and so does every noreturn call. Not lkvm's needs. */
static const char *const sanitizer_calls[] = { "sigaltstack", NULL };

static void install(void)
{
	if (seccomp_install_also(false, sanitizer_calls) <= 0)
		child_exit(2);
}

/* The denial line for syscall name on thread. */
static void denial(char *buf, size_t len, const char *name, const char *thread)
{
	snprintf(
		buf, len,
		"lkvm: seccomp: denied syscall %s (%d) on thread %s: stopping\n",
		name, seccomp_syscall_resolve_name(name), thread);
}

static bool died_of(const struct child *c, const char *name, const char *thread)
{
	char want[256];

	denial(want, sizeof(want), name, thread);
	if (CHECK(WIFEXITED(c->status)) &&
	    CHECK_EQ(WEXITSTATUS(c->status), SECCOMP_EXIT_STATUS) &&
	    CHECK(strstr(c->out, want) != NULL))
		return true;
	fprintf(stderr, "    child's stderr: %s\n", c->out);
	return false;
}

/* The child exited with status 0; its output shown when it did not. */
static bool exited_ok(const struct child *c)
{
	if (CHECK(WIFEXITED(c->status)) && CHECK_EQ(WEXITSTATUS(c->status), 0))
		return true;
	fprintf(stderr, "    child's stderr: %s\n", c->out);
	return false;
}

static void child_socket(void)
{
	install();
	say("getpid ");
	if (getpid() > 0)
		say("allowed\n");
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	say("socket allowed\n");
}

static void test_denied_syscall_kills(void)
{
	struct child c;

	REQUIRE(run_child(child_socket, &c));
	died_of(&c, "socket", "main");
	CHECK(strstr(c.out, "getpid allowed\n") != NULL);
	CHECK(!strstr(c.out, "socket allowed"));
}

/* close is in the process filter (the main thread's teardown) and out of
 * a vCPU thread's own; a read-only open fails there with EACCES (glibc's
 * malloc probes a /proc file once, on any thread). */
static void child_vcpu_close(void)
{
	int fd;

	install();
	fd = open("/", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !close(fd))
		say("process: open and close allowed\n");
	seccomp_thread_start(SECCOMP_THREAD_VCPU, "vcpu1");
	say("vcpu: write allowed\n");
	fd = open("/", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == EACCES)
		say("vcpu: open failed with EACCES\n");
	syscall(SYS_close, -1);
	say("vcpu: close allowed\n");
}

/* A thread's kernel name: "lkvm-" and its name, cut at 15 characters;
 * the main thread keeps the process's. */
static void child_comm(void)
{
	char before[16] = "", n[16] = "";

	prctl(PR_GET_NAME, before);
	seccomp_thread_start(SECCOMP_THREAD_MAIN, "main");
	prctl(PR_GET_NAME, n);
	if (!strcmp(n, before))
		say("main: unchanged\n");
	seccomp_thread_start(SECCOMP_THREAD_IO, "io");
	prctl(PR_GET_NAME, n);
	say("comm ");
	say(n);
	say("\n");
	seccomp_thread_start(SECCOMP_THREAD_NET, "net0-and-more-words");
	prctl(PR_GET_NAME, n);
	say("comm ");
	say(n);
	say("\n");
}

static void test_thread_comm(void)
{
	struct child c;

	REQUIRE(run_child(child_comm, &c));
	CHECK_EQ(c.status, 0);
	CHECK(strstr(c.out, "main: unchanged\n") != NULL);
	CHECK(strstr(c.out, "comm lkvm-io\n") != NULL);
	CHECK(strstr(c.out, "comm lkvm-net0-and-m\n") != NULL);
}

static void test_thread_filter_stacks(void)
{
	struct child c;

	REQUIRE(run_child(child_vcpu_close, &c));
	died_of(&c, "close", "vcpu1");
	CHECK(strstr(c.out, "process: open and close allowed\n") != NULL);
	CHECK(strstr(c.out, "vcpu: write allowed\n") != NULL);
	CHECK(strstr(c.out, "vcpu: open failed with EACCES\n") != NULL);
	CHECK(!strstr(c.out, "vcpu: close allowed"));
}

static void child_open_write(void)
{
	install();
	open("/dev/null", O_WRONLY | O_CLOEXEC);
	say("open for writing allowed\n");
}

/* The process filter's SIGSYS wins over a thread filter's EACCES. */
static void child_disk_open_write(void)
{
	install();
	seccomp_thread_start(SECCOMP_THREAD_DISK, "blkio");
	open("/dev/null", O_WRONLY | O_CLOEXEC);
	say("open for writing allowed\n");
}

static void child_mmap_exec(void)
{
	void *p;

	install();
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		say("mmap rw allowed\n");
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	say("mprotect exec allowed\n");
}

static void child_fork(void)
{
	install();
	if (!fork())
		_exit(0);
	say("fork allowed\n");
}

static void test_arguments_checked(void)
{
	struct child c;

	REQUIRE(run_child(child_open_write, &c));
	died_of(&c, "openat", "main");
	CHECK(!strstr(c.out, "allowed"));

	REQUIRE(run_child(child_disk_open_write, &c));
	died_of(&c, "openat", "blkio");
	CHECK(!strstr(c.out, "allowed"));

	REQUIRE(run_child(child_mmap_exec, &c));
	died_of(&c, "mprotect", "main");
	CHECK(strstr(c.out, "mmap rw allowed\n") != NULL);
	CHECK(!strstr(c.out, "exec allowed"));

	/* fork is clone without CLONE_THREAD */
	REQUIRE(run_child(child_fork, &c));
	died_of(&c, "clone", "main");
	CHECK(!strstr(c.out, "fork allowed"));
}

static void *thread_fn(void *arg)
{
	(void)arg;
	say("thread ran\n");
	return NULL;
}

/* pthread_create under the process filter: clone3 fails with ENOSYS,
 * glibc falls back to clone with CLONE_THREAD. */
static void child_thread(void)
{
	pthread_t t;

	install();
	if (pthread_create(&t, NULL, thread_fn, NULL) || pthread_join(t, NULL))
		child_exit(4);
	say("joined\n");
	child_exit(0);
}

static void test_threads_start(void)
{
	struct child c;

	REQUIRE(run_child(child_thread, &c));
	exited_ok(&c);
	CHECK(strstr(c.out, "thread ran\njoined\n") != NULL);
}

/* On a terminal, the handler puts its mode back (tcsetattr: TCSETS, then
 * TCGETS) from any thread, and still exits rather than dying of SIGSYS. */
static void child_tty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), s = -1;

	if (m < 0 || grantpt(m) || unlockpt(m) ||
	    (s = open(ptsname(m), O_RDWR | O_NOCTTY)) < 0) {
		say("no pty\n");
		child_exit(0);
	}
	if (!term_raw_enable(s) || !log_die_hook)
		child_exit(5);
	install();
	seccomp_thread_start(SECCOMP_THREAD_DISK, "blkio");
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static void test_terminal_restored(void)
{
	struct child c;

	REQUIRE(run_child(child_tty, &c));
	if (strstr(c.out, "no pty\n"))
		return; /* nothing to test here */
	died_of(&c, "socket", "blkio");
}

static void child_selftest_main(void)
{
	setenv(SECCOMP_SELFTEST_ENV, "1", 1);
	install();
	say("survived\n");
}

static void child_selftest_thread(void)
{
	setenv(SECCOMP_SELFTEST_ENV, "io", 1);
	install();
	say("main survived\n");
	seccomp_thread_start(SECCOMP_THREAD_IO, "io");
	say("io survived\n");
}

static void test_selftest_hook(void)
{
	struct child c;

	REQUIRE(run_child(child_selftest_main, &c));
	died_of(&c, "socket", "main");
	CHECK(!strstr(c.out, "survived"));

	REQUIRE(run_child(child_selftest_thread, &c));
	died_of(&c, "close", "io");
	CHECK(strstr(c.out, "main survived\n") != NULL);
	CHECK(!strstr(c.out, "io survived"));
}

/* --no-seccomp: nothing is installed, a line says so with --debug. */
static void child_off(void)
{
	int fd;

	if (seccomp_run_setup(false, true))
		child_exit(2);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0)
		say("socket allowed\n");
	child_exit(0);
}

static void test_off(void)
{
	struct child c;

	REQUIRE(run_child(child_off, &c));
	exited_ok(&c);
	CHECK(strstr(c.out, "lkvm: seccomp: off (--no-seccomp)\n") != NULL);
	CHECK(strstr(c.out, "socket allowed\n") != NULL);
}

/* The verbose line that e2e looks for. */
static void child_verbose(void)
{
	if (seccomp_run_setup(true, true))
		child_exit(2);
	child_exit(0);
}

static void test_verbose_line(void)
{
	struct child c;

	REQUIRE(run_child(child_verbose, &c));
	exited_ok(&c);
	CHECK(strstr(c.out, "lkvm: seccomp: filter installed (") != NULL);
	CHECK(strstr(c.out, " rules); per thread: main ") != NULL);
}

static void test_rules_resolve(void)
{
	char bad[64] = "";
	int n = seccomp_check_rules(bad, sizeof(bad));

	if (!CHECK(n > 0))
		fprintf(stderr, "    bad rule: %s\n", bad);
}

#define SECCOMP_TESTS                                                        \
	UNIT_TEST(test_denied_syscall_kills),                                \
		UNIT_TEST(test_thread_filter_stacks),                        \
		UNIT_TEST(test_arguments_checked),                           \
		UNIT_TEST(test_threads_start),                               \
		UNIT_TEST(test_terminal_restored),                           \
		UNIT_TEST(test_selftest_hook), UNIT_TEST(test_off),          \
		UNIT_TEST(test_verbose_line), UNIT_TEST(test_rules_resolve), \
		UNIT_TEST(test_thread_comm)

#else /* !HAVE_SECCOMP */

static void test_unavailable(void)
{
	char bad[64];

	CHECK(!seccomp_available());
	CHECK_EQ(seccomp_install(false), -ENOSYS);
	CHECK_EQ(seccomp_check_rules(bad, sizeof(bad)), -ENOSYS);
	/* no filter: thread calls do nothing */
	seccomp_thread_start(SECCOMP_THREAD_VCPU, "vcpu0");
	seccomp_thread_update();
}

#define SECCOMP_TESTS UNIT_TEST(test_unavailable)

#endif

UNIT_SUITE(seccomp, SECCOMP_TESTS);
