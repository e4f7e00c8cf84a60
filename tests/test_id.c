/* test_id.c — id.c's ids: random (v4) ones unique, time-ordered (v7) ones
 * increasing, in every thread, and never repeated by a forked child. */
#include "helpers.h"
#include "id.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(id, .timeout = 60);

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(pf_id));
}

Test(id, random_ids_are_v4_and_unique)
{
	enum { N = 50000 };
	pf_id *ids = malloc(N * sizeof *ids);
	cr_assert(ids != NULL);
	for (int i = 0; i < N; i++) {
		pf_id_generate(&ids[i]);
		cr_assert(eq(int, ids[i].b[6] >> 4, 4));
		cr_assert(eq(int, ids[i].b[8] >> 6, 2));
	}
	qsort(ids, N, sizeof *ids, id_cmp);
	for (int i = 1; i < N; i++)
		cr_assert(ne(int, id_cmp(&ids[i - 1], &ids[i]), 0), "a repeated id");
	free(ids);
}

#define PER_THREAD 20000

static void *make_ordered(void *arg)
{
	pf_id *ids = arg;
	for (int i = 0; i < PER_THREAD; i++)
		pf_id_generate_ordered(&ids[i]);
	return NULL;
}

Test(id, ordered_ids_increase_in_every_thread_and_never_repeat)
{
	pf_id *ids = malloc(2 * PER_THREAD * sizeof *ids);
	cr_assert(ids != NULL);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		cr_assert(eq(int, pthread_create(&t[i], NULL, make_ordered, ids + i * PER_THREAD), 0));
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int k = 0; k < 2; k++)
		for (int i = 1; i < PER_THREAD; i++) {
			const pf_id *a = &ids[k * PER_THREAD + i - 1], *b = a + 1;
			cr_assert(lt(int, id_cmp(a, b), 0), "ids out of order in thread %d", k);
			cr_assert(eq(int, b->b[6] >> 4, 7));
			cr_assert(eq(int, b->b[8] >> 6, 2));
		}
	/* The 60 bits of time and counter alone are unique across threads. */
	qsort(ids, 2 * PER_THREAD, sizeof *ids, id_cmp);
	for (int i = 1; i < 2 * PER_THREAD; i++)
		cr_assert(ne(int, memcmp(ids[i - 1].b, ids[i].b, 8), 0), "a repeated time and counter");
	/* The time is now's, in milliseconds. */
	uint64_t ms = 0;
	for (int i = 0; i < 6; i++)
		ms = ms << 8 | ids[0].b[i];
	uint64_t now = (uint64_t)time(NULL) * 1000;
	cr_assert(lt(u64, ms > now ? ms - now : now - ms, 60000), "v7 time is not now");
	free(ids);
}

Test(id, a_forked_child_makes_other_ids)
{
	pf_id parent_first, child, parent;
	pf_id_generate(&parent_first);        /* fills this thread's buffer */
	int fd[2];
	cr_assert(eq(int, pipe(fd), 0));
	pid_t pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		pf_id id;
		pf_id_generate(&id);
		ssize_t w = write(fd[1], id.b, sizeof id.b);
		_exit(w == (ssize_t)sizeof id.b ? 0 : 1);
	}
	pf_id_generate(&parent);
	cr_assert(eq(sz, (size_t)read(fd[0], child.b, sizeof child.b), sizeof child.b));
	int st = 0;
	waitpid(pid, &st, 0);
	close(fd[0]);
	close(fd[1]);
	cr_assert(ne(int, id_cmp(&child, &parent), 0), "the child repeated its parent's next id");
}
