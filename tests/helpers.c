/* helpers.c — see helpers.h. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

pf_db *tdb;
char tdir[256];
pf_time tclock;

pf_time test_clock(void *payload)
{
	(void)payload;
	return tclock;
}

pf_options test_options(void)
{
	pf_options o = PF_OPTIONS_INIT;
	o.clock = test_clock;
	o.map_size = 1u << 20;
	return o;
}

void db_setup(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tdir, sizeof tdir, "%s/pftest-XXXXXX", base && *base ? base : "/tmp");
	cr_assert(mkdtemp(tdir) != NULL, "mkdtemp failed");
	tclock = T0;
	pf_options o = test_options();
	int rc = pf_open(&tdb, tdir, &o);
	cr_assert(eq(int, rc, 0), "pf_open: %s", pf_errmsg());
}

void db_reopen(void)
{
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	int rc = pf_open(&tdb, tdir, &o);
	cr_assert(eq(int, rc, 0), "pf_open: %s", pf_errmsg());
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void db_teardown(void)
{
	pf_close(tdb);
	tdb = NULL;
	if (tdir[0])
		rm_rf(tdir);
}

pf_id add_guest(const char *name, const char *email, const char *phone)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	g.phone = phone;
	int rc = pf_guest_put(tdb, &g);
	cr_assert(eq(int, rc, 0), "pf_guest_put(%s): %s", name, pf_errmsg());
	return g.id;
}

void set_pref(const pf_id *guest, const char *category, const char *value,
              pf_pref_kind kind)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = "front_desk";
	int rc = pf_pref_set(tdb, guest, category, value, &o);
	cr_assert(eq(int, rc, 0), "pf_pref_set(%s): %s", category, pf_errmsg());
}

unsigned char *read_data_file(const char *dir, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)n + 1);
	cr_assert(buf != NULL);
	cr_assert(eq(sz, fread(buf, 1, (size_t)n, f), (size_t)n));
	fclose(f);
	*len = (size_t)n;
	return buf;
}
