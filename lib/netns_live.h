/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which network namespaces are alive. */
#ifndef XDPHOOK_NETNS_LIVE_H
#define XDPHOOK_NETNS_LIVE_H

#include <stddef.h>
#include <stdint.h>

/* Cookies of the network namespaces alive (malloc'ed, *n of them, in no
 * order): each one a bind mount (/run/netns/..., or a mount in any process's
 * mount namespace), a thread or an open nsfs fd holds, entered once (by
 * inode). A namespace that only sockets or kernel objects hold is not seen.
 * -errno with a detail if one could not be examined or we do not see every
 * process (a child pid namespace): then the list is not complete. */
int xh_netns_live_cookies(uint64_t **cookies, size_t *n);

#endif
