/*
 * fuzz_import.h — the body of the two importer targets (fuzz_import_csv.c,
 * fuzz_import_jsonl.c): import the input as a file into an emptied
 * database, then check what the header promises:
 *
 *  - the call returns 0, or PF_EINVAL for a file it refuses whole (and
 *    then nothing is stored);
 *  - the report adds up (rows = created + updated + rejected, one reject
 *    entry per rejected row, in line order, each with a UTF-8 reason),
 *    and progress calls count up to the pre-counted total;
 *  - the database is consistent (fuzz_check_db): as many guests as the
 *    report created, each readable and found again by e-mail;
 *  - the round trip: exporting the guests in the same format and
 *    importing that file into an empty database gives the same guests
 *    (ids, profile fields, preference values, kinds and notes), with no
 *    row rejected.
 */
#ifndef PF_FUZZ_IMPORT_H
#define PF_FUZZ_IMPORT_H

#include "fuzz_common.h"

struct fuzz_progress {
	uint64_t done, total, calls;
};

FUZZ_FN int fuzz_progress_fn(uint64_t done, uint64_t total, void *payload)
{
	struct fuzz_progress *p = payload;
	FUZZ_CHECK(done >= p->done, "progress went back from %llu to %llu",
	           (unsigned long long)p->done, (unsigned long long)done);
	p->done = done;
	p->total = total;
	p->calls++;
	return 0;
}

typedef int (*fuzz_import_fn)(pf_import_report **, pf_db *, const char *,
                              const pf_import_options *);

/* Import `path`; check the report; returns the call's code. */
FUZZ_FN int fuzz_import_checked(pf_db *db, fuzz_import_fn fn, const char *path,
                               size_t batch, pf_import_report **rep_out)
{
	struct fuzz_progress prog = { 0, 0, 0 };
	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.batch_size = batch;
	o.progress = fuzz_progress_fn;
	o.payload = &prog;
	pf_import_report *rep = NULL;
	int rc = fn(&rep, db, path, &o);
	*rep_out = NULL;
	if (rc != 0) {
		FUZZ_CHECK(rep == NULL, "a failed import returned a report");
		FUZZ_CHECK(rc == PF_EINVAL || rc == PF_ENOMEM, "import returned %d", rc);
		return rc;
	}
	FUZZ_CHECK(rep != NULL, "import succeeded without a report");
	FUZZ_CHECK(rep->rows == rep->created + rep->updated + rep->rejected,
	           "report: %llu rows != %llu created + %llu updated + %llu rejected",
	           (unsigned long long)rep->rows, (unsigned long long)rep->created,
	           (unsigned long long)rep->updated, (unsigned long long)rep->rejected);
	FUZZ_CHECK(rep->reject_count == rep->rejected, "report: %zu reject entries for %llu rejected",
	           rep->reject_count, (unsigned long long)rep->rejected);
	for (size_t i = 0; i < rep->reject_count; i++) {
		const pf_import_reject *r = &rep->rejects[i];
		FUZZ_CHECK(r->line >= 1, "reject %zu has line 0", i);
		FUZZ_CHECK(i == 0 || r->line >= rep->rejects[i - 1].line, "rejects out of line order");
		FUZZ_CHECK(r->reason && *r->reason && pf_utf8_valid(r->reason, strlen(r->reason)),
		           "reject %zu has no valid reason", i);
	}
	if (prog.calls > 0)
		FUZZ_CHECK(prog.done == prog.total, "last progress call: %llu of %llu",
		           (unsigned long long)prog.done, (unsigned long long)prog.total);
	*rep_out = rep;
	return 0;
}

/* What the import formats carry of a guest, as one line of text: the
 * round trip must give the same lines. */
FUZZ_FN char *fuzz_guest_text(pf_db *db, const pf_id *id)
{
	pf_guest *g = NULL;
	FUZZ_CHECK(pf_guest_get(&g, db, id) == 0, "guest does not read back");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		FUZZ_FAIL("open_memstream");
	char idtext[PF_ID_STRLEN + 1];
	pf_id_format(idtext, &g->id);
#define S(x) ((x) ? (x) : "(null)")
	fprintf(f, "%s|%s|%s|%s|%s|%s|%s|%d|%d|%u|", idtext, S(g->external_id), S(g->name),
	        S(g->email), S(g->phone), S(g->language), S(g->loyalty_no), (int)g->birth_date,
	        (int)g->tier, g->consent);
	for (size_t i = 0; i < g->tag_count; i++)
		fprintf(f, "%s;", g->tags[i]);
	for (size_t i = 0; i < g->pref_count; i++) {
		const pf_pref *p = &g->prefs[i];
		fprintf(f, "|%s=%d:%s/%s", p->category, (int)p->kind, p->value, S(p->note));
	}
#undef S
	fclose(f);
	pf_guest_free(g);
	return buf;
}

FUZZ_FN char **fuzz_guest_texts(pf_db *db, const fuzz_ids *ids)
{
	char **t = calloc(ids->n + 1, sizeof *t);
	if (!t)
		FUZZ_FAIL("out of memory");
	for (size_t i = 0; i < ids->n; i++)
		t[i] = fuzz_guest_text(db, &ids->ids[i]);
	return t;
}

FUZZ_FN void fuzz_texts_free(char **t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i]);
	free(t);
}

typedef int (*fuzz_export_fn)(pf_db *, const char *);

FUZZ_FN void fuzz_import_run(const uint8_t *data, size_t size, bool jsonl)
{
	fuzz_import_fn import = jsonl ? pf_import_jsonl : pf_import_csv;
	fuzz_export_fn export = jsonl ? pf_export_jsonl : pf_export_csv;
	const char *ext = jsonl ? "jsonl" : "csv";
	pf_db *db = fuzz_env();
	fuzz_reset(db);

	char name[32];
	snprintf(name, sizeof name, "input.%s", ext);
	const char *path = fuzz_write_file(name, data, size);
	/* Small batches, picked by the input, so that a failing row's
	 * batch is redone row by row with few rows around it. */
	size_t batch = 1 + size % 4;
	pf_import_report *rep = NULL;
	int rc = fuzz_import_checked(db, import, path, batch, &rep);
	fuzz_ids ids = fuzz_check_db(db);
	if (rc != 0) {
		FUZZ_CHECK(ids.n == 0, "a refused import stored %zu guests", ids.n);
		free(ids.ids);
		return;
	}
	FUZZ_CHECK(ids.n == rep->created, "%zu guests stored, the report says %llu created",
	           ids.n, (unsigned long long)rep->created);
	pf_import_report_free(rep);
	if (ids.n == 0) {
		free(ids.ids);
		return;
	}

	/* Round trip through the export. */
	char **before = fuzz_guest_texts(db, &ids);
	char out[400];
	snprintf(out, sizeof out, "%s/export.%s", fuzz_dir, ext);
	FUZZ_CHECK(export(db, out) == 0, "pf_export_%s failed", ext);
	fuzz_reset(db);
	rc = fuzz_import_checked(db, import, out, 1000, &rep);
	FUZZ_CHECK(rc == 0, "the export does not import (%d)", rc);
	FUZZ_CHECK(rep->rejected == 0, "the export's line %llu is rejected: %s",
	           (unsigned long long)rep->rejects[0].line, rep->rejects[0].reason);
	FUZZ_CHECK(rep->created == ids.n, "the export created %llu guests of %zu",
	           (unsigned long long)rep->created, ids.n);
	pf_import_report_free(rep);
	fuzz_ids again = fuzz_check_db(db);
	FUZZ_CHECK(again.n == ids.n, "%zu guests after the round trip, %zu before", again.n, ids.n);
	char **after = fuzz_guest_texts(db, &again);
	for (size_t i = 0; i < ids.n; i++)
		FUZZ_CHECK(!strcmp(before[i], after[i]), "the round trip changed a guest:\n  %s\n  %s",
		           before[i], after[i]);
	fuzz_texts_free(before, ids.n);
	fuzz_texts_free(after, again.n);
	free(ids.ids);
	free(again.ids);
}

#endif /* PF_FUZZ_IMPORT_H */
