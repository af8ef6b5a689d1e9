/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_hook internals: setup and teardown of one container, list, gc. */
#ifndef XDPHOOK_HOOK_H
#define XDPHOOK_HOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "oci.h"
#include "state.h"

struct veth_prog;

/* One invocation. Every failure prints exactly one line,
 * `xdp_hook: <id>: <step>: <reason>`, through hook_fail(). */
struct hook {
	const char *id;
	const char *step;          /* what is being done, for the error line */
	struct xh_config cfg;
	struct xh_state st;
	int netns_fd;              /* the container's netns (setup), else -1 */
	int lock_fd;               /* held xh_lock() (the global lock), or -1 */
	int ctr_lock;              /* held xh_state_lock() of st.id, or -1 */
	bool owns_state;           /* this invocation wrote the state file */
	bool report;               /* teardown: one stderr line per anomaly found */
	bool reap;                 /* teardown: leave the veth's deletion to a reaper */
	uint8_t nic_mac[6];        /* setup: the NIC's MAC (host mode: xdp0's) */
	struct veth_prog *vp;      /* setup: the shared xdp_veth being taken */
	/* netns mode (hook/netns_mode.c), setup: the gateways whose MACs are
	 * known, for the endpoint's description. */
	size_t n_gw_macs;
	struct hook_gw_mac {
		struct xh_ip ip;
		uint8_t mac[6];
	} gw_macs[4];
};
#define HOOK_INIT { .netns_fd = -1, .lock_fd = -1, .ctr_lock = -1 }

/* common.c, below every other file here: */
int hook_fail(struct hook *h, int err);
/* Write the state file (this invocation owns it from then on). */
int hook_save(struct hook *h);
/* Take the global lock into h->lock_fd. */
int hook_lock_global(struct hook *h);
/* Run fn under the global lock (h->lock_fd while it runs), released on
 * every path. */
int hook_locked(struct hook *h, int (*fn)(struct hook *h));

/* Setup as one transaction: on failure everything done so far is undone
 * (through hook_teardown) and the error printed. Returns an exit code. */
int hook_setup(struct hook *h, const struct xh_oci_state *oci);
/* Undo what st records; idempotent, tolerant of anything already gone.
 * Takes the container's lock unless h->ctr_lock holds it already (then
 * reloads the state: what the caller loaded may be older), the global one
 * around what is shared; called without the global lock. Returns 0 or the
 * first error (after trying every step). With h->reap (poststop), it
 * returns once nothing of the container carries traffic: the veth, taken
 * out of every route and map, is deleted by a detached reaper (its wait
 * for the kernel's RCU barrier is no caller's business); gc deletes it if
 * the reaper dies first. */
int hook_teardown(struct hook *h);
/* Delete the host-side veth ifindex if it still has that name (an index
 * may be reused); 0 if it is gone. */
int hook_veth_delete(int ifindex, const char *name);

/* setup.c: refuse addresses another container holds. */
int hook_check_ips_free(struct hook *h);
/* xh_rtnl_route_list() callback: append the route to ctx's (an xh_state)
 * routes. */
struct xh_route;
int hook_record_route(const struct xh_route *r, void *ctx);

/* host.c: the host-mode steps of the setup transaction. */
struct nl_sock;
struct bpf_object;
/* Before the claim, reading only: the NIC's addresses and routes;
 * published, reserved and ephemeral ports. */
int host_prepare(struct hook *h, struct nl_sock *host);
/* In the claim (global lock held): one host-mode sandbox per NIC. */
int host_check_slot(struct hook *h);
/* The container's entries in xdp_veth's publish_rev. */
int host_fill_veth_maps(struct hook *h, int publish_rev_fd);
/* The NIC program's host-mode maps; host_mode (which turns it on) last. */
int host_add_nic_policy(struct hook *h);
/* tc_clone on the NIC's clsact ingress. */
int host_attach_clone(struct hook *h);

/* Setup's last step (hook/endpoint.c): describe the endpoint and start
 * the keeper; its pid and start time go into h->st (the caller saves). */
struct xh_ep_desc;
int hook_endpoint_describe(const struct hook *h, struct xh_ep_desc *d);
int hook_endpoint_start(struct hook *h);

/* veth_prog.c: the xdp_veth program shared by every container of the
 * hook's netns (see there); callers hold xh_lock(). */
struct veth_prog {
	int prog, dev, ips, fastpath, publish_rev;
};
#define VETH_PROG_INIT { -1, -1, -1, -1, -1 }

/* Open the pinned program of netns cookie, or load and pin it. */
int veth_prog_get(uint64_t cookie, struct veth_prog *vp);
/* Open it if it exists: -ENOENT if not. */
int veth_prog_open(uint64_t cookie, struct veth_prog *vp);
void veth_prog_close(struct veth_prog *vp);
/* Add the container's entries (veth_dev last), keyed by its veth. */
int veth_prog_fill(struct hook *h, const struct veth_prog *vp);
/* Delete the entries of st's veth (veth_dev first); missing ones are fine. */
void veth_prog_forget(const struct xh_state *st, const struct veth_prog *vp);
/* Unpin the program of netns cookie if no device has entries any more
 * (dry_run: only tell). 1 if it did (would), else 0. */
int veth_prog_release(uint64_t cookie, bool dry_run);

/* netns_mode.c: mode=netns, the sandbox takes the CNI's own interface in
 * the container netns; in the host netns only the TX checksum offload of
 * that interface's peer changes. */
/* Before the claim, reading only: the interface, its addresses, routes
 * and gateways; the refusals. bundle: the OCI bundle (its config.json
 * names the netns the CNI made), or NULL. */
int netns_mode_prepare(struct hook *h, struct nl_sock *host, struct nl_sock *ns, const char *bundle);
/* After the claim: the host peer's offload off, the addresses taken off
 * the kernel, the endpoint program attached to the interface. */
int netns_mode_apply(struct hook *h, struct nl_sock *ns);
/* Teardown: the addresses and routes back while the netns lives (ns_fd,
 * or the bind mount recorded), the host peer's offload as it was. */
int netns_mode_teardown(struct hook *h, int ns_fd);

int hook_list(bool json);
int hook_gc(bool dry_run);
/* After a setup or teardown of self_id: tear down what other containers
 * of this netns left (init gone; skipping any whose lock is held), one
 * stderr line each; never fails. */
void hook_gc_side(const char *self_id);


#endif
