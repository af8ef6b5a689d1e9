/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "state.h"
#include "netlink.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

const char *xh_mac_str(const uint8_t mac[6], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

static int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

int xh_state_dir(const char *id, char *buf, size_t size)
{
	int n = xh_snprintf(buf, size, XH_RUN_DIR "/%s", id);

	return n < 0 ? n : 0;
}

static json_t *cidr_json(const struct xh_cidr *c)
{
	char ip[INET6_ADDRSTRLEN];

	return json_pack("{s:s,s:i}", "addr", xh_ip_str(&c->ip, ip, sizeof(ip)), "plen", c->plen);
}

static int cidr_from_json(json_t *j, struct xh_cidr *c)
{
	const char *addr;
	int plen;

	if (json_unpack(j, "{s:s,s:i}", "addr", &addr, "plen", &plen) || xh_ip_parse(addr, &c->ip))
		return -EINVAL;
	if (plen < 0 || plen > (c->ip.family == XH_AF_INET ? 32 : 128))
		return -EINVAL;
	c->plen = plen;
	c->plen_given = true;
	return 0;
}

static json_t *range_json(unsigned int lo, unsigned int hi)
{
	return json_pack("[i,i]", (int)lo, (int)hi);
}

/* A port range [lo, hi], 0 < lo <= hi <= 65535 (lo == hi == 0 allowed
 * when may_be_empty). */
static int range_from_json(json_t *j, bool may_be_empty, uint16_t *lo, uint16_t *hi)
{
	int l, h;

	if (json_unpack(j, "[i,i]", &l, &h))
		return -EINVAL;
	if (may_be_empty && !l && !h) {
		*lo = *hi = 0;
		return 0;
	}
	if (l < 1 || h < l || h > 65535)
		return -EINVAL;
	*lo = l;
	*hi = h;
	return 0;
}

static int proto_from_name(const char *name, uint8_t *proto)
{
	if (!strcmp(name, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(name, "udp"))
		*proto = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

static json_t *host_json(const struct xh_host_state *hs)
{
	json_t *publish = json_array(), *reserve = json_array();

	for (size_t i = 0; i < hs->n_publish; i++) {
		const struct xh_publish_rule *r = &hs->publish[i];

		json_array_append_new(publish, json_pack("{s:s,s:o,s:o}", "proto", xh_proto_name(r->proto),
							 "host", range_json(r->host_lo, r->host_hi), "sandbox",
							 range_json(r->sandbox_lo, r->sandbox_hi)));
	}
	for (size_t i = 0; i < hs->n_reserve; i++)
		json_array_append_new(reserve, json_pack("{s:s,s:o}", "proto", xh_proto_name(hs->reserve[i].proto),
							 "ports", range_json(hs->reserve[i].lo, hs->reserve[i].hi)));
	return json_pack("{s:b,s:o,s:o,s:o,s:o,s:{s:i,s:I,s:I,s:I,s:b},s:I}", "publish_all", hs->publish_all,
			 "publish", publish, "reserve", reserve, "sandbox_ports",
			 range_json(hs->sandbox_eph_lo, hs->sandbox_eph_hi), "host_ports",
			 range_json(hs->host_eph_lo, hs->host_eph_hi), "tc", "ifindex", hs->tc.ifindex, "handle",
			 (json_int_t)hs->tc.handle, "priority", (json_int_t)hs->tc.priority, "prog_id",
			 (json_int_t)hs->tc.prog_id, "clsact_created", hs->clsact_created, "direct_queues",
			 (json_int_t)hs->direct_queues);
}

static int publish_from_json(json_t *o, struct xh_publish_rule *r)
{
	const char *proto;
	json_t *host, *sandbox;

	if (json_unpack(o, "{s:s,s:o,s:o}", "proto", &proto, "host", &host, "sandbox", &sandbox) ||
	    proto_from_name(proto, &r->proto) || range_from_json(host, false, &r->host_lo, &r->host_hi) ||
	    range_from_json(sandbox, false, &r->sandbox_lo, &r->sandbox_hi) ||
	    r->host_hi - r->host_lo != r->sandbox_hi - r->sandbox_lo)
		return -EINVAL;
	return 0;
}

static int reserve_from_json(json_t *o, struct xh_port_range *r)
{
	const char *proto;
	json_t *ports;

	if (json_unpack(o, "{s:s,s:o}", "proto", &proto, "ports", &ports) || proto_from_name(proto, &r->proto) ||
	    range_from_json(ports, false, &r->lo, &r->hi))
		return -EINVAL;
	return 0;
}

static int host_from_json(json_t *j, struct xh_host_state *hs)
{
	json_t *publish, *reserve, *sandbox, *host;
	json_int_t handle, priority, prog_id;
	int publish_all, clsact;
	json_error_t e;

	if (json_unpack_ex(j, &e, 0, "{s:b,s:o,s:o,s:o,s:o,s:{s:i,s:I,s:I,s:I,s:b}}", "publish_all",
			   &publish_all, "publish", &publish, "reserve", &reserve, "sandbox_ports", &sandbox,
			   "host_ports", &host, "tc", "ifindex", &hs->tc.ifindex, "handle", &handle, "priority",
			   &priority, "prog_id", &prog_id, "clsact_created", &clsact))
		return xh_err(-EINVAL, "malformed state: host: %s", e.text);
	if (!json_is_array(publish) || json_array_size(publish) > XH_CFG_MAX_PUBLISH ||
	    !json_is_array(reserve) || json_array_size(reserve) > XH_MAX_RESERVE ||
	    handle < 0 || handle > UINT32_MAX || priority < 0 || priority > 0xffff || prog_id < 0 ||
	    prog_id > UINT32_MAX || range_from_json(sandbox, true, &hs->sandbox_eph_lo, &hs->sandbox_eph_hi) ||
	    range_from_json(host, true, &hs->host_eph_lo, &hs->host_eph_hi))
		return xh_err(-EINVAL, "malformed state: host");
	hs->publish_all = publish_all;
	hs->clsact_created = clsact;
	/* Optional: states written before `direct` existed have none. */
	if (json_is_integer(json_object_get(j, "direct_queues")))
		hs->direct_queues = (uint32_t)json_integer_value(json_object_get(j, "direct_queues"));
	if (hs->direct_queues > XH_MAX_QUEUES)
		return xh_err(-EINVAL, "malformed state: host.direct_queues");
	hs->tc.handle = handle;
	hs->tc.priority = priority;
	hs->tc.prog_id = prog_id;
	for (size_t i = 0; i < json_array_size(publish); i++)
		if (publish_from_json(json_array_get(publish, i), &hs->publish[hs->n_publish++]))
			return xh_err(-EINVAL, "malformed state: host.publish[%zu]", i);
	for (size_t i = 0; i < json_array_size(reserve); i++)
		if (reserve_from_json(json_array_get(reserve, i), &hs->reserve[hs->n_reserve++]))
			return xh_err(-EINVAL, "malformed state: host.reserve[%zu]", i);
	return 0;
}

static json_t *route_json(const struct xh_route *r)
{
	struct xh_cidr dst = { .ip = r->dst.ip, .plen = r->dst.len };
	json_t *o = cidr_json(&dst);
	char gw[INET6_ADDRSTRLEN];

	json_object_set_new(o, "oif", json_integer(r->oif));
	json_object_set_new(o, "proto", json_integer(r->proto));
	json_object_set_new(o, "scope", json_integer(r->scope));
	if (r->gw.family)
		json_object_set_new(o, "gw", json_string(xh_ip_str(&r->gw, gw, sizeof(gw))));
	if (r->src.family)
		json_object_set_new(o, "src", json_string(xh_ip_str(&r->src, gw, sizeof(gw))));
	json_object_set_new(o, "onlink", json_boolean(r->onlink));
	return o;
}

/* "scope" and "onlink" are absent in older states (which restored
 * routes with scope link, onlink). */
static int route_from_json(json_t *o, struct xh_route *r)
{
	struct xh_cidr dst;
	const char *gw = NULL, *src = NULL;
	int proto, scope = 0, onlink = 1;

	if (cidr_from_json(o, &dst) ||
	    json_unpack(o, "{s:i,s:i,s?i,s?s,s?s,s?b}", "oif", &r->oif, "proto", &proto, "scope", &scope,
			"gw", &gw, "src", &src, "onlink", &onlink) ||
	    proto < 0 || proto > 255 || scope < 0 || scope > 255 || (gw && xh_ip_parse(gw, &r->gw)) ||
	    (src && xh_ip_parse(src, &r->src)))
		return -EINVAL;
	r->dst.ip = dst.ip;
	r->dst.len = dst.plen;
	r->proto = proto;
	r->scope = scope;
	r->onlink = onlink;
	return 0;
}

static json_t *netns_json(const struct xh_netns_state *n)
{
	return json_pack("{s:s,s:s,s:i,s:b,s:s}", "iface", n->iface, "host_peer", n->host_peer,
			 "host_peer_ifindex", n->host_peer_ifindex, "csum_off", n->csum_off, "path", n->path);
}

static int copy_name(char *dst, size_t size, const char *src);

static int netns_from_json(json_t *j, struct xh_netns_state *n)
{
	const char *iface, *peer, *path;
	int csum_off;

	if (json_unpack(j, "{s:s,s:s,s:i,s:b,s:s}", "iface", &iface, "host_peer", &peer, "host_peer_ifindex",
			&n->host_peer_ifindex, "csum_off", &csum_off, "path", &path) ||
	    copy_name(n->iface, sizeof(n->iface), iface) || copy_name(n->host_peer, sizeof(n->host_peer), peer) ||
	    copy_name(n->path, sizeof(n->path), path))
		return xh_err(-EINVAL, "malformed state: netns");
	n->csum_off = csum_off;
	return 0;
}

static json_t *state_json(const struct xh_state *st)
{
	char vmac[18], pmac[18];
	json_t *ips = json_array(), *taken = json_array(), *routes = json_array(), *fastpath = json_array();
	json_t *host_routes = json_array();

	for (size_t i = 0; i < st->n_ips; i++)
		json_array_append_new(ips, cidr_json(&st->ips[i]));
	for (size_t i = 0; i < st->n_fastpath; i++)
		json_array_append_new(fastpath, cidr_json(&st->fastpath[i]));
	for (size_t i = 0; i < st->n_taken; i++) {
		json_t *t = cidr_json(&st->taken[i].addr);

		json_object_set_new(t, "ifindex", json_integer(st->taken[i].ifindex));
		json_array_append_new(taken, t);
	}
	for (size_t i = 0; i < st->n_routes; i++)
		json_array_append_new(routes, route_json(&st->routes[i]));
	for (size_t i = 0; i < st->n_host_routes; i++) {
		json_t *o = route_json(&st->host_routes[i].r);

		json_object_set_new(o, "dev", json_string(st->host_routes[i].dev));
		json_array_append_new(host_routes, o);
	}
	json_t *j = json_pack("{s:i,s:s,s:s,s:s,s:i,s:I,s:I,s:I,"
			 "s:{s:s,s:i},"
			 "s:{s:s,s:i,s:s,s:i,s:s,s:i},"
			 "s:o,s:o,s:o,s:o,s:b,s:{s:i,s:I}}",
			 "version", 1, "id", st->id, "status", st->status, "mode",
			 xh_addr_mode_name(st->mode), "pid", st->pid, "pid_start",
			 (json_int_t)st->pid_start, "netns_cookie", (json_int_t)st->netns_cookie,
			 "host_cookie", (json_int_t)st->host_cookie,
			 "nic", "name", st->nic, "ifindex", st->nic_ifindex,
			 "veth", "name", st->veth, "ifindex", st->veth_ifindex, "mac",
			 xh_mac_str(st->veth_mac, vmac, sizeof(vmac)), "peer_ifindex", st->peer_ifindex,
			 "peer_mac", xh_mac_str(st->peer_mac, pmac, sizeof(pmac)), "mtu", (int)st->mtu,
			 "ips", ips, "taken", taken, "routes", routes, "fastpath", fastpath,
			 "nic_entries", st->nic_entries,
			 "keeper", "pid", st->keeper_pid, "start", (json_int_t)st->keeper_start);

	if (j && st->mode == XH_HOST)
		json_object_set_new(j, "host", host_json(&st->host));
	if (j)
		json_object_set_new(j, "host_routes", host_routes);
	else
		json_decref(host_routes);
	if (j && st->mode == XH_NETNS)
		json_object_set_new(j, "netns", netns_json(&st->netns));
	return j;
}

int xh_state_save(const struct xh_state *st)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16], path[PATH_MAX + 16];
	json_auto_t *j = state_json(st);
	cleanup_free char *text = NULL;
	int err;

	if (!j || !(text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS)))
		return -ENOMEM;
	err = xh_state_dir(st->id, dir, sizeof(dir));
	if (err)
		return err;
	err = xh_mkdir_p(dir, 0700);
	if (err)
		return xh_err(err, "create %s: %s", dir, strerror(-err));
	snprintf(tmp, sizeof(tmp), "%s/.state.json.tmp", dir);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	err = xh_write_file(tmp, text, strlen(text), 0600);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return xh_err(err, "write %s: %s", path, strerror(-err));
	}
	return 0;
}

static int copy_name(char *dst, size_t size, const char *src)
{
	return xh_snprintf(dst, size, "%s", src) < 0 ? -EINVAL : 0;
}

static int state_from_json(json_t *j, struct xh_state *st)
{
	const char *id, *status, *mode, *nic, *veth, *vmac, *pmac;
	json_int_t pid_start, netns, host, kstart;
	json_t *ips, *taken, *routes, *fastpath = NULL, *host_j = NULL, *netns_j = NULL;
	json_t *host_routes = NULL;
	int version, nic_entries, mtu;
	json_error_t e;

	memset(st, 0, sizeof(*st));
	if (json_unpack_ex(j, &e, 0,
			   "{s:i,s:s,s:s,s:s,s:i,s:I,s:I,s:I,"
			   "s:{s:s,s:i},"
			   "s:{s:s,s:i,s:s,s:i,s:s,s:i},"
			   "s:o,s:o,s:o,s?o,s:b,s:{s:i,s:I},s?o,s?o,s?o}",
			   "version", &version, "id", &id, "status", &status, "mode", &mode, "pid",
			   &st->pid, "pid_start", &pid_start, "netns_cookie", &netns, "host_cookie", &host,
			   "nic", "name", &nic, "ifindex", &st->nic_ifindex,
			   "veth", "name", &veth, "ifindex", &st->veth_ifindex, "mac", &vmac,
			   "peer_ifindex", &st->peer_ifindex, "peer_mac", &pmac, "mtu", &mtu,
			   "ips", &ips, "taken", &taken, "routes", &routes, "fastpath", &fastpath,
			   "nic_entries", &nic_entries,
			   "keeper", "pid", &st->keeper_pid, "start", &kstart, "host", &host_j, "netns", &netns_j,
			   "host_routes", &host_routes))
		return xh_err(-EINVAL, "malformed state: %s", e.text);
	if (version != 1)
		return xh_err(-EINVAL, "state version %d is not 1", version);
	if (copy_name(st->id, sizeof(st->id), id) || copy_name(st->status, sizeof(st->status), status) ||
	    copy_name(st->nic, sizeof(st->nic), nic) || copy_name(st->veth, sizeof(st->veth), veth) ||
	    mac_parse(vmac, st->veth_mac) || mac_parse(pmac, st->peer_mac))
		return xh_err(-EINVAL, "malformed state: bad name or MAC");
	st->mode = !strcmp(mode, "host") ? XH_HOST : !strcmp(mode, "netns") ? XH_NETNS : XH_POD;
	st->pid_start = pid_start;
	st->netns_cookie = netns;
	st->host_cookie = host;
	st->keeper_start = kstart;
	st->mtu = mtu;
	st->nic_entries = nic_entries;
	if (!json_is_array(ips) || json_array_size(ips) > XH_CFG_MAX_IPS || !json_is_array(taken) ||
	    json_array_size(taken) > XH_MAX_TAKEN || !json_is_array(routes) ||
	    json_array_size(routes) > XH_MAX_ROUTES)
		return xh_err(-EINVAL, "malformed state: address lists");
	for (size_t i = 0; i < json_array_size(ips); i++)
		if (cidr_from_json(json_array_get(ips, i), &st->ips[st->n_ips++]))
			return xh_err(-EINVAL, "malformed state: ips[%zu]", i);
	/* Absent in states written before xdp_veth was shared. */
	if (fastpath && (!json_is_array(fastpath) || json_array_size(fastpath) > XH_CFG_MAX_FASTPATH))
		return xh_err(-EINVAL, "malformed state: fastpath");
	for (size_t i = 0; fastpath && i < json_array_size(fastpath); i++)
		if (cidr_from_json(json_array_get(fastpath, i), &st->fastpath[st->n_fastpath++]))
			return xh_err(-EINVAL, "malformed state: fastpath[%zu]", i);
	for (size_t i = 0; i < json_array_size(taken); i++) {
		json_t *t = json_array_get(taken, i);
		struct xh_taken_addr *ta = &st->taken[st->n_taken++];

		if (cidr_from_json(t, &ta->addr) || json_unpack(t, "{s:i}", "ifindex", &ta->ifindex))
			return xh_err(-EINVAL, "malformed state: taken[%zu]", i);
	}
	for (size_t i = 0; i < json_array_size(routes); i++)
		if (route_from_json(json_array_get(routes, i), &st->routes[st->n_routes++]))
			return xh_err(-EINVAL, "malformed state: routes[%zu]", i);
	if (host_routes && (!json_is_array(host_routes) || json_array_size(host_routes) > XH_CFG_MAX_IPS))
		return xh_err(-EINVAL, "malformed state: host_routes");
	for (size_t i = 0; host_routes && i < json_array_size(host_routes); i++) {
		json_t *o = json_array_get(host_routes, i);
		struct xh_host_route *hr = &st->host_routes[st->n_host_routes++];
		const char *dev;

		if (route_from_json(o, &hr->r) || json_unpack(o, "{s:s}", "dev", &dev) ||
		    copy_name(hr->dev, sizeof(hr->dev), dev))
			return xh_err(-EINVAL, "malformed state: host_routes[%zu]", i);
	}
	if (st->mode == XH_HOST) {
		if (!host_j)
			return xh_err(-EINVAL, "malformed state: host mode without \"host\"");
		return host_from_json(host_j, &st->host);
	}
	if (st->mode == XH_NETNS) {
		if (!netns_j)
			return xh_err(-EINVAL, "malformed state: netns mode without \"netns\"");
		return netns_from_json(netns_j, &st->netns);
	}
	return 0;
}

int xh_state_load(const char *id, struct xh_state *st)
{
	char path[PATH_MAX];
	json_auto_t *j = NULL;
	json_error_t e;
	int err = xh_snprintf(path, sizeof(path), XH_RUN_DIR "/%s/state.json", id);

	if (err < 0)
		return err;
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		if (access(path, F_OK))
			return -ENOENT;
		return xh_err(-EINVAL, "%s: %s", path, e.text);
	}
	err = state_from_json(j, st);
	if (err)
		return xh_err(err, "%s: %s", path, xh_strerror(err));
	return 0;
}

int xh_state_remove(const char *id)
{
	char dir[PATH_MAX], path[PATH_MAX + 260];
	struct dirent *e;
	DIR *d;
	int err = xh_state_dir(id, dir, sizeof(dir));

	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		return -errno;
	return 0;
}

static bool is_state_dir(const struct dirent *e)
{
	return e->d_type == DT_DIR && e->d_name[0] != '.';
}

int xh_state_walk(int (*fn)(const struct xh_state *st, void *ctx), void *ctx)
{
	char **ids = NULL;
	size_t n = 0;
	int rc = xh_dir_list(XH_RUN_DIR, is_state_dir, &ids, &n);

	for (size_t i = 0; i < n; i++) {
		struct xh_state st;

		if (!rc && !xh_state_load(ids[i], &st))
			rc = fn(&st, ctx);
	}
	xh_dir_list_free(ids, n);
	return rc;
}

/* Fields of /proc/PID/stat: state (3) and starttime (22). */
static int proc_stat(int pid, char *state, uint64_t *start)
{
	char path[64], buf[1024];
	cleanup_fclose FILE *f = NULL;
	unsigned long long v;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	if (!fgets(buf, sizeof(buf), f))
		return -EIO;
	/* comm may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* field 3 (state) is p+2; starttime is field 22. */
	if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   state, &v) != 2)
		return -EIO;
	*start = v;
	return 0;
}

int xh_proc_start_time(int pid, uint64_t *start)
{
	char state;

	return proc_stat(pid, &state, start);
}

bool xh_proc_running(int pid, uint64_t start)
{
	uint64_t now;
	char state;

	return pid > 0 && !proc_stat(pid, &state, &now) && state != 'Z' && state != 'X' && (!start || now == start);
}

int xh_proc_all_visible(void)
{
	char buf[64] = "";
	cleanup_fclose FILE *f = fopen("/proc/2/stat", "re");

	/* kthreadd is pid 2 in the initial pid namespace only. */
	if (!f || !fgets(buf, sizeof(buf), f) || strncmp(buf, "2 (kthreadd) ", 13))
		return xh_err(-EPERM, "not every process is visible here (not the initial pid namespace)");
	return 0;
}

bool xh_state_alive(const struct xh_state *st)
{
	return xh_proc_running(st->pid, st->pid_start);
}

int xh_state_lock(const char *id, int flags)
{
	char dir[PATH_MAX];
	int err = xh_state_dir(id, dir, sizeof(dir));

	if (err)
		return err;
	/* The directory may go (a teardown removing it) between open and
	 * flock: a removed directory has no links left; then start over (a
	 * claim) or report it gone. */
	for (int tries = 0; tries < 100; tries++) {
		struct stat s;
		int fd;

		if ((flags & XH_LOCK_CREATE) && (err = xh_mkdir_p(dir, 0700)))
			return xh_err(err, "create %s: %s", dir, strerror(-err));
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
		while (flock(fd, LOCK_EX | (flags & XH_LOCK_NOWAIT ? LOCK_NB : 0))) {
			if (errno != EINTR) {
				err = -errno;
				close(fd);
				return err;
			}
		}
		if (!fstat(fd, &s) && s.st_nlink > 0)
			return fd;
		close(fd);
		if (!(flags & XH_LOCK_CREATE))
			return -ENOENT;
	}
	return xh_err(-EBUSY, "%s keeps being removed", dir);
}

void xh_unlock(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int xh_lock(void)
{
	int fd, err = xh_mkdir_p(XH_RUN_DIR, 0700);

	if (err)
		return err;
	fd = open(XH_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}
