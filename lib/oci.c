/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The OCI hook input: state JSON, container id, hook stage. */
#include "oci.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>

#include "util.h"

/* ---- bounded JSON ----------------------------------------------------------- */

/* Deepest nesting of arrays/objects, scanning no further than needed to
 * know it exceeds max. Done before jansson sees the input so hostile
 * nesting costs neither recursion nor allocations. Brackets inside strings
 * do not count; a backslash escapes the next byte. */
static bool nesting_exceeds(const char *s, size_t len, unsigned int max)
{
	unsigned int depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c) {
		case '"':
			in_string = true;
			break;
		case '[':
		case '{':
			if (++depth > max)
				return true;
			break;
		case ']':
		case '}':
			if (depth)
				depth--;
			break;
		}
	}
	return false;
}

/* jansson quotes pieces of the input in its messages: keep them printable. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

int xh_json_load(const char *buf, size_t len, const char *what, struct json_t **out)
{
	const char *nul;
	json_error_t jerr;
	json_t *root;

	if (len > XH_OCI_STATE_MAX)
		return xh_err(-E2BIG, "%s: %zu bytes, more than the %u accepted", what, len,
			      XH_OCI_STATE_MAX);
	if (len == 0)
		return xh_err(-EINVAL, "%s: empty", what);
	nul = memchr(buf, '\0', len);
	if (nul)
		return xh_err(-EINVAL, "%s: NUL byte at offset %zu", what, (size_t)(nul - buf));
	if (nesting_exceeds(buf, len, XH_OCI_DEPTH_MAX))
		return xh_err(-EINVAL, "%s: nested deeper than %u levels", what, XH_OCI_DEPTH_MAX);

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		sanitize(jerr.text);
		return xh_err(-EINVAL, "%s: invalid JSON at line %d column %d: %s", what, jerr.line,
			      jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		int err = xh_err(-EINVAL, "%s: must be a JSON object, got %s", what,
				 xh_json_type_name(root));

		json_decref(root);
		return err;
	}
	*out = root;
	return 0;
}

const char *xh_json_type_name(const struct json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "fractional number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

static size_t escaped_len(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	return c < 0x20 || c > 0x7e ? 4 : 1;
}

const char *xh_str_escape(const char *s, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t total = 0, room, o = 0;
	bool cut;

	if (!size)
		return buf;
	for (const char *p = s; p && *p; p++)
		total += escaped_len((unsigned char)*p);
	/* all of it if it fits, else as much as leaves room for "..." */
	cut = total >= size;
	room = !cut ? total : size >= 4 ? size - 4 : 0;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (o + escaped_len(c) > room)
			break;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (escaped_len(c) == 4) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		} else {
			buf[o++] = (char)c;
		}
	}
	if (cut && size >= 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- state ------------------------------------------------------------------ */

static int dup_string(const char *s, char **out)
{
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* An optional string member: absent or null leaves *out NULL. */
static int get_string(json_t *root, const char *name, char **out)
{
	json_t *v = json_object_get(root, name);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return xh_err(-EINVAL, "state: \"%s\" must be a string, got %s", name,
			      xh_json_type_name(v));
	return dup_string(json_string_value(v), out);
}

static int get_id(json_t *root, struct xh_oci_state *st)
{
	json_t *v = json_object_get(root, "id");

	if (!v)
		return xh_err(-EINVAL, "state: no \"id\"");
	if (!json_is_string(v))
		return xh_err(-EINVAL, "state: \"id\" must be a string, got %s", xh_json_type_name(v));
	return dup_string(json_string_value(v), &st->id);
}

static int get_pid(json_t *root, struct xh_oci_state *st)
{
	json_t *v = json_object_get(root, "pid");
	json_int_t pid;

	st->pid = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return xh_err(-EINVAL, "state: \"pid\" must be an integer, got %s",
			      xh_json_type_name(v));
	pid = json_integer_value(v);
	if (pid < 0 || pid > INT_MAX)
		return xh_err(-EINVAL, "state: \"pid\" %" JSON_INTEGER_FORMAT " out of range",
			      pid);
	st->pid = (int)pid;
	return 0;
}

/* "bundle" is the spec's name; some runtimes wrote "bundlePath". */
static int get_bundle(json_t *root, struct xh_oci_state *st)
{
	cleanup_free char *alt = NULL;
	int err;

	err = get_string(root, "bundle", &st->bundle);
	if (err)
		return err;
	err = get_string(root, "bundlePath", &alt);
	if (err)
		return err;
	if (!st->bundle)
		st->bundle = steal_pointer(&alt);
	return 0;
}

static int get_annotations(json_t *root, struct xh_oci_state *st)
{
	json_t *obj = json_object_get(root, "annotations");
	const char *key;
	json_t *v;
	size_t n = 0;

	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return xh_err(-EINVAL, "state: \"annotations\" must be an object, got %s",
			      xh_json_type_name(obj));
	if (!json_object_size(obj))
		return 0;
	st->annotations = calloc(json_object_size(obj), sizeof(*st->annotations));
	if (!st->annotations)
		return -ENOMEM;
	json_object_foreach(obj, key, v) {
		struct xh_annotation *a = &st->annotations[n];
		char q[96];

		if (!json_is_string(v))
			return xh_err(-EINVAL, "state: annotation \"%s\" must be a string, got %s",
				      xh_str_escape(key, q, sizeof(q)), xh_json_type_name(v));
		if (dup_string(key, &a->key))
			return -ENOMEM;
		/* counted once the key is owned, so free() sees it */
		st->n_annotations = ++n;
		if (dup_string(json_string_value(v), &a->value))
			return -ENOMEM;
	}
	return 0;
}

int xh_oci_state_parse(const char *json, size_t len, struct xh_oci_state **out)
{
	cleanup_oci_state struct xh_oci_state *st = NULL;
	json_auto_t *root = NULL;
	int err;

	err = xh_json_load(json, len, "state", &root);
	if (err)
		return err;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	err = get_id(root, st);
	if (!err)
		err = get_string(root, "status", &st->status);
	if (!err)
		err = get_pid(root, st);
	if (!err)
		err = get_bundle(root, st);
	if (!err)
		err = get_annotations(root, st);
	if (err)
		return err;
	*out = steal_pointer(&st);
	return 0;
}

void xh_oci_state_free(struct xh_oci_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	free(st->id);
	free(st->status);
	free(st->bundle);
	free(st);
}

void xh_oci_state_freep(struct xh_oci_state **st)
{
	xh_oci_state_free(*st);
}

const char *xh_oci_annotation(const struct xh_oci_state *st, const char *key)
{
	for (size_t i = 0; i < st->n_annotations; i++)
		if (!strcmp(st->annotations[i].key, key))
			return st->annotations[i].value;
	return NULL;
}

/* ---- stdin ------------------------------------------------------------------ */

int xh_read_all(int fd, size_t limit, char **buf, size_t *len)
{
	cleanup_free char *b = NULL;
	size_t cap = 0, n = 0;

	for (;;) {
		ssize_t r;

		if (n == cap) {
			/* grow to at most limit + 1: one byte more than allowed
			 * is enough to know the input is too big */
			size_t want = cap ? cap * 2 : 4096;
			char *nb;

			if (want - 1 > limit)
				want = limit + 1;
			if (want <= cap)
				return xh_err(-E2BIG, "input larger than %zu bytes", limit);
			nb = realloc(b, want + 1);
			if (!nb)
				return -ENOMEM;
			b = nb;
			cap = want;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > limit)
			return xh_err(-E2BIG, "input larger than %zu bytes", limit);
	}
	if (!b) {
		b = malloc(1);
		if (!b)
			return -ENOMEM;
	}
	b[n] = '\0';
	*buf = steal_pointer(&b);
	*len = n;
	return 0;
}

/* ---- id, phase ---------------------------------------------------------------- */

static bool id_char(unsigned char c, bool first)
{
	if (isascii(c) && isalnum(c))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

int xh_oci_id_valid(const char *id)
{
	char q[64];
	size_t len;

	if (!id || !*id)
		return xh_err(-EINVAL, "container id is empty");
	len = strnlen(id, XH_OCI_ID_MAX + 1);
	if (len > XH_OCI_ID_MAX)
		return xh_err(-EINVAL, "container id is too long (%zu chars, at most %d)", strlen(id),
			      XH_OCI_ID_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (id_char(c, i == 0))
			continue;
		return xh_err(-EINVAL,
			      "container id \"%s\": bad character 0x%02x at position %zu (%s)",
			      xh_str_escape(id, q, sizeof(q)), c, i,
			      i == 0 ? "must start with a letter or digit"
				     : "allowed: letters, digits, '_', '.', '-'");
	}
	return 0;
}

static const struct {
	const char *name;
	int phase; /* -1: an OCI stage xdp_hook does not serve */
} stages[] = {
	{ "createRuntime", XH_PHASE_SETUP },
	{ "prestart", XH_PHASE_SETUP },
	{ "poststop", XH_PHASE_TEARDOWN },
	/* createContainer and startContainer run in the container's mount
	 * namespace, where /run and /sys/fs/bpf are not the host's;
	 * poststart is too late (the workload already runs). */
	{ "createContainer", -1 },
	{ "startContainer", -1 },
	{ "poststart", -1 },
};

static int phase_from_stage(const char *stage, enum xh_phase *out)
{
	char q[64];

	for (size_t i = 0; i < ARRAY_SIZE(stages); i++) {
		if (strcmp(stage, stages[i].name))
			continue;
		if (stages[i].phase < 0)
			return xh_err(-EINVAL,
				      "hook stage '%s' is not one xdp_hook serves (createRuntime, prestart, poststop)",
				      stage);
		*out = stages[i].phase;
		return 0;
	}
	return xh_err(-EINVAL, "unknown hook stage '%s' (xdp_hook serves createRuntime, prestart, poststop)",
		      xh_str_escape(stage, q, sizeof(q)));
}

int xh_oci_phase(const char *argv_stage, const char *status, enum xh_phase *out)
{
	char q[64];

	if (argv_stage)
		return phase_from_stage(argv_stage, out);
	if (!status)
		return xh_err(-EINVAL,
			      "no hook stage in the arguments and no status in the state: cannot tell setup from teardown");
	if (!strcmp(status, "creating") || !strcmp(status, "created")) {
		*out = XH_PHASE_SETUP;
		return 0;
	}
	if (!strcmp(status, "stopped")) {
		*out = XH_PHASE_TEARDOWN;
		return 0;
	}
	return xh_err(-EINVAL,
		      "state status '%s' is neither creating/created (setup) nor stopped (teardown); name the stage in the hook's args",
		      xh_str_escape(status, q, sizeof(q)));
}

const char *xh_phase_name(enum xh_phase phase)
{
	return phase == XH_PHASE_SETUP ? "setup" : "teardown";
}

int xh_oci_state_check(const struct xh_oci_state *st, enum xh_phase phase)
{
	int err = xh_oci_id_valid(st->id);

	if (err)
		return err;
	if (phase == XH_PHASE_SETUP && st->pid < 1)
		return xh_err(-EINVAL, "state has no pid: setup needs the container's init pid");
	return 0;
}

bool xh_oci_is_sandbox(const struct xh_oci_state *st)
{
	static const char *const keys[] = { XH_ANN_CRI_CONTAINER_TYPE, XH_ANN_CRIO_CONTAINER_TYPE };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = xh_oci_annotation(st, keys[i]);

		if (v && strcmp(v, "sandbox"))
			return false;
	}
	return true;
}
