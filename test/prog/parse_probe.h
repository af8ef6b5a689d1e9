/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What parse_probe.bpf.c reports about the last frame it saw: a flat copy of
 * the fields of struct packet (bpf/parsing.h) that do not hold pointers,
 * plus parse_packet()'s return code. Shared by the BPF program and the
 * tests, so both agree on the layout (only fixed-width fields, no padding
 * surprises).
 */
#ifndef XDPHOOK_TEST_PARSE_PROBE_H
#define XDPHOOK_TEST_PARSE_PROBE_H

#include <linux/types.h>

struct probe_result {
	__u64 runs;        /* incremented on every run: proves the probe ran */
	__s32 rc;          /* parse_packet() return value: 0 or -1 */
	__u16 l3_proto;
	__u8 l4_proto;
	__u8 vlans;
	__u16 vlan_id[2];
	__u8 frag;
	__u8 has_ip4;      /* struct packet .ip4/.ip6/.l4 non-NULL */
	__u8 has_ip6;
	__u8 has_l4;
	__u16 ip_hdr_len;
	__u16 l3_off;
	__u16 l4_off;
	__u16 sport;
	__u16 dport;
	__u16 pad;
};

#endif
