/*
 * jitgated: the gateway daemon.  Runs in the foreground, systemd style.
 */
#include "config.h" /* autoconf */
#include "conf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jitgate/jitgate.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jitgated -c FILE [--check-config] [--list-plugins]\n"
		"       jitgated --version\n"
		"\n"
		"  -c, --config FILE   configuration file (JSON)\n"
		"  -t, --check-config  validate the configuration and exit\n"
		"  -l, --list-plugins  list the plugins the config loads\n"
		"  -V, --version       print version and ABI, then exit\n"
		"  -h, --help          this text\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 't'},
		{"list-plugins", no_argument, NULL, 'l'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:tlVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("jitgated %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			       JG_ABI_MAJOR, JG_ABI_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'c':
		case 't':
		case 'l':
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	fprintf(stderr, "jitgated: not implemented yet\n");
	return 1;
}
