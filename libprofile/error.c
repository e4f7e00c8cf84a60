/*
 * error.c — return codes, their texts, and each thread's last-error detail.
 * Uses nothing else in the library; everything else reports through it.
 */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Thread-local so concurrent callers never see each other's details. */
static _Thread_local char last_error[512];

const char *pf_strerror(int code)
{
	switch (code) {
	case PF_OK:        return "success";
	case PF_ENOTFOUND: return "not found";
	case PF_EEXIST:    return "already exists";
	case PF_EINVAL:    return "invalid argument";
	case PF_ENOMEM:    return "out of memory";
	case PF_EIO:       return "input/output error";
	case PF_ECORRUPT:  return "stored data is corrupt";
	case PF_EFULL:     return "storage is full";
	case PF_EBUSY:     return "resource busy";
	case PF_ESYNTAX:   return "rule book syntax error";
	case PF_EVERSION:  return "database written by a newer version";
	case PF_EREADONLY: return "database is read-only";
	case PF_ITEROVER:  return "no more items";
	case PF_EACCES:    return "permission denied";
	default:           return "unknown error code";
	}
}

const char *pf_errmsg(void)
{
	return last_error;
}

void pf_errmsg_set(const char *text)
{
	snprintf(last_error, sizeof last_error, "%s", text ? text : "");
}

int pf_seterr(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return code;
}

/* The public function running on this thread, named once at its entry so
 * that internal functions never pass their caller's name as a string. */
static _Thread_local const char *api_fn;

void pf_api_enter(const char *fn)
{
	api_fn = fn;
}

const char *pf_api_fn(void)
{
	return api_fn ? api_fn : "libprofile";
}

int pf_fail(int code, const char *fmt, ...)
{
	int n = snprintf(last_error, sizeof last_error, "%s: ", pf_api_fn());
	if (n < 0 || (size_t)n >= sizeof last_error)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error + n, sizeof last_error - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}
