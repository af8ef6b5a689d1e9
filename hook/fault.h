/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fault injection for the tests, built only with `make TEST_FAULTS=1`
 * (-DXH_TEST_FAULTS); otherwise every fault point compiles to nothing.
 *
 * FAULT(name) marks a point of setup or teardown after which something new
 * exists (or something is gone). With XDPHOOK_FAULT=fail:<name> the
 * enclosing function returns an injected error there (XH_FAULT_ERRNO,
 * "injected fault at <name>"): the normal rollback must leave nothing. With
 * kill:<name> the hook SIGKILLs itself there: then poststop or
 * `xdp_hook gc` must leave nothing. XDPHOOK_FAULT=list makes xdp_hook print
 * every point's name and exit: each FAULT() puts its name into the
 * section "xh_faults", so the list cannot go stale.
 */
#ifndef XDPHOOK_FAULT_H
#define XDPHOOK_FAULT_H

#include <errno.h>
#include <stdbool.h>

/* What an injected failure returns (with an xh_err() detail). */
#define XH_FAULT_ERRNO (-ECANCELED)

#ifdef XH_TEST_FAULTS
/* 0, or XH_FAULT_ERRNO if the point is to fail; does not return if the
 * hook is to die there. */
int xh_fault(const char *name);
/* XDPHOOK_FAULT=list: print the points, one a line; true if it did. */
bool xh_fault_list(void);

#define XH_FAULT_CAT_(a, b) a##b
#define XH_FAULT_CAT(a, b) XH_FAULT_CAT_(a, b)
/* The point's verdict as a value: 0 or the injected error. */
#define FAULT_ERR(name)                                                                               \
	({                                                                                            \
		static const char *const XH_FAULT_CAT(xh_fault_, __LINE__)                            \
			__attribute__((section("xh_faults"), used, aligned(sizeof(void *)))) = name;  \
		xh_fault(name);                                                                       \
	})
#else
#define FAULT_ERR(name) 0
static inline bool xh_fault_list(void)
{
	return false;
}
#endif

/* Return the injected error from the enclosing function. */
#define FAULT(name)                                    \
	do {                                           \
		int xh_fault_err_ = FAULT_ERR(name);   \
		if (xh_fault_err_)                     \
			return xh_fault_err_;          \
	} while (0)

#endif
