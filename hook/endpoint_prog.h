/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp0's program shared by every container of the host
 * (bpf/xdp_endpoint_shared.bpf.c), pinned with its maps under
 * XH_PIN_BASE/shared-<host netns cookie>-endpoint/. Each container loads
 * its own xdp_endpoint (its XSKMAP, which the keeper fills, and its
 * counters, pinned in xdp0's directory as with a program attached there
 * itself), adds it under its netns cookie, and attaches the shared program
 * to its xdp0 through a link pinned in xdp0's directory.
 */
#ifndef XDPHOOK_ENDPOINT_PROG_H
#define XDPHOOK_ENDPOINT_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "hook.h"

/* The shared program (loaded and pinned if need be) with prog, the
 * container's own xdp_endpoint, under the container's netns cookie. Takes
 * the global lock unless h->lock_fd holds it. Returns a fd of the shared
 * program, for the link, or a negative errno: -EOPNOTSUPP if this kernel
 * cannot run it (Linux before 6.2) or the container's slot (its netns
 * cookie modulo XH_EP_SLOTS) is another live container's: nothing was
 * done, attach prog itself. */
int ep_prog_take(struct hook *h, int prog);

/* Teardown, under the global lock: the container's entries (found by its
 * netns cookie: also those a failed setup left), then the shared program
 * itself if no container uses it any more. Tolerates all of it being gone. */
void ep_prog_drop(const struct xh_state *st);

/* The shared program if no container uses it (gc): 1 if it was (dry_run:
 * would be) unpinned, else 0. Under the global lock. */
int ep_prog_release(uint64_t host_cookie, bool dry_run);

#endif
