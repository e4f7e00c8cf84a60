/*
 * vec.h — what vec.c offers the other files of the library: the one
 * growable array, the one id vector and the one sorted-array search.
 * Owner: vec.c.  Never installed; nothing here is API.
 */
#ifndef PF_VEC_H
#define PF_VEC_H

#include "libprofile.h"

#include <stdbool.h>
#include <stddef.h>

/**
 * A growable array of items of one size.  Zero-initialise it
 * (PF_VEC_INIT(sizeof item)); items are stored contiguously in `items`,
 * which pf_vec_free releases.  Growth doubles the capacity.
 */
typedef struct pf_vec {
	void *items;
	size_t n, cap;
	size_t size;              /* bytes per item */
} pf_vec;

#define PF_VEC_INIT(item_size) { NULL, 0, 0, (item_size) }

/** Make room for at least `want` items in total.  0 or PF_ENOMEM ("out of
 *  memory" set); the vector is unchanged on failure. */
int pf_vec_reserve(pf_vec *v, size_t want);

/** Append a copy of *item (v->size bytes).  0 or PF_ENOMEM. */
int pf_vec_push(pf_vec *v, const void *item);

/** Append one zeroed item and return it in *out (valid until the next
 *  growth).  0 or PF_ENOMEM. */
int pf_vec_push_zero(pf_vec *v, void **out);

/** Insert a copy of *item at index i (0..n), moving later items up. */
int pf_vec_insert(pf_vec *v, size_t i, const void *item);

/** Remove the item at index i (< n), moving later items down. */
void pf_vec_remove(pf_vec *v, size_t i);

/** Item i (unchecked), as a byte pointer into v->items. */
static inline void *pf_vec_at(const pf_vec *v, size_t i)
{
	return (char *)v->items + i * v->size;
}

/** Give the array to the caller (who frees it with free()) and empty the
 *  vector; NULL when it is empty. */
void *pf_vec_take(pf_vec *v, size_t *n);

/** Free the array and empty the vector (the item size is kept). */
void pf_vec_free(pf_vec *v);

/** A growable array of ids: `ids[0..n)`.  Zero-initialise it. */
typedef struct pf_idvec {
	pf_id *ids;
	size_t n, cap;
} pf_idvec;

/** Append *id.  0 or PF_ENOMEM. */
int pf_idvec_push(pf_idvec *v, const pf_id *id);
/** Append *id unless it is already there (linear search: for the short
 *  lists of merges and erasures).  0 or PF_ENOMEM. */
int pf_idvec_add_unique(pf_idvec *v, const pf_id *id);
/** True if *id is in v. */
bool pf_idvec_has(const pf_idvec *v, const pf_id *id);
/** Give the array to the caller (free()) and empty v; NULL when empty. */
pf_id *pf_idvec_take(pf_idvec *v, size_t *n);
void pf_idvec_free(pf_idvec *v);

/**
 * Binary search of the sorted array base[0..n) (items of `size` bytes)
 * for `key`: cmp(key, item) < 0, 0, > 0 as key sorts before, equal to,
 * after the item.  Returns the index of the first item not before key
 * (n if none), and *found tells whether that item equals key.  The one
 * search behind every sorted array of the library (preferences by
 * category, the rule index).
 */
size_t pf_sorted_find(const void *base, size_t n, size_t size, const void *key,
                      int (*cmp)(const void *key, const void *item), bool *found);

#endif /* PF_VEC_H */
