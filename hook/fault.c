/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Fault injection for the tests (see fault.h); empty without TEST_FAULTS. */
#include <stdbool.h>

#include "fault.h"

#ifdef XH_TEST_FAULTS
#include "util.h"

#include <signal.h>
#include <string.h>

/* The linker's bounds of the section every FAULT() adds its name to. */
extern const char *const __start_xh_faults[];
extern const char *const __stop_xh_faults[];

bool xh_fault_list(void)
{
	const char *env = getenv("XDPHOOK_FAULT");

	if (!env || strcmp(env, "list"))
		return false;
	for (const char *const *p = __start_xh_faults; p < __stop_xh_faults; p++)
		printf("%s\n", *p);
	return true;
}

int xh_fault(const char *name)
{
	const char *env = getenv("XDPHOOK_FAULT");
	const char *what = env ? strchr(env, ':') : NULL;

	if (!what || strcmp(what + 1, name))
		return 0;
	if (!strncmp(env, "kill:", 5)) {
		fprintf(stderr, "xdp_hook: fault: killed at %s\n", name);
		raise(SIGKILL);
	}
	if (!strncmp(env, "fail:", 5))
		return xh_err(XH_FAULT_ERRNO, "injected fault at %s", name);
	return 0;
}
#else
/* ISO C wants something in a translation unit. */
typedef int xh_fault_unused;
#endif
