/*
 * test_vec.c — vec.c: the growable array, the id vector and the sorted
 * search every sorted array of the library goes through.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vec.h"

static int cmp_int(const void *key, const void *item)
{
	int a = *(const int *)key, b = *(const int *)item;
	return (a > b) - (a < b);
}

Test(vec, push_insert_remove_keep_order)
{
	pf_vec v = PF_VEC_INIT(sizeof(int));
	for (int i = 0; i < 100; i++) {
		int x = 2 * i;
		cr_assert_eq(pf_vec_push(&v, &x), 0);
	}
	int odd = 7;
	cr_assert_eq(pf_vec_insert(&v, 4, &odd), 0);
	cr_assert_eq(v.n, 101);
	cr_assert_eq(*(int *)pf_vec_at(&v, 3), 6);
	cr_assert_eq(*(int *)pf_vec_at(&v, 4), 7);
	cr_assert_eq(*(int *)pf_vec_at(&v, 5), 8);
	pf_vec_remove(&v, 4);
	cr_assert_eq(v.n, 100);
	for (size_t i = 0; i < v.n; i++)
		cr_assert_eq(*(int *)pf_vec_at(&v, i), (int)(2 * i));
	size_t n;
	int *items = pf_vec_take(&v, &n);
	cr_assert_eq(n, 100);
	cr_assert_null(v.items);
	free(items);
	pf_vec_free(&v);
}

Test(vec, sorted_find_is_a_lower_bound)
{
	int a[] = {1, 3, 3, 5, 9};
	bool found;
	cr_assert_eq(pf_sorted_find(a, 5, sizeof *a, &(int){0}, cmp_int, &found), 0);
	cr_assert_not(found);
	cr_assert_eq(pf_sorted_find(a, 5, sizeof *a, &(int){3}, cmp_int, &found), 1);
	cr_assert(found);
	cr_assert_eq(pf_sorted_find(a, 5, sizeof *a, &(int){4}, cmp_int, &found), 3);
	cr_assert_not(found);
	cr_assert_eq(pf_sorted_find(a, 5, sizeof *a, &(int){9}, cmp_int, &found), 4);
	cr_assert(found);
	cr_assert_eq(pf_sorted_find(a, 5, sizeof *a, &(int){10}, cmp_int, &found), 5);
	cr_assert_not(found);
	cr_assert_eq(pf_sorted_find(a, 0, sizeof *a, &(int){1}, cmp_int, &found), 0);
	cr_assert_not(found);
}

Test(vec, idvec_unique_and_take)
{
	pf_idvec v = {0};
	pf_id a = {{1}}, b = {{2}};
	cr_assert_eq(pf_idvec_add_unique(&v, &a), 0);
	cr_assert_eq(pf_idvec_add_unique(&v, &b), 0);
	cr_assert_eq(pf_idvec_add_unique(&v, &a), 0);
	cr_assert_eq(v.n, 2);
	cr_assert(pf_idvec_has(&v, &b));
	size_t n;
	pf_id *ids = pf_idvec_take(&v, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(&ids[1], &b, sizeof b), 0);
	free(ids);
	pf_idvec v2 = {0};
	cr_assert_null(pf_idvec_take(&v2, &n));
	cr_assert_eq(n, 0);
}
