/*
 * import.c — bulk import of guests and their preferences: the public
 * pf_import_csv, pf_import_jsonl and pf_import_report_free, and the batch
 * engine under both readers (import_csv.c, import_jsonl.c).  The file
 * formats are specified in libprofile.h; import.h says which file of the
 * import owns what.
 *
 * Every row is converted and validated completely (import_row.c) before
 * anything is written; good rows are written batch_size at a time, one
 * write transaction per batch, committed without the meta page's sync
 * (pf_store_write_nometasync) and made durable by one pf_store_sync
 * before the import returns.  A row that only the stored data can refuse
 * (e.g. an external id that belongs to another guest) is set aside inside
 * its batch when it is found before it writes, as it almost always is; a
 * batch that fails as a whole is redone row by row, so a bad row costs
 * only itself.
 * Each guest created or changed is journaled as "import.row"; the report
 * counts the rows and lists the rejected ones in file order.
 *
 * May call: import_row.c, import_csv.c, import_jsonl.c, guest.c
 * (pf_guest_load, pf_guest_load_if, pf_guest_find_by_contact,
 * pf_contact_key, pf_guest_reindex, pf_guest_save), pref.c (the sorted
 * preference array), codec.c (comparing records), store.c (pf_store_write:
 * the transactions; no database of its own), journal.c
 * (pf_journal_append), text.c, id.c, error.c.
 */
#include "import.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "pref.h"
#include "journal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Rows per write transaction.  Larger batches share the copied B-tree
 * pages among more rows (random ids touch a different leaf per row) and
 * flush less often: importing 200k guests to a disk, 18.3k rows/s at
 * 10,000 against 12.1k at 1,000.  The price is memory for the batch's
 * dirty pages: a peak of 198 MB anonymous memory importing 1M guests
 * (33 MB at 1,000), under LMDB's dirty-page limit (MDB_IDL_UM_MAX pages,
 * 512 MiB), past which it would spill pages to the file. */
#define BATCH_DEFAULT 10000
/* Preferences detailed in one "import.row" journal entry (4 fields each,
 * within PF_JOURNAL_FIELDS_MAX with the profile fields). */
#define JOURNAL_PREFS_MAX 240
#define JOURNAL_FIELDS_MAX (4 + 2 * PF_JOURNAL_GUEST_FIELDS + 4 * JOURNAL_PREFS_MAX + 1)

static int add_reject(imp *im, uint64_t line, const char *why)
{
	pf_import_report *rep = im->rep;
	if (rep->reject_count == im->rej_cap) {
		size_t cap = im->rej_cap ? 2 * im->rej_cap : 16;
		pf_import_reject *v = realloc(rep->rejects, cap * sizeof *v);
		if (!v)
			return pf_fail(PF_ENOMEM, "out of memory");
		rep->rejects = v;
		im->rej_cap = cap;
	}
	/* Library messages may quote text cut mid-character: keep the
	 * longest valid prefix so the report is always UTF-8. */
	size_t n = strnlen(why, REASON_MAX);
	while (n && !pf_utf8_valid(why, n))
		n--;
	char *s = pf_imp_dupn(why, n);
	if (!s)
		return pf_fail(PF_ENOMEM, "out of memory");
	rep->rejects[rep->reject_count++] = (pf_import_reject){ line, s };
	rep->rejected++;
	/* The detail of the last failure is the reason too: whatever a check
	 * left there (a library message may quote what it refused) goes. */
	pf_fail(PF_EINVAL, "%s:%llu: %s", im->path, (unsigned long long)line, s);
	return 0;
}

int pf_imp_reject(imp *im, uint64_t line, const char *why)
{
	im->rep->rows++;
	return add_reject(im, line, why);
}

/* The write-time failure of a row that is the import's own finding:
 * the reason goes to im->write_why (see flush). */
static int write_reason(imp *im, int code, const char *fmt, ...) PF_PRINTF(3, 4);

static int write_reason(imp *im, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(im->write_why, sizeof im->write_why, fmt, ap);
	va_end(ap);
	return code;
}

/* The guest holding external id `ext`, through guest.c's contact index. */
static int ext_lookup(MDB_txn *txn, imp *im, const char *ext, pf_id *out, bool *found)
{
	unsigned char key[2 + PF_FIELD_MAX];
	size_t n = strlen(ext);
	*found = false;
	if (n > PF_FIELD_MAX)
		return write_reason(im, PF_EINVAL, "external_id is longer than %d bytes",
		                    PF_FIELD_MAX);
	return pf_guest_find_by_contact(txn, im->db, key, pf_contact_key(key, 'x', ext, n), out,
	                                found);
}

static int replace_tags(pf_guest_rec *nr, char *const *tags, size_t n)
{
	char **t = NULL;
	if (n) {
		if (!(t = calloc(n, sizeof *t)))
			return PF_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			if (!(t[i] = strdup(tags[i]))) {
				for (size_t j = 0; j < i; j++)
					free(t[j]);
				free(t);
				return PF_ENOMEM;
			}
		}
	}
	for (size_t i = 0; i < nr->g.tag_count; i++)
		free(nr->tags[i]);
	free(nr->tags);
	nr->tags = t;
	nr->g.tags = (const char *const *)t;
	nr->g.tag_count = n;
	return 0;
}

static int text_field(const char **dst, int st, const char *v)
{
	if (st == ABSENT)
		return 0;
	return pf_str_set(dst, st == SET ? v : NULL);
}

/* The row's profile fields onto the record; absent fields are kept. */
static int set_profile(pf_guest_rec *nr, const irow *r)
{
	pf_guest *g = &nr->g;
	if (pf_str_set(&g->name, r->name) ||
	    text_field(&g->email, r->st_email, r->email) ||
	    text_field(&g->phone, r->st_phone, r->phone) ||
	    text_field(&g->language, r->st_lang, r->language) ||
	    text_field(&g->loyalty_no, r->st_loyalty, r->loyalty) ||
	    (r->ext && pf_str_set(&g->external_id, r->ext)) ||
	    (r->st_country == SET && pf_str_set(&g->country, r->country)))
		return PF_ENOMEM;
	if (r->st_tier != ABSENT)
		g->tier = r->st_tier == SET ? r->tier : PF_TIER_NONE;
	if (r->st_birth != ABSENT)
		g->birth_date = r->st_birth == SET ? r->birth : 0;
	if (r->st_consent == SET)
		g->consent = r->consent;
	if (r->st_tags != ABSENT && replace_tags(nr, r->tags, r->st_tags == SET ? r->ntags : 0))
		return PF_ENOMEM;
	return 0;
}

/*
 * The row's preferences onto the record.  The same value and kind again
 * changes nothing (a re-import is idempotent; only a new note is taken);
 * a different value or kind replaces the preference as a new observation
 * by the import's department.  Preferences the row does not name stay.
 */
static int set_prefs(pf_guest_rec *nr, irow *r, imp *im)
{
	for (size_t i = 0; i < r->npref; i++) {
		ipref *p = &r->prefs[i];
		bool found;
		size_t pos = pf_guest_rec_pref_find(nr, p->category, &found);
		p->changed = false;
		if (found) {
			pf_pref *ex = &nr->prefs[pos];
			if (strcmp(ex->value, p->value) == 0 && ex->kind == p->kind) {
				if (p->note && (!ex->note || strcmp(ex->note, p->note) != 0)) {
					if (pf_str_set(&ex->note, p->note))
						return PF_ENOMEM;
					p->changed = true;
				}
				continue;
			}
			if (pf_str_set(&ex->value, p->value) ||
			    pf_str_set(&ex->department, im->dept) ||
			    pf_str_set(&ex->staff, NULL) || pf_str_set(&ex->note, p->note))
				return PF_ENOMEM;
			ex->kind = p->kind;
			ex->count = 1;
			ex->first_seen = ex->last_seen = im->now;
			p->changed = true;
			continue;
		}
		if (nr->g.pref_count >= PF_PREFS_MAX)
			return write_reason(im, PF_EINVAL, "the guest already has %d preferences; "
			                    "'%s' does not fit", PF_PREFS_MAX, p->category);
		pf_pref np = { 0 };
		np.category = strdup(p->category);
		np.value = strdup(p->value);
		np.department = strdup(im->dept);
		np.note = p->note ? strdup(p->note) : NULL;
		if (!np.category || !np.value || !np.department || (p->note && !np.note)) {
			free((void *)np.category);
			free((void *)np.value);
			free((void *)np.department);
			free((void *)np.note);
			return PF_ENOMEM;
		}
		np.kind = p->kind;
		np.count = 1;
		np.first_seen = np.last_seen = im->now;
		if (pf_guest_rec_pref_insert(nr, pos, &np)) {
			pf_pref_clear(&np);
			return PF_ENOMEM;
		}
		p->changed = true;
	}
	return 0;
}

/* Whether two records encode to the same bytes. */
static int same_record(const pf_guest_rec *a, const pf_guest_rec *b, bool *same)
{
	msgpack_sbuffer sa, sb;
	msgpack_sbuffer_init(&sa);
	msgpack_sbuffer_init(&sb);
	int rc = pf_codec_guest_encode(&sa, a);
	if (!rc)
		rc = pf_codec_guest_encode(&sb, b);
	if (!rc)
		*same = sa.size == sb.size && memcmp(sa.data, sb.data, sa.size) == 0;
	msgpack_sbuffer_destroy(&sa);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* ---- the journal entry of one row ---- */

/*
 * "import.row": ref = the file's base name; fields "line", "action"
 * (created/updated), every profile field that changed (new value, and
 * "<field>.old" on an update, as guest.put journals them), then for each
 * preference written "pref" (category), "value", "kind" and "note".
 * Field names follow the journal's erasure list, so pf_guest_erase can
 * blank the personal values.
 */
static int journal_row(MDB_txn *txn, imp *im, const irow *r, const pf_guest_rec *old,
                       const pf_guest_rec *nr)
{
	char line[24], more[24];
	size_t n = 0, shown = 0, skipped = 0;

	/* The fields' array (16 KiB) and text (8 KiB) once per import, not
	 * once per row: clearing them per row cost a tenth of the import. */
	if (!im->jfields &&
	    !(im->jfields = malloc(JOURNAL_FIELDS_MAX * sizeof *im->jfields)))
		return pf_fail(PF_ENOMEM, "out of memory");
	if (!im->jtext && !(im->jtext = malloc(sizeof *im->jtext)))
		return pf_fail(PF_ENOMEM, "out of memory");
	pf_journal_field *f = im->jfields;
	snprintf(line, sizeof line, "%llu", (unsigned long long)r->line);
	f[n++] = (pf_journal_field){ "line", line };
	f[n++] = (pf_journal_field){ "action", old ? "updated" : "created" };
	n += pf_journal_guest_fields(f + n, old, nr, im->jtext);
	for (size_t i = 0; i < r->npref; i++) {
		const ipref *p = &r->prefs[i];
		if (!p->changed)
			continue;
		if (shown == JOURNAL_PREFS_MAX) {
			skipped++;
			continue;
		}
		shown++;
		f[n++] = (pf_journal_field){ "pref", p->category };
		f[n++] = (pf_journal_field){ "value", p->value };
		/* "like", the usual kind, goes without saying: a tenth of an
		 * imported guest's bytes on disk was this field. */
		if (p->kind != PF_LIKE)
			f[n++] = (pf_journal_field){ "kind", pf_pref_kind_name(p->kind) };
		if (p->note)
			f[n++] = (pf_journal_field){ "note", p->note };
	}
	if (skipped) {
		snprintf(more, sizeof more, "%zu", skipped);
		f[n++] = (pf_journal_field){ "prefs.more", more };
	}
	pf_jentry e = { .op = "import.row", .actor = im->dept, .guest = nr->g.id,
	                .ref = im->source, .fields = f, .field_count = n };
	return pf_journal_append(txn, im->db, &e);
}

/*
 * Write one row inside the batch's transaction.  The guest is found by
 * external_id, else by id; a row naming neither an existing guest creates
 * one (with the row's id if it gave one).  A row that changes nothing
 * writes nothing (and journals nothing): a re-import leaves the stored
 * bytes as they were.
 */
static int apply_row(MDB_txn *txn, imp *im, irow *r, bool *wrote)
{
	pf_guest_rec *old = NULL, *nr = NULL;
	pf_id target = { { 0 } };
	bool found = false;
	int rc = 0;

	r->outcome = OUT_NONE;
	if (r->ext && (rc = ext_lookup(txn, im, r->ext, &target, &found)))
		goto out;
	if (found && r->has_id && memcmp(&target, &r->id, sizeof(pf_id)) != 0) {
		char a[PF_ID_STRLEN + 1], b[PF_ID_STRLEN + 1];
		pf_id_format(a, &target);
		pf_id_format(b, &r->id);
		rc = write_reason(im, PF_EEXIST, "%s: the external id belongs to guest %s, not "
		                  "to the row's id %s", im->ext_at, a, b);
		goto out;
	}
	/* Two decodes: `old` stays as stored, for the indexes, the comparison
	 * and the journal. */
	if (found)
		rc = pf_guest_load(&old, txn, im->db, &target);
	else if (r->has_id && (rc = pf_guest_load_if(&old, txn, im->db, &r->id, &found)) == 0)
		target = r->id;
	if (rc)
		goto out;
	if (found) {
		if ((rc = pf_guest_load(&nr, txn, im->db, &target)))
			goto out;
	} else {
		if (!(nr = calloc(1, sizeof *nr))) {
			rc = PF_ENOMEM;
			goto nomem;
		}
		nr->g.id = r->id;
		nr->g.created = nr->g.updated = im->now;
		nr->g.consent = PF_CONSENT_PROFILING;
	}
	if ((rc = set_profile(nr, r)))
		goto nomem;
	if ((rc = set_prefs(nr, r, im))) {
		if (rc == PF_ENOMEM)
			goto nomem;
		goto out;
	}
	if (old) {
		bool same = false;
		nr->g.updated = old->g.updated;
		if ((rc = same_record(old, nr, &same)))
			goto out;
		if (same) {
			r->outcome = OUT_UPDATED;
			goto out;
		}
		nr->g.updated = im->now;
	}
	/* From here on the row has written to the transaction: a failure
	 * can no longer be the row's alone (see batch_txn). */
	*wrote = true;
	if ((rc = pf_guest_reindex(txn, im->db, old, nr)) ||
	    (rc = pf_guest_save(txn, im->db, nr)) ||
	    (rc = journal_row(txn, im, r, old, nr)))
		goto out;
	r->outcome = old ? OUT_UPDATED : OUT_CREATED;
	goto out;
nomem:
	rc = pf_fail(PF_ENOMEM, "out of memory");
out:
	pf_guest_rec_free(old);
	pf_guest_rec_free(nr);
	return rc;
}

struct batch_arg {
	imp *im;
	irow *rows;
	size_t n;
};

/* Failures that belong to one row; anything else (disk full, I/O, out of
 * memory, read-only) ends the import. */
static bool row_failure(int rc)
{
	return rc == PF_EINVAL || rc == PF_EEXIST || rc == PF_ECORRUPT || rc == PF_ENOTFOUND;
}

/* The reason of a row refused at write time: the import's own finding,
 * else what the library said (e.g. a stored record that does not decode),
 * as it said it. */
static void write_failure(imp *im, char why[REASON_MAX])
{
	snprintf(why, REASON_MAX, "%s", im->write_why[0] ? im->write_why : pf_errmsg());
}

/*
 * The rows of one batch in one transaction.  A row that only the stored
 * data can refuse (an external id held by another guest, too many
 * preferences, a stored record that does not decode) is almost always
 * refused before it writes anything: it is then set aside with its reason
 * and the batch goes on, so one bad row does not cost the batch.  A row
 * that fails after writing (rare) fails the transaction, and flush redoes
 * the batch row by row.
 */
static int batch_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct batch_arg *a = arg;
	(void)db;
	/* The transaction may run again after the map grows: start clean. */
	for (size_t i = 0; i < a->n; i++) {
		a->rows[i].outcome = OUT_NONE;
		free(a->rows[i].why);
		a->rows[i].why = NULL;
	}
	for (size_t i = 0; i < a->n; i++) {
		bool wrote = false;
		a->im->write_why[0] = '\0';
		int rc = apply_row(txn, a->im, &a->rows[i], &wrote);
		if (rc == 0)
			continue;
		if (wrote || !row_failure(rc))
			return rc;
		char why[REASON_MAX];
		write_failure(a->im, why);
		a->rows[i].outcome = OUT_NONE;
		if (!(a->rows[i].why = strdup(why)))
			return pf_fail(PF_ENOMEM, "out of memory");
	}
	return 0;
}

static void report_progress(imp *im, uint64_t done, bool last)
{
	if (!im->progress || im->stop)
		return;
	if (im->total < done || (last && im->total != done))
		im->total = done;   /* the pre-count was short: never past 100% */
	im->reported = done;
	if (im->progress(done, im->total, im->payload) != 0)
		im->stop = true;
	/* The callback may have called the library: the import's name again. */
	pf_api_enter(im->fn);
}

/*
 * Write the pending batch, then report progress.  Batches commit without
 * the meta page's sync (pf_store_write_nometasync: the database stays
 * intact after a power loss, which may undo the last batches); imp_end
 * syncs once before the import returns.
 */
static int flush(imp *im)
{
	if (im->nbatch == 0)
		return 0;
	struct batch_arg a = { im, im->batch, im->nbatch };
	int rc = pf_store_write_nometasync(im->db, batch_txn, &a);
	if (rc == 0)
		im->unsynced = true;
	if (rc && row_failure(rc)) {
		/* A row failed after writing: redo the batch one row per
		 * transaction, so the others still go in. */
		for (size_t i = 0; i < im->nbatch; i++) {
			struct batch_arg one = { im, &im->batch[i], 1 };
			rc = pf_store_write_nometasync(im->db, batch_txn, &one);
			if (rc == 0) {
				im->unsynced = true;
				continue;
			}
			if (!row_failure(rc))
				break;
			im->batch[i].outcome = OUT_NONE;
			char why[REASON_MAX];
			write_failure(im, why);
			if ((rc = add_reject(im, im->batch[i].line, why)))
				break;
		}
	}
	for (size_t i = 0; i < im->nbatch; i++) {
		irow *r = &im->batch[i];
		if (rc == 0 && r->why && (rc = add_reject(im, r->line, r->why)) == 0)
			continue;
		if (r->outcome == OUT_CREATED)
			im->rep->created++;
		else if (r->outcome == OUT_UPDATED)
			im->rep->updated++;
	}
	for (size_t i = 0; i < im->nbatch; i++)
		pf_imp_row_clear(&im->batch[i]);
	im->nbatch = 0;
	if (rc)
		return rc;
	report_progress(im, im->rep->rows, false);
	return 0;
}

/* Room in the batch for one more row.  The array grows with the batch,
 * so a huge batch_size costs memory only when there are that many rows. */
static int batch_room(imp *im)
{
	if (im->nbatch < im->batch_cap)
		return 0;
	size_t n = im->batch_cap ? 2 * im->batch_cap : 64;
	if (n > im->batch_size)
		n = im->batch_size;
	irow *b = realloc(im->batch, n * sizeof *b);
	if (!b)
		return pf_fail(PF_ENOMEM, "out of memory");
	im->batch = b;
	im->batch_cap = n;
	return 0;
}

int pf_imp_row_done(imp *im, irow *r, int conv, const char *why_conv)
{
	char why[REASON_MAX];
	int rc = conv;
	im->rep->rows++;
	if (rc == PF_ENOMEM) {
		pf_imp_row_clear(r);
		return pf_fail(PF_ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = pf_imp_validate(r, &im->w, why);
	else
		snprintf(why, sizeof why, "%s", why_conv);
	if (rc) {
		uint64_t line = r->line;
		pf_imp_row_clear(r);
		return add_reject(im, line, why);
	}
	if ((rc = batch_room(im))) {
		pf_imp_row_clear(r);
		return rc;
	}
	if (!r->has_id)
		pf_id_generate(&r->id);   /* before the write: a retry reuses it */
	im->batch[im->nbatch++] = *r;
	memset(r, 0, sizeof *r);
	if (im->nbatch == im->batch_size)
		return flush(im);
	return 0;
}

static int bad_path_err(const char *path, int err)
{
	int code = err == ENOENT || err == ENOTDIR ? PF_ENOTFOUND :
	           err == ENOMEM ? PF_ENOMEM : PF_EIO;
	return pf_fail(code, "cannot read '%s': %s", path, strerror(err));
}

static int open_input(FILE **out, const char *path, bool *regular)
{
	struct stat st;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return bad_path_err(path, errno);
	if (fstat(fileno(f), &st) != 0) {
		int e = errno;
		fclose(f);
		return bad_path_err(path, e);
	}
	if (S_ISDIR(st.st_mode)) {
		fclose(f);
		return pf_fail(PF_EINVAL, "'%s' is a directory", path);
	}
	*regular = S_ISREG(st.st_mode);
	*out = f;
	return 0;
}

static int imp_begin(imp *im, pf_import_report **out, pf_db *db, const char *path,
                     const pf_import_options *opts, const char *fn)
{
	memset(im, 0, sizeof *im);
	im->fn = fn;
	snprintf(im->ext_at, sizeof im->ext_at, "field 'external_id'");
	if (!out)
		return pf_fail(PF_EINVAL, "out is NULL");
	*out = NULL;
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if (!path || !*path)
		return pf_fail(PF_EINVAL, "path is NULL or empty");
	if (opts && opts->version != PF_IMPORT_OPTIONS_VERSION)
		return pf_fail(PF_EINVAL, "unknown options version %u (expected %d)",
		               opts->version, PF_IMPORT_OPTIONS_VERSION);
	im->dept = opts && opts->department ? opts->department : "import";
	if (pf_check_word("department", im->dept))
		return PF_EINVAL;
	/* Refused before the file is read, not after every row failed. */
	if (db->opts.flags & PF_OPEN_READONLY)
		return pf_fail(PF_EREADONLY, "the database was opened read-only");
	im->db = db;
	im->path = path;
	im->batch_size = opts && opts->batch_size ? opts->batch_size : BATCH_DEFAULT;
	im->progress = opts ? opts->progress : NULL;
	im->payload = opts ? opts->payload : NULL;
	im->now = pf_now(db);

	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t bl = strlen(base);
	/* A file name is bytes: the journal takes it only as UTF-8. */
	if (bl && bl <= 255 && pf_utf8_valid(base, bl) && !(im->source = strdup(base)))
		return pf_fail(PF_ENOMEM, "out of memory");
	im->rep = calloc(1, sizeof *im->rep);
	if (!im->rep)
		return pf_fail(PF_ENOMEM, "out of memory");
	return 0;
}

static void report_free(pf_import_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->reject_count; i++)
		free((void *)rep->rejects[i].reason);
	free(rep->rejects);
	free(rep);
}

static int reject_cmp(const void *a, const void *b)
{
	uint64_t x = ((const pf_import_reject *)a)->line, y = ((const pf_import_reject *)b)->line;
	return x < y ? -1 : x > y;
}

/* Flush what is left and hand the report out, or clean up after a
 * failure (rows already committed stay: a re-run is idempotent). */
static int imp_end(imp *im, pf_import_report **out, int rc)
{
	if (!rc && !im->stop)
		rc = flush(im);
	/* One sync for the whole import, after its last batch (and after a
	 * failure too: the batches committed stay, durably).  Before the
	 * last progress call, which promises done == total is stored. */
	if (im->unsynced) {
		int src = pf_store_sync(im->db);
		if (!rc)
			rc = src;
	}
	if (!rc && !im->stop && (im->reported != im->rep->rows || im->total != im->rep->rows))
		report_progress(im, im->rep->rows, true);
	for (size_t i = 0; i < im->nbatch; i++)
		pf_imp_row_clear(&im->batch[i]);
	free(im->batch);
	free(im->source);
	free(im->jfields);
	free(im->jtext);
	if (rc) {
		report_free(im->rep);
		return rc;
	}
	/* Rows refused at write time are reported after later parse-time
	 * rejects: put the report in file order. */
	if (im->rep->reject_count > 1)
		qsort(im->rep->rejects, im->rep->reject_count, sizeof *im->rep->rejects,
		      reject_cmp);
	*out = im->rep;
	return 0;
}

void pf_import_report_free(pf_import_report *rep)
{
	pf_api_enter("pf_import_report_free");
	report_free(rep);
}

/* ------------------------------------------------------------------ */
/* The entry points                                                     */
/* ------------------------------------------------------------------ */

typedef uint64_t (*precount_fn)(FILE *f);
typedef int (*read_fn)(imp *im, FILE *f);

static int import_file(pf_import_report **out, pf_db *db, const char *path,
                       const pf_import_options *opts, precount_fn precount, read_fn read)
{
	imp im;
	FILE *f = NULL;
	bool regular = false;
	int rc = imp_begin(&im, out, db, path, opts, pf_api_fn());
	if (rc)
		goto out;
	if ((rc = open_input(&f, path, &regular)))
		goto out;
	if (im.progress && regular)
		im.total = precount(f);
	rc = read(&im, f);
out:
	if (f)
		fclose(f);
	return imp_end(&im, out, rc);
}

int pf_import_csv(pf_import_report **out, pf_db *db, const char *path,
                  const pf_import_options *opts)
{
	pf_api_enter("pf_import_csv");
	return import_file(out, db, path, opts, pf_imp_csv_precount, pf_imp_csv_read);
}

int pf_import_jsonl(pf_import_report **out, pf_db *db, const char *path,
                    const pf_import_options *opts)
{
	pf_api_enter("pf_import_jsonl");
	return import_file(out, db, path, opts, pf_imp_jsonl_precount, pf_imp_jsonl_read);
}
