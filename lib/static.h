/*
 * static — a directory of page files (HTML, CSS, JavaScript, images) served
 * from memory under a URL prefix.
 *
 * static_new() reads the whole directory once, at start-up: every regular
 * file whose name is made of [A-Za-z0-9._-] (no leading dot) and whose
 * extension has a known content type, down to STATIC_DEPTH_MAX levels of
 * subdirectories, within the size limits below.  A request is answered
 * only when its path is exactly the prefix plus the relative path of one of
 * those files (or of a directory holding an index.html), so nothing is
 * ever resolved against the file system at request time: no "..", no
 * symlink, no encoded slash can reach a file that was not listed.
 *
 * The handle owns the copies; replies point into them (static replies), so
 * it must outlive the HTTP server.  Errors at start-up come back as NULL
 * with err; a request for an unknown path is left to the caller.
 */
#ifndef HL_STATIC_H
#define HL_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "httpd.h"

/* Subdirectory levels read below the top directory. */
#define STATIC_DEPTH_MAX 3

struct static_dir;

/* Read dir for serving under prefix ("/" or "/liff/": it must begin and
 * end with '/').  NULL with err (English, for the log) when the directory
 * cannot be read or breaks a limit. */
struct static_dir *static_new(const char *dir, const char *prefix, char *err, size_t errlen);
void static_free(struct static_dir *s);

/* Files loaded. */
size_t static_count(const struct static_dir *s);
/* True when path (a URL path) is one of the files. */
bool static_has(const struct static_dir *s, const char *path);

/* Answer the request when its path is one of the files: 200 with the
 * file's content type for GET and HEAD, 405 (with Allow) for any other
 * method.  False, with the reply untouched, when the path is not ours. */
bool static_reply(const struct static_dir *s, const struct httpd_request *req,
		  struct httpd_reply *reply) __attribute__((warn_unused_result));

/* The content type for a file name by its extension, or NULL. */
const char *static_content_type(const char *name);

#endif
