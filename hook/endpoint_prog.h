/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp0's program shared by every container of the host
 * (bpf/xdp_endpoint_shared.bpf.c), pinned with its maps under
 * XH_PIN_BASE/shared-<host netns cookie>-endpoint/. A container takes the
 * slot of its netns cookie there (its counters and its socket's key in the
 * program's maps; the counters pinned in xdp0's directory as "ifstats")
 * and attaches the shared program to its xdp0 through a link pinned in
 * xdp0's directory.
 */
#ifndef XDPHOOK_ENDPOINT_PROG_H
#define XDPHOOK_ENDPOINT_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "hook.h"

/* The shared program (loaded and pinned if need be) with the container's
 * slot taken (under its netns cookie), for xdp0, whose RX queues are
 * 0 .. queues - 1. Takes the global lock unless h->lock_fd holds it.
 * Returns a fd of the shared program, for the link, with *stats_fd one of
 * its ep_stats (to pin as xdp0's "ifstats"), or a negative errno:
 * -EOPNOTSUPP if this kernel cannot run it (Linux before 6.2), xdp0 has
 * more queues than a slot serves, or the container's slot (its netns
 * cookie modulo XH_EP_SLOTS) is another live container's: nothing was
 * done, attach xdp_endpoint itself. */
int ep_prog_take(struct hook *h, uint32_t queues, int *stats_fd);

/* The shared program's XSKMAP, if the container has its slot there: a fd,
 * with *key the entry of xdp0's RX queue `queue` (where the keeper puts
 * socket 0); -ENOENT if it has none (xdp0 runs the container's own
 * program, whose `xsks` is pinned in xdp0's directory). No lock needed:
 * the slot stays the container's until its teardown. */
int ep_prog_xsks(const struct xh_state *st, uint32_t queue, uint32_t *key);

/* Teardown, under the global lock: the container's entries (found by its
 * netns cookie: also those a failed setup left), then the shared program
 * itself if no container uses it any more. Tolerates all of it being gone. */
void ep_prog_drop(const struct xh_state *st);

/* The shared program if no container uses it (gc): 1 if it was (dry_run:
 * would be) unpinned, else 0. Under the global lock. */
int ep_prog_release(uint64_t host_cookie, bool dry_run);

#endif
