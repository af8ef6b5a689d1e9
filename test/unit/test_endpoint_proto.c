/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The endpoint protocol: records, limits, the description, fd passing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <cmocka.h>
#include <jansson.h>

#include "endpoint_proto.h"

static char buf[XDP_ENDPOINT_MSG_MAX + 64];

/* ---- records -------------------------------------------------------------- */

static void roundtrip_types(void **state)
{
	static const char desc[] = "{}", err[] = "{\"errno\":16,\"message\":\"busy\"}";
	const void *payload;
	uint16_t type;
	size_t len;
	int n;

	(void)state;
	n = xh_ep_msg_encode(XDP_ENDPOINT_MSG_READY, NULL, 0, buf, sizeof(buf));
	assert_int_equal(n, sizeof(struct xdp_endpoint_msg_hdr));
	assert_int_equal(xh_ep_msg_decode(buf, (size_t)n, &type, &payload, &len), 0);
	assert_int_equal(type, XDP_ENDPOINT_MSG_READY);
	assert_int_equal(len, 0);

	n = xh_ep_msg_encode(XDP_ENDPOINT_MSG_DESC, desc, 2, buf, sizeof(buf));
	assert_int_equal(n, 12 + 2);
	assert_int_equal(xh_ep_msg_decode(buf, (size_t)n, &type, &payload, &len), 0);
	assert_int_equal(type, XDP_ENDPOINT_MSG_DESC);
	assert_int_equal(len, 2);
	assert_memory_equal(payload, desc, 2);

	n = xh_ep_msg_encode(XDP_ENDPOINT_MSG_ERROR, err, strlen(err), buf, sizeof(buf));
	assert_true(n > 12);
	assert_int_equal(xh_ep_msg_decode(buf, (size_t)n, &type, &payload, &len), 0);
	assert_int_equal(type, XDP_ENDPOINT_MSG_ERROR);
}

static void payload_limits(void **state)
{
	static char big[XDP_ENDPOINT_MSG_MAX];

	(void)state;
	/* READY and OK carry nothing. */
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_READY, "x", 1, buf, sizeof(buf)), -EMSGSIZE);
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_OK, "x", 1, buf, sizeof(buf)), -EMSGSIZE);
	/* DESC up to the record limit, not a byte more. */
	memset(big, 'a', sizeof(big));
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_DESC, big, XDP_ENDPOINT_DESC_MAX, buf,
					  sizeof(buf)),
			 XDP_ENDPOINT_MSG_MAX);
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_DESC, big, XDP_ENDPOINT_DESC_MAX + 1, buf,
					  sizeof(buf)),
			 -EMSGSIZE);
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_ERROR, big, XDP_ENDPOINT_ERROR_MAX + 1, buf,
					  sizeof(buf)),
			 -EMSGSIZE);
	/* A buffer too small for the record. */
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_DESC, big, 100, buf, 50), -EMSGSIZE);
	assert_int_equal(xh_ep_msg_encode(0, NULL, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(xh_ep_msg_encode(9, NULL, 0, buf, sizeof(buf)), -EINVAL);
	/* DIRECT carries at most a UMEM's geometry, BOUND up to the DESC limit. */
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_DIRECT, big, 256, buf, sizeof(buf)),
			 (int)sizeof(struct xdp_endpoint_msg_hdr) + 256);
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_DIRECT, big, 257, buf, sizeof(buf)), -EMSGSIZE);
	assert_int_equal(xh_ep_msg_encode(XDP_ENDPOINT_MSG_BOUND, big, XDP_ENDPOINT_DESC_MAX, buf,
					  sizeof(buf)),
			 XDP_ENDPOINT_MSG_MAX);
}

static struct xdp_endpoint_msg_hdr *hdr(uint16_t type, uint32_t len)
{
	static struct xdp_endpoint_msg_hdr h;

	h = (struct xdp_endpoint_msg_hdr){ XDP_ENDPOINT_MAGIC, XDP_ENDPOINT_VERSION, type, len };
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &h, sizeof(h));
	return (struct xdp_endpoint_msg_hdr *)buf;
}

static void decode_rejects(void **state)
{
	const void *payload;
	uint16_t type;
	size_t len;

	(void)state;
	hdr(XDP_ENDPOINT_MSG_READY, 0);
	assert_int_equal(xh_ep_msg_decode(buf, 11, &type, &payload, &len), -EBADMSG);
	assert_int_equal(xh_ep_msg_decode(buf, 0, &type, &payload, &len), -EBADMSG);
	hdr(XDP_ENDPOINT_MSG_READY, 0)->magic = 0x12345678;
	assert_int_equal(xh_ep_msg_decode(buf, 12, &type, &payload, &len), -EBADMSG);
	assert_non_null(strstr(xh_ep_strerror(-EBADMSG), "bad magic"));
	hdr(XDP_ENDPOINT_MSG_READY, 0)->version = 2;
	assert_int_equal(xh_ep_msg_decode(buf, 12, &type, &payload, &len), -EPROTO);
	hdr(9, 0);
	assert_int_equal(xh_ep_msg_decode(buf, 12, &type, &payload, &len), -EBADMSG);
	/* The header's length must be what came. */
	hdr(XDP_ENDPOINT_MSG_DESC, 10);
	assert_int_equal(xh_ep_msg_decode(buf, 12 + 9, &type, &payload, &len), -EBADMSG);
	assert_int_equal(xh_ep_msg_decode(buf, 12 + 11, &type, &payload, &len), -EBADMSG);
	assert_int_equal(xh_ep_msg_decode(buf, 12 + 10, &type, &payload, &len), 0);
	/* A READY with a payload, an oversized ERROR, an oversized record. */
	hdr(XDP_ENDPOINT_MSG_READY, 1);
	assert_int_equal(xh_ep_msg_decode(buf, 13, &type, &payload, &len), -EMSGSIZE);
	hdr(XDP_ENDPOINT_MSG_ERROR, XDP_ENDPOINT_ERROR_MAX + 1);
	assert_int_equal(xh_ep_msg_decode(buf, 12 + XDP_ENDPOINT_ERROR_MAX + 1, &type, &payload, &len),
			 -EMSGSIZE);
	hdr(XDP_ENDPOINT_MSG_DESC, XDP_ENDPOINT_DESC_MAX + 1);
	assert_int_equal(xh_ep_msg_decode(buf, XDP_ENDPOINT_MSG_MAX + 1, &type, &payload, &len),
			 -EMSGSIZE);
}

static void error_payload(void **state)
{
	char *json = NULL, text[XDP_ENDPOINT_ERROR_MAX], longmsg[4000];
	int code;

	(void)state;
	assert_int_equal(xh_ep_error_encode(-EBUSY, "endpoint busy: \"x\"", &json), 0);
	assert_int_equal(xh_ep_error_decode(json, strlen(json), &code, text, sizeof(text)), 0);
	assert_int_equal(code, EBUSY);
	assert_string_equal(text, "endpoint busy: \"x\"");
	free(json);
	/* A long text is cut to fit the limit. */
	memset(longmsg, 'z', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	assert_int_equal(xh_ep_error_encode(EACCES, longmsg, &json), 0);
	assert_true(strlen(json) <= XDP_ENDPOINT_ERROR_MAX);
	free(json);
	/* Garbage, a missing errno, an errno out of range. */
	static const char *const bad[] = { "{\"message\":\"x\"}", "{\"errno\":0,\"message\":\"x\"}",
					   "{\"errno\":5000,\"message\":\"x\"}", "{\"errno\":5}" };
	assert_int_equal(xh_ep_error_decode("nope", 4, &code, text, sizeof(text)), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xh_ep_error_decode(bad[i], strlen(bad[i]), &code, text, sizeof(text)),
				 -EBADMSG);
}

/* ---- the description ------------------------------------------------------------ */

static void fill_desc(struct xh_ep_desc *d)
{
	xh_ep_desc_init(d);
	d->ifindex = 7;
	d->queue = 0;
	memcpy(d->mac, "\x02\x11\x22\x33\x44\x55", 6);
	d->mtu = 1778;
	assert_int_equal(xh_ep_addr_parse("10.1.0.5/24", true, &d->addrs[0].family, d->addrs[0].addr,
					  &d->addrs[0].prefix_len), 0);
	assert_int_equal(xh_ep_addr_parse("fd00::5/64", true, &d->addrs[1].family, d->addrs[1].addr,
					  &d->addrs[1].prefix_len), 0);
	d->n_addrs = 2;
	assert_int_equal(xh_ep_addr_parse("0.0.0.0/0", true, &d->routes[0].family, d->routes[0].dst,
					  &d->routes[0].dst_len), 0);
	inet_pton(AF_INET, "169.254.1.1", d->routes[0].via);
	d->routes[0].has_via = true;
	assert_int_equal(xh_ep_addr_parse("10.1.0.0/24", true, &d->routes[1].family, d->routes[1].dst,
					  &d->routes[1].dst_len), 0);
	d->n_routes = 2;
	d->gateways[0].family = AF_INET;
	inet_pton(AF_INET, "169.254.1.1", d->gateways[0].addr);
	memcpy(d->gateways[0].mac, "\x02\xaa\xbb\xcc\xdd\xee", 6);
	d->gateways[1].family = AF_INET6;
	inet_pton(AF_INET6, "fe80::1", d->gateways[1].addr);
	memcpy(d->gateways[1].mac, "\x02\xaa\xbb\xcc\xdd\xee", 6);
	d->n_gateways = 2;
	d->eph_lo = 40000;
	d->eph_hi = 49999;
	d->xdp_copy = true;
}

static void desc_roundtrip(void **state)
{
	struct xh_ep_desc d, back;
	char *json = NULL;

	(void)state;
	fill_desc(&d);
	assert_int_equal(xh_ep_desc_to_json(&d, &json), 0);
	assert_non_null(strstr(json, "\"addresses\":[\"10.1.0.5/24\",\"fd00::5/64\"]"));
	assert_non_null(strstr(json, "{\"dst\":\"0.0.0.0/0\",\"via\":\"169.254.1.1\"}"));
	assert_non_null(strstr(json, "\"mac\":\"02:11:22:33:44:55\""));
	assert_int_equal(xh_ep_desc_from_json(json, strlen(json), &back), 0);
	assert_string_equal(back.ifname, "xdp0");
	assert_int_equal(back.ifindex, 7);
	assert_int_equal(back.mtu, 1778);
	assert_memory_equal(back.mac, d.mac, 6);
	assert_int_equal(back.n_addrs, 2);
	assert_int_equal(back.addrs[1].family, AF_INET6);
	assert_int_equal(back.addrs[1].prefix_len, 64);
	assert_memory_equal(back.addrs[1].addr, d.addrs[1].addr, 16);
	assert_int_equal(back.n_routes, 2);
	assert_true(back.routes[0].has_via);
	assert_false(back.routes[1].has_via);
	assert_int_equal(back.n_gateways, 2);
	assert_memory_equal(back.gateways[1].addr, d.gateways[1].addr, 16);
	assert_int_equal(back.eph_lo, 40000);
	assert_int_equal(back.eph_hi, 49999);
	assert_true(back.xdp_copy);
	assert_int_equal(back.umem_size, 2u << 20);
	assert_int_equal(back.frame_size, 2048);
	for (int i = 0; i < XH_EP_NRINGS; i++)
		assert_int_equal(back.ring[i], 1024);
	free(json);
}

/* `direct`: the DESC's list (old decoders ignore the key), BOUND with ring
 * sizes, the env's entries with their fds; bad entries refused. */
static void direct_roundtrip(void **state)
{
	struct xh_ep_desc d, back;
	struct xh_ep_direct e[2] = { { "nic0", 7, 0, false, { 1024, 1024, 1024 }, false },
				     { "nic0", 7, 1, true, { 512, 256, 1024 }, false } }, eb[4];
	struct xh_ep_layout l = { .umem_size = 2u << 20, .frame_size = 2048, .fd_xsk = 3,
				  .fd_umem = 4, .fd_ctl = 5, .fill_frames = 512, .n_direct = 2,
				  .fd_direct = { 6, 7 } }, lb;
	char *json = NULL;
	size_t n = 0;

	(void)state;
	fill_desc(&d);
	assert_int_equal(xh_ep_desc_to_json(&d, &json), 0);
	assert_null(strstr(json, "direct"));
	free(json);
	d.direct[0] = e[0];
	d.direct[1] = e[1];
	d.n_direct = 2;
	assert_int_equal(xh_ep_desc_to_json(&d, &json), 0);
	assert_non_null(strstr(json, "\"direct\":[{\"ifname\":\"nic0\",\"ifindex\":7,\"queue\":0,\"zerocopy\":false}"));
	assert_int_equal(xh_ep_desc_from_json(json, strlen(json), &back), 0);
	assert_int_equal(back.n_direct, 2);
	assert_int_equal(back.direct[1].queue, 1);
	assert_true(back.direct[1].zerocopy);
	assert_false(back.direct_memfd);
	free(json);
	/* "direct_memfd": what a client may send its UMEM's memfd on. */
	d.direct_memfd = true;
	assert_int_equal(xh_ep_desc_to_json(&d, &json), 0);
	assert_non_null(strstr(json, "\"direct_memfd\":true"));
	assert_int_equal(xh_ep_desc_from_json(json, strlen(json), &back), 0);
	assert_true(back.direct_memfd);
	free(json);

	e[1].own_umem = true;
	assert_int_equal(xh_ep_bound_to_json(e, 2, &json), 0);
	assert_non_null(strstr(json, "\"fill\":512"));
	assert_non_null(strstr(json, "\"umem\":\"own\""));
	assert_int_equal(xh_ep_bound_from_json(json, strlen(json), eb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(eb[1].ring[1], 256);
	assert_string_equal(eb[1].ifname, "nic0");
	assert_false(eb[0].own_umem);
	assert_true(eb[1].own_umem);
	free(json);
	/* A keeper before "umem": socket 0's; anything else is refused. */
	{
		const char *old = "{\"direct\":[{\"ifname\":\"n\",\"ifindex\":1,\"queue\":0,"
				  "\"fill\":64,\"completion\":64,\"rx\":64}]}";
		const char *bad = "{\"direct\":[{\"ifname\":\"n\",\"ifindex\":1,\"queue\":0,"
				  "\"fill\":64,\"completion\":64,\"rx\":64,\"umem\":\"theirs\"}]}";

		assert_int_equal(xh_ep_bound_from_json(old, strlen(old), eb, &n), 0);
		assert_false(eb[0].own_umem);
		assert_int_equal(xh_ep_bound_from_json(bad, strlen(bad), eb, &n), -EINVAL);
	}
	/* A ring size missing or not a power of two, a queue out of range. */
	{
		const char *no_ring = "{\"direct\":[{\"ifname\":\"n\",\"ifindex\":1,\"queue\":0}]}";

		assert_int_equal(xh_ep_bound_from_json(no_ring, strlen(no_ring), eb, &n), -EINVAL);
		assert_non_null(strstr(xh_ep_strerror(-EINVAL), "ring size missing"));
	}
	e[0].ring[0] = 1000;
	assert_int_equal(xh_ep_bound_to_json(e, 2, &json), -EINVAL);
	e[0].ring[0] = 1024;
	e[0].queue = XDP_ENDPOINT_MAX_DIRECT;
	assert_int_equal(xh_ep_bound_to_json(e, 2, &json), -EINVAL);
	e[0].queue = 0;

	for (int i = 0; i < XH_EP_NRINGS; i++) {
		l.ring[i] = 1024;
		l.off[i] = (struct xdp_ring_offset){ .consumer = 64, .desc = 128, .flags = 192 };
	}
	l.direct[0] = e[0];
	l.direct[1] = e[1];
	assert_int_equal(xh_ep_env_to_json(&d, &l, &json), 0);
	assert_int_equal(xh_ep_env_from_json(json, &back, &lb), 0);
	assert_int_equal(lb.n_direct, 2);
	assert_int_equal(lb.fd_direct[1], 7);
	assert_int_equal(lb.fill_frames, 512);
	assert_int_equal(lb.direct[1].ring[0], 512);
	free(json);
}

/* DIRECT's payload: the UMEM's geometry, checked both ways. */
static void direct_geometry(void **state)
{
	struct xh_ep_umem_geom g = { .size = 2u << 20, .frame_size = 2048, .headroom = 128 }, b;
	const char *bad[] = {
		"{\"umem_size\":2097152,\"frame_size\":2048}",                   /* headroom missing */
		"{\"umem_size\":2097152,\"frame_size\":1000,\"headroom\":0}",  /* not a power of two */
		"{\"umem_size\":3000,\"frame_size\":2048,\"headroom\":0}",     /* not a multiple */
		"{\"umem_size\":2097152,\"frame_size\":2048,\"headroom\":2048}", /* no room left */
		"[1]",
	};
	char *json = NULL;

	(void)state;
	assert_int_equal(xh_ep_direct_to_json(&g, &json), 0);
	assert_int_equal(xh_ep_direct_from_json(json, strlen(json), &b), 0);
	assert_int_equal(b.size, g.size);
	assert_int_equal(b.frame_size, 2048);
	assert_int_equal(b.headroom, 128);
	free(json);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xh_ep_direct_from_json(bad[i], strlen(bad[i]), &b), -EINVAL);
	g.frame_size = 3000;
	assert_int_equal(xh_ep_direct_to_json(&g, &json), -EINVAL);
}

static void umem_sizes(void **state)
{
	struct xh_ep_desc d;

	(void)state;
	xh_ep_desc_init(&d);
	assert_int_equal(xh_ep_desc_set_umem(&d, 64 << 10), 0); /* 32 frames: the minimum ring */
	assert_int_equal(d.ring[XDP_ENDPOINT_RING_RX], XDP_ENDPOINT_RING_MIN);
	assert_int_equal(xh_ep_desc_set_umem(&d, 256 << 20), 0); /* 128 Ki frames: the maximum */
	assert_int_equal(d.ring[XDP_ENDPOINT_RING_FILL], XDP_ENDPOINT_RING_MAX);
	assert_int_equal(xh_ep_desc_set_umem(&d, 3000), -EINVAL);
	assert_int_equal(xh_ep_desc_set_umem(&d, XDP_ENDPOINT_UMEM_MAX * 2), -EINVAL);
}

/* Decode the description with one key replaced (value NULL: removed). */
static int decode_with(const char *key, json_t *value)
{
	struct xh_ep_desc d;
	char *json = NULL, *edited;
	json_t *o;
	int err;

	fill_desc(&d);
	assert_int_equal(xh_ep_desc_to_json(&d, &json), 0);
	o = json_loads(json, 0, NULL);
	free(json);
	if (value)
		json_object_set_new(o, key, value);
	else
		json_object_del(o, key);
	edited = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	err = xh_ep_desc_from_json(edited, strlen(edited), &d);
	free(edited);
	return err;
}

static void desc_rejects(void **state)
{
	struct xh_ep_desc d;
	json_t *many = json_array();

	(void)state;
	assert_int_equal(decode_with("ifname", NULL), -EINVAL);
	assert_non_null(strstr(xh_ep_strerror(-EINVAL), "\"ifname\" missing"));
	assert_int_equal(decode_with("ifname", json_string("a-very-long-ifname")), -EINVAL);
	assert_int_equal(decode_with("ifindex", json_string("7")), -EINVAL);
	assert_int_equal(decode_with("ifindex", json_integer(-1)), -EINVAL);
	assert_int_equal(decode_with("ifindex", json_integer(0)), -EINVAL);
	assert_int_equal(decode_with("queue", json_integer(64)), -EINVAL);
	assert_int_equal(decode_with("mtu", json_integer(67)), -EINVAL);
	assert_int_equal(decode_with("version", json_integer(2)), -EPROTO);
	assert_int_equal(decode_with("mac", json_string("02:11:22:33:44")), -EINVAL);
	assert_int_equal(decode_with("frame_size", json_integer(1024)), -EINVAL);
	assert_int_equal(decode_with("frame_size", json_integer(3000)), -EINVAL);
	assert_int_equal(decode_with("umem_size", json_integer(3000)), -EINVAL);
	assert_int_equal(decode_with("rings", json_pack("{s:i,s:i,s:i,s:i}", "fill", 1000,
							  "completion", 1024, "rx", 1024, "tx", 1024)),
			 -EINVAL);
	assert_int_equal(decode_with("rings", json_pack("{s:i,s:i,s:i}", "fill", 1024, "completion",
							  1024, "rx", 1024)),
			 -EINVAL);
	assert_int_equal(decode_with("rings", json_pack("{s:i,s:i,s:i,s:i}", "fill", 32,
							  "completion", 1024, "rx", 1024, "tx", 1024)),
			 -EINVAL);
	assert_int_equal(decode_with("xdp_copy", json_integer(1)), -EINVAL);
	assert_int_equal(decode_with("addresses", json_pack("[s]", "10.1.0.5")), -EINVAL);
	assert_int_equal(decode_with("addresses", json_pack("[s]", "10.1.0.5/33")), -EINVAL);
	assert_int_equal(decode_with("addresses", json_pack("[i]", 5)), -EINVAL);
	assert_int_equal(decode_with("addresses", json_string("10.1.0.5/24")), -EINVAL);
	for (int i = 0; i <= XDP_ENDPOINT_MAX_ADDRS; i++)
		json_array_append_new(many, json_string("10.1.0.5/24"));
	assert_int_equal(decode_with("addresses", many), -E2BIG);
	assert_int_equal(decode_with("routes", json_pack("[{s:s,s:s}]", "dst", "0.0.0.0/0", "via",
							  "fe80::1")),
			 -EINVAL);
	assert_int_equal(decode_with("routes", json_pack("[{s:s}]", "via", "1.2.3.4")), -EINVAL);
	assert_int_equal(decode_with("gateways", json_pack("[{s:s}]", "ip", "1.2.3.4")), -EINVAL);
	assert_int_equal(decode_with("ephemeral", json_pack("{s:i,s:i}", "lo", 50000, "hi", 40000)),
			 -EINVAL);
	assert_int_equal(decode_with("ephemeral", json_pack("{s:i,s:i}", "lo", 0, "hi", 40000)),
			 -EINVAL);
	assert_int_equal(decode_with("ephemeral", json_pack("{s:i,s:i}", "lo", 1, "hi", 70000)),
			 -EINVAL);
	/* Keys this version does not know are fine; optional keys may go. */
	assert_int_equal(decode_with("future_key", json_pack("{s:b}", "x", 1)), 0);
	assert_int_equal(decode_with("routes", NULL), 0);
	assert_int_equal(decode_with("ephemeral", NULL), 0);
	/* Not JSON, not an object, duplicate keys, too long. */
	assert_int_equal(xh_ep_desc_from_json("{", 1, &d), -EINVAL);
	assert_int_equal(xh_ep_desc_from_json("[]", 2, &d), -EINVAL);
	assert_int_equal(xh_ep_desc_from_json("{\"a\":1,\"a\":2}", 13, &d), -EINVAL);
	assert_int_equal(xh_ep_desc_from_json("{}", XDP_ENDPOINT_DESC_MAX + 1, &d), -EMSGSIZE);
}

static void desc_encode_checks(void **state)
{
	struct xh_ep_desc d;
	char *json = NULL;

	(void)state;
	fill_desc(&d);
	d.ifindex = 0;
	assert_int_equal(xh_ep_desc_to_json(&d, &json), -EINVAL);
	fill_desc(&d);
	d.addrs[0].prefix_len = 33;
	assert_int_equal(xh_ep_desc_to_json(&d, &json), -EINVAL);
	fill_desc(&d);
	d.n_routes = XDP_ENDPOINT_MAX_ROUTES + 1;
	assert_int_equal(xh_ep_desc_to_json(&d, &json), -E2BIG);
	assert_null(json);
}

static void env_roundtrip(void **state)
{
	struct xh_ep_desc d, back;
	struct xh_ep_layout l = { .umem_size = 2u << 20, .frame_size = 2048,
				  .fd_xsk = 3, .fd_umem = 4, .fd_ctl = 5 }, lb;
	char *json = NULL;

	(void)state;
	fill_desc(&d);
	for (int i = 0; i < XH_EP_NRINGS; i++) {
		l.ring[i] = 1024;
		l.off[i] = (struct xdp_ring_offset){ .producer = 0, .consumer = 64 + i,
						     .desc = 128 + i, .flags = 192 + i };
	}
	assert_int_equal(xh_ep_env_to_json(&d, &l, &json), 0);
	assert_non_null(strstr(json, "\"fds\":{\"xsk\":3,\"umem\":4,\"ctl\":5}"));
	assert_non_null(strstr(json, "\"pgoff\":4294967296")); /* XDP_UMEM_PGOFF_FILL_RING */
	assert_int_equal(xh_ep_env_from_json(json, &back, &lb), 0);
	assert_int_equal(back.ifindex, 7);
	assert_int_equal(lb.umem_size, 2u << 20);
	assert_int_equal(lb.fd_ctl, 5);
	assert_int_equal(lb.off[XDP_ENDPOINT_RING_TX].flags, 192 + 3);
	assert_int_equal(lb.ring[XDP_ENDPOINT_RING_RX], 1024);
	free(json);
	assert_int_equal(xh_ep_env_from_json("{\"description\":{}}", &back, &lb), -EINVAL);
}

/* ---- text forms ------------------------------------------------------------------ */

static void addresses(void **state)
{
	uint8_t a[16], plen = 0;
	char out[64];
	int fam;

	(void)state;
	assert_int_equal(xh_ep_addr_parse("192.0.2.1/32", true, &fam, a, &plen), 0);
	assert_int_equal(fam, AF_INET);
	assert_int_equal(plen, 32);
	assert_int_equal(xh_ep_addr_parse("192.0.2.1", false, &fam, a, &plen), 0);
	assert_int_equal(plen, 32);
	assert_int_equal(xh_ep_addr_parse("fe80::1", false, &fam, a, NULL), 0);
	assert_int_equal(fam, AF_INET6);
	assert_int_equal(xh_ep_addr_format(fam, a, -1, out, sizeof(out)), 0);
	assert_string_equal(out, "fe80::1");
	assert_int_equal(xh_ep_addr_format(AF_INET6, a, 128, out, 8), -ENAMETOOLONG);
	static const char *const bad[] = { "192.0.2.1", "192.0.2.1/", "192.0.2.1/+1", "192.0.2.1/1x",
					   "192.0.2.1/33", "fd00::/129", "/24", "host/24", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xh_ep_addr_parse(bad[i], true, &fam, a, &plen), -EINVAL);
	assert_int_equal(xh_ep_addr_parse("192.0.2.1/24", false, &fam, a, &plen), -EINVAL);
}

static void macs(void **state)
{
	uint8_t m[6];
	char out[18];

	(void)state;
	assert_int_equal(xh_ep_mac_parse("02:aa:BB:0c:dd:ee", m), 0);
	xh_ep_mac_format(m, out);
	assert_string_equal(out, "02:aa:bb:0c:dd:ee");
	assert_int_equal(xh_ep_mac_parse("02:aa:bb:0c:dd", m), -EINVAL);
	assert_int_equal(xh_ep_mac_parse("02:aa:bb:0c:dd:ee:", m), -EINVAL);
	assert_int_equal(xh_ep_mac_parse("02:aa:bb:0c:dd:zz", m), -EINVAL);
}

static void abstract_names(void **state)
{
	struct sockaddr_un sa;
	socklen_t len;
	char longname[200];

	(void)state;
	assert_int_equal(xh_ep_abstract_addr(XDP_ENDPOINT_SOCKET, &sa, &len), 0);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "xdphook/endpoint", 16);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 17);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(xh_ep_abstract_addr(longname, &sa, &len), -ENAMETOOLONG);
	assert_int_equal(xh_ep_abstract_addr("", &sa, &len), -ENAMETOOLONG);
}

/* ---- fd passing over a socketpair -------------------------------------------------- */

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void send_raw(int sock, uint16_t type, uint32_t len, int fd)
{
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl = { 0 };
	struct iovec iov = { .iov_base = hdr(type, len), .iov_len = 12 + len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		m.msg_control = ctl.space;
		m.msg_controllen = sizeof(ctl.space);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	assert_true(sendmsg(sock, &m, 0) >= 0);
}

static void fd_passing(void **state)
{
	static char rbuf[XDP_ENDPOINT_MSG_MAX];
	const void *payload;
	uint16_t type;
	size_t len;
	int sp[2], fd = -1, null = open("/dev/null", O_RDONLY), before;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	/* DESC with a socket: the fd arrives, close-on-exec. */
	assert_int_equal(xh_ep_send(sp[0], XDP_ENDPOINT_MSG_DESC, "{}", 2, null), 0);
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, &fd, 0), 0);
	assert_int_equal(type, XDP_ENDPOINT_MSG_DESC);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	before = open_fds();
	/* Nothing pending. */
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, NULL, MSG_DONTWAIT), -EAGAIN);
	/* An fd that comes with a READY is closed: none taken, none leaked. */
	send_raw(sp[0], XDP_ENDPOINT_MSG_READY, 0, null);
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, NULL, 0), 0);
	assert_int_equal(type, XDP_ENDPOINT_MSG_READY);
	assert_int_equal(open_fds(), before);
	/* ...also when the receiver takes fds (the keeper: a DIRECT's). */
	send_raw(sp[0], XDP_ENDPOINT_MSG_READY, 0, null);
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, &fd, 0), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fds(), before);
	/* A DIRECT's one fd (the UMEM's memfd) is taken. */
	assert_int_equal(xh_ep_send(sp[0], XDP_ENDPOINT_MSG_DIRECT, "{}", 2, null), 0);
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, &fd, 0), 0);
	assert_int_equal(type, XDP_ENDPOINT_MSG_DIRECT);
	assert_true(fd >= 0);
	close(fd);
	/* ...and refused when the receiver asked for one. */
	send_raw(sp[0], XDP_ENDPOINT_MSG_OK, 0, null);
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, &fd, 0), -EBADMSG);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fds(), before);
	/* A record over the limit, a malformed one. */
	memset(buf, 0, sizeof(buf));
	assert_true(send(sp[0], buf, XDP_ENDPOINT_MSG_MAX + 1, 0) > 0);
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, NULL, 0), -EMSGSIZE);
	send_raw(sp[0], XDP_ENDPOINT_MSG_READY, 5, null);
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, NULL, 0), -EMSGSIZE);
	assert_int_equal(open_fds(), before);
	/* BOUND with several fds: all arrive in order, up to max. */
	{
		int two[2] = { null, null }, got[2] = { -1, -1 };
		size_t n = 0;

		assert_int_equal(xh_ep_send_fds(sp[0], XDP_ENDPOINT_MSG_BOUND, "{}", 2, two, 2), 0);
		assert_int_equal(xh_ep_recv_fds(sp[1], rbuf, &type, &payload, &len, got, 2, &n, 0), 0);
		assert_int_equal(type, XDP_ENDPOINT_MSG_BOUND);
		assert_int_equal(n, 2);
		close(got[0]);
		close(got[1]);
		assert_int_equal(xh_ep_send_fds(sp[0], XDP_ENDPOINT_MSG_BOUND, "{}", 2, two, 2), 0);
		assert_int_equal(xh_ep_recv_fds(sp[1], rbuf, &type, &payload, &len, got, 1, &n, 0),
				 -EBADMSG);
		assert_int_equal(open_fds(), before);
	}
	/* The peer goes away. */
	close(sp[0]);
	assert_int_equal(xh_ep_recv(sp[1], rbuf, &type, &payload, &len, NULL, 0), -EPIPE);
	close(sp[1]);
	close(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_types),
		cmocka_unit_test(payload_limits),
		cmocka_unit_test(decode_rejects),
		cmocka_unit_test(error_payload),
		cmocka_unit_test(desc_roundtrip),
		cmocka_unit_test(direct_roundtrip),
		cmocka_unit_test(direct_geometry),
		cmocka_unit_test(umem_sizes),
		cmocka_unit_test(desc_rejects),
		cmocka_unit_test(desc_encode_checks),
		cmocka_unit_test(env_roundtrip),
		cmocka_unit_test(addresses),
		cmocka_unit_test(macs),
		cmocka_unit_test(abstract_names),
		cmocka_unit_test(fd_passing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
