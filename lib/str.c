/*
 * str — bounded string helpers; see str.h for the contract.
 */
#include "str.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool str_copy(char *dst, const char *src, size_t size)
{
	size_t n;

	if (size == 0)
		return false;
	n = strlen(src);
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

static bool vprintf_checked(char *dst, size_t size, const char *fmt, va_list ap)
{
	int n;

	if (size == 0 || size > INT_MAX)
		return false;
	n = vsnprintf(dst, size, fmt, ap);
	if (n < 0) {
		dst[0] = '\0';
		return false;
	}
	return (size_t)n < size;
}

bool str_printf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = vprintf_checked(dst, size, fmt, ap);
	va_end(ap);
	return ok;
}

void str_msg(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vprintf_checked(dst, size, fmt, ap);
	va_end(ap);
}

bool str_appendf(char *dst, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	if (*len >= size)
		return false;
	va_start(ap, fmt);
	ok = vprintf_checked(dst + *len, size - *len, fmt, ap);
	va_end(ap);
	*len += strlen(dst + *len);
	return ok;
}

char *str_dup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

char *str_trim(char *s)
{
	size_t n;
	char *start = s;

	while (is_space(*start))
		start++;
	n = strlen(start);
	while (n > 0 && is_space(start[n - 1]))
		n--;
	memmove(s, start, n);
	s[n] = '\0';
	return s;
}

bool str_to_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || is_space(*s))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool str_eq_nocase(const char *a, const char *b)
{
	while (*a != '\0' && lower(*a) == lower(*b)) {
		a++;
		b++;
	}
	return lower(*a) == lower(*b);
}

bool str_hex(const unsigned char *in, size_t n, char *out, size_t out_size)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (n > (SIZE_MAX - 1) / 2 || out_size < 2 * n + 1)
		return false;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool str_unhex(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(hex[2 * i]), lo;

		/* hi first: a NUL ends the text before lo is read past it. */
		if (hi < 0 || (lo = hex_digit(hex[2 * i + 1])) < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

void str_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}
