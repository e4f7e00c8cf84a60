/*
 * alloc_count.c — the counting malloc of `make bench`.
 *
 * The bench executable defines malloc, calloc, realloc and free itself;
 * by ELF symbol interposition every call in the process (libprofile.a,
 * and the shared LMDB, msgpack-c, SQLite and glibc) comes here and is
 * forwarded to glibc's __libc_* functions.  Between alloc_count_start()
 * and alloc_count_stop() each malloc, calloc and realloc (not free) is
 * counted.  Counting is off otherwise and costs one relaxed load.
 */
#include "bench.h"

#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static atomic_int counting;
static atomic_uint_fast64_t allocs;

static inline void count(void)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
}

void *malloc(size_t n)
{
	count();
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	count();
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	count();
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

void alloc_count_start(void)
{
	atomic_store(&allocs, 0);
	atomic_store(&counting, 1);
}

uint64_t alloc_count_stop(void)
{
	atomic_store(&counting, 0);
	return (uint64_t)atomic_load(&allocs);
}
