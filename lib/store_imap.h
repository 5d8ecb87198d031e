/*
 * store_imap — where hotline-imapd is in each mailbox (table imap_state):
 * the mailbox's UIDVALIDITY and the highest UID taken.
 *
 * store_imap_advance() runs inside the transaction that stores the mail it
 * took (an ingest_request's in_txn step), so the mail and the position
 * commit together or not at all: after a crash the next fetch starts right
 * after the last committed mail, neither losing nor repeating one.
 *
 * Errors: HL_TEMPFAIL when the database is unreachable or busy (db_error()
 * says why), HL_PERMFAIL when it refused the statement.
 */
#ifndef HL_STORE_IMAP_H
#define HL_STORE_IMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "status.h"

struct imap_position {
	const char *account; /* "user@host" as configured */
	const char *mailbox;
	uint32_t uidvalidity; /* 1..2^32-1 */
	uint32_t last_uid;    /* highest UID taken; 0 = none yet */
};

/* Read the position of account/mailbox into *uidvalidity and *last_uid;
 * *found is false (and both 0) when it has none yet. */
enum hl_status store_imap_get(struct db *db, const char *account, const char *mailbox,
			      uint32_t *uidvalidity, uint32_t *last_uid, bool *found);

/* Record p (insert or update).  For use inside an open transaction (it
 * issues no BEGIN/COMMIT), or alone in autocommit.  A position never moves
 * back within one UIDVALIDITY; a new UIDVALIDITY replaces the old one. */
enum hl_status store_imap_advance(struct db *db, const struct imap_position *p);

#endif
