/*
 * rules.c — the rule book command: `rules load`, `rules list` and `rules
 * clear`.
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

/* `rules clear` asks nothing (a script must be able to run it), but it
 * says how many rules went, so that a mistaken run is noticed at once.
 * The count is read just before the clear, in its own transaction: a
 * book loaded in between by another process would be cleared uncounted. */
static int rules_clear(pf_db *db)
{
	pf_rule_list *l = NULL;
	int rc = pf_rules_list(&l, db);
	if (rc)
		return lib_fail(rc);
	size_t n = l->count;
	pf_rule_list_free(l);
	if ((rc = pf_rules_clear(db)))
		return lib_fail(rc);
	printf("Removed %zu rule%s; the rule book is empty: events make no prompts until "
	       "a book is loaded.\n", n, n == 1 ? "" : "s");
	return 0;
}

int cmd_rules(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	int source = 0;
	const struct opt opts[] = {{"source", OPT_FLAG, &source}};
	char *pos[2];
	pf_rule_list *l = NULL;
	pf_rule_error err;

	int n = parse_args(cmd, argc, argv, opts, 1, pos, 2);
	if (n < 0)
		return 2;
	if (n == 2 && !strcmp(pos[0], "load")) {
		int rc = pf_rules_load_file(db, pos[1], &err);
		if (rc == 0)
			rc = pf_rules_list(&l, db);
		if (rc) {
			lib_fail(rc);   /* pf_errmsg names file:line:column */
			/* The library's advice names its C function; say the command. */
			if (rc == PF_ESYNTAX && strstr(pf_errmsg(), "defines no rules"))
				fputs(PROG ": to remove every rule on purpose, run '" PROG
				      " rules clear'\n", stderr);
			return 1;
		}
		printf("Loaded %zu rules from %s\n", l->count, pos[1]);
		pf_rule_list_free(l);
		return 0;
	}
	if (n == 1 && !strcmp(pos[0], "clear") && !source)
		return rules_clear(db);
	if (n != 1 || strcmp(pos[0], "list"))
		return usage_error(cmd, "expected 'rules load FILE', 'rules list [--source]' or "
		                        "'rules clear'");
	int rc = pf_rules_list(&l, db);
	if (rc)
		return lib_fail(rc);
	if (l->count == 0)
		printf("The rule book is empty.\n");
	for (size_t i = 0; i < l->count; i++) {
		if (source)
			printf("%s%s\n", i ? "\n" : "", l->items[i].source);
		else
			printf("%3zu  %s\n", i + 1, l->items[i].name);
	}
	pf_rule_list_free(l);
	return 0;
}
