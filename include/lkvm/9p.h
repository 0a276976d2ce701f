/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A 9P2000.L file server over one host directory, independent of virtio:
 * it takes one request message and writes one reply, so that tests and
 * fuzz targets feed it raw 9P messages.
 *
 * Confinement by construction: every fid holds an O_PATH descriptor; a
 * walk resolves one component at a time with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) from its parent's
 * descriptor, so the server never follows a symlink (the guest's kernel
 * reads it with Treadlink and resolves it in its own namespace); `..` at
 * the share's root stays there; names with '/' or NUL, "." and ".." are
 * refused wherever a name creates or removes something. Files are opened
 * by re-opening the fid's own inode (/proc/self/fd/N), never by name, so a
 * name swapped for a symlink between walk and open changes nothing. Only
 * regular files and directories are opened; device nodes cannot be
 * created. A walk into a pseudo file system (proc, sysfs, debugfs...)
 * mounted inside the share is refused with EACCES, so sharing `/` does
 * not hand the guest lkvm's own /proc/PID/mem.
 *
 * Ownership: files are created as the user lkvm runs as. When lkvm runs
 * as root, the guest's uid (Tattach's n_uname) and the gid it asks for are
 * given to new files and chown passes through (kvmtool-style); otherwise
 * a chown to another user fails with EPERM as it would on the host.
 *
 * Limits: msize at most P9_MSIZE_MAX; at most max_fids fids (a walk or
 * attach beyond it fails with ENFILE); xattr values at most 64 KiB.
 *
 * Threads: a server is used by one thread at a time.
 */
#ifndef LKVM_9P_H
#define LKVM_9P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* The largest msize the server accepts (Linux asks 512 KiB by default). */
#define P9_MSIZE_MAX (512u * 1024 + 4096)
/* The smallest msize it accepts: every reply but Rread/Rreaddir fits. */
#define P9_MSIZE_MIN 4096u
#define P9_MAX_FIDS_DEFAULT 16384u
/* The reply is written from here on in the device-writable buffers. */
#define P9_HDR_SIZE 7u

struct p9_server;

struct p9_options {
	bool ro; /* refuse every modifying request with EROFS */
	unsigned int max_fids; /* 0: P9_MAX_FIDS_DEFAULT */
};

/*
 * A server for directory dir. Returns 0 with it in *out, or -errno with
 * one line in err: dir cannot be opened or is not a directory, /proc is
 * not mounted (files are re-opened through /proc/self/fd).
 */
int p9_server_create(const char *dir, const struct p9_options *o,
		     struct p9_server **out, char *err, size_t errlen);
/* Close every fid and free s. NULL is ignored. */
void p9_server_destroy(struct p9_server *s);
/* Forget every fid (the device was reset). */
void p9_server_reset(struct p9_server *s);
/* Fids in use, for tests. */
unsigned int p9_server_nr_fids(const struct p9_server *s);

/* What the server was asked (--stats): counts since it was created, the
 * data bytes Rread/Twrite moved, Rlerror replies. Any thread may read. */
struct p9_stats {
	uint64_t requests, errors;
	uint64_t reads, read_bytes, writes, write_bytes;
	uint64_t readdirs, walks, getattrs;
};
void p9_server_get_stats(const struct p9_server *s, struct p9_stats *st);

/*
 * Serve one request. The message is the first size[4] bytes of the
 * device-readable buffers req[0..nreq); the reply goes into the
 * device-writable rep[0..nrep). Rread data is read straight into rep and
 * Twrite data written straight from req. Returns the reply's length, or
 * -EINVAL when the chain cannot carry a message at all (fewer than 7
 * bytes either way, or a size field the buffers do not hold): the device
 * then treats the chain as malformed. Every other problem is an Rlerror.
 */
long p9_serve(struct p9_server *s, const struct iovec *req, unsigned int nreq,
	      const struct iovec *rep, unsigned int nrep);

/* Serve one message in a flat buffer (tests, fuzzing): reply into rep of
 * cap bytes. As p9_serve(). */
long p9_serve_buf(struct p9_server *s, const void *req, size_t len, void *rep,
		  size_t cap);

#endif
