/*
 * conf — a declarative INI reader on top of inih.
 *
 * A caller describes every key in a table (section, name, type, default,
 * bounds) and where its value lives in a struct; conf_load() fills the
 * struct with the defaults and then with the file's values.  Anything the
 * table does not describe, a value that does not parse, a value out of
 * bounds, a key given twice or a line too long stops the load with
 * "FILE:LINE: what is wrong" in err.  Nothing here knows hotline's keys:
 * those live in config.c.
 *
 * Ownership: CONF_STR values are malloc'd into the struct; conf_clear()
 * frees them.  On failure the struct may hold a mix of defaults and file
 * values, and conf_clear() must still be called.
 */
#ifndef HL_CONF_H
#define HL_CONF_H

#include <stdbool.h>
#include <stddef.h>

enum conf_type {
	CONF_STR,  /* char *: any text up to max bytes (0: 4095) */
	CONF_INT,  /* long long in [min, max] */
	CONF_BOOL, /* bool: yes/no, true/false, on/off, 1/0 */
	CONF_ENUM, /* int: index into choices */
	CONF_ADDR, /* char *: "IP:PORT", "[IPv6]:PORT" or "unix:/path" */
	CONF_URL,  /* char *: an http:// or https:// URL without a trailing '/' */
};

struct conf_key {
	const char *section;
	const char *name;
	enum conf_type type;
	const char *def;	    /* default, written as in the file */
	long long min, max;	    /* CONF_INT bounds; CONF_STR max length */
	const char *const *choices; /* CONF_ENUM: NULL-terminated */
	size_t offset;		    /* offsetof() the value in the target */
};

/* Longest line accepted (inih's buffer is 200 bytes with room for CR, LF
 * and NUL); inih would silently split a longer one into two. */
#define CONF_LINE_MAX 196

/* Fill base from keys' defaults, then from path.  0 or -1 with err set. */
int conf_load(const struct conf_key *keys, size_t nkeys, void *base, const char *path, char *err,
	      size_t errlen);

/* Same, from text in memory; name is used in messages. */
int conf_load_string(const struct conf_key *keys, size_t nkeys, void *base, const char *text,
		     const char *name, char *err, size_t errlen);

/* Free the CONF_STR/ADDR/URL values of base and set them to NULL. */
void conf_clear(const struct conf_key *keys, size_t nkeys, void *base);

/* Check one value against a key's type; used for defaults and by tests. */
bool conf_check_value(const struct conf_key *key, const char *value, char *why, size_t whylen);

#endif
