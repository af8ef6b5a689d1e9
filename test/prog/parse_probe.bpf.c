/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Test-only XDP program: runs parse_packet() from bpf/parsing.h on the frame
 * and stores what it found in slot 0 of the `probe_out` array, so the
 * packet-level tests (test/prog/test_parser.c) can check every field.
 *
 * Verdict mapping (the tests rely on it):
 *   parse_packet() == 0   ->  XDP_PASS
 *   parse_packet() == -1  ->  XDP_DROP
 * so BPF_PROG_TEST_RUN's retval alone tells whether the frame parsed. The
 * result is written in both cases (fields after a failure show how far the
 * parser got).
 */
#include "parsing.h"
#include "parse_probe.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_result);
} probe_out SEC(".maps");

SEC("xdp")
int parse_probe(struct xdp_md *ctx)
{
	struct probe_result *r;
	struct packet p;
	__u32 key = 0;
	int rc;

	rc = parse_packet(ctx, &p);

	r = bpf_map_lookup_elem(&probe_out, &key);
	if (r) {
		r->runs++;
		r->rc = rc;
		r->l3_proto = p.l3_proto;
		r->l4_proto = p.l4_proto;
		r->vlans = p.vlans;
		r->vlan_id[0] = p.vlan_id[0];
		r->vlan_id[1] = p.vlan_id[1];
		r->frag = p.frag;
		r->has_ip4 = p.ip4 != 0;
		r->has_ip6 = p.ip6 != 0;
		r->has_l4 = p.l4 != 0;
		r->ip_hdr_len = p.ip_hdr_len;
		r->l3_off = p.l3_off;
		r->l4_off = p.l4_off;
		r->sport = p.sport;
		r->dport = p.dport;
	}
	return rc == 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

