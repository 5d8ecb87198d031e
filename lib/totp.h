/*
 * totp — RFC 6238 time-based one-time passwords for the staff second
 * factor, as authenticator apps implement them: HMAC-SHA1, 30-second
 * steps, 6 digits (OpenSSL's HMAC).  Also the base32 secret (RFC 4648,
 * no padding) and the otpauth:// URI an app scans at enrolment, and the
 * sealing of a secret with AES-256-GCM before it is stored (the database
 * never sees it in clear).
 *
 * No I/O and no state: the caller keeps the last accepted step (staff.
 * totp_last_step) and passes it in, so that a code is never accepted twice.
 * Functions return 0/-1 or bool; nothing is allocated.
 */
#ifndef HL_TOTP_H
#define HL_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_SIZE  20 /* 160 bits, RFC 4226's recommended length */
#define TOTP_STEP_SECONDS 30
#define TOTP_DIGITS	  6
/* Base32 of a TOTP_SECRET_SIZE secret (32 characters) and its NUL. */
#define TOTP_BASE32_SIZE 33
/* Steps either side of now that are accepted (clock drift, typing time). */
#define TOTP_WINDOW 1

/* Sealed secret: 12-byte nonce, ciphertext, 16-byte GCM tag. */
#define TOTP_SEALED_SIZE (12 + TOTP_SECRET_SIZE + 16)
#define TOTP_KEY_SIZE	 32

enum totp_hash { TOTP_SHA1, TOTP_SHA256, TOTP_SHA512 };

/* The code for time step `step` (unix time / 30) with `digits` digits
 * (6-8), as a number.  -1 on a bad argument or an OpenSSL failure. */
long totp_code_at(const unsigned char *key, size_t keylen, enum totp_hash hash, uint64_t step,
		  unsigned digits);

/* The time step of unix time t. */
uint64_t totp_step(long long t);

/* Check a 6-digit SHA-1 code typed by staff against the steps around now
 * (± TOTP_WINDOW).  last_step is the step of the last accepted code, or -1
 * for none; a code for that step or an earlier one is refused (replay).
 * On success *matched is the step that matched, to be stored as the new
 * last step.  The code must be exactly TOTP_DIGITS ASCII digits (spaces
 * are not stripped here). */
bool totp_verify(const unsigned char secret[TOTP_SECRET_SIZE], const char *code, long long now,
		 long long last_step, long long *matched) __attribute__((warn_unused_result));

/* A fresh random secret.  0 or -1 (RNG failure). */
int totp_secret_new(unsigned char secret[TOTP_SECRET_SIZE]);

/* Base32 (RFC 4648 alphabet, no padding) of n bytes into out; false when
 * out is too small. */
bool totp_base32(const unsigned char *in, size_t n, char *out, size_t size)
	__attribute__((warn_unused_result));

/* The otpauth://totp/ URI for enrolment: issuer and account are
 * %-encoded.  false when it does not fit in out. */
bool totp_uri(const unsigned char secret[TOTP_SECRET_SIZE], const char *issuer, const char *account,
	      char *out, size_t size) __attribute__((warn_unused_result));

/* Seal / open a secret with AES-256-GCM under key.  0 or -1 (a wrong key
 * or altered data makes totp_open fail). */
int totp_seal(const unsigned char key[TOTP_KEY_SIZE], const unsigned char secret[TOTP_SECRET_SIZE],
	      unsigned char out[TOTP_SEALED_SIZE]);
int totp_open(const unsigned char key[TOTP_KEY_SIZE], const unsigned char *sealed, size_t len,
	      unsigned char secret[TOTP_SECRET_SIZE]);

#endif
