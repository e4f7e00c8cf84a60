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


#endif /* PF_ERROR_H */
