/*
 * rules — the staff-edited mail rules: strip, append, keyword → segment,
 * sender allowlist and fallback, compiled once and applied to each alert.
 *
 * PCRE2 in UTF mode with JIT, with match and depth limits so that a
 * catastrophic pattern cannot stall ingest (a slow rule is reported in the
 * trace).  No I/O: the rule definitions come from store_rules (the
 * database) or a test table, and the result is plain data the caller turns
 * into a delivery.
 *
 * The semantics (order, how keywords are split and combined into a target,
 * the sender allowlist matching the whole address, the default of holding
 * when nothing classifies an alert, the trace's fields) are described at the
 * top of rules.c.
 *
 * Ownership: rules_compile() copies what it needs from the definitions; a
 * rule_set is immutable and may be shared by threads.  A rules_result is
 * owned by the caller and freed with rules_result_free().
 */
#ifndef HL_RULES_H
#define HL_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "mail.h"

enum rule_kind {
	RULE_STRIP,	   /* remove every match of pattern from part */
	RULE_APPEND,	   /* add text at the head or tail of part */
	RULE_KEYWORD,	   /* pattern's first capture, per match, → segment values */
	RULE_SENDER_ALLOW, /* pattern matched against the envelope sender */
	RULE_FALLBACK,	   /* what to do when no keyword rule matched */
};

enum rule_part { RULE_PART_SUBJECT, RULE_PART_BODY };
enum rule_placement { RULE_HEAD, RULE_TAIL };
enum rule_fallback { FALLBACK_EVERYONE, FALLBACK_SEGMENT, FALLBACK_HOLD };

/* One keyword → value mapping of a keyword rule (mail_rule_values). */
struct rule_value {
	const char *keyword;   /* the captured text, compared after trimming */
	const char *value_key; /* segment value key, or NULL when everyone */
	bool everyone;	       /* e.g. 全域 */
};

/* One rule as stored (mail_rules), already validated by the database. */
struct rule_def {
	long long id;
	enum rule_kind kind;
	bool enabled;
	const char *name;
	enum rule_part part;
	const char *pattern;		 /* strip, keyword, sender_allow */
	const char *text;		 /* append */
	enum rule_placement placement;	 /* append */
	const char *item_key;		 /* keyword: the segment item, e.g. "region" */
	const struct rule_value *values; /* keyword */
	size_t nvalues;
	enum rule_fallback fallback; /* fallback */
	const char *fallback_target; /* fallback segment: target filter JSON text */
};

struct rule_set;

/* Compile defs (in position order).  NULL with err naming the rule and
 * PCRE2's message and offset, e.g.
 * "rule 12 (地区): pattern error at offset 5: missing closing parenthesis". */
struct rule_set *rules_compile(const struct rule_def *defs, size_t n, char *err, size_t errlen);
void rules_free(struct rule_set *rs);

/* Check one pattern as the admin UI does on save; same message format. */
bool rules_check_pattern(const char *pattern, char *err, size_t errlen);

enum rules_action {
	RULES_SEND,   /* queue a delivery with text and target */
	RULES_HOLD,   /* queue it held for staff approval */
	RULES_REFUSE, /* the sender is not allowed: do not queue */
};

struct rules_result {
	enum rules_action action;
	char *text;	/* the LINE text after the rules; never NULL */
	json_t *target; /* target filter ({"all":[…]}), or NULL for everyone */
	char *reason;	/* why HOLD or REFUSE, Japanese; NULL for SEND */
	json_t *trace;	/* per rule: matched or not, captures, time (for the log) */
};

/* Apply rs to alert; envelope_from is the SMTP sender.  HL_OK with *out
 * set, HL_TEMPFAIL only when out of memory. */
enum hl_status rules_apply(const struct rule_set *rs, const struct mail_alert *alert,
			   const char *envelope_from, struct rules_result **out);

void rules_result_free(struct rules_result *r);

/* "send", "hold" or "refuse", for logs and `hotlinectl rules test`. */
const char *rules_action_name(enum rules_action a);

/* The names of a kind and a fallback as the database and the API spell
 * them (mail_rules.kind, mail_rules.fallback): "strip", "keyword"...,
 * "everyone", "segment", "hold". */
const char *rules_kind_name(enum rule_kind k);
const char *rules_fallback_name(enum rule_fallback f);

#endif
