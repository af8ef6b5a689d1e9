/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Working in another network namespace without leaving ours for long. */
#ifndef XDPHOOK_NETNS_H
#define XDPHOOK_NETNS_H

#include <stdint.h>

/* fd of /proc/<pid>/ns/net; -ESRCH with a detail if the process is gone. */
int xh_netns_open_pid(int pid);
/* Run fn(ctx) with the calling thread in netns_fd's namespace, then return
 * to the original one (aborts if that is impossible: nothing after it
 * would be safe). Returns fn's result. */
int xh_netns_run(int netns_fd, int (*fn)(void *ctx), void *ctx);
/* Cookie of the namespace netns_fd refers to. */
int xh_netns_cookie_of(int netns_fd, uint64_t *cookie);

#endif
