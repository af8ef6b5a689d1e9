/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Internet checksum (RFC 1071) for the frames the benchmark's tools
 * build: a running 32-bit sum of big-endian 16-bit words, then folded. */
#ifndef XDPHOOK_BENCH_CSUM_H
#define XDPHOOK_BENCH_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* sum plus data's 16-bit words (an odd last byte padded with zero). */
static inline uint32_t csum_add(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* The sum folded to 16 bits, not inverted (a base to add to later). */
static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field's value, host order: the folded sum, inverted. */
static inline uint16_t csum_final(uint32_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

#endif
