/*
 * import_row.c — one imported row (import.h's irow), whatever file it came
 * from: the parsers of its fields (id, tier, birth date, country, tags,
 * consent, preferences), the places and reasons of rejected rows, and
 * pf_imp_validate, which puts the row through pf_guest_put's and
 * pf_pref_set's checks before anything is written.  Reasons name the place
 * ("column 4 'email'", "field 'email'") and never quote a value that may
 * be personal data: see pf_imp_at, pf_imp_quoted_name and quoted_word.
 *
 * Owns nothing stored.  May call guest.c (pf_guest_check), text.c, id.c
 * and error.c; nothing here touches LMDB, libcsv or jansson.
 */
#include "import.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "guest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { const char *name; int kind; } fixed_cols[] = {
	{ "id", C_ID }, { "external_id", C_EXT }, { "name", C_NAME }, { "email", C_EMAIL },
	{ "phone", C_PHONE }, { "language", C_LANG }, { "country", C_COUNTRY },
	{ "loyalty_no", C_LOYALTY }, { "tier", C_TIER }, { "tags", C_TAGS },
	{ "birth_date", C_BIRTH }, { "consent", C_CONSENT },
};

static const char *kind_name(int kind)
{
	for (size_t j = 0; j < sizeof fixed_cols / sizeof fixed_cols[0]; j++)
		if (fixed_cols[j].kind == kind)
			return fixed_cols[j].name;
	return "prefs";
}


int pf_imp_fixed_kind(const char *name)
{
	for (size_t j = 0; j < sizeof fixed_cols / sizeof fixed_cols[0]; j++)
		if (strcasecmp(name, fixed_cols[j].name) == 0)
			return fixed_cols[j].kind;
	return -1;
}

const char *pf_imp_at(char buf[AT_MAX], const places *w, int kind, const char *category)
{
	for (size_t i = 0; w->cols && i < w->ncols; i++) {
		const col *k = &w->cols[i];
		if (k->kind != kind || (category && (!k->category || strcmp(k->category, category))))
			continue;
		snprintf(buf, AT_MAX, "column %zu '%.100s'", i + 1, k->name);
		return buf;
	}
	if (category)
		snprintf(buf, AT_MAX, "field 'prefs', preference '%.80s'", category);
	else
		snprintf(buf, AT_MAX, "field '%s'", kind_name(kind));
	return buf;
}

void pf_imp_row_clear(irow *r)
{
	free(r->ext);
	free(r->name);
	free(r->email);
	free(r->phone);
	free(r->language);
	free(r->loyalty);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	for (size_t i = 0; i < r->npref; i++) {
		free(r->prefs[i].category);
		free(r->prefs[i].value);
		free(r->prefs[i].note);
	}
	free(r->prefs);
	free(r->why);
	memset(r, 0, sizeof *r);
}

/* Conversion failures: a reason for the report in `why` and PF_EINVAL,
 * or PF_ENOMEM, which stops the import. */
int pf_imp_reason(char *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, REASON_MAX, fmt, ap);
	va_end(ap);
	return PF_EINVAL;
}

/*
 * A name from the file's structure (a header cell, a JSON key, a
 * preference kind) quoted in a message: "'emial'", when it is at most 40
 * bytes of letters, digits, '_', '.', ':' and '-', as column and field
 * names are; else "(name not shown)", because a file without a header row or
 * with a value where a key belongs puts personal data in that place.
 * Never used on the values of rows.
 */
const char *pf_imp_quoted_name(char buf[48], const char *s)
{
	size_t n = strlen(s);
	bool ok = n > 0 && n <= 40;
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '_' || c == '.' || c == ':' || c == '-';
	}
	if (ok)
		snprintf(buf, 48, "'%s'", s);
	else
		snprintf(buf, 48, "(name not shown)");
	return buf;
}

/*
 * An unknown tier or consent word: quoted ("'diamond'") when it is 1 to
 * 16 ASCII letters, as the words of those fields are; anything else (a
 * shifted cell with an e-mail or an id in it) is not shown.
 */
static const char *quoted_word(char buf[24], const char *s, size_t n, const char *other)
{
	bool ok = n > 0 && n <= 16;
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z');
	if (!ok)
		return other;
	snprintf(buf, 24, "'%.*s'", (int)n, s);
	return buf;
}

char *pf_imp_dupn(const char *s, size_t n)
{
	char *c = malloc(n + 1);
	if (c) {
		memcpy(c, s, n);
		c[n] = '\0';
	}
	return c;
}

bool pf_imp_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* s[0..*n) without surrounding blanks. */
const char *pf_imp_trimmed(const char *s, size_t *n)
{
	while (*n && pf_imp_is_blank((unsigned char)*s)) {
		s++;
		(*n)--;
	}
	while (*n && pf_imp_is_blank((unsigned char)s[*n - 1]))
		(*n)--;
	return s;
}

int pf_imp_set_text(int *st, char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	if (!s || !*s) {
		*st = CLEAR;
		return 0;
	}
	if (!(*dst = strdup(s)))
		return PF_ENOMEM;
	*st = SET;
	return 0;
}

int pf_imp_parse_id(irow *r, const char *s, const char *where, char *why)
{
	size_t n = strlen(s);
	const char *t = pf_imp_trimmed(s, &n);
	if (n == 0)
		return 0;
	char text[PF_ID_STRLEN + 1];
	if (n != PF_ID_STRLEN)
		return pf_imp_reason(why, "%s is not a UUID", where);
	memcpy(text, t, n);
	text[n] = '\0';
	if (pf_id_parse(&r->id, text) != 0)
		return pf_imp_reason(why, "%s is not a UUID", where);
	if (pf_id_is_zero(&r->id))
		return pf_imp_reason(why, "%s is the all-zero UUID", where);
	r->has_id = true;
	return 0;
}

int pf_imp_parse_tier(irow *r, const char *s, const char *where, char *why)
{
	char low[16];
	size_t n = strlen(s);
	const char *t = pf_imp_trimmed(s, &n);
	if (n == 0) {
		r->st_tier = CLEAR;
		return 0;
	}
	if (n < sizeof low) {
		for (size_t i = 0; i < n; i++)
			low[i] = (char)((t[i] >= 'A' && t[i] <= 'Z') ? t[i] - 'A' + 'a' : t[i]);
		low[n] = '\0';
		if (pf_tier_parse(&r->tier, low) == 0) {
			r->st_tier = SET;
			return 0;
		}
	}
	char b[24];
	return pf_imp_reason(why, "%s: %s is not one of none, silver, gold, platinum, vip", where,
	              quoted_word(b, t, n, "the value"));
}

/* "YYYY-MM-DD" (ISO 8601 calendar date). */
int pf_imp_parse_birth(irow *r, const char *s, const char *where, char *why)
{
	size_t n = strlen(s);
	const char *t = pf_imp_trimmed(s, &n);
	if (n == 0) {
		r->st_birth = CLEAR;
		r->birth = 0;
		return 0;
	}
	int y, m, d;
	if (n != 10 || t[4] != '-' || t[7] != '-')
		goto bad;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (t[i] < '0' || t[i] > '9'))
			goto bad;
	y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
	m = (t[5] - '0') * 10 + (t[6] - '0');
	d = (t[8] - '0') * 10 + (t[9] - '0');
	if (pf_date_make(&r->birth, y, m, d) != 0)
		goto bad;
	r->st_birth = SET;
	return 0;
bad:
	return pf_imp_reason(why, "%s is not a date (YYYY-MM-DD)", where);
}

/*
 * ISO 3166-1 alpha-3, as the bookings exports write it ("PRT"); letters
 * are taken in either case.  Empty and "NULL" (what those exports write
 * for unknown) mean not known: the stored country stays.
 */
int pf_imp_parse_country(irow *r, const char *s, const char *where, char *why)
{
	size_t n = strlen(s);
	const char *t = pf_imp_trimmed(s, &n);
	if (n == 0 || (n == 4 && strncasecmp(t, "NULL", 4) == 0))
		return 0;
	if (n == 3) {
		for (size_t i = 0; i < 3; i++)
			r->country[i] = (char)((t[i] >= 'a' && t[i] <= 'z') ? t[i] - 'a' + 'A' : t[i]);
		r->country[3] = '\0';
		if (pf_country_valid(r->country)) {
			r->st_country = SET;
			return 0;
		}
	}
	memset(r->country, 0, sizeof r->country);
	return pf_imp_reason(why, "%s is not an ISO 3166-1 alpha-3 country code (three letters, "
	              "e.g. PRT; empty or NULL when not known)", where);
}

/* Calls fn for each `sep`-separated, trimmed, non-empty item of s. */
int pf_imp_split(irow *r, const char *s, const char *seps, pf_imp_item_fn fn, const char *where,
                 char *why)
{
	while (*s) {
		size_t n = strcspn(s, seps);
		size_t tn = n;
		const char *t = pf_imp_trimmed(s, &tn);
		if (tn) {
			int rc = fn(r, t, tn, where, why);
			if (rc)
				return rc;
		}
		s += n;
		if (*s)
			s++;
	}
	return 0;
}

int pf_imp_tag_item(irow *r, const char *t, size_t n, const char *where, char *why)
{
	if (r->ntags >= PF_TAGS_MAX)
		return pf_imp_reason(why, "%s has more than %d tags", where, PF_TAGS_MAX);
	if (!r->tags && !(r->tags = calloc(PF_TAGS_MAX, sizeof *r->tags)))
		return PF_ENOMEM;
	if (!(r->tags[r->ntags] = pf_imp_dupn(t, n)))
		return PF_ENOMEM;
	r->ntags++;
	return 0;
}

void pf_imp_tags_reset(irow *r)
{
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	r->ntags = 0;
}

/* Tags separated by ';' (tag words are checked by check_tags). */
int pf_imp_parse_tags(irow *r, const char *s, const char *where, char *why)
{
	pf_imp_tags_reset(r);
	int rc = pf_imp_split(r, s, ";", pf_imp_tag_item, where, why);
	if (rc)
		return rc;
	r->st_tags = r->ntags ? SET : CLEAR;
	return 0;
}

int pf_imp_consent_item(irow *r, const char *t, size_t n, const char *where, char *why)
{
	if (n == 9 && strncasecmp(t, "profiling", 9) == 0)
		r->consent |= PF_CONSENT_PROFILING;
	else if (n == 9 && strncasecmp(t, "marketing", 9) == 0)
		r->consent |= PF_CONSENT_MARKETING;
	else if (!(n == 4 && strncasecmp(t, "none", 4) == 0)) {
		char b[24];
		return pf_imp_reason(why, "%s: %s is not profiling, marketing or none", where,
		              quoted_word(b, t, n, "a word"));
	}
	return 0;
}

/* "profiling;marketing", "marketing", "none"; ',' separates too.  Empty
 * means not given: a blank cell never withdraws consent. */
int pf_imp_parse_consent(irow *r, const char *s, const char *where, char *why)
{
	size_t n = strlen(s);
	pf_imp_trimmed(s, &n);
	if (n == 0)
		return 0;
	r->consent = 0;
	int rc = pf_imp_split(r, s, ";,", pf_imp_consent_item, where, why);
	if (rc)
		return rc;
	r->st_consent = SET;
	return 0;
}

ipref *pf_imp_pref_of(irow *r, const char *category)
{
	for (size_t i = 0; i < r->npref; i++)
		if (strcmp(r->prefs[i].category, category) == 0)
			return &r->prefs[i];
	return NULL;
}

/*
 * A preference value.  kind < 0: the kind comes from an optional prefix
 * of the value, "like:", "dislike:" or "need:" (default like).  The
 * category is a valid one (checked with the header, or by json_prefs).
 */
int pf_imp_add_pref(irow *r, const char *category, const char *value, int kind,
                    const char *note, const char *where, char *why)
{
	static const struct { const char *p; pf_pref_kind k; } prefixes[] = {
		{ "like:", PF_LIKE }, { "dislike:", PF_DISLIKE }, { "need:", PF_NEED },
	};
	if (kind < 0) {
		kind = PF_LIKE;
		for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
			size_t pl = strlen(prefixes[i].p);
			if (strncmp(value, prefixes[i].p, pl) == 0) {
				kind = (int)prefixes[i].k;
				value += pl;
				break;
			}
		}
	}
	size_t n = strlen(value);
	value = pf_imp_trimmed(value, &n);
	if (n == 0)
		return pf_imp_reason(why, "%s: no value after the kind prefix", where);
	if (pf_imp_pref_of(r, category))
		return pf_imp_reason(why, "%s: a second value for preference '%s'", where, category);
	if (r->npref >= PF_PREFS_MAX)
		return pf_imp_reason(why, "%s: more than %d preferences", where, PF_PREFS_MAX);
	if (r->npref == r->prefcap) {
		size_t cap = r->prefcap ? 2 * r->prefcap : 8;
		ipref *p = realloc(r->prefs, cap * sizeof *p);
		if (!p)
			return PF_ENOMEM;
		r->prefs = p;
		r->prefcap = cap;
	}
	ipref *p = &r->prefs[r->npref];
	memset(p, 0, sizeof *p);
	p->kind = (pf_pref_kind)kind;
	p->category = strdup(category);
	p->value = pf_imp_dupn(value, n);
	p->note = note ? strdup(note) : NULL;
	if (!p->category || !p->value || (note && !p->note)) {
		free(p->category);
		free(p->value);
		free(p->note);
		return PF_ENOMEM;
	}
	r->npref++;
	return 0;
}


/*
 * The field checks of pf_guest_put, one field at a time, so that a
 * failure is reported where the field came from.  The words are those of
 * guest.c's check_guest and text.c's pf_check_text (what is wrong, never
 * the value); pf_imp_validate then puts the whole row through
 * pf_guest_check itself, which stays the authority.
 */
/* Where the value is, built only when it is wrong: the places are
 * formatted text, and building them for every field of every row cost
 * more than the checks. */
typedef struct at_of {
	const places *w;
	int kind;
	const char *category;
} at_of;

static int text_check(char *why, at_of at, const char *field, const char *s, size_t max,
                      bool required)
{
	char a[AT_MAX];
	if (!s)
		return required ? pf_imp_reason(why, "%s: %s is required",
		                                pf_imp_at(a, at.w, at.kind, at.category), field) : 0;
	size_t len = strnlen(s, max + 1);
	if (len == 0 && required)
		return pf_imp_reason(why, "%s: %s is empty", pf_imp_at(a, at.w, at.kind, at.category),
		                     field);
	if (len > max)
		return pf_imp_reason(why, "%s: %s is longer than %zu bytes",
		                     pf_imp_at(a, at.w, at.kind, at.category), field, max);
	if (!pf_utf8_valid(s, len))
		return pf_imp_reason(why, "%s: %s is not valid UTF-8",
		                     pf_imp_at(a, at.w, at.kind, at.category), field);
	return 0;
}

/* An optional profile field (NULL: not set). */
static int optional_check(char *why, const places *w, int kind, const char *s)
{
	char a[AT_MAX];
	const char *field = kind_name(kind);
	int rc = text_check(why, (at_of){ w, kind, NULL }, field, s, PF_FIELD_MAX, false);
	if (rc)
		return rc;
	if (s && !*s)
		return pf_imp_reason(why, "%s: %s is empty (pass NULL when not known)",
		                     pf_imp_at(a, w, kind, NULL), field);
	return 0;
}

static int name_check(const char *name, const places *w, char *why)
{
	char a[AT_MAX];
	int rc = text_check(why, (at_of){ w, C_NAME, NULL }, "name", name, PF_NAME_MAX, true);
	if (rc)
		return rc;
	const char *p = name;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
		p++;
	if (!*p)
		return pf_imp_reason(why, "%s: name is blank", pf_imp_at(a, w, C_NAME, NULL));
	return 0;
}

static int email_check(const char *email, const places *w, char *why)
{
	char a[AT_MAX];
	int rc = optional_check(why, w, C_EMAIL, email);
	if (rc || !email)
		return rc;
	const char *at = strchr(email, '@');
	if (!at || at == email || !at[1] || strchr(at + 1, '@'))
		return pf_imp_reason(why, "%s: email is not an address (one '@' with text on both "
		                     "sides)", pf_imp_at(a, w, C_EMAIL, NULL));
	return 0;
}

static int phone_check(const char *phone, const places *w, char *why)
{
	char a[AT_MAX], digits[PF_FIELD_MAX + 1];
	int rc = optional_check(why, w, C_PHONE, phone);
	if (rc || !phone)
		return rc;
	if (pf_phone_digits(phone, digits, sizeof digits) < 5)
		return pf_imp_reason(why, "%s: phone has fewer than 5 digits",
		                     pf_imp_at(a, w, C_PHONE, NULL));
	return 0;
}

static int country_check(const char *country, const places *w, char *why)
{
	char a[AT_MAX];
	if (country && !pf_country_valid(country))
		return pf_imp_reason(why, "%s: country is not an ISO 3166-1 alpha-3 code (three "
		                     "upper-case letters, e.g. \"MAC\")",
		                     pf_imp_at(a, w, C_COUNTRY, NULL));
	return 0;
}

/* Tags as pf_check_word takes them (a lower-case word), checked here so
 * that the reason names the tag by its position, not by its text. */
static int check_tags(const irow *r, const places *w, char *why)
{
	char a[AT_MAX];
	for (size_t i = 0; r->st_tags == SET && i < r->ntags; i++) {
		const char *t = r->tags[i];
		size_t n = strlen(t);
		if (n > PF_FIELD_MAX)
			return pf_imp_reason(why, "%s: tag %zu is longer than %d bytes", pf_imp_at(a, w, C_TAGS, NULL),
			              i + 1, PF_FIELD_MAX);
		bool ok = t[0] >= 'a' && t[0] <= 'z';
		for (size_t j = 1; ok && j < n; j++)
			ok = (t[j] >= 'a' && t[j] <= 'z') || (t[j] >= '0' && t[j] <= '9') || t[j] == '_';
		if (!ok)
			return pf_imp_reason(why, "%s: tag %zu is not a lower-case word (a-z, 0-9 and '_', "
			              "starting with a letter, e.g. repeat_guest)", pf_imp_at(a, w, C_TAGS, NULL),
			              i + 1);
	}
	return 0;
}

/* Everything pf_guest_put and pf_pref_set would check, on the row alone. */
int pf_imp_validate(const irow *r, const places *w, char *why)
{
	int rc;
	if (!r->name)
		return pf_imp_reason(why, "missing name");
	if ((rc = name_check(r->name, w, why)) ||
	    (rc = email_check(r->st_email == SET ? r->email : NULL, w, why)) ||
	    (rc = phone_check(r->st_phone == SET ? r->phone : NULL, w, why)) ||
	    (rc = optional_check(why, w, C_LANG, r->st_lang == SET ? r->language : NULL)) ||
	    (rc = optional_check(why, w, C_LOYALTY, r->st_loyalty == SET ? r->loyalty : NULL)) ||
	    (rc = optional_check(why, w, C_EXT, r->ext)) ||
	    (rc = country_check(r->st_country == SET ? r->country : NULL, w, why)) ||
	    (rc = check_tags(r, w, why)))
		return rc;

	/* The whole profile, as pf_guest_put will see it: every field passed
	 * alone, so this only fails if the fields conflict. */
	const pf_guest empty = PF_GUEST_INIT;
	pf_guest g = empty;
	g.name = r->name;
	g.email = r->st_email == SET ? r->email : NULL;
	g.phone = r->st_phone == SET ? r->phone : NULL;
	g.language = r->st_lang == SET ? r->language : NULL;
	g.loyalty_no = r->st_loyalty == SET ? r->loyalty : NULL;
	g.country = r->st_country == SET ? r->country : NULL;
	g.tier = r->st_tier == SET ? r->tier : PF_TIER_NONE;
	g.tags = (const char *const *)r->tags;
	g.tag_count = r->st_tags == SET ? r->ntags : 0;
	g.birth_date = r->st_birth == SET ? r->birth : 0;
	g.consent = r->st_consent == SET ? r->consent : PF_CONSENT_PROFILING;
	g.external_id = r->ext;
	if (pf_guest_check(&g) != 0)
		return pf_imp_reason(why, "the row's profile is refused by pf_guest_put");
	for (size_t i = 0; i < r->npref; i++) {
		const ipref *p = &r->prefs[i];
		/* pf_pref_set's checks of the value and the note; a CSV note
		 * column is its own place. */
		if ((rc = text_check(why, (at_of){ w, C_PREF, p->category }, "preference value",
		                     p->value, PF_VALUE_MAX, true)) ||
		    (rc = text_check(why, (at_of){ w, w->cols ? C_NOTE : C_PREF, p->category },
		                     "preference note", p->note, PF_NOTE_MAX, false)))
			return rc;
	}
	return 0;
}
