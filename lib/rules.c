/*
 * rules — the staff-edited mail rules; the contract is in rules.h.
 *
 * How an alert goes through a rule set (this is what the admin UI and
 * `hotlinectl rules test` show staff, and what tests/unit/test_rules.c pins):
 *
 *  - Rules run once each, in the order given (mail_rules.position), and each
 *    sees the subject and body as the rules before it left them: a strip of
 *    the footer placed before a keyword rule hides the footer's words from it.
 *    Disabled rules are skipped (they appear in the trace as disabled, and
 *    their pattern is not even compiled, so a broken disabled rule does not
 *    stop the others).
 *  - strip removes every match of its pattern from its part.
 *  - append adds its text at the head or tail of its part.  In the body a
 *    blank line separates the two (white space at the joined edge of the
 *    body is dropped first); in the subject, a single line, nothing is put
 *    between them, so staff write the space or bracket they want.
 *  - keyword: for every match (at most RULES_MAX_KEYWORD_MATCHES), the first
 *    capture group, or the whole match for a pattern without groups, is split
 *    at 、 ， , and ・ (【地区】群馬、箕郷 names two regions) and each piece is
 *    trimmed (ASCII white space and U+3000), folded from full-width to ASCII
 *    (Ｂ地区 = B地区, a small part of the NFKC the schema mentions), and looked
 *    up in the rule's value table.  A keyword can map to several values, or to
 *    everyone (全域), which leaves the rule's item unrestricted.  A rule
 *    matched when at least one keyword mapped; keywords that mapped to
 *    nothing are listed in the trace as "unknown" and otherwise ignored.
 *    Matched rules of the same item are ORed (one clause, the union of the
 *    values, unrestricted if any said everyone); different items are ANDed:
 *    {"all":[{"item":"region","any":["gunma","misato"]},{"item":"category",…}]}
 *    in the order the items first matched.  When every matched item is
 *    unrestricted the target is NULL: everyone.
 *  - sender_allow: when the set has at least one enabled sender_allow rule,
 *    the envelope sender must match one of them, or the result is
 *    RULES_REFUSE.  The header From is not consulted: it is part of the
 *    content and anyone can write it, while the envelope sender is what
 *    the receiving MTA saw (and checked with SPF, where the city does).  The pattern must match the whole address,
 *    case-insensitively (compiled anchored at both ends), so that allowing
 *    `anshin@city\.example\.jp` does not also allow
 *    anshin@city.example.jp.attacker.example.
 *  - fallback, used only when no keyword rule matched: everyone (target
 *    NULL), segment (fallback_target, parsed when used; invalid JSON holds the
 *    delivery with the parser's message) or hold.  With no enabled fallback
 *    the delivery is held: an alert nobody could classify goes to staff rather
 *    than to every resident of the city, since a wrong mass alert cannot be
 *    recalled and a held one costs only a click.
 *  - A rule whose match fails (match limit, depth or heap limit, JIT stack)
 *    is treated as not matched and its error is in the trace; a rule slower
 *    than RULES_SLOW_MS is marked "slow".
 *  - The LINE text is the subject and the body after the rules, joined by a
 *    blank line (the body alone when the subject is empty), with trailing
 *    blanks of each line removed, runs of blank lines reduced to one and the
 *    whole trimmed.  An empty text is held: LINE cannot send it.
 *  - Input that is not valid UTF-8 (the decoder never produces it) has the
 *    bad bytes replaced by U+FFFD first, so that patterns run with
 *    PCRE2_NO_UTF_CHECK and the text stays storable in PostgreSQL.
 *
 * The trace is a JSON array with one object per rule, in rule order:
 *   {"rule":12,"kind":"keyword","matched":true,"captures":["群馬、箕郷"],
 *    "unknown":[],"values":["gunma","misato"],"us":12}
 * "us" is the rule's time in microseconds (an integer: jansson would print a
 * real with 17 digits into the stored trace).  strip adds "removed" (the
 * number of non-empty matches), keyword "captures" (each cut to
 * RULES_TRACE_CAPTURE_BYTES), "unknown", "values" and "everyone" when a
 * keyword meant everyone, fallback "action" (and "matched" when it was
 * used); "error" and "slow" (at least RULES_SLOW_MS) appear only when set,
 * "disabled" only for a disabled rule, which has no time.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "rules.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "str.h"
#include "utf8.h"

/*
 * Limits.  Patterns are written by staff, and a pattern such as (a+)+$ is
 * exponential on a long run of a's: without these one alert would stall
 * ingest for minutes (and every alert after it).
 *
 * RULES_MATCH_LIMIT: backtracking steps per pcre2_match() call.  (a+)+$ on
 *   5000 a's gives up after about 2 ms with JIT, about 12 ms without, while
 *   the demo's patterns need a few hundred steps on a 1 MiB body.
 * RULES_DEPTH_LIMIT / RULES_HEAP_LIMIT_KIB: nested backtracking of the
 *   interpreter (used when JIT is unavailable), which keeps its frames on the
 *   heap: bounds memory per match to 20 MiB.
 * RULES_JIT_STACK_MAX: the JIT's own stack, allocated per call of
 *   rules_apply(); deep patterns fail with an error past 1 MiB.
 * RULES_MAX_PATTERN: as mail_rules.pattern's CHECK; a huge pattern is
 *   itself a compile-time bomb.
 * RULES_MAX_KEYWORD_MATCHES: matches of one keyword rule; a pattern like (.)
 *   would otherwise turn a 1 MiB body into a million-value target.
 * RULES_TRACE_CAPTURE_BYTES: each capture kept in the trace (it is stored
 *   with the mail and logged), cut at a character boundary.
 */
#define RULES_MATCH_LIMIT	  1000000u
#define RULES_DEPTH_LIMIT	  10000u
#define RULES_HEAP_LIMIT_KIB	  20480u
#define RULES_JIT_STACK_START	  (32u * 1024u)
#define RULES_JIT_STACK_MAX	  (1024u * 1024u)
#define RULES_MAX_PATTERN	  4096u
#define RULES_MAX_KEYWORD_MATCHES 100u
#define RULES_TRACE_CAPTURE_BYTES 200u
#define RULES_SLOW_MS		  50.0

/* Errors of our own, beside PCRE2's (which are small negative numbers). */
#define RX_TOO_MANY (-10001)
#define RX_BAD_K    (-10002)
#define RX_NOMEM    (-10003)

struct kw_value {
	char *keyword; /* normalised as captures are */
	char *value_key;
	bool everyone;
};

struct rule {
	long long id;
	enum rule_kind kind;
	bool enabled;
	enum rule_part part;
	pcre2_code *re;
	bool whole_match; /* keyword pattern without groups: use the whole match */
	char *text;
	enum rule_placement placement;
	char *item_key;
	struct kw_value *values;
	size_t nvalues;
	enum rule_fallback fallback;
	char *fallback_target;
};

struct rule_set {
	struct rule *rules;
	size_t n;
	uint32_t ovec_pairs;		    /* largest capture count + 1 */
	pcre2_match_context *mctx_template; /* the limits; copied per call */
};

/* --- small helpers --- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool nomem;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	size_t need, cap;
	char *np;

	if (b->nomem)
		return;
	if (n > SIZE_MAX - b->len - 1) {
		b->nomem = true;
		return;
	}
	need = b->len + n + 1;
	if (need > b->cap) {
		cap = b->cap != 0 ? b->cap : 64;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->nomem = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* The buffer's string (never NULL unless out of memory); the caller owns it. */
static char *sb_take(struct sbuf *b, size_t *len)
{
	char *p;

	sb_add(b, "", 0);
	if (b->nomem) {
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	p = b->p;
	if (len != NULL)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static char *dup_or_null(const char *s, bool *nomem)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*nomem = true;
	return d;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	uint32_t cp;

	while (n > 0) {
		k = utf8_decode(p, n, &cp);
		if (k == 0)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

/* A copy of s with every invalid byte replaced by U+FFFD. */
static char *utf8_sanitize(const char *s, size_t *outlen)
{
	struct sbuf b = {0};
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	uint32_t cp;

	while (n > 0) {
		k = utf8_decode(p, n, &cp);
		if (k == 0) {
			sb_add(&b, "\xef\xbf\xbd", 3);
			k = 1;
		} else {
			sb_add(&b, (const char *)p, k);
		}
		p += k;
		n -= k;
	}
	return sb_take(&b, outlen);
}

/* Keyword normalisation (see the top of the file); s is valid UTF-8. */
static char *kw_normalize(const char *s, size_t n)
{
	struct sbuf b = {0};
	const unsigned char *p = (const unsigned char *)s;
	size_t k, start, end;
	uint32_t cp;
	char c;
	char *out;

	while (n > 0) {
		k = utf8_decode(p, n, &cp);
		if (k == 0)
			k = 1; /* cannot happen: the input was sanitised */
		if (cp == 0x3000) {
			sb_add(&b, " ", 1);
		} else if (cp >= 0xff01 && cp <= 0xff5e) {
			c = (char)(cp - 0xfee0);
			sb_add(&b, &c, 1);
		} else {
			sb_add(&b, (const char *)p, k);
		}
		p += k;
		n -= k;
	}
	out = sb_take(&b, &n);
	if (out == NULL)
		return NULL;
	start = 0;
	end = n;
	while (start < end && strchr(" \t\r\n", out[start]) != NULL)
		start++;
	while (end > start && strchr(" \t\r\n", out[end - 1]) != NULL)
		end--;
	memmove(out, out + start, end - start);
	out[end - start] = '\0';
	return out;
}

const char *rules_kind_name(enum rule_kind k)
{
	switch (k) {
	case RULE_STRIP:
		return "strip";
	case RULE_APPEND:
		return "append";
	case RULE_KEYWORD:
		return "keyword";
	case RULE_SENDER_ALLOW:
		return "sender_allow";
	case RULE_FALLBACK:
		return "fallback";
	}
	return "unknown";
}

const char *rules_fallback_name(enum rule_fallback f)
{
	switch (f) {
	case FALLBACK_EVERYONE:
		return "everyone";
	case FALLBACK_SEGMENT:
		return "segment";
	case FALLBACK_HOLD:
		return "hold";
	}
	return "unknown";
}

const char *rules_action_name(enum rules_action a)
{
	switch (a) {
	case RULES_SEND:
		return "send";
	case RULES_HOLD:
		return "hold";
	case RULES_REFUSE:
		return "refuse";
	}
	return "unknown";
}

static void match_error_text(int rc, char *buf, size_t size)
{
	PCRE2_UCHAR msg[256];

	switch (rc) {
	case RX_TOO_MANY:
		str_msg(buf, size, "more than %u matches", RULES_MAX_KEYWORD_MATCHES);
		return;
	case RX_BAD_K:
		str_msg(buf, size, "\\K made a match end before it starts");
		return;
	case RX_NOMEM:
		str_msg(buf, size, "out of memory");
		return;
	}
	if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
		str_msg(buf, size, "PCRE2 error %d", rc);
	else
		str_msg(buf, size, "%s", (const char *)msg);
}

/* --- compiling --- */

static pcre2_code *compile_pattern(const char *pattern, uint32_t extra, char *err, size_t errlen)
{
	pcre2_compile_context *cc = NULL;
	pcre2_code *re = NULL;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off = 0;
	int code = 0;

	if (pattern == NULL || pattern[0] == '\0') {
		str_msg(err, errlen, "pattern error at offset 0: empty pattern");
		return NULL;
	}
	cc = pcre2_compile_context_create(NULL);
	if (cc == NULL) {
		str_msg(err, errlen, "out of memory");
		return NULL;
	}
	pcre2_set_max_pattern_length(cc, RULES_MAX_PATTERN);
	/* UCP so that \w, \d and \s know Japanese; no \C, which could match
	 * half a character and make strip leave invalid UTF-8 behind. */
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			   PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C | extra, &code, &off,
			   cc);
	pcre2_compile_context_free(cc);
	if (re == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			str_msg(err, errlen, "pattern error at offset %zu: PCRE2 error %d",
				(size_t)off, code);
		else
			str_msg(err, errlen, "pattern error at offset %zu: %s", (size_t)off,
				(const char *)msg);
	}
	return re;
}

bool rules_check_pattern(const char *pattern, char *err, size_t errlen)
{
	pcre2_code *re = compile_pattern(pattern, 0, err, errlen);

	if (re == NULL)
		return false;
	pcre2_code_free(re);
	return true;
}

static void rule_clear(struct rule *r)
{
	size_t i;

	pcre2_code_free(r->re);
	free(r->text);
	free(r->item_key);
	for (i = 0; i < r->nvalues; i++) {
		free(r->values[i].keyword);
		free(r->values[i].value_key);
	}
	free(r->values);
	free(r->fallback_target);
}

void rules_free(struct rule_set *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		rule_clear(&rs->rules[i]);
	free(rs->rules);
	pcre2_match_context_free(rs->mctx_template);
	free(rs);
}

/* Copy and check one definition into r; false with err (without the
 * "rule N" prefix) when it is unusable. */
static bool rule_load(struct rule *r, const struct rule_def *d, uint32_t *ovec_pairs, char *err,
		      size_t errlen)
{
	bool nomem = false;
	uint32_t groups = 0, extra = 0;
	size_t i;

	r->id = d->id;
	r->kind = d->kind;
	r->enabled = d->enabled;
	r->part = d->part;
	r->placement = d->placement;
	r->fallback = d->fallback;
	if (!d->enabled)
		return true;
	/* The database's CHECKs hold these; a test table or a future store
	 * might not, and part indexes an array. */
	if ((d->kind == RULE_STRIP || d->kind == RULE_APPEND || d->kind == RULE_KEYWORD) &&
	    d->part != RULE_PART_SUBJECT && d->part != RULE_PART_BODY) {
		str_msg(err, errlen, "unknown part %d", (int)d->part);
		return false;
	}
	if ((d->kind == RULE_APPEND && d->placement != RULE_HEAD && d->placement != RULE_TAIL) ||
	    (d->kind == RULE_FALLBACK && d->fallback != FALLBACK_EVERYONE &&
	     d->fallback != FALLBACK_SEGMENT && d->fallback != FALLBACK_HOLD)) {
		str_msg(err, errlen, "unknown placement or fallback action");
		return false;
	}

	switch (d->kind) {
	case RULE_STRIP:
	case RULE_KEYWORD:
	case RULE_SENDER_ALLOW:
		if (d->kind == RULE_SENDER_ALLOW)
			extra = PCRE2_CASELESS | PCRE2_ANCHORED | PCRE2_ENDANCHORED;
		r->re = compile_pattern(d->pattern, extra, err, errlen);
		if (r->re == NULL)
			return false;
		/* JIT is an optimisation: without it the interpreter runs under
		 * the same limits (see RULES_DEPTH_LIMIT). */
		(void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
		if (pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &groups) != 0)
			groups = 0;
		r->whole_match = groups == 0;
		if (groups + 1 > *ovec_pairs)
			*ovec_pairs = groups + 1;
		break;
	case RULE_APPEND:
		if (d->text == NULL || !utf8_valid(d->text)) {
			str_msg(err, errlen, "append text missing or not UTF-8");
			return false;
		}
		r->text = dup_or_null(d->text, &nomem);
		break;
	case RULE_FALLBACK:
		if (d->fallback == FALLBACK_SEGMENT && d->fallback_target == NULL) {
			str_msg(err, errlen, "fallback segment without a target");
			return false;
		}
		r->fallback_target = dup_or_null(d->fallback_target, &nomem);
		break;
	default:
		str_msg(err, errlen, "unknown rule kind %d", (int)d->kind);
		return false;
	}
	if (d->kind == RULE_KEYWORD) {
		if (d->item_key == NULL || d->item_key[0] == '\0') {
			str_msg(err, errlen, "keyword rule without a segment item");
			return false;
		}
		r->item_key = dup_or_null(d->item_key, &nomem);
		if (d->nvalues > 0) {
			r->values = calloc(d->nvalues, sizeof(*r->values));
			if (r->values == NULL)
				goto nomem;
		}
		for (i = 0; i < d->nvalues; i++) {
			const struct rule_value *v = &d->values[i];

			if (v->keyword == NULL || !utf8_valid(v->keyword) ||
			    (!v->everyone && v->value_key == NULL)) {
				str_msg(err, errlen, "keyword value %zu incomplete", i + 1);
				return false;
			}
			r->values[i].keyword = kw_normalize(v->keyword, strlen(v->keyword));
			if (r->values[i].keyword == NULL)
				goto nomem;
			r->values[i].everyone = v->everyone;
			r->values[i].value_key =
				v->everyone ? NULL : dup_or_null(v->value_key, &nomem);
			r->nvalues = i + 1;
		}
	}
	if (!nomem)
		return true;
nomem:
	str_msg(err, errlen, "out of memory");
	return false;
}

struct rule_set *rules_compile(const struct rule_def *defs, size_t n, char *err, size_t errlen)
{
	struct rule_set *rs = NULL;
	char why[300];
	size_t i;

	if (errlen > 0)
		err[0] = '\0';
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		goto nomem;
	rs->ovec_pairs = 1;
	if (n > 0) {
		rs->rules = calloc(n, sizeof(*rs->rules));
		if (rs->rules == NULL)
			goto nomem;
	}
	rs->mctx_template = pcre2_match_context_create(NULL);
	if (rs->mctx_template == NULL)
		goto nomem;
	pcre2_set_match_limit(rs->mctx_template, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx_template, RULES_DEPTH_LIMIT);
	pcre2_set_heap_limit(rs->mctx_template, RULES_HEAP_LIMIT_KIB);

	for (i = 0; i < n; i++) {
		rs->n = i + 1; /* so that rules_free() frees what rule_load() took */
		if (!rule_load(&rs->rules[i], &defs[i], &rs->ovec_pairs, why, sizeof(why))) {
			str_msg(err, errlen, "rule %lld (%s): %s", defs[i].id,
				defs[i].name != NULL ? defs[i].name : "", why);
			goto fail;
		}
	}
	return rs;

nomem:
	str_msg(err, errlen, "out of memory");
fail:
	rules_free(rs);
	return NULL;
}

/* --- applying --- */

/* One item's clause of the target being built. */
struct clause {
	const char *item;
	bool everyone;
	json_t *values; /* array of value keys, in first-seen order */
};

struct run {
	const struct rule_set *rs;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	char *part[2]; /* indexed by enum rule_part */
	size_t len[2];
	struct clause *clauses;
	size_t nclauses;
	bool keyword_matched;
	bool have_sender_rule;
	bool sender_ok;
	const struct rule *fallback;
	json_t *fallback_entry;
};

typedef int (*match_fn)(void *arg, const char *s, const PCRE2_SIZE *ov, int rc);

/*
 * Call fn for every match of r in s, as Perl's //g does: after an empty
 * match the next attempt may not be empty at the same place.  0 when done,
 * else a negative error (PCRE2's or RX_*).
 */
static int each_match(struct run *run, const struct rule *r, const char *s, size_t len, size_t max,
		      match_fn fn, void *arg, size_t *count)
{
	uint32_t opts = PCRE2_NO_UTF_CHECK;
	PCRE2_SIZE start = 0;
	const PCRE2_SIZE *ov;
	int rc;

	*count = 0;
	while (start <= len) {
		rc = pcre2_match(r->re, (PCRE2_SPTR)s, len, start, opts, run->md, run->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0)
			return rc;
		ov = pcre2_get_ovector_pointer(run->md);
		/* \K inside a lookaround can put the start after the end or
	 * before where we searched from; copying would then misbehave. */
		if (ov[1] < ov[0] || ov[0] < start)
			return RX_BAD_K;
		if (*count >= max)
			return RX_TOO_MANY;
		(*count)++;
		if (fn(arg, s, ov, rc) != 0)
			return RX_NOMEM;
		opts = PCRE2_NO_UTF_CHECK | (ov[0] == ov[1] ? PCRE2_NOTEMPTY_ATSTART : 0);
		start = ov[1];
	}
	return 0;
}

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int set_error(json_t *entry, int rc)
{
	char msg[300];

	match_error_text(rc, msg, sizeof(msg));
	return json_object_set_new(entry, "error", json_string(msg));
}

/* --- strip --- */

struct strip_arg {
	struct sbuf out;
	size_t last;
	size_t removed; /* non-empty matches */
};

static int strip_cb(void *arg, const char *s, const PCRE2_SIZE *ov, int rc)
{
	struct strip_arg *a = arg;

	(void)rc;
	if (ov[0] == ov[1])
		return 0; /* an empty match removes nothing */
	sb_add(&a->out, s + a->last, ov[0] - a->last);
	a->last = ov[1];
	a->removed++;
	return a->out.nomem ? -1 : 0;
}

static int do_strip(struct run *run, const struct rule *r, json_t *entry)
{
	struct strip_arg a = {{0}, 0, 0};
	char *s = run->part[r->part];
	size_t len = run->len[r->part], count = 0, newlen = 0;
	char *out;
	int rc;

	rc = each_match(run, r, s, len, SIZE_MAX, strip_cb, &a, &count);
	if (rc == RX_NOMEM)
		goto nomem;
	if (rc < 0) {
		/* Not matched: the part stays as it was, half a strip is worse. */
		free(a.out.p);
		if (set_error(entry, rc) != 0 ||
		    json_object_set_new(entry, "removed", json_integer(0)) != 0)
			return -1;
		return 0;
	}
	if (json_object_set_new(entry, "removed", json_integer((json_int_t)a.removed)) != 0 ||
	    json_object_set_new(entry, "matched", json_boolean(a.removed > 0)) != 0)
		goto nomem;
	if (a.removed == 0) {
		free(a.out.p);
		return 0;
	}
	sb_add(&a.out, s + a.last, len - a.last);
	out = sb_take(&a.out, &newlen);
	if (out == NULL)
		return -1;
	free(run->part[r->part]);
	run->part[r->part] = out;
	run->len[r->part] = newlen;
	return 0;
nomem:
	free(a.out.p);
	return -1;
}

/* --- append --- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int do_append(struct run *run, const struct rule *r, json_t *entry)
{
	const char *sep = r->part == RULE_PART_BODY ? "\n\n" : "";
	const char *s = run->part[r->part];
	size_t len = run->len[r->part], start = 0, newlen = 0;
	struct sbuf b = {0};
	char *out;

	if (r->placement == RULE_TAIL) {
		while (len > 0 && r->part == RULE_PART_BODY && is_blank(s[len - 1]))
			len--;
		sb_add(&b, s, len);
		if (len > 0)
			sb_add(&b, sep, strlen(sep));
		sb_add(&b, r->text, strlen(r->text));
	} else {
		while (start < len && r->part == RULE_PART_BODY && is_blank(s[start]))
			start++;
		sb_add(&b, r->text, strlen(r->text));
		if (start < len)
			sb_add(&b, sep, strlen(sep));
		sb_add(&b, s + start, len - start);
	}
	out = sb_take(&b, &newlen);
	if (out == NULL)
		return -1;
	free(run->part[r->part]);
	run->part[r->part] = out;
	run->len[r->part] = newlen;
	return json_object_set_new(entry, "matched", json_true());
}

/* --- keyword --- */

struct capture_arg {
	json_t *caps;
	bool whole; /* the pattern has no groups: the whole match is the keyword */
};

static int capture_cb(void *arg, const char *s, const PCRE2_SIZE *ov, int rc)
{
	struct capture_arg *a = arg;

	if (a->whole)
		return json_array_append_new(a->caps, json_stringn(s + ov[0], ov[1] - ov[0]));
	/* Group 1 may not take part in a match (an alternative without it):
	 * that match gives no keyword.  rc counts the groups that were set. */
	if (rc < 2 || ov[2] == PCRE2_UNSET)
		return 0;
	return json_array_append_new(a->caps, json_stringn(s + ov[2], ov[3] - ov[2]));
}

static struct clause *clause_for(struct run *run, const char *item)
{
	size_t i;

	for (i = 0; i < run->nclauses; i++)
		if (strcmp(run->clauses[i].item, item) == 0)
			return &run->clauses[i];
	/* run->clauses has room for one clause per rule */
	run->clauses[run->nclauses].item = item;
	run->clauses[run->nclauses].everyone = false;
	run->clauses[run->nclauses].values = json_array();
	if (run->clauses[run->nclauses].values == NULL)
		return NULL;
	return &run->clauses[run->nclauses++];
}

static bool array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

static int add_unique(json_t *arr, const char *s)
{
	if (array_has(arr, s))
		return 0;
	return json_array_append_new(arr, json_string(s));
}

/* Length of s's longest prefix of at most max bytes that ends on a
 * character boundary (s is valid UTF-8). */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* Length of the keyword separator at s (n bytes left), or 0. */
static size_t separator_at(const char *s, size_t n)
{
	static const char *const seps[] = {"\xe3\x80\x81" /* 、 */, "\xef\xbc\x8c" /* ， */,
					   "\xe3\x83\xbb" /* ・ */, ","};
	size_t i, k;

	for (i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		k = strlen(seps[i]);
		if (k <= n && memcmp(s, seps[i], k) == 0)
			return k;
	}
	return 0;
}

/* Look one keyword (a piece of a capture) up and record what it gives. */
static int lookup_keyword(struct run *run, const struct rule *r, const char *piece, size_t n,
			  json_t *entry, json_t *values, bool *mapped, struct clause **cl)
{
	char *kw = kw_normalize(piece, n);
	bool found = false;
	size_t i;
	int rc = -1;

	if (kw == NULL)
		return -1;
	if (kw[0] == '\0') {
		free(kw);
		return 0;
	}
	for (i = 0; i < r->nvalues; i++) {
		const struct kw_value *v = &r->values[i];

		if (strcmp(v->keyword, kw) != 0)
			continue;
		found = true;
		if (*cl == NULL && (*cl = clause_for(run, r->item_key)) == NULL)
			goto out;
		if (v->everyone) {
			(*cl)->everyone = true;
			if (json_object_set_new(entry, "everyone", json_true()) != 0)
				goto out;
		} else if (add_unique((*cl)->values, v->value_key) != 0 ||
			   add_unique(values, v->value_key) != 0) {
			goto out;
		}
	}
	if (found) {
		*mapped = true;
	} else {
		/* Cut like the captures: the trace is stored and logged. */
		kw[utf8_prefix(kw, strlen(kw), RULES_TRACE_CAPTURE_BYTES)] = '\0';
		if (add_unique(json_object_get(entry, "unknown"), kw) != 0)
			goto out;
	}
	rc = 0;
out:
	free(kw);
	return rc;
}

static int do_keyword(struct run *run, const struct rule *r, json_t *entry)
{
	json_t *caps = json_array(), *trace_caps = json_array(), *unknown = json_array();
	json_t *values = json_array(), *cap;
	struct capture_arg ca = {caps, r->whole_match};
	struct clause *cl = NULL;
	const char *s, *piece;
	bool mapped = false;
	size_t count = 0, i, n, k, len;
	int rc, ret = -1;

	if (caps == NULL || trace_caps == NULL || unknown == NULL || values == NULL)
		goto out;
	if (json_object_set(entry, "captures", trace_caps) != 0 ||
	    json_object_set(entry, "unknown", unknown) != 0 ||
	    json_object_set(entry, "values", values) != 0)
		goto out;
	rc = each_match(run, r, run->part[r->part], run->len[r->part], RULES_MAX_KEYWORD_MATCHES,
			capture_cb, &ca, &count);
	if (rc == RX_NOMEM)
		goto out;
	if (rc < 0) {
		/* Not matched, whatever the matches before the error said. */
		ret = set_error(entry, rc);
		goto out;
	}
	json_array_foreach(caps, i, cap)
	{
		s = json_string_value(cap);
		len = json_string_length(cap);
		if (json_array_append_new(
			    trace_caps,
			    json_stringn(s, utf8_prefix(s, len, RULES_TRACE_CAPTURE_BYTES))) != 0)
			goto out;
		piece = s;
		n = 0;
		while (n <= len) {
			k = n < len ? separator_at(s + n, len - n) : 0;
			if (n < len && k == 0) {
				n++;
				continue;
			}
			if (lookup_keyword(run, r, piece, (size_t)(s + n - piece), entry, values,
					   &mapped, &cl) != 0)
				goto out;
			if (n == len)
				break;
			n += k;
			piece = s + n;
		}
	}
	if (mapped)
		run->keyword_matched = true;
	ret = json_object_set_new(entry, "matched", json_boolean(mapped));
out:
	json_decref(caps);
	json_decref(trace_caps);
	json_decref(unknown);
	json_decref(values);
	return ret;
}

/* --- sender_allow --- */

/* 1 matched, 0 not, or a negative error. */
static int sender_matches(struct run *run, const struct rule *r, const char *addr)
{
	int rc;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	/* No PCRE2_NO_UTF_CHECK: the envelope sender was not sanitised. */
	rc = pcre2_match(r->re, (PCRE2_SPTR)addr, strlen(addr), 0, 0, run->md, run->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return rc < 0 ? rc : 1;
}

static int do_sender(struct run *run, const struct rule *r, const char *envelope_from,
		     const char *header_from, json_t *entry)
{
	int m;

	(void)header_from; /* deliberately not trusted: see the top of the file */
	run->have_sender_rule = true;
	m = sender_matches(run, r, envelope_from);
	if (m < 0)
		return set_error(entry, m);
	if (m == 1)
		run->sender_ok = true;
	return json_object_set_new(entry, "matched", json_boolean(m == 1));
}

/* --- the text --- */

/* Subject and body joined as described at the top of the file. */
static char *build_text(const char *subject, const char *body)
{
	struct sbuf b = {0};
	size_t len, i, blanks = 0, line_end;
	const char *p;
	char *joined, *out;

	sb_add(&b, subject, strlen(subject));
	while (b.len > 0 && is_blank(b.p[b.len - 1]))
		b.len--;
	if (b.len > 0)
		sb_add(&b, "\n\n", 2);
	sb_add(&b, body, strlen(body));
	joined = sb_take(&b, &len);
	if (joined == NULL)
		return NULL;

	/* Line by line: drop trailing blanks, keep at most one empty line in a
	 * row, and none at the start or the end. */
	p = joined;
	while (is_blank(*p))
		p++;
	while (*p != '\0') {
		line_end = strcspn(p, "\n");
		i = line_end;
		while (i > 0 && (p[i - 1] == ' ' || p[i - 1] == '\t' || p[i - 1] == '\r'))
			i--;
		if (i == 0) {
			blanks++;
		} else {
			if (b.len > 0)
				sb_add(&b, blanks > 0 ? "\n\n" : "\n", blanks > 0 ? 2 : 1);
			sb_add(&b, p, i);
			blanks = 0;
		}
		p += line_end;
		if (*p == '\n')
			p++;
	}
	free(joined);
	out = sb_take(&b, NULL);
	return out;
}

/* --- the result --- */

static json_t *build_target(struct run *run)
{
	json_t *all = json_array(), *clause;
	size_t i;

	if (all == NULL)
		return NULL;
	for (i = 0; i < run->nclauses; i++) {
		if (run->clauses[i].everyone)
			continue;
		clause = json_pack("{s:s, s:O}", "item", run->clauses[i].item, "any",
				   run->clauses[i].values);
		if (clause == NULL || json_array_append_new(all, clause) != 0) {
			json_decref(all);
			return NULL;
		}
	}
	return json_pack("{s:o}", "all", all);
}

/* Decide action, target and reason.  -1 only when out of memory. */
static int decide(struct run *run, const char *envelope_from, struct rules_result *res)
{
	json_t *target = NULL;
	json_error_t jerr;
	char *sender;

	if (run->have_sender_rule && !run->sender_ok) {
		/* The reason is stored and shown: the sender, which nothing
		 * has checked, is made valid UTF-8 first. */
		sender = utf8_sanitize(
			envelope_from != NULL && envelope_from[0] != '\0' ? envelope_from : "<>",
			NULL);
		if (sender == NULL)
			return -1;
		res->action = RULES_REFUSE;
		res->reason = str_dup_printf("送信元 %s は許可された差出人ではないため配信しません",
					     sender);
		free(sender);
		return res->reason != NULL ? 0 : -1;
	}
	if (res->text[0] == '\0') {
		res->action = RULES_HOLD;
		res->reason = strdup("配信する本文が空のため承認待ちにしました");
		return res->reason != NULL ? 0 : -1;
	}
	if (run->keyword_matched) {
		res->action = RULES_SEND;
		target = build_target(run);
		if (target == NULL)
			return -1;
		if (json_array_size(json_object_get(target, "all")) == 0)
			json_decref(target); /* every matched item said everyone */
		else
			res->target = target;
		return 0;
	}
	if (run->fallback == NULL) {
		res->action = RULES_HOLD;
		res->reason =
			strdup("キーワードが見つからず、フォールバックの規則もないため承認待ちに"
			       "しました");
		return res->reason != NULL ? 0 : -1;
	}
	if (json_object_set_new(run->fallback_entry, "matched", json_true()) != 0)
		return -1;
	switch (run->fallback->fallback) {
	case FALLBACK_EVERYONE:
		res->action = RULES_SEND;
		return 0;
	case FALLBACK_SEGMENT:
		target = json_loads(run->fallback->fallback_target, JSON_REJECT_DUPLICATES, &jerr);
		if (target != NULL && json_is_object(target)) {
			res->action = RULES_SEND;
			res->target = target;
			return 0;
		}
		res->action = RULES_HOLD;
		res->reason =
			target != NULL
				? strdup("フォールバックの配信先がJSONオブジェクトでないため承認"
					 "待ちにしました")
				: str_dup_printf("フォールバックの配信先のJSONが不正なため承"
						 "認待ちにしました（%d行%d列: %s）",
						 jerr.line, jerr.column, jerr.text);
		json_decref(target);
		return res->reason != NULL ? 0 : -1;
	case FALLBACK_HOLD:
		break;
	}
	res->action = RULES_HOLD;
	res->reason = strdup("キーワードが見つからないため承認待ちにしました");
	return res->reason != NULL ? 0 : -1;
}

void rules_result_free(struct rules_result *r)
{
	if (r == NULL)
		return;
	free(r->text);
	json_decref(r->target);
	free(r->reason);
	json_decref(r->trace);
	free(r);
}

static int apply_rule(struct run *run, const struct rule *r, const char *envelope_from,
		      const char *header_from, json_t *trace)
{
	json_t *entry;
	struct timespec t0;
	double ms;
	int rc = 0;

	entry = json_pack("{s:I, s:s, s:b}", "rule", (json_int_t)r->id, "kind",
			  rules_kind_name(r->kind), "matched", 0);
	if (entry == NULL)
		return -1;
	if (json_array_append_new(trace, entry) != 0)
		return -1;
	if (!r->enabled)
		return json_object_set_new(entry, "disabled", json_true());

	clock_gettime(CLOCK_MONOTONIC, &t0);
	switch (r->kind) {
	case RULE_STRIP:
		rc = do_strip(run, r, entry);
		break;
	case RULE_APPEND:
		rc = do_append(run, r, entry);
		break;
	case RULE_KEYWORD:
		rc = do_keyword(run, r, entry);
		break;
	case RULE_SENDER_ALLOW:
		rc = do_sender(run, r, envelope_from, header_from, entry);
		break;
	case RULE_FALLBACK:
		if (run->fallback == NULL) {
			run->fallback = r;
			run->fallback_entry = entry;
		}
		rc = json_object_set_new(entry, "action",
					 json_string(rules_fallback_name(r->fallback)));
		break;
	}
	if (rc != 0)
		return -1;
	ms = elapsed_ms(&t0);
	if (json_object_set_new(entry, "us", json_integer((json_int_t)(ms * 1000.0 + 0.5))) != 0)
		return -1;
	if (ms >= RULES_SLOW_MS && json_object_set_new(entry, "slow", json_true()) != 0)
		return -1;
	return 0;
}

enum hl_status rules_apply(const struct rule_set *rs, const struct mail_alert *alert,
			   const char *envelope_from, struct rules_result **out)
{
	struct rules_result *res = NULL;
	struct run run;
	size_t i;

	*out = NULL;
	memset(&run, 0, sizeof(run));
	run.rs = rs;
	res = calloc(1, sizeof(*res));
	if (res == NULL)
		goto fail;
	res->trace = json_array();
	run.md = pcre2_match_data_create(rs->ovec_pairs, NULL);
	run.mctx = pcre2_match_context_copy(rs->mctx_template);
	run.jit_stack = pcre2_jit_stack_create(RULES_JIT_STACK_START, RULES_JIT_STACK_MAX, NULL);
	run.part[RULE_PART_SUBJECT] =
		utf8_sanitize(alert->subject != NULL ? alert->subject : "", &run.len[0]);
	run.part[RULE_PART_BODY] =
		utf8_sanitize(alert->body != NULL ? alert->body : "", &run.len[1]);
	if (rs->n > 0)
		run.clauses = calloc(rs->n, sizeof(*run.clauses));
	if (res->trace == NULL || run.md == NULL || run.mctx == NULL || run.part[0] == NULL ||
	    run.part[1] == NULL || (rs->n > 0 && run.clauses == NULL))
		goto fail;
	/* NULL when this PCRE2 has no JIT: the interpreter needs none. */
	if (run.jit_stack != NULL)
		pcre2_jit_stack_assign(run.mctx, NULL, run.jit_stack);

	for (i = 0; i < rs->n; i++)
		if (apply_rule(&run, &rs->rules[i], envelope_from, alert->header_from,
			       res->trace) != 0)
			goto fail;

	res->text = build_text(run.part[RULE_PART_SUBJECT], run.part[RULE_PART_BODY]);
	if (res->text == NULL || decide(&run, envelope_from, res) != 0)
		goto fail;
	*out = res;
	res = NULL;
fail:
	rules_result_free(res);
	for (i = 0; i < run.nclauses; i++)
		json_decref(run.clauses[i].values);
	free(run.clauses);
	free(run.part[0]);
	free(run.part[1]);
	pcre2_jit_stack_free(run.jit_stack);
	pcre2_match_context_free(run.mctx);
	pcre2_match_data_free(run.md);
	return *out != NULL ? HL_OK : HL_TEMPFAIL;
}
