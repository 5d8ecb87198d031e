/*
 * store_prefs — a resident's 受信設定 (segment choices) in PostgreSQL, for
 * the resident-facing page of hotline-webhook.
 *
 * store_prefs_load() reads, in one read-only snapshot, every current
 * segment item with its current values (ordered by position, then id;
 * retired ones left out; no upper bound on their number) together with
 * what the resident chose and the dates they entered.  store_prefs_save()
 * replaces the resident's choices and dates of the current items in one
 * transaction and stamps settings_saved_at.  Validation against the item
 * list is the caller's (webhook/liff.c); the database's own constraints
 * (one value per single item, no retired value, dates from 1900) catch a
 * staff edit that raced with the resident's save, as HL_PERMFAIL.
 *
 * Ownership: struct prefs and everything in it belong to the caller and are
 * freed with prefs_free().  Errors: HL_TEMPFAIL when the database cannot be
 * reached (try later), HL_PERMFAIL for a refused statement; db_error() says
 * which.  Runs as hotline_webhook (0008_grants.sql).
 */
#ifndef HL_STORE_PREFS_H
#define HL_STORE_PREFS_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "status.h"

/* "YYYY-MM-DD" and its NUL. */
#define PREFS_DATE_SIZE 11

enum prefs_kind {
	PREFS_SINGLE, /* at most one value */
	PREFS_MULTI,  /* any number of values */
	PREFS_DATE,   /* any number of dates (children's birthdates) */
};

struct prefs_value {
	long long id;
	char *key;
	char *label;
	bool chosen; /* the resident chose it */
};

struct prefs_item {
	long long id;
	char *key;
	char *label;
	char *description;
	enum prefs_kind kind;
	bool match_when_unset;
	struct prefs_value *values; /* single and multi items */
	size_t nvalues;
	char (*dates)[PREFS_DATE_SIZE]; /* date items: the resident's, oldest first */
	size_t ndates;
};

enum prefs_resident {
	PREFS_RESIDENT_UNKNOWN, /* no such LINE user id in residents */
	PREFS_RESIDENT_BLOCKED, /* unfollowed: not served until they follow again */
	PREFS_RESIDENT_ACTIVE,
};

struct prefs {
	enum prefs_resident resident;
	struct prefs_item *items;
	size_t nitems;
	char today[PREFS_DATE_SIZE]; /* current_date in the database's zone (Asia/Tokyo) */
	char saved_at[40];	     /* ISO 8601 of settings_saved_at; "" = never saved */
};

/* The item list and, for an active resident, their settings.  *out is set
 * on HL_OK (then check (*out)->resident; items are loaded whatever it is). */
enum hl_status store_prefs_load(struct db *db, const char *line_user_id, struct prefs **out);

void prefs_free(struct prefs *p);

/* What to save: the chosen values (single and multi items) and the dates
 * of date items, already validated against a store_prefs_load() list.
 * Choices and dates of every current item not listed are removed. */
struct prefs_change {
	const long long *value_ids;
	size_t nvalues;
	const long long *date_item_ids; /* date_item_ids[i] gets dates[i] */
	const char (*dates)[PREFS_DATE_SIZE];
	size_t ndates;
};

/* Replace an active resident's settings.  *resident says whether the
 * resident was found active (nothing is written otherwise, and the result
 * is HL_OK).  Choices of retired items and retired values are kept, so a
 * value staff bring back returns to those who had it; a new value for a
 * single item replaces a retired one. */
enum hl_status store_prefs_save(struct db *db, const char *line_user_id,
				const struct prefs_change *c, enum prefs_resident *resident);

#endif
