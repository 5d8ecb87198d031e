/*
 * file — reading a whole file with an upper bound, so a wrong path (a log,
 * a device, a huge dump) fails fast instead of being read into memory.
 */
#ifndef HL_FILE_H
#define HL_FILE_H

#include <stddef.h>

/* The file's bytes, NUL-terminated (it may hold NULs itself: see *len),
 * malloc'd.  NULL with err "PATH: cannot open: …", "PATH: cannot read: …"
 * or "PATH: larger than MAX bytes". */
char *file_read(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
