/*
 * dbpool — a fixed set of database connections shared by the HTTP threads.
 *
 * struct db is not thread-safe, so a handler borrows one connection for the
 * length of a request and gives it back; with as many connections as HTTP
 * threads nobody waits.  Connections open on first use (db_new()), so the
 * daemon starts and reports unhealthy while the database is down.
 */
#ifndef HL_DBPOOL_H
#define HL_DBPOOL_H

#include <stddef.h>

#include "db.h"

struct dbpool;

/* n connections with params p (copied).  NULL when out of memory. */
struct dbpool *dbpool_new(const struct db_params *p, size_t n);
void dbpool_free(struct dbpool *pool);

/* Borrow a connection, waiting while all are lent; give it back with
 * dbpool_put() from the same thread. */
struct db *dbpool_get(struct dbpool *pool);
void dbpool_put(struct dbpool *pool, struct db *db);

#endif
