/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one ethtool setting xdphook changes. */
#ifndef XDPHOOK_ETHTOOL_H
#define XDPHOOK_ETHTOOL_H

#include <stdbool.h>

/* Turn TX checksum offload on or off on a device of the caller's netns.
 * A veth that offloads leaves TCP/UDP checksums partial, and XDP forwards
 * such frames with the checksum still unfinished. */
int xh_ethtool_set_tx_csum(const char *ifname, bool on);
int xh_ethtool_get_tx_csum(const char *ifname, bool *on);

/* Number of RX queues of ifname (ETHTOOL_GCHANNELS: rx + combined
 * channels), 1 if the driver does not say. -ENODEV: no such device. */
int xh_dev_rx_queues(const char *ifname);

#endif
