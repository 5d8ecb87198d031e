/*
 * richmenu — rich menu layouts: parse and validate a layout file (one set of
 * up to 3 tabs, each a grid of up to 12 areas under a tab bar) and produce
 * LINE's rich menu object for each tab.  Pure: no I/O but for
 * richmenu_layout_load(), which reads the file.
 *
 * A layout (etc/richmenu/NAME.json, see docs/richmenu.md):
 *
 *   {"set": "normal" | "disaster",
 *    "size": {"width": 2500, "height": 1686},
 *    "tabBar": {"height": 220, "background": "#RRGGBB", "color": "#RRGGBB",
 *               "activeBackground": "#RRGGBB", "activeColor": "#RRGGBB"},
 *    "tabs": [{"title": "防災", "alias": "hotline-tab1", "chatBarText": "メニュー",
 *              "selected": true, "background": "#RRGGBB", "gap": 12,
 *              "grid": {"columns": 3, "rows": 2},
 *              "areas": [{"col": 0, "row": 0, "colspan": 1, "rowspan": 1,
 *                         "label": "避難所", "icon": "shelter",
 *                         "background": "#RRGGBB", "color": "#RRGGBB",
 *                         "action": {"type": "uri", "uri": "https://..."}}]}]}
 *
 * Actions: {"type":"uri","uri"}, {"type":"message","text"},
 * {"type":"postback","data","displayText"?}, {"type":"richmenuswitch","tab":N}
 * (N is a tab of the same set, 1-based; it becomes that tab's alias).  With
 * more than one tab, the tab bar is drawn across the top of every tab and
 * each of its segments is a richmenuswitch area to that tab.
 *
 * Ownership: a layout owns everything it returns; the returned pointers are
 * valid until richmenu_layout_free().  Errors: NULL with "FILE: where: what
 * is wrong" in err (where is a JSON path such as tabs[1].areas[3].label).
 */
#ifndef HL_RICHMENU_H
#define HL_RICHMENU_H

#include <stdbool.h>
#include <stddef.h>

#define RICHMENU_TABS_MAX  3
#define RICHMENU_AREAS_MAX 12 /* per tab, tab bar not counted (LINE: 20 in all) */
/* A layout file is written by staff; anything larger is not a layout. */
#define RICHMENU_FILE_MAX    (256 * 1024)
#define RICHMENU_LABEL_MAX   40 /* characters of an area's label */
#define RICHMENU_TITLE_MAX   20 /* characters of a tab's title */
#define RICHMENU_CHATBAR_MAX 14 /* LINE's limit on chatBarText */
#define RICHMENU_GRID_MAX    4	/* columns or rows */

struct richmenu_color {
	unsigned char r, g, b;
};

enum richmenu_action {
	RICHMENU_URI,
	RICHMENU_MESSAGE,
	RICHMENU_POSTBACK,
	RICHMENU_SWITCH,
};

/* Icons are simple vector shapes drawn by richmenu_render. */
enum richmenu_icon {
	RICHMENU_ICON_NONE,
	RICHMENU_ICON_SHELTER,
	RICHMENU_ICON_WARNING,
	RICHMENU_ICON_INFO,
	RICHMENU_ICON_PHONE,
	RICHMENU_ICON_MAP,
	RICHMENU_ICON_CALENDAR,
	RICHMENU_ICON_MAIL,
	RICHMENU_ICON_BELL,
	RICHMENU_ICON_STAR,
	RICHMENU_ICON_SETTINGS,
};

struct richmenu_area {
	int x, y, width, height; /* pixels in the image, inside it */
	const char *label;	 /* UTF-8, 1..RICHMENU_LABEL_MAX characters */
	enum richmenu_icon icon;
	struct richmenu_color background, color;
	enum richmenu_action action;
	const char *uri, *text, *data, *display_text; /* per action; NULL when unused */
	int switch_tab;				      /* RICHMENU_SWITCH: 1-based */
};

struct richmenu_tab {
	const char *title; /* the tab bar's label; the menu's name */
	const char *alias; /* ^[a-z0-9_-]{1,32}$, distinct within the set */
	const char *chat_bar_text;
	bool selected;
	struct richmenu_color background;
	int gap; /* pixels between areas (drawn, not tappable space) */
	size_t n_areas;
	const struct richmenu_area *areas;
};

struct richmenu_layout;

/* Parse and validate len bytes of JSON; name stands for the file in errors. */
struct richmenu_layout *richmenu_layout_parse(const char *json, size_t len, const char *name,
					      char *err, size_t errlen);
/* Read (at most RICHMENU_FILE_MAX bytes) and parse path. */
struct richmenu_layout *richmenu_layout_load(const char *path, char *err, size_t errlen);
void richmenu_layout_free(struct richmenu_layout *l);

/* "normal" or "disaster". */
const char *richmenu_layout_set(const struct richmenu_layout *l);
void richmenu_layout_size(const struct richmenu_layout *l, int *width, int *height);
/* The tab bar's height in pixels: 0 when the set has a single tab. */
int richmenu_layout_tab_bar(const struct richmenu_layout *l, struct richmenu_color *background,
			    struct richmenu_color *color, struct richmenu_color *active_background,
			    struct richmenu_color *active_color);
size_t richmenu_layout_tabs(const struct richmenu_layout *l);
/* Tab i (0-based), NULL when out of range. */
const struct richmenu_tab *richmenu_layout_tab(const struct richmenu_layout *l, size_t i);
/* The segment of the tab bar for tab i: x and width (y 0, height the bar's). */
void richmenu_layout_tab_segment(const struct richmenu_layout *l, size_t i, int *x, int *width);
/* The file name given to parse/load, for messages. */
const char *richmenu_layout_name(const struct richmenu_layout *l);
/* The layout's JSON as parsed (compact, keys sorted): what the database keeps. */
char *richmenu_layout_json(const struct richmenu_layout *l);

/* LINE's rich menu object for tab i (size, selected, name, chatBarText, areas: the tab bar's
 * richmenuswitch segments first, then the tab's areas), as a malloc'd NUL-terminated string;
 * NULL when out of memory or i is out of range. */
char *richmenu_line_json(const struct richmenu_layout *l, size_t i);

/* The icon's layout name ("shelter"...), "" for none. */
const char *richmenu_icon_name(enum richmenu_icon icon);

#endif
