/*
 * audit — `hotlinectl audit verify`: check the audit log's hash chain.
 *
 * The chain is recomputed here from the rows (store_audit_recompute(), the
 * canonical text of docs/schema.md) and cross-checked with the database's
 * own audit_verify(), so that neither a tampered row nor a tampered
 * function goes unnoticed.  Prints one line; 0 intact, 1 broken or error.
 */
#ifndef HL_CTL_AUDIT_H
#define HL_CTL_AUDIT_H

#include <stdio.h>

#include "db.h"

int audit_verify_cmd(struct db *db, FILE *out);

#endif
