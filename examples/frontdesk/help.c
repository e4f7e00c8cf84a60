/*
 * help.c — the command table (name, entry point, how the database is
 * opened, usage and description of every command), `help [COMMAND]`,
 * `COMMAND --help`, and the overview that `help` prints.
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

/* `usage` is the synopsis after "usage: frontdesk "; continuation lines
 * are indented to line up under it.  `about` is the paragraph that
 * `help COMMAND` and `COMMAND --help` print under the usage. */
static const struct command commands[] = {
	{"add", cmd_add, 0,
	 "add NAME [--email E] [--phone P] [--lang L] [--country CODE] [--loyalty N]\n"
	 "                 [--tier T] [--tag T]... [--birth YYYY-MM-DD] [--no-profiling]",
	 "Create a guest profile and print its id.  --email, --phone and --loyalty\n"
	 "make the guest findable by them; --lang is the guest's language (zh, it,\n"
	 "pt-BR...), --tier one of none, silver, gold, platinum and vip, --tag adds a\n"
	 "tag (repeat it for more) and --birth gives the birth date.  The guest\n"
	 "consents to profiling unless --no-profiling is given: then observed likes\n"
	 "and dislikes make no prompts (needs, such as allergies, always do)."},
	{"find", cmd_find, PF_OPEN_READONLY, "find QUERY",
	 "List the guests that QUERY finds: an e-mail, a phone or loyalty number, or\n"
	 "the start of a name.  Each row shows the guest's id, name, contacts and\n"
	 "tier; any other command takes that id, or a query that finds only that\n"
	 "guest, as GUEST."},
	{"show", cmd_show, PF_OPEN_READONLY, "show GUEST",
	 "Print GUEST's profile (contacts, tier, tags, birth date, consent, stays\n"
	 "and complaint counts), every recorded preference with the department and\n"
	 "staff who observed it, and the list of stays."},
	{"history", cmd_history, PF_OPEN_READONLY, "history GUEST [--since SEQ]",
	 "Print every journal entry concerning GUEST in the order they were made:\n"
	 "sequence number, time, actor, operation, and the fields that changed (old\n"
	 "-> new).  --since SEQ shows only the entries after that sequence number.\n"
	 "A full guest id also works for an erased guest, whose tombstoned entries\n"
	 "remain."},
	{"export", cmd_export, PF_OPEN_READONLY, "export GUEST",
	 "Print everything held about GUEST as one JSON document: the profile,\n"
	 "preferences with who observed them, stays, prompts, feedback and journal\n"
	 "entries.  This is the answer to a guest's right-of-access request."},
	{"import", cmd_import, 0,
	 "import FILE.csv|FILE.jsonl [--by DEPT] [--batch N] [--format csv|jsonl]",
	 "Load guests and their preferences from a CSV or JSON-lines file (the\n"
	 "format follows the file's name unless --format is given), --batch N rows\n"
	 "per transaction.  Every row is checked before anything is written; bad\n"
	 "rows are left out and listed with their line, the rest is loaded.  Rows\n"
	 "match stored guests on external_id (or id), so running it again is safe.\n"
	 "--by names the department recorded as the observer of the preferences."},
	{"export-all", cmd_export_all, PF_OPEN_READONLY,
	 "export-all FILE.jsonl|FILE.csv [--format csv|jsonl]",
	 "Write every guest and their preferences to FILE (mode 0600) in the format\n"
	 "`import` reads, so importing the file into an empty database gives the\n"
	 "same guests.  The format follows the file's name unless --format is\n"
	 "given."},
	{"pref", cmd_pref, 0,
	 "pref GUEST CATEGORY VALUE --by DEPT [--staff S] [--note N] [--dislike|--need]",
	 "Record that department DEPT (and staff member S) observed GUEST's\n"
	 "preference: a like by default, --dislike for something to avoid, --need\n"
	 "for a safety matter such as an allergy or hearing, which always reaches\n"
	 "staff whatever the consent.  CATEGORY is dotted, such as room.floor;\n"
	 "observing the same value again counts it, a new value replaces the old."},
	{"unpref", cmd_unpref, 0, "unpref GUEST CATEGORY",
	 "Forget GUEST's preference in CATEGORY (journaled)."},
	{"stay", cmd_stay, 0,
	 "stay GUEST ARRIVAL DEPARTURE [--room R] [--property P] [--party N]",
	 "Record a past or current stay of GUEST from ARRIVAL to DEPARTURE\n"
	 "(YYYY-MM-DD), with the room, the property code and the number of people\n"
	 "if known.  Stays count towards the profile and rules can test them;\n"
	 "`checkin` records its stay itself."},
	{"rules", cmd_rules, 0, "rules load FILE | rules list [--source] | rules clear",
	 "Manage the rule book that turns events into prompts.  `rules load`\n"
	 "replaces the whole book with FILE, all or nothing: a file with an error,\n"
	 "or one that defines no rule, is refused and the stored book stays as it\n"
	 "was.  `rules list` prints the rules' names (--source: their full text).\n"
	 "`rules clear` removes every rule on purpose, without asking, and says how\n"
	 "many it removed: events make no prompts until a book is loaded again."},
	{"reserve", cmd_reserve, 0,
	 "reserve GUEST EVENT_ID [--arrival D] [--departure D] [--room R] [--party N]\n"
	 "                 [--property P]",
	 "Report a booking of GUEST: the rule book sends its prompts to the\n"
	 "departments concerned, and they are printed.  EVENT_ID is your\n"
	 "reservation id; sending the same one twice does the work once.  The\n"
	 "options describe the booked stay, as the rules see it."},
	{"checkin", cmd_checkin, 0, "checkin GUEST EVENT_ID [same options as reserve]",
	 "Report GUEST's check-in at the front desk: the rule book's prompts are\n"
	 "sent and printed, the stay is recorded, and the kiosk's welcome prompts\n"
	 "are dismissed, since the guest is already at the desk.  EVENT_ID must\n"
	 "differ from the reservation's; sending the same one twice does the work\n"
	 "once."},
	{"preview", cmd_preview, PF_OPEN_READONLY,
	 "preview GUEST [reservation|check_in|check_out|room_change] [same options]",
	 "Print the prompts that an event (check_in unless named) would make for\n"
	 "GUEST with the given options, without storing anything: a look ahead as\n"
	 "the guest walks in, or a way to try a new rule book."},
	{"prompts", cmd_prompts, PF_OPEN_READONLY, "prompts DEPT",
	 "Print department DEPT's open work list (pending and acknowledged\n"
	 "prompts), earliest due first, then by priority.  The first column is the\n"
	 "prompt's short id, which ack, done and dismiss take as PROMPT."},
	{"overdue", cmd_overdue, PF_OPEN_READONLY, "overdue [DEPT]",
	 "Print the open prompts whose due time has passed, with how late each one\n"
	 "is, for every department or only DEPT: the service omissions still in the\n"
	 "making."},
	{"ack", cmd_ack, 0, "ack PROMPT STAFF",
	 "Mark PROMPT as acknowledged by STAFF: seen, and being handled.  PROMPT is\n"
	 "a prompt id or the last 6 or more hex digits of an open one."},
	{"done", cmd_done, 0, "done PROMPT STAFF",
	 "Mark PROMPT as carried out by STAFF.  PROMPT is a prompt id or the last\n"
	 "6 or more hex digits of an open one."},
	{"dismiss", cmd_dismiss, 0, "dismiss PROMPT STAFF REASON",
	 "Mark PROMPT as not to be carried out, with STAFF's REASON (for example\n"
	 "\"out of stock\"): it leaves the work list, and the quality report counts\n"
	 "it as never done.  PROMPT is a prompt id or the last 6 or more hex\n"
	 "digits of an open one."},
	{"complaint", cmd_complaint, 0,
	 "complaint GUEST DEPT CATEGORY TEXT --by STAFF [--severity 1|2|3]\n"
	 "                 [--stay ARRIVAL] [--need CAT=V | --dislike CAT=V]",
	 "Record GUEST's complaint about department DEPT (CATEGORY such as noise or\n"
	 "food), taken by STAFF.  It is due by the end of the hotel's business day\n"
	 "(noon the next day if made after 22:00, in PF_TZ time) and prompts DEPT\n"
	 "and management.  --stay ties it to the stay that arrived on ARRIVAL;\n"
	 "--need or --dislike also records that preference on the profile, in the\n"
	 "same transaction."},
	{"compliment", cmd_compliment, 0, "compliment GUEST DEPT CATEGORY TEXT --by STAFF",
	 "Record GUEST's compliment for department DEPT, taken by STAFF.  It counts\n"
	 "in the quality report and stays with the guest's feedback."},
	{"suggestion", cmd_suggestion, 0, "suggestion GUEST DEPT CATEGORY TEXT --by STAFF",
	 "Record GUEST's suggestion for department DEPT, taken by STAFF.  It counts\n"
	 "in the quality report and stays with the guest's feedback."},
	{"feedback", cmd_feedback, PF_OPEN_READONLY, "feedback [GUEST] [--status S]",
	 "Print the complaints, compliments and suggestions of GUEST (or of every\n"
	 "guest), oldest first, with their status, due time and follow-up outcome\n"
	 "in the hotel's time.  --status keeps only open, in_progress, resolved or\n"
	 "closed_unresolved ones.  The first column is the short id that update,\n"
	 "resolve and followup take as FEEDBACK."},
	{"update", cmd_update, 0, "update FEEDBACK in_progress|closed_unresolved STAFF [NOTE]",
	 "Move FEEDBACK to in_progress (being looked into) or closed_unresolved\n"
	 "(closed without a fix), by STAFF, with an optional NOTE.  FEEDBACK is a\n"
	 "feedback id or its last 6 or more hex digits."},
	{"resolve", cmd_resolve, 0, "resolve FEEDBACK STAFF RESOLUTION",
	 "Record that STAFF put FEEDBACK right, and how.  The output says whether a\n"
	 "complaint was resolved within the sunset rule, and a call-back prompt\n"
	 "goes to front_office to ask the guest whether they are satisfied."},
	{"followup", cmd_followup, 0, "followup FEEDBACK STAFF satisfied|not_satisfied",
	 "Record the outcome of the call-back after FEEDBACK was resolved, which\n"
	 "closes the loop.  A guest who was not satisfied is marked so on the\n"
	 "profile, where rules can see it."},
	{"report", cmd_report, PF_OPEN_READONLY,
	 "report --from YYYY-MM-DD --to YYYY-MM-DD [--html FILE]",
	 "Print the service-quality figures for the hotel days from --from to --to\n"
	 "(both included, in PF_TZ time): per department, the prompts done on time,\n"
	 "late or never, and the omission rate; the complaints per 100 stays, the\n"
	 "share resolved by sunset, the median time to fix, and the follow-ups.\n"
	 "--html also writes FILE, a self-contained page (no script, nothing loaded\n"
	 "from elsewhere) charting the omission rate, complaints per 100 stays and\n"
	 "share resolved by sunset per department and day by day, with the same\n"
	 "figures in tables."},
	{"duplicates", cmd_duplicates, PF_OPEN_READONLY, "duplicates GUEST",
	 "List the profiles that are likely the same person as GUEST, with a score\n"
	 "and why (same e-mail, phone or loyalty number, same name and birth date,\n"
	 "a similar name).  Merge one with `merge`, or record that they differ with\n"
	 "`not-duplicate`."},
	{"not-duplicate", cmd_not_duplicate, 0, "not-duplicate GUEST OTHER",
	 "Record that GUEST and OTHER are different people, so that `duplicates`\n"
	 "never suggests the pair again."},
	{"merge", cmd_merge, 0, "merge KEEP DUPLICATE",
	 "Merge the profile DUPLICATE into KEEP: preferences, stays, prompts,\n"
	 "events and feedback move to KEEP, and DUPLICATE goes away.  Prints a merge\n"
	 "id with which `unmerge` undoes it."},
	{"unmerge", cmd_unmerge, 0, "unmerge MERGE_ID",
	 "Undo the merge MERGE_ID (as `merge` printed it): both profiles come back\n"
	 "exactly as they were before it, keeping changes made to the kept profile\n"
	 "since."},
	{"erase", cmd_erase, 0, "erase GUEST",
	 "Erase GUEST (the right to be forgotten): the profile, preferences and\n"
	 "stays are removed, and the personal text of their prompts, feedback and\n"
	 "journal entries is replaced by [erased].  To remove the bytes from the\n"
	 "data file too, stop every process, `compact` into a new directory and\n"
	 "swap it in."},
	{"compact", cmd_compact, PF_OPEN_READONLY, "compact DIR",
	 "Copy only the live records of the database into DIR (new or empty), one\n"
	 "by one, so that nothing of an erased guest survives in the copy.  Open it\n"
	 "with -d DIR to check it, then swap the directories while nothing has the\n"
	 "database open."},
	{"verify", cmd_verify, CMD_OPENS_ITSELF, "verify",
	 "Check the whole database (pf_verify): every record decodes, every index\n"
	 "entry points at a record that carries it and every record has its\n"
	 "entries, guests' stay and complaint counters agree with their stays and\n"
	 "feedback.  The check runs in a child process: a data file damaged in a\n"
	 "way LMDB cannot survive is reported instead of killing frontdesk.  Exit\n"
	 "status 0 when clean, 1 when anything is wrong."},
	{"backup", cmd_backup, PF_OPEN_READONLY, "backup DIR",
	 "Write a consistent copy of the database into DIR (new or empty) while\n"
	 "other processes keep writing.  To restore, open the copy with -d DIR, or\n"
	 "move it into place while nothing has the database open.  After an\n"
	 "erasure, use `compact` instead."},
	{"consent", cmd_consent, 0, "consent GUEST profiling|marketing|none... [--by ACTOR]",
	 "Set what GUEST agreed to: profiling (observed likes and dislikes may make\n"
	 "prompts), marketing (the guest may be sent offers), both, or none.  The\n"
	 "change is journaled with ACTOR."},
	{"retention", cmd_retention, 0, "retention DAYS [--by ACTOR]",
	 "Anonymise every profile with no stay (or, without stays, created) more\n"
	 "than DAYS days ago: the name becomes [anonymised], contacts, birth date,\n"
	 "tags and preferences are removed; the id, stays and counters stay so the\n"
	 "figures remain right.  Prints how many profiles were examined and\n"
	 "anonymised."},
	{"sync", cmd_sync, 0,
	 "sync --nats URL --chain NAME [--follow [--interval MS]] [--timeout MS]\n"
	 "                 [--max N]",
	 "Exchange this property's changes with the other properties of hotel chain\n"
	 "NAME through the NATS server at URL (nats://HOST:PORT, with JetStream):\n"
	 "publish the profiles, preferences, stays and feedback changed here since\n"
	 "the last sync (at most --max), then apply what the others published, and\n"
	 "print \"pushed N, pulled M, applied K\" with what the rest were.  --follow\n"
	 "keeps syncing in the background, whenever something changes here and every\n"
	 "--interval MS (default 1000) to pull, printing the totals as they change,\n"
	 "until Ctrl-C or SIGTERM.  --timeout bounds the connect and each request\n"
	 "(default 2000 ms).  The database needs a property name (the global\n"
	 "--property option, stored the first time); a server that cannot be\n"
	 "reached is an error, and nothing is lost: the next sync catches up."},
	{"digest", cmd_digest, PF_OPEN_READONLY, "digest",
	 "Print the SHA-256 digest (64 hex digits) of the state the properties of a\n"
	 "chain share: guest profiles, preferences, stays and feedback, but not the\n"
	 "rule book, prompts or journal, which each property keeps for itself.  Two\n"
	 "properties that print the same digest hold the same guests."},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* `help` is not in the table (it needs no database), but `help help`
 * describes it like any other command. */
static const struct command help_command = {
	"help", NULL, 0, "help [COMMAND]",
	"Without COMMAND, list every command with a line about it; with one, print\n"
	"that command's usage and what it does.  `" PROG " COMMAND --help` (or -h)\n"
	"prints the same.  Neither needs a database."};

const struct command *find_command(const char *name)
{
	if (!strcmp(name, help_command.name))
		return &help_command;
	for (size_t k = 0; k < NCOMMANDS; k++)
		if (!strcmp(commands[k].name, name))
			return &commands[k];
	return NULL;
}

void command_help(const struct command *cmd)
{
	printf("usage: " PROG " %s\n\n%s\n", cmd->usage, cmd->about);
}

void usage(FILE *f)
{
	fputs(
"usage: " PROG " [-d DIR] [--property NAME] COMMAND [ARGS]\n"
"       " PROG " help [COMMAND]        (or " PROG " COMMAND --help)\n"
"       " PROG " --version\n"
"\n"
"The front desk's view of libprofile guest profiles and service prompts.\n"
"\n"
"Guests\n"
"  add NAME [--email E] [--phone P] [--lang L] [--country CODE] [--loyalty N]\n"
"           [--tier T] [--tag T]... [--birth YYYY-MM-DD] [--no-profiling]\n"
"                              create a guest; tiers: none silver gold platinum vip\n"
"  find QUERY                  by e-mail, phone, loyalty no. or start of a name\n"
"  show GUEST                  profile, preferences and stays\n"
"  history GUEST [--since SEQ] every recorded change concerning the guest (journal)\n"
"  export GUEST                everything held about the guest, as JSON\n"
"  import FILE.csv|FILE.jsonl [--by DEPT] [--batch N] [--format csv|jsonl]\n"
"                              load guests and preferences; re-running is safe;\n"
"                              rejected rows are listed with their line\n"
"  export-all FILE.jsonl|FILE.csv [--format csv|jsonl]\n"
"                              every guest and preferences, in the import format\n"
"  pref GUEST CATEGORY VALUE --by DEPT [--staff S] [--note N] [--dislike|--need]\n"
"                              record what a department observed (a like by default)\n"
"  unpref GUEST CATEGORY       forget a preference\n"
"  stay GUEST ARRIVAL DEPARTURE [--room R] [--property P] [--party N]\n"
"                              record a past or current stay\n"
"\n"
"Rule book\n"
"  rules load FILE             replace the rule book (all or nothing)\n"
"  rules list [--source]       rule names, or their full text\n"
"  rules clear                 remove every rule (no prompts until the next load)\n"
"\n"
"Events\n"
"  reserve GUEST EVENT_ID [--arrival D] [--departure D] [--room R] [--party N]\n"
"                              [--property P]\n"
"                              a booking: send its prompts to the departments\n"
"  checkin GUEST EVENT_ID [same options]\n"
"                              a check-in at the desk: prompts, the stay is\n"
"                              recorded, the kiosk's welcome is dismissed\n"
"  preview GUEST [reservation|check_in|check_out|room_change] [same options]\n"
"                              the prompts an event would make; nothing stored\n"
"                              (default: check_in)\n"
"\n"
"Prompts\n"
"  prompts DEPT                the department's open work list, earliest due first\n"
"  overdue [DEPT]              open prompts past their due time\n"
"  ack PROMPT STAFF            seen, being handled\n"
"  done PROMPT STAFF           carried out\n"
"  dismiss PROMPT STAFF REASON\n"
"                              will not be carried out, and why\n"
"\n"
"Complaints and feedback\n"
"  complaint GUEST DEPT CATEGORY TEXT --by STAFF [--severity 1|2|3]\n"
"            [--stay ARRIVAL] [--need CAT=V | --dislike CAT=V]\n"
"                              due by the end of the business day (noon next day\n"
"                              after 22:00); prompts DEPT and management; --need /\n"
"                              --dislike also records that on the profile\n"
"  compliment | suggestion GUEST DEPT CATEGORY TEXT --by STAFF\n"
"  feedback [GUEST] [--status S]\n"
"                              feedback of a guest (or all), oldest first\n"
"  update FEEDBACK in_progress|closed_unresolved STAFF [NOTE]\n"
"  resolve FEEDBACK STAFF RESOLUTION\n"
"                              resolved; a call-back prompt goes to front_office\n"
"  followup FEEDBACK STAFF satisfied|not_satisfied\n"
"                              the call-back's outcome closes the loop\n"
"  report --from YYYY-MM-DD --to YYYY-MM-DD\n"
"                              service-quality figures for those hotel days\n"
"\n"
"Data management\n"
"  duplicates GUEST            likely duplicate profiles, with a score and why\n"
"  not-duplicate GUEST OTHER   never suggest these two as duplicates again\n"
"  merge KEEP DUPLICATE        merge DUPLICATE into KEEP; prints a merge id\n"
"  unmerge MERGE_ID            undo a merge: both profiles back as they were\n"
"  erase GUEST                 right to be forgotten (then compact and swap)\n"
"  compact DIR                 copy only live records into a new directory\n"
"  backup DIR                  consistent hot copy while others keep writing\n"
"  verify                      check every record and index (in a child process)\n"
"  consent GUEST profiling|marketing|none... [--by ACTOR]\n"
"                              change consent (journaled)\n"
"  retention DAYS [--by ACTOR] anonymise profiles with no stay for DAYS days\n"
"\n"
"Hotel chain (the database named with --property)\n"
"  sync --nats URL --chain NAME [--follow [--interval MS]] [--timeout MS]\n"
"       [--max N]\n"
"                              exchange changes with the chain's other properties\n"
"                              over NATS: once, or until Ctrl-C with --follow\n"
"  digest                      the shared state's digest: equal at two properties\n"
"                              when they hold the same guests\n"
"\n"
"GUEST is a guest id, or an e-mail, phone, loyalty number or name that\n"
"matches exactly one guest.  PROMPT is a prompt id or the last 6 or more\n"
"hex digits of an open one, as `prompts` shows them; FEEDBACK likewise, as\n"
"`feedback` shows them.  Dates are YYYY-MM-DD; times are shown in UTC, except\n"
"where a column says \"local\" (the hotel's time, PF_TZ).  EVENT_ID is your\n"
"reservation or transaction id:\n"
"sending the same one twice does the work once, so a reservation and its\n"
"check-in need different ids.  An option value that is itself --help or -h\n"
"is written --note=--help.\n"
"\n"
"Options\n"
"  -d DIR       the database directory (else $PF_DB: one of them is required)\n"
"  --property NAME\n"
"               this property's name in its hotel chain (a-z, 0-9, - and _):\n"
"               stored by the first command that writes, refused if the\n"
"               database already has another\n"
"  -h, --help   this help; `" PROG " help COMMAND` describes one command\n"
"  --version    which libprofile this " PROG " is built with\n"
"\n"
"Environment\n"
"  PF_DB    the database directory, when -d is not given\n"
"  PF_NOW   fixed clock: \"2026-11-23T09:00:00Z\" or epoch seconds (reproducible demos)\n"
"  PF_TZ    the hotel's time zone, for complaint due times and reports: a zone\n"
"           name such as Asia/Macau, or an offset such as +08:00 (default UTC)\n"
"\n"
"Exit status: 0 done, 1 failed (also when the output could not be written),\n"
"2 bad command line.\n", f);
}

/* ------------------------------------------------------------------ */
/* help [COMMAND] and COMMAND --help                                    */
/* ------------------------------------------------------------------ */

/* `COMMAND --help` or `COMMAND -h` anywhere before a `--`.  Checked
 * before the database is opened, so that asking for help needs none; the
 * price is that an option value equal to --help or -h must be attached
 * with '=' (--note=-h). */
int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/* `help [COMMAND]`: argv holds what follows "help". */
int help(int argc, char **argv)
{
	if (argc == 0) {
		usage(stdout);
		return 0;
	}
	if (wants_help(argc, argv)) {
		command_help(&help_command);
		return 0;
	}
	if (argc > 1)
		return usage_error(&help_command, "help takes one COMMAND, not %d words", argc);
	const struct command *cmd = find_command(argv[0]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[0]);
	command_help(cmd);
	return 0;
}
