/*
 * richmenu — the Messaging API's rich menus in memory; see richmenu.h.
 *
 * Limits are LINE's (messaging-api.yml and the Messaging API reference):
 * 1000 menus and 1000 aliases a channel, 20 areas a menu, images of at most
 * 1 MB whose pixel size equals the menu's, 500 users a bulk call, 1000
 * operations a batch.  Rich menu sizes follow LINE's current rule: width
 * 800–2500, height at least 250, width/height at least 1.45 (2500x1686 and
 * 2500x843 being the two templates).
 *
 * Request bodies are hostile: a body is bounded in size and in JSON nesting
 * before jansson sees it, every string is bounded in UTF-16 units as LINE
 * counts them, and image headers are read with explicit bounds.  A request
 * body that breaks rules answers 400 {"message":"The request body has N
 * error(s)","details":[{"message":…,"property":…}]}, one detail a broken
 * rule, as LINE does.
 *
 * Per-user links live in a hash table keyed by user id so that a million
 * simulated residents each with a menu cost one small allocation each.  A
 * link to a deleted menu is dropped lazily, when it is next looked at.
 */
#include "richmenu.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <glib.h>
#include <openssl/rand.h>

#include "jsonlimit.h"
#include "str.h"

#define RM_MENUS_MAX   1000
#define RM_ALIASES_MAX 1000
#define RM_AREAS_MAX   20
#define RM_BULK_MAX    500
#define RM_BATCH_MAX   1000
/* "richmenu-" and 32 hex digits. */
#define RM_ID_SIZE 42
/* An alias id is [a-z0-9_-]{1,32}. */
#define RM_ALIAS_SIZE 33
/* A LINE user id is "U" and 32 hex digits. */
#define RM_USER_SIZE 34
#define RM_IMAGE_MAX (1024 * 1024)
/* A full menu with 20 areas is a few KB; this refuses a body meant only to
 * make us allocate, before jansson builds a tree of it. */
#define RM_JSON_MAX (64 * 1024)
/* A menu is 4 levels deep; jansson recurses per level, so cap it well
 * below anything that could matter for the stack. */
#define RM_JSON_DEPTH 16
/* Details reported for one request; LINE too stops listing at some point. */
#define RM_DETAILS_MAX 50
/* Path segments are ids; anything longer is not a LINE id. */
#define RM_SEGMENT_MAX 64
#define RM_SEGMENTS    6

struct area {
	long long x, y, w, h;
	json_t *action;
};

struct menu {
	char id[RM_ID_SIZE];
	json_t *obj; /* the RichMenuResponse object */
	long long w, h;
	size_t n_areas;
	struct area areas[RM_AREAS_MAX];
	unsigned char *image;
	size_t image_len;
	const char *image_type;
};

struct alias {
	char id[RM_ALIAS_SIZE];
	char menu[RM_ID_SIZE];
};

/* One allocation a linked user; the key points at user. */
struct ulink {
	char user[RM_USER_SIZE];
	char menu[RM_ID_SIZE];
	char alias[RM_ALIAS_SIZE]; /* the alias switched to, or "" */
};

struct richmenu_store {
	struct menu *menus[RM_MENUS_MAX]; /* in creation order, as listed */
	size_t n_menus;
	struct alias aliases[RM_ALIASES_MAX];
	size_t n_aliases;
	char default_menu[RM_ID_SIZE];
	GHashTable *users;
	bool (*auth)(void *ctx, const struct httpd_request *req);
	void *auth_ctx;
	bool (*allow)(void *ctx, const char *bucket);
	void *allow_ctx;
	/* When the last batch was accepted ("" before any); batches are
	 * applied at once, so their progress is always "succeeded". */
	char last_batch[32];
};

/* --- replies --------------------------------------------------------------- */

/* Serialises obj (whose reference it takes) as the reply body. */
static int reply_json_obj(char **out, int status, json_t *obj)
{
	*out = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	return *out != NULL ? status : 500;
}

static int reply_msg(char **out, int status, const char *message)
{
	return reply_json_obj(out, status, json_pack("{s:s}", "message", message));
}

static int internal_error(char **out)
{
	*out = NULL;
	return 500;
}

static int reply_ok(char **out, int status)
{
	*out = strdup("{}");
	return *out != NULL ? status : 500;
}

static int not_found(char **out)
{
	return reply_msg(out, 404, "Not found");
}

static int reply_details(char **out, json_t *details)
{
	char msg[64];

	str_msg(msg, sizeof(msg), "The request body has %zu error(s)", json_array_size(details));
	return reply_json_obj(out, 400,
			      json_pack("{s:s, s:O}", "message", msg, "details", details));
}

static void detail(json_t *details, const char *property, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void detail(json_t *details, const char *property, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	int n;

	if (json_array_size(details) >= RM_DETAILS_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	(void)json_array_append_new(details,
				    json_pack("{s:s, s:s}", "message", msg, "property", property));
}

/* --- input ------------------------------------------------------------------ */

/* The body as a JSON object, or NULL with the error reply made. */
static json_t *parse_body(const char *json, size_t len, char **out, int *status)
{
	json_t *root;

	if (json == NULL || len > RM_JSON_MAX) {
		*status = reply_msg(out, 400, "The request body is too large");
		return NULL;
	}
	if (!json_nesting_ok(json, len, RM_JSON_DEPTH)) {
		*status = reply_msg(out, 400, "The request body is nested too deeply");
		return NULL;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		*status = reply_msg(out, 400, "The request body is not a valid JSON object");
		return NULL;
	}
	return root;
}

/* Length in UTF-16 code units, as LINE counts characters: a character
 * outside the BMP counts two.  jansson has already checked the UTF-8. */
static size_t utf16_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c & 0xc0) != 0x80)
			n += c >= 0xf0 ? 2 : 1;
	}
	return n;
}

/* A string member within [min, max] characters; reports and returns NULL
 * otherwise (or when absent and optional). */
static const char *check_string(json_t *details, json_t *obj, const char *key, const char *prefix,
				bool required, size_t min, size_t max)
{
	json_t *v = json_object_get(obj, key);
	char prop[96];
	size_t n;

	str_msg(prop, sizeof(prop), "%s%s", prefix, key);
	if (v == NULL || json_is_null(v)) {
		if (required)
			detail(details, prop, "must be specified");
		return NULL;
	}
	if (!json_is_string(v)) {
		detail(details, prop, "must be a string");
		return NULL;
	}
	n = utf16_len(json_string_value(v));
	if (n < min || n > max) {
		detail(details, prop, "size must be between %zu and %zu", min, max);
		return NULL;
	}
	return json_string_value(v);
}

/* An integer member in [min, max]. */
static bool check_int(json_t *details, json_t *obj, const char *key, const char *prefix,
		      long long min, long long max, long long *out)
{
	json_t *v = json_object_get(obj, key);
	char prop[96];

	str_msg(prop, sizeof(prop), "%s%s", prefix, key);
	if (v == NULL || json_is_null(v)) {
		detail(details, prop, "must be specified");
		return false;
	}
	if (!json_is_integer(v)) {
		detail(details, prop, "must be an integer");
		return false;
	}
	*out = json_integer_value(v);
	if (*out < min || *out > max) {
		detail(details, prop, "must be between %lld and %lld", min, max);
		return false;
	}
	return true;
}

static bool alias_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	if (n < 1 || n > RM_ALIAS_SIZE - 1)
		return false;
	for (i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* "U" and 32 lower-case hex digits, as LINE's user ids. */
static bool user_id_ok(const char *id)
{
	size_t i;

	if (id == NULL || id[0] != 'U' || strlen(id) != RM_USER_SIZE - 1)
		return false;
	for (i = 1; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

/* The schemes LINE accepts in a uri action. */
static bool uri_ok(const char *uri, bool desktop)
{
	static const char *const schemes[] = {"http://", "https://", "line://", "tel:"};
	size_t i, n = desktop ? 2 : sizeof(schemes) / sizeof(schemes[0]);

	for (i = 0; i < n; i++)
		if (strncasecmp(uri, schemes[i], strlen(schemes[i])) == 0)
			return uri[strlen(schemes[i])] != '\0';
	return false;
}

/* "YYYY-MM-DD", "HH:mm" or "YYYY-MM-DDtHH:mm" (t or T), by shape. */
static bool datetime_ok(const char *mode, const char *v)
{
	static const char date[] = "dddd-dd-dd", time_[] = "dd:dd", both[] = "dddd-dd-ddtdd:dd";
	const char *shape = strcmp(mode, "date") == 0	? date
			    : strcmp(mode, "time") == 0 ? time_
							: both;
	size_t i;

	if (strlen(v) != strlen(shape))
		return false;
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd'   ? !(v[i] >= '0' && v[i] <= '9')
		    : shape[i] == 't' ? !(v[i] == 't' || v[i] == 'T')
				      : v[i] != shape[i])
			return false;
	}
	return true;
}

static void check_action(json_t *details, json_t *a, const char *prefix)
{
	char p[80], prop[96];
	const char *type, *s;

	str_msg(p, sizeof(p), "%s.", prefix);
	if (!json_is_object(a)) {
		detail(details, prefix,
		       json_is_null(a) || a == NULL ? "must be specified" : "must be an object");
		return;
	}
	type = check_string(details, a, "type", p, true, 1, 32);
	(void)check_string(details, a, "label", p, false, 0, 20);
	if (type == NULL)
		return;
	if (strcmp(type, "postback") == 0) {
		const char *display = check_string(details, a, "displayText", p, false, 0, 300);
		const char *text = check_string(details, a, "text", p, false, 0, 300);
		(void)check_string(details, a, "data", p, true, 0, 300);
		(void)check_string(details, a, "fillInText", p, false, 0, 300);
		if (display != NULL && text != NULL) {
			str_msg(prop, sizeof(prop), "%stext", p);
			detail(details, prop, "displayText and text cannot both be specified");
		}
		s = check_string(details, a, "inputOption", p, false, 1, 32);
		if (s != NULL && strcmp(s, "closeRichMenu") != 0 &&
		    strcmp(s, "openRichMenu") != 0 && strcmp(s, "openKeyboard") != 0 &&
		    strcmp(s, "openVoice") != 0) {
			str_msg(prop, sizeof(prop), "%sinputOption", p);
			detail(details, prop, "invalid inputOption");
		}
	} else if (strcmp(type, "message") == 0) {
		(void)check_string(details, a, "text", p, true, 1, 300);
	} else if (strcmp(type, "uri") == 0) {
		json_t *alt = json_object_get(a, "altUri");
		s = check_string(details, a, "uri", p, true, 1, 1000);
		if (s != NULL && !uri_ok(s, false)) {
			str_msg(prop, sizeof(prop), "%suri", p);
			detail(details, prop, "invalid uri scheme (http, https, line or tel)");
		}
		if (alt != NULL) {
			char altp[96];
			str_msg(altp, sizeof(altp), "%saltUri.", p);
			s = json_is_object(alt)
				    ? check_string(details, alt, "desktop", altp, true, 1, 1000)
				    : NULL;
			if (!json_is_object(alt) || (s != NULL && !uri_ok(s, true))) {
				str_msg(prop, sizeof(prop), "%saltUri.desktop", p);
				detail(details, prop, "invalid uri scheme (http or https)");
			}
		}
	} else if (strcmp(type, "datetimepicker") == 0) {
		static const char *const bounds[] = {"initial", "max", "min"};
		const char *mode;
		size_t i;

		(void)check_string(details, a, "data", p, true, 0, 300);
		mode = check_string(details, a, "mode", p, true, 1, 16);
		if (mode != NULL && strcmp(mode, "date") != 0 && strcmp(mode, "time") != 0 &&
		    strcmp(mode, "datetime") != 0) {
			str_msg(prop, sizeof(prop), "%smode", p);
			detail(details, prop, "must be one of date, time or datetime");
			mode = NULL;
		}
		for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
			s = check_string(details, a, bounds[i], p, false, 1, 16);
			if (s != NULL && mode != NULL && !datetime_ok(mode, s)) {
				str_msg(prop, sizeof(prop), "%s%s", p, bounds[i]);
				detail(details, prop, "invalid %s format", mode);
			}
		}
	} else if (strcmp(type, "richmenuswitch") == 0) {
		s = check_string(details, a, "richMenuAliasId", p, true, 1, 32);
		if (s != NULL && !alias_id_ok(s)) {
			str_msg(prop, sizeof(prop), "%srichMenuAliasId", p);
			detail(details, prop, "must match ^[a-z0-9_-]{1,32}$");
		}
		(void)check_string(details, a, "data", p, true, 0, 300);
	} else if (strcmp(type, "clipboard") == 0) {
		(void)check_string(details, a, "clipboardText", p, true, 1, 1000);
	} else if (strcmp(type, "camera") != 0 && strcmp(type, "cameraRoll") != 0 &&
		   strcmp(type, "location") != 0) {
		/* LINE's API takes camera, cameraRoll and location in a rich
		 * menu too (the app ignores them), so they pass here. */
		str_msg(prop, sizeof(prop), "%stype", p);
		detail(details, prop, "invalid action type");
	}
}

static void menu_free(struct menu *m)
{
	if (m == NULL)
		return;
	json_decref(m->obj);
	free(m->image);
	free(m);
}

/* Validates a RichMenuRequest; with details empty, m holds the menu (id
 * not yet set).  m may be NULL to validate only. */
static void check_menu(json_t *details, json_t *root, struct menu *m)
{
	json_t *size = json_object_get(root, "size"), *areas = json_object_get(root, "areas");
	json_t *selected = json_object_get(root, "selected");
	long long w = 0, h = 0;
	bool size_ok = false;
	size_t i;

	if (!json_is_object(size)) {
		detail(details, "size", size == NULL ? "must be specified" : "must be an object");
	} else {
		bool wok = check_int(details, size, "width", "size.", 800, 2500, &w);
		bool hok = check_int(details, size, "height", "size.", 250, INT32_MAX, &h);
		size_ok = wok && hok;
		/* LINE's rule: the aspect ratio width/height is at least 1.45. */
		if (size_ok && w * 100 < h * 145) {
			detail(details, "size", "width/height aspect ratio must be 1.45 or more");
			size_ok = false;
		}
	}
	if (!json_is_boolean(selected))
		detail(details, "selected",
		       selected == NULL ? "must be specified" : "must be a boolean");
	(void)check_string(details, root, "name", "", true, 1, 300);
	(void)check_string(details, root, "chatBarText", "", true, 1, 14);
	if (!json_is_array(areas)) {
		detail(details, "areas", areas == NULL ? "must be specified" : "must be an array");
		return;
	}
	if (json_array_size(areas) < 1 || json_array_size(areas) > RM_AREAS_MAX) {
		detail(details, "areas", "size must be between 1 and %d", RM_AREAS_MAX);
		return;
	}
	for (i = 0; i < json_array_size(areas); i++) {
		json_t *area = json_array_get(areas, i), *bounds;
		char prefix[48], bp[48];
		long long x = 0, y = 0, aw = 0, ah = 0;
		bool ok;

		str_msg(prefix, sizeof(prefix), "areas[%zu]", i);
		if (!json_is_object(area)) {
			detail(details, prefix, "must be an object");
			continue;
		}
		str_msg(bp, sizeof(bp), "areas[%zu].bounds", i);
		bounds = json_object_get(area, "bounds");
		if (!json_is_object(bounds)) {
			detail(details, bp,
			       bounds == NULL ? "must be specified" : "must be an object");
		} else {
			char bpd[56];
			str_msg(bpd, sizeof(bpd), "%s.", bp);
			ok = check_int(details, bounds, "x", bpd, 0, INT32_MAX, &x);
			ok &= check_int(details, bounds, "y", bpd, 0, INT32_MAX, &y);
			ok &= check_int(details, bounds, "width", bpd, 1, INT32_MAX, &aw);
			ok &= check_int(details, bounds, "height", bpd, 1, INT32_MAX, &ah);
			/* Operands are below 2^31, so the sums cannot overflow. */
			if (ok && size_ok && (x + aw > w || y + ah > h))
				detail(details, bp, "must be inside the rich menu (%lldx%lld)", w,
				       h);
			if (m != NULL && i < RM_AREAS_MAX) {
				m->areas[i].x = x;
				m->areas[i].y = y;
				m->areas[i].w = aw;
				m->areas[i].h = ah;
			}
		}
		str_msg(prefix, sizeof(prefix), "areas[%zu].action", i);
		check_action(details, json_object_get(area, "action"), prefix);
		if (m != NULL)
			m->areas[i].action = json_object_get(area, "action");
	}
	if (m != NULL) {
		m->w = w;
		m->h = h;
		m->n_areas = json_array_size(areas);
	}
}

/* --- store ------------------------------------------------------------------ */

struct richmenu_store *richmenu_store_new(void)
{
	struct richmenu_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->users = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	if (s->users == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void richmenu_store_reset(struct richmenu_store *s)
{
	size_t i;

	for (i = 0; i < s->n_menus; i++)
		menu_free(s->menus[i]);
	s->n_menus = 0;
	s->n_aliases = 0;
	s->default_menu[0] = '\0';
	s->last_batch[0] = '\0';
	g_hash_table_remove_all(s->users);
}

void richmenu_store_free(struct richmenu_store *s)
{
	if (s == NULL)
		return;
	richmenu_store_reset(s);
	g_hash_table_destroy(s->users);
	free(s);
}

void richmenu_set_auth(struct richmenu_store *s,
		       bool (*fn)(void *ctx, const struct httpd_request *req), void *ctx)
{
	s->auth = fn;
	s->auth_ctx = ctx;
}

void richmenu_set_limiter(struct richmenu_store *s, bool (*allow)(void *ctx, const char *bucket),
			  void *ctx)
{
	s->allow = allow;
	s->allow_ctx = ctx;
}

static struct menu *find_menu(struct richmenu_store *s, const char *id, size_t *index)
{
	size_t i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < s->n_menus; i++) {
		if (strcmp(s->menus[i]->id, id) == 0) {
			if (index != NULL)
				*index = i;
			return s->menus[i];
		}
	}
	return NULL;
}

static struct alias *find_alias(struct richmenu_store *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n_aliases; i++)
		if (strcmp(s->aliases[i].id, id) == 0)
			return &s->aliases[i];
	return NULL;
}

/* The user's link when its menu still exists; a stale one is dropped. */
static struct ulink *user_link(struct richmenu_store *s, const char *user_id)
{
	struct ulink *u = g_hash_table_lookup(s->users, user_id);

	if (u != NULL && find_menu(s, u->menu, NULL) == NULL) {
		g_hash_table_remove(s->users, user_id);
		u = NULL;
	}
	return u;
}

static bool set_link(struct richmenu_store *s, const char *user_id, const char *menu_id,
		     const char *alias_id)
{
	struct ulink *u = g_hash_table_lookup(s->users, user_id);

	if (u == NULL) {
		u = g_try_malloc0(sizeof(*u));
		if (u == NULL || !str_copy(u->user, user_id, sizeof(u->user))) {
			g_free(u);
			return false;
		}
		g_hash_table_replace(s->users, u->user, u);
	}
	if (!str_copy(u->menu, menu_id, sizeof(u->menu)) ||
	    !str_copy(u->alias, alias_id != NULL ? alias_id : "", sizeof(u->alias))) {
		g_hash_table_remove(s->users, user_id);
		return false;
	}
	return true;
}

const char *richmenu_of_user(struct richmenu_store *s, const char *user_id)
{
	struct ulink *u = user_id != NULL ? user_link(s, user_id) : NULL;

	if (u != NULL)
		return u->menu;
	if (s->default_menu[0] != '\0' && find_menu(s, s->default_menu, NULL) != NULL)
		return s->default_menu;
	return NULL;
}

const char *richmenu_alias_of_user(struct richmenu_store *s, const char *user_id)
{
	struct ulink *u = user_id != NULL ? user_link(s, user_id) : NULL;
	struct alias *a;

	if (u == NULL || u->alias[0] == '\0')
		return NULL;
	a = find_alias(s, u->alias);
	return a != NULL && strcmp(a->menu, u->menu) == 0 ? a->id : NULL;
}

bool richmenu_area_at(struct richmenu_store *s, const char *user_id, int x, int y,
		      json_t **action_out)
{
	struct menu *m = find_menu(s, richmenu_of_user(s, user_id), NULL);
	size_t i;

	*action_out = NULL;
	if (m == NULL)
		return false;
	/* Areas may overlap; the first one listed wins. */
	for (i = 0; i < m->n_areas; i++) {
		const struct area *a = &m->areas[i];
		if (x >= a->x && x < a->x + a->w && y >= a->y && y < a->y + a->h) {
			*action_out = json_incref(a->action);
			return true;
		}
	}
	return false;
}

bool richmenu_switch_alias(struct richmenu_store *s, const char *user_id, const char *alias_id)
{
	struct alias *a = alias_id != NULL ? find_alias(s, alias_id) : NULL;
	struct menu *m = a != NULL ? find_menu(s, a->menu, NULL) : NULL;

	if (m == NULL || m->image == NULL || !user_id_ok(user_id))
		return false;
	return set_link(s, user_id, m->id, a->id);
}

/* --- verbs ------------------------------------------------------------------ */

/* Validates root into a new menu, or answers the error and returns NULL. */
static struct menu *menu_from_request(json_t *root, char **out, int *status)
{
	json_t *details = json_array();
	struct menu *m = calloc(1, sizeof(*m));

	*status = 500;
	*out = NULL;
	if (details == NULL || m == NULL)
		goto fail;
	check_menu(details, root, m);
	if (json_array_size(details) > 0) {
		*status = reply_details(out, details);
		goto fail;
	}
	json_decref(details);
	return m;
fail:
	json_decref(details);
	free(m);
	return NULL;
}

int richmenu_validate(struct richmenu_store *s, const char *json, size_t len, char **reply_json)
{
	json_t *root;
	struct menu *m;
	int status = 500;

	(void)s;
	root = parse_body(json, len, reply_json, &status);
	if (root == NULL)
		return status;
	m = menu_from_request(root, reply_json, &status);
	if (m != NULL) {
		free(m);
		status = reply_ok(reply_json, 200);
	}
	json_decref(root);
	return status;
}

int richmenu_create(struct richmenu_store *s, const char *json, size_t len, char **reply_json)
{
	unsigned char raw[16];
	char hex[33];
	json_t *root, *areas;
	struct menu *m = NULL;
	size_t i;
	int status = 500;

	root = parse_body(json, len, reply_json, &status);
	if (root == NULL)
		return status;
	m = menu_from_request(root, reply_json, &status);
	if (m == NULL)
		goto done;
	if (s->n_menus >= RM_MENUS_MAX) {
		status = reply_msg(reply_json, 400,
				   "The maximum number of rich menus (1000) has "
				   "been reached");
		goto done;
	}
	status = 500;
	*reply_json = NULL;
	if (RAND_bytes(raw, sizeof(raw)) != 1 || !str_hex(raw, sizeof(raw), hex, sizeof(hex)) ||
	    !str_printf(m->id, sizeof(m->id), "richmenu-%s", hex))
		goto done;
	/* Keep our own copy of the areas: the actions handed out by
	 * richmenu_area_at() must not share the request's tree. */
	areas = json_deep_copy(json_object_get(root, "areas"));
	m->obj = json_pack("{s:s, s:{s:I, s:I}, s:O, s:O, s:O, s:o}", "richMenuId", m->id, "size",
			   "width", (json_int_t)m->w, "height", (json_int_t)m->h, "selected",
			   json_object_get(root, "selected"), "name", json_object_get(root, "name"),
			   "chatBarText", json_object_get(root, "chatBarText"), "areas", areas);
	if (m->obj == NULL)
		goto done;
	areas = json_object_get(m->obj, "areas");
	for (i = 0; i < m->n_areas; i++)
		m->areas[i].action = json_object_get(json_array_get(areas, i), "action");
	s->menus[s->n_menus++] = m;
	status = reply_json_obj(reply_json, 200, json_pack("{s:s}", "richMenuId", m->id));
	m = NULL;
done:
	menu_free(m);
	json_decref(root);
	return status;
}

int richmenu_get(struct richmenu_store *s, const char *id, char **reply_json)
{
	struct menu *m = find_menu(s, id, NULL);

	if (m == NULL)
		return not_found(reply_json);
	return reply_json_obj(reply_json, 200, json_incref(m->obj));
}

int richmenu_list(struct richmenu_store *s, char **reply_json)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; list != NULL && i < s->n_menus; i++) {
		if (json_array_append(list, s->menus[i]->obj) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return reply_json_obj(reply_json, 200,
			      list != NULL ? json_pack("{s:o}", "richmenus", list) : NULL);
}

int richmenu_delete(struct richmenu_store *s, const char *id, char **reply_json)
{
	size_t i;
	struct menu *m = find_menu(s, id, &i);

	if (m == NULL)
		return not_found(reply_json);
	/* Users linked to it fall back to the default lazily (user_link()). */
	if (strcmp(s->default_menu, m->id) == 0)
		s->default_menu[0] = '\0';
	memmove(&s->menus[i], &s->menus[i + 1], (s->n_menus - i - 1) * sizeof(s->menus[0]));
	s->n_menus--;
	menu_free(m);
	return reply_ok(reply_json, 200);
}

/* PNG: an 8-byte signature, then the IHDR chunk first (length 13), whose
 * data starts with the width and height, big-endian, 1..2^31-1. */
bool richmenu_png_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	uint32_t len, ww, hh;

	if (p == NULL || n < 8 + 8 + 13 || memcmp(p, sig, sizeof(sig)) != 0)
		return false;
	len = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	if (len != 13 || memcmp(p + 12, "IHDR", 4) != 0)
		return false;
	ww = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
	hh = (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
	if (ww == 0 || hh == 0 || ww > INT32_MAX || hh > INT32_MAX)
		return false;
	*w = ww;
	*h = hh;
	return true;
}

/* JPEG: SOI, then marker segments (FF xx, a 2-byte length that counts
 * itself) until a start-of-frame SOFn, whose data is precision, height,
 * width.  Fill bytes (FF FF…) and standalone markers are skipped; reaching
 * SOS or EOI first, or any segment running past the end, is an error. */
bool richmenu_jpeg_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h)
{
	size_t i = 2;

	if (p == NULL || n < 4 || p[0] != 0xff || p[1] != 0xd8)
		return false;
	while (i < n) {
		unsigned marker;
		size_t len;

		if (p[i] != 0xff)
			return false;
		while (i < n && p[i] == 0xff)
			i++;
		if (i >= n)
			return false;
		marker = p[i++];
		if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
			continue; /* TEM, RSTn: no length */
		if (marker == 0xd9 || marker == 0xda || marker == 0x00)
			return false;
		if (n - i < 2)
			return false;
		len = (size_t)p[i] << 8 | p[i + 1];
		if (len < 2 || len > n - i)
			return false;
		/* SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC). */
		if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
		    marker != 0xcc) {
			unsigned hh, ww;
			if (len < 2 + 1 + 2 + 2)
				return false;
			hh = (unsigned)p[i + 3] << 8 | p[i + 4];
			ww = (unsigned)p[i + 5] << 8 | p[i + 6];
			/* A height of 0 defers to a DNL marker; LINE needs it here. */
			if (ww == 0 || hh == 0)
				return false;
			*w = ww;
			*h = hh;
			return true;
		}
		i += len;
	}
	return false;
}

static bool media_type_is(const char *content_type, const char *type)
{
	size_t n = strlen(type);

	return content_type != NULL && strncasecmp(content_type, type, n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

int richmenu_upload(struct richmenu_store *s, const char *id, const char *content_type,
		    const void *data, size_t len, char **reply_json)
{
	struct menu *m = find_menu(s, id, NULL);
	unsigned w = 0, h = 0;
	bool png = media_type_is(content_type, "image/png");
	char msg[128];

	if (m == NULL)
		return not_found(reply_json);
	if (!png && !media_type_is(content_type, "image/jpeg"))
		return reply_msg(reply_json, 415, "Unsupported media type");
	if (len > RM_IMAGE_MAX)
		return reply_msg(reply_json, 413, "The image must be 1 MB or smaller");
	if (m->image != NULL)
		return reply_msg(reply_json, 400,
				 "An image has already been uploaded to the richmenu");
	if (png ? !richmenu_png_size(data, len, &w, &h) : !richmenu_jpeg_size(data, len, &w, &h))
		return reply_msg(reply_json, 400,
				 png ? "The image is not a valid PNG"
				     : "The image is not a valid JPEG");
	if (w != m->w || h != m->h) {
		str_msg(msg, sizeof(msg),
			"The image size (%ux%u) must be the same as the rich menu size (%lldx%lld)",
			w, h, m->w, m->h);
		return reply_msg(reply_json, 400, msg);
	}
	m->image = malloc(len > 0 ? len : 1);
	if (m->image == NULL)
		return internal_error(reply_json);
	memcpy(m->image, data, len);
	m->image_len = len;
	m->image_type = png ? "image/png" : "image/jpeg";
	return reply_ok(reply_json, 200);
}

int richmenu_download(struct richmenu_store *s, const char *id, const void **data, size_t *len,
		      const char **content_type, char **reply_json)
{
	struct menu *m = find_menu(s, id, NULL);

	*reply_json = NULL;
	if (m == NULL || m->image == NULL)
		return not_found(reply_json);
	*data = m->image;
	*len = m->image_len;
	*content_type = m->image_type;
	return 200;
}

/* A menu that users can be given: it exists and has its image. */
static struct menu *applicable(struct richmenu_store *s, const char *id, char **out, int *status)
{
	struct menu *m = find_menu(s, id, NULL);

	if (m == NULL)
		*status = not_found(out);
	else if (m->image == NULL)
		*status = reply_msg(out, 400,
				    "must upload richmenu image before applying it to user");
	return m != NULL && m->image != NULL ? m : NULL;
}

int richmenu_set_default(struct richmenu_store *s, const char *id, char **reply_json)
{
	int status;
	struct menu *m = applicable(s, id, reply_json, &status);

	if (m == NULL)
		return status;
	if (!str_copy(s->default_menu, m->id, sizeof(s->default_menu)))
		return internal_error(reply_json);
	return reply_ok(reply_json, 200);
}

int richmenu_get_default(struct richmenu_store *s, char **reply_json)
{
	if (s->default_menu[0] == '\0' || find_menu(s, s->default_menu, NULL) == NULL)
		return reply_msg(reply_json, 404, "no default richmenu");
	return reply_json_obj(reply_json, 200, json_pack("{s:s}", "richMenuId", s->default_menu));
}

int richmenu_clear_default(struct richmenu_store *s, char **reply_json)
{
	s->default_menu[0] = '\0';
	return reply_ok(reply_json, 200);
}

static int bad_user(char **out)
{
	return reply_msg(out, 400, "The value for the 'userId' parameter is invalid");
}

int richmenu_link(struct richmenu_store *s, const char *user_id, const char *id, char **reply_json)
{
	int status;
	struct menu *m;

	if (!user_id_ok(user_id))
		return bad_user(reply_json);
	m = applicable(s, id, reply_json, &status);
	if (m == NULL)
		return status;
	if (!set_link(s, user_id, m->id, NULL))
		return internal_error(reply_json);
	return reply_ok(reply_json, 200);
}

int richmenu_unlink(struct richmenu_store *s, const char *user_id, char **reply_json)
{
	if (!user_id_ok(user_id))
		return bad_user(reply_json);
	g_hash_table_remove(s->users, user_id);
	return reply_ok(reply_json, 200);
}

int richmenu_get_user(struct richmenu_store *s, const char *user_id, char **reply_json)
{
	struct ulink *u;

	if (!user_id_ok(user_id))
		return bad_user(reply_json);
	/* Only a menu linked to the user counts here, not the default. */
	u = user_link(s, user_id);
	if (u == NULL)
		return reply_msg(reply_json, 404, "the user has no richmenu");
	return reply_json_obj(reply_json, 200, json_pack("{s:s}", "richMenuId", u->menu));
}

/* userIds: 1..500 valid user ids; reports into details. */
static json_t *check_user_ids(json_t *details, json_t *root)
{
	json_t *ids = json_object_get(root, "userIds");
	size_t i;

	if (!json_is_array(ids)) {
		detail(details, "userIds", ids == NULL ? "must be specified" : "must be an array");
		return NULL;
	}
	if (json_array_size(ids) < 1 || json_array_size(ids) > RM_BULK_MAX) {
		detail(details, "userIds", "size must be between 1 and %d", RM_BULK_MAX);
		return NULL;
	}
	for (i = 0; i < json_array_size(ids); i++) {
		if (!user_id_ok(json_string_value(json_array_get(ids, i)))) {
			char prop[32];
			str_msg(prop, sizeof(prop), "userIds[%zu]", i);
			detail(details, prop, "invalid user id");
		}
	}
	return ids;
}

static int bulk(struct richmenu_store *s, const char *json, size_t len, bool link,
		char **reply_json)
{
	json_t *root, *details = NULL, *ids;
	const char *menu_id = NULL;
	struct menu *m = NULL;
	int status = 500;
	size_t i;

	root = parse_body(json, len, reply_json, &status);
	if (root == NULL)
		return status;
	details = json_array();
	if (details == NULL)
		goto done;
	if (link)
		menu_id = check_string(details, root, "richMenuId", "", true, 1, RM_ID_SIZE - 1);
	ids = check_user_ids(details, root);
	if (json_array_size(details) > 0) {
		status = reply_details(reply_json, details);
		goto done;
	}
	if (link && (m = applicable(s, menu_id, reply_json, &status)) == NULL)
		goto done;
	/* All or nothing: every id was checked above. */
	for (i = 0; i < json_array_size(ids); i++) {
		const char *uid = json_string_value(json_array_get(ids, i));
		if (!link)
			g_hash_table_remove(s->users, uid);
		else if (!set_link(s, uid, m->id, NULL))
			goto done;
	}
	status = reply_ok(reply_json, 202);
done:
	if (status == 500)
		(void)internal_error(reply_json);
	json_decref(details);
	json_decref(root);
	return status;
}

int richmenu_bulk_link(struct richmenu_store *s, const char *json, size_t len, char **reply_json)
{
	return bulk(s, json, len, true, reply_json);
}

int richmenu_bulk_unlink(struct richmenu_store *s, const char *json, size_t len, char **reply_json)
{
	return bulk(s, json, len, false, reply_json);
}

/* Validates an alias body; with create, the alias id too.  On success
 * returns the (applicable) menu's id. */
static const char *alias_body(struct richmenu_store *s, json_t *root, bool create,
			      const char **alias_id, char **out, int *status)
{
	json_t *details = json_array();
	const char *menu_id;
	struct menu *m;

	*status = 500;
	if (details == NULL)
		return NULL;
	if (create) {
		*alias_id = check_string(details, root, "richMenuAliasId", "", true, 1, 32);
		if (*alias_id != NULL && !alias_id_ok(*alias_id))
			detail(details, "richMenuAliasId", "must match ^[a-z0-9_-]{1,32}$");
	}
	menu_id = check_string(details, root, "richMenuId", "", true, 1, RM_ID_SIZE - 1);
	if (json_array_size(details) > 0) {
		*status = reply_details(out, details);
		json_decref(details);
		return NULL;
	}
	json_decref(details);
	m = find_menu(s, menu_id, NULL);
	if (m == NULL) {
		*status = reply_msg(out, 400, "richmenu not found");
		return NULL;
	}
	if (m->image == NULL) {
		*status = reply_msg(out, 400,
				    "must upload richmenu image before applying it to user");
		return NULL;
	}
	return m->id;
}

int richmenu_alias_create(struct richmenu_store *s, const char *json, size_t len, char **reply_json)
{
	const char *alias_id = NULL, *menu_id;
	struct alias *a;
	json_t *root;
	int status = 500;

	root = parse_body(json, len, reply_json, &status);
	if (root == NULL)
		return status;
	menu_id = alias_body(s, root, true, &alias_id, reply_json, &status);
	if (menu_id == NULL)
		goto done;
	if (find_alias(s, alias_id) != NULL) {
		status = reply_msg(reply_json, 400, "conflict richmenu alias id");
		goto done;
	}
	if (s->n_aliases >= RM_ALIASES_MAX) {
		status = reply_msg(
			reply_json, 400,
			"The maximum number of rich menu aliases (1000) has been reached");
		goto done;
	}
	a = &s->aliases[s->n_aliases];
	if (!str_copy(a->id, alias_id, sizeof(a->id)) ||
	    !str_copy(a->menu, menu_id, sizeof(a->menu)))
		goto done;
	s->n_aliases++;
	status = reply_ok(reply_json, 200);
done:
	if (status == 500)
		(void)internal_error(reply_json);
	json_decref(root);
	return status;
}

int richmenu_alias_update(struct richmenu_store *s, const char *alias_id, const char *json,
			  size_t len, char **reply_json)
{
	struct alias *a = find_alias(s, alias_id);
	const char *menu_id;
	json_t *root;
	int status = 500;

	if (a == NULL)
		return reply_msg(reply_json, 404, "richmenu alias not found");
	root = parse_body(json, len, reply_json, &status);
	if (root == NULL)
		return status;
	menu_id = alias_body(s, root, false, NULL, reply_json, &status);
	if (menu_id != NULL) {
		if (str_copy(a->menu, menu_id, sizeof(a->menu)))
			status = reply_ok(reply_json, 200);
		else
			status = internal_error(reply_json);
	}
	json_decref(root);
	return status;
}

int richmenu_alias_delete(struct richmenu_store *s, const char *alias_id, char **reply_json)
{
	struct alias *a = find_alias(s, alias_id);
	size_t i;

	if (a == NULL)
		return reply_msg(reply_json, 404, "richmenu alias not found");
	i = (size_t)(a - s->aliases);
	memmove(&s->aliases[i], &s->aliases[i + 1], (s->n_aliases - i - 1) * sizeof(s->aliases[0]));
	s->n_aliases--;
	return reply_ok(reply_json, 200);
}

int richmenu_alias_get(struct richmenu_store *s, const char *alias_id, char **reply_json)
{
	struct alias *a = find_alias(s, alias_id);

	if (a == NULL)
		return reply_msg(reply_json, 404, "richmenu alias not found");
	return reply_json_obj(
		reply_json, 200,
		json_pack("{s:s, s:s}", "richMenuAliasId", a->id, "richMenuId", a->menu));
}

int richmenu_alias_list(struct richmenu_store *s, char **reply_json)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; list != NULL && i < s->n_aliases; i++) {
		if (json_array_append_new(list, json_pack("{s:s, s:s}", "richMenuAliasId",
							  s->aliases[i].id, "richMenuId",
							  s->aliases[i].menu)) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return reply_json_obj(reply_json, 200,
			      list != NULL ? json_pack("{s:o}", "aliases", list) : NULL);
}

/* --- batch -------------------------------------------------------------------- */

struct batch_op {
	const char *from, *to;
	enum { OP_LINK, OP_UNLINK, OP_UNLINK_ALL } type;
};

static gboolean batch_apply(gpointer key, gpointer value, gpointer data)
{
	struct ulink *u = value;
	const struct batch_op *op = data;

	(void)key;
	if (op->type == OP_UNLINK_ALL)
		return TRUE;
	if (strcmp(u->menu, op->from) != 0)
		return FALSE;
	if (op->type == OP_UNLINK)
		return TRUE;
	u->alias[0] = '\0';
	/* to always fits, being an existing menu's id; if not, drop the link. */
	return !str_copy(u->menu, op->to, sizeof(u->menu));
}

/* Now as ISO 8601 UTC with milliseconds, as LINE's acceptedTime. */
static void batch_time(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;

	out[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL)
		return;
	str_msg(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* GET /v2/bot/richmenu/progress/batch?requestId=…: request ids belong to
 * the core, so any id is taken to be the last batch's. */
int richmenu_batch_progress(struct richmenu_store *s, const char *request_id, char **reply_json)
{
	if (request_id == NULL || request_id[0] == '\0') {
		json_t *details = json_pack("[{s:s, s:s}]", "message", "must be specified",
					    "property", "requestId");
		int status;

		if (details == NULL)
			return internal_error(reply_json);
		status =
			reply_json_obj(reply_json, 400,
				       json_pack("{s:s, s:o}", "message",
						 "The request has 1 error(s)", "details", details));
		return status;
	}
	if (s->last_batch[0] == '\0')
		return not_found(reply_json);
	return reply_json_obj(reply_json, 200,
			      json_pack("{s:s, s:s, s:s}", "phase", "succeeded", "acceptedTime",
					s->last_batch, "completedTime", s->last_batch));
}

/* POST /v2/bot/richmenu/batch and /validate/batch: operations link (from
 * → to), unlink (from), unlinkAll, applied in order. */
int richmenu_batch(struct richmenu_store *s, const char *json, size_t len, bool apply,
		   char **reply_json)
{
	json_t *root, *details = NULL, *ops;
	int status = 500;
	size_t i;

	root = parse_body(json, len, reply_json, &status);
	if (root == NULL)
		return status;
	details = json_array();
	if (details == NULL)
		goto done;
	ops = json_object_get(root, "operations");
	if (!json_is_array(ops) || json_array_size(ops) < 1 ||
	    json_array_size(ops) > RM_BATCH_MAX) {
		detail(details, "operations", "size must be between 1 and %d", RM_BATCH_MAX);
	} else {
		for (i = 0; i < json_array_size(ops); i++) {
			json_t *op = json_array_get(ops, i);
			char p[32], prop[40];
			const char *type, *from, *to;

			str_msg(p, sizeof(p), "operations[%zu].", i);
			type = json_is_object(op)
				       ? check_string(details, op, "type", p, true, 1, 16)
				       : NULL;
			if (type == NULL)
				continue;
			str_msg(prop, sizeof(prop), "%sfrom", p);
			if (strcmp(type, "link") == 0 || strcmp(type, "unlink") == 0) {
				from = check_string(details, op, "from", p, true, 1,
						    RM_ID_SIZE - 1);
				if (from != NULL && find_menu(s, from, NULL) == NULL)
					detail(details, prop, "richmenu not found");
			}
			str_msg(prop, sizeof(prop), "%sto", p);
			if (strcmp(type, "link") == 0) {
				struct menu *m;
				to = check_string(details, op, "to", p, true, 1, RM_ID_SIZE - 1);
				m = to != NULL ? find_menu(s, to, NULL) : NULL;
				if (to != NULL && (m == NULL || m->image == NULL))
					detail(details, prop,
					       m == NULL ? "richmenu not found"
							 : "must upload richmenu image before "
							   "applying it to user");
			} else if (strcmp(type, "unlink") != 0 && strcmp(type, "unlinkAll") != 0) {
				str_msg(prop, sizeof(prop), "%stype", p);
				detail(details, prop, "must be one of link, unlink or unlinkAll");
			}
		}
	}
	if (json_object_get(root, "resumeRequestKey") != NULL) {
		const char *key =
			check_string(details, root, "resumeRequestKey", "", false, 1, 100);
		if (key != NULL && !(strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
						 "TUVWXYZ0123456789_-") == strlen(key)))
			detail(details, "resumeRequestKey", "must match ^[a-zA-Z0-9_-]{1,100}$");
	}
	if (json_array_size(details) > 0) {
		status = reply_details(reply_json, details);
		goto done;
	}
	if (!apply) {
		status = reply_ok(reply_json, 200);
		goto done;
	}
	for (i = 0; i < json_array_size(ops); i++) {
		json_t *op = json_array_get(ops, i);
		const char *type = json_string_value(json_object_get(op, "type"));
		struct batch_op b = {
			.from = json_string_value(json_object_get(op, "from")),
			.to = json_string_value(json_object_get(op, "to")),
			.type = strcmp(type, "link") == 0     ? OP_LINK
				: strcmp(type, "unlink") == 0 ? OP_UNLINK
							      : OP_UNLINK_ALL,
		};
		g_hash_table_foreach_remove(s->users, batch_apply, &b);
	}
	batch_time(s->last_batch, sizeof(s->last_batch));
	status = reply_ok(reply_json, 202);
done:
	if (status == 500)
		(void)internal_error(reply_json);
	json_decref(details);
	json_decref(root);
	return status;
}

/* --- routing ------------------------------------------------------------------ */

/* Splits path after prefix into at most RM_SEGMENTS segments (bounded
 * copies); false when there are more or one is too long. */
static bool split_path(const char *path, char seg[RM_SEGMENTS][RM_SEGMENT_MAX], size_t *count)
{
	const char *p = path;

	*count = 0;
	while (*p == '/') {
		const char *end;
		size_t n;

		p++;
		end = strchr(p, '/');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (*count >= RM_SEGMENTS || n >= RM_SEGMENT_MAX)
			return false;
		memcpy(seg[*count], p, n);
		seg[*count][n] = '\0';
		(*count)++;
		p += n;
	}
	return *p == '\0';
}

static bool limited(struct richmenu_store *s, const char *bucket)
{
	return s->allow != NULL && !s->allow(s->allow_ctx, bucket);
}

/* The route's result: JSON or, for an image download, raw bytes. */
struct answer {
	int status;
	char *json;
	const void *data;
	size_t len;
	const char *type;
};

#define IS(i, str) (strcmp(seg[i], (str)) == 0)

static void route_richmenu(struct richmenu_store *s, const struct httpd_request *req,
			   char seg[RM_SEGMENTS][RM_SEGMENT_MAX], size_t n, struct answer *a)
{
	const char *m = httpd_method(req);
	bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0,
	     del = strcmp(m, "DELETE") == 0;
	size_t len = 0;
	const char *body = httpd_body(req, &len);

	if (body == NULL) {
		body = "";
		len = 0;
	}
	/* seg[0..2] are "v2" "bot" "richmenu". */
	if (n == 3) {
		if (!post)
			a->status = 405;
		else if (limited(s, "richmenu_create_delete"))
			a->status = 429;
		else
			a->status = richmenu_create(s, body, len, &a->json);
	} else if (n == 5 && IS(3, "progress") && IS(4, "batch") && get) {
		a->status = richmenu_batch_progress(s, httpd_query(req, "requestId"), &a->json);
	} else if (n == 4 && IS(3, "validate") && post) {
		a->status = richmenu_validate(s, body, len, &a->json);
	} else if (n == 4 && IS(3, "list") && get) {
		a->status = richmenu_list(s, &a->json);
	} else if (n == 4 && IS(3, "batch") && post) {
		a->status = limited(s, "richmenu_batch")
				    ? 429
				    : richmenu_batch(s, body, len, true, &a->json);
	} else if (n == 5 && IS(3, "validate") && IS(4, "batch") && post) {
		a->status = richmenu_batch(s, body, len, false, &a->json);
	} else if (n == 5 && IS(3, "bulk") && IS(4, "link") && post) {
		a->status = richmenu_bulk_link(s, body, len, &a->json);
	} else if (n == 5 && IS(3, "bulk") && IS(4, "unlink") && post) {
		a->status = richmenu_bulk_unlink(s, body, len, &a->json);
	} else if (n == 4 && IS(3, "alias") && post) {
		a->status = richmenu_alias_create(s, body, len, &a->json);
	} else if (n == 5 && IS(3, "alias") && IS(4, "list") && get) {
		a->status = richmenu_alias_list(s, &a->json);
	} else if (n == 5 && IS(3, "alias") && !IS(4, "list")) {
		if (get)
			a->status = richmenu_alias_get(s, seg[4], &a->json);
		else if (post)
			a->status = richmenu_alias_update(s, seg[4], body, len, &a->json);
		else if (del)
			a->status = richmenu_alias_delete(s, seg[4], &a->json);
		else
			a->status = 405;
	} else if (n == 4 && !IS(3, "list") && !IS(3, "validate") && !IS(3, "alias") &&
		   !IS(3, "batch") && !IS(3, "bulk") && !IS(3, "progress")) {
		if (get)
			a->status = richmenu_get(s, seg[3], &a->json);
		else if (del && limited(s, "richmenu_create_delete"))
			a->status = 429;
		else if (del)
			a->status = richmenu_delete(s, seg[3], &a->json);
		else
			a->status = 405;
	} else if (n == 5 && IS(4, "content")) {
		/* api-data.line.me in LINE; the same port here. */
		if (post)
			a->status = richmenu_upload(s, seg[3], httpd_header(req, "Content-Type"),
						    body, len, &a->json);
		else if (get)
			a->status =
				richmenu_download(s, seg[3], &a->data, &a->len, &a->type, &a->json);
		else
			a->status = 405;
	} else {
		a->status = 404;
	}
}

static void route_user(struct richmenu_store *s, const struct httpd_request *req,
		       char seg[RM_SEGMENTS][RM_SEGMENT_MAX], size_t n, struct answer *a)
{
	const char *m = httpd_method(req);
	bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0,
	     del = strcmp(m, "DELETE") == 0;

	/* seg[0..3] are "v2" "bot" "user" {userId|all}, seg[4] "richmenu". */
	if (IS(3, "all")) {
		if (n == 6 && post)
			a->status = richmenu_set_default(s, seg[5], &a->json);
		else if (n == 5 && get)
			a->status = richmenu_get_default(s, &a->json);
		else if (n == 5 && del)
			a->status = richmenu_clear_default(s, &a->json);
		else
			a->status = 405;
	} else if (n == 6 && post) {
		a->status = richmenu_link(s, seg[3], seg[5], &a->json);
	} else if (n == 5 && get) {
		a->status = richmenu_get_user(s, seg[3], &a->json);
	} else if (n == 5 && del) {
		a->status = richmenu_unlink(s, seg[3], &a->json);
	} else {
		a->status = 405;
	}
}

bool richmenu_route(struct richmenu_store *s, const struct httpd_request *req,
		    struct httpd_reply *reply)
{
	char seg[RM_SEGMENTS][RM_SEGMENT_MAX];
	struct answer a = {0};
	size_t n;
	const char *path = httpd_path(req);

	if (strncmp(path, "/v2/bot/", 8) != 0)
		return false;
	if (!split_path(path, seg, &n)) {
		/* Too many or too long segments: ours only if it starts like ours. */
		if (strncmp(path, "/v2/bot/richmenu", 16) != 0)
			return false;
		a.status = 404;
	} else if (n >= 3 && IS(2, "richmenu")) {
		if (s->auth != NULL && !s->auth(s->auth_ctx, req))
			a.status = 401;
		else
			route_richmenu(s, req, seg, n, &a);
	} else if ((n == 5 || n == 6) && IS(2, "user") && IS(4, "richmenu")) {
		if (s->auth != NULL && !s->auth(s->auth_ctx, req))
			a.status = 401;
		else
			route_user(s, req, seg, n, &a);
	} else {
		return false;
	}
	if (a.status == 200 && a.data != NULL) {
		char *copy = malloc(a.len > 0 ? a.len : 1);
		if (copy == NULL) {
			httpd_reply_static(reply, 500, "application/json",
					   "{\"message\":\"Internal error\"}");
			return true;
		}
		memcpy(copy, a.data, a.len);
		httpd_reply_owned(reply, 200, a.type, copy, a.len);
		return true;
	}
	if (a.json == NULL) {
		switch (a.status) {
		case 401:
			httpd_reply_static(reply, 401, "application/json",
					   "{\"message\":\"Authentication failed. Confirm that the "
					   "access token in the authorization header is valid.\"}");
			break;
		case 404:
			httpd_reply_static(reply, 404, "application/json",
					   "{\"message\":\"Not found\"}");
			break;
		case 405:
			httpd_reply_static(reply, 405, "application/json",
					   "{\"message\":\"Method Not Allowed\"}");
			break;
		case 429:
			httpd_reply_static(reply, 429, "application/json",
					   "{\"message\":\"The API rate limit has been exceeded. "
					   "Try again later.\"}");
			break;
		default:
			httpd_reply_static(reply, 500, "application/json",
					   "{\"message\":\"Internal error\"}");
		}
		return true;
	}
	httpd_reply_owned(reply, a.status, "application/json", a.json, strlen(a.json));
	return true;
}
