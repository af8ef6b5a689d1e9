/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_hook internals: setup and teardown of one container, list, gc. */
#ifndef XDPHOOK_HOOK_H
#define XDPHOOK_HOOK_H

#include <stdbool.h>

#include "config.h"
#include "oci.h"
#include "state.h"

/* One invocation. Every failure prints exactly one line,
 * `xdp_hook: <id>: <step>: <reason>`, through hook_fail(). */
struct hook {
	const char *id;
	const char *step;          /* what is being done, for the error line */
	struct xh_config cfg;
	struct xh_state st;
	int netns_fd;              /* the container's netns (setup), else -1 */
	int lock_fd;               /* held xh_lock(), or -1 */
	bool owns_state;           /* this invocation wrote the state file */
};

int hook_fail(struct hook *h, int err);

/* Setup as one transaction: on failure everything done so far is undone
 * (through hook_teardown) and the error printed. Returns an exit code. */
int hook_setup(struct hook *h, const struct xh_oci_state *oci);
/* Undo what st records; idempotent, tolerant of anything already gone.
 * Returns 0 or the first error (after trying every step). */
int hook_teardown(struct hook *h);

int hook_list(bool json);
int hook_gc(bool dry_run);


#endif
