/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_hook configuration: defaults, the node file, io.xdphook.* annotations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "util.h"

static char tmpdir[64];

/* The node config file the annotation errors name. */
#define NODE "/etc/xdphook/node.json"

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/xh-config-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

/* Write a config file; returns its path (static buffer). */
static const char *write_cfg(const char *json, unsigned int mode)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/config.json", tmpdir);
	unlink(path);
	assert_int_equal(xh_write_file(path, json, strlen(json), 0600), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int load(const char *json, struct xh_config *cfg)
{
	xh_err_clear();
	return xh_config_load_file(write_cfg(json, 0644), cfg);
}

/* One annotation on top of cfg. */
static int ann1(struct xh_config *cfg, const char *key, const char *value)
{
	struct xh_annotation a = { (char *)key, (char *)value };

	xh_err_clear();
	return xh_config_apply_annotations(cfg, &a, 1, NODE);
}

/* An annotation io.xdphook.<key>=value on the defaults (mode host when
 * the key only applies there), on a node that allows every key. */
static int set(struct xh_config *cfg, const char *key, const char *value)
{
	char name[64];

	xh_config_init(cfg);
	cfg->ann_allowed = XH_CFG_ANN_ALL;
	if (!strcmp(key, "publish") || !strcmp(key, "reserve"))
		cfg->mode = XH_HOST;
	snprintf(name, sizeof(name), "io.xdphook.%s", key);
	return ann1(cfg, name, value);
}

static void assert_err(int err, int want, const char *detail)
{
	if (err != want || !strstr(xh_strerror(err), detail))
		fail_msg("got %d \"%s\", want %d \"%s\"", err, xh_strerror(err), want, detail);
}

/* io.xdphook.<key>=value is refused with a detail containing want. */
static void assert_bad(const char *key, const char *value, const char *want)
{
	struct xh_config cfg;
	int err = set(&cfg, key, value);

	if (err != -EINVAL || !strstr(xh_strerror(err), want))
		fail_msg("%s=%s: got %d \"%s\", want -EINVAL \"%s\"", key, value, err,
			 xh_strerror(err), want);
}

static void assert_cidr(const struct xh_cidr *c, const char *want)
{
	char buf[64];

	assert_true(xh_cidr_format(c, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);
}

static void assert_rule(const struct xh_publish_rule *r, uint8_t proto, unsigned int hlo,
			unsigned int hhi, unsigned int slo, unsigned int shi)
{
	assert_int_equal(r->proto, proto);
	assert_int_equal(r->host_lo, hlo);
	assert_int_equal(r->host_hi, hhi);
	assert_int_equal(r->sandbox_lo, slo);
	assert_int_equal(r->sandbox_hi, shi);
}

static void assert_defaults(const struct xh_config *cfg)
{
	assert_true(cfg->enable);
	assert_int_equal(cfg->mode, XH_POD);
	assert_string_equal(cfg->nic, "");
	assert_int_equal(cfg->n_ips, 0);
	assert_false(cfg->fastpath_none);
	assert_int_equal(cfg->n_fastpath, 0);
	assert_false(cfg->publish_all);
	assert_int_equal(cfg->n_publish, 0);
	assert_int_equal(cfg->n_reserve, 2);
	assert_int_equal(cfg->reserve[0].proto, IPPROTO_TCP);
	assert_int_equal(cfg->reserve[0].lo, 22);
	assert_int_equal(cfg->reserve[0].hi, 22);
	assert_int_equal(cfg->reserve[1].proto, IPPROTO_UDP);
	assert_int_equal(cfg->umem_size, 2u << 20);
	assert_int_equal(cfg->n_uids, 1);
	assert_int_equal(cfg->allowed_uids[0], 0);
	assert_int_equal(cfg->ann_allowed, XH_CFG_ANN_DEFAULT);
	assert_int_equal(cfg->from_annotation, 0);
}

static void defaults(void **state)
{
	struct xh_config cfg;
	char path[128];

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	xh_config_init(&cfg);
	assert_defaults(&cfg);

	/* a missing file is the defaults */
	snprintf(path, sizeof(path), "%s/nonexistent.json", tmpdir);
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(xh_config_load_file(path, &cfg), 0);
	assert_defaults(&cfg);

	/* an empty object too */
	assert_int_equal(load("{}", &cfg), 0);
	assert_defaults(&cfg);

	/* no annotations of ours change nothing */
	assert_int_equal(ann1(&cfg, "org.opencontainers.image.title", "x"), 0);
	assert_int_equal(ann1(&cfg, "io.xdphookish", "x"), 0);
	assert_defaults(&cfg);
}

static void config_path(void **state)
{
	(void)state;
	unsetenv("XDPHOOK_CONFIG");
	assert_string_equal(xh_config_path(), "/etc/xdphook/config.json");
	setenv("XDPHOOK_CONFIG", "/tmp/x.json", 1);
	assert_string_equal(xh_config_path(), "/tmp/x.json");
	setenv("XDPHOOK_CONFIG", "", 1);
	assert_string_equal(xh_config_path(), "/etc/xdphook/config.json");
	unsetenv("XDPHOOK_CONFIG");
}

static void file_with_every_key(void **state)
{
	struct xh_config cfg;

	(void)state;
	assert_int_equal(load("{\n"
			      "  \"enable\": false,\n"
			      "  \"mode\": \"host\",\n"
			      "  \"nic\": \"eth1\",\n"
			      "  \"ips\": \"10.1.2.3/24, fd00::5/64\",\n"
			      "  \"fastpath\": [\"10.0.0.0/8\", \"fd00::/8\"],\n"
			      "  \"publish\": [\"8080:80/tcp\", \"53/udp\", 443],\n"
			      "  \"reserve\": [22, \"53/udp\", \"6000-6010/tcp\"],\n"
			      "  \"umem_size\": 4194304,\n"
			      "  \"allowed_uids\": [0, 1000]\n"
			      "}\n",
			      &cfg),
			 0);
	assert_false(cfg.enable);
	assert_int_equal(cfg.mode, XH_HOST);
	assert_string_equal(cfg.nic, "eth1");
	assert_int_equal(cfg.n_ips, 2);
	assert_cidr(&cfg.ips[0], "10.1.2.3/24");
	assert_int_equal(cfg.ips[0].ip.family, XH_AF_INET);
	assert_cidr(&cfg.ips[1], "fd00::5/64");
	assert_int_equal(cfg.ips[1].ip.family, XH_AF_INET6);
	assert_int_equal(cfg.n_fastpath, 2);
	assert_cidr(&cfg.fastpath[0], "10.0.0.0/8");
	assert_cidr(&cfg.fastpath[1], "fd00::/8");
	assert_int_equal(cfg.n_publish, 3);
	assert_rule(&cfg.publish[0], IPPROTO_TCP, 8080, 8080, 80, 80);
	assert_rule(&cfg.publish[1], IPPROTO_UDP, 53, 53, 53, 53);
	assert_rule(&cfg.publish[2], IPPROTO_TCP, 443, 443, 443, 443);
	assert_int_equal(cfg.n_reserve, 4);
	assert_int_equal(cfg.reserve[0].proto, IPPROTO_TCP);
	assert_int_equal(cfg.reserve[1].proto, IPPROTO_UDP);
	assert_int_equal(cfg.reserve[1].lo, 22);
	assert_int_equal(cfg.reserve[2].proto, IPPROTO_UDP);
	assert_int_equal(cfg.reserve[2].lo, 53);
	assert_int_equal(cfg.reserve[3].lo, 6000);
	assert_int_equal(cfg.reserve[3].hi, 6010);
	assert_int_equal(cfg.umem_size, 4u << 20);
	assert_int_equal(cfg.n_uids, 2);
	assert_int_equal(cfg.allowed_uids[1], 1000);
	/* the file is not an annotation */
	assert_int_equal(cfg.from_annotation, 0);

	/* the string forms of the same */
	assert_int_equal(load("{\"publish\":\"all\",\"umem_size\":\"8M\",\"allowed_uids\":\"0,1000\","
			      "\"fastpath\":\"none\",\"reserve\":\"\",\"ips\":[],\"nic\":\"\"}",
			      &cfg),
			 0);
	assert_true(cfg.publish_all);
	assert_int_equal(cfg.umem_size, 8u << 20);
	assert_int_equal(cfg.n_uids, 2);
	assert_true(cfg.fastpath_none);
	assert_int_equal(cfg.n_reserve, 0);
	assert_int_equal(cfg.n_ips, 0);
	assert_int_equal(load("{\"allowed_uids\": 1000, \"reserve\": 2222}", &cfg), 0);
	assert_int_equal(cfg.n_uids, 1);
	assert_int_equal(cfg.allowed_uids[0], 1000);
	assert_int_equal(cfg.n_reserve, 2);
}

static void file_errors(void **state)
{
	struct xh_config cfg;
	char path[128], msg[256];
	const char *p;
	int err;

	(void)state;
	err = load("{\"mode\":\"pod\",\"mdoe\":\"host\"}", &cfg);
	p = write_cfg("{}", 0644);
	snprintf(msg, sizeof(msg), "%s: unknown key \"mdoe\"", p);
	assert_err(err, -EINVAL, msg);
	/* and cfg holds the defaults, not half the file */
	assert_defaults(&cfg);

	assert_err(load("{\"mode\":\"pod\"", &cfg), -EINVAL, "invalid JSON at line 1");
	assert_err(load("", &cfg), -EINVAL, "config.json: empty");
	assert_err(load("[]", &cfg), -EINVAL, "must be a JSON object, got array");
	assert_err(load("{\"mode\":\"pod\",\"mode\":\"host\"}", &cfg), -EINVAL, "duplicate");
	assert_err(load("{\"enable\":\"true\"}", &cfg), -EINVAL,
		   "config.json: enable: must be a boolean, got string");
	assert_err(load("{\"enable\":1}", &cfg), -EINVAL, "enable: must be a boolean, got integer");
	assert_err(load("{\"mode\":1}", &cfg), -EINVAL, "mode: must be a string, got integer");
	assert_err(load("{\"nic\":[\"eth0\"]}", &cfg), -EINVAL, "nic: must be a string, got array");
	assert_err(load("{\"ips\":{}}", &cfg), -EINVAL,
		   "ips: must be a string or an array of strings, got object");
	assert_err(load("{\"ips\":[1]}", &cfg), -EINVAL, "ips: item 0 must be a string, got integer");
	assert_err(load("{\"fastpath\":[\"10.0.0.0/8\",null]}", &cfg), -EINVAL,
		   "fastpath: item 1 must be a string, got null");
	assert_err(load("{\"publish\":[true]}", &cfg), -EINVAL,
		   "publish: item 0 must be a string or an integer, got boolean");
	assert_err(load("{\"publish\":[\"80,81\"]}", &cfg), -EINVAL, "one value per array item");
	assert_err(load("{\"umem_size\":true}", &cfg), -EINVAL,
		   "umem_size: must be a string or an integer, got boolean");
	assert_err(load("{\"umem_size\":-4096}", &cfg), -EINVAL, "umem_size: \"-4096\": not a size");
	assert_err(load("{\"umem_size\":1.5}", &cfg), -EINVAL, "got fractional number");
	assert_err(load("{\"allowed_uids\":[1.5]}", &cfg), -EINVAL,
		   "allowed_uids: item 0 must be a string or an integer, got fractional number");
	assert_err(load("{\"allowed_uids\":[]}", &cfg), -EINVAL, "allowed_uids: empty");
	assert_err(load("{\"allowed_uids\":[-1]}", &cfg), -EINVAL, "\"-1\": not a numeric uid");
	/* values are checked as annotations are, the file and key named */
	err = load("{\"publish\":\"99999:80/tcp\"}", &cfg);
	snprintf(msg, sizeof(msg), "%s: publish: \"99999:80/tcp\": port 99999 out of range 1..65535", p);
	assert_err(err, -EINVAL, msg);
	/* unknown keys escaped */
	assert_err(load("{\"\\u001b]0;x\":1}", &cfg), -EINVAL, "unknown key \"\\x1b]0;x\"");
	/* "runtime" is xdp_runtime's: the hook passes over it, as an annotation it is unknown */
	assert_int_equal(load("{\"runtime\":\"crun\",\"mode\":\"host\"}", &cfg), 0);
	assert_int_equal(cfg.mode, XH_HOST);
	assert_err(ann1(&cfg, "io.xdphook.runtime", "crun"), -EINVAL, "unknown key");
	/* NUL and nesting limits hold for the file too */
	assert_err(load("{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", &cfg),
		   -EINVAL, "nested deeper");

	/* who may write it matters: it grants endpoints */
	p = write_cfg("{}", 0666);
	assert_err(xh_config_load_file(p, &cfg), -EPERM, "writable by every user");
	/* a directory, a FIFO: not a file */
	assert_err(xh_config_load_file(tmpdir, &cfg), -EINVAL, "not a regular file");
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_err(xh_config_load_file(path, &cfg), -EINVAL, "not a regular file");
	/* a path through a file is not "missing" */
	snprintf(path, sizeof(path), "%s/config.json/x", tmpdir);
	assert_err(xh_config_load_file(path, &cfg), -ENOTDIR, "config.json/x");
}

static void file_too_big(void **state)
{
	struct xh_config cfg;
	size_t n = 2u << 20;
	cleanup_free char *big = malloc(n + 1);
	char path[128];

	(void)state;
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	assert_int_equal(xh_write_file(path, big, n, 0644), 0);
	assert_err(xh_config_load_file(path, &cfg), -E2BIG, "larger than 1048576 bytes");
}

static void enable_and_mode(void **state)
{
	struct xh_config cfg;

	(void)state;
	assert_int_equal(set(&cfg, "enable", "false"), 0);
	assert_false(cfg.enable);
	assert_int_equal(cfg.from_annotation, 1u << XH_CFG_ENABLE);
	assert_int_equal(set(&cfg, "enable", "true"), 0);
	assert_true(cfg.enable);
	assert_int_equal(set(&cfg, "enable", " false "), 0);
	assert_false(cfg.enable);
	assert_bad("enable", "yes", "annotation io.xdphook.enable: \"yes\": must be true or false");
	assert_bad("enable", "False", "must be true or false");
	assert_bad("enable", "", "must be true or false");

	assert_int_equal(set(&cfg, "mode", "host"), 0);
	assert_int_equal(cfg.mode, XH_HOST);
	assert_int_equal(set(&cfg, "mode", "pod"), 0);
	assert_int_equal(cfg.mode, XH_POD);
	assert_bad("mode", "Pod", "annotation io.xdphook.mode: \"Pod\": must be pod, host or netns");
	assert_bad("mode", "bridge", "must be pod, host or netns");
}

static void nic_names(void **state)
{
	struct xh_config cfg;

	(void)state;
	assert_int_equal(set(&cfg, "nic", "eth0"), 0);
	assert_string_equal(cfg.nic, "eth0");
	assert_int_equal(set(&cfg, "nic", "enp0s31f6-abcde"), 0); /* 15 */
	assert_string_equal(cfg.nic, "enp0s31f6-abcde");
	assert_int_equal(set(&cfg, "nic", ""), 0);
	assert_string_equal(cfg.nic, "");
	assert_bad("nic", "enp0s31f6-abcdef", "interface name longer than 15 characters");
	assert_bad("nic", "eth0/x", "character 0x2f not allowed in an interface name");
	assert_bad("nic", "eth 0", "character 0x20 not allowed");
	assert_bad("nic", "eth0:1", "character 0x3a not allowed");
	assert_bad("nic", "eth\x01", "\"eth\\x01\": character 0x01 not allowed");
	assert_bad("nic", ".", "not an interface name");
	assert_bad("nic", "..", "not an interface name");
}

static void ips(void **state)
{
	struct xh_config cfg;
	char many[512] = "";

	(void)state;
	assert_int_equal(set(&cfg, "ips", "10.1.2.3/24,fd00::5/64"), 0);
	assert_int_equal(cfg.n_ips, 2);
	assert_cidr(&cfg.ips[0], "10.1.2.3/24");
	assert_true(cfg.ips[0].plen_given);
	assert_int_equal(cfg.ips[0].ip.addr[0], 10);
	assert_int_equal(cfg.ips[0].ip.addr[3], 3);
	assert_int_equal(cfg.ips[0].ip.addr[4], 0);
	assert_cidr(&cfg.ips[1], "fd00::5/64");
	assert_int_equal(cfg.ips[1].plen, 64);

	assert_int_equal(set(&cfg, "ips", " 10.1.2.3 "), 0);
	assert_int_equal(cfg.ips[0].plen, 32);
	assert_false(cfg.ips[0].plen_given);
	assert_cidr(&cfg.ips[0], "10.1.2.3");
	assert_int_equal(set(&cfg, "ips", ""), 0);
	assert_int_equal(cfg.n_ips, 0);

	assert_bad("ips", "10.1.2.300", "annotation io.xdphook.ips: \"10.1.2.300\": not an IPv4 address");
	assert_bad("ips", "fd00::g", "not an IPv6 address");
	assert_bad("ips", "fe80::1%eth0", "not an IPv6 address");
	assert_bad("ips", "10.1.2.3/33", "prefix length out of range 0..32");
	assert_bad("ips", "fd00::5/129", "prefix length out of range 0..128");
	assert_bad("ips", "10.1.2.3/x", "bad prefix length");
	assert_bad("ips", "10.1.2.3/", "bad prefix length");
	assert_bad("ips", "10.1.2.3/-1", "bad prefix length");
	assert_bad("ips", "127.0.0.1", "loopback");
	assert_bad("ips", "::1", "loopback");
	assert_bad("ips", "224.0.0.1", "multicast");
	assert_bad("ips", "ff02::1", "multicast");
	assert_bad("ips", "0.0.0.0", "not a unicast address");
	assert_bad("ips", "::", "unspecified");
	assert_bad("ips", "255.255.255.255/32", "broadcast");
	assert_bad("ips", "10.1.2.3,10.1.2.3/24", "\"10.1.2.3/24\": address listed twice");
	assert_bad("ips", "10.1.2.3,,10.1.2.4", "\"10.1.2.3,,10.1.2.4\": empty item in the list");
	assert_bad("ips", "10.1.2.3,", "empty item");
	assert_bad("ips", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too long");

	for (int i = 1; i <= XH_CFG_MAX_IPS + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.0.0.%d",
			 i > 1 ? "," : "", i);
	assert_err(set(&cfg, "ips", many), -E2BIG, "annotation io.xdphook.ips: more than 16 addresses");
	*strrchr(many, ',') = '\0';
	assert_int_equal(set(&cfg, "ips", many), 0);
	assert_int_equal(cfg.n_ips, 16);
}

static void fastpath(void **state)
{
	struct xh_config cfg;
	char many[2048] = "";

	(void)state;
	assert_int_equal(set(&cfg, "fastpath", "10.0.0.0/8,fd00::/8"), 0);
	assert_int_equal(cfg.n_fastpath, 2);
	assert_false(cfg.fastpath_none);
	assert_int_equal(cfg.fastpath[1].ip.addr[0], 0xfd);
	assert_int_equal(cfg.fastpath[1].plen, 8);
	assert_int_equal(set(&cfg, "fastpath", "0.0.0.0/0,::/0,192.168.1.7"), 0);
	assert_int_equal(cfg.fastpath[0].plen, 0);
	assert_int_equal(cfg.fastpath[2].plen, 32);
	assert_int_equal(set(&cfg, "fastpath", "none"), 0);
	assert_true(cfg.fastpath_none);
	assert_int_equal(cfg.n_fastpath, 0);
	assert_int_equal(set(&cfg, "fastpath", ""), 0);
	assert_false(cfg.fastpath_none);

	assert_bad("fastpath", "10.0.0.1/8", "\"10.0.0.1/8\": host bits set (did you mean 10.0.0.0/8?)");
	assert_bad("fastpath", "fd00::1/8", "did you mean fd00::/8?");
	assert_bad("fastpath", "10.0.0.0/8,none", "\"none\" cannot be combined with prefixes");
	assert_bad("fastpath", "10.0.0.0/8,10.0.0.0/8", "prefix listed twice");
	assert_bad("fastpath", "10.0.0.0/40", "prefix length out of range");

	for (int i = 0; i <= XH_CFG_MAX_FASTPATH; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s10.%d.0.0/16",
			 i ? "," : "", i);
	assert_err(set(&cfg, "fastpath", many), -E2BIG, "more than 64 prefixes");
}

static void publish_forms(void **state)
{
	struct xh_config cfg;

	(void)state;
	assert_int_equal(set(&cfg, "publish", "8080:80/tcp,53/udp"), 0);
	assert_int_equal(cfg.n_publish, 2);
	assert_false(cfg.publish_all);
	assert_rule(&cfg.publish[0], IPPROTO_TCP, 8080, 8080, 80, 80);
	assert_rule(&cfg.publish[1], IPPROTO_UDP, 53, 53, 53, 53);

	/* tcp by default, as docker -p */
	assert_int_equal(set(&cfg, "publish", "80, 8443:443"), 0);
	assert_rule(&cfg.publish[0], IPPROTO_TCP, 80, 80, 80, 80);
	assert_rule(&cfg.publish[1], IPPROTO_TCP, 8443, 8443, 443, 443);

	/* ranges of equal length */
	assert_int_equal(set(&cfg, "publish", "8000-8010:9000-9010/tcp,7000-7001/udp,1:65535"), 0);
	assert_rule(&cfg.publish[0], IPPROTO_TCP, 8000, 8010, 9000, 9010);
	assert_rule(&cfg.publish[1], IPPROTO_UDP, 7000, 7001, 7000, 7001);
	assert_rule(&cfg.publish[2], IPPROTO_TCP, 1, 1, 65535, 65535);

	/* the same port for tcp and udp is two rules, no overlap */
	assert_int_equal(set(&cfg, "publish", "53:5353/tcp,53:5353/udp"), 0);

	assert_int_equal(set(&cfg, "publish", "all"), 0);
	assert_true(cfg.publish_all);
	assert_int_equal(cfg.n_publish, 0);
	assert_int_equal(set(&cfg, "publish", ""), 0);
	assert_false(cfg.publish_all);
	assert_int_equal(cfg.n_publish, 0);
}

static void publish_errors(void **state)
{
	struct xh_config cfg;
	char many[1024] = "";
	int err;

	(void)state;
	err = set(&cfg, "publish", "99999:80/tcp");
	assert_int_equal(err, -EINVAL);
	assert_string_equal(xh_strerror(err),
			    "annotation io.xdphook.publish: \"99999:80/tcp\": port 99999 out of range 1..65535");
	assert_bad("publish", "8080:0", "port 0 out of range 1..65535");
	assert_bad("publish", "8080:65536/udp", "port 65536 out of range");
	assert_bad("publish", "99999999999999999999999:80", "out of range 1..65535");
	assert_bad("publish", "8080:80/sctp", "bad protocol \"sctp\" (tcp or udp)");
	assert_bad("publish", "8080:80/TCP", "bad protocol \"TCP\"");
	assert_bad("publish", "8080:80/", "bad protocol \"\"");
	assert_bad("publish", "http:80", "\"http\" is not a port number");
	assert_bad("publish", ":80", "\"\" is not a port number");
	assert_bad("publish", "+80", "is not a port number");
	assert_bad("publish", "127.0.0.1:8080:80", "too many ':'");
	assert_bad("publish", "8000-8010:9000-9005/tcp",
		   "host range has 11 ports, sandbox range 6: they must be equal");
	assert_bad("publish", "8000-8010:80", "they must be equal");
	assert_bad("publish", "8010-8000", "port range 8010-8000 runs backwards");
	assert_bad("publish", "8000-", "\"\" is not a port number");
	assert_bad("publish", "all,80", "\"all\" cannot be combined with port rules");
	assert_bad("publish", "80,all", "\"all\" cannot be combined");
	assert_bad("publish", "80,,81", "empty item");

	/* overlaps */
	assert_bad("publish", "8080:80/tcp,8080:81/tcp",
		   "annotation io.xdphook.publish: host port 8080/tcp published twice (8080:80/tcp and 8080:81/tcp)");
	assert_bad("publish", "8080:80,8080", "host port 8080/tcp published twice");
	assert_bad("publish", "8000-8010:9000-9010,8005:7000",
		   "host port 8005/tcp published twice (8000-8010:9000-9010/tcp and 8005:7000/tcp)");
	assert_bad("publish", "8080:80/udp,8081:80/udp",
		   "sandbox port 80/udp is the target of two rules (8080:80/udp and 8081:80/udp)");
	assert_bad("publish", "1000-1010:2000-2010,3000-3010:2010-2020", "sandbox port 2010/tcp");

	/* too many */
	for (int i = 0; i <= XH_CFG_MAX_PUBLISH; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", i ? "," : "",
			 10000 + i);
	assert_err(set(&cfg, "publish", many), -E2BIG, "more than 64 rules");
	assert_err(set(&cfg, "publish", "1000-5999/tcp"), -E2BIG, "5000 ports published, at most 4096");
	assert_int_equal(set(&cfg, "publish", "1000-5095/tcp"), 0);
}

static void reserve(void **state)
{
	struct xh_config cfg;
	char many[1024] = "";

	(void)state;
	assert_int_equal(set(&cfg, "reserve", "22/tcp,53/udp,6000-6010"), 0);
	assert_int_equal(cfg.n_reserve, 4);
	assert_int_equal(cfg.reserve[0].proto, IPPROTO_TCP);
	assert_int_equal(cfg.reserve[0].lo, 22);
	assert_int_equal(cfg.reserve[1].proto, IPPROTO_UDP);
	assert_int_equal(cfg.reserve[1].lo, 53);
	assert_int_equal(cfg.reserve[2].proto, IPPROTO_TCP);
	assert_int_equal(cfg.reserve[2].lo, 6000);
	assert_int_equal(cfg.reserve[2].hi, 6010);
	assert_int_equal(cfg.reserve[3].proto, IPPROTO_UDP);
	assert_int_equal(set(&cfg, "reserve", ""), 0);
	assert_int_equal(cfg.n_reserve, 0);

	assert_bad("reserve", "0", "port 0 out of range");
	assert_bad("reserve", "22/icmp", "bad protocol \"icmp\"");
	assert_bad("reserve", "22:22", "\"22:22\" is not a port number");
	assert_bad("reserve", "30-20", "runs backwards");

	for (int i = 0; i < XH_CFG_MAX_RESERVE / 2 + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", i ? "," : "", 100 + i);
	assert_err(set(&cfg, "reserve", many), -E2BIG, "more than 64 entries");
	*strrchr(many, ',') = '\0';
	assert_int_equal(set(&cfg, "reserve", many), 0);
	assert_int_equal(cfg.n_reserve, 64);
}

static void umem_size(void **state)
{
	static const struct {
		const char *text;
		uint32_t size;
	} good[] = {
		{ "2M", 2u << 20 }, { "2MiB", 2u << 20 }, { "1m", 1u << 20 }, { "65536", 65536 },
		{ "64K", 65536 },   { "64KiB", 65536 },   { "256M", 256u << 20 }, { "128k", 128u << 10 },
	};
	struct xh_config cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(set(&cfg, "umem_size", good[i].text), 0);
		assert_int_equal(cfg.umem_size, good[i].size);
	}
	assert_bad("umem_size", "32K", "\"32K\": 32768 bytes, outside 65536 (64K)..268435456 (256M)");
	assert_bad("umem_size", "512M", "536870912 bytes, outside");
	assert_bad("umem_size", "0", "0 bytes, outside");
	assert_bad("umem_size", "3M", "3145728 bytes is not a power of two");
	assert_bad("umem_size", "100000", "not a power of two");
	assert_bad("umem_size", "abc", "not a size");
	assert_bad("umem_size", "1G", "not a size");
	assert_bad("umem_size", "2MB", "not a size");
	assert_bad("umem_size", "", "not a size");
	assert_bad("umem_size", "-1", "not a size");
	assert_bad("umem_size", "2 M", "not a size");
	assert_bad("umem_size", "99999999999999999999M", "out of range");
	assert_bad("umem_size", "999999999999999999999999999999", "not a size");
	assert_bad("umem_size", "9999999999999999M", "out of range");
}

static void allowed_uids(void **state)
{
	struct xh_config cfg;
	char many[1024] = "";

	(void)state;
	assert_int_equal(set(&cfg, "allowed_uids", "0,1000"), 0);
	assert_int_equal(cfg.n_uids, 2);
	assert_int_equal(cfg.allowed_uids[1], 1000);
	assert_int_equal(set(&cfg, "allowed_uids", " 1000 "), 0);
	assert_int_equal(cfg.n_uids, 1);
	assert_int_equal(set(&cfg, "allowed_uids", "4294967294"), 0);
	assert_int_equal(cfg.allowed_uids[0], 4294967294u);

	assert_bad("allowed_uids", "", "annotation io.xdphook.allowed_uids: empty: no client could take the endpoint");
	assert_bad("allowed_uids", "root", "\"root\": not a numeric uid");
	assert_bad("allowed_uids", "-1", "not a numeric uid");
	assert_bad("allowed_uids", "4294967295", "uid out of range 0..4294967294");
	assert_bad("allowed_uids", "0,,1", "empty item");

	for (int i = 0; i <= XH_CFG_MAX_UIDS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", i ? "," : "", i);
	assert_err(set(&cfg, "allowed_uids", many), -E2BIG, "more than 64 uids");
}

static void annotations_override_file(void **state)
{
	struct xh_annotation ann[] = {
		{ "io.kubernetes.pod.name", "web" },
		{ "io.xdphook.publish", "53/udp" },
		{ "io.xdphook.umem_size", "4M" },
		{ "io.xdphook.enable", "false" },
		{ "io.xdphook.fastpath", "" },
	};
	struct xh_config cfg;

	(void)state;
	assert_int_equal(load("{\"mode\":\"host\",\"publish\":\"8080:80\",\"nic\":\"eth1\","
			      "\"fastpath\":\"10.0.0.0/8\",\"allowed_uids\":[0,1000],"
			      "\"annotations\":[\"publish\",\"umem_size\",\"enable\",\"fastpath\"]}",
			      &cfg),
			 0);
	xh_err_clear();
	assert_int_equal(xh_config_apply_annotations(&cfg, ann, ARRAY_SIZE(ann), NODE), 0);
	/* replaced, not merged */
	assert_int_equal(cfg.n_publish, 1);
	assert_rule(&cfg.publish[0], IPPROTO_UDP, 53, 53, 53, 53);
	assert_int_equal(cfg.umem_size, 4u << 20);
	assert_false(cfg.enable);
	assert_int_equal(cfg.n_fastpath, 0);
	/* kept from the file */
	assert_int_equal(cfg.mode, XH_HOST);
	assert_string_equal(cfg.nic, "eth1");
	assert_int_equal(cfg.n_uids, 2);
	assert_int_equal(cfg.from_annotation, (1u << XH_CFG_PUBLISH) | (1u << XH_CFG_UMEM_SIZE) |
						      (1u << XH_CFG_ENABLE) | (1u << XH_CFG_FASTPATH));
}

static void unknown_and_failed_annotations(void **state)
{
	struct xh_annotation ann[] = {
		{ "io.xdphook.umem_size", "4M" },
		{ "io.xdphook.mdoe", "host" },
	};
	struct xh_annotation bad_value[] = {
		{ "io.xdphook.nic", "eth9" },
		{ "io.xdphook.umem_size", "3M" },
	};
	struct xh_config cfg, before;
	int err;

	(void)state;
	xh_config_init(&cfg);
	cfg.ann_allowed = XH_CFG_ANN_ALL;
	before = cfg;
	xh_err_clear();
	err = xh_config_apply_annotations(&cfg, ann, ARRAY_SIZE(ann), NODE);
	assert_int_equal(err, -EINVAL);
	assert_non_null(strstr(xh_strerror(err), "annotation io.xdphook.mdoe: unknown key (keys: enable, mode,"));
	/* nothing applied: cfg is as it was */
	assert_memory_equal(&cfg, &before, sizeof(cfg));

	err = xh_config_apply_annotations(&cfg, bad_value, ARRAY_SIZE(bad_value), NODE);
	assert_int_equal(err, -EINVAL);
	assert_memory_equal(&cfg, &before, sizeof(cfg));

	assert_err(ann1(&cfg, "io.xdphook.", "x"), -EINVAL, "annotation io.xdphook.: unknown key");
	assert_err(ann1(&cfg, "io.xdphook.Mode", "pod"), -EINVAL, "io.xdphook.Mode: unknown key");
	assert_err(ann1(&cfg, "io.xdphook.nic\n", "x"), -EINVAL, "annotation io.xdphook.nic\\x0a: unknown key");
}

static void mode_specific_annotations(void **state)
{
	struct xh_annotation host_publish[] = {
		{ "io.xdphook.publish", "8080:80" },
		{ "io.xdphook.mode", "host" },
	};
	struct xh_config cfg;

	(void)state;
	/* publish and reserve are for host mode */
	xh_config_init(&cfg);
	cfg.ann_allowed = XH_CFG_ANN_ALL;
	assert_err(ann1(&cfg, "io.xdphook.publish", "8080:80"), -EINVAL,
		   "annotation io.xdphook.publish applies to mode host only (mode is pod)");
	assert_err(ann1(&cfg, "io.xdphook.reserve", "22"), -EINVAL,
		   "annotation io.xdphook.reserve applies to mode host only");
	/* order of the annotations does not matter */
	assert_int_equal(xh_config_apply_annotations(&cfg, host_publish, 2, NODE), 0);
	assert_int_equal(cfg.mode, XH_HOST);
	/* ips are for pod mode */
	assert_err(ann1(&cfg, "io.xdphook.ips", "10.1.2.3"), -EINVAL,
		   "annotation io.xdphook.ips applies to mode pod only (mode is host)");
	/* switching the mode back with publish set by an earlier annotation */
	assert_err(ann1(&cfg, "io.xdphook.mode", "pod"), -EINVAL, "io.xdphook.publish applies to mode host");

	/* the file's node defaults are not held against either mode */
	assert_int_equal(load("{\"publish\":\"all\",\"ips\":\"10.1.2.3\",\"annotations\":\"all\"}", &cfg), 0);
	assert_int_equal(ann1(&cfg, "io.xdphook.mode", "host"), 0);
	assert_int_equal(load("{\"mode\":\"host\",\"publish\":\"all\",\"annotations\":[\"mode\"]}", &cfg), 0);
	assert_int_equal(ann1(&cfg, "io.xdphook.mode", "pod"), 0);
}

/* direct: the node's alone, host mode's alone. */
static void direct_key(void **state)
{
	struct xh_config cfg;

	(void)state;
	assert_int_equal(load("{\"mode\":\"host\",\"direct\":\"rx\"}", &cfg), 0);
	assert_true(cfg.direct);
	assert_int_equal(xh_config_apply_annotations(&cfg, NULL, 0, NODE), 0);
	assert_false(cfg.direct_zerocopy);
	assert_int_equal(load("{\"mode\":\"host\",\"direct\":\"rx-zerocopy\"}", &cfg), 0);
	assert_true(cfg.direct);
	assert_true(cfg.direct_zerocopy);
	assert_int_equal(load("{\"mode\":\"host\",\"direct\":false}", &cfg), 0);
	assert_false(cfg.direct);
	assert_false(cfg.direct_zerocopy);
	assert_err(load("{\"direct\":true}", &cfg), -EINVAL, "must be \"rx\", \"rx-zerocopy\" or false");
	assert_err(load("{\"direct\":\"tx\"}", &cfg), -EINVAL, "must be \"rx\", \"rx-zerocopy\" or false");
	/* not from an annotation, whatever the node allows */
	assert_int_equal(load("{\"mode\":\"host\",\"annotations\":\"all\"}", &cfg), 0);
	assert_err(ann1(&cfg, "io.xdphook.direct", "rx"), -EPERM, "only the node config");
	assert_err(load("{\"annotations\":\"direct\"}", &cfg), -EINVAL, "only the node config sets it");
	/* host mode only: pod and netns refused once the mode is known */
	assert_int_equal(load("{\"direct\":\"rx\",\"annotations\":\"all\"}", &cfg), 0);
	assert_err(xh_config_apply_annotations(&cfg, NULL, 0, NODE), -EINVAL,
		   "direct (node config) applies to mode host only (mode is pod)");
	assert_int_equal(ann1(&cfg, "io.xdphook.mode", "host"), 0);
	assert_err(load("{\"mode\":\"netns\",\"direct\":\"rx\"}", &cfg), -EINVAL,
		   ": direct does not apply to mode netns");
	assert_int_equal(load("{\"mode\":\"netns\",\"direct\":false}", &cfg), 0);
}

static void netns_mode(void **state)
{
	struct xh_annotation netns_nic[] = {
		{ "io.xdphook.mode", "netns" },
		{ "io.xdphook.nic", "eth0" },
	};
	struct xh_config cfg;

	(void)state;
	assert_int_equal(load("{\"mode\":\"netns\",\"iface\":\"eth1\"}", &cfg), 0);
	assert_int_equal(cfg.mode, XH_NETNS);
	assert_string_equal(cfg.iface, "eth1");
	assert_string_equal(xh_addr_mode_name(cfg.mode), "netns");
	/* keys that pick or program host resources, set with netns in the file */
	assert_err(load("{\"mode\":\"netns\",\"nic\":\"eth0\"}", &cfg), -EINVAL,
		   ": nic does not apply to mode netns");
	assert_err(load("{\"mode\":\"netns\",\"fastpath\":\"none\"}", &cfg), -EINVAL,
		   ": fastpath does not apply to mode netns");
	assert_err(load("{\"mode\":\"netns\",\"publish\":\"80\"}", &cfg), -EINVAL,
		   ": publish does not apply to mode netns");
	assert_err(load("{\"mode\":\"netns\",\"reserve\":22}", &cfg), -EINVAL,
		   ": reserve does not apply to mode netns");
	/* or by an annotation, where the node lets annotations set them */
	assert_int_equal(load("{\"annotations\":\"all\"}", &cfg), 0);
	xh_err_clear();
	assert_err(xh_config_apply_annotations(&cfg, netns_nic, 2, NODE), -EINVAL,
		   "annotation io.xdphook.nic does not apply to mode netns");
	/* the file's defaults for the other modes stay valid */
	assert_int_equal(load("{\"nic\":\"eth0\",\"fastpath\":\"none\",\"annotations\":\"all\"}", &cfg), 0);
	assert_int_equal(ann1(&cfg, "io.xdphook.mode", "netns"), 0);
	assert_int_equal(cfg.mode, XH_NETNS);
	/* iface is netns mode's, ips pod mode's */
	assert_int_equal(load("{\"annotations\":\"all\"}", &cfg), 0);
	assert_err(ann1(&cfg, "io.xdphook.iface", "eth0"), -EINVAL,
		   "annotation io.xdphook.iface applies to mode netns only (mode is pod)");
	assert_int_equal(load("{\"mode\":\"netns\"}", &cfg), 0);
	assert_err(ann1(&cfg, "io.xdphook.ips", "10.1.2.3"), -EINVAL,
		   "annotation io.xdphook.ips applies to mode pod only (mode is netns)");
	assert_bad("iface", "a/b", "not allowed in an interface name");
}

/* The node decides which keys annotations may set. */
static void annotation_permissions(void **state)
{
	static const char *const node_only[] = { "mode", "nic", "fastpath", "publish", "reserve" };
	struct xh_annotation hostile[] = {
		{ "io.xdphook.umem_size", "4M" },
		{ "io.xdphook.mode", "host" },
		{ "io.xdphook.publish", "all" },
	};
	struct xh_config cfg, before;
	char key[64], want[192];
	int err;

	(void)state;
	/* default: what concerns the container alone */
	xh_config_init(&cfg);
	assert_int_equal(ann1(&cfg, "io.xdphook.enable", "false"), 0);
	assert_int_equal(ann1(&cfg, "io.xdphook.ips", "10.1.2.3"), 0);
	assert_int_equal(ann1(&cfg, "io.xdphook.allowed_uids", "1000"), 0);
	assert_int_equal(ann1(&cfg, "io.xdphook.umem_size", "4M"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(node_only); i++) {
		xh_config_init(&cfg);
		before = cfg;
		snprintf(key, sizeof(key), "io.xdphook.%s", node_only[i]);
		snprintf(want, sizeof(want), "annotation %s: not allowed by the node config " NODE, key);
		assert_err(ann1(&cfg, key, "x"), -EPERM, want);
		assert_memory_equal(&cfg, &before, sizeof(cfg));
	}
	/* the detail names what the node allows; nothing of the rest applied */
	xh_config_init(&cfg);
	before = cfg;
	xh_err_clear();
	err = xh_config_apply_annotations(&cfg, hostile, ARRAY_SIZE(hostile), NODE);
	assert_err(err, -EPERM, "io.xdphook.mode: not allowed by the node config " NODE
		   " (its \"annotations\" key; annotations may set: enable, ips, umem_size, allowed_uids)");
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	/* refused before its value is read: a hostile value gets no parser */
	assert_err(ann1(&cfg, "io.xdphook.nic", "../../etc"), -EPERM, "not allowed by the node config");
	/* NULL: the path the hook reads */
	unsetenv("XDPHOOK_CONFIG");
	xh_err_clear();
	err = xh_config_apply_annotations(&cfg, &hostile[1], 1, NULL);
	assert_err(err, -EPERM, "not allowed by the node config /etc/xdphook/config.json");

	/* the node lists keys */
	assert_int_equal(load("{\"annotations\":[\"mode\",\"publish\"]}", &cfg), 0);
	assert_int_equal(cfg.ann_allowed, XH_CFG_BIT(XH_CFG_MODE) | XH_CFG_BIT(XH_CFG_PUBLISH));
	assert_int_equal(xh_config_apply_annotations(&cfg, &hostile[1], 2, NODE), 0);
	assert_true(cfg.publish_all);
	assert_err(ann1(&cfg, "io.xdphook.umem_size", "4M"), -EPERM,
		   "annotations may set: mode, publish)");
	assert_int_equal(load("{\"annotations\":\"enable, nic\"}", &cfg), 0);
	assert_int_equal(cfg.ann_allowed, XH_CFG_BIT(XH_CFG_ENABLE) | XH_CFG_BIT(XH_CFG_NIC));
	/* none at all */
	assert_int_equal(load("{\"annotations\":[]}", &cfg), 0);
	assert_err(ann1(&cfg, "io.xdphook.enable", "false"), -EPERM, "annotations may set: none)");
	/* all: every key but annotations itself */
	assert_int_equal(load("{\"annotations\":\"all\"}", &cfg), 0);
	assert_int_equal(xh_config_apply_annotations(&cfg, hostile, ARRAY_SIZE(hostile), NODE), 0);
	assert_int_equal(cfg.mode, XH_HOST);
	assert_err(ann1(&cfg, "io.xdphook.annotations", "all"), -EPERM,
		   "annotation io.xdphook.annotations: only the node config (" NODE ") sets it");

	/* bad lists in the file */
	assert_err(load("{\"annotations\":[\"mode\",\"bogus\"]}", &cfg), -EINVAL,
		   "annotations: \"bogus\": not a config key");
	assert_err(load("{\"annotations\":[\"annotations\"]}", &cfg), -EINVAL,
		   "annotations: \"annotations\": only the node config sets it");
	assert_err(load("{\"annotations\":\"all,mode\"}", &cfg), -EINVAL,
		   "\"all\" cannot be combined with keys");
	assert_err(load("{\"annotations\":[\"ips\",\"ips\"]}", &cfg), -EINVAL,
		   "\"ips\": key listed twice");
	assert_err(load("{\"annotations\":true}", &cfg), -EINVAL,
		   "annotations: must be a string or an array of strings, got");
	assert_err(load("{\"annotations\":[1]}", &cfg), -EINVAL, "item 0 must be a string");
	/* a failed file is the defaults, default permissions included */
	assert_int_equal(cfg.ann_allowed, XH_CFG_ANN_DEFAULT);
}

static void keys_and_helpers(void **state)
{
	struct xh_config cfg;
	enum xh_cfg_key key;

	(void)state;
	assert_int_equal(xh_config_key_lookup("umem_size", &key), 0);
	assert_int_equal(key, XH_CFG_UMEM_SIZE);
	assert_int_equal(xh_config_key_lookup("umem", &key), -ENOENT);
	assert_string_equal(xh_config_key_name(XH_CFG_ALLOWED_UIDS), "allowed_uids");
	assert_string_equal(xh_proto_name(IPPROTO_UDP), "udp");

	xh_config_init(&cfg);
	assert_int_equal(xh_config_set(&cfg, XH_CFG_PUBLISH, "80", "test"), 0);
	assert_int_equal(cfg.n_publish, 1);
	/* a failed set leaves the key as it was */
	assert_err(xh_config_set(&cfg, XH_CFG_PUBLISH, "80,x", "test"), -EINVAL,
		   "test: \"x\": \"x\" is not a port number");
	assert_int_equal(cfg.n_publish, 1);
	assert_int_equal(cfg.publish[0].host_lo, 80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(config_path),
		cmocka_unit_test(file_with_every_key),
		cmocka_unit_test(file_errors),
		cmocka_unit_test(file_too_big),
		cmocka_unit_test(enable_and_mode),
		cmocka_unit_test(nic_names),
		cmocka_unit_test(ips),
		cmocka_unit_test(fastpath),
		cmocka_unit_test(publish_forms),
		cmocka_unit_test(publish_errors),
		cmocka_unit_test(reserve),
		cmocka_unit_test(umem_size),
		cmocka_unit_test(allowed_uids),
		cmocka_unit_test(annotations_override_file),
		cmocka_unit_test(unknown_and_failed_annotations),
		cmocka_unit_test(mode_specific_annotations),
		cmocka_unit_test(netns_mode),
		cmocka_unit_test(direct_key),
		cmocka_unit_test(annotation_permissions),
		cmocka_unit_test(keys_and_helpers),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
