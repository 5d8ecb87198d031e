/* Unit tests for tools/linesim/richmenu: each validation rule of LINE's rich
 * menu API, image headers read with bounds, and who sees which menu. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../tools/linesim/richmenu.h"
#include "str.h"

#define U1 "U00000000000000000000000000000001"
#define U2 "U00000000000000000000000000000002"

/* A valid menu; %s slots let a case replace the size, a top-level field and
 * the first area's bounds and action. */
#define MENU_FMT                                                                                   \
	"{\"size\":%s,\"selected\":false,\"name\":\"menu\",\"chatBarText\":\"Tap\"%s,"             \
	"\"areas\":[{\"bounds\":%s,\"action\":%s},"                                                \
	"{\"bounds\":{\"x\":1250,\"y\":0,\"width\":1250,\"height\":843},"                          \
	"\"action\":{\"type\":\"richmenuswitch\",\"richMenuAliasId\":\"tab-b\",\"data\":\"b\"}}]}"
#define SIZE_OK	  "{\"width\":2500,\"height\":843}"
#define BOUNDS_OK "{\"x\":0,\"y\":0,\"width\":1250,\"height\":843}"
#define ACTION_OK "{\"type\":\"postback\",\"data\":\"action=left\"}"

static char *menu_json(const char *size, const char *extra, const char *bounds, const char *action)
{
	char *s = str_dup_printf(MENU_FMT, size, extra, bounds, action);

	assert_non_null(s);
	return s;
}

static int setup(void **state)
{
	*state = richmenu_store_new();
	return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	richmenu_store_free(*state);
	return 0;
}

/* Creates a menu of the given size and returns its id (static buffer). */
static const char *create(struct richmenu_store *s, int w, int h)
{
	static char id[64];
	char size[64], bounds[96], *body, *reply = NULL;
	json_t *r;

	assert_true(str_printf(size, sizeof(size), "{\"width\":%d,\"height\":%d}", w, h));
	assert_true(str_printf(bounds, sizeof(bounds),
			       "{\"x\":0,\"y\":0,\"width\":%d,\"height\":%d}", w / 2, h));
	body = str_dup_printf(
		"{\"size\":%s,\"selected\":true,\"name\":\"m\",\"chatBarText\":\"Menu\","
		"\"areas\":[{\"bounds\":%s,\"action\":{\"type\":\"message\",\"text\":\"left\"}}]}",
		size, bounds);
	assert_int_equal(richmenu_create(s, body, strlen(body), &reply), 200);
	r = json_loads(reply, 0, NULL);
	assert_true(str_copy(id, json_string_value(json_object_get(r, "richMenuId")), sizeof(id)));
	json_decref(r);
	free(reply);
	free(body);
	return id;
}

/* A minimal PNG: signature and IHDR. */
static size_t make_png(unsigned char *p, unsigned w, unsigned h)
{
	static const unsigned char head[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
					     0,	   0,	0,   13,  'I',	'H',  'D',  'R'};
	memcpy(p, head, sizeof(head));
	p[16] = (unsigned char)(w >> 24);
	p[17] = (unsigned char)(w >> 16);
	p[18] = (unsigned char)(w >> 8);
	p[19] = (unsigned char)w;
	p[20] = (unsigned char)(h >> 24);
	p[21] = (unsigned char)(h >> 16);
	p[22] = (unsigned char)(h >> 8);
	p[23] = (unsigned char)h;
	memset(p + 24, 0, 13 - 8 + 4); /* depth, colour, … and the CRC */
	return 33;
}

/* A minimal JPEG: SOI, an APP0 segment, fill bytes, SOF0, EOI. */
static size_t make_jpeg(unsigned char *p, unsigned w, unsigned h)
{
	static const unsigned char head[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x06, 'J',  'F',
					     'I',  'F',	 0xff, 0xff, 0xc0, 0x00, 0x0b, 0x08};
	size_t n = sizeof(head);

	memcpy(p, head, n);
	p[n++] = (unsigned char)(h >> 8);
	p[n++] = (unsigned char)h;
	p[n++] = (unsigned char)(w >> 8);
	p[n++] = (unsigned char)w;
	p[n++] = 1;
	p[n++] = 1;
	p[n++] = 0x11;
	p[n++] = 0;
	p[n++] = 0xff;
	p[n++] = 0xd9;
	return n;
}

static void upload_png(struct richmenu_store *s, const char *id, unsigned w, unsigned h)
{
	unsigned char png[64];
	size_t n = make_png(png, w, h);
	char *reply = NULL;

	assert_int_equal(richmenu_upload(s, id, "image/png", png, n, &reply), 200);
	free(reply);
}

static void create_valid_and_get(void **state)
{
	struct richmenu_store *s = *state;
	char *body = menu_json(SIZE_OK, "", BOUNDS_OK, ACTION_OK), *reply = NULL;
	const char *id;
	json_t *r;

	assert_int_equal(richmenu_create(s, body, strlen(body), &reply), 200);
	r = json_loads(reply, 0, NULL);
	id = json_string_value(json_object_get(r, "richMenuId"));
	assert_non_null(id);
	assert_int_equal(strlen(id), 9 + 32);
	assert_memory_equal(id, "richmenu-", 9);
	assert_int_equal(strspn(id + 9, "0123456789abcdef"), 32);
	free(reply);

	assert_int_equal(richmenu_get(s, id, &reply), 200);
	json_t *got = json_loads(reply, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(got, "richMenuId")), id);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(got, "size"), "height")), 843);
	assert_string_equal(json_string_value(json_object_get(got, "chatBarText")), "Tap");
	assert_int_equal(json_array_size(json_object_get(got, "areas")), 2);
	json_decref(got);
	free(reply);

	assert_int_equal(richmenu_list(s, &reply), 200);
	got = json_loads(reply, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(got, "richmenus")), 1);
	json_decref(got);
	free(reply);

	assert_int_equal(richmenu_validate(s, body, strlen(body), &reply), 200);
	free(reply);

	assert_int_equal(richmenu_delete(s, id, &reply), 200);
	free(reply);
	assert_int_equal(richmenu_get(s, id, &reply), 404);
	assert_string_equal(reply, "{\"message\":\"Not found\"}");
	free(reply);
	assert_int_equal(richmenu_delete(s, id, &reply), 404);
	free(reply);
	json_decref(r);
	free(body);
}

static void create_invalid(void **state)
{
	static const struct {
		const char *size, *extra, *bounds, *action;
		const char *property, *message; /* of the first detail */
	} cases[] = {
		/* size */
		{"{\"width\":2500}", "", BOUNDS_OK, ACTION_OK, "size.height", "must be specified"},
		{"{\"width\":799,\"height\":540}", "", BOUNDS_OK, ACTION_OK, "size.width",
		 "must be between 800 and 2500"},
		{"{\"width\":2501,\"height\":843}", "", BOUNDS_OK, ACTION_OK, "size.width",
		 "must be between 800 and 2500"},
		{"{\"width\":800,\"height\":249}", "", BOUNDS_OK, ACTION_OK, "size.height",
		 "must be between 250"},
		{"{\"width\":2500,\"height\":1725}", "", BOUNDS_OK, ACTION_OK, "size",
		 "aspect ratio"},
		{"{\"width\":\"2500\",\"height\":843}", "", BOUNDS_OK, ACTION_OK, "size.width",
		 "must be an integer"},
		{"[]", "", BOUNDS_OK, ACTION_OK, "size", "must be an object"},
		/* top-level fields */
		{SIZE_OK, ",\"name\":\"again\"" /* duplicate key */, BOUNDS_OK, ACTION_OK, NULL,
		 NULL},
		/* bounds */
		{SIZE_OK, "", "{\"x\":0,\"y\":0,\"width\":2501,\"height\":843}", ACTION_OK,
		 "areas[0].bounds", "must be inside the rich menu"},
		{SIZE_OK, "", "{\"x\":2000,\"y\":0,\"width\":501,\"height\":843}", ACTION_OK,
		 "areas[0].bounds", "must be inside the rich menu"},
		{SIZE_OK, "", "{\"x\":0,\"y\":1,\"width\":100,\"height\":843}", ACTION_OK,
		 "areas[0].bounds", "must be inside the rich menu"},
		{SIZE_OK, "", "{\"x\":-1,\"y\":0,\"width\":100,\"height\":100}", ACTION_OK,
		 "areas[0].bounds.x", "must be between 0"},
		{SIZE_OK, "", "{\"x\":0,\"y\":0,\"width\":0,\"height\":100}", ACTION_OK,
		 "areas[0].bounds.width", "must be between 1"},
		{SIZE_OK, "", "{\"x\":0,\"y\":0,\"width\":100}", ACTION_OK,
		 "areas[0].bounds.height", "must be specified"},
		{SIZE_OK, "", "{\"x\":2147483647,\"y\":0,\"width\":2147483647,\"height\":1}",
		 ACTION_OK, "areas[0].bounds", "must be inside the rich menu"},
		/* actions */
		{SIZE_OK, "", BOUNDS_OK, "null", "areas[0].action", "must be specified"},
		{SIZE_OK, "", BOUNDS_OK, "{\"data\":\"x\"}", "areas[0].action.type",
		 "must be specified"},
		{SIZE_OK, "", BOUNDS_OK, "{\"type\":\"teleport\"}", "areas[0].action.type",
		 "invalid action type"},
		{SIZE_OK, "", BOUNDS_OK, "{\"type\":\"postback\"}", "areas[0].action.data",
		 "must be specified"},
		{SIZE_OK, "", BOUNDS_OK,
		 "{\"type\":\"postback\",\"data\":\"x\",\"text\":\"a\",\"displayText\":\"b\"}",
		 "areas[0].action.text", "cannot both"},
		{SIZE_OK, "", BOUNDS_OK, "{\"type\":\"message\",\"text\":\"\"}",
		 "areas[0].action.text", "size must be between 1 and 300"},
		{SIZE_OK, "", BOUNDS_OK, "{\"type\":\"uri\",\"uri\":\"javascript:alert(1)\"}",
		 "areas[0].action.uri", "invalid uri scheme"},
		{SIZE_OK, "", BOUNDS_OK, "{\"type\":\"uri\",\"uri\":\"https://x\",\"altUri\":{}}",
		 "areas[0].action.altUri.desktop", "must be specified"},
		{SIZE_OK, "", BOUNDS_OK,
		 "{\"type\":\"datetimepicker\",\"data\":\"d\",\"mode\":\"week\"}",
		 "areas[0].action.mode", "must be one of"},
		{SIZE_OK, "", BOUNDS_OK,
		 "{\"type\":\"datetimepicker\",\"data\":\"d\",\"mode\":\"date\",\"initial\":\"2026/"
		 "01/01\"}",
		 "areas[0].action.initial", "invalid date format"},
		{SIZE_OK, "", BOUNDS_OK,
		 "{\"type\":\"richmenuswitch\",\"richMenuAliasId\":\"Tab A\","
		 "\"data\":\"x\"}",
		 "areas[0].action.richMenuAliasId", "must match"},
		{SIZE_OK, "", BOUNDS_OK, "{\"type\":\"richmenuswitch\",\"richMenuAliasId\":\"a\"}",
		 "areas[0].action.data", "must be specified"},
		{SIZE_OK, "", BOUNDS_OK, "{\"type\":\"clipboard\"}",
		 "areas[0].action.clipboardText", "must be specified"},
		{SIZE_OK, "", BOUNDS_OK,
		 "{\"type\":\"message\",\"text\":\"x\",\"label\":\"123456789012345678901\"}",
		 "areas[0].action.label", "size must be between 0 and 20"},
	};
	struct richmenu_store *s = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body =
			menu_json(cases[i].size, cases[i].extra, cases[i].bounds, cases[i].action);
		char *reply = NULL, *vreply = NULL;
		json_t *r, *d;

		assert_int_equal(richmenu_create(s, body, strlen(body), &reply), 400);
		assert_int_equal(richmenu_validate(s, body, strlen(body), &vreply), 400);
		assert_string_equal(reply, vreply);
		print_message("# case %zu: %s\n", i, reply);
		r = json_loads(reply, 0, NULL);
		assert_non_null(r);
		if (cases[i].property != NULL) {
			assert_non_null(strstr(json_string_value(json_object_get(r, "message")),
					       "The request body has"));
			d = json_array_get(json_object_get(r, "details"), 0);
			assert_string_equal(json_string_value(json_object_get(d, "property")),
					    cases[i].property);
			assert_non_null(strstr(json_string_value(json_object_get(d, "message")),
					       cases[i].message));
		}
		json_decref(r);
		free(vreply);
		free(reply);
		free(body);
	}
	char *reply = NULL;
	assert_int_equal(richmenu_list(s, &reply), 200);
	assert_string_equal(reply, "{\"richmenus\":[]}");
	free(reply);
}

/* Rules on the top-level fields, and bodies that are not menus at all. */
static void create_invalid_bodies(void **state)
{
	static const struct {
		const char *body;
		const char *property; /* NULL: a plain message, no details */
	} cases[] = {
		{"", NULL},
		{"not json", NULL},
		{"[1,2]", NULL},
		{"{}", "size"},
		{"{\"size\":{\"width\":2500,\"height\":843},\"name\":\"m\",\"chatBarText\":\"c\","
		 "\"areas\":[]}",
		 "selected"},
		{"{\"size\":{\"width\":2500,\"height\":843},\"selected\":1,\"name\":\"m\","
		 "\"chatBarText\":\"c\",\"areas\":[]}",
		 "selected"},
		{"{\"size\":{\"width\":2500,\"height\":843},\"selected\":true,\"name\":\"m\","
		 "\"chatBarText\":\"123456789012345\",\"areas\":[]}",
		 "chatBarText"},
		{"{\"size\":{\"width\":2500,\"height\":843},\"selected\":true,\"name\":\"m\","
		 "\"chatBarText\":\"c\",\"areas\":[]}",
		 "areas"},
	};
	struct richmenu_store *s = *state;
	char *reply = NULL;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r;

		assert_int_equal(richmenu_create(s, cases[i].body, strlen(cases[i].body), &reply),
				 400);
		print_message("# body %zu: %s\n", i, reply);
		r = json_loads(reply, 0, NULL);
		assert_non_null(json_object_get(r, "message"));
		if (cases[i].property != NULL)
			assert_string_equal(
				json_string_value(json_object_get(
					json_array_get(json_object_get(r, "details"), 0),
					"property")),
				cases[i].property);
		json_decref(r);
		free(reply);
	}

	/* chatBarText counts characters, not bytes: 14 kana pass. */
	const char *kana =
		"{\"size\":{\"width\":2500,\"height\":843},\"selected\":true,\"name\":\"m\","
		"\"chatBarText\":\"あいうえおかきくけこさしすせ\",\"areas\":[{\"bounds\":"
		"{\"x\":0,\"y\":0,\"width\":10,\"height\":10},\"action\":{\"type\":\"camera\"}}]}";
	assert_int_equal(richmenu_validate(s, kana, strlen(kana), &reply), 200);
	free(reply);

	/* name: 300 characters pass, 301 do not. */
	char name[400];
	memset(name, 'n', sizeof(name));
	for (int len = 300; len <= 301; len++) {
		char *body = str_dup_printf(
			"{\"size\":{\"width\":2500,\"height\":1686},\"selected\":true,\"name\":\"%."
			"*s\","
			"\"chatBarText\":\"c\",\"areas\":[{\"bounds\":{\"x\":0,\"y\":0,\"width\":1,"
			"\"height\":1},\"action\":{\"type\":\"location\"}}]}",
			len, name);
		assert_int_equal(richmenu_validate(s, body, strlen(body), &reply),
				 len == 300 ? 200 : 400);
		free(reply);
		free(body);
	}

	/* 20 areas pass, 21 do not. */
	for (int n = 20; n <= 21; n++) {
		char body[8192];
		size_t len = 0;
		assert_true(
			str_appendf(body, sizeof(body), &len,
				    "{\"size\":{\"width\":2500,\"height\":1686},\"selected\":true,"
				    "\"name\":\"m\",\"chatBarText\":\"c\",\"areas\":["));
		for (int k = 0; k < n; k++)
			assert_true(str_appendf(body, sizeof(body), &len,
						"%s{\"bounds\":{\"x\":%d,\"y\":0,\"width\":100,"
						"\"height\":100},\"action\":{\"type\":\"message\","
						"\"text\":\"%d\"}}",
						k ? "," : "", k * 100, k));
		assert_true(str_appendf(body, sizeof(body), &len, "]}"));
		assert_int_equal(richmenu_create(s, body, len, &reply), n == 20 ? 200 : 400);
		free(reply);
	}

	/* Deep nesting and oversize bodies are refused before parsing. */
	char *deep = malloc(200001);
	memset(deep, '[', 100000);
	memset(deep + 100000, ']', 100000);
	deep[200000] = '\0';
	assert_int_equal(richmenu_create(s, deep, 20000, &reply), 400);
	assert_non_null(strstr(reply, "nested"));
	free(reply);
	assert_int_equal(richmenu_create(s, deep, 200000, &reply), 400);
	assert_non_null(strstr(reply, "too large"));
	free(reply);
	free(deep);
}

static void png_and_jpeg_headers(void **state)
{
	unsigned char buf[128];
	unsigned w = 0, h = 0;
	size_t n, k;

	(void)state;
	n = make_png(buf, 2500, 1686);
	assert_true(richmenu_png_size(buf, n, &w, &h));
	assert_int_equal(w, 2500);
	assert_int_equal(h, 1686);
	for (k = 0; k < 24; k++) /* every truncation before the size ends */
		assert_false(richmenu_png_size(buf, k, &w, &h));
	assert_false(richmenu_png_size(NULL, 0, &w, &h));
	buf[11] = 14; /* IHDR length must be 13 */
	assert_false(richmenu_png_size(buf, n, &w, &h));
	make_png(buf, 0, 843);
	assert_false(richmenu_png_size(buf, n, &w, &h));
	make_png(buf, 0x80000000u, 843);
	assert_false(richmenu_png_size(buf, n, &w, &h));
	make_png(buf, 2500, 843);
	memcpy(buf + 12, "IDAT", 4);
	assert_false(richmenu_png_size(buf, n, &w, &h));

	n = make_jpeg(buf, 2500, 843);
	assert_true(richmenu_jpeg_size(buf, n, &w, &h));
	assert_int_equal(w, 2500);
	assert_int_equal(h, 843);
	for (k = 0; k < 23; k++) /* up to the SOF's last size byte */
		assert_false(richmenu_jpeg_size(buf, k, &w, &h));

	static const struct {
		const char *name;
		unsigned char bytes[24];
		size_t n;
	} hostile[] = {
		{"segment length 0", {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x00}, 6},
		{"segment length 1", {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0}, 8},
		{"length past end", {0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0, 0}, 8},
		{"SOS before SOF", {0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xc0}, 8},
		{"EOI before SOF", {0xff, 0xd8, 0xff, 0xd9}, 4},
		{"only fill bytes", {0xff, 0xd8, 0xff, 0xff, 0xff, 0xff}, 6},
		{"not a marker", {0xff, 0xd8, 0x00, 0xc0, 0x00, 0x0b}, 6},
		{"short SOF", {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x05, 8, 0, 1}, 9},
		{"SOF height 0", {0xff, 0xd8, 0xff, 0xc2, 0x00, 0x08, 8, 0, 0, 0x09, 0xc4, 1}, 12},
		{"no SOI", {0xff, 0xd9, 0xff, 0xc0, 0x00, 0x08, 8, 0, 1, 0, 1, 1}, 12},
		{"RST markers then end", {0xff, 0xd8, 0xff, 0xd0, 0xff, 0xd7, 0xff, 0x01}, 8},
	};
	for (k = 0; k < sizeof(hostile) / sizeof(hostile[0]); k++) {
		print_message("# jpeg %s\n", hostile[k].name);
		assert_false(richmenu_jpeg_size(hostile[k].bytes, hostile[k].n, &w, &h));
	}
	/* A progressive SOF2 after DHT (C4, not a frame) is read. */
	const unsigned char prog[] = {0xff, 0xd8, 0xff, 0xc4, 0x00, 0x02, 0xff, 0xc2,
				      0x00, 0x08, 8,	0x03, 0x4b, 0x04, 0xb0, 1};
	assert_true(richmenu_jpeg_size(prog, sizeof(prog), &w, &h));
	assert_int_equal(w, 1200);
	assert_int_equal(h, 843);
}

static void image_upload_rules(void **state)
{
	struct richmenu_store *s = *state;
	const char *id = create(s, 2500, 843);
	unsigned char img[64];
	const void *data;
	const char *type;
	size_t n, len;
	char *reply = NULL;
	char menu[64];

	assert_true(str_copy(menu, id, sizeof(menu)));
	assert_int_equal(richmenu_download(s, menu, &data, &len, &type, &reply), 404);
	free(reply);

	n = make_png(img, 2500, 1686);
	assert_int_equal(richmenu_upload(s, menu, "image/png", img, n, &reply), 400);
	assert_non_null(
		strstr(reply, "(2500x1686) must be the same as the rich menu size (2500x843)"));
	free(reply);
	assert_int_equal(richmenu_upload(s, menu, "image/gif", img, n, &reply), 415);
	assert_string_equal(reply, "{\"message\":\"Unsupported media type\"}");
	free(reply);
	assert_int_equal(richmenu_upload(s, menu, NULL, img, n, &reply), 415);
	free(reply);
	/* The bytes must be what the Content-Type says. */
	n = make_png(img, 2500, 843);
	assert_int_equal(richmenu_upload(s, menu, "image/jpeg", img, n, &reply), 400);
	assert_non_null(strstr(reply, "not a valid JPEG"));
	free(reply);
	assert_int_equal(richmenu_upload(s, menu, "image/png", img, 1024 * 1024 + 1, &reply), 413);
	free(reply);
	assert_int_equal(richmenu_upload(s, "richmenu-00000000000000000000000000000000",
					 "image/png", img, n, &reply),
			 404);
	free(reply);

	n = make_jpeg(img, 2500, 843);
	assert_int_equal(richmenu_upload(s, menu, "image/jpeg; charset=binary", img, n, &reply),
			 200);
	free(reply);
	assert_int_equal(richmenu_upload(s, menu, "image/jpeg", img, n, &reply), 400);
	assert_string_equal(reply,
			    "{\"message\":\"An image has already been uploaded to the richmenu\"}");
	free(reply);

	assert_int_equal(richmenu_download(s, menu, &data, &len, &type, &reply), 200);
	assert_null(reply);
	assert_int_equal(len, n);
	assert_memory_equal(data, img, n);
	assert_string_equal(type, "image/jpeg");
}

static void link_default_and_precedence(void **state)
{
	struct richmenu_store *s = *state;
	char a[64], b[64], *reply = NULL;

	assert_true(str_copy(a, create(s, 2500, 1686), sizeof(a)));
	assert_true(str_copy(b, create(s, 2500, 1686), sizeof(b)));

	/* No image yet: neither default nor linked. */
	assert_int_equal(richmenu_set_default(s, a, &reply), 400);
	assert_string_equal(
		reply, "{\"message\":\"must upload richmenu image before applying it to user\"}");
	free(reply);
	assert_int_equal(richmenu_link(s, U1, a, &reply), 400);
	free(reply);
	assert_null(richmenu_of_user(s, U1));

	upload_png(s, a, 2500, 1686);
	upload_png(s, b, 2500, 1686);
	assert_int_equal(richmenu_get_default(s, &reply), 404);
	free(reply);
	assert_int_equal(richmenu_set_default(s, a, &reply), 200);
	free(reply);
	assert_int_equal(richmenu_get_default(s, &reply), 200);
	assert_non_null(strstr(reply, a));
	free(reply);
	assert_string_equal(richmenu_of_user(s, U1), a);

	/* A linked menu beats the default; the user API sees only links. */
	assert_int_equal(richmenu_get_user(s, U1, &reply), 404);
	assert_string_equal(reply, "{\"message\":\"the user has no richmenu\"}");
	free(reply);
	assert_int_equal(richmenu_link(s, U1, b, &reply), 200);
	free(reply);
	assert_string_equal(richmenu_of_user(s, U1), b);
	assert_string_equal(richmenu_of_user(s, U2), a);
	assert_int_equal(richmenu_get_user(s, U1, &reply), 200);
	assert_non_null(strstr(reply, b));
	free(reply);

	assert_int_equal(richmenu_unlink(s, U1, &reply), 200);
	free(reply);
	assert_string_equal(richmenu_of_user(s, U1), a);

	/* Deleting a linked menu sends its users back to the default. */
	assert_int_equal(richmenu_link(s, U1, b, &reply), 200);
	free(reply);
	assert_int_equal(richmenu_delete(s, b, &reply), 200);
	free(reply);
	assert_string_equal(richmenu_of_user(s, U1), a);
	assert_int_equal(richmenu_get_user(s, U1, &reply), 404);
	free(reply);

	assert_int_equal(richmenu_clear_default(s, &reply), 200);
	free(reply);
	assert_null(richmenu_of_user(s, U1));

	/* Ids are checked. */
	assert_int_equal(richmenu_link(s, "U123", a, &reply), 400);
	assert_non_null(strstr(reply, "'userId'"));
	free(reply);
	assert_int_equal(richmenu_link(s, U1, "richmenu-nope", &reply), 404);
	free(reply);

	richmenu_store_reset(s);
	assert_int_equal(richmenu_list(s, &reply), 200);
	assert_string_equal(reply, "{\"richmenus\":[]}");
	free(reply);
}

static void aliases_and_switch(void **state)
{
	struct richmenu_store *s = *state;
	char a[64], b[64], *reply = NULL, *body;
	json_t *action = NULL;

	assert_true(str_copy(a, create(s, 2500, 843), sizeof(a)));
	assert_true(str_copy(b, create(s, 2500, 843), sizeof(b)));
	body = str_dup_printf("{\"richMenuAliasId\":\"tab-a\",\"richMenuId\":\"%s\"}", a);
	assert_int_equal(richmenu_alias_create(s, body, strlen(body), &reply), 400);
	assert_non_null(strstr(reply, "must upload richmenu image"));
	free(reply);
	upload_png(s, a, 2500, 843);
	upload_png(s, b, 2500, 843);
	assert_int_equal(richmenu_alias_create(s, body, strlen(body), &reply), 200);
	free(reply);
	assert_int_equal(richmenu_alias_create(s, body, strlen(body), &reply), 400);
	assert_string_equal(reply, "{\"message\":\"conflict richmenu alias id\"}");
	free(reply);
	free(body);

	static const char *const bad[] = {
		"{\"richMenuAliasId\":\"Tab\",\"richMenuId\":\"x\"}",
		"{\"richMenuAliasId\":\"\",\"richMenuId\":\"x\"}",
		"{\"richMenuAliasId\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"richMenuId\":\"x\"}",
		"{\"richMenuAliasId\":\"ok\"}",
		"{\"richMenuAliasId\":\"ok\",\"richMenuId\":\"richmenu-unknown\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(richmenu_alias_create(s, bad[i], strlen(bad[i]), &reply), 400);
		free(reply);
	}

	body = str_dup_printf("{\"richMenuAliasId\":\"tab-b\",\"richMenuId\":\"%s\"}", b);
	assert_int_equal(richmenu_alias_create(s, body, strlen(body), &reply), 200);
	free(reply);
	free(body);
	assert_int_equal(richmenu_alias_get(s, "tab-b", &reply), 200);
	assert_non_null(strstr(reply, b));
	free(reply);
	assert_int_equal(richmenu_alias_get(s, "tab-x", &reply), 404);
	free(reply);
	assert_int_equal(richmenu_alias_list(s, &reply), 200);
	json_t *list = json_loads(reply, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(list, "aliases")), 2);
	json_decref(list);
	free(reply);

	/* Switching links the alias's menu to the user and remembers the alias. */
	assert_false(richmenu_switch_alias(s, U1, "tab-x"));
	assert_true(richmenu_switch_alias(s, U1, "tab-b"));
	assert_string_equal(richmenu_of_user(s, U1), b);
	assert_string_equal(richmenu_alias_of_user(s, U1), "tab-b");
	assert_null(richmenu_alias_of_user(s, U2));

	/* Updating the alias away from b: U1 still sees b, no longer via tab-b. */
	body = str_dup_printf("{\"richMenuId\":\"%s\"}", a);
	assert_int_equal(richmenu_alias_update(s, "tab-b", body, strlen(body), &reply), 200);
	free(reply);
	assert_int_equal(richmenu_alias_update(s, "tab-x", body, strlen(body), &reply), 404);
	free(reply);
	free(body);
	assert_null(richmenu_alias_of_user(s, U1));

	/* area_at: the first area (x < 1250) says "left", the rest is empty. */
	assert_true(richmenu_area_at(s, U1, 10, 10, &action));
	assert_string_equal(json_string_value(json_object_get(action, "text")), "left");
	json_decref(action);
	assert_false(richmenu_area_at(s, U1, 1300, 10, &action));
	assert_null(action);
	assert_false(richmenu_area_at(s, U1, 10, 843, &action));
	assert_false(richmenu_area_at(s, U1, -1, 0, &action));
	assert_false(richmenu_area_at(s, U2, 10, 10, &action)); /* no menu at all */

	assert_int_equal(richmenu_alias_delete(s, "tab-b", &reply), 200);
	free(reply);
	assert_int_equal(richmenu_alias_delete(s, "tab-b", &reply), 404);
	free(reply);
}

static void bulk_link_limits(void **state)
{
	struct richmenu_store *s = *state;
	char a[64], *reply = NULL;
	size_t len = 0, size = 64 * 1024;
	char *body = malloc(size);

	assert_true(str_copy(a, create(s, 2500, 843), sizeof(a)));
	upload_png(s, a, 2500, 843);
	for (int n = 500; n <= 501; n++) {
		len = 0;
		assert_true(
			str_appendf(body, size, &len, "{\"richMenuId\":\"%s\",\"userIds\":[", a));
		for (int k = 0; k < n; k++)
			assert_true(str_appendf(body, size, &len, "%s\"U%032x\"", k ? "," : "", k));
		assert_true(str_appendf(body, size, &len, "]}"));
		assert_int_equal(richmenu_bulk_link(s, body, len, &reply), n == 500 ? 202 : 400);
		print_message("# %d users: %.120s\n", n, reply);
		free(reply);
	}
	assert_string_equal(richmenu_of_user(s, "U000000000000000000000000000001f3"), a);

	static const struct {
		const char *body;
		int status;
	} cases[] = {
		{"{\"userIds\":[\"U00000000000000000000000000000001\"]}", 202},
		{"{\"userIds\":[]}", 400},
		{"{\"userIds\":[\"nope\"]}", 400},
		{"{\"userIds\":[1]}", 400},
		{"{}", 400},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
			richmenu_bulk_unlink(s, cases[i].body, strlen(cases[i].body), &reply),
			cases[i].status);
		free(reply);
	}
	assert_null(richmenu_of_user(s, U1));
	assert_string_equal(richmenu_of_user(s, U2), a);

	/* bulk link of a menu without an image, or with bad user ids */
	char b[64];
	assert_true(str_copy(b, create(s, 2500, 843), sizeof(b)));
	len = 0;
	assert_true(str_appendf(body, size, &len, "{\"richMenuId\":\"%s\",\"userIds\":[\"%s\"]}", b,
				U1));
	assert_int_equal(richmenu_bulk_link(s, body, len, &reply), 400);
	assert_non_null(strstr(reply, "must upload richmenu image"));
	free(reply);
	len = 0;
	assert_true(str_appendf(body, size, &len,
				"{\"richMenuId\":\"%s\",\"userIds\":[\"%s\",\"u1\"]}", a, U1));
	assert_int_equal(richmenu_bulk_link(s, body, len, &reply), 400);
	assert_non_null(strstr(reply, "userIds[1]"));
	free(reply);
	assert_null(richmenu_of_user(s, U1)); /* all or nothing */
	free(body);
}

static void batch_operations(void **state)
{
	struct richmenu_store *s = *state;
	char a[64], b[64], c[64], *reply = NULL, *body;

	assert_true(str_copy(a, create(s, 2500, 843), sizeof(a)));
	assert_true(str_copy(b, create(s, 2500, 843), sizeof(b)));
	assert_true(str_copy(c, create(s, 2500, 843), sizeof(c)));
	upload_png(s, a, 2500, 843);
	upload_png(s, b, 2500, 843);
	assert_int_equal(richmenu_link(s, U1, a, &reply), 200);
	free(reply);
	assert_int_equal(richmenu_link(s, U2, b, &reply), 200);
	free(reply);
	assert_int_equal(richmenu_batch_progress(s, "req-1", &reply), 404);
	free(reply);

	/* c has no image: linking to it is refused, and nothing changes. */
	body = str_dup_printf("{\"operations\":[{\"type\":\"link\",\"from\":\"%s\",\"to\":"
			      "\"%s\"}]}",
			      a, c);
	assert_int_equal(richmenu_batch(s, body, strlen(body), false, &reply), 400);
	assert_non_null(strstr(reply, "operations[0].to"));
	free(reply);
	free(body);

	static const char *const bad[] = {
		"{}",
		"{\"operations\":[]}",
		"{\"operations\":[{\"type\":\"move\"}]}",
		"{\"operations\":[{\"type\":\"unlink\"}]}",
		"{\"operations\":[{\"type\":\"unlinkAll\"}],\"resumeRequestKey\":\"a b\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(richmenu_batch(s, bad[i], strlen(bad[i]), true, &reply), 400);
		free(reply);
	}

	body = str_dup_printf("{\"operations\":[{\"type\":\"link\",\"from\":\"%s\",\"to\":"
			      "\"%s\"}],\"resumeRequestKey\":\"k-1\"}",
			      a, b);
	assert_int_equal(richmenu_batch(s, body, strlen(body), false, &reply), 200);
	free(reply);
	assert_string_equal(richmenu_of_user(s, U1), a); /* validate changes nothing */
	assert_int_equal(richmenu_batch(s, body, strlen(body), true, &reply), 202);
	free(reply);
	free(body);
	assert_string_equal(richmenu_of_user(s, U1), b);
	assert_string_equal(richmenu_of_user(s, U2), b);
	assert_int_equal(richmenu_batch_progress(s, "req-1", &reply), 200);
	assert_non_null(strstr(reply, "\"phase\":\"succeeded\""));
	free(reply);
	assert_int_equal(richmenu_batch_progress(s, NULL, &reply), 400);
	free(reply);

	body = str_dup_printf("{\"operations\":[{\"type\":\"unlink\",\"from\":\"%s\"}]}", b);
	assert_int_equal(richmenu_batch(s, body, strlen(body), true, &reply), 202);
	free(reply);
	free(body);
	assert_null(richmenu_of_user(s, U1));
	assert_int_equal(richmenu_link(s, U1, a, &reply), 200);
	free(reply);
	const char *all = "{\"operations\":[{\"type\":\"unlinkAll\"}]}";
	assert_int_equal(richmenu_batch(s, all, strlen(all), true, &reply), 202);
	free(reply);
	assert_null(richmenu_of_user(s, U1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_valid_and_get, setup, teardown),
		cmocka_unit_test_setup_teardown(create_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(create_invalid_bodies, setup, teardown),
		cmocka_unit_test(png_and_jpeg_headers),
		cmocka_unit_test_setup_teardown(image_upload_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(link_default_and_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(aliases_and_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(bulk_link_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_operations, setup, teardown),
	};

	return cmocka_run_group_tests_name("linesim_richmenu", tests, NULL, NULL);
}
