/*
 * api_auth — signing in to hotline-admin; see api_auth.h.
 *
 * Session ids are 256 random bits, sent once in the hl_session cookie and
 * stored only as SHA-256, so a copy of staff_sessions cannot be replayed.
 * The CSRF token is HMAC-SHA256(session id, label): the server derives it
 * again from the cookie instead of keeping it, and stores its SHA-256 in
 * staff_sessions.csrf_hash as the schema asks.  A request changing state
 * must carry it in X-CSRF-Token; a page on another site can make the
 * browser send the cookie but cannot read the token.
 *
 * Every sign-in (password step, second step) issues a new session id and
 * deletes the one the browser came with, so an id planted before sign-in
 * (session fixation) is never promoted.  Failed sign-ins count per account
 * in staff.failed_logins; from lockout_threshold on the account is locked
 * with a doubling back-off, and while locked even the right password is
 * refused.  An unknown login costs the same PBKDF2 work as a known one.
 *
 * Logs carry staff ids, never logins, passwords, codes or session ids.
 */
#include "api_auth.h"

#include "api.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "password.h"
#include "store_audit.h"
#include "store_staff.h"
#include "str.h"
#include "totp.h"

#define COOKIE_NAME "hl_session"
#define SID_SIZE    32
#define SID_HEX	    (2 * SID_SIZE)
/* Sign-in bodies are two short strings: anything larger is refused before
 * it reaches the JSON parser. */
#define AUTH_BODY_MAX  4096
#define RECOVERY_CODES 10
/* 10 random bytes = 80 bits, shown as 16 base32 characters in 4 groups. */
#define RECOVERY_BYTES 10
#define RECOVERY_CHARS 16
#define TOTP_ISSUER    "hotline"
#define CSRF_LABEL     "hotline-admin csrf v1"
/* A session that has passed the password but still owes the TOTP code
 * lasts at most this long: enough to open the app and type the code. */
#define PENDING_MAX_AGE 600

/* Checked against when the login is unknown, so that the answer takes as
 * long as for a wrong password (no account enumeration by timing). */
static const char dummy_hash[] = "pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA==$"
				 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

struct api_auth {
	struct db *db;
	const struct hl_config *cfg;
	unsigned char totp_key[TOTP_KEY_SIZE];
	bool have_totp_key;
};

/* One request being answered. */
struct call {
	struct api_call api; /* what endpoint modules see after the gate */
	struct api_auth *a;
	const struct httpd_request *req;
	struct httpd_reply *reply;
	const char *method, *path;
	char ip[64];
	bool have_ip;
	const char *agent;
	bool have_sid; /* a well-formed cookie came with the request */
	unsigned char sid[SID_SIZE], sid_hash[32];
	bool authed; /* it names a live session */
	struct staff_session sess;
	struct staff_account acct;
};

struct api_auth *api_auth_new(struct db *db, const struct hl_config *cfg,
			      const unsigned char *totp_key)
{
	struct api_auth *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->db = db;
	a->cfg = cfg;
	if (totp_key != NULL) {
		memcpy(a->totp_key, totp_key, TOTP_KEY_SIZE);
		a->have_totp_key = true;
	}
	return a;
}

void api_auth_free(struct api_auth *a)
{
	if (a == NULL)
		return;
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

void api_security_headers(struct httpd_reply *reply)
{
	/* No inline script, no framing (clickjacking), no referrer leaking
	 * internal paths. */
	if (!httpd_reply_header(reply, "Content-Security-Policy",
				"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
				"form-action 'self'") ||
	    !httpd_reply_header(reply, "X-Frame-Options", "DENY") ||
	    !httpd_reply_header(reply, "Referrer-Policy", "no-referrer"))
		log_warn("cannot add security headers", "headers=%d", reply->nheaders);
}

/* --- replies --------------------------------------------------------------- */

static void reply_json(struct call *c, int status, json_t *v)
{
	api_reply_json(&c->api, status, v);
}

static void reply_error(struct call *c, int status, const char *code, const char *msg)
{
	api_reply_error(&c->api, status, code, msg);
}

static void reply_tempfail(struct call *c)
{
	api_reply_tempfail(&c->api);
}

static void set_cookie(struct call *c, const unsigned char *sid)
{
	char hex[SID_HEX + 1], value[HTTPD_HEADER_VALUE_MAX];
	const char *secure = c->a->cfg->admin.cookie_secure ? " Secure;" : "";
	bool ok;

	if (sid != NULL) {
		ok = str_hex(sid, SID_SIZE, hex, sizeof(hex)) &&
		     str_printf(value, sizeof(value),
				COOKIE_NAME "=%s; Path=/; HttpOnly;%s SameSite=Strict", hex,
				secure);
		OPENSSL_cleanse(hex, sizeof(hex));
	} else {
		ok = str_printf(value, sizeof(value),
				COOKIE_NAME "=; Path=/; Max-Age=0; HttpOnly;%s SameSite=Strict",
				secure);
	}
	if (!ok || !httpd_reply_header(c->reply, "Set-Cookie", value))
		log_warn("cannot set the session cookie", "headers=%d", c->reply->nheaders);
	OPENSSL_cleanse(value, sizeof(value));
}

/* --- audit ----------------------------------------------------------------- */

static bool valid_login(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '@' || *s == '-'))
			return false;
	return true;
}

/* Record an action; detail is taken (decref'd).  A failure to record is
 * logged: the sign-in itself has already been decided. */
static void audit(struct call *c, long long staff_id, const char *actor, const char *action,
		  json_t *detail)
{
	char target[32];

	if (staff_id <= 0 || !str_printf(target, sizeof(target), "staff:%lld", staff_id))
		target[0] = '\0';
	(void)api_audit_as(&c->api, staff_id, actor, action, target[0] != '\0' ? target : NULL,
			   detail);
}

/* --- sessions -------------------------------------------------------------- */

static void sha256(const void *in, size_t n, unsigned char out[32])
{
	unsigned int len = 0;

	if (EVP_Digest(in, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		abort(); /* OpenSSL without SHA-256: nothing can be trusted */
}

/* The session's CSRF token: 64 hex digits. */
static bool csrf_token(const unsigned char sid[SID_SIZE], char out[65])
{
	unsigned char mac[32];
	unsigned int len = 0;
	bool ok;

	ok = HMAC(EVP_sha256(), sid, SID_SIZE, (const unsigned char *)CSRF_LABEL,
		  strlen(CSRF_LABEL), mac, &len) != NULL &&
	     len == 32 && str_hex(mac, 32, out, 65);
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

/* The hl_session cookie's value, if there is a well-formed one. */
static bool read_cookie(const struct httpd_request *req, unsigned char sid[SID_SIZE])
{
	const char *h = httpd_header(req, "Cookie"), *p;

	for (p = h; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, COOKIE_NAME "=", strlen(COOKIE_NAME) + 1) == 0) {
			const char *v = p + strlen(COOKIE_NAME) + 1;
			size_t n = strcspn(v, "; ");

			if (n != SID_HEX)
				return false;
			return str_unhex(v, sid, SID_SIZE);
		}
		p = strchr(p, ';');
	}
	return false;
}

/* Start a new session for the account (the one the request came with, if
 * any, is deleted first) and set its cookie.  The new id is in c->sid. */
static enum hl_status new_session(struct call *c, long long staff_id, bool mfa)
{
	unsigned char csrf_hash[32];
	char token[65];
	long long max_age;
	enum hl_status st;

	if (c->have_sid) {
		st = store_staff_session_delete(c->a->db, c->sid_hash);
		if (st != HL_OK)
			return st;
	}
	if (RAND_bytes(c->sid, SID_SIZE) != 1 || !csrf_token(c->sid, token))
		return HL_PERMFAIL;
	sha256(c->sid, SID_SIZE, c->sid_hash);
	sha256(token, strlen(token), csrf_hash);
	OPENSSL_cleanse(token, sizeof(token));
	max_age = c->a->cfg->admin.session_max_age;
	if (!mfa && c->acct.totp_enabled && max_age > PENDING_MAX_AGE)
		max_age = PENDING_MAX_AGE;
	st = store_staff_session_create(c->a->db, c->sid_hash, staff_id, csrf_hash, mfa, max_age,
					c->have_ip ? c->ip : NULL, c->agent);
	if (st != HL_OK)
		return st;
	c->have_sid = true;
	c->sess.staff_id = staff_id;
	c->sess.mfa = mfa;
	set_cookie(c, c->sid);
	return HL_OK;
}

/* --- JSON bodies ----------------------------------------------------------- */

/* The request body as a JSON object, or NULL after a 400 reply. */
static json_t *body_object(struct call *c)
{
	return api_body_object(&c->api, AUTH_BODY_MAX);
}

static const char *field(json_t *o, const char *name)
{
	return api_field(o, name);
}

/* --- answers --------------------------------------------------------------- */

static const char *mfa_state(const struct call *c)
{
	if (!c->acct.totp_enabled)
		return "not_enrolled";
	return c->sess.mfa ? "verified" : "pending";
}

static json_t *me_object(const struct call *c)
{
	char token[65];
	json_t *o;

	if (!csrf_token(c->sid, token))
		return NULL;
	o = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:{s:b, s:s}, s:s}", "id", (json_int_t)c->acct.id,
		      "login", c->acct.login, "display_name", c->acct.display_name, "role",
		      c->acct.role == STAFF_ROLE_ADMIN ? "admin" : "staff", "department",
		      c->acct.department[0] != '\0' ? c->acct.department : NULL, "mfa", "enrolled",
		      c->acct.totp_enabled, "state", mfa_state(c), "csrf_token", token);
	OPENSSL_cleanse(token, sizeof(token));
	return o;
}

/* After a sign-in step: the session's state and who it is. */
static void reply_signed_in(struct call *c)
{
	const char *status = !c->acct.totp_enabled ? "mfa_enrolment_required"
			     : c->sess.mfa	   ? "ok"
						   : "totp_required";
	json_t *me = me_object(c);

	reply_json(c, 200, me != NULL ? json_pack("{s:s, s:o}", "status", status, "me", me) : NULL);
}

static void reply_locked(struct call *c, long long seconds)
{
	char retry[24];

	if (str_printf(retry, sizeof(retry), "%lld", seconds) &&
	    !httpd_reply_header(c->reply, "Retry-After", retry))
		log_warn("cannot add Retry-After", "staff=%lld", c->acct.id);
	reply_json(c, 429,
		   json_pack("{s:s, s:s, s:I}", "error", "locked", "message",
			     "ログインの失敗が続いたため、このアカウントは一時的にロックされて"
			     "います。しばらくしてからもう一度お試しください。",
			     "retry_after", (json_int_t)seconds));
}

/* Count a failure against the client address; actor names it in the
 * audit log when this locks the address. */
static void ip_failed(struct call *c, long long staff_id, const char *actor)
{
	const struct hl_config *cfg = c->a->cfg;
	long long locked = 0;

	if (!c->have_ip)
		return;
	if (store_staff_ip_failed(c->a->db, c->ip, cfg->admin.ip_lockout_threshold,
				  cfg->admin.lockout_base_seconds, cfg->admin.lockout_max_seconds,
				  &locked) != HL_OK) {
		log_warn("cannot count a failed sign-in", "scope=address error=\"%s\"",
			 db_error(c->a->db));
		return;
	}
	if (locked > 0) {
		audit(c, staff_id, actor, "staff.lockout",
		      json_pack("{s:s, s:I}", "scope", "address", "seconds", (json_int_t)locked));
		log_warn("address locked", "seconds=%lld", locked);
	}
}

/* Whether sign-in from the client address is refused now (then answered). */
static bool ip_refused(struct call *c, long long staff_id, const char *actor)
{
	long long locked = 0;

	if (!c->have_ip)
		return false;
	if (store_staff_ip_locked(c->a->db, c->ip, &locked) != HL_OK) {
		reply_tempfail(c);
		return true;
	}
	if (locked == 0)
		return false;
	audit(c, staff_id, actor, "staff.login_refused",
	      json_pack("{s:s}", "reason", "address_locked"));
	reply_locked(c, locked);
	return true;
}

/* A failed password or code: count it, lock if need be, audit both. */
static void sign_in_failed(struct call *c, const char *reason)
{
	const struct hl_config *cfg = c->a->cfg;
	long long locked = 0;
	enum hl_status st;

	st = store_staff_login_failed(c->a->db, c->acct.id, cfg->admin.lockout_threshold,
				      cfg->admin.lockout_base_seconds,
				      cfg->admin.lockout_max_seconds, &locked);
	if (st != HL_OK)
		log_warn("cannot count a failed sign-in", "staff=%lld error=\"%s\"", c->acct.id,
			 db_error(c->a->db));
	audit(c, c->acct.id, c->acct.login, "staff.login_failed",
	      json_pack("{s:s}", "reason", reason));
	log_info("sign-in failed", "staff=%lld reason=%s", c->acct.id, reason);
	if (locked > 0) {
		audit(c, c->acct.id, c->acct.login, "staff.lockout",
		      json_pack("{s:s, s:I}", "scope", "account", "seconds", (json_int_t)locked));
		log_warn("account locked", "staff=%lld seconds=%lld", c->acct.id, locked);
	}
	ip_failed(c, c->acct.id, c->acct.login);
}

static void do_login(struct call *c)
{
	json_t *body = body_object(c);
	const char *login_in, *password;
	char login[65];
	bool found = false, ok;
	enum hl_status st;

	if (body == NULL)
		return;
	login_in = field(body, "login");
	password = field(body, "password");
	if (login_in == NULL || password == NULL || strlen(password) > PASSWORD_MAX_LENGTH) {
		json_decref(body);
		reply_error(c, 400, "bad_request", "ログイン名とパスワードを入力してください。");
		return;
	}
	/* Logins are stored in lower case; fold ASCII only. */
	if (!str_copy(login, login_in, sizeof(login)))
		login[0] = '\0';
	for (char *p = login; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (ip_refused(c, 0, valid_login(login) ? login : "(invalid)")) {
		json_decref(body);
		return;
	}
	if (valid_login(login)) {
		st = store_staff_by_login(c->a->db, login, &c->acct, &found);
		if (st != HL_OK) {
			json_decref(body);
			reply_tempfail(c);
			return;
		}
	}
	if (!found || c->acct.disabled) {
		if (password_verify(password, dummy_hash))
			log_panic("the dummy hash matched", NULL);
		json_decref(body);
		audit(c, found ? c->acct.id : 0, valid_login(login) ? login : "(invalid)",
		      "staff.login_failed",
		      json_pack("{s:s}", "reason", found ? "disabled" : "unknown"));
		log_info("sign-in failed", "staff=%lld reason=%s", found ? c->acct.id : 0LL,
			 found ? "disabled" : "unknown");
		ip_failed(c, found ? c->acct.id : 0, valid_login(login) ? login : "(invalid)");
		reply_error(c, 401, "invalid_credentials",
			    "ログイン名またはパスワードが正しくありません。");
		return;
	}
	if (c->acct.locked_for > 0) {
		json_decref(body);
		audit(c, c->acct.id, c->acct.login, "staff.login_refused",
		      json_pack("{s:s}", "reason", "locked"));
		reply_locked(c, c->acct.locked_for);
		return;
	}
	ok = password_verify(password, c->acct.password_hash);
	json_decref(body);
	if (!ok) {
		sign_in_failed(c, "password");
		reply_error(c, 401, "invalid_credentials",
			    "ログイン名またはパスワードが正しくありません。");
		return;
	}
	/* Without TOTP enrolled the password is the whole sign-in (the session
	 * may then only enrol); with it, the failure count is cleared only
	 * when the second step succeeds. */
	if (!c->acct.totp_enabled && store_staff_login_ok(c->a->db, c->acct.id) != HL_OK) {
		reply_tempfail(c);
		return;
	}
	st = new_session(c, c->acct.id, false);
	if (st != HL_OK) {
		reply_tempfail(c);
		return;
	}
	audit(c, c->acct.id, c->acct.login,
	      c->acct.totp_enabled ? "staff.login_password" : "staff.login",
	      json_pack("{s:s}", "mfa", c->acct.totp_enabled ? "pending" : "not_enrolled"));
	log_info("signed in", "staff=%lld mfa=%s", c->acct.id,
		 c->acct.totp_enabled ? "pending" : "not_enrolled");
	reply_signed_in(c);
}

/* Normalise a recovery code as typed ("abcd-efgh ...") into out: upper
 * case base32 without separators.  False when it cannot be one. */
static bool recovery_normalise(const char *in, char out[RECOVERY_CHARS + 1])
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		char ch = *in;

		if (ch == '-' || ch == ' ')
			continue;
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '2' && ch <= '7')) || n == RECOVERY_CHARS)
			return false;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == RECOVERY_CHARS;
}

/* Check a TOTP code against the account's secret and record its step.
 * HL_OK with *ok; HL_PERMFAIL when the secret cannot be opened. */
static enum hl_status check_totp(struct call *c, const char *code, long long *step, bool *ok)
{
	unsigned char secret[TOTP_SECRET_SIZE];
	enum hl_status st = HL_OK;

	*ok = false;
	if (!c->a->have_totp_key ||
	    totp_open(c->a->totp_key, c->acct.totp_sealed, c->acct.totp_sealed_len, secret) != 0) {
		log_error("cannot open the TOTP secret", "staff=%lld key=%s", c->acct.id,
			  c->a->have_totp_key ? "wrong" : "missing");
		return HL_PERMFAIL;
	}
	*ok = totp_verify(secret, code, (long long)time(NULL), c->acct.totp_last_step, step);
	OPENSSL_cleanse(secret, sizeof(secret));
	return st;
}

static void do_login_totp(struct call *c)
{
	json_t *body;
	const char *code;
	char recovery[RECOVERY_CHARS + 1];
	const char *factor = "totp";
	long long step = 0;
	bool ok = false;
	enum hl_status st;

	if (c->sess.mfa) {
		reply_error(c, 409, "already_verified", "確認コードはすでに入力済みです。");
		return;
	}
	if (c->acct.locked_for > 0) {
		audit(c, c->acct.id, c->acct.login, "staff.login_refused",
		      json_pack("{s:s}", "reason", "locked"));
		reply_locked(c, c->acct.locked_for);
		return;
	}
	if (ip_refused(c, c->acct.id, c->acct.login))
		return;
	body = body_object(c);
	if (body == NULL)
		return;
	code = field(body, "code");
	if (code == NULL) {
		json_decref(body);
		reply_error(c, 400, "bad_request", "確認コードを入力してください。");
		return;
	}
	if (strlen(code) == TOTP_DIGITS) {
		st = check_totp(c, code, &step, &ok);
		if (st == HL_OK && ok)
			st = store_staff_totp_use(c->a->db, c->acct.id, step, &ok);
	} else if (recovery_normalise(code, recovery)) {
		factor = "recovery";
		st = store_staff_recovery_use(c->a->db, c->acct.id, recovery, &ok);
		OPENSSL_cleanse(recovery, sizeof(recovery));
	} else {
		st = HL_OK;
	}
	json_decref(body);
	if (st != HL_OK) {
		reply_tempfail(c);
		return;
	}
	if (!ok) {
		sign_in_failed(c, factor);
		reply_error(c, 401, "invalid_code",
			    "確認コードが正しくないか、すでに使用されています。");
		return;
	}
	if (store_staff_login_ok(c->a->db, c->acct.id) != HL_OK ||
	    new_session(c, c->acct.id, true) != HL_OK) {
		reply_tempfail(c);
		return;
	}
	audit(c, c->acct.id, c->acct.login, "staff.login", json_pack("{s:s}", "factor", factor));
	log_info("signed in", "staff=%lld mfa=%s", c->acct.id, factor);
	reply_signed_in(c);
}

static void do_logout(struct call *c)
{
	if (store_staff_session_delete(c->a->db, c->sid_hash) != HL_OK) {
		reply_tempfail(c);
		return;
	}
	set_cookie(c, NULL);
	audit(c, c->acct.id, c->acct.login, "staff.logout", NULL);
	log_info("signed out", "staff=%lld", c->acct.id);
	reply_json(c, 200, json_pack("{s:s}", "status", "ok"));
}

static void do_me(struct call *c)
{
	json_t *me = me_object(c);

	reply_json(c, 200, me);
}

/* The otpauth URI as a QR code in SVG (libqrencode), for the enrolment
 * screen: black modules as one path on a white square with the 4-module
 * quiet zone, no text, no script, no style attribute (the UI's CSP).
 * malloc'd, or NULL. */
static char *qr_svg(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	char *svg = NULL;
	size_t cap, len = 0;
	int w, side;

	if (qr == NULL)
		return NULL;
	w = qr->width;
	side = w + 8;
	/* Worst case: every module a run of its own ("M123 123h1v1h-1z"). */
	cap = 512 + (size_t)w * (size_t)w * 20;
	svg = malloc(cap);
	if (svg == NULL)
		goto done;
	svg[0] = '\0';
	if (!str_appendf(svg, cap, &len,
			 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
			 "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
			 "fill=\"#fff\"/><path fill=\"#000\" d=\"",
			 side, side, side, side))
		goto fail;
	for (int y = 0; y < w; y++) {
		for (int x = 0; x < w;) {
			int run = 0;

			while (x + run < w && (qr->data[y * w + x + run] & 1))
				run++;
			if (run == 0) {
				x++;
				continue;
			}
			if (!str_appendf(svg, cap, &len, "M%d %dh%dv1h-%dz", x + 4, y + 4, run,
					 run))
				goto fail;
			x += run;
		}
	}
	if (!str_appendf(svg, cap, &len, "\"/></svg>"))
		goto fail;
	goto done;
fail:
	free(svg);
	svg = NULL;
done:
	QRcode_free(qr);
	return svg;
}

static void do_totp_begin(struct call *c)
{
	unsigned char secret[TOTP_SECRET_SIZE], sealed[TOTP_SEALED_SIZE];
	char b32[TOTP_BASE32_SIZE], uri[512];
	char *svg;
	enum hl_status st;

	if (c->acct.totp_enabled) {
		reply_error(c, 409, "already_enrolled", "二要素認証はすでに登録されています。");
		return;
	}
	if (!c->a->have_totp_key) {
		log_error("TOTP enrolment without a sealing key", "staff=%lld", c->acct.id);
		reply_error(c, 503, "unavailable",
			    "二要素認証の登録は現在利用できません。管理者に連絡してください。");
		return;
	}
	if (totp_secret_new(secret) != 0 || totp_seal(c->a->totp_key, secret, sealed) != 0 ||
	    !totp_base32(secret, sizeof(secret), b32, sizeof(b32)) ||
	    !totp_uri(secret, TOTP_ISSUER, c->acct.login, uri, sizeof(uri))) {
		OPENSSL_cleanse(secret, sizeof(secret));
		reply_error(c, 500, "internal", "内部エラーが発生しました。");
		return;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	st = store_staff_totp_begin(c->a->db, c->acct.id, sealed, sizeof(sealed));
	if (st != HL_OK) {
		OPENSSL_cleanse(b32, sizeof(b32));
		OPENSSL_cleanse(uri, sizeof(uri));
		reply_tempfail(c);
		return;
	}
	svg = qr_svg(uri);
	if (svg == NULL)
		log_warn("cannot draw the enrolment QR code", "staff=%lld", c->acct.id);
	reply_json(c, 200,
		   json_pack("{s:s, s:s, s:s?}", "secret", b32, "otpauth_uri", uri, "qr_svg", svg));
	OPENSSL_cleanse(b32, sizeof(b32));
	OPENSSL_cleanse(uri, sizeof(uri));
	if (svg != NULL) {
		OPENSSL_cleanse(svg, strlen(svg));
		free(svg);
	}
}

static void do_totp_confirm(struct call *c)
{
	char codes[RECOVERY_CODES][RECOVERY_CHARS + 1];
	char hashes[RECOVERY_CODES][PASSWORD_HASH_SIZE];
	const char *hash_ptrs[RECOVERY_CODES];
	json_t *body, *list = NULL;
	const char *code;
	long long step = 0;
	bool ok = false;
	enum hl_status st;

	if (c->acct.totp_enabled) {
		reply_error(c, 409, "already_enrolled", "二要素認証はすでに登録されています。");
		return;
	}
	if (c->acct.totp_sealed_len == 0) {
		reply_error(c, 409, "not_begun", "先に二要素認証の登録を開始してください。");
		return;
	}
	body = body_object(c);
	if (body == NULL)
		return;
	code = field(body, "code");
	st = code != NULL ? check_totp(c, code, &step, &ok) : HL_OK;
	json_decref(body);
	if (st != HL_OK) {
		reply_error(c, 503, "unavailable",
			    "二要素認証の登録は現在利用できません。管理者に連絡してください。");
		return;
	}
	if (!ok) {
		reply_error(c, 400, "invalid_code",
			    "確認コードが正しくありません。認証アプリの表示を確認してください。");
		return;
	}
	/* Recovery codes carry 80 random bits, so PBKDF2's minimum count is
	 * ample and keeps checking ten of them quick. */
	list = json_array();
	for (size_t i = 0; i < RECOVERY_CODES; i++) {
		unsigned char raw[RECOVERY_BYTES];

		if (RAND_bytes(raw, sizeof(raw)) != 1 ||
		    !totp_base32(raw, sizeof(raw), codes[i], sizeof(codes[i])) ||
		    password_hash_iter(codes[i], PASSWORD_ITERATIONS_MIN, hashes[i]) != 0) {
			reply_error(c, 500, "internal", "内部エラーが発生しました。");
			goto done;
		}
		hash_ptrs[i] = hashes[i];
		json_array_append_new(list,
				      json_sprintf("%.4s-%.4s-%.4s-%.4s", codes[i], codes[i] + 4,
						   codes[i] + 8, codes[i] + 12));
	}
	st = store_staff_totp_enable(c->a->db, c->acct.id, step, hash_ptrs, RECOVERY_CODES, &ok);
	if (st == HL_OK && ok)
		st = store_staff_session_mfa(c->a->db, c->sid_hash);
	if (st != HL_OK) {
		reply_tempfail(c);
		goto done;
	}
	if (!ok) {
		reply_error(c, 400, "invalid_code",
			    "確認コードが正しくありません。認証アプリの表示を確認してください。");
		goto done;
	}
	audit(c, c->acct.id, c->acct.login, "staff.totp_enroll",
	      json_pack("{s:i}", "recovery_codes", RECOVERY_CODES));
	log_info("TOTP enrolled", "staff=%lld", c->acct.id);
	reply_json(c, 200, json_pack("{s:s, s:O}", "status", "ok", "recovery_codes", list));
done:
	json_decref(list);
	OPENSSL_cleanse(codes, sizeof(codes));
	OPENSSL_cleanse(hashes, sizeof(hashes));
}

/* --- the gate -------------------------------------------------------------- */

static bool is(const struct call *c, const char *method, const char *path)
{
	return strcmp(c->method, method) == 0 && strcmp(c->path, path) == 0;
}

/* Whether the X-CSRF-Token header is this session's token. */
static bool csrf_ok(const struct call *c)
{
	const char *got = httpd_header(c->req, "X-CSRF-Token");
	char want[65];
	bool ok;

	if (got == NULL || strlen(got) != 64 || !csrf_token(c->sid, want))
		return false;
	ok = CRYPTO_memcmp(got, want, 64) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

void api_auth_handle(struct api_auth *a, const struct httpd_request *req, struct httpd_reply *reply)
{
	struct call c = {.a = a, .req = req, .reply = reply};
	bool found = false;
	enum hl_status st;

	c.method = httpd_method(req);
	c.path = httpd_path(req);
	c.have_ip = api_client_addr(a->cfg, req, c.ip, sizeof(c.ip));
	c.agent = httpd_header(req, "User-Agent");
	c.api = (struct api_call){.req = req,
				  .reply = reply,
				  .db = a->db,
				  .cfg = a->cfg,
				  .method = c.method,
				  .path = c.path,
				  .ip = c.have_ip ? c.ip : NULL,
				  .agent = c.agent};
	c.have_sid = read_cookie(req, c.sid);
	if (c.have_sid) {
		sha256(c.sid, SID_SIZE, c.sid_hash);
		st = store_staff_session_touch(a->db, c.sid_hash,
					       a->cfg->admin.session_idle_timeout, &c.sess, &found);
		if (st == HL_OK && found)
			st = store_staff_by_id(a->db, c.sess.staff_id, &c.acct, &found);
		if (st != HL_OK) {
			reply_tempfail(&c);
			goto out;
		}
		c.authed = found && !c.acct.disabled;
	}
	if (is(&c, "POST", "/api/login")) {
		/* Expired sessions are swept at each sign-in. */
		if (store_staff_session_expire(a->db, a->cfg->admin.session_idle_timeout) != HL_OK)
			log_warn("cannot delete expired sessions", "error=\"%s\"", db_error(a->db));
		do_login(&c);
		goto out;
	}
	if (!c.authed) {
		reply_error(
			&c, 401, "unauthenticated",
			"ログインしていないか、セッションの有効期限が切れました。もう一度ログイン"
			"してください。");
		goto out;
	}
	if (strcmp(c.method, "GET") != 0 && strcmp(c.method, "HEAD") != 0 && !csrf_ok(&c)) {
		log_warn("CSRF token refused", "staff=%lld path=%s", c.acct.id, c.path);
		reply_error(
			&c, 403, "csrf",
			"不正なリクエストです。画面を再読み込みしてからもう一度操作してください。");
		goto out;
	}
	if (is(&c, "GET", "/api/me")) {
		do_me(&c);
	} else if (is(&c, "POST", "/api/logout")) {
		do_logout(&c);
	} else if (c.acct.totp_enabled && !c.sess.mfa) {
		/* Password accepted, second factor still due. */
		if (is(&c, "POST", "/api/login/totp"))
			do_login_totp(&c);
		else
			reply_error(&c, 401, "totp_required",
				    "認証アプリの確認コードを入力してください。");
	} else if (is(&c, "POST", "/api/me/totp/begin")) {
		do_totp_begin(&c);
	} else if (is(&c, "POST", "/api/me/totp/confirm")) {
		do_totp_confirm(&c);
	} else if (!c.acct.totp_enabled) {
		/* Every account can see personal data: no second factor, no
		 * access beyond enrolling one. */
		reply_error(&c, 403, "mfa_required",
			    "二要素認証 (TOTP) の登録が必要です。認証アプリを登録してから操作して"
			    "ください。");
	} else if (is(&c, "POST", "/api/login/totp")) {
		do_login_totp(&c);
	} else {
		c.api.staff = &c.acct;
		api_route(&c.api);
	}
out:
	OPENSSL_cleanse(c.sid, sizeof(c.sid));
	OPENSSL_cleanse(&c.acct, sizeof(c.acct));
}
