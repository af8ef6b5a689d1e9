/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_hook configuration: node defaults from /etc/xdphook/config.json
 * (XDPHOOK_CONFIG overrides the path), then the container's
 * `io.xdphook.<key>` annotations, merged into one validated struct.
 *
 * Keys and value syntax (annotation values are strings; the file also
 * takes the JSON types noted):
 *
 *   enable        "true" | "false" (file: boolean)                default true
 *   mode          "pod" | "host" | "netns"                        default pod
 *   nic           interface name; "" = device of the default route   default ""
 *   ips           "ADDR[/LEN],..." unicast addresses the sandbox owns;
 *                 "" = what the CNI configured              (file: array too)
 *   fastpath      "PREFIX[/LEN],..." (no host bits), "" = the NIC's
 *                 connected subnets, "none" = no fast path   (file: array too)
 *   publish       "all", or "[HOST:]SANDBOX[/PROTO],..." where HOST and
 *                 SANDBOX are PORT or LO-HI (equal lengths), PROTO tcp
 *                 (default, as docker -p) or udp; "" = nothing published.
 *                 A host port/proto published twice, or two host ports onto
 *                 one sandbox port/proto, is refused. "all" stands alone.
 *                 (file: array of strings/integers too)
 *   reserve       "PORT[-HI][/PROTO],..." host ports kept from a
 *                 publish=all sandbox; no PROTO = tcp and udp  default "22"
 *                 (file: array, integer too)
 *   umem_size     bytes, or N with suffix K/KiB or M/MiB (powers of 1024);
 *                 a power of two in 64K..256M              default 2M
 *                 (file: integer too)
 *   allowed_uids  "UID,..." uids that may take the endpoint; not empty
 *                 default "0"                   (file: array of integers too)
 *   iface         netns mode: the container's interface the sandbox takes;
 *                 "" = the one holding its address, else the default
 *                 route's                                       default ""
 *   annotations   node config only: "all", or "KEY,..." the keys that
 *                 io.xdphook.<key> annotations may set (not "annotations",
 *                 not "direct")
 *                 default "enable,ips,allowed_uids,umem_size"  (file: array too)
 *   direct        node config only, host mode only: "rx" (the sandbox also
 *                 gets a socket on each RX queue of the NIC, copy mode) |
 *                 "rx-zerocopy" (the same, zero-copy where the driver can:
 *                 only for queues that carry the sandbox's traffic alone) |
 *                 "false"
 *                 default false                          (file: false too)
 *
 * Lists are comma separated; blanks around items are ignored; an empty item
 * is an error. Errors are negative errnos (-EINVAL bad value, -E2BIG too
 * many items) with an xh_err() detail naming the key, where it came from and
 * the item: `annotation io.xdphook.publish: "99999:80/tcp": port 99999 out
 * of range 1..65535`, `/etc/xdphook/config.json: unknown key "mdoe"`.
 */
#ifndef XDPHOOK_CONFIG_H
#define XDPHOOK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci.h"
#include "xdphook/policy.h"

#define XH_CONFIG_PATH "/etc/xdphook/config.json"
#define XH_CONFIG_ENV "XDPHOOK_CONFIG"
#define XH_ANN_PREFIX "io.xdphook."

#define XH_CFG_MAX_IPS 16
#define XH_CFG_MAX_FASTPATH 64
#define XH_CFG_MAX_PUBLISH 64          /* rules (a range counts once) */
#define XH_CFG_MAX_PUBLISH_PORTS 4096  /* ports over all rules: map entries */
#define XH_CFG_MAX_RESERVE 64          /* entries (a port without proto counts twice) */
#define XH_CFG_MAX_UIDS 64

#define XH_CFG_UMEM_DEFAULT (2u << 20)
#define XH_CFG_UMEM_MIN (64u << 10)
#define XH_CFG_UMEM_MAX (256u << 20)

/* Keys, in documentation order; also bit numbers of xh_config.from_annotation. */
enum xh_cfg_key {
	XH_CFG_ENABLE,
	XH_CFG_MODE,
	XH_CFG_NIC,
	XH_CFG_IPS,
	XH_CFG_FASTPATH,
	XH_CFG_PUBLISH,
	XH_CFG_RESERVE,
	XH_CFG_UMEM_SIZE,
	XH_CFG_ALLOWED_UIDS,
	XH_CFG_IFACE,
	XH_CFG_ANNOTATIONS, /* the node's alone: never settable by an annotation, */
	XH_CFG_DIRECT,      /* nor this (it hands a sandbox the NIC's queues) */
	XH_CFG_NKEYS,
};

#define XH_CFG_BIT(key) (1u << (key))
/* What concerns the container alone; keys that pick host resources or
 * expose host ports (mode, nic, fastpath, publish, reserve) need the
 * node's consent. */
#define XH_CFG_ANN_DEFAULT                                                                 \
	(XH_CFG_BIT(XH_CFG_ENABLE) | XH_CFG_BIT(XH_CFG_IPS) | XH_CFG_BIT(XH_CFG_ALLOWED_UIDS) | \
	 XH_CFG_BIT(XH_CFG_UMEM_SIZE))
#define XH_CFG_ANN_ALL (XH_CFG_BIT(XH_CFG_ANNOTATIONS) - 1)

/* An address with prefix length. ip.family is XH_AF_INET/XH_AF_INET6,
 * ip.addr in network byte order (IPv4 in the first 4 bytes, rest zero). */
struct xh_cidr {
	struct xh_ip ip;
	uint8_t plen;
	bool plen_given; /* false: plen is the full length (32/128) by default */
};

/* host_lo..host_hi -> sandbox_lo..sandbox_hi, inclusive, equal lengths;
 * a single port has lo == hi. */
struct xh_publish_rule {
	uint8_t proto; /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t host_lo, host_hi;
	uint16_t sandbox_lo, sandbox_hi;
};

struct xh_port_range {
	uint8_t proto; /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t lo, hi;
};

/* Fixed arrays: nothing to free, copyable. */
struct xh_config {
	bool enable;
	enum xh_mode_id mode; /* XH_POD / XH_HOST / XH_NETNS */
	char nic[16];         /* "" = device of the default route */

	size_t n_ips;         /* 0 = the addresses the CNI configured */
	struct xh_cidr ips[XH_CFG_MAX_IPS];

	bool fastpath_none;   /* "none": everything goes through the kernel */
	size_t n_fastpath;    /* 0 (and not none) = the NIC's connected subnets */
	struct xh_cidr fastpath[XH_CFG_MAX_FASTPATH];

	bool publish_all;
	size_t n_publish;
	struct xh_publish_rule publish[XH_CFG_MAX_PUBLISH];

	size_t n_reserve;
	struct xh_port_range reserve[XH_CFG_MAX_RESERVE];

	uint32_t umem_size;

	size_t n_uids;
	uint32_t allowed_uids[XH_CFG_MAX_UIDS];

	char iface[16];       /* netns mode; "" = found in the container */
	bool direct;          /* host mode: "rx" or "rx-zerocopy" */
	bool direct_zerocopy; /* "rx-zerocopy" */

	unsigned int ann_allowed;     /* XH_CFG_BIT(key): annotations may set key */
	unsigned int from_annotation; /* XH_CFG_BIT(key): set by an annotation */
	unsigned int set_keys;        /* the same bits: set by the file or an annotation */
};

/* The built-in defaults. */
void xh_config_init(struct xh_config *cfg);

/* $XDPHOOK_CONFIG if set and not empty, else XH_CONFIG_PATH. */
const char *xh_config_path(void);

/* Defaults, then the file at path. A missing file (ENOENT) leaves the
 * defaults and returns 0; an unreadable, world-writable, invalid JSON,
 * non-object file, an unknown key or a bad value is an error. On error cfg
 * holds the defaults. */
int xh_config_load_file(const char *path, struct xh_config *cfg);

/* Apply the io.xdphook.<key> annotations over cfg; other annotations are
 * ignored, unknown io.xdphook.* keys are errors, and so is a key that
 * cfg->ann_allowed does not list (the detail names node_path, the node
 * config file cfg came from; NULL: xh_config_path()). Then checks what only the merged result
 * shows: an annotation setting publish or reserve in pod mode, or ips in
 * host mode. On error cfg is unchanged. */
int xh_config_apply_annotations(struct xh_config *cfg, const struct xh_annotation *ann, size_t n,
				const char *node_path);

/* Parse one key's value as an annotation would give it (used by both of
 * the above; handy for tests and tools). where prefixes error details. */
int xh_config_set(struct xh_config *cfg, enum xh_cfg_key key, const char *value, const char *where);

const char *xh_config_key_name(enum xh_cfg_key key);
/* "pod", "host", "netns" */
const char *xh_addr_mode_name(enum xh_mode_id mode);
/* -ENOENT for an unknown name. */
int xh_config_key_lookup(const char *name, enum xh_cfg_key *key);

/* "10.1.2.3/24", "fd00::/8"; the length only if plen_given. */
int xh_cidr_format(const struct xh_cidr *c, char *buf, size_t size);
/* "tcp" / "udp" */
const char *xh_proto_name(uint8_t proto);

#endif
