/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_hook configuration: node file + io.xdphook.<key> annotations. */
#define _GNU_SOURCE /* secure_getenv */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util.h"

#define UID_MAX_VALID 4294967294u /* (uid_t)-1 means "no uid" to the kernel */

/* ---- error details -------------------------------------------------------- */

/* `<where>: "<item>": <reason>`, the item escaped (it is user input). */
static int __attribute__((format(printf, 4, 5)))
item_err(int err, const char *where, const char *item, const char *fmt, ...)
{
	char reason[256], q[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return xh_err(err, "%s: \"%s\": %s", where, xh_str_escape(item, q, sizeof(q)), reason);
}

/* ---- small parsers ------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim blanks in place; returns the start. */
static char *trim(char *s)
{
	char *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
		*--end = '\0';
	return s;
}

typedef int (*item_fn)(struct xh_config *cfg, const char *item, const char *where);

/* Call fn for each comma-separated item of value, blanks trimmed. An empty
 * value is an empty list; an empty item is an error. */
static int for_each_item(struct xh_config *cfg, const char *value, const char *where, item_fn fn)
{
	cleanup_free char *copy = strdup(value);
	char *p, *item;
	int err;

	if (!copy)
		return -ENOMEM;
	p = trim(copy);
	if (!*p)
		return 0;
	for (;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		item = trim(p);
		if (!*item)
			return item_err(-EINVAL, where, value, "empty item in the list");
		err = fn(cfg, item, where);
		if (err)
			return err;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* A port 1..65535. text is a piece of item, named in the detail. */
static int parse_port(const char *text, const char *item, const char *where, uint16_t *port)
{
	char q[64];
	uint64_t v;
	int err = xh_parse_u64(text, &v);

	if (err == -EINVAL)
		return item_err(-EINVAL, where, item, "\"%s\" is not a port number",
				xh_str_escape(text, q, sizeof(q)));
	if (err || v < 1 || v > 65535)
		return item_err(-EINVAL, where, item, "port %s out of range 1..65535",
				xh_str_escape(text, q, sizeof(q)));
	*port = (uint16_t)v;
	return 0;
}

/* PORT or LO-HI, modifying text. */
static int parse_port_range(char *text, const char *item, const char *where, uint16_t *lo,
			    uint16_t *hi)
{
	char *dash = strchr(text, '-');
	int err;

	if (dash)
		*dash = '\0';
	err = parse_port(text, item, where, lo);
	if (err)
		return err;
	if (!dash) {
		*hi = *lo;
		return 0;
	}
	err = parse_port(dash + 1, item, where, hi);
	if (err)
		return err;
	if (*hi < *lo)
		return item_err(-EINVAL, where, item, "port range %u-%u runs backwards", *lo, *hi);
	return 0;
}

static int parse_proto(const char *text, const char *item, const char *where, uint8_t *proto)
{
	char q[64];

	if (!strcmp(text, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(text, "udp"))
		*proto = IPPROTO_UDP;
	else
		return item_err(-EINVAL, where, item, "bad protocol \"%s\" (tcp or udp)",
				xh_str_escape(text, q, sizeof(q)));
	return 0;
}

/* Copy an item into a fixed buffer for splitting; items longer than any
 * valid one are refused here. */
static int copy_item(char *buf, size_t size, const char *item, const char *where)
{
	if (strlen(item) >= size)
		return item_err(-EINVAL, where, item, "too long");
	strcpy(buf, item);
	return 0;
}

const char *xh_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_TCP ? "tcp" : "?";
}

/* ---- addresses ---------------------------------------------------------------- */

static unsigned int family_bits(const struct xh_cidr *c)
{
	return c->ip.family == XH_AF_INET ? 32 : 128;
}

static bool host_bits_set(const struct xh_cidr *c)
{
	for (unsigned int bit = c->plen; bit < family_bits(c); bit++)
		if (c->ip.addr[bit / 8] & (0x80 >> (bit % 8)))
			return true;
	return false;
}

static void clear_host_bits(struct xh_cidr *c)
{
	for (unsigned int bit = c->plen; bit < family_bits(c); bit++)
		c->ip.addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

/* Why an address cannot be a sandbox's own, or NULL. */
static const char *not_unicast(const struct xh_cidr *c)
{
	const uint8_t *a = c->ip.addr;
	static const uint8_t zero[16];

	if (c->ip.family == XH_AF_INET) {
		if (a[0] == 0)
			return "in 0.0.0.0/8 (this network), not a unicast address";
		if (a[0] == 127)
			return "a loopback address";
		if (a[0] >= 224 && a[0] <= 239)
			return "a multicast address";
		if (a[0] >= 240)
			return "reserved or broadcast, not a unicast address";
		return NULL;
	}
	if (!memcmp(a, zero, 16))
		return "the unspecified address";
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return "the loopback address";
	if (a[0] == 0xff)
		return "a multicast address";
	return NULL;
}

/* ADDR[/LEN]. */
static int parse_cidr(const char *item, const char *where, struct xh_cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint32_t plen;
	int err;

	err = copy_item(buf, sizeof(buf), item, where);
	if (err)
		return err;
	memset(c, 0, sizeof(*c));
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	c->ip.family = strchr(buf, ':') ? XH_AF_INET6 : XH_AF_INET;
	if (inet_pton(c->ip.family == XH_AF_INET ? AF_INET : AF_INET6, buf, c->ip.addr) != 1)
		return item_err(-EINVAL, where, item, "not an %s address",
				c->ip.family == XH_AF_INET ? "IPv4" : "IPv6");
	c->plen = (uint8_t)family_bits(c);
	if (!slash)
		return 0;
	err = xh_parse_u32(slash + 1, family_bits(c), &plen);
	if (err == -EINVAL)
		return item_err(-EINVAL, where, item, "bad prefix length");
	if (err)
		return item_err(-EINVAL, where, item, "prefix length out of range 0..%u",
				family_bits(c));
	c->plen = (uint8_t)plen;
	c->plen_given = true;
	return 0;
}

int xh_cidr_format(const struct xh_cidr *c, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int af = c->ip.family == XH_AF_INET ? AF_INET : AF_INET6;

	if (!inet_ntop(af, c->ip.addr, a, sizeof(a)))
		return -errno;
	if (c->plen_given)
		return xh_snprintf(buf, size, "%s/%u", a, c->plen);
	return xh_snprintf(buf, size, "%s", a);
}

static bool same_addr(const struct xh_cidr *a, const struct xh_cidr *b)
{
	return a->ip.family == b->ip.family && !memcmp(a->ip.addr, b->ip.addr, 16);
}

static int add_ip(struct xh_config *cfg, const char *item, const char *where)
{
	struct xh_cidr c;
	const char *why;
	int err = parse_cidr(item, where, &c);

	if (err)
		return err;
	why = not_unicast(&c);
	if (why)
		return item_err(-EINVAL, where, item, "%s", why);
	for (size_t i = 0; i < cfg->n_ips; i++)
		if (same_addr(&cfg->ips[i], &c))
			return item_err(-EINVAL, where, item, "address listed twice");
	if (cfg->n_ips == XH_CFG_MAX_IPS)
		return xh_err(-E2BIG, "%s: more than %d addresses", where, XH_CFG_MAX_IPS);
	cfg->ips[cfg->n_ips++] = c;
	return 0;
}

static int add_fastpath(struct xh_config *cfg, const char *item, const char *where)
{
	struct xh_cidr c;
	int err;

	if (!strcmp(item, "none"))
		return item_err(-EINVAL, where, item, "\"none\" cannot be combined with prefixes");
	err = parse_cidr(item, where, &c);
	if (err)
		return err;
	if (host_bits_set(&c)) {
		char hint[INET6_ADDRSTRLEN + 8];

		clear_host_bits(&c);
		xh_cidr_format(&c, hint, sizeof(hint));
		return item_err(-EINVAL, where, item, "host bits set (did you mean %s?)", hint);
	}
	for (size_t i = 0; i < cfg->n_fastpath; i++)
		if (same_addr(&cfg->fastpath[i], &c) && cfg->fastpath[i].plen == c.plen)
			return item_err(-EINVAL, where, item, "prefix listed twice");
	if (cfg->n_fastpath == XH_CFG_MAX_FASTPATH)
		return xh_err(-E2BIG, "%s: more than %d prefixes", where, XH_CFG_MAX_FASTPATH);
	cfg->fastpath[cfg->n_fastpath++] = c;
	return 0;
}

/* ---- ports ---------------------------------------------------------------------- */

static int format_rule(const struct xh_publish_rule *r, char *buf, size_t size)
{
	char h[16], s[16];

	if (r->host_lo == r->host_hi)
		snprintf(h, sizeof(h), "%u", r->host_lo);
	else
		snprintf(h, sizeof(h), "%u-%u", r->host_lo, r->host_hi);
	if (r->sandbox_lo == r->sandbox_hi)
		snprintf(s, sizeof(s), "%u", r->sandbox_lo);
	else
		snprintf(s, sizeof(s), "%u-%u", r->sandbox_lo, r->sandbox_hi);
	return xh_snprintf(buf, size, "%s:%s/%s", h, s, xh_proto_name(r->proto));
}

/* [HOST:]SANDBOX[/PROTO], HOST and SANDBOX each PORT or LO-HI. */
static int add_publish(struct xh_config *cfg, const char *item, const char *where)
{
	struct xh_publish_rule r = { .proto = IPPROTO_TCP };
	char buf[48];
	char *slash, *colon, *host, *sandbox;
	int err;

	if (!strcmp(item, "all"))
		return item_err(-EINVAL, where, item, "\"all\" cannot be combined with port rules");
	err = copy_item(buf, sizeof(buf), item, where);
	if (err)
		return err;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		err = parse_proto(slash + 1, item, where, &r.proto);
		if (err)
			return err;
	}
	host = sandbox = buf;
	colon = strchr(buf, ':');
	if (colon) {
		if (strchr(colon + 1, ':'))
			return item_err(-EINVAL, where, item,
					"too many ':' (HOSTPORT:SANDBOXPORT; host addresses are not supported)");
		*colon = '\0';
		sandbox = colon + 1;
	}
	err = parse_port_range(host, item, where, &r.host_lo, &r.host_hi);
	if (!err && sandbox != host)
		err = parse_port_range(sandbox, item, where, &r.sandbox_lo, &r.sandbox_hi);
	if (err)
		return err;
	if (sandbox == host) {
		r.sandbox_lo = r.host_lo;
		r.sandbox_hi = r.host_hi;
	}
	if (r.host_hi - r.host_lo != r.sandbox_hi - r.sandbox_lo)
		return item_err(-EINVAL, where, item,
				"host range has %u ports, sandbox range %u: they must be equal",
				r.host_hi - r.host_lo + 1u, r.sandbox_hi - r.sandbox_lo + 1u);
	if (cfg->n_publish == XH_CFG_MAX_PUBLISH)
		return xh_err(-E2BIG, "%s: more than %d rules", where, XH_CFG_MAX_PUBLISH);
	cfg->publish[cfg->n_publish++] = r;
	return 0;
}

static bool ranges_overlap(unsigned int alo, unsigned int ahi, unsigned int blo, unsigned int bhi)
{
	return alo <= bhi && blo <= ahi;
}

/* A host port/proto must lead to one sandbox port, and each sandbox
 * port/proto must come from one host port: the reverse translation of the
 * sandbox's replies depends on it. */
static int check_publish(const struct xh_config *cfg, const char *where)
{
	size_t total = 0;

	for (size_t i = 0; i < cfg->n_publish; i++) {
		const struct xh_publish_rule *a = &cfg->publish[i];

		total += a->host_hi - a->host_lo + 1u;
		for (size_t j = i + 1; j < cfg->n_publish; j++) {
			const struct xh_publish_rule *b = &cfg->publish[j];
			char fa[48], fb[48];
			bool host;

			if (a->proto != b->proto)
				continue;
			host = ranges_overlap(a->host_lo, a->host_hi, b->host_lo, b->host_hi);
			if (!host &&
			    !ranges_overlap(a->sandbox_lo, a->sandbox_hi, b->sandbox_lo, b->sandbox_hi))
				continue;
			format_rule(a, fa, sizeof(fa));
			format_rule(b, fb, sizeof(fb));
			if (host)
				return xh_err(-EINVAL, "%s: host port %u/%s published twice (%s and %s)",
					      where, a->host_lo > b->host_lo ? a->host_lo : b->host_lo,
					      xh_proto_name(a->proto), fa, fb);
			return xh_err(-EINVAL,
				      "%s: sandbox port %u/%s is the target of two rules (%s and %s)",
				      where,
				      a->sandbox_lo > b->sandbox_lo ? a->sandbox_lo : b->sandbox_lo,
				      xh_proto_name(a->proto), fa, fb);
		}
	}
	if (total > XH_CFG_MAX_PUBLISH_PORTS)
		return xh_err(-E2BIG, "%s: %zu ports published, at most %d", where, total,
			      XH_CFG_MAX_PUBLISH_PORTS);
	return 0;
}

static int add_reserve_entry(struct xh_config *cfg, uint8_t proto, uint16_t lo, uint16_t hi,
			     const char *where)
{
	if (cfg->n_reserve == XH_CFG_MAX_RESERVE)
		return xh_err(-E2BIG, "%s: more than %d entries (a port without /tcp or /udp counts twice)",
			      where, XH_CFG_MAX_RESERVE);
	cfg->reserve[cfg->n_reserve++] = (struct xh_port_range){ .proto = proto, .lo = lo, .hi = hi };
	return 0;
}

/* PORT[-HI][/PROTO]; no protocol reserves both. */
static int add_reserve(struct xh_config *cfg, const char *item, const char *where)
{
	uint8_t proto = 0;
	uint16_t lo, hi;
	char buf[32];
	char *slash;
	int err;

	err = copy_item(buf, sizeof(buf), item, where);
	if (err)
		return err;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		err = parse_proto(slash + 1, item, where, &proto);
		if (err)
			return err;
	}
	err = parse_port_range(buf, item, where, &lo, &hi);
	if (err)
		return err;
	if (proto)
		return add_reserve_entry(cfg, proto, lo, hi, where);
	err = add_reserve_entry(cfg, IPPROTO_TCP, lo, hi, where);
	if (err)
		return err;
	return add_reserve_entry(cfg, IPPROTO_UDP, lo, hi, where);
}

static int add_uid(struct xh_config *cfg, const char *item, const char *where)
{
	uint64_t v;
	int err = xh_parse_u64(item, &v);

	if (err == -EINVAL)
		return item_err(-EINVAL, where, item, "not a numeric uid");
	if (err || v > UID_MAX_VALID)
		return item_err(-EINVAL, where, item, "uid out of range 0..%u", UID_MAX_VALID);
	if (cfg->n_uids == XH_CFG_MAX_UIDS)
		return xh_err(-E2BIG, "%s: more than %d uids", where, XH_CFG_MAX_UIDS);
	cfg->allowed_uids[cfg->n_uids++] = (uint32_t)v;
	return 0;
}

/* ---- keys ----------------------------------------------------------------------- */

static int set_enable(struct xh_config *cfg, const char *v, const char *where)
{
	if (!strcmp(v, "true"))
		cfg->enable = true;
	else if (!strcmp(v, "false"))
		cfg->enable = false;
	else
		return item_err(-EINVAL, where, v, "must be true or false");
	return 0;
}

static int set_direct(struct xh_config *cfg, const char *v, const char *where)
{
	cfg->direct_zerocopy = !strcmp(v, "rx-zerocopy");
	if (!strcmp(v, "rx") || cfg->direct_zerocopy)
		cfg->direct = true;
	else if (!strcmp(v, "false"))
		cfg->direct = false;
	else
		return item_err(-EINVAL, where, v, "must be \"rx\", \"rx-zerocopy\" or false");
	return 0;
}

static int set_mode(struct xh_config *cfg, const char *v, const char *where)
{
	if (!strcmp(v, "pod"))
		cfg->mode = XH_POD;
	else if (!strcmp(v, "host"))
		cfg->mode = XH_HOST;
	else if (!strcmp(v, "netns"))
		cfg->mode = XH_NETNS;
	else
		return item_err(-EINVAL, where, v, "must be pod, host or netns");
	return 0;
}

const char *xh_addr_mode_name(enum xh_mode_id mode)
{
	return mode == XH_HOST ? "host" : mode == XH_NETNS ? "netns" : "pod";
}

/* What the kernel's dev_valid_name() accepts, minus control characters. */
static int set_ifname(char dst[16], const char *v, const char *where)
{
	size_t len = strlen(v);

	if (len >= 16)
		return item_err(-EINVAL, where, v, "interface name longer than %d characters", 15);
	if (!strcmp(v, ".") || !strcmp(v, ".."))
		return item_err(-EINVAL, where, v, "not an interface name");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '/' || c == ':' || c <= 0x20 || c >= 0x7f)
			return item_err(-EINVAL, where, v,
					"character 0x%02x not allowed in an interface name", c);
	}
	memcpy(dst, v, len + 1);
	return 0;
}

static int set_nic(struct xh_config *cfg, const char *v, const char *where)
{
	return set_ifname(cfg->nic, v, where);
}

static int set_iface(struct xh_config *cfg, const char *v, const char *where)
{
	return set_ifname(cfg->iface, v, where);
}

static int set_ips(struct xh_config *cfg, const char *v, const char *where)
{
	cfg->n_ips = 0;
	return for_each_item(cfg, v, where, add_ip);
}

static int set_fastpath(struct xh_config *cfg, const char *v, const char *where)
{
	cfg->n_fastpath = 0;
	cfg->fastpath_none = !strcmp(v, "none");
	if (cfg->fastpath_none)
		return 0;
	return for_each_item(cfg, v, where, add_fastpath);
}

static int set_publish(struct xh_config *cfg, const char *v, const char *where)
{
	int err;

	cfg->n_publish = 0;
	cfg->publish_all = !strcmp(v, "all");
	if (cfg->publish_all)
		return 0;
	err = for_each_item(cfg, v, where, add_publish);
	if (err)
		return err;
	return check_publish(cfg, where);
}

static int set_reserve(struct xh_config *cfg, const char *v, const char *where)
{
	cfg->n_reserve = 0;
	return for_each_item(cfg, v, where, add_reserve);
}

static int set_umem_size(struct xh_config *cfg, const char *v, const char *where)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = { { "", 1 }, { "K", 1 << 10 }, { "KiB", 1 << 10 }, { "M", 1 << 20 }, { "MiB", 1 << 20 } };
	char digits[24];
	size_t n = strspn(v, "0123456789");
	uint64_t size, mult = 0;

	if (n == 0 || n >= sizeof(digits))
		return item_err(-EINVAL, where, v, "not a size (bytes, or a number with K/KiB or M/MiB)");
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcasecmp(v + n, units[i].suffix))
			mult = units[i].mult;
	if (!mult)
		return item_err(-EINVAL, where, v, "not a size (bytes, or a number with K/KiB or M/MiB)");
	memcpy(digits, v, n);
	digits[n] = '\0';
	if (xh_parse_u64(digits, &size) || size > UINT64_MAX / mult)
		return item_err(-EINVAL, where, v, "out of range");
	size *= mult;
	if (size < XH_CFG_UMEM_MIN || size > XH_CFG_UMEM_MAX)
		return item_err(-EINVAL, where, v, "%llu bytes, outside %u (64K)..%u (256M)",
				(unsigned long long)size, XH_CFG_UMEM_MIN, XH_CFG_UMEM_MAX);
	if (size & (size - 1))
		return item_err(-EINVAL, where, v, "%llu bytes is not a power of two",
				(unsigned long long)size);
	cfg->umem_size = (uint32_t)size;
	return 0;
}

static int set_allowed_uids(struct xh_config *cfg, const char *v, const char *where)
{
	int err;

	cfg->n_uids = 0;
	err = for_each_item(cfg, v, where, add_uid);
	if (err)
		return err;
	if (!cfg->n_uids)
		return xh_err(-EINVAL, "%s: empty: no client could take the endpoint", where);
	return 0;
}

static int allow_key(struct xh_config *cfg, const char *item, const char *where)
{
	enum xh_cfg_key key;

	if (!strcmp(item, "all"))
		return item_err(-EINVAL, where, item, "\"all\" cannot be combined with keys");
	if (xh_config_key_lookup(item, &key))
		return item_err(-EINVAL, where, item, "not a config key");
	if (key == XH_CFG_ANNOTATIONS || key == XH_CFG_DIRECT)
		return item_err(-EINVAL, where, item, "only the node config sets it");
	if (cfg->ann_allowed & XH_CFG_BIT(key))
		return item_err(-EINVAL, where, item, "key listed twice");
	cfg->ann_allowed |= XH_CFG_BIT(key);
	return 0;
}

static int set_annotations(struct xh_config *cfg, const char *v, const char *where)
{
	if (!strcmp(v, "all")) {
		cfg->ann_allowed = XH_CFG_ANN_ALL;
		return 0;
	}
	cfg->ann_allowed = 0;
	return for_each_item(cfg, v, where, allow_key);
}

/* JSON forms the file accepts for a key, besides a string. */
enum { J_BOOL = 1, J_INT = 2, J_ARRAY = 4, J_NO_STRING = 8 };

static const struct key_desc {
	const char *name;
	int (*set)(struct xh_config *cfg, const char *value, const char *where);
	unsigned int json;
	const char *expect; /* for type errors in the file */
} keys[XH_CFG_NKEYS] = {
	[XH_CFG_ENABLE] = { "enable", set_enable, J_BOOL | J_NO_STRING, "a boolean" },
	[XH_CFG_MODE] = { "mode", set_mode, 0, "a string" },
	[XH_CFG_NIC] = { "nic", set_nic, 0, "a string" },
	[XH_CFG_IPS] = { "ips", set_ips, J_ARRAY, "a string or an array of strings" },
	[XH_CFG_FASTPATH] = { "fastpath", set_fastpath, J_ARRAY, "a string or an array of strings" },
	[XH_CFG_PUBLISH] = { "publish", set_publish, J_ARRAY | J_INT,
			     "a string, an integer or an array of them" },
	[XH_CFG_RESERVE] = { "reserve", set_reserve, J_ARRAY | J_INT,
			     "a string, an integer or an array of them" },
	[XH_CFG_UMEM_SIZE] = { "umem_size", set_umem_size, J_INT, "a string or an integer" },
	[XH_CFG_ALLOWED_UIDS] = { "allowed_uids", set_allowed_uids, J_ARRAY | J_INT,
				  "a string, an integer or an array of them" },
	[XH_CFG_IFACE] = { "iface", set_iface, 0, "a string" },
	[XH_CFG_ANNOTATIONS] = { "annotations", set_annotations, J_ARRAY,
				 "a string or an array of strings" },
	[XH_CFG_DIRECT] = { "direct", set_direct, J_BOOL, "\"rx\", \"rx-zerocopy\" or false" },
};

const char *xh_config_key_name(enum xh_cfg_key key)
{
	return (unsigned int)key < XH_CFG_NKEYS ? keys[key].name : "?";
}

int xh_config_key_lookup(const char *name, enum xh_cfg_key *key)
{
	for (unsigned int i = 0; i < XH_CFG_NKEYS; i++) {
		if (!strcmp(name, keys[i].name)) {
			*key = i;
			return 0;
		}
	}
	return -ENOENT;
}

#define KEY_LIST                                                                            \
	"enable, mode, nic, ips, fastpath, publish, reserve, umem_size, allowed_uids, iface, " \
	"annotations, direct"

void xh_config_init(struct xh_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enable = true;
	cfg->mode = XH_POD;
	/* 22 stays the host's (ssh), whatever a publish=all sandbox wants */
	cfg->reserve[0] = (struct xh_port_range){ .proto = IPPROTO_TCP, .lo = 22, .hi = 22 };
	cfg->reserve[1] = (struct xh_port_range){ .proto = IPPROTO_UDP, .lo = 22, .hi = 22 };
	cfg->n_reserve = 2;
	cfg->umem_size = XH_CFG_UMEM_DEFAULT;
	cfg->allowed_uids[0] = 0;
	cfg->n_uids = 1;
	cfg->ann_allowed = XH_CFG_ANN_DEFAULT;
}

const char *xh_config_path(void)
{
	const char *p = secure_getenv(XH_CONFIG_ENV);

	return p && *p ? p : XH_CONFIG_PATH;
}

int xh_config_set(struct xh_config *cfg, enum xh_cfg_key key, const char *value, const char *where)
{
	struct xh_config tmp = *cfg;
	cleanup_free char *copy = NULL;
	int err;

	if ((unsigned int)key >= XH_CFG_NKEYS)
		return -EINVAL;
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	err = keys[key].set(&tmp, trim(copy), where);
	if (err)
		return err;
	tmp.set_keys |= 1u << key;
	*cfg = tmp;
	return 0;
}

/* ---- the file ------------------------------------------------------------------- */

/* netns mode changes nothing in the host netns: keys that pick or program
 * host resources make no sense with it. Checked for the keys set by the
 * same layer that chose netns (or a later one): a node file's defaults
 * for the other modes stay valid when an annotation picks netns. */
static int check_netns_keys(const struct xh_config *cfg, unsigned int set, const char *prefix)
{
	static const enum xh_cfg_key host_keys[] = { XH_CFG_NIC, XH_CFG_FASTPATH, XH_CFG_PUBLISH, XH_CFG_RESERVE,
						     XH_CFG_DIRECT };

	if (cfg->mode != XH_NETNS)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(host_keys); i++)
		if ((set & (1u << host_keys[i])) && (host_keys[i] != XH_CFG_DIRECT || cfg->direct))
			return xh_err(-EINVAL, "%s%s does not apply to mode netns (it changes nothing on the host)",
				      prefix, keys[host_keys[i]].name);
	return 0;
}

/* One array element or scalar as list text, or an error naming it. */
static int json_item_text(const struct key_desc *k, json_t *v, const char *where,
			  const char *label, char *num, size_t num_size, const char **out)
{
	if (json_is_string(v)) {
		*out = json_string_value(v);
		return 0;
	}
	if (json_is_integer(v) && (k->json & J_INT)) {
		snprintf(num, num_size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = num;
		return 0;
	}
	return xh_err(-EINVAL, "%s: %s must be %s, got %s", where, label,
		      (k->json & J_INT) ? "a string or an integer" : "a string",
		      xh_json_type_name(v));
}

/* An array as the comma-separated text an annotation would hold. */
static int json_array_text(const struct key_desc *k, json_t *arr, const char *where, char **out)
{
	size_t cap = 1, len = 0, i;
	cleanup_free char *s = NULL;
	json_t *v;

	json_array_foreach(arr, i, v) {
		char num[32], label[32];
		const char *t = NULL;
		size_t tl;
		char *ns;
		int err;

		snprintf(label, sizeof(label), "item %zu", i);
		err = json_item_text(k, v, where, label, num, sizeof(num), &t);
		if (err)
			return err;
		if (strchr(t, ','))
			return item_err(-EINVAL, where, t, "one value per array item");
		tl = strlen(t);
		cap += tl + 1;
		ns = realloc(s, cap);
		if (!ns)
			return -ENOMEM;
		s = ns;
		if (i)
			s[len++] = ',';
		memcpy(s + len, t, tl);
		len += tl;
		s[len] = '\0';
	}
	if (!s) {
		s = strdup("");
		if (!s)
			return -ENOMEM;
	}
	*out = steal_pointer(&s);
	return 0;
}

/* A JSON value as the text an annotation would hold, if its type fits. */
static int json_value_text(const struct key_desc *k, json_t *v, const char *where, char **out)
{
	char num[32];
	const char *t = NULL;

	if (json_is_boolean(v) && (k->json & J_BOOL))
		t = json_is_true(v) ? "true" : "false";
	else if (json_is_string(v) && !(k->json & J_NO_STRING))
		t = json_string_value(v);
	else if (json_is_integer(v) && (k->json & J_INT)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		t = num;
	} else if (json_is_array(v) && (k->json & J_ARRAY))
		return json_array_text(k, v, where, out);
	else
		return xh_err(-EINVAL, "%s: must be %s, got %s", where, k->expect,
			      xh_json_type_name(v));
	*out = strdup(t);
	return *out ? 0 : -ENOMEM;
}

static int apply_json(struct xh_config *cfg, json_t *root, const char *path)
{
	const char *name;
	json_t *v;

	json_object_foreach(root, name, v) {
		cleanup_free char *text = NULL;
		enum xh_cfg_key key;
		char where[4096 + 32], q[64];
		int err;

		/* xdp_runtime's (node config only; it checks the value) */
		if (!strcmp(name, "runtime"))
			continue;
		if (xh_config_key_lookup(name, &key))
			return xh_err(-EINVAL, "%s: unknown key \"%s\" (keys: " KEY_LIST ")", path,
				      xh_str_escape(name, q, sizeof(q)));
		snprintf(where, sizeof(where), "%s: %s", path, name);
		err = json_value_text(&keys[key], v, where, &text);
		if (!err)
			err = xh_config_set(cfg, key, text, where);
		if (err)
			return err;
	}
	return 0;
}

int xh_config_load_file(const char *path, struct xh_config *cfg)
{
	cleanup_close int fd = -1;
	cleanup_free char *buf = NULL;
	json_auto_t *root = NULL;
	struct xh_config tmp;
	struct stat st;
	char prefix[4096 + 8];
	size_t len;
	int err;

	xh_config_init(cfg);
	snprintf(prefix, sizeof(prefix), "%s: ", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return xh_err(-errno, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st))
		return xh_err(-errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return xh_err(-EINVAL, "%s: not a regular file", path);
	/* it decides who may take endpoints and what is published */
	if (st.st_mode & S_IWOTH)
		return xh_err(-EPERM, "%s: writable by every user; refusing it (chmod o-w)", path);
	err = xh_read_all(fd, XH_OCI_STATE_MAX, &buf, &len);
	if (err == -E2BIG)
		return xh_err(err, "%s: larger than %u bytes", path, XH_OCI_STATE_MAX);
	if (err)
		return xh_err(err, "%s: %s", path, strerror(-err));
	err = xh_json_load(buf, len, path, &root);
	if (err)
		return err;
	xh_config_init(&tmp);
	err = apply_json(&tmp, root, path);
	if (!err)
		err = check_netns_keys(&tmp, tmp.set_keys, prefix);
	if (err)
		return err;
	*cfg = tmp;
	return 0;
}

/* ---- annotations ------------------------------------------------------------------ */

/* Keys that only one mode reads: set by an annotation for the other mode,
 * they are a mistake in the container's spec. The file sets node defaults
 * for both modes, so it is not checked. */
static int check_mode_keys(const struct xh_config *cfg)
{
	static const struct {
		enum xh_cfg_key key;
		enum xh_mode_id mode;
	} only[] = {
		{ XH_CFG_PUBLISH, XH_HOST },
		{ XH_CFG_RESERVE, XH_HOST },
		{ XH_CFG_IPS, XH_POD }, /* host mode takes the NIC's addresses, netns mode the interface's */
		{ XH_CFG_IFACE, XH_NETNS },
	};
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(only); i++) {
		if (!(cfg->from_annotation & (1u << only[i].key)) || cfg->mode == only[i].mode)
			continue;
		return xh_err(-EINVAL, "annotation " XH_ANN_PREFIX "%s applies to mode %s only (mode is %s)",
			      keys[only[i].key].name, xh_addr_mode_name(only[i].mode), xh_addr_mode_name(cfg->mode));
	}
	/* An annotation choosing netns drops the file's host-side defaults. */
	err = check_netns_keys(cfg, cfg->from_annotation, "annotation " XH_ANN_PREFIX);
	if (!err && cfg->direct && cfg->mode != XH_HOST)
		err = xh_err(-EINVAL, "direct (node config) applies to mode host only (mode is %s)",
			     xh_addr_mode_name(cfg->mode));
	return err;
}

/* "enable, ips" (or "none") for the error naming what the node allows. */
static void format_keys(unsigned int mask, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < XH_CFG_NKEYS && len < size; i++)
		if (mask & XH_CFG_BIT(i))
			len += snprintf(buf + len, size - len, "%s%s", len ? ", " : "", keys[i].name);
	if (!mask)
		snprintf(buf, size, "none");
}

/* The node decides which keys its containers' authors may set. */
static int check_allowed(const struct xh_config *cfg, enum xh_cfg_key key, const char *ann,
			 const char *node_path)
{
	char q[96], allowed[128];

	if (!node_path)
		node_path = xh_config_path();
	if (key == XH_CFG_ANNOTATIONS || key == XH_CFG_DIRECT)
		return xh_err(-EPERM, "annotation %s: only the node config (%s) sets it",
			      xh_str_escape(ann, q, sizeof(q)), node_path);
	if (cfg->ann_allowed & XH_CFG_BIT(key))
		return 0;
	format_keys(cfg->ann_allowed, allowed, sizeof(allowed));
	return xh_err(-EPERM,
		      "annotation %s: not allowed by the node config %s (its \"annotations\" key; "
		      "annotations may set: %s)",
		      xh_str_escape(ann, q, sizeof(q)), node_path, allowed);
}

int xh_config_apply_annotations(struct xh_config *cfg, const struct xh_annotation *ann, size_t n,
				const char *node_path)
{
	const size_t plen = strlen(XH_ANN_PREFIX);
	struct xh_config tmp = *cfg;
	int err;

	for (size_t i = 0; i < n; i++) {
		enum xh_cfg_key key;
		char where[64], q[96];

		if (strncmp(ann[i].key, XH_ANN_PREFIX, plen))
			continue;
		if (xh_config_key_lookup(ann[i].key + plen, &key))
			return xh_err(-EINVAL, "annotation %s: unknown key (keys: " KEY_LIST ")",
				      xh_str_escape(ann[i].key, q, sizeof(q)));
		err = check_allowed(cfg, key, ann[i].key, node_path);
		if (err)
			return err;
		snprintf(where, sizeof(where), "annotation %s", ann[i].key);
		err = xh_config_set(&tmp, key, ann[i].value, where);
		if (err)
			return err;
		tmp.from_annotation |= XH_CFG_BIT(key);
	}
	err = check_mode_keys(&tmp);
	if (err)
		return err;
	*cfg = tmp;
	return 0;
}
