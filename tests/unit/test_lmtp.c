/* Unit tests for milter/lmtp: scripted LMTP sessions, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lmtp.h"
#include "str.h"

/* What the fake store answers for each message, and what it saw. */
struct store {
	enum hl_status outcome;
	int messages;
	char last_data[4096];
	char last_sender[300];
	size_t last_nrcpts;
};

/* Feed input in chunks of `chunk` bytes (0: all at once) and collect every
 * reply; messages get the store's outcome for each recipient. */
static char *session(const char *input, size_t chunk, struct store *st, size_t max_message)
{
	struct lmtp_params p = {"lmtp.test", max_message, 3};
	struct lmtp_session *s = lmtp_new(&p);
	static char out[16384];
	size_t outlen = 0, off = 0, len = strlen(input);
	struct lmtp_message m;
	enum lmtp_event ev;

	assert_non_null(s);
	out[0] = '\0';
	for (;;) {
		const char *o;
		size_t n;

		ev = lmtp_next(s, &m);
		if (ev == LMTP_MESSAGE) {
			enum hl_status outcomes[8];
			size_t i;

			st->messages++;
			st->last_nrcpts = m.nrcpts;
			assert_true(str_copy(st->last_sender, m.sender, sizeof(st->last_sender)));
			assert_true(m.len < sizeof(st->last_data));
			memcpy(st->last_data, m.data, m.len);
			st->last_data[m.len] = '\0';
			for (i = 0; i < m.nrcpts; i++)
				outcomes[i] = st->outcome;
			lmtp_message_done(s, outcomes, NULL);
			continue;
		}
		o = lmtp_output(s, &n);
		assert_true(outlen + n < sizeof(out));
		memcpy(out + outlen, o, n);
		outlen += n;
		out[outlen] = '\0';
		lmtp_output_consumed(s, n);
		if (ev == LMTP_CLOSE || off >= len)
			break;
		n = chunk == 0 || len - off < chunk ? len - off : chunk;
		assert_int_equal(lmtp_push(s, input + off, n), 0);
		off += n;
	}
	lmtp_free(s);
	return out;
}

static const char greeting[] = "220 lmtp.test LMTP hotline ready\r\n";
static const char lhlo_reply[] = "250-lmtp.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
				 "250-8BITMIME\r\n250 SIZE 1000\r\n";

static void pipelined_delivery_to_two_recipients(void **state)
{
	struct store st = {HL_OK, 0, "", "", 0};
	const char *in = "LHLO mx.city.example\r\n"
			 "MAIL FROM:<alert@anshin.example> SIZE=120 BODY=8BITMIME\r\n"
			 "RCPT TO:<line@hotline.example>\r\n"
			 "RCPT TO:<test@hotline.example>\r\n"
			 "DATA\r\n"
			 "Subject: test\r\n"
			 "\r\n"
			 "..dot-stuffed line\r\n"
			 "本文\r\n"
			 ".\r\n"
			 "QUIT\r\n";
	char want[1024];
	size_t chunk;

	(void)state;
	assert_true(str_printf(want, sizeof(want),
			       "%s%s250 2.1.0 sender ok\r\n250 2.1.5 recipient ok\r\n"
			       "250 2.1.5 recipient ok\r\n"
			       "354 send the message, ending with a line holding only a dot\r\n"
			       "250 2.0.0 <line@hotline.example> delivered\r\n"
			       "250 2.0.0 <test@hotline.example> delivered\r\n"
			       "221 2.0.0 lmtp.test closing connection\r\n",
			       greeting, lhlo_reply));
	/* The same session whole, byte by byte and in odd chunks. */
	for (chunk = 0; chunk < 8; chunk += (chunk == 0 ? 1 : 3)) {
		st.messages = 0;
		assert_string_equal(session(in, chunk, &st, 1000), want);
		assert_int_equal(st.messages, 1);
		assert_string_equal(st.last_sender, "alert@anshin.example");
		assert_int_equal(st.last_nrcpts, 2);
		assert_string_equal(st.last_data,
				    "Subject: test\r\n\r\n.dot-stuffed line\r\n本文\r\n");
	}
}

static void outcomes_map_to_replies(void **state)
{
	struct store st = {HL_TEMPFAIL, 0, "", "", 0};
	const char *in = "LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@b>\r\nDATA\r\nhi\r\n.\r\n";

	(void)state;
	assert_non_null(strstr(session(in, 0, &st, 1000),
			       "451 4.3.0 <a@b> temporary failure, try again later\r\n"));
	st.outcome = HL_PERMFAIL;
	assert_non_null(strstr(session(in, 0, &st, 1000), "554 5.6.0 <a@b> refused\r\n"));
	assert_string_equal(st.last_sender, ""); /* the null sender */
}

/* Each script, after the greeting, and the replies it must get. */
static const struct {
	const char *name, *in, *want;
} cases[] = {
	{"HELO is not LMTP", "HELO x\r\n", "500 5.5.1 this is LMTP: use LHLO\r\n"},
	{"MAIL before LHLO", "MAIL FROM:<a@b>\r\n", "503 5.5.1 send LHLO first\r\n"},
	{"RCPT before MAIL", "LHLO x\r\nRCPT TO:<a@b>\r\n", "503 5.5.1 need MAIL before RCPT\r\n"},
	{"DATA without recipients", "LHLO x\r\nMAIL FROM:<a@b>\r\nDATA\r\n",
	 "250 2.1.0 sender ok\r\n503 5.5.1 no valid recipients\r\n"},
	{"nested MAIL", "LHLO x\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n",
	 "250 2.1.0 sender ok\r\n503 5.5.1 nested MAIL command\r\n"},
	{"bad path", "LHLO x\r\nMAIL FROM:a@b\r\n", "501 5.5.4 syntax: MAIL FROM:<address>\r\n"},
	{"SIZE above the limit", "LHLO x\r\nMAIL FROM:<a@b> SIZE=1001\r\n",
	 "552 5.3.4 message size 1001 exceeds the limit of 1000 bytes\r\n"},
	{"unknown parameter", "LHLO x\r\nMAIL FROM:<a@b> SMTPUTF8\r\n",
	 "555 5.5.4 unsupported parameter SMTPUTF8\r\n"},
	{"empty recipient", "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<>\r\n",
	 "250 2.1.0 sender ok\r\n501 5.1.3 empty recipient address\r\n"},
	{"too many recipients",
	 "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<1@b>\r\nRCPT TO:<2@b>\r\nRCPT TO:<3@b>\r\nRCPT "
	 "TO:<4@b>\r\n",
	 "250 2.1.0 sender ok\r\n250 2.1.5 recipient ok\r\n250 2.1.5 recipient ok\r\n"
	 "250 2.1.5 recipient ok\r\n452 4.5.3 too many recipients (at most 3)\r\n"},
	{"unknown command", "LHLO x\r\nXYZZY\r\n", "500 5.5.2 command not recognized\r\n"},
	{"RSET, NOOP, VRFY", "RSET\r\nNOOP\r\nVRFY a\r\n",
	 "250 2.0.0 ok\r\n250 2.0.0 ok\r\n252 2.5.2 cannot verify, but will accept and attempt "
	 "delivery\r\n"},
	{"bare LF line ends", "LHLO x\nNOOP\n", "250 2.0.0 ok\r\n"},
	{"message over the limit is read and refused",
	 "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<r@b>\r\nDATA\r\n"
	 "0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
	 "0123456789012345678901234567890123456789012345678901234567890123456789\r\n.\r\nNOOP\r\n",
	 "552 5.3.4 <r@b> message exceeds the limit of 100 bytes\r\n250 2.0.0 ok\r\n"},
};

static void protocol_errors(void **state)
{
	struct store st = {HL_OK, 0, "", "", 0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *out = session(cases[i].in, 0, &st,
					  strstr(cases[i].name, "over the limit") ? 100 : 1000);

		if (strstr(out, cases[i].want) == NULL)
			fail_msg("%s: want\n%s\ngot\n%s", cases[i].name, cases[i].want, out);
	}
	assert_int_equal(st.messages, 0);
}

static void overlong_lines(void **state)
{
	struct store st = {HL_OK, 0, "", "", 0};
	char *in = malloc(200000);
	size_t len = 0;
	const char *out;

	(void)state;
	assert_non_null(in);
	assert_true(str_appendf(in, 200000, &len, "LHLO x\r\n"));
	memset(in + len, 'A', 5000);
	len += 5000;
	assert_true(str_appendf(in, 200000, &len,
				"\r\nNOOP\r\nMAIL FROM:<a@b>\r\nRCPT TO:<r@b>\r\nDATA\r\n"));
	memset(in + len, 'B', 70000);
	len += 70000;
	assert_true(str_appendf(in, 200000, &len, "\r\n.\r\n"));
	out = session(in, 4096, &st, 1000000);
	assert_non_null(
		strstr(out, "500 5.5.2 line too long (at most 2048 bytes)\r\n250 2.0.0 ok\r\n"));
	assert_non_null(strstr(out, "554 5.6.0 <r@b> message has a line over 65536 bytes\r\n"));
	assert_int_equal(st.messages, 0);
	free(in);
}

static void too_many_errors_disconnect(void **state)
{
	struct store st = {HL_OK, 0, "", "", 0};
	char in[1024];
	size_t len = 0;
	int i;

	(void)state;
	for (i = 0; i < 30; i++)
		assert_true(str_appendf(in, sizeof(in), &len, "BOGUS\r\n"));
	assert_non_null(strstr(session(in, 0, &st, 1000),
			       "421 4.7.0 lmtp.test too many errors, closing connection\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pipelined_delivery_to_two_recipients),
		cmocka_unit_test(outcomes_map_to_replies),
		cmocka_unit_test(protocol_errors),
		cmocka_unit_test(overlong_lines),
		cmocka_unit_test(too_many_errors_disconnect),
	};

	return cmocka_run_group_tests_name("lmtp", tests, NULL, NULL);
}
