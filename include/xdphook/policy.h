/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Map layouts of the hook's programs, shared by the BPF side and user space
 * (hook/). One section per program:
 *
 *   bpf/xdp_nic.bpf.c       NIC ingress, one per NIC, shared by its containers
 *   bpf/xdp_veth.bpf.c      host-side veth xh-..., one per network namespace,
 *                           shared by every container's xh-... there
 *   bpf/xdp_endpoint.bpf.c  xdp0 inside the container, one per container
 *                           (where the shared one cannot serve it)
 *   bpf/xdp_endpoint_shared.bpf.c  on every xdp0 of the host, serves every
 *                           container from its own maps (Linux 6.2+)
 *   bpf/tc_clone.bpf.c      NIC clsact ingress, host mode only
 *
 * Conventions:
 *   - addresses in network byte order, ports and ranges in host byte order;
 *   - every key struct has explicit padding, which must be zero (user space:
 *     memset the key before filling it; the programs do the same);
 *   - map names are kernel object names (at most 15 characters).
 *
 * Besides these maps every XDP program keeps per-verdict counters
 * (include/xdphook/stats.h): `xdphook_stats`, or, for xdp_veth, which
 * serves many devices, per device in veth_dev.
 */
#ifndef XDPHOOK_POLICY_H
#define XDPHOOK_POLICY_H

#include <linux/types.h>
#include <xdphook/stats.h>

#define XH_ETH_ALEN 6

/* AF_XDP frames are 2 KiB; the kernel keeps XDP_PACKET_HEADROOM (256) in
 * front of the data, the Ethernet header takes 14: the largest MTU whose
 * frames fit one chunk. */
#define XH_FRAME_SIZE 2048
#define XH_MTU_MAX (XH_FRAME_SIZE - 256 - 14)

/* Link-local gateway the sandbox routes through in pod mode (answered from
 * xh-...). */
#define XH_GATEWAY4 "169.254.1.1"
#define XH_GATEWAY6 "fe80::1"

/* Map sizes (max_entries), so user space knows what fits. */
#define XH_MAX_PODS 4096      /* pods, tx_ports: containers per NIC */
#define XH_MAX_PORTS 1024     /* published / reserved ports a sandbox may
                               * have (publish_rev holds them per sandbox) */
#define XH_HOST_ADDRS 16      /* host_mode: NIC addresses of each family */
/* xdp_veth serves every container of a network namespace: its maps hold
 * all of them (allocated as used, BPF_F_NO_PREALLOC). */
#define XH_MAX_VETHS 4096                    /* veth_dev: containers */
#define XH_MAX_SRC_IPS (XH_MAX_VETHS * 4)    /* src_ips, all containers */
#define XH_MAX_PREFIXES (XH_MAX_VETHS * 8)   /* fastpath, all containers */
#define XH_MAX_REV_PORTS (XH_MAX_PORTS * 16) /* publish_rev: 16 host-mode sandboxes */
#define XH_MAX_FRAGS 8192     /* frags: datagrams being reassembled at once */
#define XH_MAX_QUEUES 64      /* xsks: RX queues of xdp0 */

enum xh_family {
	XH_AF_INET = 4,
	XH_AF_INET6 = 6,
};

/* An IPv4 (first 4 bytes of addr, the other 12 zero) or IPv6 address. */
struct xh_ip {
	__u8 family;                 /* enum xh_family */
	__u8 pad[3];
	__u8 addr[16];
};

/* ---- NIC ingress program (xdp_nic), one per NIC, shared ------------------ *
 *
 * Maps:
 *   pods       HASH struct xh_ip -> struct xh_pod_dest        (pod mode, IPv6)
 *   pod4_slots ARRAY[XH_POD4_SLOTS] struct xh_pod4_slot,
 *              BPF_F_MMAPABLE                                   (pod mode, IPv4)
 *   pods4      HASH __be32 address -> struct xh_pod_dest      (pod mode, IPv4
 *              addresses whose pod4_slots slot another one holds)
 *   tx_ports   DEVMAP_HASH __u32 ifindex -> __u32 ifindex      (both modes)
 *   host_mode  ARRAY[1] struct xh_host_policy                  (host mode)
 *   ports      ARRAY[XH_PORT_SLOTS / 2] xh_port_slot(proto, port) / 2
 *              -> struct xh_port_pair, BPF_F_MMAPABLE          (host mode)
 *   frags      LRU_HASH struct xh_frag_key -> struct xh_frag_val (host mode)
 *   direct_xsks XSKMAP[XH_MAX_QUEUES] by RX queue (host mode, `direct`;
 *              filled by the keeper while a client holds the sockets)
 *
 * Every container's xh-... must be in tx_ports (key and value: its ifindex)
 * before the frames for it can leave; a missing entry sends them to the
 * kernel unchanged (XDP_PASS).
 *
 * Pod mode: a destination address found in `pod4_slots`/`pods4` (IPv4:
 * see pod4_slots below) or `pods` (IPv6) is forwarded to that
 * container: Ethernet addresses rewritten, TTL / hop limit decremented
 * (TTL <= 1 goes to the kernel, which sends the ICMP time exceeded).
 *
 * Host mode (host_mode[0].ifindex != 0): only unicast frames to one of
 * the NIC addresses in host_mode[0] (the ones the sandbox took over) are
 * considered, and they are judged before the pods maps (no pod holds a
 * NIC address: the claim keeps every address one container's), so a
 * host-mode frame costs no pods lookup; everything else (the host's other
 * addresses, routed traffic, broadcast and multicast, ARP, IPv6 ND) stays
 * with the host. No rewriting but the port translation: the sandbox owns
 * the NIC's MAC and addresses. See xdp_nic.bpf.c for the full decision
 * table (and its fast path for untagged IPv4 TCP/UDP, same verdicts).
 *
 * Per frame (BPF_PROG_TEST_RUN, README "Per-frame cost"), what the layouts
 * below are chosen for: an ARRAY lookup the verifier inlines costs ~1 ns,
 * a HASH lookup 7 ns (4-byte key) to 19 ns (struct xh_ip).
 */

enum xh_mode_id {
	XH_POD = 1,
	XH_HOST = 2,
	XH_NETNS = 3, /* the CNI's own interface: no program of ours on the NIC */
};

/* pods: destination address -> container. The two MACs in the order of
 * an Ethernet header, 4-byte aligned: the program copies them as three
 * words. */
struct xh_pod_dest {
	__u32 ifindex;               /* host-side veth xh-... (also in tx_ports) */
	__u8 dst_mac[XH_ETH_ALEN];   /* the sandbox's MAC */
	__u8 src_mac[XH_ETH_ALEN];   /* xh-...'s MAC (the sandbox's gateway) */
};
_Static_assert(__builtin_offsetof(struct xh_pod_dest, src_mac) ==
	       __builtin_offsetof(struct xh_pod_dest, dst_mac) + XH_ETH_ALEN &&
	       __builtin_offsetof(struct xh_pod_dest, dst_mac) % 4 == 0,
	       "xh_pod_dest: the MACs as an Ethernet header's first 12 bytes, aligned");

/* pod4_slots (ARRAY[XH_POD4_SLOTS], BPF_F_MMAPABLE): IPv4 pods
 * direct-mapped by the low bits of the address (xh_pod4_slot(), host
 * order: pods of a node usually share a /24 or /20, so they rarely
 * collide), the address kept in the slot to compare. An array lookup is
 * inlined by the verifier; a hash lookup of pods4 costs ~7 ns a frame.
 * An address whose slot is taken goes into pods4 (HASH) and the slot's
 * `more` is set, so a frame whose address is not in its slot looks in
 * pods4 only then: a miss (a frame for the host) costs no hash either.
 * addr 0 is a free slot (0.0.0.0 is no pod's). User space
 * (lib/pod_map.c) writes a slot through a mapping: dest before addr, and
 * addr cleared before dest, so a new pod's address never meets a dest
 * being written; a frame that raced its pod's removal may meet a dest
 * being cleared (ifindex 0 sends it to the kernel), as a frame may meet a
 * reused element of a preallocated hash (the pods maps are written under
 * the hook's lock). */
#define XH_POD4_SLOTS 4096 /* a power of two */

struct xh_pod4_slot {
	__be32 addr;                 /* 0: free */
	__u32 more;                  /* 1: some address of this slot is in pods4 */
	struct xh_pod_dest dest;
};

static __inline__ __u32 xh_pod4_slot(__u32 addr_host_order)
{
	return addr_host_order & (XH_POD4_SLOTS - 1);
}

/* host_mode (ARRAY, one entry): the host-mode sandbox on this NIC, if any.
 * A range with lo == 0 is empty. The NIC's addresses are here rather than
 * in a hash map: a NIC has a few, and comparing them against the frame's
 * destination costs less than hashing it (an ARRAY lookup with a constant
 * key is a few instructions once the verifier inlines it). */
struct xh_host_policy {
	__u32 ifindex;               /* sandbox's xh-...; 0: no host-mode sandbox */
	__u8 publish_all;            /* everything but reserve, host range, ARP/ND */
	__u8 direct;                 /* `direct`: look in direct_xsks first (a
	                              * sandbox without never has a socket there) */
	__u16 sandbox_eph_lo;        /* sandbox's ephemeral ports (inclusive); */
	__u16 sandbox_eph_hi;        /*   also the ICMP echo ids it uses */
	__u16 host_eph_lo;           /* the host's ip_local_port_range */
	__u16 host_eph_hi;
	__u8 n_addr4;                /* addr4[0 .. n_addr4) are used */
	__u8 n_addr6;
	__be32 addr4[XH_HOST_ADDRS]; /* the NIC's IPv4 addresses */
	__u32 addr6[XH_HOST_ADDRS][4]; /* its IPv6 addresses (network order) */
};

/* ports (ARRAY, one slot per TCP and per UDP port: 2 x 65536 x 4 bytes,
 * 512 KiB a NIC; two slots an entry, as the kernel rounds an array's
 * values up to 8 bytes: slot s is half s % 2 of entry s / 2, and the
 * mapped array is one struct xh_port_pol per slot): what the host-mode
 * sandbox's configuration says of a local port. An array lookup is
 * inlined by the verifier (~1 ns); the hashes publish and reserve it
 * replaces cost ~7 ns a frame. Mappable, so the hook
 * wipes an earlier sandbox's leftovers with one memset. Published: the
 * port goes to the sandbox, translated to `port` on the way in
 * (destination port) and, through publish_rev, back on the way out
 * (source port). Reserved: kept by the host even with publish_all (sshd,
 * the DHCP client 68/udp, DHCPv6 546/udp, ...). Published wins over
 * reserved: an explicit mapping is what the user asked. */
#define XH_PORT_SLOTS (2 * 65536)

enum xh_port_flags {
	XH_PORT_PUBLISHED = 1,
	XH_PORT_RESERVED = 2,
};

struct xh_port_pol {
	__u16 port;                  /* published: the sandbox's port */
	__u8 flags;                  /* enum xh_port_flags; 0: nothing said */
	__u8 pad;
};

struct xh_port_pair {
	struct xh_port_pol slot[2];
};

/* The slot of a TCP (IPPROTO_TCP, 6) or UDP (IPPROTO_UDP, 17) port. */
static __inline__ __u32 xh_port_slot(__u8 proto, __u16 port)
{
	return (proto == 17 ? 65536u : 0u) + port;
}

/* publish_rev (xdp_veth) key and value: {proto, sandbox port} -> host
 * port. */
struct xh_port_key {
	__u8 proto;                  /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 pad;
	__u16 port;
};

struct xh_port_val {
	__u16 port;
	__u16 pad;
};

/* frags (LRU_HASH): the decision for the first fragment of a datagram, so
 * later fragments (no L4 header) follow it. Written by the program only. */
struct xh_frag_key {
	__u8 family;                 /* enum xh_family */
	__u8 proto;                  /* IPv4 protocol; IPv6: the fragment
	                              * header's next header */
	__u16 pad;
	__u32 id;                    /* IPv4 id (16 bits) or IPv6 fragment id,
	                              * host order */
	__u8 src[16];                /* IPv4: first 4 bytes, rest zero */
	__u8 dst[16];
};

struct xh_frag_val {
	__u32 ifindex;               /* sandbox's xh-...; 0: to the host */
};

/* ---- host-side veth program (xdp_veth), one per network namespace ------ *
 *
 * One program serves every container's xh-... in the hook's network
 * namespace: loaded (and verified, the expensive part) once, pinned with
 * its maps under /sys/fs/bpf/xdphook/v2/shared-<netns cookie>-veth/, and
 * attached to each xh-... through a bpf_link pinned in that device's own
 * directory dev-<netns cookie>-<ifindex>/ (with meta, and veth_dev pinned
 * as "ifstats" for the counters). Everything is keyed by the device a
 * frame arrived on, ctx->ingress_ifindex:
 *
 * Maps:
 *   veth_dev     PERCPU_HASH __u32 ifindex -> struct xh_veth_dev
 *   src_ips      HASH struct xh_veth_ip -> __u8 (value unused, 1)
 *   fastpath     LPM_TRIE struct xh_veth_lpm_key -> __u8 (unused)   (pod)
 *   publish_rev  HASH struct xh_veth_port -> struct xh_port_val    (host)
 *
 * veth_dev: a device's counters and configuration in one entry, so a
 * frame costs one hash lookup for both (two cost about 25 ns more per
 * frame); the configuration is written to every CPU's copy. Key 0, created
 * with the program, has a zero configuration and counts the frames of
 * devices without an entry (all dropped).
 * src_ips: the sandbox's own addresses (pod mode: the pod's; host mode: the
 * NIC's). Frames from other sources are dropped; IPv6 link-local sources are
 * allowed from the sandbox's MAC, and :: for ICMPv6 only (DAD, MLD).
 * fastpath: destinations sent straight out of the NIC in pod mode after a
 * bpf_fib_lookup(); everything else goes to the kernel.
 * publish_rev: {proto, sandbox port} -> host port, the reverse of publish.
 *
 * A device's entries are written before the program is attached to it
 * (veth_dev last) and deleted after it is detached (veth_dev first); the
 * program goes with the last device (no veth_dev entry but key 0 left).
 */

/* A device's configuration. An unknown mode (0: no configuration) has
 * everything dropped: the source cannot be checked. */
struct xh_veth_cfg {
	__u32 mode;                  /* enum xh_mode_id */
	__u32 nic_ifindex;           /* where the fast path leaves */
	__u8 sandbox_mac[XH_ETH_ALEN]; /* the only source MAC accepted (host
	                                * mode: the NIC's MAC, which the sandbox
	                                * took over) */
	__u8 pad[2];
};

/* veth_dev value (per CPU). stats first: the layout every per-device
 * counter map shares (include/xdphook/stats.h). */
struct xh_veth_dev {
	struct xdphook_ifcounters stats;
	struct xh_veth_cfg cfg;
};

/* src_ips key: an address of the sandbox behind device ifindex. */
struct xh_veth_ip {
	__u32 ifindex;
	struct xh_ip ip;
};

/* fastpath key: the device's ifindex is the leading 32 bits of the key
 * data, so every device has a trie of its own. prefixlen counts bits from
 * ifindex on: a /24 IPv4 prefix of device 7 has prefixlen 32 + 8 + 24 (the
 * ifindex and the family always match exactly); lookups use 32 + 8 + 32 or
 * 32 + 8 + 128. */
struct xh_veth_lpm_key {
	__u32 prefixlen;
	__u32 ifindex;
	__u8 family;                 /* enum xh_family */
	__u8 addr[16];
} __attribute__((packed));

#define XH_VETH_LPM_PREFIX(family_bits) (32 + 8 + (family_bits))

/* publish_rev key: {proto, sandbox port} of the sandbox behind ifindex. */
struct xh_veth_port {
	__u32 ifindex;
	struct xh_port_key port;
};

/* ---- the container-side endpoint (xdp_endpoint) -------------------------- *
 *
 * xsks (XSKMAP, XH_MAX_QUEUES, indexed by RX queue): the keeper inserts the
 * client's socket; until then frames go to the kernel (XDP_PASS).
 *
 * xdp_endpoint_shared runs on every container's xdp0 and does the same
 * for all of them, from maps of its own; a container's slot is its netns
 * cookie modulo XH_EP_SLOTS:
 *   ep_slot   ARRAY[XH_EP_SLOTS] slot -> __u64 netns cookie owning it (0: free)
 *   ep_stats  PERCPU_ARRAY[XH_EP_SLOTS] slot -> struct xdphook_ifcounters
 *   ep_xsks   XSKMAP[XH_EP_SLOTS * XH_EP_QUEUES]
 *             slot * XH_EP_QUEUES + RX queue -> the client's socket
 * User space zeroes the slot's ep_stats and empties its ep_xsks keys (a
 * predecessor's leftovers) before it writes ep_slot, and clears ep_slot
 * first at teardown, then the rest. The keeper inserts socket 0 at its key
 * in ep_xsks and removes it. xdp0's pin directory pins ep_stats as
 * "ifstats" (include/xdphook/stats.h: an array is indexed by the slot).
 * A container whose slot another one holds attaches xdp_endpoint to xdp0
 * itself.
 */
#define XH_EP_SLOTS 4096 /* a power of two */
/* RX queues of xdp0 per slot: the hook creates xdp0 with one (a frame of
 * any other queue goes to the kernel, counted). */
#define XH_EP_QUEUES 1

/* ---- NIC clsact ingress (tc_clone), host mode ------------------------------ *
 *
 * Maps:
 *   clone_cfg    ARRAY[1] struct xh_clone_cfg
 *   clone_stats  PERCPU_ARRAY[XH_CLONE_STATS] struct xdphook_counter
 *
 * ARP and IPv6 ND (ICMPv6 133-137) arriving on the NIC go to the host (the
 * XDP program passes them) and a copy goes to the host-mode sandbox: both
 * share the NIC's MAC and addresses, and both need neighbours and routers.
 * The program always returns TC_ACT_OK: the host keeps the original.
 */
struct xh_clone_cfg {
	__u32 ifindex;               /* sandbox's xh-...; 0: clone nothing */
};

/* clone_stats indexes (packets and bytes of the original frame). */
enum xh_clone_stat {
	XH_CLONE_SEEN = 0,           /* every frame the program ran on */
	XH_CLONE_ARP = 1,            /* ARP copies sent */
	XH_CLONE_ND = 2,             /* ND copies sent */
	XH_CLONE_NO_TARGET = 3,      /* ARP/ND while clone_cfg is 0 */
	XH_CLONE_FAIL = 4,           /* bpf_clone_redirect() failed */
	XH_CLONE_STATS = 5,
};

#endif
