/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libxdp_endpoint: take the AF_XDP endpoint xdphook prepared for this
 * network namespace (pkg-config: xdp_endpoint).
 *
 *	struct xdp_endpoint *ep;
 *	int err = xdp_endpoint_open(NULL, &ep);
 *	if (err)
 *		errx(1, "%s", xdp_endpoint_strerror(err));
 *	... xsk_ring_prod__reserve(xdp_endpoint_fill(ep), ...) and friends
 *	    from <xdp/xsk.h>, on frames inside xdp_endpoint_umem(ep) ...
 *	xdp_endpoint_close(ep);
 *
 * Errors are negative errnos; xdp_endpoint_strerror() gives the detail of
 * the last error of the calling thread (what failed and why).
 *
 * The endpoint needs no privilege: the keeper created the AF_XDP socket in
 * this netns and inserts it into xdp0's XSKMAP; the client only registers
 * its own memory (UMEM, counted against RLIMIT_MEMLOCK without
 * CAP_IPC_LOCK), maps the rings and binds. Frames reach the socket from the
 * moment xdp_endpoint_open() returns until xdp_endpoint_close() (or exit),
 * after which they go to the netns's kernel stack again.
 *
 * ---- Protocol ----------------------------------------------------------
 *
 * The keeper listens on the abstract unix socket "@xdphook/endpoint"
 * (SOCK_SEQPACKET) in the container's network namespace: reachable from
 * any mount namespace of that netns, from no other. One connection holds
 * the endpoint; while it is open, other connections get an ERROR and are
 * closed. Every message is one SEQPACKET record:
 *
 *	struct xdp_endpoint_msg_hdr (12 bytes, host byte order)
 *	payload (hdr.len bytes)
 *
 * and the whole record is at most XDP_ENDPOINT_MSG_MAX bytes. A record
 * with a bad magic, version, type, length or payload, or a record that
 * does not fit, closes the connection. File descriptors the client sends
 * are closed unread.
 *
 *	keeper -> client  DESC   JSON description (below) + SCM_RIGHTS with
 *	                         one fd: a fresh, unbound AF_XDP socket
 *	                  or ERROR and close (uid not allowed, busy, ...)
 *	client            XDP_UMEM_REG, ring sizes, mmap, bind(ifindex, queue)
 *	client -> keeper  READY  (empty)
 *	keeper -> client  OK     (empty): the socket is in the XSKMAP
 *	                  or ERROR and close (e.g. the socket was not bound)
 *	client            keeps the connection open while it uses the socket;
 *	                  closing it (or exiting) gives the endpoint back.
 *
 * The client has XDP_ENDPOINT_HANDSHAKE_MS from the DESC to send READY.
 * ERROR carries JSON {"errno": N, "message": "..."} of at most
 * XDP_ENDPOINT_ERROR_MAX bytes.
 *
 * Description (DESC payload, at most XDP_ENDPOINT_DESC_MAX bytes; unknown
 * keys are ignored, so a newer keeper can add some):
 *
 *	{"version": 1,
 *	 "ifname": "xdp0", "ifindex": 2, "queue": 0,
 *	 "mac": "02:11:22:33:44:55", "mtu": 1500,
 *	 "addresses": ["10.1.0.5/24", "fd00::5/64"],
 *	 "routes": [{"dst": "0.0.0.0/0", "via": "169.254.1.1"},
 *	            {"dst": "10.1.0.0/24"}],
 *	 "gateways": [{"ip": "169.254.1.1", "mac": "02:aa:bb:cc:dd:ee"}],
 *	 "ephemeral": {"lo": 32768, "hi": 60999},
 *	 "xdp_copy": true,
 *	 "frame_size": 2048, "umem_size": 2097152,
 *	 "rings": {"fill": 1024, "completion": 1024, "rx": 1024, "tx": 1024}}
 *
 * xdp_copy asks the client to bind with XDP_COPY (the device has no
 * zero-copy support).
 *
 * Host mode with `direct` (node config): the description also lists the
 * NIC's RX queues, one socket each, which the sandbox may take too:
 *
 *	"direct": [{"ifname": "nic0", "ifindex": 7, "queue": 0, "zerocopy": false}, ...],
 *	"direct_memfd": true
 *
 * ("direct" absent or empty: none; "zerocopy": the NIC offers it and the
 * node allows it, what a client that sends its memfd gets). A client
 * that wants them binds socket 0 as above, then:
 *
 *	client -> keeper  DIRECT, in one of two forms:
 *	                  - with the UMEM (keeper says "direct_memfd"): JSON
 *	                    {"umem_size": N, "frame_size": N, "headroom": N},
 *	                    the geometry socket 0's UMEM was registered with,
 *	                    + SCM_RIGHTS with one fd: the memfd that UMEM is,
 *	                    from offset 0 (sealed F_SEAL_SHRINK | F_SEAL_GROW,
 *	                    at least umem_size bytes, all allocated: register
 *	                    it on socket 0 first);
 *	                  - empty, no fd (every client before "direct_memfd",
 *	                    and any with an anonymous UMEM)
 *	keeper            creates one AF_XDP socket per NIC RX queue in the
 *	                  host netns, sets its fill, completion and RX rings
 *	                  (the description's sizes; NO TX ring: a sandbox can
 *	                  never transmit on the NIC past xdp0's source check)
 *	                  and binds it to (NIC, queue):
 *	                  - with the memfd: the first queue's socket registers
 *	                    the memfd's pages as a UMEM of its own (same size,
 *	                    chunk and headroom: a frame address means the same
 *	                    bytes as on socket 0) and binds XDP_COPY, or
 *	                    where "zerocopy" says so (the NIC offers it and
 *	                    the node config is "rx-zerocopy") without a mode
 *	                    flag: zero-copy where the driver can, else copy;
 *	                    the others bind with XDP_SHARED_UMEM on it (its
 *	                    mode); the keeper keeps no mapping of it
 *	                  - without: XDP_SHARED_UMEM on socket 0 (the kernel
 *	                    gives them socket 0's mode: on the veth xdp0, copy)
 *	keeper -> client  BOUND  {"direct": [{"ifname", "ifindex", "queue",
 *	                  "zerocopy", "fill": N, "completion": N, "rx": N,
 *	                  "umem": "own" | "xdp0"}, ...]}
 *	                  + SCM_RIGHTS with the sockets in that order
 *	                  or ERROR and close (e.g. a memfd that is not one)
 *	client            mmaps every socket's fill, completion and RX ring
 *	                  (pgoffs as for socket 0; XDP_TX_RING on them: EBUSY),
 *	                  puts frames of the one UMEM on every fill ring (any
 *	                  frame on any ring: both registrations are the same
 *	                  memory)
 *	client -> keeper  READY
 *	keeper -> client  OK: socket 0 is in xdp0's XSKMAP and each direct
 *	                  socket in the NIC program's XSKMAP at its queue; the
 *	                  NIC program then sends the sandbox's frames arriving
 *	                  on queue Q straight to socket Q (the veth path while a
 *	                  queue has none). On disconnect they all leave the maps
 *	                  (the veth path again); the next client gets fresh ones.
 *
 * A client that does not send DIRECT (every client before it existed)
 * gets the veth path alone, exactly as before. Limits: XDP_ENDPOINT_MAX_ADDRS addresses,
 * XDP_ENDPOINT_MAX_ROUTES routes, XDP_ENDPOINT_MAX_GATEWAYS gateways;
 * frame_size a power of two 2048..4096; ring sizes powers of two
 * XDP_ENDPOINT_RING_MIN..XDP_ENDPOINT_RING_MAX; umem_size a multiple of
 * frame_size up to XDP_ENDPOINT_UMEM_MAX.
 *
 * ---- xdp_endpoint -- CMD ARGS... -----------------------------------------
 *
 * The exec wrapper opens the endpoint with a memfd-backed UMEM and execs
 * CMD with the fds inherited, systemd socket-activation style:
 * LISTEN_FDS=3+D, LISTEN_FDNAMES=xsk:umem:ctl[:xsk-direct-0:...],
 * LISTEN_PID=<CMD's pid>, fds 3 (the bound AF_XDP socket), 4 (the UMEM
 * memfd), 5 (the keeper connection: keep it open, closing it gives the
 * endpoint back) and 6.. (the D direct sockets, in BOUND's order; the
 * wrapper asks for them unless --no-direct), and
 * XDP_ENDPOINT_JSON = {"description": <as above>, "umem_size": N,
 * "frame_size": N, "fds": {"xsk": 3, "umem": 4, "ctl": 5},
 * "rings": {"fill": {"size": N, "producer": OFF, "consumer": OFF,
 * "desc": OFF, "flags": OFF, "pgoff": PGOFF}, "completion": ..., "rx": ...,
 * "tx": ...}, "direct": [{"fd": 6, "ifname": ..., "ifindex": N,
 * "queue": N, "zerocopy": B, "umem": "own", "rings": {"fill": ..., "completion": ...,
 * "rx": ...}}, ...]}: mmap(fd 4, umem_size) for the UMEM and mmap(fd, at
 * pgoff) each ring of desc + size * entry bytes. The wrapper has stocked
 * the direct sockets' fill rings (frames [0, fill_frames) of the UMEM,
 * "fill_frames" in the JSON; the rest is CMD's). xdp_endpoint_from_env()
 * does all of that.
 */
#ifndef XDP_ENDPOINT_H
#define XDP_ENDPOINT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xdp/xsk.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XDP_ENDPOINT_SOCKET "xdphook/endpoint" /* abstract: "\0xdphook/endpoint" */
#define XDP_ENDPOINT_MAGIC 0x45504458u         /* "XDPE" in little endian */
#define XDP_ENDPOINT_VERSION 1

#define XDP_ENDPOINT_MSG_MAX 32768u    /* one record, header included */
#define XDP_ENDPOINT_DESC_MAX (XDP_ENDPOINT_MSG_MAX - sizeof(struct xdp_endpoint_msg_hdr))
#define XDP_ENDPOINT_ERROR_MAX 1024u
#define XDP_ENDPOINT_HANDSHAKE_MS 10000

#define XDP_ENDPOINT_MAX_ADDRS 16
#define XDP_ENDPOINT_MAX_ROUTES 32
#define XDP_ENDPOINT_MAX_GATEWAYS 4
#define XDP_ENDPOINT_RING_MIN 64u
#define XDP_ENDPOINT_RING_MAX 16384u
#define XDP_ENDPOINT_UMEM_MAX (1ull << 30)
#define XDP_ENDPOINT_MAX_DIRECT 64 /* NIC RX queues */

enum xdp_endpoint_msg_type {
	XDP_ENDPOINT_MSG_DESC = 1,  /* keeper -> client: JSON + socket fd */
	XDP_ENDPOINT_MSG_READY = 2, /* client -> keeper: bound, insert it */
	XDP_ENDPOINT_MSG_OK = 3,    /* keeper -> client: in the XSKMAP */
	XDP_ENDPOINT_MSG_ERROR = 4, /* keeper -> client: JSON, then close */
	XDP_ENDPOINT_MSG_DIRECT = 5, /* client -> keeper: bind the NIC-queue sockets */
	XDP_ENDPOINT_MSG_BOUND = 6, /* keeper -> client: JSON + the direct sockets */
};

struct xdp_endpoint_msg_hdr {
	uint32_t magic;   /* XDP_ENDPOINT_MAGIC */
	uint16_t version; /* XDP_ENDPOINT_VERSION */
	uint16_t type;    /* enum xdp_endpoint_msg_type */
	uint32_t len;     /* payload bytes after the header */
};

/* Addresses in network byte order; IPv4 in the first 4 bytes of 16. */
struct xdp_endpoint_addr {
	int family;          /* AF_INET / AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix_len;
};

struct xdp_endpoint_route {
	int family;          /* AF_INET / AF_INET6 */
	uint8_t dst[16];
	uint8_t dst_len;
	bool has_via;        /* false: on-link */
	uint8_t via[16];
};

struct xdp_endpoint_gateway {
	int family;          /* AF_INET / AF_INET6 */
	uint8_t addr[16];
	uint8_t mac[6];
};

struct xdp_endpoint;

enum xdp_endpoint_flags {
	/* Back the UMEM with a memfd (xdp_endpoint_umem_fd()), e.g. to hand it
	 * to another process; default: anonymous memory. */
	XDP_ENDPOINT_F_MEMFD = 1u << 0,
	/* Take the direct sockets on the NIC's RX queues too, if the
	 * description lists any (host mode with `direct`); implies
	 * XDP_ENDPOINT_F_MEMFD where the keeper takes the UMEM's memfd
	 * ("direct_memfd"), so that the direct sockets get a registration of
	 * their own of the same memory (zero-copy where the NIC can; on
	 * socket 0's UMEM they would take xdp0's copy mode). If it got some,
	 * the library stocks every fill ring itself before READY: frames
	 * [0, xdp_endpoint_fill_frames()) are spread over the sockets' fill
	 * rings, the rest are the caller's (e.g. for TX); if it got none,
	 * xdp_endpoint_fill_frames() is 0 and the caller stocks socket 0's
	 * fill ring as without the flag. xdp_endpoint_receive() /
	 * xdp_endpoint_refill() serve every socket. */
	XDP_ENDPOINT_F_DIRECT = 1u << 1,
};

struct xdp_endpoint_opts {
	size_t sz;               /* sizeof(struct xdp_endpoint_opts) */
	const char *socket_name; /* abstract name; NULL: XDP_ENDPOINT_SOCKET */
	uint64_t umem_size;      /* 0: the description's */
	uint32_t ring_size;      /* every ring; 0: the description's */
	unsigned int flags;      /* enum xdp_endpoint_flags */
	int timeout_ms;          /* the handshake; 0: XDP_ENDPOINT_HANDSHAKE_MS */
	/* XDP_ENDPOINT_F_DIRECT: how many frames (from frame 0) the library
	 * puts on the fill rings; 0: half of the UMEM's frames; at most what
	 * the fill rings hold together. */
	uint32_t fill_frames;
};

/* Connect to the keeper of the caller's network namespace, take the socket,
 * register the UMEM, map the rings, bind, and wait until the keeper has put
 * the socket into the XSKMAP. opts may be NULL. The rings start empty: the
 * caller stocks the fill ring. -ECONNREFUSED: no keeper here; -EBUSY:
 * another client holds the endpoint; -EACCES: uid not allowed. */
int xdp_endpoint_open(const struct xdp_endpoint_opts *opts, struct xdp_endpoint **ep);

/* The endpoint an `xdp_endpoint -- CMD` wrapper handed to this process
 * (LISTEN_FDS, XDP_ENDPOINT_JSON; see above). The LISTEN_* and
 * XDP_ENDPOINT_JSON variables are removed from the environment and the
 * fds made close-on-exec. -ENOENT if there is none for this process. */
int xdp_endpoint_from_env(struct xdp_endpoint **ep);

/* Unmap, close, give the endpoint back. NULL is fine. */
void xdp_endpoint_close(struct xdp_endpoint *ep);

/* Detail of the last error of this thread, if it was err; else strerror. */
const char *xdp_endpoint_strerror(int err);

/* The AF_XDP socket (poll it; sendto() to kick TX). */
int xdp_endpoint_fd(const struct xdp_endpoint *ep);
struct xsk_ring_prod *xdp_endpoint_fill(struct xdp_endpoint *ep);
struct xsk_ring_cons *xdp_endpoint_completion(struct xdp_endpoint *ep);
struct xsk_ring_cons *xdp_endpoint_rx(struct xdp_endpoint *ep);
struct xsk_ring_prod *xdp_endpoint_tx(struct xdp_endpoint *ep);
/* The keeper connection: it becomes readable (EOF) when the keeper took
 * the endpoint back (container teardown); poll it along with the socket. */
int xdp_endpoint_ctl_fd(const struct xdp_endpoint *ep);
/* Kick the kernel to transmit what is on the TX ring, when it asks for
 * that (XDP_USE_NEED_WAKEUP). 0 or a negative errno. */
int xdp_endpoint_kick_tx(struct xdp_endpoint *ep);

void *xdp_endpoint_umem(const struct xdp_endpoint *ep);
uint64_t xdp_endpoint_umem_size(const struct xdp_endpoint *ep);
/* The memfd behind the UMEM, or -1. */
int xdp_endpoint_umem_fd(const struct xdp_endpoint *ep);
uint32_t xdp_endpoint_frame_size(const struct xdp_endpoint *ep);
/* umem_size / frame_size */
uint32_t xdp_endpoint_frame_count(const struct xdp_endpoint *ep);
enum xdp_endpoint_ring {
	XDP_ENDPOINT_RING_FILL,
	XDP_ENDPOINT_RING_COMPLETION,
	XDP_ENDPOINT_RING_RX,
	XDP_ENDPOINT_RING_TX,
};
/* Entries of a ring; 0 for an unknown ring. */
uint32_t xdp_endpoint_ring_size(const struct xdp_endpoint *ep, enum xdp_endpoint_ring ring);

/* ---- every socket: socket 0 (xdp0; the only one with a TX ring), then
 * the direct sockets on the NIC's RX queues (XDP_ENDPOINT_F_DIRECT) ---- */

/* 1 + the number of direct sockets. */
size_t xdp_endpoint_socket_count(const struct xdp_endpoint *ep);
/* Socket i's fd and rings; NULL / -1 for i out of range (and for the
 * direct sockets' TX ring, which they do not have). */
int xdp_endpoint_fd_n(const struct xdp_endpoint *ep, size_t i);
struct xsk_ring_prod *xdp_endpoint_fill_n(struct xdp_endpoint *ep, size_t i);
struct xsk_ring_cons *xdp_endpoint_completion_n(struct xdp_endpoint *ep, size_t i);
struct xsk_ring_cons *xdp_endpoint_rx_n(struct xdp_endpoint *ep, size_t i);
/* What socket i is bound to: device name, ifindex, queue, zero-copy. */
const char *xdp_endpoint_ifname_n(const struct xdp_endpoint *ep, size_t i);
int xdp_endpoint_ifindex_n(const struct xdp_endpoint *ep, size_t i);
uint32_t xdp_endpoint_queue_n(const struct xdp_endpoint *ep, size_t i);
bool xdp_endpoint_zerocopy_n(const struct xdp_endpoint *ep, size_t i);
/* Whether direct socket i is on a registration of its own of the UMEM
 * (the keeper took its memfd; zero-copy possible) rather than on socket
 * 0's (copy, like xdp0); false for socket 0. Same frames either way. */
bool xdp_endpoint_own_umem_n(const struct xdp_endpoint *ep, size_t i);
/* Frames [0, n) went to the fill rings at open (XDP_ENDPOINT_F_DIRECT and
 * direct sockets bound); 0 otherwise (the caller stocks socket 0's fill
 * ring itself). Through the exec wrapper: as the wrapper left it. */
uint32_t xdp_endpoint_fill_frames(const struct xdp_endpoint *ep);

/* One poll set over all of it: every socket (POLLIN) and, last, the
 * keeper connection (its POLLIN/POLLHUP: the endpoint was taken back).
 * Fills at most max entries, returns how many it would fill
 * (xdp_endpoint_socket_count() + 1). */
size_t xdp_endpoint_pollfds(const struct xdp_endpoint *ep, struct pollfd *p, size_t max);

/* A received frame: where it is in the UMEM, its length, and which
 * socket it came from. */
struct xdp_endpoint_frame {
	uint64_t addr;
	uint32_t len;
	uint32_t socket;
};
/* Up to max received frames from all the sockets' RX rings (each ring
 * drained in turn, in batches, the slots released at once). The frames
 * are the caller's until it puts them on TX or gives them back with
 * xdp_endpoint_refill(). Returns how many. */
uint32_t xdp_endpoint_receive(struct xdp_endpoint *ep, struct xdp_endpoint_frame *f, uint32_t max);
/* Give n frames back to the fill rings: each batch to the socket whose
 * fill ring holds the fewest frames (a frame received on one queue may be
 * needed on another, and TX completions come back on socket 0), with the
 * wakeup the kernel asks for; what does not fit there goes to the next
 * (the library never stocks more than the rings hold together). */
void xdp_endpoint_refill(struct xdp_endpoint *ep, const uint64_t *addrs, uint32_t n);

/* The description. */
const char *xdp_endpoint_ifname(const struct xdp_endpoint *ep);
int xdp_endpoint_ifindex(const struct xdp_endpoint *ep);
uint32_t xdp_endpoint_queue(const struct xdp_endpoint *ep);
const uint8_t *xdp_endpoint_mac(const struct xdp_endpoint *ep); /* 6 bytes */
unsigned int xdp_endpoint_mtu(const struct xdp_endpoint *ep);
size_t xdp_endpoint_addr_count(const struct xdp_endpoint *ep);
const struct xdp_endpoint_addr *xdp_endpoint_addr(const struct xdp_endpoint *ep, size_t i);
size_t xdp_endpoint_route_count(const struct xdp_endpoint *ep);
const struct xdp_endpoint_route *xdp_endpoint_route(const struct xdp_endpoint *ep, size_t i);
size_t xdp_endpoint_gateway_count(const struct xdp_endpoint *ep);
const struct xdp_endpoint_gateway *xdp_endpoint_gateway(const struct xdp_endpoint *ep, size_t i);
/* The sandbox's ephemeral port range; 0, 0 if none was given. */
void xdp_endpoint_ephemeral(const struct xdp_endpoint *ep, uint16_t *lo, uint16_t *hi);
/* The description as the keeper sent it (JSON text). */
const char *xdp_endpoint_json(const struct xdp_endpoint *ep);

#ifdef __cplusplus
}
#endif

#endif
