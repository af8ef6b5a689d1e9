/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the OCI runtime wrapper (xdp_runtime) needs: find the command and
 * the bundle in a runtime's command line, and add xdp_hook's createRuntime
 * and poststop hooks to the bundle's config.json.
 *
 * A runtime's global options come before the command (`runc --root R --log
 * L --log-format json create --bundle B --pid-file P ID`, as containerd's
 * shim calls it); the command's own options follow it.
 */
#ifndef XDPHOOK_OCI_RUNTIME_H
#define XDPHOOK_OCI_RUNTIME_H

#include <stdbool.h>

struct json_t;

struct xh_runtime_cmd {
	int cmd;            /* index of the command in argv; 0 if there is none */
	const char *bundle; /* create/run: --bundle/-b, else "." (the runtime's default) */
};

/* Locate the command in argv[1..argc-1]: the first word that is neither an
 * option nor the value of a global option known to take one (runc, crun and
 * runsc spellings, `--opt value` and `--opt=value`, one dash or two). For
 * `create` and `run`, also the bundle. -EINVAL with a detail when an option
 * wants a value that is missing. */
int xh_runtime_cmd_parse(int argc, char **argv, struct xh_runtime_cmd *out);

/* True for the commands after which the bundle's hooks run (create, run). */
bool xh_runtime_cmd_creates(int argc, char **argv, const struct xh_runtime_cmd *c);

/* Add {path: hook, args: ["xdp_hook", STAGE], timeout[, env:
 * ["XDPHOOK_CONFIG=" config] when config is not NULL]} to hooks.createRuntime
 * and hooks.poststop of an OCI runtime spec, unless that stage already has
 * an entry with this path; every other hook stays as it was, in order.
 * Returns 1 if the spec changed, 0 if both were there, -EINVAL (detail
 * names the field) if "hooks" or a stage has the wrong type, -ENOMEM. On
 * error the spec is unchanged. */
int xh_spec_add_hooks(struct json_t *spec, const char *hook, const char *config);

/* The same on BUNDLE/config.json, rewritten atomically (a temporary file
 * in the bundle, same mode, renamed over it) and only if it changes; on
 * any error the file is untouched and no temporary file is left. */
int xh_spec_file_add_hooks(const char *bundle, const char *hook, const char *config);

#endif
