/* test_prompt_page.c — pf_prompts_pending_page: keyset pages of a
 * department's work list that add up to pf_prompts_pending. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(prompt_page, .init = db_setup, .fini = db_teardown, .timeout = 60);

/* Every guest with a floor gets a front-desk prompt; priorities and due
 * times vary so that the order has ties to break. */
static const char BOOK[] =
	"rule floor\n"
	"  on check_in\n"
	"  when pref room.floor\n"
	"  notify front_desk high \"Floor {pref room.floor}\"\n"
	"\n"
	"rule quiet\n"
	"  on check_in\n"
	"  when pref room.noise = quiet\n"
	"  notify front_desk urgent within 1h \"Quiet room\"\n"
	"\n"
	"rule towels\n"
	"  on check_in\n"
	"  when pref room.floor\n"
	"  notify housekeeping low \"Towels\"\n";

static size_t fill(int guests)
{
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "page.rules", BOOK, strlen(BOOK), &err));
	for (int i = 0; i < guests; i++) {
		char name[32], floor[8], evid[32];
		snprintf(name, sizeof name, "Guest %03d", i);
		pf_id g = add_guest(name, NULL, NULL);
		snprintf(floor, sizeof floor, "%d", i % 20);
		set_pref(&g, "room.floor", floor, PF_LIKE);
		if (i % 3 == 0)
			set_pref(&g, "room.noise", "quiet", PF_LIKE);
		pf_event ev = PF_EVENT_INIT;
		ev.kind = PF_EVENT_CHECK_IN;
		snprintf(evid, sizeof evid, "ci-%03d", i);
		ev.id = evid;
		ev.guest = g;
		ev.time = T0 + (i % 7) * 600;   /* due times collide */
		pf_prompt_list *l = NULL;
		assert_ok(pf_fire(&l, tdb, &ev));
		pf_prompt_list_free(l);
	}
	pf_prompt_list *all = NULL;
	assert_ok(pf_prompts_pending(&all, tdb, "front_desk"));
	size_t n = all->count;
	pf_prompt_list_free(all);
	return n;
}

/* Pages of `limit` concatenated equal the whole list, in order. */
static void pages_equal_whole(size_t limit)
{
	pf_prompt_list *all = NULL;
	assert_ok(pf_prompts_pending(&all, tdb, "front_desk"));
	size_t at = 0;
	pf_prompt last;
	bool have_last = false;
	for (;;) {
		pf_prompt_list *page = NULL;
		assert_ok(pf_prompts_pending_page(&page, tdb, "front_desk",
		                                  have_last ? &last : NULL, limit));
		cr_assert(le(sz, page->count, limit));
		for (size_t i = 0; i < page->count; i++, at++) {
			cr_assert(lt(sz, at, all->count), "pages hold more than the list");
			cr_assert(eq(int, memcmp(page->items[i].id.b, all->items[at].id.b, 16), 0),
			          "page item %zu is not list item %zu", i, at);
		}
		size_t n = page->count;
		if (n) {
			last = page->items[n - 1];
			last.department = NULL;    /* only id, due, priority are read */
			last.text = last.rule = last.event_id = NULL;
			have_last = true;
		}
		pf_prompt_list_free(page);
		if (n < limit)
			break;
	}
	cr_assert(eq(sz, at, all->count), "pages hold fewer than the list");
	pf_prompt_list_free(all);
}

Test(prompt_page, pages_add_up_to_the_list)
{
	size_t n = fill(90);
	cr_assert(gt(sz, n, 100));
	pages_equal_whole(1);
	pages_equal_whole(7);
	pages_equal_whole(50);
	pages_equal_whole(n);
	pages_equal_whole(PF_PAGE_MAX);
}

Test(prompt_page, a_closed_prompt_still_marks_the_place)
{
	fill(30);
	pf_prompt_list *p1 = NULL, *p2 = NULL, *all = NULL;
	assert_ok(pf_prompts_pending_page(&p1, tdb, "front_desk", NULL, 10));
	cr_assert(eq(sz, p1->count, 10));
	pf_prompt last = p1->items[9];
	/* The marker is done meanwhile: the next page starts right after it. */
	assert_ok(pf_prompt_done(tdb, &last.id, "desk"));
	assert_ok(pf_prompts_pending_page(&p2, tdb, "front_desk", &last, 10));
	assert_ok(pf_prompts_pending(&all, tdb, "front_desk"));
	/* all lost the done prompt: p2 begins at all[9]. */
	cr_assert(eq(int, memcmp(p2->items[0].id.b, all->items[9].id.b, 16), 0));
	pf_prompt_list_free(p1);
	pf_prompt_list_free(p2);
	pf_prompt_list_free(all);
}

Test(prompt_page, bad_arguments)
{
	pf_prompt_list *l = (pf_prompt_list *)1;
	cr_assert(eq(int, pf_prompts_pending_page(NULL, tdb, "front_desk", NULL, 5), PF_EINVAL));
	cr_assert(eq(int, pf_prompts_pending_page(&l, NULL, "front_desk", NULL, 5), PF_EINVAL));
	cr_assert(eq(ptr, l, NULL));
	cr_assert(eq(int, pf_prompts_pending_page(&l, tdb, "Front Desk", NULL, 5), PF_EINVAL));
	cr_assert(eq(int, pf_prompts_pending_page(&l, tdb, "front_desk", NULL, 0), PF_EINVAL));
	cr_assert(not(strstr(pf_errmsg(), "pf_prompts_pending_page: limit 0") == NULL), "%s",
	          pf_errmsg());
	cr_assert(eq(int, pf_prompts_pending_page(&l, tdb, "front_desk", NULL, PF_PAGE_MAX + 1),
	             PF_EINVAL));
	pf_prompt zero;
	memset(&zero, 0, sizeof zero);
	cr_assert(eq(int, pf_prompts_pending_page(&l, tdb, "front_desk", &zero, 5), PF_EINVAL));
	assert_ok(pf_prompts_pending_page(&l, tdb, "front_desk", NULL, 5));
	cr_assert(eq(sz, l->count, 0));
	pf_prompt_list_free(l);
}
