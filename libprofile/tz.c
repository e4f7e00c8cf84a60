/*
 * tz.c — the hotel's time zone and business day: a fixed UTC offset or an
 * IANA zone read from the system zoneinfo (TZif versions 1 to 4, with the
 * POSIX TZ rule in the file's footer for instants past its table), and the
 * arithmetic built on it: local dates, the start of a local day, the
 * complaint "sunset" due time and the follow-up due time.
 *
 * A pf_tz holds the zone and the business day (its end, the complaint
 * cut-off); every function here takes the zone and the instants it works
 * on, never the handle, and never reads the clock: "now" is the caller's.
 * The public helpers over a handle (pf_day_start, pf_utc_offset,
 * pf_complaint_due) are db.c's.
 *
 * Never touches TZ, tzset() or localtime(): they are process-global and
 * not thread-safe, and two databases in one process may be in different
 * zones.  A zone is loaded once at pf_open (db.c calls pf_tz_setup) and
 * is read-only afterwards, so any thread may use it.
 *
 * May call: error.c and text.c only.
 */
#include "tz.h"
#include "error.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo/"
#define ZONE_NAME_MAX 255
#define TZIF_FILE_MAX ((size_t)1 << 20)
#define DAY 86400
#define OFFSET_MAX (26 * 3600)          /* TZif allows less than a day and a bit */
#define OFFSET_MINUTES_MAX (18 * 60)    /* a fixed offset: ISO 8601's range */
#define DEFAULT_DAY_END 1439            /* 23:59 */
#define DEFAULT_CUTOFF 1320             /* 22:00 */
#define NOON (12 * 3600)

/* One end of daylight time in a POSIX TZ rule: the day and the local time
 * of day (seconds, may be negative or past 24 h, as RFC 8536 allows). */
typedef struct dst_rule {
	char form;                /* 'J' (1..365, no leap day), 'n' (0..365), 'M' */
	int n, m, w, d;
	int32_t time;
} dst_rule;

typedef struct posix_tz {
	bool valid;
	bool has_dst;
	int32_t std_off, dst_off; /* seconds east of UTC */
	dst_rule start, end;
} posix_tz;

struct pf_tz {
	char *name;               /* owned; NULL for a fixed offset */
	int32_t fixed;            /* the offset when name is NULL */
	size_t ntrans;
	int64_t *trans;           /* transition instants (UTC), ascending */
	int32_t *trans_off;       /* offset in effect from trans[i] on */
	int32_t first_off;        /* before the first transition: time type 0 */
	posix_tz footer;          /* after the last transition, when valid */
	int day_end;              /* minute of the day the business day ends */
	int cutoff;               /* complaint cut-off minute; -1: none */
};

/* ------------------------------------------------------------------ */
/* Calendar arithmetic (proleptic Gregorian, any year)                  */
/* ------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : md[m - 1];
}

/* Days since 1970-01-01 of y-m-d (Howard Hinnant's civil algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday. */
static int weekday(int64_t days)
{
	return (int)(((days % 7) + 7 + 4) % 7);   /* 1970-01-01 was a Thursday */
}

/* ------------------------------------------------------------------ */
/* POSIX TZ strings ("EST5EDT,M3.2.0,M11.1.0", "<+08>-8", "CST-8")      */
/* ------------------------------------------------------------------ */

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An abbreviation: three or more letters, or <...> of letters, digits
 * and signs. */
static bool tz_name(const char **pp)
{
	const char *p = *pp;
	size_t n = 0;
	if (*p == '<') {
		p++;
		while (*p && *p != '>') {
			if (!is_alpha(*p) && !is_digit(*p) && *p != '+' && *p != '-')
				return false;
			p++;
			n++;
		}
		if (*p != '>' || n < 3)
			return false;
		*pp = p + 1;
		return true;
	}
	while (is_alpha(*p)) {
		p++;
		n++;
	}
	if (n < 3)
		return false;
	*pp = p;
	return true;
}

static bool tz_num(const char **pp, int max, int *out)
{
	const char *p = *pp;
	int v = 0, n = 0;
	while (is_digit(*p) && n < 4) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || v > max)
		return false;
	*pp = p;
	*out = v;
	return true;
}

/* [+-]h[:mm[:ss]] with h at most max_h; seconds, sign applied. */
static bool tz_hms(const char **pp, int max_h, int32_t *out)
{
	const char *p = *pp;
	int sign = 1, h = 0, m = 0, s = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (!tz_num(&p, max_h, &h))
		return false;
	if (*p == ':') {
		p++;
		if (!tz_num(&p, 59, &m))
			return false;
		if (*p == ':') {
			p++;
			if (!tz_num(&p, 59, &s))
				return false;
		}
	}
	*pp = p;
	*out = sign * (h * 3600 + m * 60 + s);
	return true;
}

static bool tz_rule(const char **pp, dst_rule *r)
{
	const char *p = *pp;
	memset(r, 0, sizeof *r);
	if (*p == 'J') {
		p++;
		r->form = 'J';
		if (!tz_num(&p, 365, &r->n) || r->n < 1)
			return false;
	} else if (*p == 'M') {
		p++;
		r->form = 'M';
		if (!tz_num(&p, 12, &r->m) || r->m < 1 || *p++ != '.' ||
		    !tz_num(&p, 5, &r->w) || r->w < 1 || *p++ != '.' || !tz_num(&p, 6, &r->d))
			return false;
	} else {
		r->form = 'n';
		if (!tz_num(&p, 365, &r->n))
			return false;
	}
	r->time = 2 * 3600;
	if (*p == '/') {
		p++;
		if (!tz_hms(&p, 167, &r->time))
			return false;
	}
	*pp = p;
	return true;
}

/* Parse a POSIX TZ string; false if it is not one this code understands. */
static bool posix_parse(const char *s, posix_tz *tz)
{
	const char *p = s;
	int32_t off;

	memset(tz, 0, sizeof *tz);
	if (!tz_name(&p) || !tz_hms(&p, 24, &off))
		return false;
	tz->std_off = -off;       /* POSIX counts west of UTC as positive */
	if (*p == '\0') {
		tz->valid = true;
		return true;
	}
	if (!tz_name(&p))
		return false;
	tz->has_dst = true;
	tz->dst_off = tz->std_off + 3600;
	if (*p && *p != ',') {
		if (!tz_hms(&p, 24, &off))
			return false;
		tz->dst_off = -off;
	}
	if (*p == '\0') {
		/* No rule given: the US rules, as glibc assumes. */
		const char *def = ",M3.2.0,M11.1.0";
		p = def;
	}
	if (*p++ != ',' || !tz_rule(&p, &tz->start) || *p++ != ',' || !tz_rule(&p, &tz->end) ||
	    *p != '\0')
		return false;
	tz->valid = true;
	return true;
}

/* Local midnight (as days since 1970) of the day a rule names in year y. */
static int64_t rule_day(const dst_rule *r, int64_t y)
{
	int64_t jan1 = days_from_civil(y, 1, 1);
	switch (r->form) {
	case 'J':
		/* Counts 1..365 and never the 29th of February. */
		return jan1 + r->n - 1 + (leap(y) && r->n >= 60 ? 1 : 0);
	case 'n':
		return jan1 + r->n;
	default: {
		int64_t first = days_from_civil(y, r->m, 1);
		int day = 1 + (r->d - weekday(first) + 7) % 7 + (r->w - 1) * 7;
		if (day > month_days(y, r->m))
			day -= 7;          /* week 5 means the last one */
		return first + day - 1;
	}
	}
}

static int32_t posix_offset(const posix_tz *tz, pf_time t)
{
	if (!tz->has_dst)
		return tz->std_off;
	int64_t y;
	int m, d;
	civil_from_days(floor_div(t + tz->std_off, DAY), &y, &m, &d);
	/* Daylight time starts at a local standard time and ends at a local
	 * daylight time. */
	int64_t start = rule_day(&tz->start, y) * DAY + tz->start.time - tz->std_off;
	int64_t end = rule_day(&tz->end, y) * DAY + tz->end.time - tz->dst_off;
	bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
	return dst ? tz->dst_off : tz->std_off;
}

/* ------------------------------------------------------------------ */
/* TZif files (RFC 8536)                                                */
/* ------------------------------------------------------------------ */

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t rd64(const unsigned char *p)
{
	return (int64_t)((uint64_t)rd32(p) << 32 | rd32(p + 4));
}

typedef struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static bool tzif_header(const unsigned char *p, size_t len, tzif_counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return false;
	c->isut = rd32(p + 20);
	c->isstd = rd32(p + 24);
	c->leap = rd32(p + 28);
	c->time = rd32(p + 32);
	c->type = rd32(p + 36);
	c->chars = rd32(p + 40);
	/* Bounds far above any real zone keep the size sums from overflowing. */
	return c->time <= 1000000 && c->type >= 1 && c->type <= 256 && c->chars <= 65536 &&
	       c->leap <= 100000 && c->isut <= 256 && c->isstd <= 256;
}

static size_t tzif_block(const tzif_counts *c, size_t tsize)
{
	return (size_t)c->time * (tsize + 1) + (size_t)c->type * 6 + c->chars +
	       (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* Fill tz from a TZif file's bytes.  Returns NULL or what was wrong. */
static const char *tzif_parse(pf_tz *tz, const unsigned char *buf, size_t len)
{
	tzif_counts c;
	size_t tsize = 4, pos;
	const unsigned char *p;

	if (!tzif_header(buf, len, &c))
		return "not a TZif file";
	pos = 44;
	if (buf[4] >= '2') {
		/* Skip the 32-bit block: the 64-bit one follows it. */
		size_t skip = tzif_block(&c, 4);
		if (len - pos < skip)
			return "truncated";
		pos += skip;
		if (!tzif_header(buf + pos, len - pos, &c))
			return "bad second header";
		pos += 44;
		tsize = 8;
	}
	if (len - pos < tzif_block(&c, tsize))
		return "truncated";
	if (c.leap)
		return "leap-second zones (right/...) are not supported";
	p = buf + pos;
	const unsigned char *times = p;
	const unsigned char *idx = times + (size_t)c.time * tsize;
	const unsigned char *types = idx + c.time;

	int32_t offs[256];
	for (uint32_t i = 0; i < c.type; i++) {
		int32_t off = (int32_t)rd32(types + 6 * (size_t)i);
		if (off < -OFFSET_MAX || off > OFFSET_MAX)
			return "a UTC offset is out of range";
		offs[i] = off;
	}
	tz->first_off = offs[0];
	if (c.time) {
		tz->trans = malloc(c.time * sizeof *tz->trans);
		tz->trans_off = malloc(c.time * sizeof *tz->trans_off);
		if (!tz->trans || !tz->trans_off)
			return "out of memory";
	}
	for (uint32_t i = 0; i < c.time; i++) {
		int64_t t = tsize == 8 ? rd64(times + 8 * (size_t)i)
		                       : (int64_t)(int32_t)rd32(times + 4 * (size_t)i);
		if (i && t <= tz->trans[i - 1])
			return "transitions are not in ascending order";
		if (idx[i] >= c.type)
			return "a transition names an unknown time type";
		tz->trans[i] = t;
		tz->trans_off[i] = offs[idx[i]];
	}
	tz->ntrans = c.time;

	/* The footer: "\n" POSIX-TZ "\n".  One this code cannot read (or an
	 * empty one) leaves the table in charge, which is right up to its
	 * end; a zone must not become unusable over a far-future rule. */
	pos += tzif_block(&c, tsize);
	if (tsize == 8 && pos < len && buf[pos] == '\n') {
		const unsigned char *nl = memchr(buf + pos + 1, '\n', len - pos - 1);
		size_t n = nl ? (size_t)(nl - (buf + pos + 1)) : 0;
		if (nl && n > 0 && n < 128) {
			char s[128];
			memcpy(s, buf + pos + 1, n);
			s[n] = '\0';
			if (!posix_parse(s, &tz->footer))
				memset(&tz->footer, 0, sizeof tz->footer);
		}
	}
	return NULL;
}

/* A zone name is a relative path under the zoneinfo directory: nothing
 * that could climb out of it or name something else. */
static bool zone_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > ZONE_NAME_MAX || name[0] == '/')
		return false;
	for (const char *p = name; *p; p++)
		if (!is_alpha(*p) && !is_digit(*p) && !strchr("/_+-.", *p))
			return false;
	/* No empty, "." or ".." component. */
	const char *c = name;
	for (;;) {
		const char *e = strchr(c, '/');
		size_t len = e ? (size_t)(e - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!e)
			return true;
		c = e + 1;
	}
}

static int read_zone(pf_tz *tz, const char *name)
{
	char path[sizeof ZONEINFO_DIR + ZONE_NAME_MAX];
	unsigned char *buf = NULL;
	size_t n = 0;
	struct stat st;
	int fd, rc = 0;

	snprintf(path, sizeof path, ZONEINFO_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return pf_fail(PF_EINVAL, "unknown time zone '%s' (no %s)", name,
			                 path);
		return pf_fail(PF_EIO, "cannot read time zone '%s': %s", name,
		                 strerror(e));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uintmax_t)st.st_size > TZIF_FILE_MAX) {
		rc = pf_fail(PF_EINVAL, "unknown time zone '%s' (%s is not a zone file)", name, path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	while (n < (size_t)st.st_size + 1) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = pf_fail(PF_EIO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	const char *bad = tzif_parse(tz, buf, n);
	if (bad)
		rc = pf_fail(strcmp(bad, "out of memory") ? PF_EINVAL : PF_ENOMEM,
		               "time zone '%s': %s: %s", name, path, bad);
out:
	close(fd);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Loading and the zone's offsets                                       */
/* ------------------------------------------------------------------ */

void pf_tz_free(pf_tz *tz)
{
	if (!tz)
		return;
	free(tz->name);
	free(tz->trans);
	free(tz->trans_off);
	free(tz);
}

int pf_tz_setup(pf_tz **out, pf_options *o)
{
	pf_tz *tz = NULL;
	int rc;

	*out = NULL;
	if (o->business_day_end < 0 || o->business_day_end > 1439)
		return pf_fail(PF_EINVAL, "business_day_end %d is not a minute of the day "
		                 "(0..1439; 0 means 23:59)", o->business_day_end);
	if (o->complaint_cutoff < -1 || o->complaint_cutoff > 1439)
		return pf_fail(PF_EINVAL, "complaint_cutoff %d is not a minute of the day "
		                 "(0..1439; 0 means 22:00, -1 none)", o->complaint_cutoff);
	if (o->utc_offset_minutes < -OFFSET_MINUTES_MAX ||
	    o->utc_offset_minutes > OFFSET_MINUTES_MAX)
		return pf_fail(PF_EINVAL, "utc_offset_minutes %d is out of range (-%d..%d)", o->utc_offset_minutes, OFFSET_MINUTES_MAX,
		                 OFFSET_MINUTES_MAX);
	if (o->timezone) {
		if ((rc = pf_check_text("timezone", o->timezone, ZONE_NAME_MAX, true)))
			return rc;
		if (o->utc_offset_minutes)
			return pf_fail(PF_EINVAL, "give a timezone or a utc_offset_minutes, "
			                 "not both");
		if (!zone_name_ok(o->timezone))
			return pf_fail(PF_EINVAL, "'%s' is not a time zone name (such as "
			                 "Asia/Macau)", o->timezone);
	}

	tz = calloc(1, sizeof *tz);
	if (!tz || (o->timezone && !(tz->name = strdup(o->timezone)))) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto fail;
	}
	tz->fixed = o->utc_offset_minutes * 60;
	if (tz->name && (rc = read_zone(tz, tz->name)))
		goto fail;

	/* The handle keeps the defaults resolved and never the caller's
	 * pointer: the name now belongs to the zone. */
	o->timezone = tz->name;
	if (o->business_day_end == 0)
		o->business_day_end = DEFAULT_DAY_END;
	if (o->complaint_cutoff == 0)
		o->complaint_cutoff = DEFAULT_CUTOFF;
	tz->day_end = o->business_day_end;
	tz->cutoff = o->complaint_cutoff;
	*out = tz;
	return 0;
fail:
	pf_tz_free(tz);
	return rc;
}

int32_t pf_tz_offset(const pf_tz *tz, pf_time t)
{
	if (!tz)
		return 0;
	if (!tz->name)
		return tz->fixed;
	if (tz->ntrans == 0)
		return tz->footer.valid ? posix_offset(&tz->footer, t) : tz->first_off;
	if (t < tz->trans[0])
		return tz->first_off;
	if (t >= tz->trans[tz->ntrans - 1] && tz->footer.valid)
		return posix_offset(&tz->footer, t);
	/* The last transition at or before t. */
	size_t lo = 0, hi = tz->ntrans;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->trans_off[lo];
}

/*
 * The instant a local wall-clock time (seconds since 1970-01-01 00:00
 * local) happens.  Offsets change by less than a day, so the offsets in
 * force a day either side are the only candidates.  A time that happens
 * twice (clocks going back) gives the first; one that never happens
 * (clocks going forward) is moved on by the gap, as a clock would show.
 */
pf_time pf_tz_from_local(const pf_tz *tz, int64_t local)
{
	int32_t a = pf_tz_offset(tz, local - DAY), b = pf_tz_offset(tz, local + DAY);
	bool a_ok = pf_tz_offset(tz, local - a) == a, b_ok = pf_tz_offset(tz, local - b) == b;
	if (a_ok && b_ok)
		return a > b ? local - a : local - b;
	if (a_ok)
		return local - a;
	if (b_ok)
		return local - b;
	return local - a;
}

/* ------------------------------------------------------------------ */
/* Business-day arithmetic over a zone                                  */
/* ------------------------------------------------------------------ */

/* Local days since 1970 and second of the day at t. */
static int64_t local_day(const pf_tz *tz, pf_time t, int64_t *sec_of_day)
{
	int64_t local = t + pf_tz_offset(tz, t);
	int64_t day = floor_div(local, DAY);
	if (sec_of_day)
		*sec_of_day = local - day * DAY;
	return day;
}

/* The business day's end and the cut-off, in minutes (NULL tz: the
 * defaults). */
static int day_end(const pf_tz *tz)
{
	return tz && tz->day_end ? tz->day_end : DEFAULT_DAY_END;
}

static int cutoff(const pf_tz *tz)
{
	return tz && tz->cutoff ? tz->cutoff : DEFAULT_CUTOFF;
}

pf_date pf_local_date(const pf_tz *tz, pf_time t)
{
	int64_t y;
	int m, d;
	civil_from_days(local_day(tz, t, NULL), &y, &m, &d);
	return (pf_date)(y * 10000 + m * 100 + d);
}

pf_time pf_local_day_start(const pf_tz *tz, pf_date date)
{
	int64_t days = days_from_civil(date / 10000, date / 100 % 100, date % 100);
	return pf_tz_from_local(tz, days * DAY);
}

pf_time pf_sunset_due(const pf_tz *tz, pf_time recorded)
{
	int64_t sec;
	int64_t day = local_day(tz, recorded, &sec);
	int minute = (int)(sec / 60);
	int end = day_end(tz), cut = cutoff(tz);
	/* Too late to be answered today, whether by the cut-off or because
	 * the business day is over: noon the next day. */
	if ((cut >= 0 && minute >= cut) || minute >= end)
		return pf_tz_from_local(tz, (day + 1) * DAY + NOON);
	return pf_tz_from_local(tz, day * DAY + (int64_t)end * 60);
}

pf_time pf_followup_due(const pf_tz *tz, pf_time resolved)
{
	int64_t day = local_day(tz, resolved, NULL);
	return pf_tz_from_local(tz, (day + 1) * DAY + (int64_t)day_end(tz) * 60);
}
