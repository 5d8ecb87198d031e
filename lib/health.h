/*
 * health — the /healthz answer every daemon gives: 200 when it can reach
 * its database as its own role, 503 with the reason otherwise, so a load
 * balancer or monitor takes a daemon without a database out of service.
 */
#ifndef HL_HEALTH_H
#define HL_HEALTH_H

#include "db.h"
#include "httpd.h"

/* Fill reply with {"status":"ok"} or {"status":"unavailable","error":…}. */
void health_reply(struct db *db, struct httpd_reply *reply);

#endif
