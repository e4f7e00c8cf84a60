/* test_property.c — a property's name in a hotel chain
 * (pf_options.property, pf_property): stored by the first writable open
 * that gives it, kept by opens that give none, refused under another
 * name or malformed, before anything is created on disk. */
#include "helpers.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

TestSuite(property, .init = db_setup, .fini = db_teardown, .timeout = 60);

static int reopen_as(const char *name, unsigned flags)
{
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.property = name;
	o.flags |= flags;
	return pf_open(&tdb, tdir, &o);
}

static const char *name_of(pf_db *db)
{
	const char *p = (const char *)1;
	cr_assert(eq(int, pf_property(&p, db), 0), "%s", pf_errmsg());
	return p;
}

Test(property, a_new_database_has_none_until_named)
{
	cr_assert_null(name_of(tdb));
	cr_assert(eq(int, reopen_as("macau", 0), 0), "%s", pf_errmsg());
	cr_assert_str_eq(name_of(tdb), "macau");
}

Test(property, the_name_is_stored_and_kept)
{
	cr_assert(eq(int, reopen_as("macau", 0), 0), "%s", pf_errmsg());
	cr_assert(eq(int, reopen_as(NULL, 0), 0), "%s", pf_errmsg());
	cr_assert_str_eq(name_of(tdb), "macau");
	cr_assert(eq(int, reopen_as(NULL, PF_OPEN_READONLY), 0), "%s", pf_errmsg());
	cr_assert_str_eq(name_of(tdb), "macau");
	cr_assert(eq(int, reopen_as("macau", PF_OPEN_READONLY), 0), "%s", pf_errmsg());
}

Test(property, another_name_is_refused)
{
	pf_id g = add_guest("Chan Tai Man", "chan@example.mo", NULL);
	cr_assert(eq(int, reopen_as("macau", 0), 0), "%s", pf_errmsg());
	cr_assert(eq(int, reopen_as("lisbon", 0), PF_EINVAL));
	cr_assert_null(tdb);
	cr_assert(strstr(pf_errmsg(), "belongs to property 'macau'") != NULL, "%s", pf_errmsg());
	cr_assert(strstr(pf_errmsg(), "'lisbon'") != NULL, "%s", pf_errmsg());
	/* Nothing changed: the name and the guest are there. */
	cr_assert(eq(int, reopen_as(NULL, 0), 0), "%s", pf_errmsg());
	cr_assert_str_eq(name_of(tdb), "macau");
	pf_guest *got = NULL;
	cr_assert(eq(int, pf_guest_get(&got, tdb, &g), 0), "%s", pf_errmsg());
	pf_guest_free(got);
}

Test(property, a_read_only_open_cannot_name_it)
{
	cr_assert(eq(int, reopen_as("porto", PF_OPEN_READONLY), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "read-only") != NULL, "%s", pf_errmsg());
	cr_assert(eq(int, reopen_as(NULL, 0), 0), "%s", pf_errmsg());
	cr_assert_null(name_of(tdb));
}

Test(property, malformed_names_are_refused_before_anything_is_made)
{
	static const char *const bad[] = {
		"", "Macau", "grand hotel", "-lead", "a/b", "caf\xc3\xa9",
		"abcdefghijabcdefghijabcdefghijabc", /* 33 bytes */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char dir[300];
		snprintf(dir, sizeof dir, "%s-new%zu", tdir, i);
		pf_options o = test_options();
		o.property = bad[i];
		pf_db *db = (pf_db *)1;
		cr_assert(eq(int, pf_open(&db, dir, &o), PF_EINVAL), "'%s' accepted", bad[i]);
		cr_assert_null(db);
		cr_assert(strstr(pf_errmsg(), "property") != NULL, "%s", pf_errmsg());
		struct stat st;
		cr_assert(stat(dir, &st) != 0, "'%s': %s was created", bad[i], dir);
	}
	/* The longest and the widest spellings that are allowed. */
	cr_assert(eq(int, reopen_as("abcdefghijabcdefghijabcdefghij-_", 0), 0), "%s",
	          pf_errmsg());
	cr_assert(eq(int, reopen_as(NULL, 0), 0), "%s", pf_errmsg());
	cr_assert_str_eq(name_of(tdb), "abcdefghijabcdefghijabcdefghij-_");
}

Test(property, a_named_database_verifies_clean)
{
	cr_assert(eq(int, reopen_as("lisbon", 0), 0), "%s", pf_errmsg());
	add_guest("Ana Lima", "ana@example.pt", NULL);
	pf_verify_report *r = NULL;
	cr_assert(eq(int, pf_verify(&r, tdb), 0), "%s", pf_errmsg());
	cr_assert(eq(sz, r->count, 0), "%zu problems, first: %s", r->count,
	          r->count ? r->items[0].problem : "");
	pf_verify_report_free(r);
}

Test(property, null_arguments)
{
	const char *p;
	cr_assert(eq(int, pf_property(NULL, tdb), PF_EINVAL));
	cr_assert(eq(int, pf_property(&p, NULL), PF_EINVAL));
}
