/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_loader: command-line options and the per-command entry points. */
#ifndef XDPHOOK_LOADER_H
#define XDPHOOK_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "attach.h"

/* Exit codes. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

enum loader_cmd {
	LOADER_ATTACH = 1, /* -program pass|drop */
	LOADER_TCPDUMP,    /* -program tcpdump */
	LOADER_REDIRECT,   /* -redirect FROM TO */
	LOADER_DETACH,     /* -detach -device IFACE */
	LOADER_STATUS,     /* -status [-json] */
	LOADER_HELP,       /* -help */
};

struct loader_opts {
	enum loader_cmd cmd;
	const char *program;   /* pass, drop, tcpdump */
	const char *device;
	const char *redirect_from;
	const char *redirect_to;
	enum xh_mode mode;
	bool mode_set;
	uint32_t queue;
	bool queue_set;
	bool all_queues;
	uint64_t count;        /* 0: until interrupted */
	const char *write;     /* pcap path */
	bool json;
};

/* Parse argv. Returns 0, or EXIT_USAGE after printing one line to err. */
int loader_parse_opts(int argc, char **argv, struct loader_opts *o, FILE *err);
void loader_usage(FILE *out);

int loader_tcpdump(const struct loader_opts *o);  /* loader/tcpdump.c */

#endif
