/*
 * richmenu — the Messaging API's rich menus, kept in memory.
 *
 * Menus, their images, aliases, the default menu and per-user links, with
 * the paths, status codes, limits and error JSON of LINE's API
 * (messaging-api.yml): create/validate/get/list/delete, image upload and
 * download (PNG or JPEG, ≤ 1 MB, pixel size equal to the menu's), default,
 * per-user and bulk link/unlink, and aliases.  At most 1000 menus and 1000
 * aliases, as LINE.
 *
 * The store owns everything in it.  richmenu_of_user() returns a pointer
 * into the store, valid until the next call that changes it.  Route and
 * verb functions answer with an HTTP status and LINE's
 * {"message":…,"details":[…]} JSON; nothing is logged with a user id.
 * Not thread-safe; the simulator runs one request at a time.
 */
#ifndef HL_LINESIM_RICHMENU_H
#define HL_LINESIM_RICHMENU_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "httpd.h"

struct richmenu_store;

struct richmenu_store *richmenu_store_new(void);
void richmenu_store_free(struct richmenu_store *s);
/* Forget every menu, image, alias and link (POST /sim/reset). */
void richmenu_store_reset(struct richmenu_store *s);

/* The channel token check belongs to the core: fn answers whether a request
 * is authorised.  Unset, every request is. */
void richmenu_set_auth(struct richmenu_store *s,
		       bool (*fn)(void *ctx, const struct httpd_request *req), void *ctx);
/* Rate limits belong to the core too: allow(ctx, bucket) with bucket
 * "richmenu_create_delete" or "richmenu_batch"; false answers 429. */
void richmenu_set_limiter(struct richmenu_store *s, bool (*allow)(void *ctx, const char *bucket),
			  void *ctx);

/* Serves /v2/bot/richmenu…, /v2/bot/user/…/richmenu…; false for other paths. */
bool richmenu_route(struct richmenu_store *s, const struct httpd_request *req,
		    struct httpd_reply *reply);

/* The menu a user sees: the linked one, else the default, else NULL. */
const char *richmenu_of_user(struct richmenu_store *s, const char *user_id);
/* The action of the area of the user's menu containing (x, y), as a new
 * reference the caller decrefs; false when no menu or no area is there. */
bool richmenu_area_at(struct richmenu_store *s, const char *user_id, int x, int y,
		      json_t **action_out);
/* A richmenuswitch action: link the alias's menu to the user; false when
 * the alias is unknown or the menu cannot be linked. */
bool richmenu_switch_alias(struct richmenu_store *s, const char *user_id, const char *alias_id);
/* The alias last switched to by this user when it still names the menu they
 * see, else NULL (for GET /sim/users/{id}/richmenu). */
const char *richmenu_alias_of_user(struct richmenu_store *s, const char *user_id);

/* The pure verbs richmenu_route() calls, for tests.  Each returns an HTTP
 * status and sets *reply_json to a malloc'd body ("{}" on plain success). */
int richmenu_create(struct richmenu_store *s, const char *json, size_t len, char **reply_json);
int richmenu_validate(struct richmenu_store *s, const char *json, size_t len, char **reply_json);
int richmenu_get(struct richmenu_store *s, const char *id, char **reply_json);
int richmenu_list(struct richmenu_store *s, char **reply_json);
int richmenu_delete(struct richmenu_store *s, const char *id, char **reply_json);
int richmenu_upload(struct richmenu_store *s, const char *id, const char *content_type,
		    const void *data, size_t len, char **reply_json);
/* On 200, data, len and content_type point into the store (valid until the
 * menu is deleted); otherwise *reply_json holds the error. */
int richmenu_download(struct richmenu_store *s, const char *id, const void **data, size_t *len,
		      const char **content_type, char **reply_json);
int richmenu_set_default(struct richmenu_store *s, const char *id, char **reply_json);
int richmenu_get_default(struct richmenu_store *s, char **reply_json);
int richmenu_clear_default(struct richmenu_store *s, char **reply_json);
int richmenu_link(struct richmenu_store *s, const char *user_id, const char *id, char **reply_json);
int richmenu_unlink(struct richmenu_store *s, const char *user_id, char **reply_json);
int richmenu_get_user(struct richmenu_store *s, const char *user_id, char **reply_json);
int richmenu_bulk_link(struct richmenu_store *s, const char *json, size_t len, char **reply_json);
int richmenu_bulk_unlink(struct richmenu_store *s, const char *json, size_t len, char **reply_json);
int richmenu_alias_create(struct richmenu_store *s, const char *json, size_t len,
			  char **reply_json);
int richmenu_alias_update(struct richmenu_store *s, const char *alias_id, const char *json,
			  size_t len, char **reply_json);
int richmenu_alias_delete(struct richmenu_store *s, const char *alias_id, char **reply_json);
int richmenu_alias_get(struct richmenu_store *s, const char *alias_id, char **reply_json);
int richmenu_alias_list(struct richmenu_store *s, char **reply_json);
/* POST /v2/bot/richmenu/batch (apply, 202) or /validate/batch (200). */
int richmenu_batch(struct richmenu_store *s, const char *json, size_t len, bool apply,
		   char **reply_json);
/* GET /v2/bot/richmenu/progress/batch: batches apply at once, so any
 * request id after a batch reads "succeeded"; 404 before any batch. */
int richmenu_batch_progress(struct richmenu_store *s, const char *request_id, char **reply_json);

/* Bounded readers of an image's pixel size from its header: PNG IHDR, JPEG
 * SOFn.  false for anything truncated or malformed. */
bool richmenu_png_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h)
	__attribute__((warn_unused_result));
bool richmenu_jpeg_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h)
	__attribute__((warn_unused_result));

#endif
