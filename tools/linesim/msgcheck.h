/*
 * msgcheck — LINE message objects checked as the Messaging API checks
 * them: the type must be one LINE knows, required fields present, and the
 * documented limits held (text 5,000 characters counted in UTF-16 code
 * units as LINE counts them, altText 1,500 for flex and imagemap and 400
 * for templates, URLs https and ≤ 2,000 characters, at most 13 quick reply
 * buttons, ...).  Flex contents nested deeper than 64 levels are refused
 * before they are measured, so a direct caller cannot exhaust the stack.
 *
 * Pure: takes jansson values, appends {"message","property"} objects to a
 * details array in LINE's error shape, and does no I/O, so unit tests call
 * it with tables of cases.
 */
#ifndef LINESIM_MSGCHECK_H
#define LINESIM_MSGCHECK_H

#include <jansson.h>
#include <stddef.h>

/* The messages property of a send request: an array of 1..max message
 * objects.  prop names it in errors ("messages").  Returns the number of
 * errors appended to details. */
size_t msgcheck_messages(const json_t *messages, size_t max, const char *prop, json_t *details);

/* The length LINE gives a string: UTF-16 code units (a character outside
 * the Basic Multilingual Plane, such as most emoji, counts 2). */
size_t msgcheck_utf16_len(const char *utf8);

/* Append {"message": msg, "property": prop} to details. */
void msgcheck_detail(json_t *details, const char *msg, const char *prop);

#endif
