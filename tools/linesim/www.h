/*
 * www — the phone view's static files (index.html, phone.css, phone.js
 * from tools/linesim/www/), read once at start and served from memory at
 * GET /, /phone.css and /phone.js.
 *
 * Only those three names are served, so no request path ever reaches the
 * file system.  The struct owns the copies; errors at load name the file.
 */
#ifndef LINESIM_WWW_H
#define LINESIM_WWW_H

#include <stdbool.h>
#include <stddef.h>

#include "httpd.h"

struct www;

/* NULL with err when a file is missing, unreadable or over 1 MB. */
struct www *www_load(const char *dir, char *err, size_t errlen);
void www_free(struct www *w);

/* GET of one of the files; false (reply untouched) for any other request. */
bool www_route(const struct www *w, const struct httpd_request *req, struct httpd_reply *reply);

#endif
