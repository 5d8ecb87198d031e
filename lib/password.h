/*
 * password — staff password hashing with PBKDF2-HMAC-SHA256 (OpenSSL).
 *
 * PBKDF2 and SHA-256 are on the CRYPTREC list; 600,000 iterations follow
 * OWASP's 2023 figure for PBKDF2-HMAC-SHA256.  The stored form is
 *
 *   pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>
 *
 * with a 16-byte random salt and a 32-byte hash, so the iteration count can
 * rise later without invalidating old hashes (password_needs_rehash()).
 */
#ifndef HL_PASSWORD_H
#define HL_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_ITERATIONS 600000
/* Bounds on a stored count: below is too weak to trust, above would let a
 * forged row turn every login into a CPU burn. */
#define PASSWORD_ITERATIONS_MIN 100000
#define PASSWORD_ITERATIONS_MAX 10000000
#define PASSWORD_HASH_SIZE	128 /* buffer for the stored form */
#define PASSWORD_MIN_LENGTH	12
#define PASSWORD_MAX_LENGTH	1024

/* Hash password into out.  0 or -1 (RNG or OpenSSL failure). */
int password_hash(const char *password, char out[PASSWORD_HASH_SIZE]);

/* Same with a chosen iteration count; tests use a small one. */
int password_hash_iter(const char *password, unsigned iterations, char out[PASSWORD_HASH_SIZE]);

/* True when password matches stored; false on mismatch or a malformed
 * stored value.  Compares in constant time. */
bool password_verify(const char *password, const char *stored) __attribute__((warn_unused_result));

/* True when stored uses fewer iterations than PASSWORD_ITERATIONS. */
bool password_needs_rehash(const char *stored);

/* Why password is not acceptable for a staff account, or NULL if it is.
 * The text is Japanese, for staff. */
const char *password_weakness(const char *password);

#endif
