/*
 * file — bounded whole-file reads; see file.h.
 */
#include "file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

char *file_read(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (fp == NULL) {
		str_msg(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 1);
	if (buf == NULL) {
		str_msg(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	n = fread(buf, 1, max + 1, fp);
	if (ferror(fp)) {
		str_msg(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	if (n > max) {
		str_msg(err, errlen, "%s: larger than %zu bytes", path, max);
		goto fail;
	}
	buf[n] = '\0';
	*len = n;
	fclose(fp);
	return buf;
fail:
	free(buf);
	fclose(fp);
	return NULL;
}
