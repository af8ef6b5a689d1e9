/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fuzz target: the node configuration file and the io.xdphook.*
 * annotations.
 *
 * Input: the config file, then optionally a NUL byte and annotations as
 * NUL-separated key, value, key, value, ... (a key without value gets "").
 * The file goes through a memfd (mode 0600), opened by path like the real
 * /etc/xdphook/config.json; the annotations are applied over the result.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define MAX_ANN 64

static char path[64];
static int memfd = -1;

static void write_file(const uint8_t *data, size_t len)
{
	if (memfd < 0) {
		memfd = memfd_create("xdphook-fuzz-config", MFD_CLOEXEC);
		if (memfd < 0 || fchmod(memfd, 0600))
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) || pwrite(memfd, data, len, 0) != (ssize_t)len)
		abort();
}

/* What every successfully loaded or applied configuration satisfies. */
static void check(const struct xh_config *c)
{
	char buf[64];

	if (c->n_ips > XH_CFG_MAX_IPS || c->n_fastpath > XH_CFG_MAX_FASTPATH ||
	    c->n_publish > XH_CFG_MAX_PUBLISH || c->n_reserve > XH_CFG_MAX_RESERVE ||
	    c->n_uids < 1 || c->n_uids > XH_CFG_MAX_UIDS || !memchr(c->nic, '\0', sizeof(c->nic)))
		abort();
	if (c->umem_size < XH_CFG_UMEM_MIN || c->umem_size > XH_CFG_UMEM_MAX ||
	    (c->umem_size & (c->umem_size - 1)))
		abort();
	if (c->fastpath_none && c->n_fastpath)
		abort();
	if (c->publish_all && c->n_publish)
		abort();
	for (size_t i = 0; i < c->n_ips; i++)
		if (xh_cidr_format(&c->ips[i], buf, sizeof(buf)) <= 0)
			abort();
	for (size_t i = 0; i < c->n_fastpath; i++)
		if (xh_cidr_format(&c->fastpath[i], buf, sizeof(buf)) <= 0)
			abort();
	for (size_t i = 0; i < c->n_publish; i++) {
		const struct xh_publish_rule *r = &c->publish[i];

		if (!r->host_lo || r->host_lo > r->host_hi || !r->sandbox_lo ||
		    r->host_hi - r->host_lo != r->sandbox_hi - r->sandbox_lo)
			abort();
	}
	for (size_t i = 0; i < c->n_reserve; i++)
		if (!c->reserve[i].lo || c->reserve[i].lo > c->reserve[i].hi)
			abort();
}

/* Error details end up in the runtime's logs: one line, printable, with
 * user input escaped (xh_str_escape). */
static void check_detail(int err)
{
	for (const char *p = err ? xh_strerror(err) : ""; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xh_annotation ann[MAX_ANN];
	struct xh_config cfg, before;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t flen = nul ? (size_t)(nul - data) : size, n = 0;
	char *rest = NULL;
	int err;

	write_file(data, flen);
	err = xh_config_load_file(path, &cfg);
	if (!err)
		check(&cfg);
	check_detail(err);

	/* The annotations: a NUL-terminated copy split at each NUL. */
	if (nul) {
		size_t rlen = size - flen - 1;
		char *p, *end;

		rest = malloc(rlen + 1);
		if (!rest)
			abort();
		memcpy(rest, nul + 1, rlen);
		rest[rlen] = '\0';
		for (p = rest, end = rest + rlen; p <= end && n < MAX_ANN; n++) {
			ann[n].key = p;
			p += strlen(p) + 1;
			ann[n].value = p <= end ? p : (char *)"";
			p += p <= end ? strlen(p) + 1 : 0;
		}
	}
	memcpy(&before, &cfg, sizeof(cfg));
	err = xh_config_apply_annotations(&cfg, ann, n, path);
	if (!err)
		check(&cfg);
	else if (memcmp(&cfg, &before, sizeof(cfg)))
		abort(); /* on error cfg is unchanged */
	check_detail(err);
	free(rest);
	return 0;
}
