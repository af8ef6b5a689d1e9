/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The endpoint keeper: one detached process per container that owns the
 * container's AF_XDP endpoint after the hook has exited. It lives in the
 * container's network namespace, listens on the abstract unix socket
 * @xdphook/endpoint there, hands one client at a time a fresh unbound
 * AF_XDP socket with the description of the endpoint, and puts the socket
 * into xdp0's XSKMAP once the client says it is ready (protocol:
 * include/xdp_endpoint.h). It removes the entry when the client goes away
 * and exits on SIGTERM (keeper_stop) or when the container's init exits.
 */
#ifndef XDPHOOK_KEEPER_H
#define XDPHOOK_KEEPER_H

#include <stddef.h>
#include <stdint.h>

struct xh_ep_desc; /* lib/endpoint_proto.h */

struct keeper_args {
	const char *id;                 /* container id, for the log */
	int netns_fd;                   /* the container's netns (the caller keeps it) */
	int init_pid;                   /* the container's init: the keeper exits with it */
	uint64_t init_start;            /* its start time (/proc/PID/stat field 22); 0: unchecked */
	/* The XSKMAP of the endpoint program on xdp0: an fd (duplicated, the
	 * caller keeps its own) and socket 0's key there (xdp0's shared
	 * program: the container's slot's), or -1 to open the pin `xsks` of
	 * (netns_cookie, desc->ifindex), keyed by desc->queue. */
	int xsks_fd;
	uint32_t xsks_key;
	uint64_t netns_cookie;
	/* Host mode with `direct` (desc->n_direct > 0): the netns the NIC is
	 * in (the caller's; the keeper makes the direct sockets there) and
	 * its cookie, under which the NIC program's `direct_xsks` is pinned. */
	uint64_t host_cookie;
	const uint32_t *allowed_uids;   /* SO_PEERCRED uids that may take the endpoint */
	size_t n_uids;
	/* What clients get: ifname, ifindex and queue (the XSKMAP key) of
	 * xdp0, addresses, ..., UMEM and ring sizes. Fill it with
	 * xh_ep_desc_init() and xh_ep_desc_set_umem(umem_size) first. */
	const struct xh_ep_desc *desc;
	const char *log_path;           /* /run/xdphook/<id>/keeper.log (directory created) */
	const char *socket_name;        /* NULL: XDP_ENDPOINT_SOCKET */
	const char *exe;                /* NULL: KEEPER_PROGRAM next to the running binary */
};

/* Start the keeper (KEEPER_PROGRAM, exec'd: a fork of the caller would
 * carry the caller's pages for the container's whole life), fully
 * detached (setsid, fds 0-2 on /dev/null, no other fd of the caller), and
 * return once it listens: its pid and start time
 * (for keeper_stop and liveness checks). A keeper that cannot start (the
 * socket name already bound in that netns, no AF_XDP, init gone, ...)
 * is reported here as a negative errno with an xh_err() detail. */
int keeper_start(const struct keeper_args *a, int *pid_out, uint64_t *start_out);

/* SIGTERM the keeper (pid, start as keeper_start gave them) and wait for
 * it to exit; SIGKILL after KEEPER_STOP_TIMEOUT_MS. 0 if it is gone, also
 * when it was gone before (or the pid now belongs to another process). */
#define KEEPER_STOP_TIMEOUT_MS 5000
int keeper_stop(int pid, uint64_t start);

/* ---- between keeper_start() and the keeper program (keeper_run.c) ---- */

#define KEEPER_PROGRAM "xdphook-keeper"
#define XH_KEEPER_MAX_UIDS 64
/* Its fds (nothing else is open but 0-2, on /dev/null). */
enum {
	KEEPER_FD_FIRST = 3,
	KEEPER_FD_LOG = KEEPER_FD_FIRST, /* O_APPEND */
	KEEPER_FD_MAP,                   /* xdp0's XSKMAP */
	KEEPER_FD_INIT,                  /* pidfd of the container's init */
	KEEPER_FD_NETNS,                 /* the container's netns */
	KEEPER_FD_READY,                 /* the pipe: one struct keeper_ready */
	KEEPER_FD_END,
	KEEPER_NFDS = KEEPER_FD_END - KEEPER_FD_FIRST,
	/* With direct sockets (the description lists some) also: */
	KEEPER_FD_HOSTNS = KEEPER_FD_END, /* the NIC's netns */
	KEEPER_FD_NIC_MAP,                /* the NIC program's direct_xsks */
	KEEPER_FD_DIRECT_END,
	KEEPER_NFDS_DIRECT = KEEPER_FD_DIRECT_END - KEEPER_FD_FIRST,
	/* The direct socket of NIC queue Q sits at fd KEEPER_FD_DIRECT + Q
	 * when it is on a UMEM of its own (the client's memfd), at
	 * KEEPER_FD_DIRECT_SHARED + Q when it shares socket 0's, so that
	 * `list` knows which is which (this kernel may have no XDP sock_diag). */
	KEEPER_FD_DIRECT = 64,
	KEEPER_FD_DIRECT_SHARED = KEEPER_FD_DIRECT + 64, /* XDP_ENDPOINT_MAX_DIRECT */
};
/* Its argv. */
enum {
	KEEPER_ARGV_ID = 1,   /* container id, for the log */
	KEEPER_ARGV_IFNAME,   /* xdp0's name, */
	KEEPER_ARGV_IFINDEX,  /* ifindex */
	KEEPER_ARGV_QUEUE,    /* and queue */
	KEEPER_ARGV_INIT_PID, /* for the log (KEEPER_FD_INIT watches it) */
	KEEPER_ARGV_SOCKET,   /* the abstract socket name */
	KEEPER_ARGV_UIDS,     /* "UID,..." that may take the endpoint */
	KEEPER_ARGV_DESC,     /* the description JSON clients get */
	KEEPER_ARGV_KEY,      /* socket 0's key in the XSKMAP */
	KEEPER_ARGC,
};
/* The keeper's verdict, once: 0 (listening) or a negative errno. */
struct keeper_ready {
	int32_t err;
	char detail[256];
};

#endif
