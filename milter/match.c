/*
 * match — the milter's sender and recipient lists; see match.h.
 */
#include "match.h"

#include <stdlib.h>
#include <string.h>

#include "str.h"

struct match_list {
	size_t n;
	char **entries; /* "user@domain" or "@domain", as written */
};

/* A list can never be longer than a config line, so a hard cap on entries
 * only guards against a bug elsewhere feeding a huge string. */
#define MATCH_MAX_ENTRIES 256

static bool valid_entry(const char *e, char *err, size_t errlen)
{
	const char *at = strchr(e, '@');
	const char *p;

	for (p = e; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		/* Blanks, brackets and controls mean a typo ("a@b c@d" without
		 * a comma), not a mailbox: refuse rather than never match. */
		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"') {
			str_msg(err, errlen,
				"\"%s\" is not an address or @domain: it contains '%c'", e,
				c <= ' ' || c == 0x7f ? '?' : (char)c);
			return false;
		}
	}
	if (at == NULL || strchr(at + 1, '@') != NULL) {
		str_msg(err, errlen, "\"%s\" is not an address or @domain: it needs one '@'", e);
		return false;
	}
	if (at[1] == '\0') {
		str_msg(err, errlen, "\"%s\" is not an address or @domain: the domain is empty", e);
		return false;
	}
	if (strlen(e) >= MATCH_ADDR_MAX) {
		str_msg(err, errlen, "\"%.40s...\" is longer than %d bytes", e, MATCH_ADDR_MAX - 1);
		return false;
	}
	return true;
}

struct match_list *match_list_new(const char *spec, char *err, size_t errlen)
{
	struct match_list *l;
	char *copy = NULL, *p, *next;

	l = calloc(1, sizeof(*l));
	copy = strdup(spec != NULL ? spec : "");
	if (l == NULL || copy == NULL) {
		str_msg(err, errlen, "out of memory");
		goto fail;
	}
	if (*str_trim(copy) == '\0') {
		free(copy);
		return l;
	}
	for (p = copy; p != NULL; p = next) {
		char *e, **grown;

		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		e = str_trim(p);
		if (*e == '\0') {
			/* "a@b,,c@d" or a trailing comma: almost surely a deleted
			 * entry whose comma stayed; say so instead of guessing. */
			str_msg(err, errlen, "empty entry %zu (two commas, or one at an end)",
				l->n + 1);
			goto fail;
		}
		if (!valid_entry(e, err, errlen))
			goto fail;
		if (l->n >= MATCH_MAX_ENTRIES) {
			str_msg(err, errlen, "more than %d entries", MATCH_MAX_ENTRIES);
			goto fail;
		}
		grown = realloc(l->entries, (l->n + 1) * sizeof(*l->entries));
		if (grown == NULL) {
			str_msg(err, errlen, "out of memory");
			goto fail;
		}
		l->entries = grown;
		l->entries[l->n] = strdup(e);
		if (l->entries[l->n] == NULL) {
			str_msg(err, errlen, "out of memory");
			goto fail;
		}
		l->n++;
	}
	free(copy);
	return l;
fail:
	free(copy);
	match_list_free(l);
	return NULL;
}

void match_list_free(struct match_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->entries[i]);
	free(l->entries);
	free(l);
}

size_t match_list_count(const struct match_list *l)
{
	return l != NULL ? l->n : 0;
}

bool match_list_has(const struct match_list *l, const char *addr)
{
	size_t alen, i;

	if (l == NULL || addr == NULL)
		return false;
	alen = strlen(addr);
	for (i = 0; i < l->n; i++) {
		const char *e = l->entries[i];
		size_t elen = strlen(e);

		if (e[0] == '@') {
			/* "@d" matches "x@d": a non-empty local part, then the
			 * suffix; "@d" itself is no mailbox. */
			if (alen > elen && str_eq_nocase(addr + alen - elen, e))
				return true;
		} else if (str_eq_nocase(addr, e)) {
			return true;
		}
	}
	return false;
}

bool match_message(const struct match_list *senders, const struct match_list *rcpts_list,
		   const char *sender, const char *const *rcpts, size_t nrcpts)
{
	size_t i;

	if (match_list_count(senders) == 0 && match_list_count(rcpts_list) == 0)
		return false;
	if (match_list_count(senders) > 0 && !match_list_has(senders, sender))
		return false;
	if (match_list_count(rcpts_list) == 0)
		return true;
	for (i = 0; i < nrcpts; i++)
		if (match_list_has(rcpts_list, rcpts[i]))
			return true;
	return false;
}

bool match_envelope_addr(const char *arg, char *out, size_t size)
{
	const char *s = arg, *end;
	size_t len;

	if (size == 0)
		return false;
	out[0] = '\0';
	if (arg == NULL)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end > s && *s == '<') {
		if (end[-1] != '>' || end - s < 2)
			return false;
		s++;
		end--;
	} else if (end > s && end[-1] == '>') {
		return false;
	}
	len = (size_t)(end - s);
	if (len >= size)
		return false;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}
