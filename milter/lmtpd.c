/*
 * hotline-lmtpd — an LMTP server for a Postfix transport: each mail the
 * city's mail server hands over is decoded, run through the staff's rules
 * and queued for LINE (lib/ingest), and only then answered 250.
 *
 * One thread per connection (Postfix keeps a few open and reuses them),
 * bounded by [lmtp] max_connections; each thread borrows a database
 * connection from a small pool for the length of one mail.  A mail whose
 * storage fails for a reason that passes (the database is down, the disk
 * full) is answered 451 so Postfix keeps it and retries: nothing accepted
 * is ever lost.  Connects as hotline_ingest; holds no LINE secret.
 *
 * SIGTERM: stop accepting, let each connection finish the mail it is
 * storing, answer 421 to the rest, exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "ingest.h"
#include "listen.h"
#include "lmtp.h"
#include "log.h"
#include "mail.h"
#include "str.h"

#define PROG "hotline-lmtpd"
/* Seconds a stopping daemon waits for connections to finish their mail. */
#define STOP_GRACE_SECONDS 30

struct server {
	const struct hl_config *cfg;
	struct ingest *ingest; /* limits and the compiled rules, shared */
	char hostname[256];
	atomic_bool stopping;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t idle;  /* signalled when active drops */
	unsigned active;
	struct db **pool; /* idle database connections */
	size_t npool;
	int *fds; /* open connections, to wake them at shutdown */
	unsigned long next_session;
};

struct conn {
	struct server *srv;
	int fd;
	char session[20];
};

static struct db *pool_get(struct server *srv)
{
	struct db *db = NULL;

	pthread_mutex_lock(&srv->lock);
	if (srv->npool > 0)
		db = srv->pool[--srv->npool];
	pthread_mutex_unlock(&srv->lock);
	return db != NULL ? db : daemon_db(PROG, srv->cfg, srv->cfg->lmtp.db_user);
}

static void pool_put(struct server *srv, struct db *db)
{
	pthread_mutex_lock(&srv->lock);
	/* The pool holds at most one connection per allowed LMTP connection. */
	if (srv->npool < (size_t)srv->cfg->lmtp.max_connections) {
		srv->pool[srv->npool++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&srv->lock);
	db_free(db);
}

/* Write all pending output; false when the peer is gone. */
static bool flush_output(int fd, struct lmtp_session *s)
{
	for (;;) {
		size_t len;
		const char *out = lmtp_output(s, &len);
		ssize_t n;

		if (len == 0)
			return true;
		n = send(fd, out, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		lmtp_output_consumed(s, (size_t)n);
	}
}

static void store_message(struct conn *c, struct lmtp_session *s, const struct lmtp_message *m)
{
	struct ingest_request rq = {
		.via = "lmtp",
		.source_ref = NULL,
		.envelope_from = m->sender,
		.rcpts = m->rcpts,
		.nrcpts = m->nrcpts,
		.raw = m->data,
		.len = m->len,
	};
	struct ingest_outcome out;
	char q[300];
	enum hl_status st, *outcomes;
	const char **reasons;
	struct db *db;
	size_t i;

	outcomes = calloc(m->nrcpts, sizeof(*outcomes));
	reasons = calloc(m->nrcpts, sizeof(*reasons));
	if (outcomes == NULL || reasons == NULL) {
		free(outcomes);
		free(reasons);
		lmtp_shutdown(s, "out of memory");
		return;
	}
	memset(&out, 0, sizeof(out));
	db = pool_get(c->srv);
	st = ingest_mail(c->srv->ingest, db, &rq, &out);
	pool_put(c->srv, db);
	/* One mail, one outcome: every recipient gets the same answer. */
	for (i = 0; i < m->nrcpts; i++) {
		outcomes[i] = st;
		reasons[i] = out.reason;
	}
	lmtp_message_done(s, outcomes, reasons);
	if (st == HL_OK)
		log_info("mail accepted",
			 "session=%s mail_id=%lld delivery_id=%lld duplicate=%s size=%zu rcpts=%zu",
			 c->session, out.mail_id, out.delivery_id, out.duplicate ? "yes" : "no",
			 m->len, m->nrcpts);
	else
		log_warn(st == HL_TEMPFAIL ? "mail deferred" : "mail refused",
			 "session=%s size=%zu reason=%s", c->session, m->len,
			 log_quote(out.reason, q, sizeof(q)));
	free(outcomes);
	free(reasons);
}

static void *serve(void *arg)
{
	struct conn *c = arg;
	struct server *srv = c->srv;
	struct lmtp_params p = {srv->hostname, (size_t)srv->cfg->lmtp.max_message_bytes, 1000};
	struct lmtp_session *s = lmtp_new(&p);
	char buf[65536];
	size_t i;

	if (s == NULL)
		goto done;
	for (;;) {
		struct lmtp_message m;
		enum lmtp_event ev = lmtp_next(s, &m);
		ssize_t n;

		if (ev == LMTP_MESSAGE) {
			store_message(c, s, &m);
			continue;
		}
		if (!flush_output(c->fd, s) || ev == LMTP_CLOSE)
			break;
		if (atomic_load(&srv->stopping)) {
			lmtp_shutdown(s, "the server is stopping, try again later");
			continue;
		}
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			lmtp_shutdown(s, "timeout, closing an idle connection");
			continue;
		}
		if (n <= 0)
			break;
		if (lmtp_push(s, buf, (size_t)n) < 0) {
			lmtp_shutdown(s, "out of memory");
			continue;
		}
	}
done:
	lmtp_free(s);
	close(c->fd);
	pthread_mutex_lock(&srv->lock);
	for (i = 0; i < srv->active; i++) {
		if (srv->fds[i] == c->fd) {
			srv->fds[i] = srv->fds[srv->active - 1];
			break;
		}
	}
	srv->active--;
	pthread_cond_signal(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
	log_debug("connection closed", "session=%s", c->session);
	free(c);
	return NULL;
}

static void accept_one(struct server *srv, int lfd)
{
	struct timeval tv = {(time_t)srv->cfg->lmtp.timeout_seconds, 0};
	pthread_attr_t attr;
	pthread_t tid;
	struct conn *c;
	int fd;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			log_error("accept failed", "error=\"%s\"", strerror(errno));
		return;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* A silent peer times out instead of holding a thread for ever. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	pthread_mutex_lock(&srv->lock);
	if (srv->active >= (unsigned)srv->cfg->lmtp.max_connections) {
		static const char busy[] = "421 4.3.2 too many connections, try again later\r\n";

		pthread_mutex_unlock(&srv->lock);
		/* Postfix retries later: a 421 is better than a hung connect. */
		(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		close(fd);
		free(c);
		log_warn("connection refused", "reason=\"max_connections reached\"");
		return;
	}
	srv->fds[srv->active++] = fd;
	str_msg(c->session, sizeof(c->session), "%lx", ++srv->next_session);
	pthread_mutex_unlock(&srv->lock);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, serve, c) != 0) {
		log_error("cannot start a connection thread", "error=\"%s\"", strerror(errno));
		pthread_mutex_lock(&srv->lock);
		srv->active--;
		pthread_mutex_unlock(&srv->lock);
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&attr);
	log_debug("connection accepted", "session=%s", c->session);
}

/* Wake every connection blocked in recv(), then wait for them to finish
 * the mail they are storing, at most STOP_GRACE_SECONDS.  False when some
 * are still running: then nothing they use may be freed. */
static bool drain(struct server *srv)
{
	struct timespec until;
	unsigned i;

	atomic_store(&srv->stopping, true);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_GRACE_SECONDS;
	pthread_mutex_lock(&srv->lock);
	for (i = 0; i < srv->active; i++)
		shutdown(srv->fds[i], SHUT_RD);
	while (srv->active > 0)
		if (pthread_cond_timedwait(&srv->idle, &srv->lock, &until) == ETIMEDOUT)
			break;
	i = srv->active;
	pthread_mutex_unlock(&srv->lock);
	if (i > 0)
		log_warn("stopping with connections still open", "count=%u", i);
	return i == 0;
}

int main(int argc, char **argv)
{
	struct server srv;
	struct hl_config *cfg;
	char err[512], *unix_path = NULL;
	bool check_only;
	int sfd, lfd, sig = 0;
	size_t i;

	cfg = daemon_init(PROG, "LMTP receiver for the city's alert mail.", argc, argv,
			  &check_only);
	if (check_only) {
		printf("%s: configuration ok\n", PROG);
		config_free(cfg);
		return 0;
	}
	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	{
		struct mail_limits lim;

		mail_limits_default(&lim);
		lim.max_bytes = (size_t)cfg->lmtp.max_message_bytes;
		srv.ingest = ingest_new(&lim);
		if (srv.ingest == NULL)
			log_fatal("out of memory", NULL);
	}
	if (*cfg->lmtp.hostname != '\0')
		str_msg(srv.hostname, sizeof(srv.hostname), "%s", cfg->lmtp.hostname);
	else if (gethostname(srv.hostname, sizeof(srv.hostname) - 1) != 0)
		str_msg(srv.hostname, sizeof(srv.hostname), "localhost");
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.idle, NULL);
	srv.pool = calloc((size_t)cfg->lmtp.max_connections, sizeof(*srv.pool));
	srv.fds = calloc((size_t)cfg->lmtp.max_connections, sizeof(*srv.fds));
	if (srv.pool == NULL || srv.fds == NULL)
		log_fatal("out of memory", NULL);

	sfd = daemon_signals();
	/* 0660: Postfix's lmtp client reaches a unix socket through its group. */
	lfd = listen_open(cfg->lmtp.listen, 128, 0660, &unix_path, err, sizeof(err));
	if (lfd < 0)
		log_fatal("cannot start", "error=\"%s\"", err);
	log_info("listening", "addr=%s role=%s max_message_bytes=%lld", cfg->lmtp.listen,
		 cfg->lmtp.db_user, cfg->lmtp.max_message_bytes);

	for (;;) {
		struct pollfd pfd[2] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}};

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_fatal("poll failed", "error=\"%s\"", strerror(errno));
		}
		if (pfd[1].revents & POLLIN) {
			sig = daemon_read_signal(sfd);
			if (sig == SIGTERM || sig == SIGINT)
				break;
			if (sig == SIGHUP)
				log_info("SIGHUP ignored",
					 "hint=\"restart to reload the configuration\"");
		}
		if (pfd[0].revents & POLLIN)
			accept_one(&srv, lfd);
	}
	log_info("stopping", "signal=%d", sig);
	close(lfd);
	if (unix_path != NULL) {
		unlink(unix_path);
		free(unix_path);
	}
	if (!drain(&srv))
		return 0; /* exit() ends the stuck threads with the process */
	pthread_mutex_lock(&srv.lock);
	for (i = 0; i < srv.npool; i++)
		db_free(srv.pool[i]);
	srv.npool = 0;
	pthread_mutex_unlock(&srv.lock);
	free(srv.pool);
	free(srv.fds);
	ingest_free(srv.ingest);
	config_free(cfg);
	return 0;
}
