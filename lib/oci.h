/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The OCI hook input: the container state the runtime writes on the hook's
 * stdin, `{"ociVersion":..,"id":..,"status":..,"pid":N,"bundle":..,
 * "annotations":{..}}`, and the hook stage it is run for.
 *
 * The input comes from the runtime but carries user-controlled parts (the
 * id, the annotations), so parsing is strict and bounded: at most
 * XH_OCI_STATE_MAX bytes, XH_OCI_DEPTH_MAX levels of nesting, no NUL bytes,
 * no duplicate keys. Errors are negative errnos with an xh_err() detail.
 */
#ifndef XDPHOOK_OCI_H
#define XDPHOOK_OCI_H

#include <stdbool.h>
#include <stddef.h>

#define XH_OCI_STATE_MAX (1u << 20) /* bytes of state JSON accepted */
#define XH_OCI_DEPTH_MAX 32          /* nesting levels of arrays/objects */
#define XH_OCI_ID_MAX 128            /* characters in a container id */

/* Annotations of the kubelet's CRI plugins naming the container type. */
#define XH_ANN_CRI_CONTAINER_TYPE "io.kubernetes.cri.container-type"
#define XH_ANN_CRIO_CONTAINER_TYPE "io.kubernetes.cri-o.ContainerType"

struct xh_annotation {
	char *key;
	char *value;
};

struct xh_oci_state {
	char *id;                         /* always set (not yet checked: see xh_oci_id_valid) */
	char *status;                     /* NULL when absent */
	int pid;                          /* 0 when absent (poststop) */
	char *bundle;                     /* "bundle", else "bundlePath"; NULL when absent */
	size_t n_annotations;
	struct xh_annotation *annotations; /* in document order */
};

/* Parse len bytes (need not be NUL-terminated). Unknown fields are ignored;
 * JSON null counts as absent for the optional fields (Go encoders write
 * null for nil maps). -E2BIG over XH_OCI_STATE_MAX; -EINVAL for bad JSON,
 * NUL bytes, deep nesting, missing id or a wrong type (detail names the
 * field: `state: "pid" must be an integer, got string`); -ENOMEM. */
int xh_oci_state_parse(const char *json, size_t len, struct xh_oci_state **out);
void xh_oci_state_free(struct xh_oci_state *st);
void xh_oci_state_freep(struct xh_oci_state **st);
#define cleanup_oci_state __attribute__((cleanup(xh_oci_state_freep)))

/* Strict, bounded JSON loading, shared with the config file: refuses more
 * than XH_OCI_STATE_MAX bytes (-E2BIG), NUL bytes, nesting deeper than
 * XH_OCI_DEPTH_MAX, duplicate keys, a top level other than an object
 * (-EINVAL). Details start with `what`. *out: a new reference. */
struct json_t;
int xh_json_load(const char *buf, size_t len, const char *what, struct json_t **out);
/* "string", "integer", "boolean", ... for messages. */
const char *xh_json_type_name(const struct json_t *v);

/* Copy s into buf for a message, escaping quotes, backslashes and
 * non-printable bytes (\xNN) and truncating long input with "...": ids
 * and annotations are user-controlled and end up in logs. Returns buf. */
const char *xh_str_escape(const char *s, char *buf, size_t size);

/* Value of an annotation, or NULL. */
const char *xh_oci_annotation(const struct xh_oci_state *st, const char *key);

/* Read fd to EOF into a NUL-terminated heap buffer (*len excludes the NUL).
 * More than limit bytes: -E2BIG, and nothing is returned. */
int xh_read_all(int fd, size_t limit, char **buf, size_t *len);

/* 0 if id matches [A-Za-z0-9][A-Za-z0-9_.-]{0,127} (safe as a path
 * component and a log word); else -EINVAL with a detail saying why. */
int xh_oci_id_valid(const char *id);

enum xh_phase {
	XH_PHASE_SETUP,
	XH_PHASE_TEARDOWN,
};

/* The phase from the hook stage named in argv (createRuntime, prestart ->
 * setup; poststop -> teardown; any other stage is refused), else (stage
 * NULL) from the state status (creating, created -> setup; stopped ->
 * teardown; anything else is refused). Either argument may be NULL. */
int xh_oci_phase(const char *argv_stage, const char *status, enum xh_phase *out);
const char *xh_phase_name(enum xh_phase phase);

/* What the phase needs from the state: a valid id always, and the init pid
 * for setup ("state has no pid: setup needs the container's init pid"). */
int xh_oci_state_check(const struct xh_oci_state *st, enum xh_phase phase);

/* Kubernetes: every container of a pod shares the sandbox's netns, so the
 * hook acts for the sandbox only. True unless a CRI container-type
 * annotation is present with a value other than "sandbox" (plain
 * runc/crun/podman containers carry none). */
bool xh_oci_is_sandbox(const struct xh_oci_state *st);

#endif
