/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_endpoint [--umem-size BYTES] [--socket NAME] [--no-direct] -- CMD [ARGS...]
 *
 * Takes this netns's endpoint with a memfd-backed UMEM and execs CMD with
 * it inherited, systemd socket-activation style: fds 3 (AF_XDP socket),
 * 4 (UMEM memfd), 5 (keeper connection; the endpoint is given back when
 * every copy of it is closed), 6.. (the direct sockets on the NIC's RX
 * queues, if the keeper offers them and --no-direct is not given),
 * LISTEN_FDS=3+D, LISTEN_FDNAMES=xsk:umem:ctl[:xsk-direct-0...],
 * LISTEN_PID, and XDP_ENDPOINT_JSON with what mapping it all again takes
 * (include/xdp_endpoint.h; xdp_endpoint_from_env() does it in C).
 */
#define _GNU_SOURCE
#include "endpoint_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define FIRST_FD 3 /* SD_LISTEN_FDS_START */

static void usage(FILE *out)
{
	fputs("usage: xdp_endpoint [--umem-size BYTES] [--socket NAME] [--no-direct] -- CMD [ARGS...]\n"
	      "Takes the AF_XDP endpoint of this network namespace and runs CMD with it:\n"
	      "fds 3 (socket), 4 (UMEM memfd), 5 (keeper connection), 6.. (direct sockets\n"
	      "on the NIC's RX queues, unless --no-direct), LISTEN_FDS,\n"
	      "LISTEN_FDNAMES=xsk:umem:ctl[:xsk-direct-N...], LISTEN_PID, XDP_ENDPOINT_JSON.\n",
	      out);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Put fds[i] at FIRST_FD + i, inheritable, whatever numbers they have now
 * (they may already sit on 3..5 in another order): through high copies. */
static int place_fds(const int *fds, int n)
{
	int tmp[3 + XDP_ENDPOINT_MAX_DIRECT];

	for (int i = 0; i < n; i++) {
		tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
		if (tmp[i] < 0)
			return -errno;
	}
	for (int i = 0; i < n; i++) {
		/* dup2 clears FD_CLOEXEC on the new fd: these survive exec. */
		if (dup2(tmp[i], FIRST_FD + i) < 0)
			return -errno;
		close(tmp[i]);
	}
	return 0;
}

static int export_env(const struct xh_ep_desc *d, struct xh_ep_layout *l)
{
	ep_cleanup_free char *json = NULL;
	char pid[24];
	int err;

	char nfds[16], names[32 + XDP_ENDPOINT_MAX_DIRECT * 16] = "xsk:umem:ctl";

	l->fd_xsk = FIRST_FD;
	l->fd_umem = FIRST_FD + 1;
	l->fd_ctl = FIRST_FD + 2;
	for (size_t i = 0; i < l->n_direct; i++) {
		l->fd_direct[i] = FIRST_FD + 3 + (int)i;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), ":xsk-direct-%zu", i);
	}
	snprintf(nfds, sizeof(nfds), "%zu", 3 + l->n_direct);
	err = xh_ep_env_to_json(d, l, &json);
	if (err)
		return err;
	/* exec keeps the pid: LISTEN_PID names CMD. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (setenv("LISTEN_FDS", nfds, 1) || setenv("LISTEN_FDNAMES", names, 1) ||
	    setenv("LISTEN_PID", pid, 1) || setenv("XDP_ENDPOINT_JSON", json, 1))
		return xh_ep_err(-errno, "environment: %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "umem-size", required_argument, NULL, 'u' },
		{ "socket", required_argument, NULL, 's' },
		{ "no-direct", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct xdp_endpoint_opts opts = { .sz = sizeof(opts),
					  .flags = XDP_ENDPOINT_F_MEMFD | XDP_ENDPOINT_F_DIRECT };
	const struct xh_ep_desc *desc;
	struct xdp_endpoint *ep;
	struct xh_ep_layout l;
	int c, err;

	/* '+': options end at CMD, whose own options are its business. */
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (parse_size(optarg, &opts.umem_size)) {
				fprintf(stderr, "xdp_endpoint: --umem-size %s: not a size\n", optarg);
				return 2;
			}
			break;
		case 's':
			opts.socket_name = optarg;
			break;
		case 'n':
			opts.flags &= ~(unsigned int)XDP_ENDPOINT_F_DIRECT;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	err = xdp_endpoint_open(&opts, &ep);
	if (err) {
		fprintf(stderr, "xdp_endpoint: %s\n", xdp_endpoint_strerror(err));
		return 1;
	}
	err = xh_ep_layout_of(ep, &desc, &l);
	if (!err) {
		int fds[3 + XDP_ENDPOINT_MAX_DIRECT] = { l.fd_xsk, l.fd_umem, l.fd_ctl };

		for (size_t i = 0; i < l.n_direct; i++)
			fds[3 + i] = l.fd_direct[i];
		err = place_fds(fds, 3 + (int)l.n_direct);
		if (err)
			xh_ep_err(err, "inheritable fds: %s", strerror(-err));
	}
	if (!err)
		err = export_env(desc, &l);
	if (err) {
		fprintf(stderr, "xdp_endpoint: %s\n", xdp_endpoint_strerror(err));
		return 1;
	}
	/* No xdp_endpoint_close(): the fds and the memfd are CMD's now, and
	 * the UMEM mapping goes away with this image. */
	execvp(argv[optind], argv + optind);
	err = errno;
	fprintf(stderr, "xdp_endpoint: exec %s: %s\n", argv[optind], strerror(err));
	/* _exit: ep cannot be closed (its fds were moved), and its memory
	 * is not a leak worth reporting on the way out. */
	_exit(err == ENOENT ? 127 : 126);
}
