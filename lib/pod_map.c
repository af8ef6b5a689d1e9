// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pod4_slots is written through a mapping of the array, field by field
 * in an order that keeps every intermediate state safe for the program
 * reading it (policy.h): a slot's dest before its address, its address
 * cleared before its dest; `more` set only once the hash holds the
 * address, and cleared once no address of the slot is left there.
 */
#include "pod_map.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define SLOTS_LEN (XH_POD4_SLOTS * sizeof(struct xh_pod4_slot))

static struct xh_pod4_slot *map_slots(int fd)
{
	void *p = mmap(NULL, SLOTS_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static uint32_t slot_of(uint32_t addr)
{
	return xh_pod4_slot(ntohl(addr));
}

static int add(struct xh_pod4_slot *e, int hash_fd, uint32_t addr, const struct xh_pod_dest *dest)
{
	struct xh_pod_dest old;

	if (!addr)
		return -EINVAL; /* 0 marks a free slot */
	if (e->addr == addr || !bpf_map_lookup_elem(hash_fd, &addr, &old))
		return -EEXIST;
	if (!e->addr) {
		e->dest = *dest;
		__atomic_store_n(&e->addr, addr, __ATOMIC_RELEASE);
		return 0;
	}
	if (bpf_map_update_elem(hash_fd, &addr, dest, BPF_NOEXIST))
		return -errno;
	__atomic_store_n(&e->more, 1, __ATOMIC_RELEASE);
	return 0;
}

int xh_pod4_add(int slots_fd, int hash_fd, uint32_t addr, const struct xh_pod_dest *dest)
{
	struct xh_pod4_slot *slots = map_slots(slots_fd);
	int err;

	if (!slots)
		return -errno;
	err = add(&slots[slot_of(addr)], hash_fd, addr, dest);
	munmap(slots, SLOTS_LEN);
	return err;
}

/* Does the hash still hold an address of slot s? */
static int hash_has_slot(int hash_fd, uint32_t s)
{
	uint32_t key, *prev = NULL;

	while (!bpf_map_get_next_key(hash_fd, prev, &key)) {
		if (slot_of(key) == s)
			return 1;
		prev = &key;
	}
	return 0;
}

static int del(struct xh_pod4_slot *e, int hash_fd, uint32_t addr, uint32_t ifindex)
{
	struct xh_pod_dest dest;

	if (addr && e->addr == addr) {
		if (e->dest.ifindex != ifindex)
			return 0;
		__atomic_store_n(&e->addr, 0, __ATOMIC_RELEASE);
		memset(&e->dest, 0, sizeof(e->dest));
		return 0;
	}
	if (bpf_map_lookup_elem(hash_fd, &addr, &dest) || dest.ifindex != ifindex)
		return 0;
	if (bpf_map_delete_elem(hash_fd, &addr) && errno != ENOENT)
		return -errno;
	if (!hash_has_slot(hash_fd, slot_of(addr)))
		__atomic_store_n(&e->more, 0, __ATOMIC_RELEASE);
	return 0;
}

int xh_pod4_del(int slots_fd, int hash_fd, uint32_t addr, uint32_t ifindex)
{
	struct xh_pod4_slot *slots = map_slots(slots_fd);
	int err;

	if (!slots)
		return -errno;
	err = del(&slots[slot_of(addr)], hash_fd, addr, ifindex);
	munmap(slots, SLOTS_LEN);
	return err;
}
