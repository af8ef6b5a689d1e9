/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One-line packet summaries in the style of `tcpdump -n -e`:
 *
 *   12:34:56.789012 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4
 *   (0x0800), length 98: 10.0.0.1 > 10.0.0.2: ICMP echo request, id 5, seq 1,
 *   length 64
 *
 * (one line; wrapped here). Decodes Ethernet, 802.1Q/802.1ad tags, ARP,
 * IPv4 (options skipped by IHL, fragments), IPv6 (extension headers,
 * fragments), TCP, UDP, ICMP and ICMPv6. Anything truncated prints as
 * "[|proto]", anything unknown by number. Never reads frame[len] or beyond:
 * the input is untrusted (it is fuzzed).
 */
#ifndef XDPHOOK_PKTPRINT_H
#define XDPHOOK_PKTPRINT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Format the summary of the len-byte frame into buf, NUL-terminated, with no
 * trailing newline. ts (local time, HH:MM:SS.micro) is omitted when NULL.
 * Returns the length of the full line like snprintf (a return >= size means
 * it was truncated), or -EINVAL if buf is NULL, size is 0, or frame is NULL
 * with len > 0. */
int xh_pkt_format(char *buf, size_t size, const struct timespec *ts, const void *frame,
		  uint32_t len);

#endif
