/*
 * daemon — what every hotline daemon does at start: read its arguments,
 * load and check the configuration, open the log, and turn SIGTERM/SIGINT
 * into a file descriptor its main loop can wait on.
 *
 * A configuration error exits with 78 (EX_CONFIG) after printing
 * "FILE:LINE: what is wrong", so systemd's RestartPreventExitStatus=78 stops
 * a crash loop that no restart can fix.
 */
#ifndef HL_DAEMON_H
#define HL_DAEMON_H

#include <stdbool.h>

#include "config.h"
#include "db.h"

#define DAEMON_EXIT_CONFIG 78

/* Handles -c FILE, -t, -V and -h; returns the loaded configuration, or
 * exits on a bad argument or configuration, or after -V/-h.  With -t,
 * *check_only is set: the daemon checks what else it needs (its secrets),
 * says "configuration ok" and exits without serving. */
struct hl_config *daemon_init(const char *prog, const char *summary, int argc, char **argv,
			      bool *check_only);

/* Block SIGTERM, SIGINT and SIGHUP in this thread (and the threads it
 * starts afterwards) and return a signalfd for them; exits on failure.
 * Call before starting any thread. */
int daemon_signals(void);

/* Read one signal from daemon_signals()' fd; returns its number, or 0 when
 * interrupted or nothing was pending. */
int daemon_read_signal(int sfd);

/* A secret this daemon cannot run without; exits 78 naming the variable or
 * key to set.  The caller wipes and frees it. */
char *daemon_secret(const char *prog, const struct hl_config *cfg, enum hl_secret which);

/* The database handle for this daemon's role (connects on first use). */
struct db *daemon_db(const char *prog, const struct hl_config *cfg, const char *role);

/* Wait until SIGTERM or SIGINT arrives on sfd (SIGHUP is logged and
 * ignored for now); returns the signal. */
int daemon_wait_for_stop(int sfd);

#endif
