/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the exec wrapper needs from inside an open endpoint. Not part of the
 * public API (the shared library does not export it: only xdp_endpoint_*
 * names are, see libxdp_endpoint.map).
 */
#ifndef XDPHOOK_ENDPOINT_INTERNAL_H
#define XDPHOOK_ENDPOINT_INTERNAL_H

#include "endpoint_proto.h"

/* The description, sizes, ring offsets and fds (xsk, umem memfd, keeper
 * connection) of ep. -EINVAL if the UMEM is not a memfd. */
int xh_ep_layout_of(const struct xdp_endpoint *ep, const struct xh_ep_desc **desc,
		    struct xh_ep_layout *l);

#endif
