/*
 * tz.h — what tz.c offers the other files of the library.
 * Owner: tz.c: the hotel's time zone, business days, due times.
 * Never installed; nothing here is API.
 */
#ifndef PF_TZ_H
#define PF_TZ_H

#include "libprofile.h"
#include <stdint.h>

/* tz.c: the hotel's time zone and business day (db->tz), loaded once at
 * pf_open; read-only afterwards.  NULL means UTC with the default day. */
typedef struct pf_tz pf_tz;

/** Validate the version-2 fields of *o (business day end, cut-off, offset,
 *  zone name), load the zone from the system zoneinfo, and normalise *o:
 *  defaults resolved, o->timezone pointing at the zone's own copy of the
 *  name (never the caller's).  The zone keeps the business day's end and
 *  the complaint cut-off.  PF_EINVAL for an unknown zone or a bad
 *  value; `what` prefixes messages. */
int pf_tz_setup(pf_tz **out, pf_options *o);
void pf_tz_free(pf_tz *tz);

/** Offset east of UTC, in seconds, in force at instant t (NULL tz: 0). */
int32_t pf_tz_offset(const pf_tz *tz, pf_time t);
/** The instant of a local wall-clock time given as seconds since
 *  1970-01-01 00:00 local; a repeated time gives the first instant, a
 *  skipped one is moved on by the gap. */
pf_time pf_tz_from_local(const pf_tz *tz, int64_t local);

/** The calendar date in zone tz at t, and the instant its day `d` starts. */
pf_date pf_local_date(const pf_tz *tz, pf_time t);
pf_time pf_local_day_start(const pf_tz *tz, pf_date d);
/** The sunset rule: a complaint recorded at t is due at the end of that
 *  local business day, or at noon the next day when recorded at or after
 *  the cut-off (or after the business day ended). */
pf_time pf_sunset_due(const pf_tz *tz, pf_time recorded);
/** A follow-up after a resolution at t: the end of the next business day. */
pf_time pf_followup_due(const pf_tz *tz, pf_time resolved);

#endif /* PF_TZ_H */
