/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every part of one invocation shares (setup, teardown, host mode,
 * list and gc): the error line, the state file, the global lock. Below
 * them all, so that none calls another's file for these.
 */
#include "hook.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

int hook_fail(struct hook *h, int err)
{
	char id[96];

	fprintf(stderr, "xdp_hook: %s: %s: %s\n", h->id ? xh_str_escape(h->id, id, sizeof(id)) : "-",
		h->step ? h->step : "hook", xh_strerror(err));
	return 1;
}

int hook_save(struct hook *h)
{
	int err = xh_state_save(&h->st);

	if (!err)
		h->owns_state = true;
	return err;
}

int hook_lock_global(struct hook *h)
{
	int lock = xh_lock();

	if (lock < 0)
		return xh_err(lock, "lock %s: %s", XH_LOCK_FILE, strerror(-lock));
	h->lock_fd = lock;
	return 0;
}

int hook_locked(struct hook *h, int (*fn)(struct hook *h))
{
	int err = hook_lock_global(h);

	if (err)
		return err;
	err = fn(h);
	xh_unlock(&h->lock_fd);
	return err;
}
