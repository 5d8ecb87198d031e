/*
 * jsonlimit — checks on untrusted JSON text; see jsonlimit.h.
 */
#include "jsonlimit.h"

bool json_nesting_ok(const char *s, size_t n, int limit)
{
	bool in_string = false, escaped = false;
	int depth = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > limit)
				return false;
		} else if ((c == ']' || c == '}') && depth > 0) {
			/* Stray closers cannot buy room for deeper nesting. */
			depth--;
		}
	}
	return true;
}
