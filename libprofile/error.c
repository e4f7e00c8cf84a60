/*
 * error.c — return codes, their texts, and each thread's last-error detail.
 * Uses nothing else in the library; everything else reports through it.
 */
#include "internal.h"

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

int pf_seterr(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return code;
}

int pf_lmdb_err(int rc, const char *what)
{
	int code;
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		code = PF_ENOTFOUND;
		break;
	case MDB_KEYEXIST:
		code = PF_EEXIST;
		break;
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
	case EFBIG:         /* the process's file size limit (RLIMIT_FSIZE) */
		code = PF_EFULL;
		break;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_DBS_FULL:
	case EBUSY:
	case EAGAIN:
		code = PF_EBUSY;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_BAD_DBI:
	case MDB_INCOMPATIBLE:
	case MDB_VERSION_MISMATCH:
		code = PF_ECORRUPT;
		break;
	case MDB_BAD_VALSIZE:
	case EINVAL:
		code = PF_EINVAL;
		break;
	case ENOMEM:
		code = PF_ENOMEM;
		break;
	/* Permissions and read-only media; PF_EREADONLY is only for a write
	 * on a handle opened read-only. */
	case EACCES:
	case EROFS:
	case EPERM:
		code = PF_EACCES;
		break;
	case ENOENT:
		code = PF_ENOTFOUND;
		break;
	default:
		code = PF_EIO;
		break;
	}
	return pf_seterr(code, "%s: %s", what, mdb_strerror(rc));
}
