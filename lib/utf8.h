/*
 * utf8 — decoding one UTF-8 sequence, strictly: overlong forms, surrogates
 * and values past U+10FFFF are invalid, as LINE and PostgreSQL would find
 * them.  Shared by the mail decoder, the rules and the text splitter.
 */
#ifndef HL_UTF8_H
#define HL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid sequence at s (n bytes left), with its code point in
 * *cp; 0 when invalid or cut short. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Characters (code points) in a NUL-terminated string already known to be
 * valid UTF-8 (JSON text from jansson, a decoded mail): the bytes that do
 * not continue a sequence. */
size_t utf8_chars(const char *s);

#endif
