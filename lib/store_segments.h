/*
 * store_segments — segment items and values as staff edit them, the
 * per-value resident counts, and test receivers (residents.is_tester).
 *
 * Reads return JSON text built by PostgreSQL (json_build_object), which
 * the caller parses and frees: one round trip for the whole segment tree
 * with its counts, however many items and values there are.
 *
 * Writes run in the caller's transaction (hotline-admin opens one so that
 * the change and its audit row commit together).  A refused change comes
 * back as HL_OK with *outcome saying why (a taken key, a taken label...),
 * so the caller can answer 400/409 instead of treating it as a failure;
 * HL_TEMPFAIL/HL_PERMFAIL are database failures, with db_error() saying
 * why.
 */
#ifndef HL_STORE_SEGMENTS_H
#define HL_STORE_SEGMENTS_H

#include <stdbool.h>

#include "db.h"
#include "status.h"

enum seg_outcome {
	SEG_DONE,
	SEG_NOT_FOUND,	  /* no such item, value or resident */
	SEG_KEY_TAKEN,	  /* the key exists (item keys globally, value keys per item) */
	SEG_LABEL_TAKEN,  /* another current value of the item has this label */
	SEG_DATE_ITEM,	  /* values cannot be added to a date item */
	SEG_INVALID,	  /* a CHECK constraint refused it (the caller validates first) */
	SEG_KEY_PERMANENT /* the key-permanence trigger refused it */
};

/* A target filter (JSON text; NULL: everyone) in Japanese for staff, from
 * the current item and value labels, as the delivery history shows it
 * (SQL target_label()).  *label is malloc'd. */
enum hl_status store_segments_target_label(struct db *db, const char *target, char **label);

/* The whole tree: {"items":[item + "values":[value + "residents"]
 * (+ "residents" for date items)],
 * "residents":{"active","blocked","testers"}}, items and values in display
 * order (position, then id).  Retired items and values only when
 * include_retired.  When scope_staff_id > 0 each value also carries
 * "in_scope" for that account.  *json is malloc'd. */
enum hl_status store_segments_list(struct db *db, bool include_retired, long long scope_staff_id,
				   char **json);

struct seg_item_new {
	const char *key, *label, *description; /* description "" for none */
	const char *kind;		       /* single, multi or date */
	bool match_when_unset;
};

/* Add an item at the end (position = last + 10); *json is the new item. */
enum hl_status store_segments_item_create(struct db *db, const struct seg_item_new *it, char **json,
					  enum seg_outcome *outcome);

/* A partial change: NULL / has_position false / retired -1 = unchanged. */
struct seg_change {
	const char *label;
	const char *description; /* items only */
	bool has_position;
	long long position;
	int retired; /* -1 unchanged, 0 current again, 1 retired */
};

/* Change an item or a value; *before and *after are its JSON (malloc'd)
 * for the answer and the audit row. */
enum hl_status store_segments_item_update(struct db *db, long long id, const struct seg_change *ch,
					  char **before, char **after, enum seg_outcome *outcome);
enum hl_status store_segments_value_update(struct db *db, long long id, const struct seg_change *ch,
					   char **before, char **after, enum seg_outcome *outcome);

/* Add a value at the end of item_id's values; *json is the new value. */
enum hl_status store_segments_value_create(struct db *db, long long item_id, const char *key,
					   const char *label, char **json,
					   enum seg_outcome *outcome);

/* Residents for the test-receiver screen, newest id first, at most limit
 * + 1 of them (the extra one tells the caller there is a next page), below
 * id before (0: from the newest): a JSON array of {"id","status",
 * "followed_at","is_tester"}.  Only testers unless all.  No LINE user id. */
enum hl_status store_segments_testers(struct db *db, bool all, long long before, long long limit,
				      char **json);

/* Set residents.is_tester; *json is the resident as above, *was the old
 * flag. */
enum hl_status store_segments_tester_set(struct db *db, long long resident_id, bool on, char **json,
					 bool *was, enum seg_outcome *outcome);

#endif
