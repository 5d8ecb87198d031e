/*
 * richmenu — `hotlinectl richmenu`; see richmenu.h and docs/richmenu.md.
 *
 *   render LAYOUT [--tab N] [--png OUT] [--svg OUT]   draw, no LINE
 *   validate LAYOUT                                   check, no LINE
 *   publish LAYOUT                                    upload a set
 *   switch normal|disaster                            show a set to everyone
 *   status                                            what is live
 *
 * publish: everything is validated and rendered first (the layout, each
 * label's fit, each image's size, and each menu object with LINE's validate
 * endpoint), so nothing at LINE changes for a bad layout.  Then the new
 * menus are created and their images uploaded; when any step fails the new
 * menus are deleted and the previous set stays live.  When the set is the
 * active one, its tabs' aliases and the default menu are pointed at the new
 * menus inside the database transaction that records them, so a failure
 * there puts the aliases back.  The old menus are deleted last.
 *
 * switch: the default rich menu and the tab aliases now name the set's
 * menus, then one "unlinkAll" batch call (LINE allows 3 batch calls an
 * hour) drops the per-user links that tab taps made, so every resident sees
 * the set.  The bulk link API is never used.  settings richmenu.active_set
 * records the set.
 */
#include "richmenu.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "db.h"
#include "line.h"
#include "log.h"
#include "richmenu_render.h"
#include "store_richmenu.h"
#include "str.h"

#define RM_PREFIX "hotlinectl: richmenu: "

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hotlinectl [-c FILE] richmenu COMMAND\n"
		"\n"
		"  render LAYOUT [--tab N] [--png OUT] [--svg OUT]\n"
		"                  draw tab N (default 1) as PNG and/or SVG; no LINE, no config\n"
		"  validate LAYOUT check a layout file (limits, labels fit, image sizes)\n"
		"  publish LAYOUT  upload every tab of the layout's set to LINE\n"
		"  switch normal|disaster\n"
		"                  show that set to every resident\n"
		"  status          the sets, their menus at LINE and the active set\n");
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL) {
		fprintf(stderr, RM_PREFIX "%s: cannot write: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, RM_PREFIX "%s: cannot write: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Load, validate and check that every label fits. */
static struct richmenu_layout *load_checked(const char *path)
{
	char err[1024];
	struct richmenu_layout *l = richmenu_layout_load(path, err, sizeof(err));

	if (l == NULL) {
		fprintf(stderr, RM_PREFIX "%s\n", err);
		return NULL;
	}
	if (richmenu_render_check(l, err, sizeof(err)) != 0) {
		fprintf(stderr, RM_PREFIX "%s\n", err);
		richmenu_layout_free(l);
		return NULL;
	}
	return l;
}

static int cmd_render(int argc, char **argv)
{
	const char *png = NULL, *svg = NULL;
	long long tab = 1;
	struct richmenu_layout *l;
	unsigned char *data = NULL;
	size_t len = 0;
	char err[1024];
	int i, rc = 1;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--png") == 0 && i + 1 < argc)
			png = argv[++i];
		else if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc)
			svg = argv[++i];
		else if (strcmp(argv[i], "--tab") == 0 && i + 1 < argc &&
			 str_to_ll(argv[i + 1], 1, RICHMENU_TABS_MAX, &tab))
			i++;
		else {
			fprintf(stderr, RM_PREFIX "render: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (png == NULL && svg == NULL) {
		fprintf(stderr, RM_PREFIX "render: give --png OUT and/or --svg OUT\n");
		return 2;
	}
	l = load_checked(argv[1]);
	if (l == NULL)
		return 1;
	if ((size_t)tab > richmenu_layout_tabs(l)) {
		fprintf(stderr, RM_PREFIX "%s: there is no tab %lld (the set has %zu)\n", argv[1],
			tab, richmenu_layout_tabs(l));
		goto done;
	}
	if (png != NULL) {
		if (richmenu_render_png(l, (size_t)tab - 1, &data, &len, err, sizeof(err)) != 0) {
			fprintf(stderr, RM_PREFIX "%s\n", err);
			goto done;
		}
		if (write_file(png, data, len) != 0)
			goto done;
		free(data);
		data = NULL;
	}
	if (svg != NULL) {
		if (richmenu_render_svg(l, (size_t)tab - 1, &data, &len, err, sizeof(err)) != 0) {
			fprintf(stderr, RM_PREFIX "%s\n", err);
			goto done;
		}
		if (write_file(svg, data, len) != 0)
			goto done;
	}
	rc = 0;
done:
	free(data);
	richmenu_layout_free(l);
	return rc;
}

/* Every tab rendered: the images LINE will get. */
struct rendered {
	struct richmenu_layout *l;
	size_t n;
	unsigned char *png[RICHMENU_TABS_MAX];
	size_t png_len[RICHMENU_TABS_MAX];
	char *json[RICHMENU_TABS_MAX];
};

static void rendered_free(struct rendered *r)
{
	size_t i;

	for (i = 0; i < RICHMENU_TABS_MAX; i++) {
		free(r->png[i]);
		free(r->json[i]);
	}
	richmenu_layout_free(r->l);
	memset(r, 0, sizeof(*r));
}

static int render_all(const char *path, struct rendered *r)
{
	char err[1024];
	size_t i;

	memset(r, 0, sizeof(*r));
	r->l = load_checked(path);
	if (r->l == NULL)
		return -1;
	r->n = richmenu_layout_tabs(r->l);
	for (i = 0; i < r->n; i++) {
		if (richmenu_render_png(r->l, i, &r->png[i], &r->png_len[i], err, sizeof(err)) !=
		    0) {
			fprintf(stderr, RM_PREFIX "%s\n", err);
			rendered_free(r);
			return -1;
		}
		r->json[i] = richmenu_line_json(r->l, i);
		if (r->json[i] == NULL) {
			fprintf(stderr, RM_PREFIX "out of memory\n");
			rendered_free(r);
			return -1;
		}
	}
	return 0;
}

static int cmd_validate(int argc, char **argv)
{
	struct rendered r;
	size_t i;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (render_all(argv[1], &r) != 0)
		return 1;
	for (i = 0; i < r.n; i++) {
		const struct richmenu_tab *t = richmenu_layout_tab(r.l, i);

		printf("%s: tab %zu %s (alias %s): %zu areas, PNG %zu bytes\n", argv[1], i + 1,
		       t->title, t->alias, t->n_areas, r.png_len[i]);
	}
	printf("%s: layout ok (set %s)\n", argv[1], richmenu_layout_set(r.l));
	rendered_free(&r);
	return 0;
}

/* --- LINE ---------------------------------------------------------------------- */

struct ctl {
	struct hl_config *cfg;
	struct line_client *lc;
	struct db *db;
};

static void ctl_free(struct ctl *c)
{
	line_client_free(c->lc);
	db_free(c->db);
	config_free(c->cfg);
	memset(c, 0, sizeof(*c));
}

static int ctl_open(struct ctl *c, const char *conf_arg)
{
	char err[1024];
	char *token;
	struct line_client_options o;
	struct db_params p;

	memset(c, 0, sizeof(*c));
	c->cfg = config_load(config_path(conf_arg), err, sizeof(err));
	if (c->cfg == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return -1;
	}
	log_open("hotlinectl", (enum log_level)c->cfg->log.level, NULL);
	token = config_secret(c->cfg, HL_SECRET_LINE_CHANNEL_TOKEN, err, sizeof(err));
	if (token == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		goto fail;
	}
	o.base_url = c->cfg->line.api_base_url;
	o.token = token;
	o.timeout_ms = (long)c->cfg->line.request_timeout_ms;
	o.max_connections = 1;
	o.ca_file = c->cfg->line.ca_file;
	c->lc = line_client_new(&o, err, sizeof(err));
	str_wipe(token, strlen(token));
	free(token);
	if (c->lc == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		goto fail;
	}
	p.conninfo = c->cfg->database.conninfo;
	p.user = c->cfg->database.owner_user;
	p.app_name = "hotlinectl";
	p.connect_timeout_s = c->cfg->database.connect_timeout;
	p.statement_timeout_ms = 0;
	c->db = db_open(&p, err, sizeof(err));
	if (c->db == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		goto fail;
	}
	return 0;
fail:
	ctl_free(c);
	return -1;
}

/* One call; 0 on 2xx.  On failure prints what LINE said, prefixed by what. */
static int call(struct ctl *c, const char *what, const char *method, const char *target,
		const char *ctype, const void *body, size_t len, char **resp)
{
	struct line_result r;
	int rc = line_client_request_sync(c->lc, method, target, ctype, body, len, true, &r, resp);

	if (rc != 0)
		fprintf(stderr, RM_PREFIX "%s: LINE answered %d: %s\n", what, r.http_status,
			r.error[0] != '\0' ? r.error : "(no detail)");
	return rc;
}

/* Like call(), quiet, returning the HTTP status (0: no answer). */
static int call_status(struct ctl *c, const char *method, const char *target, const char *ctype,
		       const void *body, size_t len)
{
	struct line_result r;

	(void)line_client_request_sync(c->lc, method, target, ctype, body, len, true, &r, NULL);
	return r.http_status;
}

static int delete_menu(struct ctl *c, const char *id)
{
	char path[160];

	if (!str_printf(path, sizeof(path), "/v2/bot/richmenu/%s", id))
		return -1;
	return call(c, "delete menu", "DELETE", path, NULL, NULL, 0, NULL);
}

/* Point alias at menu: update it, or create it when LINE does not know it. */
static int point_alias(struct ctl *c, const char *alias, const char *menu)
{
	char path[160], body[256];
	int st;

	if (!str_printf(path, sizeof(path), "/v2/bot/richmenu/alias/%s", alias) ||
	    !str_printf(body, sizeof(body), "{\"richMenuId\":\"%s\"}", menu))
		return -1;
	st = call_status(c, "POST", path, "application/json", body, strlen(body));
	if (st >= 200 && st <= 299)
		return 0;
	if (st != 404 && st != 400)
		return call(c, "update alias", "POST", path, "application/json", body, strlen(body),
			    NULL);
	if (!str_printf(body, sizeof(body), "{\"richMenuAliasId\":\"%s\",\"richMenuId\":\"%s\"}",
			alias, menu))
		return -1;
	return call(c, "create alias", "POST", "/v2/bot/richmenu/alias", "application/json", body,
		    strlen(body), NULL);
}

static int set_default(struct ctl *c, const char *menu)
{
	char path[160];

	if (!str_printf(path, sizeof(path), "/v2/bot/user/all/richmenu/%s", menu))
		return -1;
	return call(c, "set default menu", "POST", path, NULL, NULL, 0, NULL);
}

/* Aliases and default menu to the given menus (tab order). */
static int point_set(struct ctl *c, size_t n, char aliases[][STORE_RICHMENU_ALIAS_SIZE],
		     char menus[][STORE_RICHMENU_ID_SIZE])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (point_alias(c, aliases[i], menus[i]) != 0)
			return -1;
	return n > 0 ? set_default(c, menus[0]) : 0;
}

/* The richMenuId in a create answer. */
static bool menu_id_of(const char *body, char *id, size_t size)
{
	json_t *j = body != NULL ? json_loads(body, 0, NULL) : NULL;
	const char *s = json_string_value(json_object_get(j, "richMenuId"));
	bool ok = s != NULL && s[0] != '\0' && strlen(s) < size && strchr(s, '/') == NULL &&
		  str_copy(id, s, size);

	json_decref(j);
	return ok;
}

/* Delete the aliases of from's tabs that are not among keep (a set with
 * fewer tabs than before, or the other set's extra tabs). */
static void drop_other_aliases(struct ctl *c, const struct store_richmenu_set *from, size_t n,
			       char keep[][STORE_RICHMENU_ALIAS_SIZE])
{
	size_t i, k;
	char path[160];

	for (i = 0; i < from->n; i++) {
		bool kept = false;

		for (k = 0; k < n && !kept; k++)
			kept = strcmp(from->tabs[i].alias, keep[k]) == 0;
		if (kept || !str_printf(path, sizeof(path), "/v2/bot/richmenu/alias/%s",
					from->tabs[i].alias))
			continue;
		if (call(c, "delete alias", "DELETE", path, NULL, NULL, 0, NULL) != 0)
			fprintf(stderr, RM_PREFIX "warning: alias %s is left at LINE\n",
				from->tabs[i].alias);
	}
}

static int audit(struct ctl *c, const char *action, const char *target, const char *detail)
{
	bool written = false;

	if (store_richmenu_audit(c->db, action, target, detail, &written) != HL_OK) {
		fprintf(stderr, RM_PREFIX "audit log: %s\n", db_error(c->db));
		return -1;
	}
	if (!written)
		fprintf(stderr,
			RM_PREFIX "warning: this role may not write audit_log; %s is not "
				  "in the audit log\n",
			action);
	return 0;
}

static void set_arrays(const struct store_richmenu_set *s,
		       char aliases[][STORE_RICHMENU_ALIAS_SIZE],
		       char menus[][STORE_RICHMENU_ID_SIZE])
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		memcpy(aliases[i], s->tabs[i].alias, sizeof(aliases[i]));
		memcpy(menus[i], s->tabs[i].line_richmenu_id, sizeof(menus[i]));
	}
}

static int cmd_publish(const char *conf_arg, int argc, char **argv)
{
	struct rendered r;
	struct ctl c;
	struct store_richmenu_set old;
	char made[RICHMENU_TABS_MAX][STORE_RICHMENU_ID_SIZE];
	char aliases[RICHMENU_TABS_MAX][STORE_RICHMENU_ALIAS_SIZE];
	char active[16] = "", url[1024], *resp = NULL, *layout_json = NULL;
	const char *set;
	size_t i, n_made = 0;
	bool in_tx = false, pointed = false;
	int rc = 1;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	/* Everything that can be checked without LINE, before anything else. */
	if (render_all(argv[1], &r) != 0)
		return 1;
	set = richmenu_layout_set(r.l);
	if (ctl_open(&c, conf_arg) != 0) {
		rendered_free(&r);
		return 1;
	}
	memset(&old, 0, sizeof(old));
	if (store_richmenu_live(c.db, set, &old) != HL_OK ||
	    store_richmenu_active_set(c.db, active, sizeof(active)) != HL_OK) {
		fprintf(stderr, RM_PREFIX "database: %s\n", db_error(c.db));
		goto done;
	}
	/* LINE's own validation of each menu object: still nothing created. */
	for (i = 0; i < r.n; i++) {
		char what[64];

		str_msg(what, sizeof(what), "%s: tab %zu: validate", argv[1], i + 1);
		if (call(&c, what, "POST", "/v2/bot/richmenu/validate", "application/json",
			 r.json[i], strlen(r.json[i]), NULL) != 0)
			goto done;
	}
	/* Create and upload; any failure deletes what was made. */
	for (i = 0; i < r.n; i++) {
		char what[64];

		str_msg(what, sizeof(what), "tab %zu: create", i + 1);
		if (call(&c, what, "POST", "/v2/bot/richmenu", "application/json", r.json[i],
			 strlen(r.json[i]), &resp) != 0)
			goto undo;
		if (!menu_id_of(resp, made[n_made], sizeof(made[n_made]))) {
			fprintf(stderr, RM_PREFIX "%s: LINE's answer has no richMenuId\n", what);
			goto undo;
		}
		n_made++;
		free(resp);
		resp = NULL;
		str_msg(what, sizeof(what), "tab %zu: upload image", i + 1);
		if (!str_printf(url, sizeof(url), "%s/v2/bot/richmenu/%s/content",
				c.cfg->line.data_api_base_url, made[i])) {
			fprintf(stderr, RM_PREFIX "[line] data_api_base_url is too long\n");
			goto undo;
		}
		if (call(&c, what, "POST", url, "image/png", r.png[i], r.png_len[i], NULL) != 0)
			goto undo;
		if (!str_copy(aliases[i], richmenu_layout_tab(r.l, i)->alias, sizeof(aliases[i])))
			goto undo;
	}
	/* Record, and make live if this set is the active one, in one transaction. */
	layout_json = richmenu_layout_json(r.l);
	if (layout_json == NULL || db_exec(c.db, "BEGIN") != HL_OK)
		goto db_failed;
	in_tx = true;
	for (i = 0; i < r.n; i++) {
		const struct richmenu_tab *t = richmenu_layout_tab(r.l, i);
		struct store_richmenu_tab row = {
			.set_name = set,
			.tab_no = (int)i + 1,
			.title = t->title,
			.chat_bar_text = t->chat_bar_text,
			.layout_json = layout_json,
			.image = r.png[i],
			.image_len = r.png_len[i],
			.line_richmenu_id = made[i],
			.alias = t->alias,
		};

		if (store_richmenu_replace_live(c.db, &row) != HL_OK)
			goto db_failed;
	}
	if (store_richmenu_retire_tabs_from(c.db, set, (int)r.n + 1) != HL_OK)
		goto db_failed;
	{
		json_t *d = json_pack("{s:s, s:i, s:s, s:b}", "set", set, "tabs", (int)r.n,
				      "default", made[0], "active", strcmp(active, set) == 0);
		char *ds = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;

		json_decref(d);
		if (ds == NULL || audit(&c, "richmenu.publish", NULL, ds) != 0) {
			free(ds);
			goto db_failed;
		}
		free(ds);
	}
	if (strcmp(active, set) == 0) {
		pointed = true;
		if (point_set(&c, r.n, aliases, made) != 0)
			goto undo;
		drop_other_aliases(&c, &old, r.n, aliases);
	}
	if (db_exec(c.db, "COMMIT") != HL_OK) {
		in_tx = false;
		goto db_failed;
	}
	in_tx = false;
	/* The previous menus are retired; deleting them at LINE is tidying up. */
	for (i = 0; i < old.n; i++)
		if (old.tabs[i].line_richmenu_id[0] != '\0' &&
		    delete_menu(&c, old.tabs[i].line_richmenu_id) != 0)
			fprintf(stderr, RM_PREFIX "warning: old menu %s is left at LINE\n",
				old.tabs[i].line_richmenu_id);
	for (i = 0; i < r.n; i++)
		printf("tab %zu %s: %s (alias %s)\n", i + 1, richmenu_layout_tab(r.l, i)->title,
		       made[i], aliases[i]);
	if (strcmp(active, set) == 0)
		printf("published the %s set; it is live for every resident\n", set);
	else
		printf("published the %s set; it is ready (the %s set is shown: hotlinectl "
		       "richmenu switch %s to show it)\n",
		       set, active, set);
	rc = 0;
	goto done;

db_failed:
	fprintf(stderr, RM_PREFIX "database: %s\n", db_error(c.db));
undo:
	if (in_tx)
		db_rollback(c.db);
	if (pointed && old.n > 0) {
		char om[RICHMENU_TABS_MAX][STORE_RICHMENU_ID_SIZE];
		char oa[RICHMENU_TABS_MAX][STORE_RICHMENU_ALIAS_SIZE];

		set_arrays(&old, oa, om);
		if (point_set(&c, old.n, oa, om) != 0)
			fprintf(stderr,
				RM_PREFIX "could not point the aliases back at the previous "
					  "menus: run publish again\n");
	}
	if (pointed && old.n == 0) {
		/* A first publish: the aliases made for the new menus go too
		 * (before the menus, which LINE may not delete while named). */
		for (i = 0; i < r.n; i++) {
			char path[160];

			if (str_printf(path, sizeof(path), "/v2/bot/richmenu/alias/%s", aliases[i]))
				(void)call_status(&c, "DELETE", path, NULL, NULL, 0);
		}
	}
	for (i = 0; i < n_made; i++)
		if (delete_menu(&c, made[i]) != 0)
			fprintf(stderr, RM_PREFIX "warning: new menu %s is left at LINE\n",
				made[i]);
	fprintf(stderr,
		RM_PREFIX "publishing the %s set failed; nothing changed (the previous menus "
			  "stay live)\n",
		set);
done:
	free(resp);
	free(layout_json);
	ctl_free(&c);
	rendered_free(&r);
	return rc;
}

static int cmd_switch(const char *conf_arg, int argc, char **argv)
{
	static const char unlink_all[] = "{\"operations\":[{\"type\":\"unlinkAll\"}]}";
	struct ctl c;
	struct store_richmenu_set to, from;
	char ta[RICHMENU_TABS_MAX][STORE_RICHMENU_ALIAS_SIZE];
	char tm[RICHMENU_TABS_MAX][STORE_RICHMENU_ID_SIZE];
	char fa[RICHMENU_TABS_MAX][STORE_RICHMENU_ALIAS_SIZE];
	char fm[RICHMENU_TABS_MAX][STORE_RICHMENU_ID_SIZE];
	char active[16] = "", detail[256];
	const char *set, *other;
	bool in_tx = false;
	struct line_result lr;
	int rc = 1;

	if (argc != 2 || (strcmp(argv[1], "normal") != 0 && strcmp(argv[1], "disaster") != 0)) {
		usage(stderr);
		return 2;
	}
	set = argv[1];
	other = strcmp(set, "normal") == 0 ? "disaster" : "normal";
	if (ctl_open(&c, conf_arg) != 0)
		return 1;
	memset(&to, 0, sizeof(to));
	memset(&from, 0, sizeof(from));
	if (store_richmenu_live(c.db, set, &to) != HL_OK ||
	    store_richmenu_live(c.db, other, &from) != HL_OK ||
	    store_richmenu_active_set(c.db, active, sizeof(active)) != HL_OK) {
		fprintf(stderr, RM_PREFIX "database: %s\n", db_error(c.db));
		goto done;
	}
	if (to.n == 0) {
		fprintf(stderr,
			RM_PREFIX "the %s set has not been published yet (hotlinectl richmenu "
				  "publish etc/richmenu/%s.json)\n",
			set, set);
		goto done;
	}
	set_arrays(&to, ta, tm);
	set_arrays(&from, fa, fm);
	if (db_exec(c.db, "BEGIN") != HL_OK)
		goto db_failed;
	in_tx = true;
	str_msg(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":\"%s\",\"default\":\"%s\"}",
		active, set, tm[0]);
	if (store_richmenu_set_active(c.db, set) != HL_OK ||
	    audit(&c, "richmenu.switch", NULL, detail) != 0)
		goto db_failed;
	if (point_set(&c, to.n, ta, tm) != 0) {
		/* Back to what was shown, as far as LINE lets us. */
		if (strcmp(active, other) == 0 && from.n > 0 && point_set(&c, from.n, fa, fm) != 0)
			fprintf(stderr,
				RM_PREFIX "could not point the aliases back at the %s set: "
					  "run switch again\n",
				other);
		goto fail;
	}
	if (db_exec(c.db, "COMMIT") != HL_OK) {
		in_tx = false;
		goto db_failed;
	}
	in_tx = false;
	drop_other_aliases(&c, &from, to.n, ta);
	/* Residents who tapped a tab have their own link; one batch call (3 an
	 * hour at LINE) drops them all so that everyone sees the default. */
	if (line_client_request_sync(c.lc, "POST", "/v2/bot/richmenu/batch", "application/json",
				     unlink_all, strlen(unlink_all), true, &lr, NULL) != 0)
		fprintf(stderr,
			RM_PREFIX "warning: LINE refused the unlinkAll batch (%d: %s); residents "
				  "who had switched tabs see the %s set from their next tab tap\n",
			lr.http_status, lr.error, set);
	printf("the %s set is now shown to every resident (default menu %s)\n", set, tm[0]);
	rc = 0;
	goto done;

db_failed:
	fprintf(stderr, RM_PREFIX "database: %s\n", db_error(c.db));
fail:
	if (in_tx)
		db_rollback(c.db);
	fprintf(stderr, RM_PREFIX "switching to the %s set failed\n", set);
done:
	ctl_free(&c);
	return rc;
}

static int cmd_status(const char *conf_arg, int argc)
{
	static const char *const sets[] = {"normal", "disaster"};
	struct ctl c;
	struct store_richmenu_set s;
	char active[16] = "", def[STORE_RICHMENU_ID_SIZE] = "", *body = NULL;
	struct line_result lr;
	size_t k, i;

	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	if (ctl_open(&c, conf_arg) != 0)
		return 1;
	if (store_richmenu_active_set(c.db, active, sizeof(active)) != HL_OK) {
		fprintf(stderr, RM_PREFIX "database: %s\n", db_error(c.db));
		ctl_free(&c);
		return 1;
	}
	if (line_client_request_sync(c.lc, "GET", "/v2/bot/user/all/richmenu", NULL, NULL, 0, true,
				     &lr, &body) == 0 &&
	    !menu_id_of(body, def, sizeof(def)))
		def[0] = '\0';
	free(body);
	printf("active set: %s\n", active);
	printf("default menu at LINE: %s\n", def[0] != '\0' ? def : "(none)");
	for (k = 0; k < 2; k++) {
		memset(&s, 0, sizeof(s));
		if (store_richmenu_live(c.db, sets[k], &s) != HL_OK) {
			fprintf(stderr, RM_PREFIX "database: %s\n", db_error(c.db));
			ctl_free(&c);
			return 1;
		}
		printf("%s set: %s\n", sets[k], s.n == 0 ? "not published" : "published");
		for (i = 0; i < s.n; i++)
			printf("  tab %d %s: %s alias %s published %s%s\n", s.tabs[i].tab_no,
			       s.tabs[i].title, s.tabs[i].line_richmenu_id, s.tabs[i].alias,
			       s.tabs[i].published_at,
			       strcmp(s.tabs[i].line_richmenu_id, def) == 0 ? " (default)" : "");
	}
	ctl_free(&c);
	return 0;
}

int richmenu_main(const char *conf_arg, int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "render") == 0)
		return cmd_render(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 1, argv + 1);
	if (strcmp(argv[1], "publish") == 0)
		return cmd_publish(conf_arg, argc - 1, argv + 1);
	if (strcmp(argv[1], "switch") == 0)
		return cmd_switch(conf_arg, argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(conf_arg, argc - 1);
	fprintf(stderr, RM_PREFIX "unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
