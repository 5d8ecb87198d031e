/*
 * store_richmenu — the rich menu sets in PostgreSQL (table richmenus,
 * settings richmenu.active_set), for hotlinectl richmenu.
 *
 * A set (normal, disaster) has up to 3 live tabs: the menus that exist at
 * LINE.  Publishing a tab retires its previous live row and inserts the new
 * one; the caller wraps a whole set in one transaction (db_exec BEGIN /
 * COMMIT) together with its audit row, so the table never shows half a set.
 *
 * Errors: HL_TEMPFAIL when the database is unreachable, HL_PERMFAIL when a
 * statement is refused; db_error() says why.
 */
#ifndef HL_STORE_RICHMENU_H
#define HL_STORE_RICHMENU_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "status.h"

#define STORE_RICHMENU_TABS_MAX	  3
#define STORE_RICHMENU_ID_SIZE	  64 /* LINE's "richmenu-" and 32 hex digits fit */
#define STORE_RICHMENU_ALIAS_SIZE 40

struct store_richmenu_live_tab {
	int tab_no;
	char title[128];
	char line_richmenu_id[STORE_RICHMENU_ID_SIZE];
	char alias[STORE_RICHMENU_ALIAS_SIZE];
	char published_at[40];
};

struct store_richmenu_set {
	size_t n; /* live tabs, in tab order */
	struct store_richmenu_live_tab tabs[STORE_RICHMENU_TABS_MAX];
};

/* A tab as published: everything is copied by the statement. */
struct store_richmenu_tab {
	const char *set_name; /* "normal" or "disaster" */
	int tab_no;	      /* 1..3 */
	const char *title;
	const char *chat_bar_text;
	const char *layout_json; /* the whole layout file, as JSON */
	const unsigned char *image;
	size_t image_len;
	const char *line_richmenu_id;
	const char *alias;
};

/* The live tabs of set (n = 0 when it was never published). */
enum hl_status store_richmenu_live(struct db *db, const char *set, struct store_richmenu_set *out);
/* Retire the tab's live row (if any) and insert t as live, published now. */
enum hl_status store_richmenu_replace_live(struct db *db, const struct store_richmenu_tab *t);
/* Retire set's live tabs numbered from tab_no up (a set published with fewer tabs). */
enum hl_status store_richmenu_retire_tabs_from(struct db *db, const char *set, int tab_no);
/* settings richmenu.active_set: "normal" or "disaster". */
enum hl_status store_richmenu_active_set(struct db *db, char *out, size_t size);
enum hl_status store_richmenu_set_active(struct db *db, const char *set);
/* An audit_log row by actor "hotlinectl": action like "richmenu.publish",
 * target NULL or "kind:id", detail a JSON object.  Only when the connection
 * may insert into audit_log: *written says whether a row was written. */
enum hl_status store_richmenu_audit(struct db *db, const char *action, const char *target,
				    const char *detail_json, bool *written);

#endif
