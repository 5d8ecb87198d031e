/*
 * daemon — common start-up of hotline daemons; see daemon.h.
 */
#include "daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"

#ifndef HL_VERSION
#define HL_VERSION "dev"
#endif

static void usage(FILE *out, const char *prog, const char *summary)
{
	fprintf(out,
		"usage: %s [-c FILE] [-t]\n"
		"%s\n\n"
		"  -c FILE  configuration file (default: $HOTLINE_CONFIG or %s)\n"
		"  -t       check the configuration and the secrets this daemon needs, then exit\n"
		"  -V       print the version and exit\n"
		"  -h       print this help and exit\n",
		prog, summary, HL_CONFIG_DEFAULT_PATH);
}

struct hl_config *daemon_init(const char *prog, const char *summary, int argc, char **argv,
			      bool *check_only)
{
	const char *conf_arg = NULL;
	struct hl_config *cfg;
	char err[1024];
	int opt;

	*check_only = false;
	while ((opt = getopt(argc, argv, "c:tVh")) != -1) {
		switch (opt) {
		case 'c':
			conf_arg = optarg;
			break;
		case 't':
			*check_only = true;
			break;
		case 'V':
			printf("%s %s\n", prog, HL_VERSION);
			exit(0);
		case 'h':
			usage(stdout, prog, summary);
			exit(0);
		default:
			usage(stderr, prog, summary);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr, prog, summary);
		exit(2);
	}
	cfg = config_load(config_path(conf_arg), err, sizeof(err));
	if (cfg == NULL) {
		/* Plain text, not logfmt: this is read by a person fixing a file. */
		fprintf(stderr, "%s: %s\n", prog, err);
		exit(DAEMON_EXIT_CONFIG);
	}
	log_open(prog, (enum log_level)cfg->log.level, NULL);
	return cfg;
}

int daemon_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* A peer closing a socket must be an error return, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		log_fatal("cannot block signals", NULL);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		log_fatal("cannot create signalfd", "error=\"%s\"", strerror(errno));
	return fd;
}

int daemon_read_signal(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

int daemon_wait_for_stop(int sfd)
{
	struct pollfd pfd = {.fd = sfd, .events = POLLIN};
	int sig;

	for (;;) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			log_fatal("poll failed", "error=\"%s\"", strerror(errno));
		sig = daemon_read_signal(sfd);
		if (sig == SIGTERM || sig == SIGINT)
			return sig;
		if (sig == SIGHUP)
			log_info("SIGHUP ignored",
				 "hint=\"restart the daemon to reload its configuration\"");
	}
}

char *daemon_secret(const char *prog, const struct hl_config *cfg, enum hl_secret which)
{
	char err[512];
	char *secret = config_secret(cfg, which, err, sizeof(err));

	if (secret == NULL) {
		fprintf(stderr, "%s: %s\n", prog, err);
		exit(DAEMON_EXIT_CONFIG);
	}
	return secret;
}

struct db *daemon_db(const char *prog, const struct hl_config *cfg, const char *role)
{
	struct db_params p = {
		.conninfo = cfg->database.conninfo,
		.user = role,
		.app_name = prog,
		.connect_timeout_s = cfg->database.connect_timeout,
		.statement_timeout_ms = cfg->database.statement_timeout_ms,
	};
	struct db *db = db_new(&p);

	if (db == NULL)
		log_fatal("out of memory", NULL);
	return db;
}
