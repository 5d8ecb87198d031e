/* Unit tests for lib/log: one line per event, whatever the values hold,
 * and no raw LINE user id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

/* Run fn with the log going to a temporary file; return what it wrote. */
static char *capture(void (*fn)(void), enum log_level min)
{
	static char buf[8192];
	FILE *fp = tmpfile();
	size_t n;

	assert_non_null(fp);
	unsetenv("JOURNAL_STREAM");
	log_open("test", min, fp);
	fn();
	fflush(fp);
	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	log_open("test", LOG_LEVEL_INFO, NULL);
	return buf;
}

static void emit_basic(void)
{
	log_debug("hidden", "x=1");
	log_info("mail accepted", "queue_id=%s size=%d", "Q1", 42);
	log_warn("plain", NULL);
}

static void format_and_level(void **state)
{
	char *out = capture(emit_basic, LOG_LEVEL_INFO);

	(void)state;
	assert_null(strstr(out, "hidden"));
	assert_non_null(
		strstr(out, " level=info prog=test msg=\"mail accepted\" queue_id=Q1 size=42\n"));
	assert_non_null(strstr(out, " level=warn prog=test msg=plain\n"));
	assert_int_equal(strncmp(out, "ts=", 3), 0);
}

static void emit_hostile(void)
{
	char q[64];

	log_info("a\nb", "value=%s", "line1\nlevel=error msg=forged\r\x01");
	log_info("quoted", "err=%s", log_quote("say \"hi\"\n", q, sizeof(q)));
}

static void values_cannot_forge_lines(void **state)
{
	char *out = capture(emit_hostile, LOG_LEVEL_INFO);
	size_t lines = 0;
	const char *p;

	(void)state;
	for (p = out; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	assert_non_null(
		strstr(out, "msg=\"a\\nb\" value=line1\\nlevel=error msg=forged\\r\\x01\n"));
	assert_non_null(strstr(out, "err=\"say \\\"hi\\\"\\n\"\n"));
}

static void emit_long(void)
{
	static char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	log_info("long", "v=%s", big);
}

static void long_lines_are_cut_and_marked(void **state)
{
	char *out = capture(emit_long, LOG_LEVEL_INFO);
	size_t n = strlen(out);

	(void)state;
	assert_true(n <= LOG_LINE_MAX + 1);
	assert_non_null(strstr(out, " truncated=1\n"));
}

static void uid_is_a_stable_pseudonym(void **state)
{
	char a[LOG_UID_SIZE], b[LOG_UID_SIZE], c[LOG_UID_SIZE];
	const char *uid = "U4af4980629f3c1ca0cd6e8f1b1ea4a4e";

	(void)state;
	log_uid(uid, a);
	log_uid(uid, b);
	log_uid("U0000000000000000000000000000000", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 14);
	assert_int_equal(strncmp(a, "u:", 2), 0);
	assert_null(strstr(uid, a + 2));
}

static void quote_cuts_with_ellipsis(void **state)
{
	char q[12];

	(void)state;
	assert_string_equal(log_quote("abcdefghijklmnop", q, sizeof(q)), "\"abcdef...\"");
	assert_string_equal(log_quote("", q, sizeof(q)), "\"\"");
	assert_string_equal(log_quote("abc", q, sizeof(q)), "\"abc\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_and_level),
		cmocka_unit_test(values_cannot_forge_lines),
		cmocka_unit_test(long_lines_are_cut_and_marked),
		cmocka_unit_test(uid_is_a_stable_pseudonym),
		cmocka_unit_test(quote_cuts_with_ellipsis),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
