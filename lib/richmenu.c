/*
 * richmenu — rich menu layouts; see richmenu.h.
 *
 * The parsed strings point into the jansson tree, which the layout keeps
 * alive.  Every key is checked: an unknown key is an error (a typo in a
 * layout would otherwise silently lose a setting).  Lengths are counted in
 * UTF-16 code units, as LINE counts them.
 */
#include "richmenu.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "str.h"
#include "utf8.h"

/* LINE's rules for a rich menu's size (and linesim's). */
#define WIDTH_MIN  800
#define WIDTH_MAX  2500
#define HEIGHT_MIN 250
/* The grid below the tab bar must stay tappable. */
#define CONTENT_MIN	   100
#define TAB_BAR_DEFAULT	   200
#define GAP_MAX		   64
#define URI_MAX		   1000
#define TEXT_MAX	   300 /* message text, postback data and displayText */
#define ALIAS_MAX	   32
#define SWITCH_DATA_PREFIX "richmenu-tab="

struct richmenu_layout {
	json_t *root;
	char name[256];
	const char *set;
	int width, height, bar;
	struct richmenu_color bar_bg, bar_fg, bar_active_bg, bar_active_fg;
	size_t n_tabs;
	struct richmenu_tab tabs[RICHMENU_TABS_MAX];
	struct richmenu_area areas[RICHMENU_TABS_MAX][RICHMENU_AREAS_MAX];
	char switch_data[RICHMENU_TABS_MAX][32];
};

static const char *const icon_names[] = {
	[RICHMENU_ICON_NONE] = "",
	[RICHMENU_ICON_SHELTER] = "shelter",
	[RICHMENU_ICON_WARNING] = "warning",
	[RICHMENU_ICON_INFO] = "info",
	[RICHMENU_ICON_PHONE] = "phone",
	[RICHMENU_ICON_MAP] = "map",
	[RICHMENU_ICON_CALENDAR] = "calendar",
	[RICHMENU_ICON_MAIL] = "mail",
	[RICHMENU_ICON_BELL] = "bell",
	[RICHMENU_ICON_STAR] = "star",
	[RICHMENU_ICON_SETTINGS] = "settings",
};

const char *richmenu_icon_name(enum richmenu_icon icon)
{
	if ((size_t)icon >= sizeof(icon_names) / sizeof(icon_names[0]))
		return "";
	return icon_names[icon];
}

/* --- errors ------------------------------------------------------------------ */

struct ctx {
	const char *name;
	char *err;
	size_t errlen;
	bool failed;
};

static bool bad(struct ctx *c, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool bad(struct ctx *c, const char *where, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	if (c->failed)
		return false; /* the first error is the one reported */
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (where != NULL && where[0] != '\0')
		str_msg(c->err, c->errlen, "%s: %s: %s", c->name, where, what);
	else
		str_msg(c->err, c->errlen, "%s: %s", c->name, what);
	c->failed = true;
	return false;
}

/* --- field readers ------------------------------------------------------------ */

/* Only the keys in allowed (NULL-terminated). */
static bool keys_known(struct ctx *c, json_t *obj, const char *where, const char *const *allowed)
{
	const char *key;
	json_t *v;
	char at[160];

	json_object_foreach(obj, key, v)
	{
		size_t i;
		bool found = false;

		(void)v;
		for (i = 0; allowed[i] != NULL && !found; i++)
			found = strcmp(key, allowed[i]) == 0;
		if (!found) {
			str_msg(at, sizeof(at), "%s%s%s", where, where[0] != '\0' ? "." : "", key);
			return bad(c, at, "unknown key");
		}
	}
	return true;
}

/* UTF-16 code units of valid UTF-8 (jansson strings are valid UTF-8). */
static size_t utf16_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, units = 0;

	while (i < n) {
		uint32_t cp = 0;
		size_t k = utf8_decode(p + i, n - i, &cp);

		if (k == 0)
			k = 1;
		units += cp > 0xFFFF ? 2 : 1;
		i += k;
	}
	return units;
}

static void at_key(char *at, size_t size, const char *where, const char *key)
{
	str_msg(at, size, "%s%s%s", where, where[0] != '\0' ? "." : "", key);
}

/* A string of min..max UTF-16 units; newlines only when allow_newline. */
static const char *get_string(struct ctx *c, json_t *obj, const char *where, const char *key,
			      bool required, size_t min, size_t max, bool allow_newline)
{
	json_t *v = json_object_get(obj, key);
	char at[160];
	const char *s;
	size_t n, i;

	at_key(at, sizeof(at), where, key);
	if (v == NULL) {
		if (required)
			bad(c, at, "missing");
		return NULL;
	}
	if (!json_is_string(v)) {
		bad(c, at, "must be a string");
		return NULL;
	}
	s = json_string_value(v);
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && !(allow_newline && ch == '\n')) || ch == 0x7f) {
			bad(c, at, "control characters are not allowed");
			return NULL;
		}
	}
	if (json_string_length(v) != strlen(s)) {
		bad(c, at, "NUL characters are not allowed");
		return NULL;
	}
	n = utf16_len(s);
	if (n < min || n > max) {
		if (min == max)
			bad(c, at, "must be %zu characters (is %zu)", min, n);
		else if (n < min)
			bad(c, at, "too short (%zu characters, at least %zu)", n, min);
		else
			bad(c, at, "too long (%zu characters, at most %zu)", n, max);
		return NULL;
	}
	return s;
}

static bool get_int(struct ctx *c, json_t *obj, const char *where, const char *key, bool required,
		    long long min, long long max, int *out)
{
	json_t *v = json_object_get(obj, key);
	char at[160];
	long long n;

	at_key(at, sizeof(at), where, key);
	if (v == NULL) {
		if (required)
			return bad(c, at, "missing");
		return true; /* keeps the default in *out */
	}
	if (!json_is_integer(v))
		return bad(c, at, "must be a whole number");
	n = json_integer_value(v);
	if (n < min || n > max)
		return bad(c, at, "must be between %lld and %lld (is %lld)", min, max, n);
	*out = (int)n;
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "#RRGGBB"; absent keeps *out. */
static bool get_color(struct ctx *c, json_t *obj, const char *where, const char *key,
		      struct richmenu_color *out)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	char at[160];
	int i, d[6];

	at_key(at, sizeof(at), where, key);
	if (v == NULL)
		return true;
	s = json_string_value(v);
	if (s == NULL || strlen(s) != 7 || s[0] != '#')
		return bad(c, at, "must be a colour as \"#RRGGBB\"");
	for (i = 0; i < 6; i++)
		if ((d[i] = hexval(s[i + 1])) < 0)
			return bad(c, at, "must be a colour as \"#RRGGBB\"");
	out->r = (unsigned char)(d[0] * 16 + d[1]);
	out->g = (unsigned char)(d[2] * 16 + d[3]);
	out->b = (unsigned char)(d[4] * 16 + d[5]);
	return true;
}

static json_t *get_object(struct ctx *c, json_t *obj, const char *where, const char *key,
			  bool required)
{
	json_t *v = json_object_get(obj, key);
	char at[160];

	at_key(at, sizeof(at), where, key);
	if (v == NULL) {
		if (required)
			bad(c, at, "missing");
		return NULL;
	}
	if (!json_is_object(v)) {
		bad(c, at, "must be an object");
		return NULL;
	}
	return v;
}

static bool alias_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return i >= 1 && i <= ALIAS_MAX;
}

/* LINE takes http, https, line and tel URIs in a rich menu. */
static bool uri_ok(const char *s)
{
	static const char *const schemes[] = {"https://", "http://", "line://", "tel:"};
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(s, schemes[i], strlen(schemes[i])) == 0 &&
		    s[strlen(schemes[i])] != '\0')
			return true;
	return false;
}

/* --- the layout ---------------------------------------------------------------- */

static bool parse_action(struct ctx *c, json_t *a, const char *where, size_t n_tabs,
			 struct richmenu_area *area)
{
	static const char *const k_uri[] = {"type", "uri", NULL};
	static const char *const k_msg[] = {"type", "text", NULL};
	static const char *const k_pb[] = {"type", "data", "displayText", NULL};
	static const char *const k_sw[] = {"type", "tab", NULL};
	const char *type = get_string(c, a, where, "type", true, 1, 32, false);
	char at[160];

	if (type == NULL)
		return false;
	if (strcmp(type, "uri") == 0) {
		area->action = RICHMENU_URI;
		area->uri = get_string(c, a, where, "uri", true, 1, URI_MAX, false);
		at_key(at, sizeof(at), where, "uri");
		if (area->uri != NULL && !uri_ok(area->uri))
			return bad(c, at, "must be an https, http, line or tel URI");
		return area->uri != NULL && keys_known(c, a, where, k_uri);
	}
	if (strcmp(type, "message") == 0) {
		area->action = RICHMENU_MESSAGE;
		area->text = get_string(c, a, where, "text", true, 1, TEXT_MAX, true);
		return area->text != NULL && keys_known(c, a, where, k_msg);
	}
	if (strcmp(type, "postback") == 0) {
		area->action = RICHMENU_POSTBACK;
		area->data = get_string(c, a, where, "data", true, 1, TEXT_MAX, false);
		area->display_text =
			get_string(c, a, where, "displayText", false, 1, TEXT_MAX, true);
		return area->data != NULL && !c->failed && keys_known(c, a, where, k_pb);
	}
	if (strcmp(type, "richmenuswitch") == 0) {
		area->action = RICHMENU_SWITCH;
		area->switch_tab = 0;
		if (!get_int(c, a, where, "tab", true, 1, RICHMENU_TABS_MAX, &area->switch_tab))
			return false;
		at_key(at, sizeof(at), where, "tab");
		if ((size_t)area->switch_tab > n_tabs)
			return bad(c, at, "there is no tab %d (the set has %zu)", area->switch_tab,
				   n_tabs);
		return keys_known(c, a, where, k_sw);
	}
	at_key(at, sizeof(at), where, "type");
	return bad(c, at, "must be uri, message, postback or richmenuswitch (is \"%s\")", type);
}

static bool parse_icon(struct ctx *c, json_t *area, const char *where, enum richmenu_icon *out)
{
	const char *s = get_string(c, area, where, "icon", false, 0, 32, false);
	size_t i;
	char at[160];

	*out = RICHMENU_ICON_NONE;
	if (s == NULL)
		return !c->failed;
	for (i = 0; i < sizeof(icon_names) / sizeof(icon_names[0]); i++)
		if (strcmp(s, icon_names[i]) == 0) {
			*out = (enum richmenu_icon)i;
			return true;
		}
	at_key(at, sizeof(at), where, "icon");
	return bad(c, at,
		   "unknown icon \"%s\" (shelter, warning, info, phone, map, calendar, mail, "
		   "bell, star, settings, or \"\" for none)",
		   s);
}

static bool parse_tab(struct ctx *c, struct richmenu_layout *l, json_t *t, size_t ti)
{
	static const char *const k_tab[] = {"title",	"alias",      "chatBarText",
					    "selected", "background", "gap",
					    "grid",	"areas",      NULL};
	static const char *const k_area[] = {"col",  "row",	   "colspan", "rowspan", "label",
					     "icon", "background", "color",   "action",	 NULL};
	struct richmenu_tab *tab = &l->tabs[ti];
	char where[64], aw[96], at[160];
	json_t *grid, *areas, *a, *sel;
	int cols = 0, rows = 0, gap = 12, top = l->bar, content;
	bool used[RICHMENU_GRID_MAX][RICHMENU_GRID_MAX];
	size_t i;

	memset(used, 0, sizeof(used));
	str_msg(where, sizeof(where), "tabs[%zu]", ti);
	if (!json_is_object(t))
		return bad(c, where, "must be an object");
	tab->title = get_string(c, t, where, "title", true, 1, RICHMENU_TITLE_MAX, false);
	tab->alias = get_string(c, t, where, "alias", true, 1, ALIAS_MAX, false);
	tab->chat_bar_text =
		get_string(c, t, where, "chatBarText", true, 1, RICHMENU_CHATBAR_MAX, false);
	if (c->failed)
		return false;
	at_key(at, sizeof(at), where, "alias");
	if (!alias_ok(tab->alias))
		return bad(c, at, "must be 1 to 32 of a-z, 0-9, _ and - (is \"%s\")", tab->alias);
	for (i = 0; i < ti; i++)
		if (strcmp(l->tabs[i].alias, tab->alias) == 0)
			return bad(c, at, "\"%s\" is already the alias of tabs[%zu]", tab->alias,
				   i);
	sel = json_object_get(t, "selected");
	at_key(at, sizeof(at), where, "selected");
	if (sel != NULL && !json_is_boolean(sel))
		return bad(c, at, "must be true or false");
	tab->selected = sel == NULL || json_is_true(sel);
	tab->background = (struct richmenu_color){0xff, 0xff, 0xff};
	if (!get_color(c, t, where, "background", &tab->background) ||
	    !get_int(c, t, where, "gap", false, 0, GAP_MAX, &gap))
		return false;
	grid = get_object(c, t, where, "grid", true);
	if (grid == NULL)
		return false;
	at_key(aw, sizeof(aw), where, "grid");
	if (!get_int(c, grid, aw, "columns", true, 1, RICHMENU_GRID_MAX, &cols) ||
	    !get_int(c, grid, aw, "rows", true, 1, RICHMENU_GRID_MAX, &rows))
		return false;
	{
		static const char *const k_grid[] = {"columns", "rows", NULL};

		if (!keys_known(c, grid, aw, k_grid))
			return false;
	}
	areas = json_object_get(t, "areas");
	at_key(at, sizeof(at), where, "areas");
	if (!json_is_array(areas))
		return bad(c, at, areas == NULL ? "missing" : "must be an array");
	if (json_array_size(areas) < 1 || json_array_size(areas) > RICHMENU_AREAS_MAX)
		return bad(c, at, "must hold 1 to %d areas (holds %zu)", RICHMENU_AREAS_MAX,
			   json_array_size(areas));
	content = l->height - top;
	json_array_foreach(areas, i, a)
	{
		struct richmenu_area *ar = &l->areas[ti][i];
		int col = -1, row = -1, cs = 1, rs = 1, x, y;
		json_t *act;

		str_msg(aw, sizeof(aw), "%s.areas[%zu]", where, i);
		if (!json_is_object(a))
			return bad(c, aw, "must be an object");
		if (!get_int(c, a, aw, "col", true, 0, cols - 1, &col) ||
		    !get_int(c, a, aw, "row", true, 0, rows - 1, &row) ||
		    !get_int(c, a, aw, "colspan", false, 1, cols - col, &cs) ||
		    !get_int(c, a, aw, "rowspan", false, 1, rows - row, &rs))
			return false;
		for (y = row; y < row + rs; y++)
			for (x = col; x < col + cs; x++) {
				if (used[y][x])
					return bad(c, aw,
						   "overlaps another area at column %d, row %d", x,
						   y);
				used[y][x] = true;
			}
		ar->label = get_string(c, a, aw, "label", true, 1, RICHMENU_LABEL_MAX, true);
		if (ar->label == NULL || !parse_icon(c, a, aw, &ar->icon))
			return false;
		ar->background = (struct richmenu_color){0x1e, 0x5a, 0xa8};
		ar->color = (struct richmenu_color){0xff, 0xff, 0xff};
		if (!get_color(c, a, aw, "background", &ar->background) ||
		    !get_color(c, a, aw, "color", &ar->color))
			return false;
		act = get_object(c, a, aw, "action", true);
		at_key(at, sizeof(at), aw, "action");
		if (act == NULL || !parse_action(c, act, at, l->n_tabs, ar))
			return false;
		if (!keys_known(c, a, aw, k_area))
			return false;
		/* Integer grid lines: cells tile the content exactly, no pixel lost. */
		ar->x = col * l->width / cols;
		ar->width = (col + cs) * l->width / cols - ar->x;
		ar->y = top + row * content / rows;
		ar->height = top + (row + rs) * content / rows - ar->y;
		if (ar->width <= 2 * gap || ar->height <= 2 * gap)
			return bad(c, aw, "too small for the gap (%d×%d pixels)", ar->width,
				   ar->height);
	}
	tab->n_areas = json_array_size(areas);
	tab->areas = l->areas[ti];
	tab->gap = gap;
	return keys_known(c, t, where, k_tab);
}

struct richmenu_layout *richmenu_layout_parse(const char *json, size_t len, const char *name,
					      char *err, size_t errlen)
{
	static const char *const k_root[] = {"set", "size", "tabBar", "tabs", NULL};
	static const char *const k_bar[] = {"height",		"background",  "color",
					    "activeBackground", "activeColor", NULL};
	static const char *const k_size[] = {"width", "height", NULL};
	struct ctx c = {name != NULL ? name : "layout", err, errlen, false};
	struct richmenu_layout *l = calloc(1, sizeof(*l));
	json_error_t jerr;
	json_t *size, *bar, *tabs, *t;
	size_t i;

	if (l == NULL) {
		str_msg(err, errlen, "%s: out of memory", c.name);
		return NULL;
	}
	/* A name too long for messages is shown cut. */
	str_msg(l->name, sizeof(l->name), "%s", c.name);
	if (len > RICHMENU_FILE_MAX) {
		bad(&c, NULL, "larger than %d bytes", RICHMENU_FILE_MAX);
		goto fail;
	}
	l->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (l->root == NULL) {
		str_msg(err, errlen, "%s:%d:%d: not valid JSON: %s", c.name, jerr.line, jerr.column,
			jerr.text);
		goto fail;
	}
	if (!json_is_object(l->root)) {
		bad(&c, NULL, "the layout must be a JSON object");
		goto fail;
	}
	l->set = get_string(&c, l->root, "", "set", true, 1, 16, false);
	if (l->set == NULL)
		goto fail;
	if (strcmp(l->set, "normal") != 0 && strcmp(l->set, "disaster") != 0) {
		bad(&c, "set", "must be \"normal\" or \"disaster\" (is \"%s\")", l->set);
		goto fail;
	}
	size = get_object(&c, l->root, "", "size", true);
	if (size == NULL ||
	    !get_int(&c, size, "size", "width", true, WIDTH_MIN, WIDTH_MAX, &l->width) ||
	    !get_int(&c, size, "size", "height", true, HEIGHT_MIN, 10000, &l->height) ||
	    !keys_known(&c, size, "size", k_size))
		goto fail;
	/* LINE: width/height at least 1.45. */
	if ((long long)l->width * 100 < (long long)l->height * 145) {
		bad(&c, "size",
		    "width/height must be at least 1.45 (LINE's rule; e.g. 2500×1686 or 2500×843)");
		goto fail;
	}
	tabs = json_object_get(l->root, "tabs");
	if (!json_is_array(tabs) || json_array_size(tabs) < 1 ||
	    json_array_size(tabs) > RICHMENU_TABS_MAX) {
		bad(&c, "tabs", "must be an array of 1 to %d tabs", RICHMENU_TABS_MAX);
		goto fail;
	}
	l->n_tabs = json_array_size(tabs);
	l->bar_bg = (struct richmenu_color){0xe8, 0xee, 0xf4};
	l->bar_fg = (struct richmenu_color){0x33, 0x44, 0x55};
	l->bar_active_bg = (struct richmenu_color){0x1e, 0x5a, 0xa8};
	l->bar_active_fg = (struct richmenu_color){0xff, 0xff, 0xff};
	l->bar = l->n_tabs > 1 ? TAB_BAR_DEFAULT : 0;
	bar = get_object(&c, l->root, "", "tabBar", false);
	if (c.failed)
		goto fail;
	if (bar != NULL) {
		if (!get_int(&c, bar, "tabBar", "height", false, 60, l->height - CONTENT_MIN,
			     &l->bar) ||
		    !get_color(&c, bar, "tabBar", "background", &l->bar_bg) ||
		    !get_color(&c, bar, "tabBar", "color", &l->bar_fg) ||
		    !get_color(&c, bar, "tabBar", "activeBackground", &l->bar_active_bg) ||
		    !get_color(&c, bar, "tabBar", "activeColor", &l->bar_active_fg) ||
		    !keys_known(&c, bar, "tabBar", k_bar))
			goto fail;
		if (l->n_tabs == 1)
			l->bar = 0;
	}
	if (l->height - l->bar < CONTENT_MIN) {
		bad(&c, "tabBar.height", "leaves less than %d pixels for the areas", CONTENT_MIN);
		goto fail;
	}
	json_array_foreach(tabs, i, t)
	{
		if (!parse_tab(&c, l, t, i))
			goto fail;
		if (!str_printf(l->switch_data[i], sizeof(l->switch_data[i]), "%s%zu",
				SWITCH_DATA_PREFIX, i + 1))
			goto fail;
	}
	if (!keys_known(&c, l->root, "", k_root))
		goto fail;
	return l;

fail:
	if (!c.failed && (err[0] == '\0'))
		str_msg(err, errlen, "%s: out of memory", c.name);
	richmenu_layout_free(l);
	return NULL;
}

struct richmenu_layout *richmenu_layout_load(const char *path, char *err, size_t errlen)
{
	char ferr[256];
	size_t len = 0;
	char *text = file_read(path, RICHMENU_FILE_MAX, &len, ferr, sizeof(ferr));
	struct richmenu_layout *l;

	if (text == NULL) {
		str_msg(err, errlen, "%s", ferr);
		return NULL;
	}
	l = richmenu_layout_parse(text, len, path, err, errlen);
	free(text);
	return l;
}

void richmenu_layout_free(struct richmenu_layout *l)
{
	if (l == NULL)
		return;
	json_decref(l->root);
	free(l);
}

const char *richmenu_layout_set(const struct richmenu_layout *l)
{
	return l->set;
}

void richmenu_layout_size(const struct richmenu_layout *l, int *width, int *height)
{
	*width = l->width;
	*height = l->height;
}

int richmenu_layout_tab_bar(const struct richmenu_layout *l, struct richmenu_color *background,
			    struct richmenu_color *color, struct richmenu_color *active_background,
			    struct richmenu_color *active_color)
{
	if (background != NULL)
		*background = l->bar_bg;
	if (color != NULL)
		*color = l->bar_fg;
	if (active_background != NULL)
		*active_background = l->bar_active_bg;
	if (active_color != NULL)
		*active_color = l->bar_active_fg;
	return l->bar;
}

size_t richmenu_layout_tabs(const struct richmenu_layout *l)
{
	return l->n_tabs;
}

const struct richmenu_tab *richmenu_layout_tab(const struct richmenu_layout *l, size_t i)
{
	return i < l->n_tabs ? &l->tabs[i] : NULL;
}

void richmenu_layout_tab_segment(const struct richmenu_layout *l, size_t i, int *x, int *width)
{
	int n = (int)(l->n_tabs > 0 ? l->n_tabs : 1);

	*x = (int)i * l->width / n;
	*width = ((int)i + 1) * l->width / n - *x;
}

const char *richmenu_layout_name(const struct richmenu_layout *l)
{
	return l->name;
}

char *richmenu_layout_json(const struct richmenu_layout *l)
{
	return json_dumps(l->root, JSON_COMPACT | JSON_SORT_KEYS);
}

/* --- LINE's rich menu object --------------------------------------------------- */

static json_t *bounds(int x, int y, int w, int h)
{
	return json_pack("{s:i, s:i, s:i, s:i}", "x", x, "y", y, "width", w, "height", h);
}

static json_t *line_action(const struct richmenu_layout *l, const struct richmenu_area *a)
{
	json_t *o = NULL;

	switch (a->action) {
	case RICHMENU_URI:
		o = json_pack("{s:s, s:s}", "type", "uri", "uri", a->uri);
		break;
	case RICHMENU_MESSAGE:
		o = json_pack("{s:s, s:s}", "type", "message", "text", a->text);
		break;
	case RICHMENU_POSTBACK:
		o = json_pack("{s:s, s:s}", "type", "postback", "data", a->data);
		if (o != NULL && a->display_text != NULL &&
		    json_object_set_new(o, "displayText", json_string(a->display_text)) != 0) {
			json_decref(o);
			o = NULL;
		}
		break;
	case RICHMENU_SWITCH:
		o = json_pack("{s:s, s:s, s:s}", "type", "richmenuswitch", "richMenuAliasId",
			      l->tabs[a->switch_tab - 1].alias, "data",
			      l->switch_data[a->switch_tab - 1]);
		break;
	}
	return o;
}

static bool add_area(json_t *areas, json_t *b, json_t *action)
{
	json_t *area;

	if (b == NULL || action == NULL) {
		json_decref(b);
		json_decref(action);
		return false;
	}
	area = json_pack("{s:o, s:o}", "bounds", b, "action", action);
	return area != NULL && json_array_append_new(areas, area) == 0;
}

char *richmenu_line_json(const struct richmenu_layout *l, size_t i)
{
	const struct richmenu_tab *t = richmenu_layout_tab(l, i);
	json_t *root = NULL, *areas;
	char name[400];
	char *out = NULL;
	size_t k;

	if (t == NULL)
		return NULL;
	areas = json_array();
	if (areas == NULL)
		return NULL;
	if (l->bar > 0)
		for (k = 0; k < l->n_tabs; k++) {
			int x, w;

			richmenu_layout_tab_segment(l, k, &x, &w);
			if (!add_area(areas, bounds(x, 0, w, l->bar),
				      json_pack("{s:s, s:s, s:s}", "type", "richmenuswitch",
						"richMenuAliasId", l->tabs[k].alias, "data",
						l->switch_data[k])))
				goto done;
		}
	for (k = 0; k < t->n_areas; k++) {
		const struct richmenu_area *a = &t->areas[k];

		if (!add_area(areas, bounds(a->x, a->y, a->width, a->height), line_action(l, a)))
			goto done;
	}
	/* The name is for the operator's eyes at LINE (at most 300). */
	if (!str_printf(name, sizeof(name), "hotline %s %zu %s", l->set, i + 1, t->title))
		goto done;
	root = json_pack("{s:{s:i, s:i}, s:b, s:s, s:s, s:O}", "size", "width", l->width, "height",
			 l->height, "selected", t->selected, "name", name, "chatBarText",
			 t->chat_bar_text, "areas", areas);
	if (root != NULL)
		out = json_dumps(root, JSON_COMPACT);
done:
	json_decref(root);
	json_decref(areas);
	return out;
}
