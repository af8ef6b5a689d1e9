/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fuzz target: the endpoint protocol as a client or keeper receives it.
 * Each input is tried as
 *   - a record (xh_ep_msg_decode), its DESC or ERROR payload decoded too;
 *   - a DESC payload (xh_ep_desc_from_json);
 *   - the exec wrapper's XDP_ENDPOINT_JSON (xh_ep_env_from_json, a C string);
 *   - an ERROR payload (xh_ep_error_decode), into buffers of several sizes.
 * Whatever decodes must encode again and decode to the same thing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint_proto.h"

static void desc(const char *text, size_t len)
{
	struct xh_ep_desc d, back;
	char *json = NULL;

	if (xh_ep_desc_from_json(text, len, &d))
		return;
	if (xh_ep_desc_to_json(&d, &json) || xh_ep_desc_from_json(json, strlen(json), &back) ||
	    memcmp(&d, &back, sizeof(d)))
		abort();
	free(json);
}

static void env(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size); /* an environment value */
	struct xh_ep_desc d, d2;
	struct xh_ep_layout l, l2;
	char *json = NULL;

	if (!text)
		abort();
	if (!xh_ep_env_from_json(text, &d, &l)) {
		if (xh_ep_env_to_json(&d, &l, &json) || xh_ep_env_from_json(json, &d2, &l2) ||
		    memcmp(&d, &d2, sizeof(d)) || memcmp(&l, &l2, sizeof(l)))
			abort();
		free(json);
	}
	free(text);
}

/* A decoded error must encode again (the text cut to half the limit), or
 * be refused as too long once escaped, and decode to the same. */
static void error_again(int err, const char *msg)
{
	char *json = NULL, back[XDP_ENDPOINT_ERROR_MAX];
	int rc = xh_ep_error_encode(err, msg, &json), err2 = 0;

	if (rc == -EMSGSIZE)
		return;
	if (rc || xh_ep_error_decode(json, strlen(json), &err2, back, sizeof(back)) ||
	    err2 != err || strncmp(back, msg, strlen(back)))
		abort();
	free(json);
}

static void error(const void *payload, size_t len)
{
	static const size_t sizes[] = { 1, 2, 16, XDP_ENDPOINT_ERROR_MAX };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *buf = malloc(sizes[i]); /* exact size: ASan sees one byte too far */
		int err = 0;

		if (!buf)
			abort();
		if (!xh_ep_error_decode(payload, len, &err, buf, sizes[i])) {
			if (err <= 0 || err > 4095 || strlen(buf) >= sizes[i])
				abort();
			if (sizes[i] == XDP_ENDPOINT_ERROR_MAX)
				error_again(err, buf);
		}
		free(buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const void *payload;
	uint16_t type;
	size_t len;

	if (!xh_ep_msg_decode(data, size, &type, &payload, &len)) {
		char *rec = malloc(size);

		/* a valid record is exactly what encoding its payload gives */
		if (!rec || xh_ep_msg_encode(type, payload, len, rec, size) != (int)size ||
		    memcmp(rec, data, size))
			abort();
		free(rec);
		if (type == XDP_ENDPOINT_MSG_DESC)
			desc(payload, len);
		else if (type == XDP_ENDPOINT_MSG_ERROR)
			error(payload, len);
	}
	desc((const char *)data, size);
	env(data, size);
	error(data, size);
	return 0;
}
