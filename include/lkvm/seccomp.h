/* SPDX-License-Identifier: GPL-2.0-only */
/* The seccomp-bpf syscall filter `lkvm run` puts on itself after set-up. */
#ifndef LKVM_SECCOMP_H
#define LKVM_SECCOMP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The kinds of thread lkvm runs once the VM is set up. Each has its own
 * allowlist, stacked on the process filter (the union of them all plus
 * what starting a thread needs), so a thread can make only the calls its
 * kind makes. A new thread function picks the kind whose calls it makes,
 * or adds its calls to a kind's rules in util/seccomp.c.
 */
enum seccomp_thread {
	SECCOMP_THREAD_MAIN, /* once the vCPUs run: waits, --stats, teardown */
	SECCOMP_THREAD_VCPU, /* KVM_RUN and the exits lkvm handles */
	SECCOMP_THREAD_IO, /* queue notifications (eventfds) to devices */
	SECCOMP_THREAD_INPUT, /* host stdin to the guest's console */
	SECCOMP_THREAD_CONSOLE, /* guest console output to stdout */
	SECCOMP_THREAD_DISK, /* disk I/O: worker threads, AIO completions */
	SECCOMP_THREAD_NET, /* a NIC's queues and its backend (tap, passt) */
	/* virtio-9p's server: file system calls inside its shares. Its rules
	 * join the process filter only after seccomp_thread_kind_enable() */
	SECCOMP_THREAD_FS,
	SECCOMP_THREAD_NR
};

/* lkvm's exit status when the filter denies a syscall: 128 + SIGSYS, as
 * for the other signals that stop it. */
#define SECCOMP_EXIT_STATUS (128 + SIGSYS)

/* The environment variable of the test hook: see seccomp_install(). */
#define SECCOMP_SELFTEST_ENV "LKVM_SECCOMP_SELFTEST"

/*
 * Before seccomp_install(): threads of kind will run (SECCOMP_THREAD_FS
 * is off until enabled, so that without a 9p share the process filter
 * still denies opening files for writing).
 */
void seccomp_thread_kind_enable(enum seccomp_thread kind);

/* True when lkvm was built with libseccomp. */
bool seccomp_available(void);

/*
 * Put the process filter on every thread of lkvm (TSYNC) and prepare each
 * thread kind's filter; a syscall outside them raises SIGSYS, whose
 * handler writes "lkvm: seccomp: denied syscall NAME (NR) on thread
 * THREAD: stopping" on stderr, runs log_die_hook (the terminal is put
 * back) and exits with SECCOMP_EXIT_STATUS. Once only, from the main
 * thread, after set-up and before the vCPUs run. With verbose, one line
 * gives the rule counts. Returns the number of rules in the process
 * filter, or a negative errno (-ENOSYS: built without libseccomp).
 *
 * Test hook: with LKVM_SECCOMP_SELFTEST=main (or 1) in the environment
 * the calling thread then makes a syscall no thread may make (socket());
 * with LKVM_SECCOMP_SELFTEST=THREAD (e.g. vcpu0, io, blkio) that thread,
 * once its own filter is on, calls close(-1): the process filter allows
 * close (the main thread's teardown), the thread's own filter does not.
 */
int seccomp_install(bool verbose);

/* seccomp_install() that also allows, on every thread, the syscalls
 * named in the NULL-terminated also (for tests: a sanitizer's runtime
 * makes calls of its own). */
int seccomp_install_also(bool verbose, const char *const *also);

/*
 * At the start of a thread function: names the thread (for the denial
 * message; at most 15 characters kept; and, but for the main thread, its
 * kernel name "lkvm-" name, as ps -T shows it) and puts the filter of its kind on
 * it when the process filter is in place. A thread started before that
 * gets its filter from seccomp_thread_update(). The main thread calls it
 * once it has started every other thread (they would inherit its filter).
 */
void seccomp_thread_start(enum seccomp_thread kind, const char *name);

/*
 * For threads that may have started before seccomp_install(): put this
 * thread's own filter on once the process filter is in place. Cheap (a
 * thread-local test); call it where the thread wakes up for work.
 */
void seccomp_thread_update(void);

/*
 * `lkvm run`'s policy: with on (no --no-seccomp) seccomp_install(), or
 * warn once that lkvm runs without a filter when it was built without
 * libseccomp. Returns 0, or -1 after one error line when the filter
 * cannot be installed (lkvm then stops: it does not run unfiltered
 * unless told to).
 */
int seccomp_run_setup(bool on, bool verbose);

/* The name of syscall nr on this host's architecture, or NULL (after
 * seccomp_install(), for tests). */
const char *seccomp_syscall_name(int nr);

/*
 * For tests: every rule has a reason and names a syscall that x86_64 or
 * riscv64 has (a misspelt one would be skipped silently). Returns the
 * number of rules, or -EINVAL with the bad rule's syscall in bad.
 */
int seccomp_check_rules(char *bad, size_t len);

#endif
