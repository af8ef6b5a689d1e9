/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The NIC program's IPv4 pods: pod4_slots, an array direct-mapped by the
 * address's low bits, and pods4, the hash for addresses whose slot another
 * one holds (include/xdphook/policy.h has the layout and why). Callers
 * serialise writers (the hook's lock); the program reads concurrently.
 */
#ifndef XDPHOOK_POD_MAP_H
#define XDPHOOK_POD_MAP_H

#include <stdint.h>
#include <xdphook/policy.h>

/* Add pod address `addr` (network order, not 0). -EEXIST when the address
 * is a pod already, else 0 or a negative errno. */
int xh_pod4_add(int slots_fd, int hash_fd, uint32_t addr, const struct xh_pod_dest *dest);

/* Remove `addr` if it leads to device `ifindex` (never another's entry).
 * 0 or a negative errno; an address that is not there is no error. */
int xh_pod4_del(int slots_fd, int hash_fd, uint32_t addr, uint32_t ifindex);

#endif
