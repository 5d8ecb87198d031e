/*
 * jsonlimit — checks on untrusted JSON text before it is parsed.
 *
 * jansson parses recursively up to a depth of 2048; a body of nested
 * brackets within our size limits would still cost a deep recursion and,
 * further in, handlers that walk the tree.  Every reader of untrusted JSON
 * (webhook bodies, resident pages, the simulator's API) first checks the
 * nesting with this one function, on the raw bytes.
 */
#ifndef HL_JSONLIMIT_H
#define HL_JSONLIMIT_H

#include <stdbool.h>
#include <stddef.h>

/* True when no object or array in the n bytes of s nests deeper than
 * limit (brackets inside strings do not count).  Pure; does not validate
 * the JSON otherwise. */
bool json_nesting_ok(const char *s, size_t n, int limit) __attribute__((warn_unused_result));

#endif
