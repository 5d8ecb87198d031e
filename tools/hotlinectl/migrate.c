/*
 * migrate — reading, ordering and applying migration files; see migrate.h.
 */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "store_schema.h"
#include "str.h"

/* A migration larger than this is a mistake (a data dump, a wrong file). */
#define MIGRATION_MAX_BYTES (16 * 1024 * 1024)
#define MIGRATIONS_MAX	    9999

struct migration {
	int version;
	char name[256];
};

static int by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* "0001_core.sql" → 1; -1 when the name is not NNNN_[a-z0-9_]+.sql. */
static int parse_name(const char *name)
{
	size_t n = strlen(name), i;
	int v = 0;

	if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
		return -1;
	for (i = 0; i < 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	for (i = 5; i < n - 4; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return -1;
	return v > 0 ? v : -1;
}

/* List dir's migrations sorted by version; NULL on error (printed). */
static struct migration *list_migrations(const char *dir, size_t *count)
{
	struct migration *list = NULL;
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "hotlinectl: cannot open migrations directory %s: %s\n", dir,
			strerror(errno));
		return NULL;
	}
	list = calloc(MIGRATIONS_MAX, sizeof(*list));
	if (list == NULL)
		goto fail;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		int v;

		if (de->d_name[0] == '.' || len < 4 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		v = parse_name(de->d_name);
		if (v < 0) {
			fprintf(stderr,
				"hotlinectl: %s/%s: a migration must be named NNNN_name.sql "
				"(4 digits, then lower-case letters, digits and '_')\n",
				dir, de->d_name);
			goto fail;
		}
		if (n == MIGRATIONS_MAX ||
		    !str_copy(list[n].name, de->d_name, sizeof(list[n].name)))
			goto fail;
		list[n++].version = v;
	}
	qsort(list, n, sizeof(*list), by_version);
	for (i = 1; i < n; i++) {
		if (list[i].version == list[i - 1].version) {
			fprintf(stderr, "hotlinectl: %s and %s share version %04d\n",
				list[i - 1].name, list[i].name, list[i].version);
			goto fail;
		}
	}
	closedir(d);
	*count = n;
	return list;
fail:
	free(list);
	closedir(d);
	return NULL;
}

/* Read a migration whole; NULL on error (printed). */
static char *read_file(const char *path, size_t *len)
{
	char err[512], *buf = file_read(path, MIGRATION_MAX_BYTES, len, err, sizeof(err));

	if (buf == NULL) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return NULL;
	}
	if (memchr(buf, '\0', *len) != NULL) {
		fprintf(stderr, "hotlinectl: %s: contains a NUL byte\n", path);
		free(buf);
		return NULL;
	}
	return buf;
}

static bool sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	return EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	       str_hex(md, mdlen, out, 65);
}

/* The server's error position counts characters; turn it into a line. */
static long line_of(const char *sql, long char_offset)
{
	long line = 1, chars = 0;
	const unsigned char *p = (const unsigned char *)sql;

	for (; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80)
			continue; /* UTF-8 continuation byte */
		if (++chars >= char_offset)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

int migrate_run(struct db *db, const char *dir, bool status_only)
{
	struct migration *list;
	size_t n = 0, i, applied = 0;
	int rc = -1;

	list = list_migrations(dir, &n);
	if (list == NULL)
		return -1;
	if (store_schema_init(db) != HL_OK) {
		fprintf(stderr, "hotlinectl: cannot prepare schema_migrations: %s\n", db_error(db));
		goto done;
	}
	for (i = 0; i < n; i++) {
		char path[4096], sum[65], recorded[128];
		char *sql;
		size_t len;
		long offset;
		bool already;

		if (!str_printf(path, sizeof(path), "%s/%s", dir, list[i].name)) {
			fprintf(stderr, "hotlinectl: path too long: %s/%s\n", dir, list[i].name);
			goto done;
		}
		sql = read_file(path, &len);
		if (sql == NULL)
			goto done;
		if (!sha256_hex(sql, len, sum)) {
			fprintf(stderr, "hotlinectl: cannot hash %s\n", path);
			free(sql);
			goto done;
		}
		if (store_schema_applied(db, list[i].version, recorded, sizeof(recorded)) !=
		    HL_OK) {
			fprintf(stderr, "hotlinectl: %s: %s\n", path, db_error(db));
			free(sql);
			goto done;
		}
		if (recorded[0] != '\0') {
			free(sql);
			if (strcmp(recorded, sum) != 0) {
				fprintf(stderr,
					"hotlinectl: %s was changed after it was applied "
					"(checksum %.12s…, recorded %.12s…); put the change in a "
					"new migration\n",
					path, sum, recorded);
				goto done;
			}
			if (status_only)
				printf("applied  %s\n", list[i].name);
			continue;
		}
		if (status_only) {
			printf("pending  %s\n", list[i].name);
			free(sql);
			continue;
		}
		if (store_schema_apply(db, list[i].version, list[i].name, sum, sql, &offset,
				       &already) != HL_OK) {
			if (offset > 0)
				fprintf(stderr, "hotlinectl: %s:%ld: %s\n", path,
					line_of(sql, offset), db_error(db));
			else
				fprintf(stderr, "hotlinectl: %s: %s\n", path, db_error(db));
			fprintf(stderr,
				"hotlinectl: %s was rolled back; nothing of it was applied\n",
				list[i].name);
			free(sql);
			goto done;
		}
		free(sql);
		if (!already) {
			printf("applied  %s\n", list[i].name);
			applied++;
		}
	}
	if (!status_only)
		printf("migrate: %zu applied, %zu already up to date\n", applied, n - applied);
	rc = 0;
done:
	free(list);
	return rc;
}
