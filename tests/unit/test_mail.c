/*
 * Unit tests for lib/mail.
 *
 * Golden files: every tests/fixtures/mail/NAME.eml is decoded and the result,
 * printed as below, must equal NAME.expected byte for byte:
 *
 *	status: ok | permfail | tempfail
 *	error: <reason>                  (only when status is not ok)
 *	message_id: <id> | (none)
 *	dedupe_key: mid:<id> | sha256:<hex>
 *	from: <addr-spec> | (none)
 *	subject: <one line>
 *	date: <unix seconds> (<the same in UTC>)
 *	from_html: yes | no
 *	charset: <lower case> | (none)
 *	body:
 *	<the body verbatim, then one newline>
 *
 * HL_UPDATE_GOLDEN=1 rewrites the .expected files from what the code does
 * now; read every changed one before committing it (git diff), the Japanese
 * must read right.  Mails too big to commit (a 20 MB attachment, a 30 MB
 * mail) and floods are generated here, with the exact error asserted.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mail.h"
#include "str.h"

/* --- a growable buffer for building mails and outputs ---------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_fmt(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	buf_add(b, tmp, (size_t)n);
}

static const char *or_none(const char *s)
{
	return s != NULL ? s : "(none)";
}

/* The golden text of one decode. */
static void format_result(struct buf *b, enum hl_status st, const struct mail_alert *a,
			  const char *err)
{
	char when[64];
	time_t t;
	struct tm tm;

	buf_fmt(b, "status: %s\n", hl_status_name(st));
	if (st != HL_OK) {
		buf_fmt(b, "error: %s\n", err);
		return;
	}
	buf_fmt(b, "message_id: %s\n", or_none(a->message_id));
	buf_str(b, "dedupe_key: ");
	buf_str(b, a->dedupe_key);
	buf_fmt(b, "\nfrom: %s\nsubject: ", or_none(a->header_from));
	buf_str(b, a->subject);
	t = (time_t)a->date;
	assert_non_null(gmtime_r(&t, &tm));
	assert_true(strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0);
	buf_fmt(b, "\ndate: %lld (%s)\n", a->date, when);
	buf_fmt(b, "from_html: %s\n", a->from_html ? "yes" : "no");
	buf_fmt(b, "charset: %s\n", or_none(a->charset));
	buf_str(b, "body:\n");
	buf_str(b, a->body);
	buf_str(b, "\n");
}

static bool read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (f == NULL)
		return false;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(b, chunk, n);
	fclose(f);
	if (b->p == NULL)
		buf_add(b, "", 0);
	return true;
}

/* --- golden files ----------------------------------------------------------- */

static char fixture_dir[4096];

static void golden(void **state)
{
	const char *name = *state;
	char path[4200];
	struct buf raw = {0}, got = {0}, want = {0};
	struct mail_alert *a = NULL;
	char err[512];
	enum hl_status st;
	const char *update = getenv("HL_UPDATE_GOLDEN");
	FILE *f;

	assert_true(str_printf(path, sizeof(path), "%s/%s.eml", fixture_dir, name));
	assert_true(read_file(path, &raw));
	st = mail_decode(raw.p, raw.len, NULL, &a, err, sizeof(err));
	format_result(&got, st, a, err);
	mail_alert_free(a);
	assert_true(str_printf(path, sizeof(path), "%s/%s.expected", fixture_dir, name));
	if (update != NULL && strcmp(update, "1") == 0) {
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(got.p, 1, got.len, f), got.len);
		assert_int_equal(fclose(f), 0);
	}
	if (!read_file(path, &want))
		fail_msg("%s is missing (HL_UPDATE_GOLDEN=1 writes it)", path);
	if (want.len != got.len || memcmp(want.p, got.p, got.len) != 0) {
		print_error("--- %s\n+++ decoded\n%s", path, got.p);
		fail_msg("%s.eml does not decode to %s.expected", name, name);
	}
	free(raw.p);
	free(got.p);
	free(want.p);
}

/* --- generated mails ------------------------------------------------------- */

static const char HEAD[] =
	"From: =?UTF-8?B?6auY5bSO5biC?= <anshin-hot@city.takasaki.example.jp>\r\n"
	"To: line-bridge@city.takasaki.example.jp\r\n"
	"Subject: test\r\n"
	"Date: Thu, 20 Nov 2025 15:40:00 +0900\r\n"
	"Message-ID: <gen@city.takasaki.example.jp>\r\n"
	"MIME-Version: 1.0\r\n";

/* A multipart/mixed with a UTF-8 text part and a base64 attachment of
 * about att_bytes. */
static void big_attachment_mail(struct buf *b, size_t att_bytes)
{
	static const char line[] =
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n";
	size_t n;

	buf_str(b, HEAD);
	buf_str(b, "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n"
		   "--=_b\r\n"
		   "Content-Type: text/plain; charset=UTF-8\r\n"
		   "Content-Transfer-Encoding: 8bit\r\n\r\n"
		   "【種別】防災\r\n添付の地図をご覧ください。\r\n"
		   "--=_b\r\n"
		   "Content-Type: application/pdf; name=\"map.pdf\"\r\n"
		   "Content-Disposition: attachment; filename=\"map.pdf\"\r\n"
		   "Content-Transfer-Encoding: base64\r\n\r\n");
	for (n = 0; n < att_bytes; n += sizeof(line) - 1)
		buf_add(b, line, sizeof(line) - 1);
	buf_str(b, "--=_b--\r\n");
}

static void attachment_20mb_is_skipped(void **state)
{
	struct buf b = {0};
	struct mail_alert *a = NULL;
	char err[256];

	(void)state;
	big_attachment_mail(&b, 20u * 1000 * 1000);
	assert_true(b.len > 20u * 1000 * 1000 && b.len < 25u * 1024 * 1024);
	assert_int_equal(mail_decode(b.p, b.len, NULL, &a, err, sizeof(err)), HL_OK);
	assert_string_equal(a->body, "【種別】防災\n添付の地図をご覧ください。");
	assert_string_equal(a->charset, "utf-8");
	assert_string_equal(a->message_id, "gen@city.takasaki.example.jp");
	assert_false(a->from_html);
	mail_alert_free(a);
	free(b.p);
}

struct err_case {
	const char *name;
	void (*build)(struct buf *b);
	const char *want;
};

static void build_empty(struct buf *b)
{
	buf_add(b, "", 0);
}

static void build_hello(struct buf *b)
{
	buf_str(b, "hello");
}

static void build_garbage(struct buf *b)
{
	static const unsigned char g[] = {0x89, 'P',  'N',  'G',  0x0d, 0x0a, 0x1a, 0x0a,
					  0x00, 0x00, 0x00, 0x0d, 'I',	'H',  'D',  'R'};
	buf_add(b, (const char *)g, sizeof(g));
}

static void build_words_colon(struct buf *b)
{
	buf_str(b, "Dear resident: hello\n\nbody\n");
}

static void build_30mb(struct buf *b)
{
	big_attachment_mail(b, 30u * 1000 * 1000);
}

static void build_depth(struct buf *b, size_t depth)
{
	size_t i;

	buf_str(b, HEAD);
	for (i = 0; i < depth; i++)
		buf_fmt(b, "Content-Type: multipart/mixed; boundary=\"b%zu\"\r\n\r\n--b%zu\r\n", i,
			i);
	buf_str(b, "Content-Type: text/plain\r\n\r\ndeep\r\n");
}

static void build_depth_16(struct buf *b)
{
	build_depth(b, 15); /* 15 multiparts and the text part: 16 levels */
}

static void build_depth_17(struct buf *b)
{
	build_depth(b, 16);
}

static void build_depth_5000(struct buf *b)
{
	build_depth(b, 5000);
}

static void build_rfc822_depth(struct buf *b)
{
	size_t i;

	buf_str(b, HEAD);
	for (i = 0; i < 40; i++)
		buf_fmt(b, "Content-Type: message/rfc822\r\n\r\nSubject: level %zu\r\n", i);
	buf_str(b, "Content-Type: text/plain\r\n\r\ndeep\r\n");
}

static void build_header_flood(struct buf *b)
{
	size_t i;

	buf_str(b, HEAD);
	for (i = 0; i < 3000000; i++)
		buf_str(b, "X-A: b\r\n");
	buf_str(b, "\r\nbody\r\n");
}

static void build_long_header(struct buf *b)
{
	size_t i;

	buf_str(b, HEAD);
	buf_str(b, "X-Long: ");
	for (i = 0; i < 1000; i++)
		buf_str(b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r"
			   "\n ");
	buf_str(b, "end\r\n\r\nbody\r\n");
}

static void build_parts(struct buf *b, size_t n)
{
	size_t i;

	buf_str(b, HEAD);
	buf_str(b, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (i = 0; i < n; i++)
		buf_str(b, "--b\r\n\r\n");
	buf_str(b, "--b--\r\n");
}

static void build_parts_255(struct buf *b)
{
	build_parts(b, 255); /* with the multipart itself: 256 parts */
}

static void build_parts_256(struct buf *b)
{
	build_parts(b, 256);
}

static void build_part_flood(struct buf *b)
{
	build_parts(b, 3000000);
}

/* GMime also takes "--b " for boundary "b ": the estimate must too. */
static void build_part_flood_space(struct buf *b)
{
	size_t i;

	buf_str(b, HEAD);
	buf_str(b, "Content-Type: multipart/mixed; boundary=\"b \"\r\n\r\n");
	for (i = 0; i < 3000000; i++)
		buf_str(b, "--b \r\n\r\n");
}

static void build_part_header_flood(struct buf *b)
{
	size_t i;

	buf_str(b, HEAD);
	buf_str(b, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n");
	for (i = 0; i < 100000; i++)
		buf_str(b, "X-Part: y\r\n");
	buf_str(b, "\r\ntext\r\n--b--\r\n");
}

/* Lines that look like boundaries but are not are no parts. */
static void build_dashes(struct buf *b)
{
	size_t i;

	buf_str(b, HEAD);
	buf_str(b, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n");
	for (i = 0; i < 5000; i++)
		buf_fmt(b, "--------- %zu\r\n--\r\n--b-\r\n", i);
	buf_str(b, "--b--\r\n");
}

static const struct err_case err_cases[] = {
	{"empty input", build_empty, "not a mail: empty input"},
	{"a word", build_hello, "not a mail: no header fields"},
	{"binary garbage", build_garbage, "not a mail: no header fields"},
	{"prose with a colon", build_words_colon, "not a mail: no header fields"},
	{"30 MB", build_30mb, "mail is 30000611 bytes, over the 26214400-byte limit"},
	{"depth 16", build_depth_16, NULL},
	{"depth 17", build_depth_17, "MIME parts are nested more than 16 deep"},
	/* 5000 nested multiparts are 5000 parts too: that estimate trips
	 * first, while GMime is still reading */
	{"depth 5000", build_depth_5000, "mail has more than 256 MIME parts"},
	{"message/rfc822 depth 41", build_rfc822_depth, "MIME parts are nested more than 16 deep"},
	{"3 million headers", build_header_flood, "mail has more than 1000 header fields"},
	{"70 KB header", build_long_header,
	 "header field X-Long is 69011 bytes, over the 65536-byte limit"},
	{"256 parts", build_parts_255, NULL},
	{"257 parts", build_parts_256, "mail has more than 256 MIME parts"},
	{"3 million parts", build_part_flood, "mail has more than 256 MIME parts"},
	{"3 million parts, boundary ends in a space", build_part_flood_space,
	 "mail has more than 256 MIME parts"},
	{"header flood in a part", build_part_header_flood,
	 "mail has more than 1000 header fields"},
	{"15000 lines of dashes", build_dashes, NULL},
};

static void error_case(void **state)
{
	const struct err_case *c = *state;
	struct buf b = {0};
	struct mail_alert *a = NULL;
	char err[256] = "unset";
	enum hl_status st;

	c->build(&b);
	st = mail_decode(b.p != NULL ? b.p : "", b.len, NULL, &a, err, sizeof(err));
	if (c->want == NULL) {
		if (st != HL_OK)
			fail_msg("%s: %s", c->name, err);
		assert_non_null(a);
	} else {
		assert_int_equal(st, HL_PERMFAIL);
		assert_null(a);
		assert_string_equal(err, c->want);
	}
	mail_alert_free(a);
	free(b.p);
}

/* Limits other than the defaults are honoured. */
static void custom_limits(void **state)
{
	static const char mail[] = "Subject: x\r\nX-A: 1\r\nX-B: 2\r\n\r\n"
				   "0123456789\r\n0123456789\r\n";
	struct mail_limits lim;
	struct mail_alert *a = NULL;
	char err[256];

	(void)state;
	mail_limits_default(&lim);
	assert_int_equal(lim.max_bytes, 26214400);
	assert_int_equal(lim.max_headers, 1000);
	assert_int_equal(lim.max_header_line, 65536);
	assert_int_equal(lim.max_mime_depth, 16);
	assert_int_equal(lim.max_parts, 256);
	assert_int_equal(lim.max_text_bytes, 1048576);

	lim.max_text_bytes = 20;
	assert_int_equal(mail_decode(mail, sizeof(mail) - 1, &lim, &a, err, sizeof(err)),
			 HL_PERMFAIL);
	assert_string_equal(err, "body text is 21 bytes, over the 20-byte limit");
	lim.max_text_bytes = 21;
	assert_int_equal(mail_decode(mail, sizeof(mail) - 1, &lim, &a, err, sizeof(err)), HL_OK);
	assert_string_equal(a->body, "0123456789\n0123456789");
	mail_alert_free(a);
	a = NULL;

	lim.max_headers = 2;
	assert_int_equal(mail_decode(mail, sizeof(mail) - 1, &lim, &a, err, sizeof(err)),
			 HL_PERMFAIL);
	assert_string_equal(err, "mail has more than 2 header fields");
	mail_limits_default(&lim);
	lim.max_bytes = 10;
	assert_int_equal(mail_decode(mail, sizeof(mail) - 1, &lim, &a, err, sizeof(err)),
			 HL_PERMFAIL);
	assert_string_equal(err, "mail is 54 bytes, over the 10-byte limit");
	mail_alert_free(NULL);
}

/* The dedupe key of a mail without Message-ID is the SHA-256 of the raw
 * bytes, so one byte more gives another key; and CRLF or LF give the same
 * text. */
static void sha256_key_and_line_ends(void **state)
{
	static const char lf[] = "Subject: a\n\nx \n\n\n\n\ny\n";
	static const char crlf[] = "Subject: a\r\n\r\nx \r\n\r\n\r\n\r\n\r\ny\r\n";
	struct mail_alert *a = NULL, *b = NULL;
	char err[256];

	(void)state;
	assert_int_equal(mail_decode(lf, sizeof(lf) - 1, NULL, &a, err, sizeof(err)), HL_OK);
	assert_int_equal(mail_decode(crlf, sizeof(crlf) - 1, NULL, &b, err, sizeof(err)), HL_OK);
	assert_null(a->message_id);
	assert_string_equal(a->dedupe_key,
			    "sha256:"
			    "e2a256a1d93335dd68e858adf78d9813784e410a0d7fccd6618efc30a7abbdd4");
	assert_string_not_equal(a->dedupe_key, b->dedupe_key);
	assert_string_equal(a->body, "x\n\n\ny");
	assert_string_equal(a->body, b->body);
	mail_alert_free(a);
	mail_alert_free(b);
}

/* Message-IDs: brackets dropped, bogus ones refused. */
static void message_ids(void **state)
{
	static const struct {
		const char *hdr;
		const char *want;
	} cases[] = {
		{"<a.b@c.example>", "a.b@c.example"},
		{"  <a.b@c.example>  (comment)", "a.b@c.example"},
		{"a.b@c.example", "a.b@c.example"},
		{"<>", NULL},
		{"<no-at-sign>", NULL},
		{"<a b@c>", NULL},
		{"<a@b> trailing", NULL},
		{"<@b>", NULL},
		{"<a@>", NULL},
		{"<a@b", NULL},
		{"two words@x", NULL},
	};
	struct buf b;
	struct mail_alert *a;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&b, 0, sizeof(b));
		a = NULL;
		buf_fmt(&b, "Subject: x\r\nMessage-ID: %s\r\n\r\nbody\r\n", cases[i].hdr);
		assert_int_equal(mail_decode(b.p, b.len, NULL, &a, err, sizeof(err)), HL_OK);
		if (cases[i].want == NULL) {
			if (a->message_id != NULL)
				fail_msg("%s gave %s", cases[i].hdr, a->message_id);
			assert_true(strncmp(a->dedupe_key, "sha256:", 7) == 0);
		} else {
			assert_non_null(a->message_id);
			assert_string_equal(a->message_id, cases[i].want);
		}
		mail_alert_free(a);
		free(b.p);
	}
}

/* --- the group ---------------------------------------------------------------- */

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int main(void)
{
	const char *top = getenv("HL_TOP");
	struct CMUnitTest *tests;
	char **names = NULL;
	size_t nnames = 0, n = 0, i, l;
	DIR *dir;
	struct dirent *de;
	int rc;

	if (top == NULL ||
	    !str_printf(fixture_dir, sizeof(fixture_dir), "%s/tests/fixtures/mail", top)) {
		fprintf(stderr, "test_mail: set HL_TOP to the top of the tree\n");
		return 1;
	}
	dir = opendir(fixture_dir);
	if (dir == NULL) {
		fprintf(stderr, "test_mail: cannot open %s\n", fixture_dir);
		return 1;
	}
	while ((de = readdir(dir)) != NULL) {
		l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".eml") != 0)
			continue;
		names = realloc(names, (nnames + 1) * sizeof(*names));
		if (names == NULL || (names[nnames] = strndup(de->d_name, l - 4)) == NULL)
			return 1;
		nnames++;
	}
	closedir(dir);
	if (nnames > 0)
		qsort(names, nnames, sizeof(*names), cmp_names);

	tests = calloc(nnames + sizeof(err_cases) / sizeof(err_cases[0]) + 8, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (i = 0; i < nnames; i++)
		tests[n++] = (struct CMUnitTest){names[i], golden, NULL, NULL, names[i]};
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){err_cases[i].name, error_case, NULL, NULL,
						 (void *)(uintptr_t)&err_cases[i]};
	tests[n++] = (struct CMUnitTest){"20 MB attachment", attachment_20mb_is_skipped, NULL, NULL,
					 NULL};
	tests[n++] = (struct CMUnitTest){"custom limits", custom_limits, NULL, NULL, NULL};
	tests[n++] = (struct CMUnitTest){"sha256 key and line ends", sha256_key_and_line_ends, NULL,
					 NULL, NULL};
	tests[n++] = (struct CMUnitTest){"message ids", message_ids, NULL, NULL, NULL};
	rc = _cmocka_run_group_tests("mail", tests, n, NULL, NULL);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(tests);
	return rc;
}
