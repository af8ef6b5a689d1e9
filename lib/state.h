/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the hook records per container in /run/xdphook/<id>/state.json:
 * everything teardown needs to undo setup, written before each step that
 * creates something (so a failed or killed setup is undone by the same
 * teardown), plus the init pid and start time that tell whether the
 * container still lives.
 */
#ifndef XDPHOOK_STATE_H
#define XDPHOOK_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "netlink.h"
#include "tc.h"

#define XH_RUN_DIR "/run/xdphook"
#define XH_LOCK_FILE XH_RUN_DIR "/.lock" /* a dot: no container id starts with one */
#define XH_MAX_TAKEN 16
#define XH_MAX_ROUTES 32
/* reserve entries: the configured ones and the host's own services */
#define XH_MAX_RESERVE (XH_CFG_MAX_RESERVE + 2)

/* An address the CNI had put on a kernel interface in the container netns,
 * taken off it at setup (the sandbox owns it alone). */
struct xh_taken_addr {
	int ifindex;
	struct xh_cidr addr;
};

/* Pod mode: a host route to one of the pod's addresses that someone else
 * had made (CNI ptp routes the pod IP to its own veth), replaced by ours at
 * setup and put back at teardown; dev: its device's name (an index alone
 * may have been reused by then). */
struct xh_host_route {
	struct xh_route r;
	char dev[16];
};

/* Host mode: the policy given to the NIC program (its maps are the one
 * host-mode sandbox's alone) and the tc filter cloning ARP/ND. Ranges are
 * inclusive. */
struct xh_host_state {
	bool publish_all;
	size_t n_publish;
	struct xh_publish_rule publish[XH_CFG_MAX_PUBLISH];
	size_t n_reserve;
	struct xh_port_range reserve[XH_MAX_RESERVE];
	uint16_t sandbox_eph_lo, sandbox_eph_hi; /* the sandbox's ephemeral ports */
	uint16_t host_eph_lo, host_eph_hi;       /* the host's ip_local_port_range */
	struct xh_tc_filter tc;  /* on the NIC; priority 0: none (yet) */
	bool clsact_created;     /* the hook added the NIC's clsact qdisc */
	uint32_t direct_queues;  /* `direct`: the NIC's RX queues, a socket each; 0: off */
};

/* netns mode: the CNI's interface is the endpoint (peer_ifindex/peer_mac
 * in xh_state); on the host only its peer's TX checksum offload changes. */
struct xh_netns_state {
	char iface[16];
	char host_peer[16];     /* the CNI's host-side veth; "" if not found */
	int host_peer_ifindex;
	bool csum_off;          /* the hook turned its TX checksum offload off */
	char path[256];         /* a bind mount of the netns (the CNI's); "" if none */
};

struct xh_state {
	char id[XH_OCI_ID_MAX + 1];
	char status[16];        /* "setting-up", "ready" */
	enum xh_mode_id mode;
	int pid;                /* the container's init */
	uint64_t pid_start;     /* its start time (clock ticks since boot) */
	uint64_t netns_cookie;  /* the container netns */
	uint64_t host_cookie;   /* the netns the hook ran in */

	char nic[16];
	int nic_ifindex;

	char veth[16];          /* host side, xh-<hash> */
	int veth_ifindex;       /* 0 until created */
	uint8_t veth_mac[6];
	int peer_ifindex;       /* xdp0, in the container netns */
	uint8_t peer_mac[6];
	unsigned int mtu;

	size_t n_ips;           /* the sandbox's addresses (host mode: the NIC's) */
	struct xh_cidr ips[XH_CFG_MAX_IPS];
	size_t n_taken;
	struct xh_taken_addr taken[XH_MAX_TAKEN];
	size_t n_routes;        /* pod mode: routes that went with the taken
	                         * addresses; host mode: the NIC's routes */
	struct xh_route routes[XH_MAX_ROUTES];
	size_t n_host_routes;   /* pod mode: host routes taken over */
	struct xh_host_route host_routes[XH_CFG_MAX_IPS];

	size_t n_fastpath;      /* pod mode: the prefixes xdp_veth fast-paths
	                         * for this veth (networks, host bits clear),
	                         * recorded so teardown deletes exactly these */
	struct xh_cidr fastpath[XH_CFG_MAX_FASTPATH];

	bool nic_entries;       /* entries in the NIC program's maps */
	struct xh_host_state host; /* mode == XH_HOST only */
	struct xh_netns_state netns; /* mode == XH_NETNS only */
	int keeper_pid;
	uint64_t keeper_start;
};

/* /run/xdphook/<id> */
int xh_state_dir(const char *id, char *buf, size_t size);
/* Write atomically (temp file + rename), creating the directory. */
int xh_state_save(const struct xh_state *st);
/* -ENOENT when there is none. */
int xh_state_load(const char *id, struct xh_state *st);
/* Remove the state directory and all in it. */
int xh_state_remove(const char *id);
/* Every recorded container (ids sorted); fn returning non-zero stops. */
int xh_state_walk(int (*fn)(const struct xh_state *st, void *ctx), void *ctx);

/* Start time of pid (field 22 of /proc/PID/stat). -ESRCH if gone. */
int xh_proc_start_time(int pid, uint64_t *start);
/* pid runs (a zombie does not) and started at start (0: any time). */
bool xh_proc_running(int pid, uint64_t start);
/* 0 if /proc shows every process of the system (the initial pid
 * namespace), else -EPERM with a detail: then a pid that is not there may
 * still run, and no container may be judged dead by its init. */
int xh_proc_all_visible(void);
/* The recorded init (pid + start time) still runs. */
bool xh_state_alive(const struct xh_state *st);

/* Locking (lock order: a container's lock before the global one; never
 * wait for a container's lock while holding the global one).
 *
 * The global lock, /run/xdphook/.lock: exclusive, over what containers
 * share (claiming an id, a netns, addresses, a NIC's host-mode slot; the
 * NIC programs and the shared xdp_veth with their maps). Released by
 * closing the fd (xh_unlock). */
int xh_lock(void);
void xh_unlock(int *fd);

/* A container's lock: flock on its state directory, held by the
 * invocation working on the container (its setup from the claim on, a
 * teardown, gc). XH_LOCK_CREATE: create the directory if need be (setup's
 * claim); XH_LOCK_NOWAIT: -EWOULDBLOCK instead of waiting. -ENOENT if
 * there is no directory (or it was removed while we waited: torn down).
 * Returns the fd; closing it releases the lock. */
#define XH_LOCK_CREATE 1
#define XH_LOCK_NOWAIT 2
int xh_state_lock(const char *id, int flags);

const char *xh_mac_str(const uint8_t mac[6], char *buf, size_t size);

#endif
