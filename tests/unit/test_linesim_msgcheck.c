/* Unit tests for tools/linesim/msgcheck: every message type's required
 * fields and limits as LINE documents them (messaging-api.yml and the
 * Messaging API reference), asserted as the exact details array a client
 * gets back: messages and property paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../tools/linesim/msgcheck.h"
#include "str.h"

#define EMOJI "\xf0\x9f\x98\x80" /* U+1F600: 4 UTF-8 bytes, 2 UTF-16 units */
#define KANJI "\xe9\x81\xbf"	 /* 避, U+907F: 3 UTF-8 bytes, 1 UTF-16 unit */

#define TYPES                                                                                      \
	"Must be one of the following values: [text, image, video, audio, location, sticker, "     \
	"template, imagemap, flex]"
#define D(msg, prop) "{\"message\":\"" msg "\",\"property\":\"" prop "\"}"
#define OK	     "[]"

/* Short message objects the cases build on. */
#define TEXT   "{\"type\":\"text\",\"text\":\"x\"}"
#define ACTION "{\"type\":\"message\",\"label\":\"a\",\"text\":\"a\"}"
#define BUBBLE                                                                                     \
	"{\"type\":\"bubble\",\"body\":"                                                           \
	"{\"type\":\"box\",\"layout\":\"vertical\",\"contents\":[]}}"
#define IMG	"https://example.jp/a.jpg"
#define QRITEM	"{\"type\":\"action\",\"action\":" ACTION "}"
#define MAPBASE "\"baseUrl\":\"https://example.jp/map\",\"altText\":\"map\""

/* json is the messages value (NULL: the property is absent); a "%s" in it
 * becomes rep repeated n times, for the limits.  want is each detail in
 * order as "property: message" ({NULL}: none). */
#define WANT_MAX 10
struct msg_case {
	const char *name;
	const char *json;
	const char *rep;
	size_t n;
	const char *want[WANT_MAX];
};

static const struct msg_case cases[] = {
	/* --- the messages array ------------------------------------------------ */
	{"absent", NULL, NULL, 0, {"messages: May not be empty"}},
	{"null", "null", NULL, 0, {"messages: May not be empty"}},
	{"an object", "{}", NULL, 0, {"messages: Must be an array"}},
	{"a string", "\"hi\"", NULL, 0, {"messages: Must be an array"}},
	{"empty", "[]", NULL, 0, {"messages: Size must be between 1 and 5"}},
	{"five", "[" TEXT "," TEXT "," TEXT "," TEXT "," TEXT "]", NULL, 0, {NULL}},
	{"six",
	 "[" TEXT "," TEXT "," TEXT "," TEXT "," TEXT "," TEXT "]",
	 NULL,
	 0,
	 {"messages: Size must be between 1 and 5"}},
	{"a number", "[1]", NULL, 0, {"messages[0]: Must be an object"}},
	{"null message", "[null]", NULL, 0, {"messages[0]: Must be an object"}},
	{"no type", "[{}]", NULL, 0, {"messages[0].type: May not be empty"}},
	{"null type", "[{\"type\":null}]", NULL, 0, {"messages[0].type: May not be empty"}},
	{"numeric type", "[{\"type\":5}]", NULL, 0, {"messages[0].type: Must be a string"}},
	{"unknown type", "[{\"type\":\"telegram\"}]", NULL, 0, {"messages[0].type: " TYPES}},
	{"type is case-sensitive",
	 "[{\"type\":\"Text\",\"text\":\"x\"}]",
	 NULL,
	 0,
	 {"messages[0].type: " TYPES}},
	{"errors name their message",
	 "[" TEXT ",{\"type\":\"text\"}," TEXT ",{\"type\":\"x\"}]",
	 NULL,
	 0,
	 {"messages[1].text: May not be empty", "messages[3].type: " TYPES}},

	/* --- text: 5000 UTF-16 code units ---------------------------------------- */
	{"text", "[" TEXT "]", NULL, 0, {NULL}},
	{"text absent", "[{\"type\":\"text\"}]", NULL, 0, {"messages[0].text: May not be empty"}},
	{"text empty",
	 "[{\"type\":\"text\",\"text\":\"\"}]",
	 NULL,
	 0,
	 {"messages[0].text: May not be empty"}},
	{"text null",
	 "[{\"type\":\"text\",\"text\":null}]",
	 NULL,
	 0,
	 {"messages[0].text: May not be empty"}},
	{"text a number",
	 "[{\"type\":\"text\",\"text\":5}]",
	 NULL,
	 0,
	 {"messages[0].text: Must be a string"}},
	{"text an array",
	 "[{\"type\":\"text\",\"text\":[\"x\"]}]",
	 NULL,
	 0,
	 {"messages[0].text: Must be a string"}},
	{"5000 ASCII", "[{\"type\":\"text\",\"text\":\"%s\"}]", "a", 5000, {NULL}},
	{"5001 ASCII",
	 "[{\"type\":\"text\",\"text\":\"%s\"}]",
	 "a",
	 5001,
	 {"messages[0].text: Length must be between 0 and 5000"}},
	{"2500 emoji are 5000 units", "[{\"type\":\"text\",\"text\":\"%s\"}]", EMOJI, 2500, {NULL}},
	{"2501 emoji",
	 "[{\"type\":\"text\",\"text\":\"%s\"}]",
	 EMOJI,
	 2501,
	 {"messages[0].text: Length must be between 0 and 5000"}},
	{"5000 kanji (15000 bytes)", "[{\"type\":\"text\",\"text\":\"%s\"}]", KANJI, 5000, {NULL}},
	{"5001 kanji",
	 "[{\"type\":\"text\",\"text\":\"%s\"}]",
	 KANJI,
	 5001,
	 {"messages[0].text: Length must be between 0 and 5000"}},
	{"4998 + an emoji", "[{\"type\":\"text\",\"text\":\"%s" EMOJI "\"}]", "a", 4998, {NULL}},
	{"4999 + an emoji",
	 "[{\"type\":\"text\",\"text\":\"%s" EMOJI "\"}]",
	 "a",
	 4999,
	 {"messages[0].text: Length must be between 0 and 5000"}},

	/* --- sticker ----------------------------------------------------------- */
	{"sticker",
	 "[{\"type\":\"sticker\",\"packageId\":\"446\",\"stickerId\":\"1988\"}]",
	 NULL,
	 0,
	 {NULL}},
	{"sticker without ids",
	 "[{\"type\":\"sticker\"}]",
	 NULL,
	 0,
	 {"messages[0].packageId: May not be empty", "messages[0].stickerId: May not be empty"}},
	{"sticker ids are strings",
	 "[{\"type\":\"sticker\",\"packageId\":446,\"stickerId\":\"\"}]",
	 NULL,
	 0,
	 {"messages[0].packageId: Must be a string", "messages[0].stickerId: May not be empty"}},

	/* --- image, video, audio: https and 2000 characters ------------------------ */
	{"image",
	 "[{\"type\":\"image\",\"originalContentUrl\":\"" IMG "\",\"previewImageUrl\":\"" IMG
	 "\"}]",
	 NULL,
	 0,
	 {NULL}},
	{"image without URLs",
	 "[{\"type\":\"image\"}]",
	 NULL,
	 0,
	 {"messages[0].originalContentUrl: May not be empty",
	  "messages[0].previewImageUrl: May not be empty"}},
	{"image over http",
	 "[{\"type\":\"image\",\"originalContentUrl\":\"http://example.jp/a.jpg\","
	 "\"previewImageUrl\":\"ftp://example.jp/b.jpg\"}]",
	 NULL,
	 0,
	 {"messages[0].originalContentUrl: Must be a valid HTTPS URL",
	  "messages[0].previewImageUrl: Must be a valid HTTPS URL"}},
	{"image URL of 2000",
	 "[{\"type\":\"image\",\"originalContentUrl\":\"https://e.jp/%s\","
	 "\"previewImageUrl\":\"" IMG "\"}]",
	 "a",
	 2000 - 13,
	 {NULL}},
	{"image URL of 2001",
	 "[{\"type\":\"image\",\"originalContentUrl\":\"https://e.jp/%s\","
	 "\"previewImageUrl\":\"" IMG "\"}]",
	 "a",
	 2001 - 13,
	 {"messages[0].originalContentUrl: Length must be between 0 and 2000"}},
	{"image URL a number",
	 "[{\"type\":\"image\",\"originalContentUrl\":1,\"previewImageUrl\":\"" IMG "\"}]",
	 NULL,
	 0,
	 {"messages[0].originalContentUrl: Must be a string"}},
	{"video",
	 "[{\"type\":\"video\",\"originalContentUrl\":\"" IMG "\",\"previewImageUrl\":\"" IMG
	 "\",\"trackingId\":\"t\"}]",
	 NULL,
	 0,
	 {NULL}},
	{"video without preview",
	 "[{\"type\":\"video\",\"originalContentUrl\":\"" IMG "\"}]",
	 NULL,
	 0,
	 {"messages[0].previewImageUrl: May not be empty"}},
	{"audio",
	 "[{\"type\":\"audio\",\"originalContentUrl\":\"" IMG "\",\"duration\":60000}]",
	 NULL,
	 0,
	 {NULL}},
	{"audio without duration",
	 "[{\"type\":\"audio\",\"originalContentUrl\":\"" IMG "\"}]",
	 NULL,
	 0,
	 {"messages[0].duration: May not be empty"}},
	{"audio duration null",
	 "[{\"type\":\"audio\",\"originalContentUrl\":\"" IMG "\",\"duration\":null}]",
	 NULL,
	 0,
	 {"messages[0].duration: May not be empty"}},
	{"audio duration a string",
	 "[{\"type\":\"audio\",\"originalContentUrl\":\"" IMG "\",\"duration\":\"60000\"}]",
	 NULL,
	 0,
	 {"messages[0].duration: Must be an integer"}},
	{"audio duration a fraction",
	 "[{\"type\":\"audio\",\"originalContentUrl\":\"" IMG "\",\"duration\":1.5}]",
	 NULL,
	 0,
	 {"messages[0].duration: Must be an integer"}},

	/* --- location: title and address 100, latitude and longitude ------------------- */
	{"location",
	 "[{\"type\":\"location\",\"title\":\"" KANJI "\",\"address\":\"x\","
	 "\"latitude\":35.68,\"longitude\":139}]",
	 NULL,
	 0,
	 {NULL}},
	{"location empty",
	 "[{\"type\":\"location\"}]",
	 NULL,
	 0,
	 {"messages[0].title: May not be empty", "messages[0].address: May not be empty",
	  "messages[0].latitude: May not be empty", "messages[0].longitude: May not be empty"}},
	{"location title 100",
	 "[{\"type\":\"location\",\"title\":\"%s\",\"address\":\"x\","
	 "\"latitude\":0,\"longitude\":0}]",
	 KANJI,
	 100,
	 {NULL}},
	{"location title 101",
	 "[{\"type\":\"location\",\"title\":\"%s\",\"address\":\"x\","
	 "\"latitude\":0,\"longitude\":0}]",
	 "a",
	 101,
	 {"messages[0].title: Length must be between 0 and 100"}},
	{"location address 101",
	 "[{\"type\":\"location\",\"title\":\"t\",\"address\":\"%s\","
	 "\"latitude\":0,\"longitude\":0}]",
	 "a",
	 101,
	 {"messages[0].address: Length must be between 0 and 100"}},
	{"location coordinates as strings",
	 "[{\"type\":\"location\",\"title\":\"t\",\"address\":\"a\","
	 "\"latitude\":\"35.6\",\"longitude\":true}]",
	 NULL,
	 0,
	 {"messages[0].latitude: Must be a number", "messages[0].longitude: Must be a number"}},

	/* --- flex: altText 1500, contents a bubble or a carousel -------------------------- */
	{"flex",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":" BUBBLE "}]",
	 NULL,
	 0,
	 {NULL}},
	{"flex empty",
	 "[{\"type\":\"flex\"}]",
	 NULL,
	 0,
	 {"messages[0].altText: May not be empty", "messages[0].contents: May not be empty"}},
	{"flex altText 1500",
	 "[{\"type\":\"flex\",\"altText\":\"%s\",\"contents\":" BUBBLE "}]",
	 EMOJI,
	 750,
	 {NULL}},
	{"flex altText 1501",
	 "[{\"type\":\"flex\",\"altText\":\"%s\",\"contents\":" BUBBLE "}]",
	 "a",
	 1501,
	 {"messages[0].altText: Length must be between 0 and 1500"}},
	{"flex contents a string",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":\"bubble\"}]",
	 NULL,
	 0,
	 {"messages[0].contents: Must be an object"}},
	{"flex contents of no type",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":{}}]",
	 NULL,
	 0,
	 {"messages[0].contents.type: Must be one of the following values: [bubble, carousel]"}},
	{"flex contents a box",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":{\"type\":\"box\"}}]",
	 NULL,
	 0,
	 {"messages[0].contents.type: Must be one of the following values: [bubble, carousel]"}},
	{"flex bubble over 30 KB",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":"
	 "{\"type\":\"bubble\",\"body\":{\"type\":\"box\",\"layout\":"
	 "\"vertical\",\"contents\":[{\"type\":\"text\",\"text\":\"%s\"}]}}}]",
	 "a",
	 30 * 1024,
	 {"messages[0].contents: Size of a bubble must be at most 30 KB"}},
	{"flex carousel",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":{\"type\":\"carousel\","
	 "\"contents\":[" BUBBLE "," BUBBLE "]}}]",
	 NULL,
	 0,
	 {NULL}},
	{"flex carousel of 12",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":{\"type\":"
	 "\"carousel\",\"contents\":[%s" BUBBLE "]}}]",
	 BUBBLE ",",
	 11,
	 {NULL}},
	{"flex carousel of 13",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":{\"type\":"
	 "\"carousel\",\"contents\":[%s" BUBBLE "]}}]",
	 BUBBLE ",",
	 12,
	 {"messages[0].contents.contents: Size must be between 1 and 12"}},
	{"flex carousel empty",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":{\"type\":"
	 "\"carousel\",\"contents\":[]}}]",
	 NULL,
	 0,
	 {"messages[0].contents.contents: Size must be between 1 and 12"}},
	{"flex carousel of a box",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":{\"type\":"
	 "\"carousel\",\"contents\":[" BUBBLE ",{\"type\":\"box\"}]}}]",
	 NULL,
	 0,
	 {"messages[0].contents.contents[1].type: Must be one of the following values: [bubble]"}},
	{"flex carousel over 50 KB",
	 "[{\"type\":\"flex\",\"altText\":\"a\",\"contents\":{\"type\":\"carousel\",\"contents\":["
	 "{\"type\":\"bubble\",\"body\":{\"type\":\"box\",\"layout\":\"vertical\",\"contents\":"
	 "[{\"type\":\"text\",\"text\":\"%s\"}]}}," BUBBLE "]}}]",
	 "a",
	 50 * 1024,
	 {"messages[0].contents: Size of a carousel must be at most 50 KB"}},

	/* --- template: altText 400, buttons, confirm, carousel, image_carousel ------------- */
	{"buttons",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":\"buttons\","
	 "\"text\":\"t\",\"actions\":[" ACTION "]}}]",
	 NULL,
	 0,
	 {NULL}},
	{"template empty",
	 "[{\"type\":\"template\"}]",
	 NULL,
	 0,
	 {"messages[0].altText: May not be empty", "messages[0].template: May not be empty"}},
	{"template altText 401",
	 "[{\"type\":\"template\",\"altText\":\"%s\",\"template\":{\"type\":"
	 "\"confirm\",\"text\":\"t\",\"actions\":[" ACTION "," ACTION "]}}]",
	 "a",
	 401,
	 {"messages[0].altText: Length must be between 0 and 400"}},
	{"template a string",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":\"buttons\"}]",
	 NULL,
	 0,
	 {"messages[0].template: Must be an object"}},
	{"template of no type",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{}}]",
	 NULL,
	 0,
	 {"messages[0].template.type: May not be empty"}},
	{"template of an unknown type",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":\"list\"}}]",
	 NULL,
	 0,
	 {"messages[0].template.type: Must be one of the following values: [buttons, confirm, "
	  "carousel, image_carousel]"}},
	{"buttons empty",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"buttons\"}}]",
	 NULL,
	 0,
	 {"messages[0].template.text: May not be empty",
	  "messages[0].template.actions: May not be empty"}},
	{"buttons text 160",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"buttons\",\"text\":\"%s\",\"actions\":[" ACTION "]}}]",
	 "a",
	 160,
	 {NULL}},
	{"buttons text 161",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"buttons\",\"text\":\"%s\",\"actions\":[" ACTION "]}}]",
	 "a",
	 161,
	 {"messages[0].template.text: Length must be between 0 and 160"}},
	{"buttons with a title: text 61",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{"
	 "\"type\":\"buttons\",\"title\":\"T\",\"text\":\"%s\","
	 "\"actions\":[" ACTION "]}}]",
	 "a",
	 61,
	 {"messages[0].template.text: Length must be between 0 and 60"}},
	{"buttons with an http image",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{"
	 "\"type\":\"buttons\",\"thumbnailImageUrl\":\"http://e.jp/"
	 "a.jpg\",\"text\":\"%s\",\"actions\":[" ACTION "]}}]",
	 "a",
	 60,
	 {"messages[0].template.thumbnailImageUrl: Must be a valid HTTPS URL"}},
	{"buttons with 5 actions",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"buttons\",\"text\":\"t\",\"actions\":[%s" ACTION "]}}]",
	 ACTION ",",
	 4,
	 {"messages[0].template.actions: Size must be between 1 and 4"}},
	{"confirm",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":\"confirm\","
	 "\"text\":\"t\",\"actions\":[" ACTION "," ACTION "]}}]",
	 NULL,
	 0,
	 {NULL}},
	{"confirm with 1 action",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"confirm\",\"text\":\"t\",\"actions\":[" ACTION "]}}]",
	 NULL,
	 0,
	 {"messages[0].template.actions: Size must be between 2 and 2"}},
	{"confirm text 241",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"confirm\",\"text\":\"%s\",\"actions\":[" ACTION "," ACTION "]}}]",
	 "a",
	 241,
	 {"messages[0].template.text: Length must be between 0 and 240"}},
	{"confirm actions an object",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{"
	 "\"type\":\"confirm\",\"text\":\"t\",\"actions\":" ACTION "}}]",
	 NULL,
	 0,
	 {"messages[0].template.actions: Must be an array"}},
	{"carousel",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":\"carousel\","
	 "\"columns\":[{\"text\":\"t\",\"actions\":[" ACTION "]}]}}]",
	 NULL,
	 0,
	 {NULL}},
	{"carousel of 11 columns",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"carousel\",\"columns\":[%s{}]}}]",
	 "{},",
	 10,
	 {"messages[0].template.columns: Size must be between 1 and 10"}},
	{"carousel column checks",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"carousel\",\"columns\":[{},3,{\"title\":\"T\",\"text\":\"%s\","
	 "\"actions\":[" ACTION "," ACTION "," ACTION "," ACTION "]}]}}]",
	 "a",
	 61,
	 {"messages[0].template.columns[0].text: May not be empty",
	  "messages[0].template.columns[0].actions: May not be empty",
	  "messages[0].template.columns[1]: Must be an object",
	  "messages[0].template.columns[2].text: Length must be between 0 and 60",
	  "messages[0].template.columns[2].actions: Size must be between 1 and 3"}},
	{"image carousel",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":"
	 "\"image_carousel\",\"columns\":[{\"imageUrl\":\"" IMG "\",\"action\":" ACTION "}]}}]",
	 NULL,
	 0,
	 {NULL}},
	{"image carousel column checks",
	 "[{\"type\":\"template\",\"altText\":\"a\",\"template\":{\"type\":\"image_carousel\","
	 "\"columns\":[{\"imageUrl\":\"http://e.jp/a.jpg\",\"action\":[]},{}]}}]",
	 NULL,
	 0,
	 {"messages[0].template.columns[0].imageUrl: Must be a valid HTTPS URL",
	  "messages[0].template.columns[0].action: Must be an object",
	  "messages[0].template.columns[1].imageUrl: May not be empty",
	  "messages[0].template.columns[1].action: May not be empty"}},

	/* --- imagemap: baseUrl, altText 1500, baseSize 1040 wide, actions 50 ---------------- */
	{"imagemap",
	 "[{\"type\":\"imagemap\"," MAPBASE ",\"baseSize\":{\"width\":1040,\"height\":"
	 "1040},\"actions\":[{\"type\":\"uri\",\"linkUri\":\"https://e.jp/\",\"area\":"
	 "{\"x\":0,\"y\":0,\"width\":520,\"height\":1040}}]}]",
	 NULL,
	 0,
	 {NULL}},
	{"imagemap empty",
	 "[{\"type\":\"imagemap\"}]",
	 NULL,
	 0,
	 {"messages[0].baseUrl: May not be empty", "messages[0].altText: May not be empty",
	  "messages[0].baseSize: May not be empty", "messages[0].actions: May not be empty"}},
	{"imagemap over http",
	 "[{\"type\":\"imagemap\",\"baseUrl\":\"http://e.jp/m\",\"altText\":"
	 "\"m\",\"baseSize\":{\"width\":1040,\"height\":520},\"actions\":[]}]",
	 NULL,
	 0,
	 {"messages[0].baseUrl: Must be a valid HTTPS URL"}},
	{"imagemap base size",
	 "[{\"type\":\"imagemap\"," MAPBASE ",\"baseSize\":{\"width\":1000,"
	 "\"height\":0},\"actions\":[]}]",
	 NULL,
	 0,
	 {"messages[0].baseSize.width: Must be 1040",
	  "messages[0].baseSize.height: Must be a positive integer"}},
	{"imagemap base size as strings",
	 "[{\"type\":\"imagemap\"," MAPBASE ",\"baseSize\":{"
	 "\"width\":\"1040\",\"height\":\"520\"},\"actions\":[]}]",
	 NULL,
	 0,
	 {"messages[0].baseSize.width: Must be 1040",
	  "messages[0].baseSize.height: Must be a positive integer"}},
	{"imagemap base size an array",
	 "[{\"type\":\"imagemap\"," MAPBASE ",\"baseSize\":[1040,520],"
	 "\"actions\":[]}]",
	 NULL,
	 0,
	 {"messages[0].baseSize: Must be an object"}},
	{"imagemap altText 1501",
	 "[{\"type\":\"imagemap\",\"baseUrl\":\"https://e.jp/m\",\"altText\":"
	 "\"%s\",\"baseSize\":{\"width\":1040,\"height\":520},\"actions\":[]}]",
	 "a",
	 1501,
	 {"messages[0].altText: Length must be between 0 and 1500"}},
	{"imagemap with 51 actions",
	 "[{\"type\":\"imagemap\"," MAPBASE ",\"baseSize\":{\"width\":"
	 "1040,\"height\":520},\"actions\":[%s{}]}]",
	 "{},",
	 50,
	 {"messages[0].actions: Size must be between 0 and 50"}},

	{"imagemap actions",
	 "[{\"type\":\"imagemap\"," MAPBASE ",\"baseSize\":{\"width\":1040,"
	 "\"height\":520},\"actions\":[{\"type\":\"message\",\"text\":\"a\","
	 "\"area\":{\"x\":0,\"y\":0,\"width\":1,\"height\":1}},{\"type\":"
	 "\"clipboard\",\"clipboardText\":\"c\",\"area\":{\"x\":0,\"y\":0,"
	 "\"width\":1,\"height\":1}}]}]",
	 NULL,
	 0,
	 {NULL}},
	{"imagemap action checks",
	 "[{\"type\":\"imagemap\"," MAPBASE ",\"baseSize\":{\"width\":1040,\"height\":520},"
	 "\"actions\":[1,{\"type\":\"postback\",\"area\":[]},{\"type\":\"uri\",\"area\":{\"x\":"
	 "0,\"y\":\"0\",\"width\":1.5}},{\"type\":\"clipboard\",\"clipboardText\":\"%s\"}]}]",
	 "a",
	 1001,
	 {"messages[0].actions[0]: Must be an object",
	  "messages[0].actions[1].type: Must be one of the following values: [uri, message, "
	  "clipboard]",
	  "messages[0].actions[1].area: Must be an object",
	  "messages[0].actions[2].linkUri: May not be empty",
	  "messages[0].actions[2].area.y: Must be an integer",
	  "messages[0].actions[2].area.width: Must be an integer",
	  "messages[0].actions[2].area.height: May not be empty",
	  "messages[0].actions[3].clipboardText: Length must be between 0 and 1000",
	  "messages[0].actions[3].area: May not be empty"}},
	{"imagemap message action text 401",
	 "[{\"type\":\"imagemap\"," MAPBASE ",\"baseSize\":{\"width\":1040,\"height\":520},"
	 "\"actions\":[{\"type\":\"message\",\"text\":\"%s\",\"area\":{\"x\":0,\"y\":0,"
	 "\"width\":1,\"height\":1}}]}]",
	 "a",
	 401,
	 {"messages[0].actions[0].text: Length must be between 0 and 400"}},

	/* --- quick reply (13 buttons) and sender (name 20) ---------------------------------- */
	{"quick reply of 13",
	 "[{\"type\":\"text\",\"text\":\"x\",\"quickReply\":{\"items\":[%s" QRITEM "]}}]",
	 QRITEM ",",
	 12,
	 {NULL}},
	{"quick reply of 14",
	 "[{\"type\":\"text\",\"text\":\"x\",\"quickReply\":{\"items\":[%s" QRITEM "]}}]",
	 QRITEM ",",
	 13,
	 {"messages[0].quickReply.items: Size must be between 1 and 13"}},
	{"quick reply empty",
	 "[{\"type\":\"text\",\"text\":\"x\",\"quickReply\":{\"items\":[]}}]",
	 NULL,
	 0,
	 {"messages[0].quickReply.items: Size must be between 1 and 13"}},
	{"quick reply without items",
	 "[{\"type\":\"text\",\"text\":\"x\",\"quickReply\":{}}]",
	 NULL,
	 0,
	 {"messages[0].quickReply.items: May not be empty"}},
	{"quick reply a list",
	 "[{\"type\":\"text\",\"text\":\"x\",\"quickReply\":[" QRITEM "]}]",
	 NULL,
	 0,
	 {"messages[0].quickReply: Must be an object"}},
	{"quick reply items checked",
	 "[{\"type\":\"sticker\",\"packageId\":\"1\",\"stickerId\":\"2\","
	 "\"quickReply\":{\"items\":[{\"type\":\"action\"},\"x\",{"
	 "\"type\":\"action\",\"imageUrl\":\"http://e.jp/i.png\","
	 "\"action\":" ACTION "}]}}]",
	 NULL,
	 0,
	 {"messages[0].quickReply.items[0].action: May not be empty",
	  "messages[0].quickReply.items[1]: Must be an object",
	  "messages[0].quickReply.items[2].imageUrl: Must be a valid HTTPS URL"}},
	{"sender",
	 "[{\"type\":\"text\",\"text\":\"x\",\"sender\":{\"name\":\"%s\",\"iconUrl\":\"" IMG
	 "\"}}]",
	 KANJI,
	 20,
	 {NULL}},
	{"sender name 21",
	 "[{\"type\":\"text\",\"text\":\"x\",\"sender\":{\"name\":\"%s\"}}]",
	 "a",
	 21,
	 {"messages[0].sender.name: Length must be between 0 and 20"}},
	{"sender icon over http",
	 "[{\"type\":\"text\",\"text\":\"x\",\"sender\":{\"iconUrl\":\"http:"
	 "//e.jp/i.png\"}}]",
	 NULL,
	 0,
	 {"messages[0].sender.iconUrl: Must be a valid HTTPS URL"}},
	{"sender a string",
	 "[{\"type\":\"text\",\"text\":\"x\",\"sender\":\"city\"}]",
	 NULL,
	 0,
	 {"messages[0].sender: Must be an object"}},
	{"common checks after the type's",
	 "[{\"type\":\"text\",\"quickReply\":{\"items\":[]}}]",
	 NULL,
	 0,
	 {"messages[0].text: May not be empty",
	  "messages[0].quickReply.items: Size must be between 1 and 13"}},
};

/* The case's JSON text with rep repeated n times in place of "%s". */
static char *expand(const struct msg_case *c)
{
	const char *at = strstr(c->json, "%s");
	size_t rl = c->rep != NULL ? strlen(c->rep) : 0, len = strlen(c->json);
	char *out, *p;

	if (at == NULL) {
		out = strdup(c->json);
		assert_non_null(out);
		return out;
	}
	assert_non_null(c->rep);
	out = malloc(len + rl * c->n + 1);
	assert_non_null(out);
	p = out;
	memcpy(p, c->json, (size_t)(at - c->json));
	p += at - c->json;
	for (size_t i = 0; i < c->n; i++, p += rl)
		memcpy(p, c->rep, rl);
	memcpy(p, at + 2, len - (size_t)(at - c->json) - 2 + 1);
	return out;
}

/* The details as "property: message" lines, for comparing and printing. */
static void details_text(const json_t *details, char *out, size_t size)
{
	const json_t *d;
	size_t i, len = 0;

	out[0] = '\0';
	json_array_foreach(details, i, d)
	{
		assert_true(str_appendf(out, size, &len, "%s: %s\n",
					json_string_value(json_object_get(d, "property")),
					json_string_value(json_object_get(d, "message"))));
		assert_int_equal(json_object_size(d), 2);
	}
}

static void table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct msg_case *c = &cases[i];
		json_t *messages = NULL, *details = json_array();
		json_error_t jerr;
		char got[4096], want[4096], *text;
		size_t n, len = 0;

		if (c->json != NULL) {
			text = expand(c);
			messages = json_loads(text, JSON_DECODE_ANY, &jerr);
			if (messages == NULL)
				fail_msg("case '%s': bad JSON in the test: %s", c->name, jerr.text);
			free(text);
		}
		n = msgcheck_messages(messages, 5, "messages", details);
		details_text(details, got, sizeof(got));
		want[0] = '\0';
		for (size_t w = 0; w < WANT_MAX && c->want[w] != NULL; w++)
			assert_true(str_appendf(want, sizeof(want), &len, "%s\n", c->want[w]));
		if (strcmp(got, want) != 0)
			fail_msg("case '%s':\n got:\n%s want:\n%s", c->name, got, want);
		/* The count returned is the number of details appended. */
		assert_int_equal(n, json_array_size(details));
		json_decref(details);
		json_decref(messages);
	}
}

static void utf16_length(void **state)
{
	(void)state;
	assert_int_equal(msgcheck_utf16_len(""), 0);
	assert_int_equal(msgcheck_utf16_len("abc"), 3);
	assert_int_equal(msgcheck_utf16_len(KANJI), 1);
	assert_int_equal(msgcheck_utf16_len(EMOJI), 2);
	assert_int_equal(msgcheck_utf16_len("a" EMOJI KANJI "\xc3\xa9"), 5); /* é: 1 */
}

/* The caller's property name and maximum are used as given (multicast and
 * push allow 5; a caller may check one message as "message"). */
static void max_and_prop(void **state)
{
	json_t *details = json_array();
	json_t *m = json_loads("[" TEXT "," TEXT "]", 0, NULL);
	char *got;

	(void)state;
	assert_int_equal(msgcheck_messages(m, 1, "body.messages", details), 1);
	got = json_dumps(details, JSON_COMPACT);
	assert_string_equal(got, "[" D("Size must be between 1 and 1", "body.messages") "]");
	free(got);
	json_decref(m);
	json_decref(details);
}

/* Nesting: flex contents are sized by serialising them, which recurses once
 * per level; msgcheck refuses deep contents before that, so a value built
 * 100,000 deep (HTTP bodies stop at 64) neither crashes nor takes long. */
static json_t *nested_flex(size_t depth)
{
	json_t *inner = json_array(), *msg;

	for (size_t i = 2; i < depth; i++) {
		json_t *outer = json_array();

		json_array_append_new(outer, inner);
		inner = outer;
	}
	/* contents = {"type":"bubble","body": <depth - 1 arrays>}: depth levels */
	msg = json_pack("[{s:s, s:s, s:{s:s, s:o}}]", "type", "flex", "altText", "a", "contents",
			"type", "bubble", "body", inner);
	assert_non_null(msg);
	return msg;
}

/* jansson frees recursively too: unwind the arrays one level at a time. */
static void free_deep(json_t *m)
{
	json_t *contents = json_object_get(json_array_get(m, 0), "contents");
	json_t *v = json_incref(json_object_get(contents, "body"));

	json_object_del(contents, "body");
	json_decref(m);
	while (v != NULL) {
		json_t *child = json_array_size(v) > 0 ? json_incref(json_array_get(v, 0)) : NULL;

		json_array_clear(v);
		json_decref(v);
		v = child;
	}
}

static void deep_nesting(void **state)
{
	static const struct {
		size_t depth;
		const char *want;
	} deep[] = {
		{2, OK},
		{64, OK},
		{65, "[" D("Must be nested at most 64 levels deep", "messages[0].contents") "]"},
		{100000,
		 "[" D("Must be nested at most 64 levels deep", "messages[0].contents") "]"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(deep) / sizeof(deep[0]); i++) {
		json_t *m = nested_flex(deep[i].depth), *details = json_array();
		char *got;

		msgcheck_messages(m, 5, "messages", details);
		got = json_dumps(details, JSON_COMPACT);
		if (strcmp(got, deep[i].want) != 0)
			fail_msg("depth %zu: got %s, want %s", deep[i].depth, got, deep[i].want);
		free(got);
		json_decref(details);
		free_deep(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(utf16_length),
		cmocka_unit_test(max_and_prop),
		cmocka_unit_test(deep_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
