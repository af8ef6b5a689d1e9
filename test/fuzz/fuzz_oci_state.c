/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fuzz target: the OCI state JSON on xdp_hook's stdin, and what the hook
 * does with it next: id and phase checks, the sandbox test, and the
 * io.xdphook.* annotations applied over the default configuration.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "oci.h"
#include "util.h"

/* xh_str_escape must stay within size and NUL-terminate, for every size. */
static void check_escape(const char *s)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 5, 8, 64, 96, 300 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char *buf = malloc(sizes[i]); /* exact size: ASan sees one byte too far */

		if (!buf)
			abort();
		if (strlen(xh_str_escape(s, buf, sizes[i])) >= sizes[i])
			abort();
		free(buf);
	}
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
	struct xh_oci_state *st = NULL;
	struct xh_config cfg;
	enum xh_phase phase;
	int err = xh_oci_state_parse((const char *)data, size, &st);

	if (err) {
		if (st)
			abort(); /* failure must leave nothing behind */
		check_detail(err);
		return 0;
	}
	if (!st->id || st->pid < 0 || (st->n_annotations && !st->annotations))
		abort();

	check_detail(xh_oci_id_valid(st->id));
	check_escape(st->id);
	err = xh_oci_phase(NULL, st->status, &phase);
	check_detail(err ? err : xh_oci_state_check(st, phase));
	/* the status string as an argv stage: any text reaches that path too */
	if (st->status) {
		err = xh_oci_phase(st->status, NULL, &phase);
		check_detail(err ? err : xh_oci_state_check(st, phase));
	}
	xh_oci_is_sandbox(st);
	for (size_t i = 0; i < st->n_annotations; i++)
		if (xh_oci_annotation(st, st->annotations[i].key) == NULL)
			abort();

	xh_config_init(&cfg);
	cfg.ann_allowed = XH_CFG_ANN_ALL; /* every value parser, not only the default keys' */
	check_detail(xh_config_apply_annotations(&cfg, st->annotations, st->n_annotations,
						 "/etc/xdphook/config.json"));

	xh_oci_state_free(st);
	return 0;
}
