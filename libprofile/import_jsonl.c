/*
 * import_jsonl.c — the JSON Lines reader of pf_import_jsonl: one object
 * per line converted into an irow for the engine (keys, their types, the
 * "prefs" object), the pre-count for progress, and JSON syntax errors
 * described in words of our own (jansson's texts quote the input).  A
 * simple line (strings, nulls, arrays of strings, prefs of strings) is
 * read by a one-pass reader of its own (fast_convert); every other line,
 * and every line that reader gives up on, by jansson.
 *
 * Owns nothing stored.  May call import.c (pf_imp_row_done),
 * import_row.c (the field parsers and reasons), text.c, error.c and
 * jansson.
 */
#include "import.h"
#include "error.h"
#include "text.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define JSONL_LINE_MAX (1024 * 1024)

static int json_text(const char *key, json_t *v, int *st, char **dst, char *why)
{
	if (json_is_null(v))
		return pf_imp_set_text(st, dst, NULL);
	if (!json_is_string(v))
		return pf_imp_reason(why, "field '%s' is not a string or null", key);
	return pf_imp_set_text(st, dst, json_string_value(v));
}

/* A list: an array of strings, or one string with `seps` between items. */
static int json_list(const char *key, json_t *v, const char *seps, pf_imp_item_fn fn, irow *r,
                     char *why)
{
	char a[AT_MAX];
	snprintf(a, sizeof a, "field '%s'", key);
	if (json_is_string(v))
		return pf_imp_split(r, json_string_value(v), seps, fn, a, why);
	if (!json_is_array(v))
		return pf_imp_reason(why, "field '%s' is not an array of strings, a string or null", key);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return pf_imp_reason(why, "field '%s': item %zu is not a string", key, i + 1);
		const char *s = json_string_value(e);
		size_t n = strlen(s);
		const char *t = pf_imp_trimmed(s, &n);
		if (n) {
			int rc = fn(r, t, n, a, why);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int json_prefs(irow *r, json_t *v, char *why)
{
	char a[AT_MAX], b[48];
	const char *cat;
	json_t *p;
	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return pf_imp_reason(why, "field 'prefs' is not an object");
	json_object_foreach(v, cat, p) {
		if (pf_check_category(cat))
			return pf_imp_reason(why, "field 'prefs': category %s is not lower-case dotted words "
			              "(e.g. room.floor) of at most %d bytes", pf_imp_quoted_name(b, cat),
			              PF_CATEGORY_MAX);
		snprintf(a, sizeof a, "field 'prefs', preference '%s'", cat);
		size_t blank = json_is_string(p) ? strlen(json_string_value(p)) : 1;
		if (json_is_string(p))
			pf_imp_trimmed(json_string_value(p), &blank);
		if (json_is_null(p) || blank == 0)
			continue;   /* as an empty CSV cell: no preference */
		if (json_is_string(p)) {
			int rc = pf_imp_add_pref(r, cat, json_string_value(p), -1, NULL, a, why);
			if (rc)
				return rc;
			continue;
		}
		if (!json_is_object(p))
			return pf_imp_reason(why, "%s is not a string, an object or null", a);
		const char *value = NULL, *note = NULL, *k;
		int kind = PF_LIKE;
		json_t *x;
		json_object_foreach(p, k, x) {
			if (strcmp(k, "value") == 0 && json_is_string(x)) {
				value = json_string_value(x);
			} else if (strcmp(k, "note") == 0 && (json_is_string(x) || json_is_null(x))) {
				note = json_is_null(x) ? NULL : json_string_value(x);
				if (note && !*note)
					note = NULL;
			} else if (strcmp(k, "kind") == 0 && json_is_string(x)) {
				const char *kn = json_string_value(x);
				if (strcmp(kn, "like") == 0)
					kind = PF_LIKE;
				else if (strcmp(kn, "dislike") == 0)
					kind = PF_DISLIKE;
				else if (strcmp(kn, "need") == 0)
					kind = PF_NEED;
				else
					return pf_imp_reason(why, "%s: \"kind\" is not like, dislike or need", a);
			} else if (strcmp(k, "value") == 0 || strcmp(k, "note") == 0 ||
			           strcmp(k, "kind") == 0) {
				return pf_imp_reason(why, "%s: \"%s\" has the wrong type", a, k);
			} else {
				return pf_imp_reason(why, "%s: unknown field %s (value, kind, note)", a,
				              pf_imp_quoted_name(b, k));
			}
		}
		if (!value)
			return pf_imp_reason(why, "%s has no \"value\"", a);
		int rc = pf_imp_add_pref(r, cat, value, kind, note, a, why);
		if (rc)
			return rc;
	}
	return 0;
}

static int json_convert(json_t *obj, irow *r, char *why)
{
	const char *key;
	json_t *v;
	int rc = 0;
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "id") == 0) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return pf_imp_reason(why, "field 'id' is not a string");
			rc = pf_imp_parse_id(r, json_string_value(v), "field 'id'", why);
		} else if (strcmp(key, "external_id") == 0) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return pf_imp_reason(why, "field 'external_id' is not a string or null");
			const char *s = json_string_value(v);
			if (*s && !(r->ext = strdup(s)))
				return PF_ENOMEM;
		} else if (strcmp(key, "name") == 0) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return pf_imp_reason(why, "field 'name' is not a string");
			const char *s = json_string_value(v);
			if (*s && !(r->name = strdup(s)))
				return PF_ENOMEM;
		} else if (strcmp(key, "email") == 0) {
			rc = json_text(key, v, &r->st_email, &r->email, why);
		} else if (strcmp(key, "phone") == 0) {
			rc = json_text(key, v, &r->st_phone, &r->phone, why);
		} else if (strcmp(key, "language") == 0) {
			rc = json_text(key, v, &r->st_lang, &r->language, why);
		} else if (strcmp(key, "country") == 0) {
			/* null, "" and "NULL" are "not known", as in CSV */
			if (!json_is_null(v) && !json_is_string(v))
				return pf_imp_reason(why, "field 'country' is not a string or null");
			rc = pf_imp_parse_country(r, json_is_null(v) ? "" : json_string_value(v),
			                   "field 'country'", why);
		} else if (strcmp(key, "loyalty_no") == 0) {
			rc = json_text(key, v, &r->st_loyalty, &r->loyalty, why);
		} else if (strcmp(key, "tier") == 0) {
			if (!json_is_null(v) && !json_is_string(v))
				return pf_imp_reason(why, "field 'tier' is not a string or null");
			rc = pf_imp_parse_tier(r, json_is_null(v) ? "" : json_string_value(v), "field 'tier'",
			                why);
		} else if (strcmp(key, "birth_date") == 0) {
			if (!json_is_null(v) && !json_is_string(v))
				return pf_imp_reason(why, "field 'birth_date' is not a string or null");
			rc = pf_imp_parse_birth(r, json_is_null(v) ? "" : json_string_value(v),
			                 "field 'birth_date'", why);
		} else if (strcmp(key, "tags") == 0) {
			pf_imp_tags_reset(r);
			r->st_tags = CLEAR;
			if (json_is_null(v))
				continue;
			rc = json_list(key, v, ";", pf_imp_tag_item, r, why);
			if (!rc && r->ntags)
				r->st_tags = SET;
		} else if (strcmp(key, "consent") == 0) {
			size_t n = json_is_string(v) ? strlen(json_string_value(v)) : 1;
			if (json_is_string(v))
				pf_imp_trimmed(json_string_value(v), &n);
			if (json_is_null(v) || n == 0)
				continue;   /* as in CSV: a blank never withdraws consent */
			r->consent = 0;
			rc = json_list(key, v, ";,", pf_imp_consent_item, r, why);
			if (!rc)
				r->st_consent = SET;
		} else if (strcmp(key, "prefs") == 0) {
			rc = json_prefs(r, v, why);
		} else {
			char b[48];
			return pf_imp_reason(why, "unknown field %s", pf_imp_quoted_name(b, key));
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The fast path                                                        */
/* ------------------------------------------------------------------ */

/*
 * jansson builds a hash table and a value per key and string, which was a
 * third of an import's instructions.  The lines an export or a PMS writes
 * are simple: one object whose values are strings, nulls, arrays of
 * strings and the "prefs" object of strings.  Such a line is read here,
 * in one pass, straight into the row, through the same field parsers as
 * json_convert and in the same (file) order.  Anything else — another
 * type, a nested object, a duplicate or unknown key, an escape jansson
 * refuses, a value a parser rejects, even running out of memory — gives
 * up and the line goes through jansson and json_convert as before, so
 * every rejected line is reported exactly as it was.
 */
typedef struct fastp {
	const char *p, *end;
	char *out;                /* decoded strings, NUL-terminated (buf) */
} fastp;

static void fp_ws(fastp *f)
{
	while (f->p < f->end && (*f->p == ' ' || *f->p == '\t' || *f->p == '\n' || *f->p == '\r'))
		f->p++;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool fp_hex4(fastp *f, unsigned *u)
{
	if (f->end - f->p < 4)
		return false;
	*u = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(f->p[i]);
		if (h < 0)
			return false;
		*u = *u << 4 | (unsigned)h;
	}
	f->p += 4;
	return true;
}

/* A string at f->p (its opening quote), decoded into f->out; NULL to give
 * up.  The line is valid UTF-8 already (checked before parsing), and the
 * decoded text is never longer than the encoded one. */
static const char *fp_string(fastp *f)
{
	if (f->p >= f->end || *f->p != '"')
		return NULL;
	f->p++;
	char *o = f->out, *start = o;
	while (f->p < f->end) {
		unsigned char c = (unsigned char)*f->p++;
		if (c == '"') {
			*o++ = '\0';
			f->out = o;
			return start;
		}
		if (c < 0x20)
			return NULL;        /* jansson refuses control characters */
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (f->p >= f->end)
			return NULL;
		char e = *f->p++;
		unsigned u;
		switch (e) {
		case '"': case '\\': case '/': *o++ = e; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (!fp_hex4(f, &u) || u == 0 || (u >= 0xDC00 && u <= 0xDFFF))
				return NULL;
			if (u >= 0xD800 && u <= 0xDBFF) {
				unsigned lo;
				if (f->end - f->p < 2 || f->p[0] != '\\' || f->p[1] != 'u')
					return NULL;
				f->p += 2;
				if (!fp_hex4(f, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					return NULL;
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			}
			if (u < 0x80) {
				*o++ = (char)u;
			} else if (u < 0x800) {
				*o++ = (char)(0xC0 | u >> 6);
				*o++ = (char)(0x80 | (u & 0x3F));
			} else if (u < 0x10000) {
				*o++ = (char)(0xE0 | u >> 12);
				*o++ = (char)(0x80 | ((u >> 6) & 0x3F));
				*o++ = (char)(0x80 | (u & 0x3F));
			} else {
				*o++ = (char)(0xF0 | u >> 18);
				*o++ = (char)(0x80 | ((u >> 12) & 0x3F));
				*o++ = (char)(0x80 | ((u >> 6) & 0x3F));
				*o++ = (char)(0x80 | (u & 0x3F));
			}
			break;
		default:
			return NULL;
		}
	}
	return NULL;
}

static bool fp_null(fastp *f)
{
	if (f->end - f->p >= 4 && memcmp(f->p, "null", 4) == 0) {
		f->p += 4;
		return true;
	}
	return false;
}

/* A list value (tags, consent): a string or an array of strings, each
 * item as json_list hands it to fn.  false: give up. */
static bool fp_list(fastp *f, const char *key, const char *seps, pf_imp_item_fn fn, irow *r)
{
	char a[AT_MAX], why[REASON_MAX];
	snprintf(a, sizeof a, "field '%s'", key);
	if (*f->p == '"') {
		const char *s = fp_string(f);
		return s && pf_imp_split(r, s, seps, fn, a, why) == 0;
	}
	if (*f->p != '[')
		return false;
	f->p++;
	fp_ws(f);
	if (f->p < f->end && *f->p == ']') {
		f->p++;
		return true;
	}
	for (;;) {
		fp_ws(f);
		char *mark = f->out;
		const char *s = fp_string(f);
		if (!s)
			return false;
		size_t n = strlen(s);
		const char *t = pf_imp_trimmed(s, &n);
		if (n && fn(r, t, n, a, why) != 0)
			return false;
		f->out = mark;     /* the item was copied */
		fp_ws(f);
		if (f->p < f->end && *f->p == ',') {
			f->p++;
			continue;
		}
		if (f->p < f->end && *f->p == ']') {
			f->p++;
			return true;
		}
		return false;
	}
}

/* "prefs": an object of strings and nulls (an object value gives up). */
static bool fp_prefs(fastp *f, irow *r)
{
	enum { SEEN_MAX = 64 };
	const char *seen[SEEN_MAX];
	size_t nseen = 0;
	char a[AT_MAX], why[REASON_MAX];
	if (fp_null(f))
		return true;
	if (*f->p != '{')
		return false;
	f->p++;
	fp_ws(f);
	if (f->p < f->end && *f->p == '}') {
		f->p++;
		return true;
	}
	for (;;) {
		fp_ws(f);
		const char *cat = fp_string(f);
		if (!cat || nseen == SEEN_MAX)
			return false;
		for (size_t i = 0; i < nseen; i++)
			if (strcmp(seen[i], cat) == 0)
				return false;    /* a duplicate key: jansson says so */
		seen[nseen++] = cat;
		fp_ws(f);
		if (f->p >= f->end || *f->p++ != ':')
			return false;
		fp_ws(f);
		if (f->p >= f->end || pf_check_category(cat))
			return false;
		if (!fp_null(f)) {
			const char *v = fp_string(f);
			if (!v)
				return false;
			size_t blank = strlen(v);
			pf_imp_trimmed(v, &blank);
			if (blank) {
				snprintf(a, sizeof a, "field 'prefs', preference '%s'", cat);
				if (pf_imp_add_pref(r, cat, v, -1, NULL, a, why) != 0)
					return false;
			}
		}
		fp_ws(f);
		if (f->p < f->end && *f->p == ',') {
			f->p++;
			continue;
		}
		if (f->p < f->end && *f->p == '}') {
			f->p++;
			return true;
		}
		return false;
	}
}

enum { K_ID, K_EXT, K_NAME, K_EMAIL, K_PHONE, K_LANG, K_COUNTRY, K_LOYALTY, K_TIER, K_BIRTH,
       K_TAGS, K_CONSENT, K_PREFS, K_COUNT };
static const char *const fast_keys[K_COUNT] = {
	"id", "external_id", "name", "email", "phone", "language", "country", "loyalty_no",
	"tier", "birth_date", "tags", "consent", "prefs",
};

/* One top-level value of key k, as json_convert would take it. */
static bool fp_value(fastp *f, int k, irow *r)
{
	char why[REASON_MAX];
	if (k == K_PREFS)
		return fp_prefs(f, r);
	if (k == K_TAGS) {
		pf_imp_tags_reset(r);
		r->st_tags = CLEAR;
		if (fp_null(f))
			return true;
		if (!fp_list(f, "tags", ";", pf_imp_tag_item, r))
			return false;
		if (r->ntags)
			r->st_tags = SET;
		return true;
	}
	bool null = fp_null(f);
	const char *s = null ? NULL : fp_string(f);
	if (!null && !s)
		return false;
	switch (k) {
	case K_ID:
		return null || pf_imp_parse_id(r, s, "field 'id'", why) == 0;
	case K_EXT:
		return null || !*s || (r->ext = strdup(s)) != NULL;
	case K_NAME:
		return null || !*s || (r->name = strdup(s)) != NULL;
	case K_EMAIL:
		return pf_imp_set_text(&r->st_email, &r->email, s) == 0;
	case K_PHONE:
		return pf_imp_set_text(&r->st_phone, &r->phone, s) == 0;
	case K_LANG:
		return pf_imp_set_text(&r->st_lang, &r->language, s) == 0;
	case K_LOYALTY:
		return pf_imp_set_text(&r->st_loyalty, &r->loyalty, s) == 0;
	case K_COUNTRY:
		return pf_imp_parse_country(r, null ? "" : s, "field 'country'", why) == 0;
	case K_TIER:
		return pf_imp_parse_tier(r, null ? "" : s, "field 'tier'", why) == 0;
	case K_BIRTH:
		return pf_imp_parse_birth(r, null ? "" : s, "field 'birth_date'", why) == 0;
	case K_CONSENT: {
		if (null)
			return true;
		size_t n = strlen(s);
		pf_imp_trimmed(s, &n);
		if (n == 0)
			return true;
		r->consent = 0;
		if (pf_imp_split(r, s, ";,", pf_imp_consent_item, "field 'consent'", why) != 0)
			return false;
		r->st_consent = SET;
		return true;
	}
	default:
		return false;
	}
}

/* The line in text[0..len) into r; false (r cleared) to take the slow
 * path.  buf has room for len + 1 bytes. */
static bool fast_convert(const char *text, size_t len, char *buf, irow *r)
{
	fastp f = { text, text + len, buf };
	unsigned seen = 0;
	fp_ws(&f);
	if (f.p >= f.end || *f.p++ != '{')
		goto slow;
	fp_ws(&f);
	if (f.p < f.end && *f.p == '}') {
		f.p++;
		goto done;
	}
	for (;;) {
		fp_ws(&f);
		char *mark = f.out;
		const char *key = fp_string(&f);
		if (!key)
			goto slow;
		int k = 0;
		while (k < K_COUNT && strcmp(key, fast_keys[k]) != 0)
			k++;
		if (k == K_COUNT || (seen & (1u << k)))
			goto slow;          /* unknown or duplicate: jansson's words */
		seen |= 1u << k;
		f.out = mark;
		fp_ws(&f);
		if (f.p >= f.end || *f.p++ != ':')
			goto slow;
		fp_ws(&f);
		if (f.p >= f.end)
			goto slow;
		char *vmark = f.out;
		if (!fp_value(&f, k, r))
			goto slow;
		f.out = vmark;          /* copied by the parsers */
		fp_ws(&f);
		if (f.p < f.end && *f.p == ',') {
			f.p++;
			continue;
		}
		if (f.p < f.end && *f.p == '}') {
			f.p++;
			break;
		}
		goto slow;
	}
done:
	fp_ws(&f);
	if (f.p == f.end)
		return true;
slow:
	{
		uint64_t line = r->line;
		pf_imp_row_clear(r);
		r->line = line;
	}
	return false;
}

/* What is wrong with a line jansson refused, in words of our own:
 * jansson's texts quote the input near the error ("near 'ana@'"). */
static const char *json_what(const json_error_t *err)
{
	switch (json_error_code(err)) {
	case json_error_premature_end_of_input: return "the line ends inside a value";
	case json_error_end_of_input_expected:  return "text after the end of the object";
	case json_error_invalid_utf8:           return "bytes that are not UTF-8";
	case json_error_null_character:         return "a \\u0000 escape";
	case json_error_null_byte_in_key:       return "a NUL byte in a key";
	case json_error_duplicate_key:          return "a key that appears twice";
	case json_error_numeric_overflow:       return "a number too large";
	case json_error_stack_overflow:         return "values nested too deep";
	default:                                return "invalid syntax";
	}
}

uint64_t pf_imp_jsonl_precount(FILE *f)
{
	uint64_t n = 0;
	bool content = false;
	int ch;
	while ((ch = getc(f)) != EOF) {
		if (ch == '\n') {
			n += content;
			content = false;
		} else if (!pf_imp_is_blank((unsigned char)ch)) {
			content = true;
		}
	}
	n += content;
	rewind(f);
	return n;
}

/*
 * json_loadb, telling running out of memory from bad JSON.  jansson
 * reports an allocation that failed inside its lexer as a syntax error
 * (or with no message at all), so a failed parse is repeated: the same
 * input gives the same error, unless memory ran out.
 */
static json_t *jsonl_parse(const char *text, size_t len, json_error_t *err, bool *oom)
{
	json_error_t again;
	memset(err, 0, sizeof *err);
	memset(&again, 0, sizeof again);
	*oom = false;
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, err);
	if (!obj && !(obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &again)))
		*oom = !err->text[0] || json_error_code(err) == json_error_out_of_memory ||
		       err->position != again.position || strcmp(err->text, again.text) != 0;
	return obj;
}

/* Room for len + 1 bytes of decoded strings; false when memory is short
 * (the slow path then runs, and finds out for itself). */
static bool grow_scratch(char **s, size_t *cap, size_t len)
{
	size_t n = len + 1 > 4096 ? len + 1 : 4096;
	char *p = realloc(*s, n);
	if (!p)
		return false;
	*s = p;
	*cap = n;
	return true;
}

int pf_imp_jsonl_read(imp *im, FILE *f)
{
	char *buf = NULL;
	size_t cap = 0;
	uint64_t lineno = 0;
	int rc = 0;
	ssize_t got;

	char *scratch = NULL;
	size_t scap = 0;
	while (!im->stop && (errno = 0, got = getline(&buf, &cap, f)) >= 0) {
		char why[REASON_MAX] = "";
		char *text = buf;
		size_t len = (size_t)got;
		irow r;
		memset(&r, 0, sizeof r);
		r.line = ++lineno;
		if (lineno == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
			text += 3;
			len -= 3;
		}
		size_t tl = len;
		pf_imp_trimmed(text, &tl);
		if (tl == 0)
			continue;
		int conv;
		json_t *obj = NULL;
		json_error_t err;
		bool oom;
		if (len > JSONL_LINE_MAX) {
			conv = pf_imp_reason(why, "the line is longer than %d bytes", JSONL_LINE_MAX);
		} else if (!pf_utf8_valid(text, len)) {
			conv = pf_imp_reason(why, "the line is not valid UTF-8");
		} else if ((len < scap || grow_scratch(&scratch, &scap, len)) &&
		           fast_convert(text, len, scratch, &r)) {
			conv = 0;
		} else if (!(obj = jsonl_parse(text, len, &err, &oom))) {
			if (oom) {
				rc = pf_fail(PF_ENOMEM, "out of memory");
				goto out;
			}
			conv = pf_imp_reason(why, "invalid JSON at column %d: %s", err.column,
			              json_what(&err));
		} else if (!json_is_object(obj)) {
			conv = pf_imp_reason(why, "the line is not a JSON object");
		} else {
			conv = json_convert(obj, &r, why);
		}
		json_decref(obj);
		if ((rc = pf_imp_row_done(im, &r, conv, why)))
			goto out;
	}
	if (errno == ENOMEM)      /* getline: no error flag, see next_line */
		rc = pf_fail(PF_ENOMEM, "out of memory");
	else if (ferror(f))
		rc = pf_fail(PF_EIO, "reading '%s': %s", im->path,
		               strerror(errno ? errno : EIO));
out:
	free(buf);
	free(scratch);
	return rc;
}
