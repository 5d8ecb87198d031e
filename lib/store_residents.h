/*
 * store_residents — SQL of a resident's friendship with the account and of
 * the replies queued for them, as hotline-webhook's worker needs it.
 *
 * A resident is only a LINE user id and their own settings; a block keeps
 * the row and its settings (resident_choices, resident_dates), so a new
 * follow restores them.  Replies are queued in line_replies for
 * hotline-pusher, which holds the access token; the webhook never sends.
 *
 * Returns HL_OK / HL_TEMPFAIL / HL_PERMFAIL with the reason in db_error().
 * These run inside the worker's transaction (store_webhook_claim()).
 */
#ifndef HL_STORE_RESIDENTS_H
#define HL_STORE_RESIDENTS_H

#include <stdbool.h>

#include "db.h"
#include "status.h"

/* A follow at time ts_ms: add the resident, or make a known one (who had
 * blocked the account) active again with their settings kept.  *id is the
 * resident's id; *known says whether they were already there. */
enum hl_status store_residents_follow(struct db *db, const char *line_user_id, long long ts_ms,
				      long long *id, bool *known);

/* An unfollow (block) at ts_ms: status blocked, so no delivery targets
 * them.  *known false when there was no such resident (nothing stored). */
enum hl_status store_residents_unfollow(struct db *db, const char *line_user_id, long long ts_ms,
					bool *known);

/* The resident's id, adding an active resident when unknown (a friend
 * from before hotline was installed who writes to the account). */
enum hl_status store_residents_find_or_add(struct db *db, const char *line_user_id, long long *id);

/* Queue messages_json (a JSON array of 1-5 LINE message objects) for the
 * resident, answering reply_token (NULL: pushed). */
enum hl_status store_residents_queue_reply(struct db *db, long long resident_id,
					   const char *reply_token, const char *messages_json);

#endif
