/*
 * dbpool — connections lent to HTTP threads; see dbpool.h.
 */
#include "dbpool.h"

#include <pthread.h>
#include <stdlib.h>

struct dbpool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	size_t n, nfree;
	struct db **all;
	struct db **free; /* a stack of the nfree idle ones */
};

struct dbpool *dbpool_new(const struct db_params *p, size_t n)
{
	struct dbpool *pool = calloc(1, sizeof(*pool));
	size_t i;

	if (pool == NULL || n == 0)
		goto fail;
	pool->all = calloc(n, sizeof(*pool->all));
	pool->free = calloc(n, sizeof(*pool->free));
	if (pool->all == NULL || pool->free == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((pool->all[i] = db_new(p)) == NULL)
			goto fail;
		pool->free[i] = pool->all[i];
		pool->n = pool->nfree = i + 1;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->freed, NULL);
	return pool;
fail:
	if (pool != NULL) {
		for (i = 0; i < pool->n; i++)
			db_free(pool->all[i]);
		free(pool->all);
		free(pool->free);
		free(pool);
	}
	return NULL;
}

void dbpool_free(struct dbpool *pool)
{
	size_t i;

	if (pool == NULL)
		return;
	for (i = 0; i < pool->n; i++)
		db_free(pool->all[i]);
	pthread_cond_destroy(&pool->freed);
	pthread_mutex_destroy(&pool->lock);
	free(pool->all);
	free(pool->free);
	free(pool);
}

struct db *dbpool_get(struct dbpool *pool)
{
	struct db *db;

	pthread_mutex_lock(&pool->lock);
	while (pool->nfree == 0)
		pthread_cond_wait(&pool->freed, &pool->lock);
	db = pool->free[--pool->nfree];
	pthread_mutex_unlock(&pool->lock);
	return db;
}

void dbpool_put(struct dbpool *pool, struct db *db)
{
	pthread_mutex_lock(&pool->lock);
	pool->free[pool->nfree++] = db;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}
