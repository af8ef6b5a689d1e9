/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One BPF program on a device's clsact ingress, through libbpf's bpf_tc_*
 * API, living alongside whatever other tc programs the device has:
 *   - the clsact qdisc is made only if missing, and the caller is told, so
 *     it can remove it again (only while empty) and nothing else;
 *   - the filter sits at a handle and priority the caller chooses and
 *     records *before* attaching, so an interrupted setup can still be
 *     undone; attaching never replaces a filter already there;
 *   - detaching checks that the filter there still runs our program.
 * Everything acts on the caller's network namespace.
 */
#ifndef XDPHOOK_TC_H
#define XDPHOOK_TC_H

#include <stdbool.h>
#include <stdint.h>

/* Where xdphook puts its filter. The priority is the largest there is:
 * filters run in priority order and a program's verdict ends the walk, so
 * at the end we never keep another filter from seeing a frame. The handle
 * ("XH") only has to be unique within that priority. */
#define XH_TC_HANDLE 0x5848u
#define XH_TC_PRIORITY 0xffffu

struct xh_tc_filter {
	int ifindex;
	uint32_t handle;
	uint32_t priority;      /* 0: no filter */
	uint32_t prog_id;       /* the attached program; 0 until known */
};

/* Add a clsact qdisc to ifindex unless it has one; *created says which. */
int xh_tc_clsact_ensure(int ifindex, bool *created);

/* Remove ifindex's clsact qdisc if no filter is left on it (ingress or
 * egress). 0 also when it stays (not empty, or its filters cannot be
 * listed) or is gone already. */
int xh_tc_clsact_remove_if_empty(int ifindex);

/* Attach prog_fd as a direct-action filter on ingress at f->handle and
 * f->priority; sets f->prog_id. -EEXIST (with a detail) if that place is
 * taken. */
int xh_tc_attach_ingress(struct xh_tc_filter *f, int prog_fd);

/* Detach the filter at f->handle/f->priority if it still runs f->prog_id
 * (f->prog_id 0: if its program is named prog_name). 0 if there is none,
 * or it is somebody else's (left alone). */
int xh_tc_detach_ingress(const struct xh_tc_filter *f, const char *prog_name);

#endif
