/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdp_loader flag parsing: the seed's single-dash flags (double dash works too). */
#include "loader.h"
#include "util.h"

#include <getopt.h>
#include <string.h>

void loader_usage(FILE *out)
{
	fputs("usage:\n"
	      "  xdp_loader -program pass|drop -device IFACE [-mode native|skb|auto]\n"
	      "  xdp_loader -program tcpdump -device IFACE [-queue Q | -all-queues] [-count N] [-write FILE.pcap]\n"
	      "  xdp_loader -redirect FROMDEV TODEV [-mode native|skb|auto]\n"
	      "  xdp_loader -detach -device IFACE\n"
	      "  xdp_loader -status [-json]\n"
	      "\n"
	      "pass, drop and redirect stay attached after xdp_loader exits (pinned under\n"
	      XH_PIN_BASE "); -detach removes them. tcpdump captures through AF_XDP\n"
	      "(frames are not passed on to the kernel) until -count frames or a signal.\n"
	      "Exit status: 0 ok, 1 failure, 2 usage.\n",
	      out);
}

enum {
	OPT_PROGRAM = 1,
	OPT_DEVICE,
	OPT_MODE,
	OPT_QUEUE,
	OPT_ALL_QUEUES,
	OPT_COUNT,
	OPT_WRITE,
	OPT_REDIRECT,
	OPT_DETACH,
	OPT_STATUS,
	OPT_JSON,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "program", required_argument, NULL, OPT_PROGRAM },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "all-queues", no_argument, NULL, OPT_ALL_QUEUES },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "write", required_argument, NULL, OPT_WRITE },
	{ "redirect", required_argument, NULL, OPT_REDIRECT },
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(FILE *err, const char *fmt, const char *arg)
{
	fputs("xdp_loader: ", err);
	fprintf(err, fmt, arg);
	fputs(" (see xdp_loader -help)\n", err);
	return EXIT_USAGE;
}

/* Set the command once; a second command flag is a usage error. */
static int set_cmd(struct loader_opts *o, enum loader_cmd cmd, FILE *err)
{
	if (o->cmd && o->cmd != cmd)
		return usage_error(err, "%s", "give one of -program, -redirect, -detach, -status");
	o->cmd = cmd;
	return 0;
}

static int parse_flag(struct loader_opts *o, int c, FILE *err)
{
	uint32_t v32;

	switch (c) {
	case OPT_PROGRAM:
		if (!strcmp(optarg, "pass") || !strcmp(optarg, "drop"))
			c = set_cmd(o, LOADER_ATTACH, err);
		else if (!strcmp(optarg, "tcpdump"))
			c = set_cmd(o, LOADER_TCPDUMP, err);
		else
			return usage_error(err, "unknown program '%s' (pass, drop or tcpdump)", optarg);
		o->program = optarg;
		return c;
	case OPT_DEVICE:
		o->device = optarg;
		return 0;
	case OPT_MODE:
		if (xh_mode_parse(optarg, &o->mode))
			return usage_error(err, "unknown mode '%s' (native, skb or auto)", optarg);
		o->mode_set = true;
		return 0;
	case OPT_QUEUE:
		if (xh_parse_u32(optarg, 63, &v32))
			return usage_error(err, "invalid -queue '%s' (0..63)", optarg);
		o->queue = v32;
		o->queue_set = true;
		return 0;
	case OPT_ALL_QUEUES:
		o->all_queues = true;
		return 0;
	case OPT_COUNT:
		if (xh_parse_u64(optarg, &o->count) || o->count == 0)
			return usage_error(err, "invalid -count '%s' (a positive number)", optarg);
		return 0;
	case OPT_WRITE:
		if (!*optarg)
			return usage_error(err, "%s", "-write needs a file name");
		o->write = optarg;
		return 0;
	case OPT_REDIRECT:
		o->redirect_from = optarg;
		return set_cmd(o, LOADER_REDIRECT, err);
	case OPT_DETACH:
		return set_cmd(o, LOADER_DETACH, err);
	case OPT_STATUS:
		return set_cmd(o, LOADER_STATUS, err);
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_HELP:
		return set_cmd(o, LOADER_HELP, err);
	default:
		return usage_error(err, "%s", "invalid option");
	}
}

/* Flags that only some commands take. */
static int check_combination(struct loader_opts *o, FILE *err)
{
	bool capture = o->cmd == LOADER_TCPDUMP;

	if (!o->cmd)
		return usage_error(err, "%s", "nothing to do: give -program, -redirect, -detach or -status");
	if ((o->cmd == LOADER_ATTACH || capture || o->cmd == LOADER_DETACH) && !o->device)
		return usage_error(err, "%s", "-device IFACE is required");
	if ((o->cmd == LOADER_REDIRECT || o->cmd == LOADER_STATUS) && o->device)
		return usage_error(err, "%s", "-device does not apply here");
	if (o->mode_set && o->cmd != LOADER_ATTACH && o->cmd != LOADER_REDIRECT)
		return usage_error(err, "%s", "-mode applies to -program pass|drop and -redirect");
	if (!capture && (o->queue_set || o->all_queues || o->count || o->write))
		return usage_error(err, "%s", "-queue, -all-queues, -count and -write apply to -program tcpdump");
	if (o->queue_set && o->all_queues)
		return usage_error(err, "%s", "-queue and -all-queues exclude each other");
	if (o->json && o->cmd != LOADER_STATUS)
		return usage_error(err, "%s", "-json applies to -status");
	return 0;
}

int loader_parse_opts(int argc, char **argv, struct loader_opts *o, FILE *err)
{
	int c, rc;

	memset(o, 0, sizeof(*o));
	optind = 0; /* full reset: the parser may run more than once (tests) */
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			if (optopt)
				return usage_error(err, "option needs an argument: -%s",
						   long_opts[optopt - 1].name);
			return usage_error(err, "unknown option '%s'", argv[optind - 1]);
		}
		rc = parse_flag(o, c, err);
		if (rc)
			return rc;
	}
	if (o->cmd == LOADER_REDIRECT) {
		if (optind != argc - 1)
			return usage_error(err, "%s", "-redirect takes FROMDEV TODEV");
		o->redirect_to = argv[optind++];
	}
	if (optind < argc)
		return usage_error(err, "unexpected argument '%s'", argv[optind]);
	if (o->cmd == LOADER_HELP)
		return 0;
	return check_combination(o, err);
}
