/*
 * id.c — UUIDs (random ones from libuuid, time-ordered ones made here) and
 * the big-endian encodings that make numeric keys sort in numeric order.
 * Uses nothing else in the library but error.c.
 */
#include "id.h"
#include "error.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

/*
 * Random bytes for ids: the kernel's (getrandom), a buffer per thread.
 * libuuid's uuid_generate_random reseeds libc's random() on every call
 * (util-linux's "crank_random"), which was a sixth of a check-in's
 * instructions.  The buffer remembers the process that filled it: a
 * child after fork() must not hand out its parent's next ids.
 */
static _Thread_local unsigned char pool[256];
static _Thread_local size_t pool_left;
static _Thread_local pid_t pool_pid;

static void random16(unsigned char out[16])
{
	const size_t n = 16;
	pid_t pid = getpid();
	if (pool_left < n || pool_pid != pid) {
		size_t got = 0;
		while (got < sizeof pool) {
			ssize_t r = getrandom(pool + got, sizeof pool - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		if (got < sizeof pool) {
			/* No getrandom (an old kernel, a seccomp filter): libuuid
			 * finds its own source. */
			uuid_generate_random(out);
			return;
		}
		pool_left = sizeof pool;
		pool_pid = pid;
	}
	memcpy(out, pool + sizeof pool - pool_left, n);
	/* Used bytes are wiped: nothing later can read an id made earlier. */
	memset(pool + sizeof pool - pool_left, 0, n);
	pool_left -= n;
}

void pf_id_generate(pf_id *out)
{
	random16(out->b);
	out->b[6] = (unsigned char)(0x40 | (out->b[6] & 0x0f));     /* version 4 */
	out->b[8] = (unsigned char)(0x80 | (out->b[8] & 0x3f));     /* RFC 9562 variant */
}

/*
 * The last (milliseconds << 12 | counter) handed out in this process.
 * RFC 9562 §6.2 method 1: the 12 bits of rand_a are a counter, so ids
 * made within one millisecond still increase; a counter that overflows
 * borrows the next millisecond, which keeps the order and drifts ahead
 * of the clock only while more than 4,096 ids a millisecond are made.
 */
static _Atomic uint64_t v7_last;

void pf_id_generate_ordered(pf_id *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	uint64_t want = (ms & ((UINT64_C(1) << 48) - 1)) << 12;
	uint64_t last = atomic_load_explicit(&v7_last, memory_order_relaxed), next;
	do
		next = want > last ? want : last + 1;
	while (!atomic_compare_exchange_weak_explicit(&v7_last, &last, next,
	                                              memory_order_relaxed,
	                                              memory_order_relaxed));
	random16(out->b);
	uint64_t t = next >> 12;
	for (int i = 5; i >= 0; i--, t >>= 8)
		out->b[i] = (unsigned char)t;
	out->b[6] = (unsigned char)(0x70 | ((next >> 8) & 0x0f));   /* version 7 */
	out->b[7] = (unsigned char)(next & 0xff);
	out->b[8] = (unsigned char)(0x80 | (out->b[8] & 0x3f));     /* RFC 9562 variant */
}

int pf_id_format(char buf[PF_ID_STRLEN + 1], const pf_id *id)
{
	if (!buf || !id)
		return pf_seterr(PF_EINVAL, "pf_id_format: NULL argument");
	uuid_unparse_lower(id->b, buf);
	return 0;
}

int pf_id_parse(pf_id *out, const char *text)
{
	if (!out || !text)
		return pf_seterr(PF_EINVAL, "pf_id_parse: NULL argument");
	uuid_t u;
	if (strlen(text) != PF_ID_STRLEN || uuid_parse(text, u) != 0)
		return pf_seterr(PF_EINVAL, "pf_id_parse: '%.40s' is not a UUID "
		                 "(expected 8-4-4-4-12 hex digits)", text);
	memcpy(out->b, u, sizeof out->b);
	return 0;
}

int pf_id_is_zero(const pf_id *id)
{
	if (!id)
		return 1;
	for (size_t i = 0; i < sizeof id->b; i++)
		if (id->b[i])
			return 0;
	return 1;
}

void pf_be64_put(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

uint64_t pf_be64_get(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void pf_be32_put(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

uint32_t pf_be32_get(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = (v << 8) | p[i];
	return v;
}
