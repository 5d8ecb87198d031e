/*
 * imap_fetch — libetpan's IMAP protocol over a TLS connection made with
 * OpenSSL; see imap_fetch.h.
 *
 * Why not libetpan's own TLS (mailimap_ssl_connect*, mailstream_ssl_*):
 * Debian 12 builds libetpan against GnuTLS, and its GnuTLS path verifies
 * nothing: mailstream_ssl_set_server_certicate() and the CA settings only
 * exist for the OpenSSL build, and the handshake accepts any certificate
 * for any name, leaving the check to the caller after the fact (with the
 * password possibly already sent on STARTTLS).  The city also requires
 * OpenSSL for its crypto policy (CRYPTREC).  So this file makes the TCP
 * connection and the TLS session itself with OpenSSL 3 (peer verification
 * on, the host name or IP address checked, TLS 1.2 at least) and hands
 * libetpan a small mailstream_low driver that reads and writes through it.
 * libetpan then only speaks IMAP.  The same driver carries the plain-text
 * start of a STARTTLS connection and switches to TLS in place after the
 * server's OK, refusing any byte the server sent ahead (CVE-2020-15953
 * style injection).
 *
 * The driver also gives every wait a deadline (timeout_seconds) and a way
 * out (stop_fd), which libetpan's own socket driver cannot combine.
 */
#include "imap_fetch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libetpan/libetpan.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "str.h"

/* mailstream's buffer; a 25 MB mail is read through it in pieces. */
#define STREAM_BUFFER 8192

/* One TCP connection, with TLS once it is set up. */
struct conn {
	int fd;
	SSL *ssl; /* NULL before STARTTLS */
	int stop_fd;
	int timeout_ms;
	bool *stopped; /* the client's flag */
};

struct imap_client {
	char *host, *ca_file, *user, *password, *mailbox;
	unsigned port;
	bool starttls;
	long timeout_seconds;
	int stop_fd;
	SSL_CTX *ctx;
	mailimap *session;
	struct conn *k; /* owned by session's stream once attached */
	bool stopped;
	bool broken;		     /* the stream failed: no polite LOGOUT */
	uint32_t exists_before_list; /* the message count when the last listing began */
};

/*
 * Written into libetpan's sel_exists when a listing begins: any EXISTS
 * the server sends from then on (in the listing's own answer, in a STORE's,
 * a NOOP's) overwrites it.  A server reports a new mail once; reported in
 * the answer to some other command, it is not reported again by IDLE, so
 * a mail that came after the listing would wait for the IDLE refresh.
 */
#define EXISTS_NOT_REPORTED UINT32_MAX

/* --- waiting with a deadline and a way out -------------------------------- */

/* Wait until fd is ready for events; -1 on timeout, stop or error. */
static int conn_wait(struct conn *k, short events)
{
	struct pollfd pfd[2] = {{k->fd, events, 0}, {k->stop_fd, POLLIN, 0}};
	int n;

	for (;;) {
		n = poll(pfd, k->stop_fd >= 0 ? 2 : 1, k->timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1; /* timeout or error */
		if (k->stop_fd >= 0 && (pfd[1].revents & POLLIN)) {
			*k->stopped = true;
			return -1;
		}
		if (pfd[0].revents & (events | POLLERR | POLLHUP))
			return 0;
	}
}

/* SSL_ERROR_WANT_* to a wait; -1 when the error is final. */
static int ssl_retry(struct conn *k, int ret)
{
	switch (SSL_get_error(k->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return conn_wait(k, POLLIN);
	case SSL_ERROR_WANT_WRITE:
		return conn_wait(k, POLLOUT);
	default:
		return -1;
	}
}

/* --- the mailstream_low driver -------------------------------------------- */

static ssize_t low_read(mailstream_low *s, void *buf, size_t count)
{
	struct conn *k = s->data;
	int chunk = count > INT32_MAX ? INT32_MAX : (int)count;

	for (;;) {
		if (k->ssl != NULL) {
			int n;

			ERR_clear_error();
			n = SSL_read(k->ssl, buf, chunk);
			if (n > 0)
				return n;
			if (SSL_get_error(k->ssl, n) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (ssl_retry(k, n) < 0)
				return -1;
		} else {
			ssize_t n = recv(k->fd, buf, (size_t)chunk, 0);

			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if ((errno != EAGAIN && errno != EWOULDBLOCK) || conn_wait(k, POLLIN) < 0)
				return -1;
		}
	}
}

static ssize_t low_write(mailstream_low *s, const void *buf, size_t count)
{
	struct conn *k = s->data;
	int chunk = count > INT32_MAX ? INT32_MAX : (int)count;

	for (;;) {
		if (k->ssl != NULL) {
			int n;

			ERR_clear_error();
			n = SSL_write(k->ssl, buf, chunk);
			if (n > 0)
				return n;
			if (ssl_retry(k, n) < 0)
				return -1;
		} else {
			ssize_t n = send(k->fd, buf, (size_t)chunk, MSG_NOSIGNAL);

			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			if ((errno != EAGAIN && errno != EWOULDBLOCK) || conn_wait(k, POLLOUT) < 0)
				return -1;
		}
	}
}

static void conn_close(struct conn *k)
{
	if (k->ssl != NULL) {
		/* One try at close_notify: the socket is non-blocking, and a
		 * peer that is gone must not hold up the daemon. */
		SSL_shutdown(k->ssl);
		SSL_free(k->ssl);
		k->ssl = NULL;
	}
	if (k->fd >= 0) {
		close(k->fd);
		k->fd = -1;
	}
}

static int low_close(mailstream_low *s)
{
	conn_close(s->data);
	return 0;
}

static int low_get_fd(mailstream_low *s)
{
	return ((struct conn *)s->data)->fd;
}

static void low_free(mailstream_low *s)
{
	struct conn *k = s->data;

	if (k != NULL) {
		conn_close(k);
		free(k);
	}
	s->data = NULL;
	free(s);
}

static void low_cancel(mailstream_low *s)
{
	(void)s;
}

static struct mailstream_cancel *low_get_cancel(mailstream_low *s)
{
	(void)s;
	return NULL;
}

static carray *low_certificate_chain(mailstream_low *s)
{
	(void)s;
	return NULL;
}

/* -1: libetpan's IDLE helpers are not used (imap_wait polls itself). */
static int low_idle_unsupported(mailstream_low *s)
{
	(void)s;
	return -1;
}

static mailstream_low_driver conn_driver = {
	.mailstream_read = low_read,
	.mailstream_write = low_write,
	.mailstream_close = low_close,
	.mailstream_get_fd = low_get_fd,
	.mailstream_free = low_free,
	.mailstream_cancel = low_cancel,
	.mailstream_get_cancel = low_get_cancel,
	.mailstream_get_certificate_chain = low_certificate_chain,
	.mailstream_setup_idle = low_idle_unsupported,
	.mailstream_unsetup_idle = low_idle_unsupported,
	.mailstream_interrupt_idle = low_idle_unsupported,
};

/* --- connecting ------------------------------------------------------------ */

static int tcp_connect(struct imap_client *c, struct conn *k, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int rc, last = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	str_msg(port, sizeof(port), "%u", c->port);
	rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc != 0) {
		str_msg(err, errlen, "cannot resolve %s: %s", c->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		socklen_t sl = sizeof(last);

		if (fd < 0) {
			last = errno;
			continue;
		}
		k->fd = fd;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			freeaddrinfo(res);
			return 0;
		}
		last = errno;
		if (errno == EINPROGRESS) {
			if (conn_wait(k, POLLOUT) == 0 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &sl) == 0 && last == 0) {
				freeaddrinfo(res);
				return 0;
			}
			if (last == 0)
				last = ETIMEDOUT;
		}
		close(fd);
		k->fd = -1;
		if (c->stopped)
			break;
	}
	freeaddrinfo(res);
	str_msg(err, errlen, "cannot connect to %s port %u: %s", c->host, c->port,
		c->stopped ? "stopping" : strerror(last));
	return -1;
}

static SSL_CTX *tls_context(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256];

	if (ctx == NULL) {
		str_msg(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL && *ca_file != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			ERR_error_string_n(ERR_get_error(), why, sizeof(why));
			str_msg(err, errlen, "cannot read the CA file %s ([imap] ca_file): %s",
				ca_file, why);
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		str_msg(err, errlen, "cannot load the system's trust store");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* TLS on k's socket, verifying the certificate and its name. */
static int tls_handshake(struct imap_client *c, struct conn *k, char *err, size_t errlen)
{
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, c->host, ip) == 1 || inet_pton(AF_INET6, c->host, ip) == 1;
	long vr;
	int n;

	k->ssl = SSL_new(c->ctx);
	if (k->ssl == NULL || SSL_set_fd(k->ssl, k->fd) != 1) {
		str_msg(err, errlen, "cannot start TLS: out of memory");
		return -1;
	}
	if (is_ip) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(k->ssl);

		if (X509_VERIFY_PARAM_set1_ip_asc(vp, c->host) != 1) {
			str_msg(err, errlen, "cannot check the certificate against %s", c->host);
			return -1;
		}
	} else if (SSL_set_tlsext_host_name(k->ssl, c->host) != 1 ||
		   SSL_set1_host(k->ssl, c->host) != 1) {
		str_msg(err, errlen, "cannot check the certificate against %s", c->host);
		return -1;
	}
	for (;;) {
		ERR_clear_error();
		n = SSL_connect(k->ssl);
		if (n == 1)
			break;
		if (ssl_retry(k, n) == 0)
			continue;
		vr = SSL_get_verify_result(k->ssl);
		if (c->stopped)
			str_msg(err, errlen, "TLS handshake with %s interrupted: stopping",
				c->host);
		else if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
			str_msg(err, errlen,
				"the certificate of %s does not name %s: set [imap] host to a "
				"name the certificate is issued for",
				c->host, c->host);
		else if (vr != X509_V_OK)
			str_msg(err, errlen,
				"the certificate of %s is not trusted (%s): set [imap] ca_file to "
				"the PEM file of the CA that signed it%s",
				c->host, X509_verify_cert_error_string(vr),
				*c->ca_file != '\0'
					? " (the current one does not)"
					: " (the system's trust store does not know it)");
		else {
			char why[256];

			ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
			str_msg(err, errlen, "TLS handshake with %s failed: %s", c->host,
				ERR_peek_last_error() != 0 ? why
							   : "connection closed or timed out");
		}
		return -1;
	}
	return 0;
}

/* The server's last response text, for messages (never holds secrets). */
static const char *server_text(const struct imap_client *c)
{
	const char *t = c->session != NULL ? c->session->imap_response : NULL;

	return t != NULL && *t != '\0' ? t : "no reason given";
}

/* A failed command: the stream's fault or the server's answer. */
static void command_error(struct imap_client *c, const char *what, int r, char *err, size_t errlen)
{
	if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE)
		c->broken = true;
	if (c->stopped)
		str_msg(err, errlen, "%s interrupted: stopping", what);
	else if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE)
		str_msg(err, errlen, "%s failed: connection lost or timed out", what);
	else
		str_msg(err, errlen, "%s refused by the server: %s", what, server_text(c));
}

struct imap_client *imap_client_new(const struct imap_params *p)
{
	struct imap_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->host = strdup(p->host);
	c->ca_file = strdup(p->ca_file != NULL ? p->ca_file : "");
	c->user = strdup(p->user);
	c->password = strdup(p->password);
	c->mailbox = strdup(p->mailbox);
	c->port = p->port;
	c->starttls = p->starttls;
	c->timeout_seconds = p->timeout_seconds;
	c->stop_fd = p->stop_fd;
	if (c->host == NULL || c->ca_file == NULL || c->user == NULL || c->password == NULL ||
	    c->mailbox == NULL) {
		imap_client_free(c);
		return NULL;
	}
	return c;
}

void imap_client_free(struct imap_client *c)
{
	if (c == NULL)
		return;
	if (c->session != NULL) {
		/* LOGOUT only on a healthy connection: on a dead one it would
		 * wait out the timeout before the reconnection or the exit. */
		if (c->session->imap_stream != NULL && !c->stopped && !c->broken)
			mailimap_logout(c->session);
		mailimap_free(c->session);
	}
	SSL_CTX_free(c->ctx);
	if (c->password != NULL)
		str_wipe(c->password, strlen(c->password));
	free(c->password);
	free(c->host);
	free(c->ca_file);
	free(c->user);
	free(c->mailbox);
	free(c);
}

bool imap_stopped(const struct imap_client *c)
{
	return c->stopped;
}

/* Refresh the capability list (after STARTTLS and after login, when the
 * server may announce more). */
static int refresh_capabilities(struct imap_client *c, char *err, size_t errlen)
{
	struct mailimap_capability_data *cap = NULL;
	int r = mailimap_capability(c->session, &cap);

	if (r != MAILIMAP_NO_ERROR) {
		command_error(c, "CAPABILITY", r, err, errlen);
		return -1;
	}
	mailimap_capability_data_free(cap);
	return 0;
}

int imap_open(struct imap_client *c, uint32_t *uidvalidity, enum imap_phase *phase, char *err,
	      size_t errlen)
{
	struct conn *k;
	mailstream_low *low;
	mailstream *stream;
	int r;

	*uidvalidity = 0;
	*phase = IMAP_PHASE_CONNECT;
	if (c->session != NULL) {
		str_msg(err, errlen, "already connected");
		return -1;
	}
	if (c->ctx == NULL) {
		*phase = IMAP_PHASE_TLS;
		c->ctx = tls_context(c->ca_file, err, errlen);
		if (c->ctx == NULL)
			return -1;
		*phase = IMAP_PHASE_CONNECT;
	}
	k = calloc(1, sizeof(*k));
	c->session = mailimap_new(0, NULL);
	if (k == NULL || c->session == NULL) {
		free(k);
		str_msg(err, errlen, "out of memory");
		return -1;
	}
	k->fd = -1;
	k->stop_fd = c->stop_fd;
	k->timeout_ms = (int)(c->timeout_seconds * 1000);
	k->stopped = &c->stopped;
	if (tcp_connect(c, k, err, errlen) < 0) {
		free(k);
		return -1;
	}
	if (!c->starttls) {
		*phase = IMAP_PHASE_TLS;
		if (tls_handshake(c, k, err, errlen) < 0) {
			conn_close(k);
			free(k);
			return -1;
		}
	}
	low = mailstream_low_new(k, &conn_driver);
	if (low == NULL) {
		conn_close(k);
		free(k);
		str_msg(err, errlen, "out of memory");
		return -1;
	}
	stream = mailstream_new(low, STREAM_BUFFER);
	if (stream == NULL) {
		mailstream_low_free(low);
		str_msg(err, errlen, "out of memory");
		return -1;
	}
	c->k = k;
	/* From here the session owns the stream, the driver and k. */
	*phase = IMAP_PHASE_CONNECT;
	r = mailimap_connect(c->session, stream);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		if (c->session->imap_stream == NULL)
			c->k = NULL;
		command_error(c, "the greeting", r, err, errlen);
		return -1;
	}
	if (c->starttls) {
		*phase = IMAP_PHASE_TLS;
		r = mailimap_starttls(c->session);
		if (r != MAILIMAP_NO_ERROR) {
			command_error(c, "STARTTLS", r, err, errlen);
			return -1;
		}
		/* Anything the server sent after its OK came before TLS and
		 * could be an attacker's: refuse it rather than read it as
		 * protected. */
		if (c->session->imap_stream->read_buffer_len > 0) {
			str_msg(err, errlen,
				"the server sent data after its STARTTLS reply: refused "
				"(possible injection)");
			return -1;
		}
		if (tls_handshake(c, c->k, err, errlen) < 0)
			return -1;
		if (refresh_capabilities(c, err, errlen) < 0)
			return -1;
	}
	*phase = IMAP_PHASE_LOGIN;
	r = mailimap_login(c->session, c->user, c->password);
	if (r != MAILIMAP_NO_ERROR) {
		if (r == MAILIMAP_ERROR_LOGIN && !c->stopped)
			str_msg(err, errlen,
				"the server refused the login of user %s (check [imap] user and "
				"the password): %s",
				c->user, server_text(c));
		else
			command_error(c, "LOGIN", r, err, errlen);
		return -1;
	}
	if (refresh_capabilities(c, err, errlen) < 0)
		return -1;
	*phase = IMAP_PHASE_SELECT;
	r = mailimap_select(c->session, c->mailbox);
	if (r != MAILIMAP_NO_ERROR) {
		char what[300];

		str_msg(what, sizeof(what), "SELECT of mailbox %s ([imap] mailbox)", c->mailbox);
		command_error(c, what, r, err, errlen);
		return -1;
	}
	if (c->session->imap_selection_info == NULL ||
	    c->session->imap_selection_info->sel_uidvalidity == 0) {
		str_msg(err, errlen, "the server gave no UIDVALIDITY for %s", c->mailbox);
		return -1;
	}
	*uidvalidity = c->session->imap_selection_info->sel_uidvalidity;
	*phase = IMAP_PHASE_READY;
	return 0;
}

bool imap_can_idle(struct imap_client *c)
{
	return c->session != NULL && mailimap_has_idle(c->session);
}

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = ((const struct imap_message *)a)->uid;
	uint32_t y = ((const struct imap_message *)b)->uid;

	return x < y ? -1 : x > y;
}

/* The static attributes of one FETCH response. */
static void msg_att_read(struct mailimap_msg_att *att, uint32_t *uid, uint32_t *size,
			 struct mailimap_msg_att_body_section **body)
{
	clistiter *it;

	*uid = *size = 0;
	if (body != NULL)
		*body = NULL;
	for (it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			*uid = st->att_data.att_uid;
		else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
			*size = st->att_data.att_rfc822_size;
		else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && body != NULL)
			*body = st->att_data.att_body_section;
	}
}

/* The message count as last reported by the server. */
static uint32_t imap_exists(const struct imap_client *c)
{
	uint32_t n = c->session->imap_selection_info->sel_exists;

	return n == EXISTS_NOT_REPORTED ? c->exists_before_list : n;
}

bool imap_new_mail_reported(const struct imap_client *c)
{
	return c->session != NULL && c->session->imap_selection_info != NULL &&
	       c->session->imap_selection_info->sel_exists != EXISTS_NOT_REPORTED;
}

int imap_list_after(struct imap_client *c, uint32_t last_uid, struct imap_message **out, size_t *n,
		    char *err, size_t errlen)
{
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	struct imap_message *list = NULL;
	clist *res = NULL;
	clistiter *it;
	size_t cap = 0, k = 0;
	int r, rc = -1;

	*out = NULL;
	*n = 0;
	if (last_uid == UINT32_MAX)
		return 0;
	if (c->session != NULL && c->session->imap_selection_info != NULL) {
		c->exists_before_list = c->session->imap_selection_info->sel_exists;
		c->session->imap_selection_info->sel_exists = EXISTS_NOT_REPORTED;
	}
	set = mailimap_set_new_interval(last_uid + 1, 0); /* last+1:* */
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	if (set == NULL || ft == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid()) != 0 ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size()) !=
		    0) {
		str_msg(err, errlen, "out of memory");
		goto done;
	}
	r = mailimap_uid_fetch(c->session, set, ft, &res);
	if (r != MAILIMAP_NO_ERROR) {
		command_error(c, "UID FETCH (list)", r, err, errlen);
		/* Some servers answer NO or BAD to "1:*" in an empty mailbox,
		 * where "*" names no message: that is no new mail. */
		if (!c->broken && !c->stopped && imap_exists(c) == 0)
			rc = 0;
		goto done;
	}
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		uint32_t uid, size;

		msg_att_read(clist_content(it), &uid, &size, NULL);
		/* "last+1:*" names the highest message even when its UID is
		 * lower (RFC 3501 6.4.8): keep only the new ones. */
		if (uid <= last_uid)
			continue;
		if (k == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			struct imap_message *m = realloc(list, ncap * sizeof(*m));

			if (m == NULL) {
				str_msg(err, errlen, "out of memory");
				goto done;
			}
			list = m;
			cap = ncap;
		}
		list[k].uid = uid;
		list[k].size = size;
		k++;
	}
	if (k > 1)
		qsort(list, k, sizeof(*list), cmp_uid);
	*out = list;
	*n = k;
	list = NULL;
	rc = 0;
done:
	free(list);
	if (res != NULL)
		mailimap_fetch_list_free(res);
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	if (set != NULL)
		mailimap_set_free(set);
	return rc;
}

int imap_fetch(struct imap_client *c, uint32_t uid, char **raw, size_t *len, char *err,
	       size_t errlen)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_section *sec = NULL;
	struct mailimap_fetch_att *att = NULL;
	clist *res = NULL;
	clistiter *it;
	int r, rc = -1;

	*raw = NULL;
	*len = 0;
	if (set == NULL || ft == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid()) != 0)
		goto nomem;
	/* BODY.PEEK[]: the whole message, and \Seen stays unset until the
	 * mail is stored. */
	sec = mailimap_section_new(NULL);
	att = sec != NULL ? mailimap_fetch_att_new_body_peek_section(sec) : NULL;
	if (att == NULL) {
		if (sec != NULL)
			mailimap_section_free(sec);
		goto nomem;
	}
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, att) != 0) {
		mailimap_fetch_att_free(att);
		goto nomem;
	}
	r = mailimap_uid_fetch(c->session, set, ft, &res);
	if (r != MAILIMAP_NO_ERROR) {
		command_error(c, "UID FETCH (message)", r, err, errlen);
		goto done;
	}
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att_body_section *body;
		uint32_t u, size;

		msg_att_read(clist_content(it), &u, &size, &body);
		if (u != uid || body == NULL || body->sec_body_part == NULL)
			continue;
		*raw = malloc(body->sec_length + 1);
		if (*raw == NULL)
			goto nomem;
		memcpy(*raw, body->sec_body_part, body->sec_length);
		(*raw)[body->sec_length] = '\0';
		*len = body->sec_length;
		rc = 0;
		goto done;
	}
	str_msg(err, errlen, "message UID %lu is gone from the mailbox", (unsigned long)uid);
	goto done;
nomem:
	str_msg(err, errlen, "out of memory");
done:
	if (res != NULL)
		mailimap_fetch_list_free(res);
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	if (set != NULL)
		mailimap_set_free(set);
	return rc;
}

/* A search key without arguments (UNSEEN, UNFLAGGED...). */
static struct mailimap_search_key *plain_key(int type)
{
	return mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
				       NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL,
				       NULL, NULL, 0, NULL, NULL, NULL);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int imap_search_taken(struct imap_client *c, uint32_t last_uid, bool unseen_only, uint32_t **out,
		      size_t *n, char *err, size_t errlen)
{
	struct mailimap_search_key *key = mailimap_search_key_new_multiple_empty();
	struct mailimap_search_key *k;
	struct mailimap_set *set = NULL;
	clist *res = NULL;
	clistiter *it;
	uint32_t *list = NULL;
	size_t cnt = 0;
	int r, rc = -1;

	*out = NULL;
	*n = 0;
	if (key == NULL)
		goto nomem;
	if (last_uid == 0) {
		rc = 0;
		goto done;
	}
	set = mailimap_set_new_interval(1, last_uid);
	k = set != NULL ? mailimap_search_key_new_uid(set) : NULL;
	if (k == NULL)
		goto nomem;
	set = NULL; /* owned by k */
	if (mailimap_search_key_multiple_add(key, k) != 0) {
		mailimap_search_key_free(k);
		goto nomem;
	}
	k = plain_key(MAILIMAP_SEARCH_KEY_UNFLAGGED);
	if (k == NULL || mailimap_search_key_multiple_add(key, k) != 0) {
		if (k != NULL)
			mailimap_search_key_free(k);
		goto nomem;
	}
	if (unseen_only) {
		k = plain_key(MAILIMAP_SEARCH_KEY_UNSEEN);
		if (k == NULL || mailimap_search_key_multiple_add(key, k) != 0) {
			if (k != NULL)
				mailimap_search_key_free(k);
			goto nomem;
		}
	}
	r = mailimap_uid_search(c->session, NULL, key, &res);
	if (r != MAILIMAP_NO_ERROR) {
		command_error(c, "UID SEARCH", r, err, errlen);
		goto done;
	}
	cnt = (size_t)clist_count(res);
	if (cnt > 0) {
		size_t i = 0;

		list = calloc(cnt, sizeof(*list));
		if (list == NULL)
			goto nomem;
		for (it = clist_begin(res); it != NULL && i < cnt; it = clist_next(it)) {
			uint32_t uid = *(uint32_t *)clist_content(it);

			if (uid >= 1 && uid <= last_uid)
				list[i++] = uid;
		}
		cnt = i;
		qsort(list, cnt, sizeof(*list), cmp_u32);
	}
	*out = cnt > 0 ? list : NULL;
	if (cnt == 0)
		free(list);
	*n = cnt;
	list = NULL;
	rc = 0;
	goto done;
nomem:
	str_msg(err, errlen, "out of memory");
done:
	free(list);
	if (res != NULL)
		mailimap_search_result_free(res);
	if (set != NULL)
		mailimap_set_free(set);
	if (key != NULL)
		mailimap_search_key_free(key);
	return rc;
}

/* UID STORE uid +FLAGS.SILENT (flag). */
static int add_flag(struct imap_client *c, uint32_t uid, struct mailimap_flag *flag,
		    const char *what, char *err, size_t errlen)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa = NULL;
	int r, rc = -1;

	if (set == NULL || fl == NULL || flag == NULL || mailimap_flag_list_add(fl, flag) != 0) {
		if (flag != NULL)
			mailimap_flag_free(flag);
		if (fl != NULL)
			mailimap_flag_list_free(fl);
		str_msg(err, errlen, "out of memory");
		goto done;
	}
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	if (sa == NULL) {
		mailimap_flag_list_free(fl);
		str_msg(err, errlen, "out of memory");
		goto done;
	}
	r = mailimap_uid_store(c->session, set, sa);
	if (r != MAILIMAP_NO_ERROR) {
		command_error(c, what, r, err, errlen);
		goto done;
	}
	rc = 0;
done:
	if (sa != NULL)
		mailimap_store_att_flags_free(sa);
	if (set != NULL)
		mailimap_set_free(set);
	return rc;
}

int imap_mark_seen(struct imap_client *c, uint32_t uid, char *err, size_t errlen)
{
	return add_flag(c, uid, mailimap_flag_new_seen(), "UID STORE \\Seen", err, errlen);
}

int imap_mark_flagged(struct imap_client *c, uint32_t uid, char *err, size_t errlen)
{
	return add_flag(c, uid, mailimap_flag_new_flagged(), "UID STORE \\Flagged", err, errlen);
}

/* \Deleted and expunge, with UID EXPUNGE when the server has UIDPLUS so
 * that only this message goes (a plain EXPUNGE removes every message
 * flagged \Deleted in the mailbox). */
static int delete_uid(struct imap_client *c, uint32_t uid, char *err, size_t errlen)
{
	struct mailimap_set *set;
	int r;

	if (add_flag(c, uid, mailimap_flag_new_deleted(), "UID STORE \\Deleted", err, errlen) < 0)
		return -1;
	if (mailimap_has_uidplus(c->session)) {
		set = mailimap_set_new_single(uid);
		if (set == NULL) {
			str_msg(err, errlen, "out of memory");
			return -1;
		}
		r = mailimap_uid_expunge(c->session, set);
		mailimap_set_free(set);
	} else {
		r = mailimap_expunge(c->session);
	}
	if (r != MAILIMAP_NO_ERROR) {
		command_error(c, "EXPUNGE", r, err, errlen);
		return -1;
	}
	return 0;
}

int imap_move(struct imap_client *c, uint32_t uid, const char *to, char *err, size_t errlen)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	bool can_move = mailimap_has_extension(c->session, "MOVE");
	int r;

	if (set == NULL) {
		str_msg(err, errlen, "out of memory");
		return -1;
	}
	r = can_move ? mailimap_uid_move(c->session, set, to)
		     : mailimap_uid_copy(c->session, set, to);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		char what[300];

		str_msg(what, sizeof(what), "%s to %s ([imap] move_to)",
			can_move ? "UID MOVE" : "UID COPY", to);
		command_error(c, what, r, err, errlen);
		return -1;
	}
	return can_move ? 0 : delete_uid(c, uid, err, errlen);
}

int imap_delete(struct imap_client *c, uint32_t uid, char *err, size_t errlen)
{
	return delete_uid(c, uid, err, errlen);
}

int imap_wait(struct imap_client *c, bool idle, long seconds, bool *activity, char *err,
	      size_t errlen)
{
	struct pollfd pfd[2];
	int r, n, timeout_ms = seconds > INT32_MAX / 1000 ? INT32_MAX : (int)(seconds * 1000);

	*activity = false;
	if (!idle) {
		pfd[0] = (struct pollfd){c->stop_fd, POLLIN, 0};
		do
			n = c->stop_fd >= 0 ? poll(pfd, 1, timeout_ms) : poll(NULL, 0, timeout_ms);
		while (n < 0 && errno == EINTR);
		if (n > 0) {
			c->stopped = true;
			str_msg(err, errlen, "stopping");
			return -1;
		}
		/* NOOP lets the server report new mail (and proves the
		 * connection is still there). */
		r = mailimap_noop(c->session);
		if (r != MAILIMAP_NO_ERROR) {
			command_error(c, "NOOP", r, err, errlen);
			return -1;
		}
		return 0;
	}
	r = mailimap_idle(c->session);
	if (r != MAILIMAP_NO_ERROR) {
		command_error(c, "IDLE", r, err, errlen);
		return -1;
	}
	/* Data already read into libetpan's or OpenSSL's buffer would never
	 * wake poll(). */
	if (c->session->imap_stream->read_buffer_len > 0 ||
	    (c->k->ssl != NULL && SSL_pending(c->k->ssl) > 0)) {
		*activity = true;
	} else {
		pfd[0] = (struct pollfd){c->k->fd, POLLIN, 0};
		pfd[1] = (struct pollfd){c->stop_fd, POLLIN, 0};
		do
			n = poll(pfd, c->stop_fd >= 0 ? 2 : 1, timeout_ms);
		while (n < 0 && errno == EINTR);
		if (n > 0 && c->stop_fd >= 0 && (pfd[1].revents & POLLIN)) {
			/* No DONE: the connection is dropped anyway. */
			c->stopped = true;
			str_msg(err, errlen, "stopping");
			return -1;
		}
		*activity = n > 0;
	}
	r = mailimap_idle_done(c->session);
	if (r != MAILIMAP_NO_ERROR) {
		command_error(c, "IDLE (DONE)", r, err, errlen);
		return -1;
	}
	return 0;
}

bool imap_return_path(const char *raw, size_t len, char *out, size_t size)
{
	struct mailimf_fields *fields = NULL;
	size_t indx = 0;
	clistiter *it;
	bool ok = true;

	if (size == 0)
		return false;
	*out = '\0';
	if (mailimf_fields_parse(raw, len, &indx, &fields) != MAILIMF_NO_ERROR)
		return true;
	for (it = clist_begin(fields->fld_list); it != NULL; it = clist_next(it)) {
		struct mailimf_field *f = clist_content(it);
		const char *addr;

		if (f->fld_type != MAILIMF_FIELD_RETURN_PATH)
			continue;
		addr = f->fld_data.fld_return_path->ret_path->pt_addr_spec;
		/* The first one: the final delivery agent adds it on top. */
		if (addr != NULL && !str_copy(out, addr, size)) {
			*out = '\0';
			ok = false;
		}
		break;
	}
	mailimf_fields_free(fields);
	return ok;
}
