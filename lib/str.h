/*
 * str — bounded string helpers.
 *
 * glibc 2.36 has no strlcpy, and snprintf's truncation is silent.  These
 * helpers make truncation an error the caller must look at: every function
 * that can truncate returns bool and is warn_unused_result.  On truncation
 * dst still holds the NUL-terminated prefix, which is fine for a message and
 * must be discarded for anything else (a path, an id, a query).  Nothing here
 * allocates except str_dup_printf(), whose result the caller frees.
 */
#ifndef HL_STR_H
#define HL_STR_H

#include <stdbool.h>
#include <stddef.h>

#define HL_WUR __attribute__((warn_unused_result))

/* Copy src into dst (size bytes); false when src did not fit. */
bool str_copy(char *dst, const char *src, size_t size) HL_WUR;

/* snprintf() that reports truncation or an encoding error as false. */
bool str_printf(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4))) HL_WUR;

/* For messages only, where a cut text is still useful: like str_printf()
 * but the truncated prefix is accepted. */
void str_msg(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append with snprintf semantics at *len; false on truncation. */
bool str_appendf(char *dst, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5))) HL_WUR;

/* malloc'd formatted string, or NULL when out of memory. */
char *str_dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Remove leading and trailing ASCII white space in place; returns s. */
char *str_trim(char *s);

/* Parse a whole decimal integer in [min, max]; false on junk or range. */
bool str_to_ll(const char *s, long long min, long long max, long long *out) HL_WUR;

/* Case-insensitive ASCII equality (locale-independent). */
bool str_eq_nocase(const char *a, const char *b);

/* Lower-case hex of n bytes into out (2n + 1 bytes); false if too small. */
bool str_hex(const unsigned char *in, size_t n, char *out, size_t out_size) HL_WUR;
/* The n bytes that the 2n hex digits at hex (either case) spell, into out;
 * false when a character is not a hex digit (out is then partly written). */
bool str_unhex(const char *hex, unsigned char *out, size_t n) HL_WUR;

/* Overwrite a secret before free(); not optimised away. */
void str_wipe(void *p, size_t n);

#endif
