/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include "ethtool.h"
#include "util.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static int ethtool_ioctl(const char *ifname, void *cmd)
{
	cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {};

	if (fd < 0)
		return -errno;
	if (xh_snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname) < 0)
		return -EINVAL;
	ifr.ifr_data = cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		return -errno;
	return 0;
}

int xh_ethtool_set_tx_csum(const char *ifname, bool on)
{
	struct ethtool_value v = { .cmd = ETHTOOL_STXCSUM, .data = on };

	return ethtool_ioctl(ifname, &v);
}

int xh_ethtool_get_tx_csum(const char *ifname, bool *on)
{
	struct ethtool_value v = { .cmd = ETHTOOL_GTXCSUM };
	int err = ethtool_ioctl(ifname, &v);

	if (!err)
		*on = v.data;
	return err;
}

int xh_dev_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	int err = ethtool_ioctl(ifname, &ch);
	unsigned int n;

	if (err == -ENODEV || err == -EINVAL)
		return err;
	if (err)
		return 1; /* EOPNOTSUPP and friends: a single-queue device */
	/* rx_count is RX-only channels, combined_count RX+TX ones. */
	n = ch.rx_count + ch.combined_count;
	return n ? (int)(n > 1024 ? 1024 : n) : 1;
}
