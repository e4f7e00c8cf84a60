/*
 * vec.c — the library's one growable array, one id vector and one
 * sorted-array search.  Owns no stored data; may call error.c (for
 * "out of memory") and libc.
 */
#include "vec.h"
#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int pf_vec_reserve(pf_vec *v, size_t want)
{
	if (want <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap : 8;
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			return pf_seterr(PF_ENOMEM, "out of memory");
		cap *= 2;
	}
	if (v->size && cap > SIZE_MAX / v->size)
		return pf_seterr(PF_ENOMEM, "out of memory");
	void *items = realloc(v->items, cap * v->size);
	if (!items)
		return pf_seterr(PF_ENOMEM, "out of memory");
	v->items = items;
	v->cap = cap;
	return 0;
}

int pf_vec_push(pf_vec *v, const void *item)
{
	int rc = pf_vec_reserve(v, v->n + 1);
	if (rc)
		return rc;
	memcpy(pf_vec_at(v, v->n), item, v->size);
	v->n++;
	return 0;
}

int pf_vec_push_zero(pf_vec *v, void **out)
{
	int rc = pf_vec_reserve(v, v->n + 1);
	if (rc)
		return rc;
	*out = pf_vec_at(v, v->n);
	memset(*out, 0, v->size);
	v->n++;
	return 0;
}

int pf_vec_insert(pf_vec *v, size_t i, const void *item)
{
	int rc = pf_vec_reserve(v, v->n + 1);
	if (rc)
		return rc;
	memmove(pf_vec_at(v, i + 1), pf_vec_at(v, i), (v->n - i) * v->size);
	memcpy(pf_vec_at(v, i), item, v->size);
	v->n++;
	return 0;
}

void pf_vec_remove(pf_vec *v, size_t i)
{
	memmove(pf_vec_at(v, i), pf_vec_at(v, i + 1), (v->n - i - 1) * v->size);
	v->n--;
}

void *pf_vec_take(pf_vec *v, size_t *n)
{
	void *items = v->n ? v->items : NULL;
	if (!v->n)
		free(v->items);
	if (n)
		*n = v->n;
	v->items = NULL;
	v->n = v->cap = 0;
	return items;
}

void pf_vec_free(pf_vec *v)
{
	free(v->items);
	v->items = NULL;
	v->n = v->cap = 0;
}

int pf_idvec_push(pf_idvec *v, const pf_id *id)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		pf_id *ids = realloc(v->ids, cap * sizeof *ids);
		if (!ids)
			return pf_seterr(PF_ENOMEM, "out of memory");
		v->ids = ids;
		v->cap = cap;
	}
	v->ids[v->n++] = *id;
	return 0;
}

bool pf_idvec_has(const pf_idvec *v, const pf_id *id)
{
	for (size_t i = 0; i < v->n; i++)
		if (memcmp(v->ids[i].b, id->b, sizeof id->b) == 0)
			return true;
	return false;
}

int pf_idvec_add_unique(pf_idvec *v, const pf_id *id)
{
	return pf_idvec_has(v, id) ? 0 : pf_idvec_push(v, id);
}

pf_id *pf_idvec_take(pf_idvec *v, size_t *n)
{
	pf_id *ids = v->n ? v->ids : NULL;
	if (!v->n)
		free(v->ids);
	if (n)
		*n = v->n;
	v->ids = NULL;
	v->n = v->cap = 0;
	return ids;
}

void pf_idvec_free(pf_idvec *v)
{
	free(v->ids);
	v->ids = NULL;
	v->n = v->cap = 0;
}

size_t pf_sorted_find(const void *base, size_t n, size_t size, const void *key,
                      int (*cmp)(const void *key, const void *item), bool *found)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp(key, (const char *)base + mid * size) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && cmp(key, (const char *)base + lo * size) == 0;
	return lo;
}
