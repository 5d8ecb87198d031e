/*
 * conf — declarative INI loading with inih; see conf.h.
 */
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "str.h"

#define STR_MAX_DEFAULT 4095

struct load_state {
	const struct conf_key *keys;
	size_t nkeys;
	void *base;
	int *seen_line; /* per key: line it was set on, 0 if not yet */
	int line;	/* line being parsed (counted by our reader) */
	char why[512];	/* first error, without FILE:LINE */
	bool failed;
};

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (str_eq_nocase(v, yes[i])) {
			*out = true;
			return true;
		}
		if (str_eq_nocase(v, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool parse_port(const char *s)
{
	long long port;

	return str_to_ll(s, 1, 65535, &port);
}

/* IP literal and port; host names are refused so a listener never depends
 * on DNS at start-up. */
static bool check_addr(const char *v, char *why, size_t whylen)
{
	char host[64];
	const char *colon;
	unsigned char buf[sizeof(struct in6_addr)];
	size_t hlen;

	if (strncmp(v, "unix:", 5) == 0) {
		if (v[5] != '/' || strlen(v + 5) > 107) {
			str_msg(why, whylen,
				"a unix socket must be an absolute path of at most 107 bytes");
			return false;
		}
		return true;
	}
	if (v[0] == '[') {
		const char *end = strchr(v, ']');

		if (end == NULL || end[1] != ':' || (size_t)(end - v - 1) >= sizeof(host))
			goto bad;
		hlen = (size_t)(end - v - 1);
		memcpy(host, v + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, buf) != 1 || !parse_port(end + 2))
			goto bad;
		return true;
	}
	colon = strrchr(v, ':');
	if (colon == NULL || (size_t)(colon - v) >= sizeof(host))
		goto bad;
	hlen = (size_t)(colon - v);
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, buf) != 1 || !parse_port(colon + 1))
		goto bad;
	return true;
bad:
	str_msg(why, whylen, "expected IP:PORT (e.g. 127.0.0.1:8080), [IPv6]:PORT or unix:/path");
	return false;
}

static bool check_url(const char *v, char *why, size_t whylen)
{
	const char *host;
	size_t n = strlen(v);

	if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else {
		str_msg(why, whylen, "expected an http:// or https:// URL");
		return false;
	}
	if (*host == '\0' || *host == '/' || v[n - 1] == '/' || strpbrk(v, " \t\"'<>\\") != NULL) {
		str_msg(why, whylen,
			"expected a URL with a host and no trailing '/' (e.g. "
			"https://api.line.me)");
		return false;
	}
	return true;
}

bool conf_check_value(const struct conf_key *key, const char *value, char *why, size_t whylen)
{
	long long n;
	bool b;
	size_t i, max;

	switch (key->type) {
	case CONF_STR:
		max = key->max > 0 ? (size_t)key->max : STR_MAX_DEFAULT;
		if (strlen(value) > max) {
			str_msg(why, whylen, "value is longer than %zu bytes", max);
			return false;
		}
		return true;
	case CONF_INT:
		if (!str_to_ll(value, key->min, key->max, &n)) {
			str_msg(why, whylen,
				"expected a whole number from %lld to %lld, got '%.64s'", key->min,
				key->max, value);
			return false;
		}
		return true;
	case CONF_BOOL:
		if (!parse_bool(value, &b)) {
			str_msg(why, whylen, "expected yes or no, got '%.64s'", value);
			return false;
		}
		return true;
	case CONF_ENUM:
		for (i = 0; key->choices[i] != NULL; i++)
			if (strcmp(value, key->choices[i]) == 0)
				return true;
		{
			char list[256];
			size_t len = 0;

			list[0] = '\0';
			for (i = 0; key->choices[i] != NULL; i++)
				if (!str_appendf(list, sizeof(list), &len, "%s%s", i ? ", " : "",
						 key->choices[i]))
					break;
			str_msg(why, whylen, "expected one of %s, got '%.64s'", list, value);
		}
		return false;
	case CONF_ADDR:
		return check_addr(value, why, whylen);
	case CONF_URL:
		return check_url(value, why, whylen);
	}
	str_msg(why, whylen, "unknown key type");
	return false;
}

/* Store a value conf_check_value() accepted; -1 only when out of memory. */
static int store_value(const struct conf_key *key, void *base, const char *value)
{
	char *slot = (char *)base + key->offset;
	long long n = 0;
	bool b = false;
	size_t i;

	switch (key->type) {
	case CONF_STR:
	case CONF_ADDR:
	case CONF_URL: {
		char **dst = (char **)(void *)slot;
		char *copy = strdup(value);

		if (copy == NULL)
			return -1;
		free(*dst);
		*dst = copy;
		return 0;
	}
	case CONF_INT:
		if (!str_to_ll(value, key->min, key->max, &n))
			return -1; /* unreachable: conf_check_value() ran first */
		*(long long *)(void *)slot = n;
		return 0;
	case CONF_BOOL:
		(void)parse_bool(value, &b);
		*(bool *)(void *)slot = b;
		return 0;
	case CONF_ENUM:
		for (i = 0; key->choices[i] != NULL; i++)
			if (strcmp(value, key->choices[i]) == 0)
				*(int *)(void *)slot = (int)i;
		return 0;
	}
	return -1;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *ls = user;
	size_t i;

	if (ls->failed)
		return 1; /* report only the first error */
	for (i = 0; i < ls->nkeys; i++) {
		const struct conf_key *k = &ls->keys[i];

		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		if (ls->seen_line[i] != 0) {
			str_msg(ls->why, sizeof(ls->why), "[%s] %s is set twice (first on line %d)",
				section, name, ls->seen_line[i]);
			goto fail;
		}
		ls->seen_line[i] = ls->line;
		if (!conf_check_value(k, value, ls->why, sizeof(ls->why))) {
			char why[sizeof(ls->why)];

			memcpy(why, ls->why, sizeof(why));
			str_msg(ls->why, sizeof(ls->why), "[%s] %s: %s", section, name, why);
			goto fail;
		}
		if (store_value(k, ls->base, value) < 0) {
			str_msg(ls->why, sizeof(ls->why), "out of memory");
			goto fail;
		}
		return 1;
	}
	if (*section == '\0')
		str_msg(ls->why, sizeof(ls->why), "'%.64s' is outside any [section]", name);
	else
		str_msg(ls->why, sizeof(ls->why), "unknown key '%.64s' in [%.64s]", name, section);
fail:
	ls->failed = true;
	return 0;
}

/* inih reads through us so we can count lines and refuse long ones. */
struct line_reader {
	const char *text;
	struct load_state *ls;
	bool too_long;
};

static char *read_line(char *str, int num, void *stream)
{
	struct line_reader *r = stream;
	const char *nl;
	size_t len;

	if (*r->text == '\0' || r->too_long)
		return NULL;
	nl = strchr(r->text, '\n');
	len = nl != NULL ? (size_t)(nl - r->text) + 1 : strlen(r->text);
	r->ls->line++;
	if (len > CONF_LINE_MAX + 1 || (int)len >= num) {
		r->too_long = true;
		return NULL;
	}
	memcpy(str, r->text, len);
	str[len] = '\0';
	r->text += len;
	return str;
}

int conf_load_string(const struct conf_key *keys, size_t nkeys, void *base, const char *text,
		     const char *name, char *err, size_t errlen)
{
	struct load_state ls;
	struct line_reader reader;
	size_t i;
	int rc;

	/* A continuation line would reach on_pair() as the same key again; a
	 * config key never spans lines, so turn the feature off. */
	ini_allow_multiline = false;

	memset(&ls, 0, sizeof(ls));
	ls.keys = keys;
	ls.nkeys = nkeys;
	ls.base = base;
	for (i = 0; i < nkeys; i++) {
		if (!conf_check_value(&keys[i], keys[i].def, ls.why, sizeof(ls.why)) ||
		    store_value(&keys[i], base, keys[i].def) < 0) {
			str_msg(err, errlen, "built-in default of [%s] %s is invalid: %s",
				keys[i].section, keys[i].name, ls.why);
			return -1;
		}
	}
	ls.seen_line = calloc(nkeys + 1, sizeof(*ls.seen_line));
	if (ls.seen_line == NULL) {
		str_msg(err, errlen, "%s: out of memory", name);
		return -1;
	}
	reader.text = text;
	reader.ls = &ls;
	reader.too_long = false;
	rc = ini_parse_stream(read_line, &reader, on_pair, &ls);
	free(ls.seen_line);
	if (reader.too_long) {
		str_msg(err, errlen, "%s:%d: line is longer than %d bytes", name, ls.line,
			CONF_LINE_MAX);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (rc < 0) {
		str_msg(err, errlen, "%s: out of memory while parsing", name);
		return -1;
	}
	if (!ls.failed)
		str_msg(ls.why, sizeof(ls.why),
			"syntax error: expected '[section]' or 'key = value'");
	str_msg(err, errlen, "%s:%d: %s", name, rc, ls.why);
	return -1;
}

/* Largest config file accepted: far above any real one, small enough that
 * a wrong path (a log, a device) fails fast instead of being slurped. */
#define CONF_FILE_MAX (1024 * 1024)

int conf_load(const struct conf_key *keys, size_t nkeys, void *base, const char *path, char *err,
	      size_t errlen)
{
	size_t len;
	char *text = file_read(path, CONF_FILE_MAX, &len, err, errlen);
	int rc = -1;

	if (text == NULL)
		return -1;
	if (memchr(text, '\0', len) != NULL)
		str_msg(err, errlen, "%s: contains a NUL byte; is this a config file?", path);
	else
		rc = conf_load_string(keys, nkeys, base, text, path, err, errlen);
	free(text);
	return rc;
}

void conf_clear(const struct conf_key *keys, size_t nkeys, void *base)
{
	size_t i;

	for (i = 0; i < nkeys; i++) {
		if (keys[i].type == CONF_STR || keys[i].type == CONF_ADDR ||
		    keys[i].type == CONF_URL) {
			char **slot = (char **)(void *)((char *)base + keys[i].offset);

			free(*slot);
			*slot = NULL;
		}
	}
}
