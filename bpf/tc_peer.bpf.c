// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark only (test/bench/run.sh, kernel_bpf_peer): the best kernel
 * path a Kubernetes user has today, Cilium's BPF host routing in its veth
 * form: a tc ingress program on the NIC hands every packet to the pod's
 * veth with bpf_redirect_peer(), straight into the pod's netns, with no
 * host forwarding and no backlog hop. The pod's veth is the ifindex in
 * peer_ifindex[0] (set by the benchmark after loading); 0 passes.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} peer_ifindex SEC(".maps");

SEC("tc")
int bench_redirect_peer(struct __sk_buff *skb)
{
	__u32 zero = 0, *ifindex = bpf_map_lookup_elem(&peer_ifindex, &zero);

	if (!ifindex || !*ifindex)
		return TC_ACT_OK;
	return bpf_redirect_peer(*ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
