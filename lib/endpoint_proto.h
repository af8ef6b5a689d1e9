/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The endpoint protocol (include/xdp_endpoint.h documents it): record
 * framing, the JSON description and the exec wrapper's environment JSON,
 * fd passing. Shared by the keeper (hook/keeper.c) and the client library
 * (endpoint/libxdp_endpoint.c).
 *
 * This module is linked into libxdp_endpoint as well, which carries none
 * of libxdphook's other modules: it depends on libc and jansson only, and
 * keeps its own error detail (xh_ep_err / xh_ep_strerror, same convention
 * as util.h's xh_err: negative errno plus a thread-local detail).
 */
#ifndef XDPHOOK_ENDPOINT_PROTO_H
#define XDPHOOK_ENDPOINT_PROTO_H

#include <linux/if_xdp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xdp_endpoint.h"

/* Scope-bound cleanup without util.c (see above). */
static inline void xh_ep_freep(void *p)
{
	free(*(void **)p);
}

static inline void xh_ep_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define ep_cleanup_free __attribute__((cleanup(xh_ep_freep)))
#define ep_cleanup_close __attribute__((cleanup(xh_ep_closep)))
#define ep_steal_fd(fdp) ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

#define XH_EP_NRINGS 4 /* indexed by enum xdp_endpoint_ring */
#define XH_EP_FRAME_SIZE 2048u
#define XH_EP_UMEM_DEFAULT (2u << 20)

/* Record a detail for err (negative errno) and return err. */
int xh_ep_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The detail recorded for err, else strerror(-err). Thread-local. */
const char *xh_ep_strerror(int err);

/* A direct socket on a NIC RX queue (host mode with `direct`): in the
 * DESC (ring sizes 0), in BOUND and in the exec wrapper's JSON. */
#define XH_EP_DIRECT_RINGS 3 /* fill, completion, rx: no TX ring */
struct xh_ep_direct {
	char ifname[16];
	int ifindex;
	uint32_t queue;
	bool zerocopy;
	uint32_t ring[XH_EP_DIRECT_RINGS]; /* BOUND: the sizes the keeper set */
	/* BOUND: the UMEM it is on: its own registration of the client's
	 * memfd ("umem": "own") or socket 0's ("xdp0", XDP_SHARED_UMEM) */
	bool own_umem;
};

/* The description the keeper sends (DESC) and the client decodes. */
struct xh_ep_desc {
	char ifname[16];
	int ifindex;
	uint32_t queue;
	uint8_t mac[6];
	uint32_t mtu;
	size_t n_addrs;
	struct xdp_endpoint_addr addrs[XDP_ENDPOINT_MAX_ADDRS];
	size_t n_routes;
	struct xdp_endpoint_route routes[XDP_ENDPOINT_MAX_ROUTES];
	size_t n_gateways;
	struct xdp_endpoint_gateway gateways[XDP_ENDPOINT_MAX_GATEWAYS];
	uint16_t eph_lo, eph_hi;   /* 0, 0: none */
	bool xdp_copy;             /* bind with XDP_COPY */
	uint32_t frame_size;
	uint64_t umem_size;
	uint32_t ring[XH_EP_NRINGS];
	size_t n_direct;           /* "direct": 0 when absent */
	struct xh_ep_direct direct[XDP_ENDPOINT_MAX_DIRECT];
	bool direct_memfd;         /* DIRECT may carry the UMEM's memfd */
};

/* Defaults: queue 0, MTU 1500, 2 KiB frames, a 2 MiB UMEM and its rings. */
void xh_ep_desc_init(struct xh_ep_desc *d);
/* UMEM size, and rings sized for it: as many entries as frames, within
 * XDP_ENDPOINT_RING_MIN..MAX. -EINVAL if not a valid UMEM size. */
int xh_ep_desc_set_umem(struct xh_ep_desc *d, uint64_t umem_size);
/* Every field within the protocol's limits; -EINVAL with a detail. */
int xh_ep_desc_check(const struct xh_ep_desc *d);

/* Compact JSON (malloc'd) of at most XDP_ENDPOINT_DESC_MAX bytes. */
int xh_ep_desc_to_json(const struct xh_ep_desc *d, char **out);
/* Strict decode (types, ranges, limits); unknown keys are ignored. */
int xh_ep_desc_from_json(const char *text, size_t len, struct xh_ep_desc *d);

/* BOUND: {"direct": [...]} with the ring sizes. */
int xh_ep_bound_to_json(const struct xh_ep_direct *d, size_t n, char **out);
int xh_ep_bound_from_json(const char *text, size_t len, struct xh_ep_direct *d, size_t *n);

/* DIRECT's payload when it carries the client's UMEM memfd: that UMEM's
 * geometry, as registered on socket 0 (from offset 0 of the memfd). */
struct xh_ep_umem_geom {
	uint64_t size;
	uint32_t frame_size;
	uint32_t headroom;
};

int xh_ep_direct_to_json(const struct xh_ep_umem_geom *g, char **out);
int xh_ep_direct_from_json(const char *text, size_t len, struct xh_ep_umem_geom *g);

/* Where the exec wrapper put everything for CMD. */
struct xh_ep_layout {
	uint64_t umem_size;
	uint32_t frame_size;
	uint32_t ring[XH_EP_NRINGS];
	struct xdp_ring_offset off[XH_EP_NRINGS];
	int fd_xsk, fd_umem, fd_ctl;
	uint32_t fill_frames;      /* frames [0, n) are on the direct fill rings */
	size_t n_direct;           /* the direct sockets, as BOUND gave them */
	struct xh_ep_direct direct[XDP_ENDPOINT_MAX_DIRECT];
	int fd_direct[XDP_ENDPOINT_MAX_DIRECT];
	/* Ring offsets: the same for every socket of one kernel. */
};

/* mmap page offset and entry size of a ring. */
uint64_t xh_ep_ring_pgoff(enum xdp_endpoint_ring r);
size_t xh_ep_ring_entry(enum xdp_endpoint_ring r);
const char *xh_ep_ring_name(enum xdp_endpoint_ring r);

int xh_ep_env_to_json(const struct xh_ep_desc *d, const struct xh_ep_layout *l, char **out);
int xh_ep_env_from_json(const char *text, struct xh_ep_desc *d, struct xh_ep_layout *l);

/* Frame one record into buf: returns its length or -EMSGSIZE. */
int xh_ep_msg_encode(uint16_t type, const void *payload, size_t len, void *buf, size_t size);
/* Check one received record of n bytes: magic, version, a known type,
 * hdr.len == n - header, the type's payload limit (READY and OK empty,
 * ERROR and DESC bounded). -EBADMSG / -EPROTO / -EMSGSIZE with a detail. */
int xh_ep_msg_decode(const void *buf, size_t n, uint16_t *type, const void **payload,
		     size_t *len);

/* ERROR payload: {"errno": N, "message": "..."}, cut to fit the limit. */
int xh_ep_error_encode(int err, const char *message, char **out);
/* err is positive on return; message NUL-terminated in buf. */
int xh_ep_error_decode(const void *payload, size_t len, int *err, char *buf, size_t size);

/* Send one record (MSG_NOSIGNAL | MSG_DONTWAIT), with pass_fd attached
 * through SCM_RIGHTS when >= 0. */
int xh_ep_send(int sock, uint16_t type, const void *payload, size_t len, int pass_fd);
/* The same with n fds (at most XDP_ENDPOINT_MAX_DIRECT + 1). */
int xh_ep_send_fds(int sock, uint16_t type, const void *payload, size_t len, const int *fds,
		   size_t n);
/* Receive one record into buf (XDP_ENDPOINT_MSG_MAX bytes) and decode it.
 * Received fds are close-on-exec; if fd_out is given and exactly one fd
 * came with a DESC or a DIRECT, it goes there (else -1), every other fd
 * is closed.
 * flags: MSG_DONTWAIT or 0. -EPIPE when the peer closed the connection,
 * -EMSGSIZE for a record larger than the buffer. */
int xh_ep_recv(int sock, void *buf, uint16_t *type, const void **payload, size_t *len,
	       int *fd_out, int flags);
/* The same for a record that may carry several fds: a BOUND's (at most
 * max, else -EBADMSG) go to fds[0..*n). A DESC's one fd too. */
int xh_ep_recv_fds(int sock, void *buf, uint16_t *type, const void **payload, size_t *len,
		   int *fds, size_t max, size_t *n, int flags);

/* The abstract address of name ("xdphook/endpoint"). */
int xh_ep_abstract_addr(const char *name, struct sockaddr_un *sa, socklen_t *len);

/* "10.1.2.3/24", "fd00::1/64" (with_len) or "10.1.2.3" (without). */
int xh_ep_addr_parse(const char *s, bool with_len, int *family, uint8_t addr[16], uint8_t *plen);
int xh_ep_addr_format(int family, const uint8_t addr[16], int plen, char *buf, size_t size);
int xh_ep_mac_parse(const char *s, uint8_t mac[6]);
void xh_ep_mac_format(const uint8_t mac[6], char buf[18]);

#endif
