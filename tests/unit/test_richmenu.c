/*
 * Unit tests for lib/richmenu (layout validation, LINE's rich menu object)
 * and lib/richmenu_render (PNG and SVG output, text fitting): a table of
 * broken layouts, each refused with FILE: where: why, made by changing one
 * value of a good layout; the shipped layouts in etc/richmenu; the JSON LINE
 * gets; and images read back (PNG IHDR).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "richmenu.h"
#include "richmenu_render.h"
#include "str.h"

/* Two tabs of a 2500×843 menu: a 2×1 grid and a 3×2 grid. */
static const char good[] =
	"{\"set\":\"normal\",\"size\":{\"width\":2500,\"height\":843},"
	"\"tabBar\":{\"height\":150},"
	"\"tabs\":["
	"{\"title\":\"メイン\",\"alias\":\"tab-a\",\"chatBarText\":\"メニュー\",\"gap\":10,"
	"\"grid\":{\"columns\":2,\"rows\":1},\"areas\":["
	"{\"col\":0,\"row\":0,\"label\":\"受信設定\",\"icon\":\"settings\","
	"\"action\":{\"type\":\"postback\",\"data\":\"menu=settings\",\"displayText\":\"受信設定\"}"
	"},"
	"{\"col\":1,\"row\":0,\"label\":\"防災\",\"background\":\"#C62828\",\"color\":\"#ffffff\","
	"\"action\":{\"type\":\"richmenuswitch\",\"tab\":2}}]},"
	"{\"title\":\"防災\",\"alias\":\"tab-b\",\"chatBarText\":\"メニュー\",\"selected\":false,"
	"\"grid\":{\"columns\":3,\"rows\":2},\"areas\":["
	"{\"col\":0,\"row\":0,\"colspan\":2,\"label\":\"避難所\",\"icon\":\"shelter\","
	"\"action\":{\"type\":\"message\",\"text\":\"避難所\"}},"
	"{\"col\":2,\"row\":0,\"rowspan\":2,\"label\":\"気象警報\",\"icon\":\"warning\","
	"\"action\":{\"type\":\"uri\",\"uri\":\"https://www.jma.go.jp/\"}},"
	"{\"col\":0,\"row\":1,\"label\":\"171\",\"action\":{\"type\":\"uri\",\"uri\":\"tel:171\"}}"
	"]}]}";

static struct richmenu_layout *parse(const char *json, char *err, size_t errlen)
{
	return richmenu_layout_parse(json, strlen(json), "t.json", err, errlen);
}

/* base with the value at a slash-separated path replaced (value NULL deletes it). */
static char *mutate_from(const char *base, const char *path, const char *value_json)
{
	json_t *root = json_loads(base, 0, NULL), *node = root, *v = NULL;
	char buf[256], *seg, *save = NULL, *next;
	char *out;

	assert_non_null(root);
	assert_true(str_copy(buf, path, sizeof(buf)));
	if (value_json != NULL) {
		v = json_loads(value_json, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
	}
	seg = strtok_r(buf, "/", &save);
	while (seg != NULL) {
		next = strtok_r(NULL, "/", &save);
		if (next == NULL) {
			if (json_is_array(node)) {
				size_t i = (size_t)strtoul(seg, NULL, 10);

				if (v == NULL)
					assert_int_equal(json_array_remove(node, i), 0);
				else if (i == json_array_size(node))
					assert_int_equal(json_array_append(node, v), 0);
				else
					assert_int_equal(json_array_set(node, i, v), 0);
			} else if (v == NULL) {
				assert_int_equal(json_object_del(node, seg), 0);
			} else {
				assert_int_equal(json_object_set(node, seg, v), 0);
			}
		} else {
			node = json_is_array(node) ? json_array_get(node, strtoul(seg, NULL, 10))
						   : json_object_get(node, seg);
			assert_non_null(node);
		}
		seg = next;
	}
	out = json_dumps(root, JSON_COMPACT);
	assert_non_null(out);
	json_decref(v);
	json_decref(root);
	return out;
}

static char *mutate(const char *path, const char *value_json)
{
	return mutate_from(good, path, value_json);
}

static void good_layout(void **state)
{
	char err[512] = "";
	struct richmenu_layout *l = parse(good, err, sizeof(err));
	const struct richmenu_tab *t;
	struct richmenu_color bg;
	int w, h, x, sw;

	(void)state;
	if (l == NULL)
		fail_msg("%s", err);
	assert_string_equal(richmenu_layout_set(l), "normal");
	richmenu_layout_size(l, &w, &h);
	assert_int_equal(w, 2500);
	assert_int_equal(h, 843);
	assert_int_equal(richmenu_layout_tab_bar(l, &bg, NULL, NULL, NULL), 150);
	assert_int_equal(bg.r, 0xe8);
	assert_int_equal(richmenu_layout_tabs(l), 2);
	assert_null(richmenu_layout_tab(l, 2));
	t = richmenu_layout_tab(l, 0);
	assert_string_equal(t->title, "メイン");
	assert_true(t->selected);
	assert_int_equal(t->gap, 10);
	assert_int_equal(t->n_areas, 2);
	/* The grid tiles the space under the bar. */
	assert_int_equal(t->areas[0].x, 0);
	assert_int_equal(t->areas[0].y, 150);
	assert_int_equal(t->areas[0].width, 1250);
	assert_int_equal(t->areas[0].height, 693);
	assert_int_equal(t->areas[1].x, 1250);
	assert_int_equal(t->areas[1].action, RICHMENU_SWITCH);
	assert_int_equal(t->areas[1].switch_tab, 2);
	assert_int_equal(t->areas[1].background.r, 0xc6);
	assert_int_equal(t->areas[0].icon, RICHMENU_ICON_SETTINGS);
	t = richmenu_layout_tab(l, 1);
	assert_false(t->selected);
	/* A 3-column grid of 2500: 833, 834, 833 pixels, no pixel lost. */
	assert_int_equal(t->areas[0].width, 1666);
	assert_int_equal(t->areas[1].x, 1666);
	assert_int_equal(t->areas[1].width, 834);
	assert_int_equal(t->areas[1].height, 693);
	assert_int_equal(t->areas[2].y, 150 + 346);
	assert_int_equal(t->areas[2].height, 347);
	richmenu_layout_tab_segment(l, 1, &x, &sw);
	assert_int_equal(x, 1250);
	assert_int_equal(sw, 1250);
	richmenu_layout_free(l);
	richmenu_layout_free(NULL);
}

struct bad_case {
	const char *path;
	const char *value; /* JSON; NULL deletes */
	const char *error;
};

static void bad_layouts(void **state)
{
	static const struct bad_case cases[] = {
		{"set", "\"holiday\"",
		 "t.json: set: must be \"normal\" or \"disaster\" (is \"holiday\")"},
		{"set", NULL, "t.json: set: missing"},
		{"size/width", "2600",
		 "t.json: size.width: must be between 800 and 2500 (is 2600)"},
		{"size/height", "1800",
		 "t.json: size: width/height must be at least 1.45 (LINE's rule; e.g. 2500×1686 or "
		 "2500×843)"},
		{"size/depth", "1", "t.json: size.depth: unknown key"},
		{"colour", "\"#fff\"", "t.json: colour: unknown key"},
		{"tabBar/height", "800",
		 "t.json: tabBar.height: must be between 60 and 743 (is 800)"},
		{"tabBar/color", "\"red\"",
		 "t.json: tabBar.color: must be a colour as \"#RRGGBB\""},
		{"tabs", "[]", "t.json: tabs: must be an array of 1 to 3 tabs"},
		{"tabs/1/alias", "\"tab-a\"",
		 "t.json: tabs[1].alias: \"tab-a\" is already the alias of tabs[0]"},
		{"tabs/1/alias", "\"Tab B\"",
		 "t.json: tabs[1].alias: must be 1 to 32 of a-z, 0-9, _ and - (is \"Tab B\")"},
		{"tabs/0/chatBarText", "\"とても長いチャットバーのテキストです\"",
		 "t.json: tabs[0].chatBarText: too long (18 characters, at most 14)"},
		{"tabs/0/title", "\"\"",
		 "t.json: tabs[0].title: too short (0 characters, at least 1)"},
		{"tabs/0/selected", "\"yes\"", "t.json: tabs[0].selected: must be true or false"},
		{"tabs/0/grid/columns", "5",
		 "t.json: tabs[0].grid.columns: must be between 1 and 4 (is 5)"},
		{"tabs/0/areas", "[]", "t.json: tabs[0].areas: must hold 1 to 12 areas (holds 0)"},
		{"tabs/0/areas/0/col", "2",
		 "t.json: tabs[0].areas[0].col: must be between 0 and 1 (is 2)"},
		{"tabs/0/areas/0/colspan", "3",
		 "t.json: tabs[0].areas[0].colspan: must be between 1 and 2 (is 3)"},
		{"tabs/0/areas/1/col", "0",
		 "t.json: tabs[0].areas[1]: overlaps another area at column 0, row 0"},
		{"tabs/1/areas/2/col", "2",
		 "t.json: tabs[1].areas[2]: overlaps another area at column 2, row 1"},
		{"tabs/0/areas/0/label", "\"\"",
		 "t.json: tabs[0].areas[0].label: too short (0 characters, at least 1)"},
		{"tabs/0/areas/0/label",
		 "\"あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよら"
		 "りる\"",
		 "t.json: tabs[0].areas[0].label: too long (41 characters, at most 40)"},
		{"tabs/0/areas/0/label", "\"tab\\there\"",
		 "t.json: tabs[0].areas[0].label: control characters are not allowed"},
		{"tabs/0/areas/0/icon", "\"rocket\"",
		 "t.json: tabs[0].areas[0].icon: unknown icon \"rocket\" (shelter, warning, info, "
		 "phone, "
		 "map, calendar, mail, bell, star, settings, or \"\" for none)"},
		{"tabs/0/areas/0/background", "\"#12345G\"",
		 "t.json: tabs[0].areas[0].background: must be a colour as \"#RRGGBB\""},
		{"tabs/0/areas/0/lable", "\"x\"", "t.json: tabs[0].areas[0].lable: unknown key"},
		{"tabs/0/areas/0/action", NULL, "t.json: tabs[0].areas[0].action: missing"},
		{"tabs/0/areas/0/action/type", "\"camera\"",
		 "t.json: tabs[0].areas[0].action.type: must be uri, message, postback or "
		 "richmenuswitch (is \"camera\")"},
		{"tabs/0/areas/0/action/data", NULL,
		 "t.json: tabs[0].areas[0].action.data: missing"},
		{"tabs/0/areas/1/action/tab", "3",
		 "t.json: tabs[0].areas[1].action.tab: there is no tab 3 (the set has 2)"},
		{"tabs/0/areas/1/action/alias", "\"x\"",
		 "t.json: tabs[0].areas[1].action.alias: unknown key"},
		{"tabs/1/areas/1/action/uri", "\"javascript:alert(1)\"",
		 "t.json: tabs[1].areas[1].action.uri: must be an https, http, line or tel URI"},
		{"tabs/1/areas/1/action/uri", "\"https://example.jp/a b\"",
		 "t.json: tabs[1].areas[1].action.uri: must be an https, http, line or tel URI"},
		{"tabs/1/areas/0/action/text", "\"\"",
		 "t.json: tabs[1].areas[0].action.text: too short (0 characters, at least 1)"},
		{"tabs/0/gap", "100", "t.json: tabs[0].gap: must be between 0 and 64 (is 100)"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "", *json = mutate(cases[i].path, cases[i].value);
		struct richmenu_layout *l = parse(json, err, sizeof(err));

		if (l != NULL)
			fail_msg("case %zu (%s): accepted", i, cases[i].path);
		if (strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu (%s):\n got: %s\nwant: %s", i, cases[i].path, err,
				 cases[i].error);
		free(json);
	}
}

static void bad_files(void **state)
{
	char err[512] = "", big[RICHMENU_FILE_MAX + 2];
	struct richmenu_layout *l;

	(void)state;
	assert_null(parse("{\"set\": \"normal\",}", err, sizeof(err)));
	assert_non_null(strstr(err, "t.json:1:"));
	assert_non_null(strstr(err, "not valid JSON"));
	assert_null(parse("[1]", err, sizeof(err)));
	assert_string_equal(err, "t.json: the layout must be a JSON object");
	assert_null(parse("{\"set\":\"normal\",\"set\":\"disaster\"}", err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate"));
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	assert_null(parse(big, err, sizeof(err)));
	assert_string_equal(err, "t.json: larger than 262144 bytes");
	l = richmenu_layout_load("/nonexistent/x.json", err, sizeof(err));
	assert_null(l);
	assert_non_null(strstr(err, "/nonexistent/x.json"));
}

/* LINE's rich menu object: the tab bar's switches, then the areas. */
static void line_json(void **state)
{
	char err[512] = "", *s;
	struct richmenu_layout *l = parse(good, err, sizeof(err));
	json_t *j, *areas, *a;

	(void)state;
	assert_non_null(l);
	s = richmenu_line_json(l, 0);
	assert_non_null(s);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "size"), "width")),
			 2500);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "size"), "height")),
			 843);
	assert_true(json_is_true(json_object_get(j, "selected")));
	assert_string_equal(json_string_value(json_object_get(j, "name")),
			    "hotline normal 1 メイン");
	assert_string_equal(json_string_value(json_object_get(j, "chatBarText")), "メニュー");
	areas = json_object_get(j, "areas");
	assert_int_equal(json_array_size(areas), 4);
	a = json_array_get(areas, 0);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(a, "bounds"), "height")), 150);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "action"), "type")),
		"richmenuswitch");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "action"), "richMenuAliasId")),
		"tab-a");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "action"), "data")),
		"richmenu-tab=1");
	a = json_array_get(areas, 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "bounds"), "x")),
			 1250);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "action"), "richMenuAliasId")),
		"tab-b");
	a = json_array_get(areas, 2);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "action"), "displayText")),
		"受信設定");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "action"), "data")),
		"menu=settings");
	a = json_array_get(areas, 3);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "action"), "richMenuAliasId")),
		"tab-b");
	json_decref(j);
	free(s);

	s = richmenu_line_json(l, 1);
	j = json_loads(s, 0, NULL);
	assert_false(json_is_true(json_object_get(j, "selected")));
	areas = json_object_get(j, "areas");
	assert_int_equal(json_array_size(areas), 5);
	a = json_array_get(areas, 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "action"), "uri")),
			    "https://www.jma.go.jp/");
	a = json_array_get(areas, 4);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "action"), "uri")),
			    "tel:171");
	json_decref(j);
	free(s);
	assert_null(richmenu_line_json(l, 2));
	richmenu_layout_free(l);
}

/* Every area of every shipped layout lies inside the image, areas do not
 * overlap, and each tab's object has at most LINE's 20 areas. */
static void shipped_layouts(void **state)
{
	static const char *const files[] = {"etc/richmenu/normal.json",
					    "etc/richmenu/disaster.json"};
	const char *top = getenv("HL_TOP");
	size_t f, t, i, k;

	(void)state;
	for (f = 0; f < 2; f++) {
		char path[1024], err[512] = "";
		struct richmenu_layout *l;
		int w, h;

		assert_true(
			str_printf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", files[f]));
		l = richmenu_layout_load(path, err, sizeof(err));
		if (l == NULL)
			fail_msg("%s", err);
		assert_string_equal(richmenu_layout_set(l), f == 0 ? "normal" : "disaster");
		assert_int_equal(richmenu_layout_tabs(l), 3);
		richmenu_layout_size(l, &w, &h);
		for (t = 0; t < 3; t++) {
			char *s = richmenu_line_json(l, t);
			json_t *j = json_loads(s, 0, NULL), *areas = json_object_get(j, "areas");

			assert_true(json_array_size(areas) <= 20);
			for (i = 0; i < json_array_size(areas); i++) {
				json_t *b = json_object_get(json_array_get(areas, i), "bounds");
				long long x = json_integer_value(json_object_get(b, "x"));
				long long y = json_integer_value(json_object_get(b, "y"));
				long long bw = json_integer_value(json_object_get(b, "width"));
				long long bh = json_integer_value(json_object_get(b, "height"));

				assert_true(x >= 0 && y >= 0 && bw > 0 && bh > 0);
				assert_true(x + bw <= w && y + bh <= h);
				for (k = 0; k < i; k++) {
					json_t *o =
						json_object_get(json_array_get(areas, k), "bounds");
					long long ox = json_integer_value(json_object_get(o, "x"));
					long long oy = json_integer_value(json_object_get(o, "y"));
					long long ow =
						json_integer_value(json_object_get(o, "width"));
					long long oh =
						json_integer_value(json_object_get(o, "height"));

					assert_false(x < ox + ow && ox < x + bw && y < oy + oh &&
						     oy < y + bh);
				}
			}
			json_decref(j);
			free(s);
		}
		/* The disaster set puts 防災 first. */
		if (f == 1)
			assert_string_equal(richmenu_layout_tab(l, 0)->title, "防災");
		assert_int_equal(richmenu_render_check(l, err, sizeof(err)), 0);
		richmenu_layout_free(l);
	}
}

static unsigned be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static void render_png_and_svg(void **state)
{
	char err[512] = "";
	struct richmenu_layout *l = parse(good, err, sizeof(err));
	unsigned char *png = NULL, *svg = NULL;
	size_t png_len = 0, svg_len = 0, t;

	(void)state;
	assert_non_null(l);
	for (t = 0; t < 2; t++) {
		assert_int_equal(richmenu_render_png(l, t, &png, &png_len, err, sizeof(err)), 0);
		assert_true(png_len > 33 && png_len <= RICHMENU_IMAGE_MAX);
		assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
		assert_memory_equal(png + 12, "IHDR", 4);
		assert_int_equal(be32(png + 16), 2500);
		assert_int_equal(be32(png + 20), 843);
		free(png);
		png = NULL;
	}
	assert_int_equal(richmenu_render_svg(l, 1, &svg, &svg_len, err, sizeof(err)), 0);
	assert_non_null(svg);
	assert_true(svg_len > 100);
	/* NUL-free text with the SVG root at the image's size. */
	assert_null(memchr(svg, '\0', svg_len));
	{
		char *s = malloc(svg_len + 1);

		assert_non_null(s);
		memcpy(s, svg, svg_len);
		s[svg_len] = '\0';
		assert_non_null(strstr(s, "<svg"));
		assert_non_null(strstr(s, "width=\"2500"));
		assert_non_null(strstr(s, "height=\"843"));
		free(s);
	}
	free(svg);
	assert_int_equal(richmenu_render_png(l, 2, &png, &png_len, err, sizeof(err)), -1);
	assert_null(png);
	richmenu_layout_free(l);
}

/* A label that cannot fit is refused, naming it; a long one that can
 * (wrapped, smaller) passes. */
static void labels_fit_or_are_refused(void **state)
{
	char err[512] = "", *json, *small;
	struct richmenu_layout *l;
	unsigned char *png = NULL;
	size_t len = 0;

	(void)state;
	/* Four rows: 173-pixel tiles hold two lines at the smallest size. */
	small = mutate("tabs/1/grid/rows", "4");
	json = mutate_from(small, "tabs/1/areas/2/label",
			   "\"あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめ"
			   "もやゆよらり\"");
	free(small);
	l = parse(json, err, sizeof(err));
	assert_non_null(l);
	assert_int_equal(richmenu_render_check(l, err, sizeof(err)), -1);
	assert_string_equal(err, "t.json: tabs[1].areas[2].label: does not fit its area even at "
				 "the smallest size; shorten it or make the area larger");
	assert_int_equal(richmenu_render_png(l, 1, &png, &len, err, sizeof(err)), -1);
	assert_null(png);
	richmenu_layout_free(l);
	free(json);

	json = mutate("tabs/1/areas/0/label", "\"開設中の避難所と避難場所の一覧\"");
	l = parse(json, err, sizeof(err));
	assert_non_null(l);
	if (richmenu_render_check(l, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	richmenu_layout_free(l);
	free(json);

	/* A character no font has (a private-use code point). */
	json = mutate("tabs/1/areas/0/label", "\"避難所\\ue000\"");
	l = parse(json, err, sizeof(err));
	assert_non_null(l);
	assert_int_equal(richmenu_render_check(l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.json: tabs[1].areas[0].label: has characters the font"));
	richmenu_layout_free(l);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_layout),
		cmocka_unit_test(bad_layouts),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(line_json),
		cmocka_unit_test(shipped_layouts),
		cmocka_unit_test(render_png_and_svg),
		cmocka_unit_test(labels_fit_or_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
