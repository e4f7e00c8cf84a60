/*
 * error.h — what error.c offers the other files of the library.
 * Owner: error.c: return codes and each thread's error detail.
 * Never installed; nothing here is API.
 */
#ifndef PF_ERROR_H
#define PF_ERROR_H

#include "libprofile.h"
#include <stdarg.h>

#define PF_PRINTF(a, b) __attribute__((format(printf, a, b)))

/** Record `code` and a formatted detail as this thread's last error;
 *  returns `code` so callers can `return pf_seterr(...)`. */
int pf_seterr(int code, const char *fmt, ...) PF_PRINTF(2, 3);


/**
 * Error context, set once per public entry point: every public function
 * calls pf_api_enter("pf_name") first; internal functions then report with
 * pf_fail(), which prefixes the message with that name ("pf_fire: ...").
 * A public function never calls another public function (it calls the
 * internal one), so the name is always the caller's.
 */
void pf_api_enter(const char *fn);
/** The name pf_api_enter recorded on this thread ("libprofile" if none). */
const char *pf_api_fn(void);
/** pf_seterr with "<entry point>: " before the formatted detail. */
int pf_fail(int code, const char *fmt, ...) PF_PRINTF(2, 3);

#endif /* PF_ERROR_H */
