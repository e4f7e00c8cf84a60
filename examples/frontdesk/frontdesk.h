/*
 * frontdesk.h — what the files of frontdesk share: the command table's
 * type, messages, aligned tables, dates, option parsing, resolving GUEST,
 * PROMPT and FEEDBACK arguments, prompt lists, and every command's entry
 * point (cmd_NAME, one per command, listed by file).
 *
 * frontdesk may call only the public API (libprofile.h, and chain.c
 * libprofile_sync.h) and the helpers it
 * shares with kiosk (../cli.h, in its several-files mode: common.c holds
 * their definitions).  Every file of frontdesk includes this header first.
 */
#ifndef FRONTDESK_H
#define FRONTDESK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libprofile.h"

#define PROG "frontdesk"
#define SHORT_ID 8        /* hex digits of a prompt id shown in lists: its last */
#define MIN_SHORT 6       /* fewest last digits accepted for an id */

#define CLI_EXTERN
#include "../cli.h"

struct command;
typedef int (*command_fn)(pf_db *db, const struct command *cmd, int argc, char **argv);

struct command {
	const char *name;
	command_fn run;
	unsigned int open_flags;  /* PF_OPEN_READONLY for commands that only look */
	const char *usage;
	const char *about;        /* one paragraph, for `help COMMAND` */
};

/* open_flags bit: the command opens the database itself (`verify` opens it
 * in a child process, so that a damaged file cannot kill frontdesk); its
 * run() gets db == NULL and reads the directory and options below. */
#define CMD_OPENS_ITSELF 0x80000000u
extern const char *db_dir;
extern pf_options db_options;

/* ------------------------------------------------------------------ */
/* help.c: the command table, `help` and the usage texts                */
/* ------------------------------------------------------------------ */

const struct command *find_command(const char *name);
void command_help(const struct command *cmd);
void usage(FILE *f);
/* `COMMAND --help` or `COMMAND -h` anywhere before a `--`.  Checked
 * before the database is opened, so that asking for help needs none; the
 * price is that an option value equal to --help or -h must be attached
 * with '=' (--note=-h). */
int wants_help(int argc, char **argv);
/* `help [COMMAND]`: argv holds what follows "help". */
int help(int argc, char **argv);

/* ------------------------------------------------------------------ */
/* common.c: messages, tables, dates, option parsing                    */
/* ------------------------------------------------------------------ */

void die_nomem(void);
/* A failure found here, not in the library. */
int PRINTF_LIKE(1, 2) fail(const char *fmt, ...);
/* Bad command line: say what, then the command's usage.  Exit status 2. */
int PRINTF_LIKE(2, 3) usage_error(const struct command *cmd, const char *fmt, ...);
/* Display columns of UTF-8 text: East Asian wide characters take two, so
 * tables stay aligned for names such as 莊偉. */
size_t text_width(const char *s);
/* Copy for a table cell: control characters (a note with a newline)
 * would break the layout, so they become spaces. */
char *cell_dup(const char *s);

#define TABLE_MAXCOLS 10

struct table {
	size_t ncols, nrows;
	char **cells;             /* nrows * ncols, row-major */
};

/* Add a row; NULL or empty cells print as "-". */
void table_row(struct table *t, const char *const *cells);
/* Columns two spaces apart; the last one is not padded. */
void table_print(const struct table *t, FILE *f, const char *indent);
void table_free(struct table *t);

int64_t date_days(pf_date d);
/* "HH:MM YYYY-MM-DD", UTC. */
void format_time(char buf[32], pf_time t);
void format_date(char buf[16], pf_date d);
/* "3d 2h", "2h05m", "12m". */
void format_span(char buf[32], pf_time secs);

enum opt_kind { OPT_STR, OPT_FLAG, OPT_LIST };

struct strlist {
	size_t n;
	const char *v[PF_TAGS_MAX];
};

struct opt {
	const char *name;         /* without the leading "--" */
	enum opt_kind kind;
	void *dest;               /* const char **, int *, or struct strlist * */
};

/* Fill the options' destinations and pos[] (at most maxpos).  Returns the
 * number of positionals, or -1 after printing a usage error. */
int parse_args(const struct command *cmd, int argc, char **argv,
               const struct opt *opts, size_t nopts, char **pos, int maxpos);
/* parse_args for a command that takes exactly `want` positionals;
 * `missing` is the usage error otherwise.  Returns 0 or exit status 2. */
int parse_exactly(const struct command *cmd, int argc, char **argv,
                  const struct opt *opts, size_t nopts, char **pos, int want,
                  const char *missing);
/* Optional numeric option: NULL leaves *out alone. */
int parse_count(const struct command *cmd, const char *what, const char *s, uint32_t *out);
/* Optional date option: NULL leaves *out alone. */
int parse_date_opt(const struct command *cmd, const char *what, const char *s, pf_date *out);

/* ------------------------------------------------------------------ */
/* lookup.c: GUEST, PROMPT and FEEDBACK arguments; guest names         */
/* ------------------------------------------------------------------ */

void print_guest_rows(FILE *f, const pf_guest_list *l);
/* GUEST is a UUID or a query that finds exactly one guest.  On success
 * *out is the loaded guest (free with pf_guest_free); returns an exit
 * status. */
int resolve_guest(pf_guest **out, pf_db *db, const char *arg);

enum short_id { ID_PROMPT, ID_FEEDBACK };

/* PROMPT (FEEDBACK) is a full UUID, or at least MIN_SHORT hex digits that
 * end the id of exactly one open prompt (one feedback).  Returns an exit
 * status. */
int resolve_short_id(pf_id *out, pf_db *db, const char *arg, enum short_id what);

/* The short id lists show: the last SHORT_ID hex digits of `id` (its
 * random part: prompt and feedback ids begin with their time, so the
 * first digits of a day's prompts are all alike), in buf; "" for a zero
 * id. */
const char *short_id(char buf[PF_ID_STRLEN + 1], const pf_id *id);
/* The one argument of a command without options, a GUEST, resolved:
 * free *g.  Returns an exit status. */
int one_guest(pf_db *db, const struct command *cmd, int argc, char **argv, pf_guest **g);
/* Two GUEST arguments, resolved. */
int two_guests(pf_db *db, const struct command *cmd, int argc, char **argv,
               pf_guest **a, pf_guest **b);

/* Guest names for a prompt list, looked up once per guest. */
struct name_cache {
	size_t n;
	pf_id *ids;
	char **names;
};

const char *guest_name(struct name_cache *c, pf_db *db, const pf_id *id);
void name_cache_free(struct name_cache *c);

/* ------------------------------------------------------------------ */
/* The commands, by file                                                */
/* ------------------------------------------------------------------ */

/* prompts.c: work lists, the prompt lifecycle, and printing prompts */
enum {
	COL_ID = 1 << 0, COL_DEPT = 1 << 1, COL_DUE = 1 << 2, COL_LATE = 1 << 3,
	COL_PRIO = 1 << 4, COL_STATUS = 1 << 5, COL_GUEST = 1 << 6, COL_TEXT = 1 << 7
};

/* Print the prompts in list order, or in work-list order if `sorted`. */
void print_prompts(pf_db *db, const pf_prompt_list *l, int sorted, unsigned cols,
                   const char *indent);
int cmd_prompts(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_overdue(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_ack(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_done(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_dismiss(pf_db *db, const struct command *cmd, int argc, char **argv);

/* guests.c: guests, preferences, stays and their history */
/* What a guest agreed to, as `show` and `consent` print it. */
const char *consent_text(unsigned int consent);
int cmd_add(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_find(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_show(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_pref(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_unpref(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_stay(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_history(pf_db *db, const struct command *cmd, int argc, char **argv);

/* rules.c: the rule book */
int cmd_rules(pf_db *db, const struct command *cmd, int argc, char **argv);

/* events.c: reservations, check-ins, previews */
int cmd_reserve(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_checkin(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_preview(pf_db *db, const struct command *cmd, int argc, char **argv);

/* feedback.c: complaints, compliments, suggestions, service quality */
int cmd_complaint(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_compliment(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_suggestion(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_feedback(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_resolve(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_update(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_followup(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_report(pf_db *db, const struct command *cmd, int argc, char **argv);
/* The day after a valid pf_date. */
pf_date date_next(pf_date d);

/* report_html.c: `report --html FILE`, the dashboard page of report r
 * (hotel days from..to, both included) with its day-by-day trend.
 * Returns an exit status. */
int report_html(pf_db *db, const char *path, pf_date from, pf_date to,
                const pf_quality_report *r);

/* data.c: export and import, duplicates and merges, erasure, copies */
int cmd_export(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_import(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_export_all(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_duplicates(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_not_duplicate(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_merge(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_unmerge(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_erase(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_compact(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_backup(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_verify(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_consent(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_retention(pf_db *db, const struct command *cmd, int argc, char **argv);

/* chain.c: a hotel chain (libprofile-sync over NATS), the shared digest */
int cmd_sync(pf_db *db, const struct command *cmd, int argc, char **argv);
int cmd_digest(pf_db *db, const struct command *cmd, int argc, char **argv);

#endif
