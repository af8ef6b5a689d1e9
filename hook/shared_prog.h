/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A program shared by the containers of a netns (xdp_veth, xdp0's
 * endpoint program), pinned with its maps under
 * XH_PIN_BASE/shared-<netns cookie>-<name>/ and opened with a check of
 * each map's layout: pins another build left must not be fed ours.
 *
 * The fds go into the caller's own struct (struct veth_prog, ...), at the
 * offsets the description gives; -1 where nothing is open. Callers hold
 * the global lock.
 */
#ifndef XDPHOOK_SHARED_PROG_H
#define XDPHOOK_SHARED_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_object;
struct xh_pin_obj;

/* A map and the layout its pin must have. */
struct shared_map {
	const char *name;
	size_t offset; /* of its fd in the caller's struct */
	uint32_t type, key_size, value_size;
};

/* What differs between the shared programs. */
struct shared_prog {
	const char *name;   /* of the directory, and the program in its meta */
	size_t prog_offset; /* of the program's fd in the caller's struct */
	const struct shared_map *maps;
	size_t n_maps;
	/* Load the program and publish it as dir (shared_prog_pin). */
	int (*load)(const struct shared_prog *sp, uint64_t cookie, const char *dir);
	/* Does a container still use the program pinned in dir? true if it
	 * cannot tell. */
	bool (*in_use)(const char *dir);
};

/* Open the pinned program of netns cookie into fds: -ENOENT if there is
 * none, -EPROTO if a map is missing or laid out otherwise (nothing left
 * open then). */
int shared_prog_open(const struct shared_prog *sp, uint64_t cookie, void *fds);
/* The same, but load and pin it if there is none, or replace one of
 * another layout if nobody uses it. */
int shared_prog_get(const struct shared_prog *sp, uint64_t cookie, void *fds);
void shared_prog_close(const struct shared_prog *sp, void *fds);
/* Unpin the program of netns cookie if no container uses it (dry_run:
 * only tell). 1 if it did (would), else 0. */
int shared_prog_release(const struct shared_prog *sp, uint64_t cookie, bool dry_run);
/* For sp->load: publish a loaded object as dir, with its meta; pins: more
 * names (xh_pin_shared). */
int shared_prog_pin(const struct shared_prog *sp, uint64_t cookie, struct bpf_object *obj, int prog_fd,
		    const struct xh_pin_obj *pins, size_t n_pins, const char *dir);

#endif
