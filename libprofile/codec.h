/*
 * codec.h — what codec.c offers the other files of the library.
 * Owner: codec.c: every stored record as a strict msgpack map; the record types.
 * Never installed; nothing here is API.
 */
#ifndef PF_CODEC_H
#define PF_CODEC_H

#include "libprofile.h"
#include <msgpack.h>
#include <stdbool.h>

/* Record versions (field "v" of each map). */
#define PF_REC_GUEST_V  1
#define PF_REC_STAY_V   1
#define PF_REC_RULE_V   1
#define PF_REC_EVENT_V  1
#define PF_REC_PROMPT_V 1

/** Maximum msgpack nesting depth the decoder accepts. */
#define PF_CODEC_MAX_DEPTH 4

/**
 * A stored guest: the public view first (pf_guest_free() casts back),
 * then what only the library sees.  Every string and array is separately
 * malloc'd and owned by the record; pf_guest_rec_free() frees them.  A
 * `packed` record (pf_codec_guest_decode_packed) is one block instead:
 * read-only, its strings and arrays inside it, freed as one.
 */
typedef struct pf_guest_rec {
	pf_guest g;               /* g.prefs == prefs, g.tags == (const char**)tags */
	pf_pref *prefs;           /* sorted by category */
	size_t pref_cap;
	char **tags;
	uint32_t complaints_open;
	uint32_t complaints_total;
	char *complaint_last_category;
	char *complaint_latest;
	bool packed;              /* one block: never replace or free a part of it */
} pf_guest_rec;

void pf_guest_rec_free(pf_guest_rec *r);

/** Free a preference's strings and zero it (not the struct itself). */
void pf_pref_clear(pf_pref *p);

/** Deep copy of src (its strings malloc'd) into dst.  PF_ENOMEM (no
 *  message set) leaves dst holding nothing. */
int pf_pref_copy(pf_pref *dst, const pf_pref *src);

/** Deep-copy a caller's pf_guest (profile fields only) into a new record.
 *  Returns 0 or PF_ENOMEM. */
int pf_guest_rec_from_public(pf_guest_rec **out, const pf_guest *g);

/** Encode a record into sb (which the caller initialised).  0 or PF_ENOMEM. */
int pf_codec_guest_encode(msgpack_sbuffer *sb, const pf_guest_rec *r);

/** Decode and validate; PF_ECORRUPT (message names db "guest" and the
 *  field) for anything malformed.  *out is freed with pf_guest_rec_free. */
int pf_codec_guest_decode(pf_guest_rec **out, const void *data, size_t len);

/** The same checks and record, in one malloc'd block (record, preference
 *  and tag arrays, strings) for readers that only look at it: a preview,
 *  pf_guest_get, pf_guest_find.  Freed with pf_guest_rec_free. */
int pf_codec_guest_decode_packed(pf_guest_rec **out, const void *data, size_t len);

/** Stay record (key holds guest and arrival; the value holds the rest). */
int pf_codec_stay_encode(msgpack_sbuffer *sb, const pf_stay *s);
/** Decodes into s (strings malloc'd; free with pf_stay_clear). */
int pf_codec_stay_decode(pf_stay *s, const void *data, size_t len);
void pf_stay_clear(pf_stay *s);

/** Prompt record.  Decoded strings are malloc'd; pf_prompt_clear frees them. */
int pf_codec_prompt_encode(msgpack_sbuffer *sb, const pf_prompt *p);
int pf_codec_prompt_decode(pf_prompt *p, const void *data, size_t len);
void pf_prompt_clear(pf_prompt *p);

/** Event record: what was fired and which prompts it made. */
typedef struct pf_event_rec {
	pf_event_kind kind;
	pf_id guest;
	pf_time time;
	pf_date arrival;
	size_t prompt_count;
	pf_id *prompts;           /* malloc'd */
} pf_event_rec;

int pf_codec_event_encode(msgpack_sbuffer *sb, const pf_event_rec *e);
int pf_codec_event_decode(pf_event_rec *e, const void *data, size_t len);
void pf_event_rec_clear(pf_event_rec *e);

/** Rule record: the rule's position in the book and its source text. */
typedef struct pf_rule_rec {
	uint32_t order;
	char *source;             /* malloc'd */
} pf_rule_rec;

int pf_codec_rule_encode(msgpack_sbuffer *sb, const pf_rule_rec *r);
int pf_codec_rule_decode(pf_rule_rec *r, const void *data, size_t len);


/* Journal limits, enforced by pf_journal_append and by the decoder.
 * Generous: a mutation is never refused because its entry is large. */
#define PF_JOURNAL_OP_MAX     64
#define PF_JOURNAL_ACTOR_MAX  (2 * PF_FIELD_MAX + 1)   /* "department/staff" */
#define PF_JOURNAL_REF_MAX    4096                      /* e.g. a rule book path */
#define PF_JOURNAL_NAME_MAX   64
#define PF_JOURNAL_VALUE_MAX  16384
#define PF_JOURNAL_FIELDS_MAX 1024

/** Journal record (key: big-endian seq, which the record does not hold).
 *  The decoded entry owns its strings and field array; free them with
 *  pf_journal_entry_clear().  e->seq is left 0 by decode. */
#define PF_REC_JOURNAL_V 1
int pf_codec_journal_encode(msgpack_sbuffer *sb, const pf_journal_entry *e);
int pf_codec_journal_decode(pf_journal_entry *e, const void *data, size_t len);
void pf_journal_entry_clear(pf_journal_entry *e);

/** One stay of the duplicate as it was before a merge. */
typedef struct pf_merge_stay {
	pf_date arrival;
	bool moved;               /* re-keyed to keep; false: keep had that arrival,
	                             the duplicate's stay was dropped */
	unsigned char *value;     /* the stored stay value, byte for byte (malloc'd) */
	size_t len;
} pf_merge_stay;

/** A byte string owned by a merge record. */
typedef struct pf_merge_blob {
	unsigned char *data;      /* malloc'd */
	size_t len;
} pf_merge_blob;

/** Everything pf_guest_unmerge() needs to put two profiles back. */
typedef struct pf_merge_rec {
	pf_id keep, dup;
	pf_time time;
	pf_merge_blob keep_before;    /* keep's guest record before the merge */
	pf_merge_blob keep_after;     /* keep's guest record as the merge wrote it */
	pf_merge_blob dup_before;     /* the duplicate's guest record */
	size_t stay_count;
	pf_merge_stay *stays;
	size_t prompt_count;
	pf_id *prompts;               /* prompts re-pointed from dup to keep */
	size_t event_count;
	pf_merge_blob *events;        /* event keys (event ids) re-pointed */
	size_t feedback_count;
	pf_id *feedback;              /* feedback moved from dup to keep */
} pf_merge_rec;

#define PF_REC_MERGE_V 1
int pf_codec_merge_encode(msgpack_sbuffer *sb, const pf_merge_rec *m);
/** Decodes into *m (zeroed first); free with pf_merge_rec_clear. */
int pf_codec_merge_decode(pf_merge_rec *m, const void *data, size_t len);
void pf_merge_rec_clear(pf_merge_rec *m);

#define PF_REC_FEEDBACK_V 1
#define PF_FEEDBACK_PROMPTS_MAX 2

/** A stored feedback record: the public view, plus the complaint prompts
 *  (to the department and to management) its creation made. */
typedef struct pf_feedback_rec {
	pf_feedback f;            /* decoded strings are malloc'd */
	size_t prompt_count;
	pf_id prompts[PF_FEEDBACK_PROMPTS_MAX];
} pf_feedback_rec;

/** Encode / decode (codec.c).  The id lives in the key: decode leaves
 *  f.id zero.  pf_feedback_rec_clear frees decoded strings and zeroes. */
int pf_codec_feedback_encode(msgpack_sbuffer *sb, const pf_feedback_rec *r);
int pf_codec_feedback_decode(pf_feedback_rec *r, const void *data, size_t len);
void pf_feedback_rec_clear(pf_feedback_rec *r);

/** The kinds of stored record, for pf_codec_recode. */
typedef enum pf_rec_kind {
	PF_REC_GUEST, PF_REC_STAY, PF_REC_PROMPT, PF_REC_EVENT, PF_REC_RULE,
	PF_REC_JOURNAL, PF_REC_MERGE, PF_REC_FEEDBACK
} pf_rec_kind;

/**
 * A stored record of `kind` written again in the current format (schema
 * upgrades): decoded, whichever key form it has, and encoded into `sb`
 * (cleared first).  Decoding and encoding are exact inverses for every
 * field, so the record means the same.  Errors: those of the decoder
 * (PF_ECORRUPT: the record is left for pf_verify to report) and PF_ENOMEM.
 */
int pf_codec_recode(pf_rec_kind kind, const void *data, size_t len, msgpack_sbuffer *sb);

#endif /* PF_CODEC_H */
