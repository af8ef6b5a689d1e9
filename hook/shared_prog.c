/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The programs shared by the containers of a netns (see shared_prog.h). */
#include "shared_prog.h"
#include "attach.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <limits.h>
#include <string.h>
#include <time.h>

/* An fd of the caller's own struct (struct veth_prog, ...). */
static int *fd_at(void *fds, size_t offset)
{
	return (int *)((char *)fds + offset);
}

void shared_prog_close(const struct shared_prog *sp, void *fds)
{
	int *prog = fd_at(fds, sp->prog_offset);

	if (*prog >= 0)
		close(*prog);
	*prog = -1;
	for (size_t i = 0; i < sp->n_maps; i++) {
		int *fd = fd_at(fds, sp->maps[i].offset);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

/* shared_prog_open() of the directory dir. */
static int open_dir(const struct shared_prog *sp, const char *dir, void *fds)
{
	int *prog = fd_at(fds, sp->prog_offset);

	*prog = xh_dir_open(dir, "prog");
	if (*prog < 0) {
		int err = *prog;

		*prog = -1;
		return err;
	}
	for (size_t i = 0; i < sp->n_maps; i++) {
		const struct shared_map *m = &sp->maps[i];
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		int fd = xh_dir_open(dir, m->name);

		*fd_at(fds, m->offset) = fd;
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != m->type ||
		    info.key_size != m->key_size || info.value_size != m->value_size) {
			shared_prog_close(sp, fds);
			return xh_err(-EPROTO, "%s/%s is missing or has another layout (pinned by another "
					       "xdphook build?)", dir, m->name);
		}
	}
	return 0;
}

int shared_prog_open(const struct shared_prog *sp, uint64_t cookie, void *fds)
{
	char dir[PATH_MAX];
	int err = xh_shared_dir(cookie, sp->name, dir, sizeof(dir));

	return err ? err : open_dir(sp, dir, fds);
}

int shared_prog_release(const struct shared_prog *sp, uint64_t cookie, bool dry_run)
{
	char dir[PATH_MAX];
	cleanup_close int prog = -1;

	if (xh_shared_dir(cookie, sp->name, dir, sizeof(dir)))
		return 0;
	prog = xh_dir_open(dir, "prog");
	if (prog < 0 || sp->in_use(dir))
		return 0;
	/* Links of devices whose entries are gone (a torn-down device's, if
	 * its unpinning failed) keep the program itself alive, not its pins. */
	if (!dry_run)
		xh_pin_dir_remove(dir);
	return 1;
}

int shared_prog_get(const struct shared_prog *sp, uint64_t cookie, void *fds)
{
	char dir[PATH_MAX];
	int err = xh_shared_dir(cookie, sp->name, dir, sizeof(dir));

	if (err)
		return err;
	err = open_dir(sp, dir, fds);
	/* Another layout, and nobody uses it: replace it. */
	if (err == -EPROTO && shared_prog_release(sp, cookie, false))
		err = -ENOENT;
	if (err != -ENOENT)
		return err;
	err = sp->load(sp, cookie, dir);
	return err ? err : open_dir(sp, dir, fds);
}

int shared_prog_pin(const struct shared_prog *sp, uint64_t cookie, struct bpf_object *obj, int prog_fd,
		    const struct xh_pin_obj *pins, size_t n_pins, const char *dir)
{
	struct xdphook_meta meta = {
		.netns_cookie = cookie,
		.attach = XDPHOOK_ATTACH_SHARED,
		.attached_ns = xh_now_ns(CLOCK_REALTIME),
		.ifname = "(shared)",
		.owner = "xdp_hook",
	};
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	int err = xh_snprintf(meta.program, sizeof(meta.program), "%s", sp->name);

	if (err < 0)
		return err;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return xh_err(-errno, "program info: %s", strerror(errno));
	meta.prog_id = info.id;
	return xh_pin_shared(obj, prog_fd, &meta, pins, n_pins, dir);
}
