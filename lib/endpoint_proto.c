/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The endpoint protocol: framing, JSON, fd passing (see endpoint_proto.h). */
#include "endpoint_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- error detail ----------------------------------------------------------- */

static __thread char ep_detail[512];
static __thread int ep_code;

int xh_ep_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ep_detail, sizeof(ep_detail), fmt, ap);
	va_end(ap);
	ep_code = err;
	return err;
}

const char *xh_ep_strerror(int err)
{
	if (err && err == ep_code && ep_detail[0])
		return ep_detail;
	return strerror(err < 0 ? -err : err);
}

/* ---- addresses ---------------------------------------------------------------- */

int xh_ep_addr_parse(const char *s, bool with_len, int *family, uint8_t addr[16], uint8_t *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	char *end;
	int max;

	if (alen == 0 || alen >= sizeof(buf) || !!slash != with_len)
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	if (!with_len) {
		if (plen)
			*plen = (uint8_t)max;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (*end || errno || len > (unsigned long)max)
		return -EINVAL;
	*plen = (uint8_t)len;
	return 0;
}

int xh_ep_addr_format(int family, const uint8_t addr[16], int plen, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if ((family != AF_INET && family != AF_INET6) || !inet_ntop(family, addr, ip, sizeof(ip)))
		return -EINVAL;
	n = plen >= 0 ? snprintf(buf, size, "%s/%d", ip, plen) : snprintf(buf, size, "%s", ip);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int xh_ep_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

void xh_ep_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* ---- the description ----------------------------------------------------------- */

static const char *const ring_names[XH_EP_NRINGS] = { "fill", "completion", "rx", "tx" };

const char *xh_ep_ring_name(enum xdp_endpoint_ring r)
{
	return (unsigned int)r < XH_EP_NRINGS ? ring_names[r] : "?";
}

uint64_t xh_ep_ring_pgoff(enum xdp_endpoint_ring r)
{
	switch (r) {
	case XDP_ENDPOINT_RING_FILL:
		return XDP_UMEM_PGOFF_FILL_RING;
	case XDP_ENDPOINT_RING_COMPLETION:
		return XDP_UMEM_PGOFF_COMPLETION_RING;
	case XDP_ENDPOINT_RING_RX:
		return XDP_PGOFF_RX_RING;
	default:
		return XDP_PGOFF_TX_RING;
	}
}

size_t xh_ep_ring_entry(enum xdp_endpoint_ring r)
{
	/* fill and completion carry UMEM addresses, rx and tx descriptors. */
	return r == XDP_ENDPOINT_RING_RX || r == XDP_ENDPOINT_RING_TX ? sizeof(struct xdp_desc)
								       : sizeof(uint64_t);
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

void xh_ep_desc_init(struct xh_ep_desc *d)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->ifname, "xdp0");
	d->mtu = 1500;
	d->frame_size = XH_EP_FRAME_SIZE;
	xh_ep_desc_set_umem(d, XH_EP_UMEM_DEFAULT);
}

int xh_ep_desc_set_umem(struct xh_ep_desc *d, uint64_t umem_size)
{
	uint64_t frames;

	if (!d->frame_size || umem_size % d->frame_size || umem_size > XDP_ENDPOINT_UMEM_MAX)
		return xh_ep_err(-EINVAL, "UMEM size %llu: not a multiple of the %u-byte frame up to %llu",
				 (unsigned long long)umem_size, d->frame_size, XDP_ENDPOINT_UMEM_MAX);
	frames = umem_size / d->frame_size;
	/* One ring entry per frame: a ring can then hold every frame the
	 * client owns, so no ring ever limits how the frames are spread. */
	uint32_t ring = XDP_ENDPOINT_RING_MIN;
	while (ring < frames && ring < XDP_ENDPOINT_RING_MAX)
		ring <<= 1;
	d->umem_size = umem_size;
	for (int i = 0; i < XH_EP_NRINGS; i++)
		d->ring[i] = ring;
	return 0;
}

static int check_family(int family)
{
	return family == AF_INET || family == AF_INET6 ? 0 : -EINVAL;
}

static int max_plen(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* The direct entries; bound: with their ring sizes (BOUND, env). */
static int direct_check(const struct xh_ep_direct *e, size_t n, bool bound)
{
	if (n > XDP_ENDPOINT_MAX_DIRECT)
		return xh_ep_err(-E2BIG, "more than %d direct sockets", XDP_ENDPOINT_MAX_DIRECT);
	for (size_t i = 0; i < n; i++) {
		size_t nlen = strnlen(e[i].ifname, sizeof(e[i].ifname));

		if (nlen == 0 || nlen >= sizeof(e[i].ifname) || e[i].ifindex <= 0 ||
		    e[i].queue >= XDP_ENDPOINT_MAX_DIRECT)
			return xh_ep_err(-EINVAL, "direct socket %zu: bad ifname, ifindex or queue", i);
		for (int r = 0; bound && r < XH_EP_DIRECT_RINGS; r++)
			if (!pow2(e[i].ring[r]) || e[i].ring[r] < XDP_ENDPOINT_RING_MIN ||
			    e[i].ring[r] > XDP_ENDPOINT_RING_MAX)
				return xh_ep_err(-EINVAL, "direct socket %zu: %s ring of %u", i,
						 ring_names[r], e[i].ring[r]);
	}
	return 0;
}

/* A UMEM's frame and total size (the DESC's, DIRECT's). */
static int umem_check(uint32_t frame_size, uint64_t size)
{
	if (!pow2(frame_size) || frame_size < 2048 || frame_size > 4096)
		return xh_ep_err(-EINVAL, "frame_size %u: not a power of two in 2048..4096", frame_size);
	if (!size || size % frame_size || size > XDP_ENDPOINT_UMEM_MAX)
		return xh_ep_err(-EINVAL, "umem_size %llu: not a multiple of frame_size up to %llu",
				 (unsigned long long)size, XDP_ENDPOINT_UMEM_MAX);
	return 0;
}

int xh_ep_desc_check(const struct xh_ep_desc *d)
{
	size_t nlen = strnlen(d->ifname, sizeof(d->ifname));
	int err;

	if (nlen == 0 || nlen >= sizeof(d->ifname))
		return xh_ep_err(-EINVAL, "ifname: empty or longer than 15 characters");
	if (d->ifindex <= 0)
		return xh_ep_err(-EINVAL, "ifindex %d: not positive", d->ifindex);
	if (d->queue >= 64)
		return xh_ep_err(-EINVAL, "queue %u: above 63", d->queue);
	if (d->mtu < 68 || d->mtu > 65535)
		return xh_ep_err(-EINVAL, "mtu %u: outside 68..65535", d->mtu);
	if (d->n_addrs > XDP_ENDPOINT_MAX_ADDRS || d->n_routes > XDP_ENDPOINT_MAX_ROUTES ||
	    d->n_gateways > XDP_ENDPOINT_MAX_GATEWAYS)
		return xh_ep_err(-E2BIG, "more than %d addresses, %d routes or %d gateways",
				 XDP_ENDPOINT_MAX_ADDRS, XDP_ENDPOINT_MAX_ROUTES,
				 XDP_ENDPOINT_MAX_GATEWAYS);
	for (size_t i = 0; i < d->n_addrs; i++)
		if (check_family(d->addrs[i].family) ||
		    d->addrs[i].prefix_len > max_plen(d->addrs[i].family))
			return xh_ep_err(-EINVAL, "address %zu: bad family or prefix length", i);
	for (size_t i = 0; i < d->n_routes; i++)
		if (check_family(d->routes[i].family) ||
		    d->routes[i].dst_len > max_plen(d->routes[i].family))
			return xh_ep_err(-EINVAL, "route %zu: bad family or prefix length", i);
	for (size_t i = 0; i < d->n_gateways; i++)
		if (check_family(d->gateways[i].family))
			return xh_ep_err(-EINVAL, "gateway %zu: bad family", i);
	if ((d->eph_lo || d->eph_hi) && (!d->eph_lo || d->eph_lo > d->eph_hi))
		return xh_ep_err(-EINVAL, "ephemeral range %u-%u: empty or starting at 0", d->eph_lo,
				 d->eph_hi);
	if ((err = umem_check(d->frame_size, d->umem_size)))
		return err;
	for (int i = 0; i < XH_EP_NRINGS; i++)
		if (!pow2(d->ring[i]) || d->ring[i] < XDP_ENDPOINT_RING_MIN ||
		    d->ring[i] > XDP_ENDPOINT_RING_MAX)
			return xh_ep_err(-EINVAL, "%s ring of %u: not a power of two in %u..%u",
					 ring_names[i], d->ring[i], XDP_ENDPOINT_RING_MIN,
					 XDP_ENDPOINT_RING_MAX);
	return direct_check(d->direct, d->n_direct, false);
}

/* json_t builders return NULL on allocation failure; the caller checks
 * the final object once (jansson's *_new functions take NULL and fail). */
static json_t *addr_json(int family, const uint8_t addr[16], int plen)
{
	char buf[INET6_ADDRSTRLEN + 8];

	if (xh_ep_addr_format(family, addr, plen, buf, sizeof(buf)))
		return NULL;
	return json_string(buf);
}

static json_t *mac_json(const uint8_t mac[6])
{
	char buf[18];

	xh_ep_mac_format(mac, buf);
	return json_string(buf);
}

/* One direct entry; with its ring sizes for BOUND and the env. */
static json_t *direct_json(const struct xh_ep_direct *e, bool bound)
{
	json_t *o = json_pack("{s:s,s:i,s:I,s:b}", "ifname", e->ifname, "ifindex", e->ifindex, "queue",
			      (json_int_t)e->queue, "zerocopy", e->zerocopy);

	for (int r = 0; o && bound && r < XH_EP_DIRECT_RINGS; r++)
		json_object_set_new(o, ring_names[r], json_integer(e->ring[r]));
	if (o && bound)
		json_object_set_new(o, "umem", json_string(e->own_umem ? "own" : "xdp0"));
	return o;
}

static json_t *directs_json(const struct xh_ep_direct *e, size_t n, bool bound)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, direct_json(&e[i], bound));
	return a;
}

static json_t *desc_json(const struct xh_ep_desc *d)
{
	json_t *addrs = json_array(), *routes = json_array(), *gws = json_array(), *rings, *o;

	for (size_t i = 0; i < d->n_addrs; i++)
		json_array_append_new(addrs, addr_json(d->addrs[i].family, d->addrs[i].addr,
						       d->addrs[i].prefix_len));
	for (size_t i = 0; i < d->n_routes; i++) {
		const struct xdp_endpoint_route *r = &d->routes[i];
		json_t *o = json_object();

		json_object_set_new(o, "dst", addr_json(r->family, r->dst, r->dst_len));
		if (r->has_via)
			json_object_set_new(o, "via", addr_json(r->family, r->via, -1));
		json_array_append_new(routes, o);
	}
	for (size_t i = 0; i < d->n_gateways; i++)
		json_array_append_new(gws, json_pack("{s:o,s:o}", "ip",
						     addr_json(d->gateways[i].family,
							       d->gateways[i].addr, -1),
						     "mac", mac_json(d->gateways[i].mac)));
	rings = json_pack("{s:I,s:I,s:I,s:I}", "fill", (json_int_t)d->ring[0], "completion",
			  (json_int_t)d->ring[1], "rx", (json_int_t)d->ring[2], "tx",
			  (json_int_t)d->ring[3]);
	o = json_pack("{s:i,s:s,s:i,s:I,s:o,s:I,s:o,s:o,s:o,s:{s:i,s:i},s:b,s:I,s:I,s:o}",
		      "version", XDP_ENDPOINT_VERSION, "ifname", d->ifname, "ifindex", d->ifindex,
		      "queue", (json_int_t)d->queue, "mac", mac_json(d->mac), "mtu",
		      (json_int_t)d->mtu, "addresses", addrs, "routes", routes, "gateways", gws,
		      "ephemeral", "lo", d->eph_lo, "hi", d->eph_hi, "xdp_copy", d->xdp_copy,
		      "frame_size", (json_int_t)d->frame_size, "umem_size",
		      (json_int_t)d->umem_size, "rings", rings);
	/* Only when there are some: older clients never see the key. */
	if (o && d->n_direct)
		json_object_set_new(o, "direct", directs_json(d->direct, d->n_direct, false));
	if (o && d->n_direct && d->direct_memfd)
		json_object_set_new(o, "direct_memfd", json_true());
	return o;
}

static int dump(json_t *j, size_t max, const char *what, char **out)
{
	char *s;

	if (!j)
		return xh_ep_err(-ENOMEM, "%s: out of memory (or a field does not format)", what);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return xh_ep_err(-ENOMEM, "%s: out of memory", what);
	if (strlen(s) > max) {
		free(s);
		return xh_ep_err(-EMSGSIZE, "%s: longer than %zu bytes", what, max);
	}
	*out = s;
	return 0;
}

int xh_ep_desc_to_json(const struct xh_ep_desc *d, char **out)
{
	int err = xh_ep_desc_check(d);

	if (err)
		return err;
	return dump(desc_json(d), XDP_ENDPOINT_DESC_MAX, "description", out);
}

/* ---- decoding: explicit types and ranges, one helper per shape ------------ */

static int get_uint(json_t *o, const char *key, uint64_t max, bool required, uint64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!j) {
		if (required)
			return xh_ep_err(-EINVAL, "description: \"%s\" missing", key);
		return 0;
	}
	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    (uint64_t)json_integer_value(j) > max)
		return xh_ep_err(-EINVAL, "description: \"%s\": not an integer in 0..%llu", key,
				 (unsigned long long)max);
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

static int get_str(json_t *o, const char *key, bool required, const char **v)
{
	json_t *j = json_object_get(o, key);

	if (!j) {
		if (required)
			return xh_ep_err(-EINVAL, "description: \"%s\" missing", key);
		*v = NULL;
		return 0;
	}
	if (!json_is_string(j))
		return xh_ep_err(-EINVAL, "description: \"%s\": not a string", key);
	*v = json_string_value(j);
	return 0;
}

static int get_array(json_t *o, const char *key, size_t max, json_t **v)
{
	json_t *j = json_object_get(o, key);

	*v = NULL;
	if (!j)
		return 0;
	if (!json_is_array(j))
		return xh_ep_err(-EINVAL, "description: \"%s\": not an array", key);
	if (json_array_size(j) > max)
		return xh_ep_err(-E2BIG, "description: \"%s\": more than %zu entries", key, max);
	*v = j;
	return 0;
}

static int bad(const char *key, size_t i, const char *what)
{
	return xh_ep_err(-EINVAL, "description: \"%s\"[%zu]: %s", key, i, what);
}

static int decode_addrs(json_t *o, struct xh_ep_desc *d)
{
	json_t *arr, *v;
	size_t i;
	int err = get_array(o, "addresses", XDP_ENDPOINT_MAX_ADDRS, &arr);

	if (err || !arr)
		return err;
	json_array_foreach(arr, i, v) {
		struct xdp_endpoint_addr *a = &d->addrs[i];

		if (!json_is_string(v) ||
		    xh_ep_addr_parse(json_string_value(v), true, &a->family, a->addr, &a->prefix_len))
			return bad("addresses", i, "not ADDR/LEN");
		d->n_addrs = i + 1;
	}
	return 0;
}

static int decode_routes(json_t *o, struct xh_ep_desc *d)
{
	json_t *arr, *v;
	size_t i;
	int err = get_array(o, "routes", XDP_ENDPOINT_MAX_ROUTES, &arr);

	if (err || !arr)
		return err;
	json_array_foreach(arr, i, v) {
		struct xdp_endpoint_route *r = &d->routes[i];
		const char *dst = NULL, *via = NULL;
		int vf;

		if (!json_is_object(v) || get_str(v, "dst", true, &dst) || get_str(v, "via", false, &via))
			return bad("routes", i, "not {\"dst\": PREFIX[, \"via\": ADDR]}");
		if (xh_ep_addr_parse(dst, true, &r->family, r->dst, &r->dst_len))
			return bad("routes", i, "dst not PREFIX/LEN");
		if (via) {
			if (xh_ep_addr_parse(via, false, &vf, r->via, NULL) || vf != r->family)
				return bad("routes", i, "via not an address of dst's family");
			r->has_via = true;
		}
		d->n_routes = i + 1;
	}
	return 0;
}

static int decode_gateways(json_t *o, struct xh_ep_desc *d)
{
	json_t *arr, *v;
	size_t i;
	int err = get_array(o, "gateways", XDP_ENDPOINT_MAX_GATEWAYS, &arr);

	if (err || !arr)
		return err;
	json_array_foreach(arr, i, v) {
		struct xdp_endpoint_gateway *g = &d->gateways[i];
		const char *ip = NULL, *mac = NULL;

		if (!json_is_object(v) || get_str(v, "ip", true, &ip) || get_str(v, "mac", true, &mac) ||
		    xh_ep_addr_parse(ip, false, &g->family, g->addr, NULL) || xh_ep_mac_parse(mac, g->mac))
			return bad("gateways", i, "not {\"ip\": ADDR, \"mac\": MAC}");
		d->n_gateways = i + 1;
	}
	return 0;
}

static int decode_rings(json_t *o, struct xh_ep_desc *d)
{
	json_t *rings = json_object_get(o, "rings");

	if (!json_is_object(rings))
		return xh_ep_err(-EINVAL, "description: \"rings\" missing or not an object");
	for (int i = 0; i < XH_EP_NRINGS; i++) {
		uint64_t v = 0;
		int err = get_uint(rings, ring_names[i], XDP_ENDPOINT_RING_MAX, true, &v);

		if (err)
			return err;
		d->ring[i] = (uint32_t)v;
	}
	return 0;
}

static int decode_scalars(json_t *o, struct xh_ep_desc *d)
{
	const char *ifname, *mac;
	uint64_t version = 0, ifindex = 0, queue = 0, mtu = 0, frame = 0, umem = 0;
	uint64_t lo = 0, hi = 0;
	json_t *eph, *copy;
	int err;

	if ((err = get_uint(o, "version", UINT16_MAX, true, &version)))
		return err;
	if (version != XDP_ENDPOINT_VERSION)
		return xh_ep_err(-EPROTO, "description: version %llu, this client speaks %d",
				 (unsigned long long)version, XDP_ENDPOINT_VERSION);
	if ((err = get_str(o, "ifname", true, &ifname)) || (err = get_str(o, "mac", true, &mac)) ||
	    (err = get_uint(o, "ifindex", INT32_MAX, true, &ifindex)) ||
	    (err = get_uint(o, "queue", UINT32_MAX, true, &queue)) ||
	    (err = get_uint(o, "mtu", UINT32_MAX, true, &mtu)) ||
	    (err = get_uint(o, "frame_size", UINT32_MAX, true, &frame)) ||
	    (err = get_uint(o, "umem_size", UINT64_MAX >> 1, true, &umem)))
		return err;
	if (strlen(ifname) >= sizeof(d->ifname))
		return xh_ep_err(-EINVAL, "description: \"ifname\": longer than 15 characters");
	strcpy(d->ifname, ifname);
	if (xh_ep_mac_parse(mac, d->mac))
		return xh_ep_err(-EINVAL, "description: \"mac\": not a MAC address");
	eph = json_object_get(o, "ephemeral");
	if (eph && (!json_is_object(eph) || (err = get_uint(eph, "lo", UINT16_MAX, true, &lo)) ||
		    (err = get_uint(eph, "hi", UINT16_MAX, true, &hi))))
		return err ? err : xh_ep_err(-EINVAL, "description: \"ephemeral\": not an object");
	copy = json_object_get(o, "xdp_copy");
	if (copy && !json_is_boolean(copy))
		return xh_ep_err(-EINVAL, "description: \"xdp_copy\": not a boolean");
	d->ifindex = (int)ifindex;
	d->queue = (uint32_t)queue;
	d->mtu = (uint32_t)mtu;
	d->frame_size = (uint32_t)frame;
	d->umem_size = umem;
	d->eph_lo = (uint16_t)lo;
	d->eph_hi = (uint16_t)hi;
	d->xdp_copy = copy && json_is_true(copy);
	return 0;
}

/* "direct": [...] of o (absent: none); bound: ring sizes required. */
static int decode_direct(json_t *o, bool bound, struct xh_ep_direct *e, size_t *n)
{
	json_t *arr, *v;
	size_t i;
	int err = get_array(o, "direct", XDP_ENDPOINT_MAX_DIRECT, &arr);

	*n = 0;
	if (err || !arr)
		return err;
	json_array_foreach(arr, i, v) {
		struct xh_ep_direct *d = &e[i];
		const char *ifname = NULL, *umem = NULL;
		uint64_t ifindex = 0, queue = 0, ring = 0;
		json_t *zc = json_object_get(v, "zerocopy");

		memset(d, 0, sizeof(*d));
		if (!json_is_object(v) || get_str(v, "ifname", true, &ifname) ||
		    get_uint(v, "ifindex", INT32_MAX, true, &ifindex) ||
		    get_uint(v, "queue", XDP_ENDPOINT_MAX_DIRECT - 1, true, &queue) ||
		    strlen(ifname) >= sizeof(d->ifname) || (zc && !json_is_boolean(zc)))
			return bad("direct", i, "not {\"ifname\", \"ifindex\", \"queue\", \"zerocopy\"}");
		for (int r = 0; bound && r < XH_EP_DIRECT_RINGS; r++) {
			if (get_uint(v, ring_names[r], XDP_ENDPOINT_RING_MAX, true, &ring))
				return bad("direct", i, "ring size missing");
			d->ring[r] = (uint32_t)ring;
		}
		/* BOUND of a keeper before "umem": socket 0's, always. */
		if (bound && (get_str(v, "umem", false, &umem) ||
			      (umem && strcmp(umem, "own") && strcmp(umem, "xdp0"))))
			return bad("direct", i, "\"umem\": not \"own\" or \"xdp0\"");
		d->own_umem = umem && !strcmp(umem, "own");
		strcpy(d->ifname, ifname);
		d->ifindex = (int)ifindex;
		d->queue = (uint32_t)queue;
		d->zerocopy = zc && json_is_true(zc);
		*n = i + 1;
	}
	return direct_check(e, *n, bound);
}

static int decode_desc(json_t *o, struct xh_ep_desc *d)
{
	json_t *memfd;
	int err;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return xh_ep_err(-EINVAL, "description: not a JSON object");
	if ((err = decode_scalars(o, d)) || (err = decode_rings(o, d)) ||
	    (err = decode_addrs(o, d)) || (err = decode_routes(o, d)) ||
	    (err = decode_gateways(o, d)) || (err = decode_direct(o, false, d->direct, &d->n_direct)))
		return err;
	memfd = json_object_get(o, "direct_memfd");
	if (memfd && !json_is_boolean(memfd))
		return xh_ep_err(-EINVAL, "description: \"direct_memfd\": not a boolean");
	d->direct_memfd = memfd && json_is_true(memfd);
	return xh_ep_desc_check(d);
}

static int load(const char *text, size_t len, size_t max, json_t **out)
{
	json_error_t e;

	if (len > max)
		return xh_ep_err(-EMSGSIZE, "JSON of %zu bytes: more than %zu", len, max);
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!*out)
		return xh_ep_err(-EINVAL, "JSON: %s (line %d)", e.text, e.line);
	return 0;
}

int xh_ep_desc_from_json(const char *text, size_t len, struct xh_ep_desc *d)
{
	json_t *o;
	int err = load(text, len, XDP_ENDPOINT_DESC_MAX, &o);

	if (err)
		return err;
	err = decode_desc(o, d);
	json_decref(o);
	return err;
}

/* ---- BOUND --------------------------------------------------------------------- */

int xh_ep_bound_to_json(const struct xh_ep_direct *d, size_t n, char **out)
{
	int err = direct_check(d, n, true);

	if (err)
		return err;
	return dump(json_pack("{s:o}", "direct", directs_json(d, n, true)), XDP_ENDPOINT_DESC_MAX,
		    "bound sockets", out);
}

int xh_ep_bound_from_json(const char *text, size_t len, struct xh_ep_direct *d, size_t *n)
{
	json_t *o;
	int err = load(text, len, XDP_ENDPOINT_DESC_MAX, &o);

	if (err)
		return err;
	err = json_is_object(o) ? decode_direct(o, true, d, n)
				: xh_ep_err(-EINVAL, "bound sockets: not a JSON object");
	json_decref(o);
	return err;
}

/* ---- DIRECT with the client's UMEM memfd ------------------------------------------ */

#define DIRECT_PAYLOAD_MAX 256u

static int geom_check(const struct xh_ep_umem_geom *g)
{
	int err = umem_check(g->frame_size, g->size);

	if (err)
		return err;
	if (g->headroom >= g->frame_size)
		return xh_ep_err(-EINVAL, "UMEM headroom %u: not below frame_size", g->headroom);
	return 0;
}

int xh_ep_direct_to_json(const struct xh_ep_umem_geom *g, char **out)
{
	int err = geom_check(g);

	if (err)
		return err;
	return dump(json_pack("{s:I,s:I,s:I}", "umem_size", (json_int_t)g->size, "frame_size",
			      (json_int_t)g->frame_size, "headroom", (json_int_t)g->headroom),
		    DIRECT_PAYLOAD_MAX, "DIRECT", out);
}

int xh_ep_direct_from_json(const char *text, size_t len, struct xh_ep_umem_geom *g)
{
	uint64_t size = 0, frame = 0, headroom = 0;
	json_t *o;
	int err = load(text, len, DIRECT_PAYLOAD_MAX, &o);

	if (err)
		return err;
	if (!json_is_object(o))
		err = xh_ep_err(-EINVAL, "DIRECT: not a JSON object");
	if (!err && (get_uint(o, "umem_size", XDP_ENDPOINT_UMEM_MAX, true, &size) ||
		     get_uint(o, "frame_size", 4096, true, &frame) ||
		     get_uint(o, "headroom", 4096, true, &headroom)))
		err = xh_ep_err(-EINVAL, "DIRECT: not {\"umem_size\", \"frame_size\", \"headroom\"} "
				"(integers)");
	json_decref(o);
	if (err)
		return err;
	*g = (struct xh_ep_umem_geom){ .size = size, .frame_size = (uint32_t)frame,
				       .headroom = (uint32_t)headroom };
	return geom_check(g);
}

/* ---- the exec wrapper's environment ----------------------------------------- */

static json_t *ring_json(const struct xh_ep_layout *l, uint32_t size, int i)
{
	const struct xdp_ring_offset *off = &l->off[i];

	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "size", (json_int_t)size, "producer",
			 (json_int_t)off->producer, "consumer", (json_int_t)off->consumer, "desc",
			 (json_int_t)off->desc, "flags", (json_int_t)off->flags, "pgoff",
			 (json_int_t)xh_ep_ring_pgoff(i));
}

int xh_ep_env_to_json(const struct xh_ep_desc *d, const struct xh_ep_layout *l, char **out)
{
	json_t *rings = json_object(), *o;
	int err = xh_ep_desc_check(d);

	if (err) {
		json_decref(rings);
		return err;
	}
	for (int i = 0; i < XH_EP_NRINGS; i++)
		json_object_set_new(rings, ring_names[i], ring_json(l, l->ring[i], i));
	o = json_pack("{s:o,s:I,s:I,s:{s:i,s:i,s:i},s:o,s:I}", "description", desc_json(d),
		      "umem_size", (json_int_t)l->umem_size, "frame_size", (json_int_t)l->frame_size,
		      "fds", "xsk", l->fd_xsk, "umem", l->fd_umem, "ctl", l->fd_ctl, "rings", rings,
		      "fill_frames", (json_int_t)l->fill_frames);
	if (o && l->n_direct) {
		json_t *arr = json_array();

		for (size_t i = 0; i < l->n_direct; i++) {
			json_t *e = direct_json(&l->direct[i], true), *r = json_object();

			for (int k = 0; k < XH_EP_DIRECT_RINGS; k++)
				json_object_set_new(r, ring_names[k], ring_json(l, l->direct[i].ring[k], k));
			json_object_set_new(e, "rings", r);
			json_object_set_new(e, "fd", json_integer(l->fd_direct[i]));
			json_array_append_new(arr, e);
		}
		json_object_set_new(o, "direct", arr);
	}
	return dump(o, 128 * 1024, "XDP_ENDPOINT_JSON", out);
}

/* The direct sockets of the env: the entries as BOUND, and their fds.
 * (Their ring offsets are socket 0's: one kernel, one layout.) */
static int decode_env_direct(json_t *o, struct xh_ep_layout *l)
{
	json_t *arr = json_object_get(o, "direct"), *v;
	uint64_t fill = 0, fd = 0;
	size_t i;
	int err = get_uint(o, "fill_frames", UINT32_MAX, false, &fill);

	if (!err)
		err = decode_direct(o, true, l->direct, &l->n_direct);
	if (err)
		return err;
	l->fill_frames = (uint32_t)fill;
	json_array_foreach(arr, i, v) {
		if ((err = get_uint(v, "fd", INT32_MAX, true, &fd)))
			return err;
		l->fd_direct[i] = (int)fd;
	}
	return 0;
}

static int decode_layout(json_t *o, struct xh_ep_layout *l)
{
	json_t *fds = json_object_get(o, "fds"), *rings = json_object_get(o, "rings");
	uint64_t umem = 0, frame = 0, fd[3] = { 0 };
	static const char *const fd_names[3] = { "xsk", "umem", "ctl" };
	int err;

	if ((err = get_uint(o, "umem_size", XDP_ENDPOINT_UMEM_MAX, true, &umem)) ||
	    (err = get_uint(o, "frame_size", 4096, true, &frame)))
		return err;
	if (!json_is_object(fds) || !json_is_object(rings))
		return xh_ep_err(-EINVAL, "XDP_ENDPOINT_JSON: \"fds\" or \"rings\" missing");
	for (int i = 0; i < 3; i++)
		if ((err = get_uint(fds, fd_names[i], INT32_MAX, true, &fd[i])))
			return err;
	for (int i = 0; i < XH_EP_NRINGS; i++) {
		json_t *r = json_object_get(rings, ring_names[i]);
		uint64_t v[5] = { 0 };
		static const char *const keys[5] = { "size", "producer", "consumer", "desc", "flags" };

		if (!json_is_object(r))
			return xh_ep_err(-EINVAL, "XDP_ENDPOINT_JSON: ring \"%s\" missing",
					 ring_names[i]);
		for (int k = 0; k < 5; k++)
			if ((err = get_uint(r, keys[k], UINT32_MAX, true, &v[k])))
				return err;
		l->ring[i] = (uint32_t)v[0];
		l->off[i] = (struct xdp_ring_offset){ .producer = v[1], .consumer = v[2],
						      .desc = v[3], .flags = v[4] };
	}
	l->umem_size = umem;
	l->frame_size = (uint32_t)frame;
	l->fd_xsk = (int)fd[0];
	l->fd_umem = (int)fd[1];
	l->fd_ctl = (int)fd[2];
	return decode_env_direct(o, l);
}

int xh_ep_env_from_json(const char *text, struct xh_ep_desc *d, struct xh_ep_layout *l)
{
	json_t *o;
	int err = load(text, strlen(text), 128 * 1024, &o);

	if (err)
		return err;
	memset(l, 0, sizeof(*l));
	if (!json_is_object(o))
		err = xh_ep_err(-EINVAL, "XDP_ENDPOINT_JSON: not an object");
	if (!err)
		err = decode_desc(json_object_get(o, "description"), d);
	if (!err)
		err = decode_layout(o, l);
	json_decref(o);
	return err;
}

/* ---- records ---------------------------------------------------------------------- */

static size_t payload_max(uint16_t type)
{
	switch (type) {
	case XDP_ENDPOINT_MSG_DESC:
	case XDP_ENDPOINT_MSG_BOUND:
		return XDP_ENDPOINT_DESC_MAX;
	case XDP_ENDPOINT_MSG_ERROR:
		return XDP_ENDPOINT_ERROR_MAX;
	case XDP_ENDPOINT_MSG_DIRECT:
		return DIRECT_PAYLOAD_MAX;
	default: /* READY, OK */
		return 0;
	}
}

static bool type_known(uint16_t type)
{
	return type >= XDP_ENDPOINT_MSG_DESC && type <= XDP_ENDPOINT_MSG_BOUND;
}

int xh_ep_msg_encode(uint16_t type, const void *payload, size_t len, void *buf, size_t size)
{
	struct xdp_endpoint_msg_hdr h = {
		.magic = XDP_ENDPOINT_MAGIC,
		.version = XDP_ENDPOINT_VERSION,
		.type = type,
		.len = (uint32_t)len,
	};

	if (!type_known(type))
		return xh_ep_err(-EINVAL, "message type %u unknown", type);
	if (len > payload_max(type) || sizeof(h) + len > size)
		return xh_ep_err(-EMSGSIZE, "message type %u: payload of %zu bytes too long", type, len);
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy((char *)buf + sizeof(h), payload, len);
	return (int)(sizeof(h) + len);
}

int xh_ep_msg_decode(const void *buf, size_t n, uint16_t *type, const void **payload, size_t *len)
{
	struct xdp_endpoint_msg_hdr h;

	if (n < sizeof(h))
		return xh_ep_err(-EBADMSG, "message of %zu bytes: shorter than its header", n);
	if (n > XDP_ENDPOINT_MSG_MAX)
		return xh_ep_err(-EMSGSIZE, "message of %zu bytes: more than %u", n,
				 XDP_ENDPOINT_MSG_MAX);
	memcpy(&h, buf, sizeof(h));
	if (h.magic != XDP_ENDPOINT_MAGIC)
		return xh_ep_err(-EBADMSG, "bad magic 0x%08x: not the xdphook endpoint protocol",
				 h.magic);
	if (h.version != XDP_ENDPOINT_VERSION)
		return xh_ep_err(-EPROTO, "protocol version %u, want %d", h.version,
				 XDP_ENDPOINT_VERSION);
	if (!type_known(h.type))
		return xh_ep_err(-EBADMSG, "message type %u unknown", h.type);
	if (h.len != n - sizeof(h))
		return xh_ep_err(-EBADMSG, "header says %u payload bytes, record has %zu", h.len,
				 n - sizeof(h));
	if (h.len > payload_max(h.type))
		return xh_ep_err(-EMSGSIZE, "message type %u: payload of %u bytes, at most %zu",
				 h.type, h.len, payload_max(h.type));
	*type = h.type;
	*payload = (const char *)buf + sizeof(h);
	*len = h.len;
	return 0;
}

int xh_ep_error_encode(int err, const char *message, char **out)
{
	char cut[XDP_ENDPOINT_ERROR_MAX / 2];
	size_t n;

	/* Half the limit for the text leaves room for JSON escapes in the
	 * common case; dump() still refuses anything over the limit. */
	snprintf(cut, sizeof(cut), "%s", message);
	/* jansson takes UTF-8 only: never cut inside a character. */
	n = strlen(cut);
	if (((unsigned char)message[n] & 0xc0) == 0x80) {
		while (n && ((unsigned char)cut[n - 1] & 0xc0) == 0x80)
			n--;
		if (n)
			n--; /* its lead byte */
		cut[n] = '\0';
	}
	return dump(json_pack("{s:i,s:s}", "errno", err < 0 ? -err : err, "message", cut),
		    XDP_ENDPOINT_ERROR_MAX, "error message", out);
}

int xh_ep_error_decode(const void *payload, size_t len, int *err, char *buf, size_t size)
{
	json_t *o;
	json_int_t e;
	const char *msg;
	int rc = load(payload, len, XDP_ENDPOINT_ERROR_MAX, &o);

	if (rc)
		return rc;
	if (json_unpack(o, "{s:I,s:s}", "errno", &e, "message", &msg) || e <= 0 || e > 4095) {
		json_decref(o);
		return xh_ep_err(-EBADMSG, "error message: not {\"errno\": N, \"message\": TEXT}");
	}
	*err = (int)e;
	snprintf(buf, size, "%s", msg);
	json_decref(o);
	return 0;
}

/* ---- sockets ------------------------------------------------------------------------ */

int xh_ep_send_fds(int sock, uint16_t type, const void *payload, size_t len, const int *fds,
		   size_t nfds)
{
	ep_cleanup_free char *buf = malloc(XDP_ENDPOINT_MSG_MAX);
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE((XDP_ENDPOINT_MAX_DIRECT + 1) * sizeof(int))];
	} ctl;
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int n;

	if (!buf)
		return -ENOMEM;
	if (nfds > XDP_ENDPOINT_MAX_DIRECT + 1)
		return xh_ep_err(-E2BIG, "%zu fds in one message", nfds);
	n = xh_ep_msg_encode(type, payload, len, buf, XDP_ENDPOINT_MSG_MAX);
	if (n < 0)
		return n;
	iov = (struct iovec){ .iov_base = buf, .iov_len = (size_t)n };
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.space;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return xh_ep_err(-errno, "send: %s", strerror(errno));
	return 0;
}

int xh_ep_send(int sock, uint16_t type, const void *payload, size_t len, int pass_fd)
{
	return xh_ep_send_fds(sock, type, payload, len, &pass_fd, pass_fd >= 0);
}

/* Up to this many fds per record are taken in (and closed unless
 * wanted); more are dropped by the kernel (MSG_CTRUNC), which closes
 * them itself. */
#define RECV_MAX_FDS (XDP_ENDPOINT_MAX_DIRECT + 1)

/* Every fd that came with m, in order, into got (closed by the caller). */
static size_t take_fds(struct msghdr *m, int *got)
{
	size_t k = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n && k < RECV_MAX_FDS; i++)
			memcpy(&got[k++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	return k;
}

int xh_ep_recv_fds(int sock, void *buf, uint16_t *type, const void **payload, size_t *len,
		   int *fds, size_t max, size_t *nfds, int flags)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(RECV_MAX_FDS * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = XDP_ENDPOINT_MSG_MAX };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
			    .msg_controllen = sizeof(ctl.space) };
	int got[RECV_MAX_FDS], err;
	size_t ngot = 0, keep = 0;
	ssize_t n;

	if (nfds)
		*nfds = 0;
	n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | flags);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : xh_ep_err(-errno, "receive: %s", strerror(errno));
	ngot = take_fds(&m, got);
	/* An empty record reads like the end of the connection, and is
	 * treated the same way: no valid record is empty. */
	if (n == 0)
		err = xh_ep_err(-EPIPE, "connection closed by the peer");
	else if (m.msg_flags & MSG_TRUNC)
		err = xh_ep_err(-EMSGSIZE, "message larger than %u bytes", XDP_ENDPOINT_MSG_MAX);
	else
		err = xh_ep_msg_decode(buf, (size_t)n, type, payload, len);
	/* A DESC's or DIRECT's fd is taken if it is the only one (else the
	 * receiver says it came without one); a BOUND's all, up to max; none
	 * of others: fds on a client's record are closed unread (the keeper
	 * ignores them), on a keeper's they are an error. A caller that
	 * takes no fds has them closed unread. */
	if (!err && ngot && fds && (*type == XDP_ENDPOINT_MSG_DESC || *type == XDP_ENDPOINT_MSG_DIRECT))
		keep = ngot == 1;
	else if (!err && ngot && fds && *type == XDP_ENDPOINT_MSG_BOUND && ngot <= max)
		keep = ngot;
	else if (!err && ngot && fds && *type != XDP_ENDPOINT_MSG_READY)
		err = xh_ep_err(-EBADMSG, "message type %u came with %zu file descriptors", *type,
				ngot);
	for (size_t i = keep; i < ngot; i++)
		close(got[i]);
	if (err) {
		for (size_t i = 0; i < keep; i++)
			close(got[i]);
		return err;
	}
	for (size_t i = 0; i < keep; i++)
		fds[i] = got[i];
	if (nfds)
		*nfds = keep;
	return 0;
}

int xh_ep_recv(int sock, void *buf, uint16_t *type, const void **payload, size_t *len,
	       int *fd_out, int flags)
{
	size_t n = 0;
	int fd = -1, err = xh_ep_recv_fds(sock, buf, type, payload, len, fd_out ? &fd : NULL, 1,
					  &n, flags);

	if (fd_out)
		*fd_out = n ? fd : -1;
	return err;
}

int xh_ep_abstract_addr(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(name);

	if (!n || n + 1 > sizeof(sa->sun_path))
		return xh_ep_err(-ENAMETOOLONG, "socket name \"%s\": empty or too long", name);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Abstract: a leading NUL, and the length counts exactly the name. */
	memcpy(sa->sun_path + 1, name, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	return 0;
}
