/*
 * match — which mail hotline-milter copies: the [milter] match_senders and
 * match_recipients lists, parsed once at start and checked per message.
 *
 * A list is comma-separated entries, each a whole address
 * ("anshin-hot@city.example.jp") or a domain written "@city.example.jp",
 * which matches every address ending in "@city.example.jp" (that domain
 * exactly, not its subdomains).  Comparison is ASCII case-insensitive, so a
 * sender's capitals in the domain part do not lose an alert.
 *
 * A message is copied when its envelope sender matches match_senders (if
 * set) AND at least one envelope recipient matches match_recipients (if
 * set).  Both lists empty copies nothing: a milter in front of all of the
 * city's mail must never queue every newsletter for LINE by default.
 *
 * Pure: no I/O, no globals.  match_list_new() returns NULL with the reason
 * in err; the list owns its copies of the entries and match_list_free()
 * releases them (NULL is a no-op).
 */
#ifndef HL_MATCH_H
#define HL_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* An address longer than SMTP's path limit (RFC 5321 4.5.3.1.3) is never an
 * entry: a config line that long is a mistake, not a mailbox. */
#define MATCH_ADDR_MAX 256

struct match_list;

/* Parse spec ("" gives an empty list).  NULL with err set on a bad entry
 * or when out of memory. */
struct match_list *match_list_new(const char *spec, char *err, size_t errlen);

void match_list_free(struct match_list *l);

/* Number of entries; 0 for an empty list. */
size_t match_list_count(const struct match_list *l);

/* Whether addr (without angle brackets) matches any entry. */
bool match_list_has(const struct match_list *l, const char *addr);

/* The decision for one message, as described above.  rcpts are bare
 * addresses. */
bool match_message(const struct match_list *senders, const struct match_list *rcpts_list,
		   const char *sender, const char *const *rcpts, size_t nrcpts);

/* The bare address of an SMTP path argument as libmilter passes it
 * ("<a@b>", "a@b", "<>", with or without surrounding blanks) into out.
 * "<>" gives "".  False when it does not fit in size or the brackets do not
 * pair up: the caller treats that message as not matching. */
bool match_envelope_addr(const char *arg, char *out, size_t size)
	__attribute__((warn_unused_result));

#endif
