// SPDX-License-Identifier: GPL-2.0-only
/*
 * `lkvm sandbox [run options] -- COMMAND [ARGS]`: a throwaway guest whose
 * root is the host's / shared read-only over 9p, with tmpfs on /tmp, /run
 * and /var/tmp, the current directory shared read-write at the same path,
 * running COMMAND there; lkvm exits with COMMAND's exit status.
 *
 * How: a private directory (mkdtemp under $TMPDIR or /tmp) holds the
 * guest's init, a shell script that lkvm writes with the command quoted in
 * it; the guest's kernel runs it from the shared root (init=). The
 * directory is also shared read-write (tag lkvm_sandbox) for the command's
 * status, which the script writes before it powers the guest off
 * (sysrq o, else poweroff -f). The VM runs in a child process (under its
 * seccomp filter); this one removes the directory at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lkvm/builtin.h"
#include "lkvm/log.h"
#include "lkvm/options.h"
#include "lkvm/vm.h"

#define SANDBOX_TAG "lkvm_sandbox"
#define SANDBOX_CWD_TAG "lkvm_cwd"
/* the private directory's path, with room for its file names */
#define SANDBOX_DIR_MAX 512

/* s in single quotes for sh, ' written as '\'' */
static void put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static const char sandbox_head[] =
	"#!/bin/sh\n"
	"# lkvm sandbox's init: mounts, the command, its status, power off\n"
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
	"HOME=/root\n"
	"export PATH HOME\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sysfs /sys\n"
	"mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
	"mount -t devpts devpts /dev/pts 2>/dev/null\n"
	"for d in /tmp /run /var/tmp; do\n"
	"\t[ -d $d ] && mount -t tmpfs tmpfs $d\n"
	"done\n";

/* Mount share tag at path (made on a tmpfs when the root lacks it). */
static void put_mount(FILE *f, const char *tag, const char *path)
{
	fputs("mkdir -p ", f);
	put_quoted(f, path);
	fprintf(f, " 2>/dev/null\nmount -t 9p -o %s %s ", VM_9P_MOUNT_OPTS,
		tag);
	put_quoted(f, path);
	fputc('\n', f);
}

static int write_init(const char *dir, const char *cwd, int argc,
		      const char **argv)
{
	char path[SANDBOX_DIR_MAX + 16];
	FILE *f;
	int i, fd;

	snprintf(path, sizeof(path), "%s/init", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		pr_err("sandbox: cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fputs(sandbox_head, f);
	put_mount(f, SANDBOX_TAG, dir);
	if (cwd) {
		put_mount(f, SANDBOX_CWD_TAG, cwd);
		fputs("cd ", f);
		put_quoted(f, cwd);
		fputc('\n', f);
	}
	for (i = 0; i < argc; i++) {
		put_quoted(f, argv[i]);
		fputc(i + 1 < argc ? ' ' : '\n', f);
	}
	fputs("echo $? >", f);
	put_quoted(f, dir);
	fputs("/status\n"
	      "cd /\n"
	      "sync\n"
	      "echo o >/proc/sysrq-trigger 2>/dev/null || poweroff -f\n"
	      "while :; do sleep 1; done\n",
	      f);
	if (fclose(f)) {
		pr_err("sandbox: cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* COMMAND's status from the guest, or -1. */
static int read_status(const char *dir)
{
	char path[SANDBOX_DIR_MAX + 16];
	FILE *f;
	int st = -1;

	snprintf(path, sizeof(path), "%s/status", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &st) != 1 || st < 0 || st > 255)
		st = -1;
	fclose(f);
	return st;
}

static void remove_dir(const char *dir)
{
	char path[SANDBOX_DIR_MAX + 16];

	snprintf(path, sizeof(path), "%s/init", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/status", dir);
	unlink(path);
	rmdir(dir);
}

/* Add a share of path with tag to cfg. */
static int add_share(struct vm_config *cfg, const char *path, const char *tag,
		     bool ro)
{
	struct p9_spec *s;

	if (cfg->nr_shares >= VM_MAX_9P) {
		pr_err("sandbox: at most %d 9p shares with the sandbox's own",
		       VM_MAX_9P - 3);
		return -1;
	}
	s = &cfg->shares[cfg->nr_shares++];
	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
	s->ro = ro;
	return 0;
}

static int sandbox_config(struct vm_config *cfg, const char *dir,
			  const char *cwd, char *params, size_t len)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_shares; i++) {
		if (!strcmp(cfg->shares[i].tag, VM_9P_ROOT_TAG) ||
		    !strcmp(cfg->shares[i].tag, SANDBOX_TAG) ||
		    !strcmp(cfg->shares[i].tag, SANDBOX_CWD_TAG)) {
			pr_err("sandbox: the 9p tag %s is the sandbox's own",
			       cfg->shares[i].tag);
			return -1;
		}
	}
	if (add_share(cfg, "/", VM_9P_ROOT_TAG, true) ||
	    add_share(cfg, dir, SANDBOX_TAG, false) ||
	    (cwd && add_share(cfg, cwd, SANDBOX_CWD_TAG, false)))
		return -1;
	/* root= of our own, so that -d disks stay plain disks */
	if ((size_t)snprintf(params, len,
			     "root=" VM_9P_ROOT_TAG
			     " rootfstype=9p rootflags=" VM_9P_MOUNT_OPTS_LOOSE
			     " ro init=%s/init quiet%s%s",
			     dir, cfg->params ? " " : "",
			     cfg->params ? cfg->params : "") >= len) {
		pr_err("sandbox: the kernel command line is too long");
		return -1;
	}
	cfg->params = params;
	return 0;
}

static pid_t child_pid;

/* A signal to lkvm sandbox goes to the VM's process, which stops. */
static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/*
 * The VM runs in a child process: its seccomp filter (no unlink, no
 * rmdir) stays there, and this process removes the private directory
 * once it is done. Returns the child's exit status (128 + N for signal N).
 */
static int run_child(const struct vm_config *cfg)
{
	struct sigaction sa = { .sa_handler = forward };
	int ws;

	fflush(NULL);
	child_pid = fork();
	if (child_pid < 0) {
		pr_err("sandbox: cannot fork: %s", strerror(errno));
		return LKVM_EXIT_ERROR;
	}
	if (!child_pid)
		_exit(vm_run(cfg));
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while (waitpid(child_pid, &ws, 0) < 0)
		if (errno != EINTR)
			return LKVM_EXIT_ERROR;
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return WEXITSTATUS(ws);
}

int cmd_sandbox(int argc, const char **argv)
{
	static struct vm_config cfg;
	char dir[SANDBOX_DIR_MAX], cwdbuf[PATH_MAX], params[VM_BOOTARGS_MAX];
	const char *tmp = getenv("TMPDIR"), *cwd;
	struct timespec t0;
	int i, ret, st;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			break;
	if (i < argc && strcmp(argv[i], "--")) {
		printf("usage: lkvm sandbox [run options] -- COMMAND [ARGS]\n\n"
		       "Boot a throwaway guest whose root is this host's / (read-only, over\n"
		       "9p), with tmpfs on /tmp, /run and /var/tmp and the current directory\n"
		       "shared read-write at its own path; run COMMAND there and exit with its\n"
		       "status. The run options are `lkvm run`'s (-k IMAGE is needed).\n");
		return 0;
	}
	if (i >= argc || i + 1 >= argc) {
		pr_err("sandbox: no command (lkvm sandbox [run options] -- COMMAND [ARGS])");
		return LKVM_EXIT_ERROR;
	}
	ret = run_parse_args(i, argv, &cfg);
	if (ret == OPTIONS_HELP)
		return 0;
	if (ret)
		return LKVM_EXIT_ERROR;
	cfg.t_start = t0;
	cwd = getcwd(cwdbuf, sizeof(cwdbuf));
	if (cwd && !strcmp(cwd, "/"))
		cwd = NULL; /* already there, read-only */
	if ((size_t)snprintf(dir, sizeof(dir), "%s/lkvm-sandbox-XXXXXX",
			     tmp && *tmp ? tmp : "/tmp") >= sizeof(dir)) {
		pr_err("sandbox: $TMPDIR is longer than %d bytes",
		       SANDBOX_DIR_MAX - 32);
		return LKVM_EXIT_ERROR;
	}
	if (!mkdtemp(dir)) {
		pr_err("sandbox: cannot create %s: %s", dir, strerror(errno));
		return LKVM_EXIT_ERROR;
	}
	if (sandbox_config(&cfg, dir, cwd, params, sizeof(params)) ||
	    write_init(dir, cwd, argc - i - 1, argv + i + 1)) {
		remove_dir(dir);
		return LKVM_EXIT_ERROR;
	}
	ret = run_child(&cfg);
	st = read_status(dir);
	remove_dir(dir);
	if (st >= 0)
		return st;
	pr_err("sandbox: the guest did not report the command's status (lkvm's exit status %d)",
	       ret);
	return ret ? ret : LKVM_EXIT_ERROR;
}
