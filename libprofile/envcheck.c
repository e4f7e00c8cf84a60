/*
 * envcheck.c — checks of an LMDB data file that LMDB 0.9 does not make
 * before it maps the file: both meta pages are LMDB meta pages of one
 * page size; the newest one names roots inside the file; the file holds
 * every page that is in use (LMDB maps the whole file and dies with
 * SIGBUS on the first touch of a page past its end); and the main
 * database's records of the named databases point at sane pages.
 *
 * The file is only ever read with pread(), never mapped, so damage comes
 * back as PF_ECORRUPT, never as a signal.  Used by store.c at pf_open;
 * uses error.c only.
 *
 * The on-disk layout read here is LMDB 0.9's (liblmdb 0.9.x built
 * without MDB_VL32, as Debian ships it), in the machine's byte order:
 * page numbers and transaction ids are size_t.  A page starts with a
 * header (page number, a 16-bit pad, 16-bit flags, then two 16-bit
 * bounds of the free space, or for an overflow page a 32-bit page
 * count), followed by 16-bit offsets of its nodes.  Pages 0 and 1 are
 * the two meta pages; a commit writes the older of them, so the one with
 * the larger transaction id is the current state.
 */
#include "envcheck.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Widths: page numbers, transaction ids, sizes (size_t); a pointer. */
#define W  sizeof(size_t)
#define WP sizeof(void *)

/* Page header. */
#define PG_PGNO   0
#define PG_FLAGS  (W + 2)
#define PG_LOWER  (W + 4)
#define PG_UPPER  (W + 6)
#define PG_NPAGES (W + 4)         /* overflow pages: how many pages */
#define PG_HDR    (W + 8)

#define P_BRANCH   0x01
#define P_LEAF     0x02
#define P_OVERFLOW 0x04
#define P_META     0x08
#define P_LEAF2    0x20

/* A database record (the free list's and the main database's in the
 * meta page, each named database's in the main database). */
#define DB_PAD      0             /* 32 bits; in the free list's record, the page size */
#define DB_FLAGS    4             /* 16 bits */
#define DB_DEPTH    6             /* 16 bits */
#define DB_ENTRIES  (8 + 3 * W)
#define DB_ROOT     (8 + 4 * W)
#define DB_SIZE     (8 + 5 * W)

/* The meta record, right after the page header of pages 0 and 1. */
#define M_MAGIC   0               /* 32 bits */
#define M_VERSION 4               /* 32 bits */
#define M_DBS     (8 + WP + W)    /* after the map address and the map size */
#define M_LASTPG  (M_DBS + 2 * DB_SIZE)
#define M_TXNID   (M_LASTPG + W)
#define M_SIZE    (M_TXNID + W)

#define LMDB_MAGIC        0xBEEFC0DEu
#define LMDB_DATA_VERSION 1u
#define NO_PAGE           (~(uint64_t)0)
#define FREE_DB 0
#define MAIN_DB 1

/* A node: a 32-bit data size (in a branch page, the low 32 bits of the
 * child's page number) stored as two 16-bit halves, 16-bit flags (in a
 * branch page, bits 32-47 of the page number), a 16-bit key size, then
 * the key and the data. */
#define N_FLAGS 4
#define N_KSIZE 6
#define N_HDR   8
#define F_BIGDATA 0x01            /* the data is on overflow pages */
#define F_SUBDATA 0x02            /* the data is a named database's record */

/* Deeper trees than this would need more pages than a 64-bit file can
 * hold; a larger depth is damage. */
#define MAX_DEPTH 32
/* Pages past the end of a short file that may be checked against the
 * free list: a bitmap of them is kept (1 bit each). */
#define MAX_MISSING ((uint64_t)1 << 27)

struct env_file {
	int fd;
	const char *path;         /* for messages */
	uint64_t size;            /* bytes */
	uint64_t psize;
	uint64_t last_pg;         /* of the newest meta page */
	uint64_t pages_read;      /* a guard against loops in a damaged tree */
	unsigned char *page;      /* one page of scratch per tree level */
};

static uint64_t get16(const unsigned char *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t get_word(const unsigned char *p)
{
	size_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* The 32-bit size field of a node, and with the flags the child page
 * number of a branch node. */
static uint64_t node_lo32(const unsigned char *n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return get16(n + 2) | (get16(n) << 16);
#else
	return get16(n) | (get16(n + 2) << 16);
#endif
}

static uint64_t node_child(const unsigned char *n)
{
	uint64_t pg = node_lo32(n);
	if (W > 4)
		pg |= get16(n + N_FLAGS) << 32;
	return pg;
}

static int truncated(struct env_file *f, uint64_t pgno)
{
	return pf_seterr(PF_ECORRUPT, "pf_open: '%s' is truncated: restore from backup "
	                 "(the file is %llu bytes; page %llu, which is in use, ends at byte %llu)",
	                 f->path, (unsigned long long)f->size, (unsigned long long)pgno,
	                 (unsigned long long)((pgno + 1) * f->psize));
}

static int damaged(struct env_file *f, const char *what, uint64_t pgno)
{
	return pf_seterr(PF_ECORRUPT, "pf_open: '%s' is damaged: %s (page %llu): "
	                 "restore from backup", f->path, what, (unsigned long long)pgno);
}

static int read_at(struct env_file *f, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pf_seterr(PF_EIO, "pf_open: cannot read '%s': %s", f->path,
			                 strerror(errno));
		if (n == 0)
			return pf_seterr(PF_ECORRUPT, "pf_open: '%s' is truncated: restore from "
			                 "backup (it ends at byte %llu)", f->path,
			                 (unsigned long long)(off + done));
		done += (size_t)n;
	}
	return 0;
}

/* Read page `pgno` (a branch, leaf or overflow page of the current
 * state) into buf and check its header names it. */
static int read_page(struct env_file *f, uint64_t pgno, unsigned char *buf)
{
	if (pgno < 2 || pgno > f->last_pg)
		return damaged(f, "a tree names a page outside the file's pages", pgno);
	if ((pgno + 1) * f->psize > f->size)
		return truncated(f, pgno);
	if (++f->pages_read > f->last_pg)
		return damaged(f, "a tree visits more pages than the file has", pgno);
	int rc = read_at(f, buf, f->psize, pgno * f->psize);
	if (rc)
		return rc;
	if (get_word(buf + PG_PGNO) != pgno)
		return damaged(f, "a page's header names another page", pgno);
	return 0;
}

/* A database record (meta page or named database): a root inside the
 * file's pages and a depth that agrees with it. */
static int check_db_record(struct env_file *f, const unsigned char *rec, const char *what,
                           uint64_t at)
{
	uint64_t root = get_word(rec + DB_ROOT), depth = get16(rec + DB_DEPTH);
	if (root == NO_PAGE) {
		if (depth != 0 || get_word(rec + DB_ENTRIES) != 0)
			return damaged(f, what, at);
		return 0;
	}
	if (root < 2 || root > f->last_pg || depth == 0 || depth > MAX_DEPTH)
		return damaged(f, what, at);
	return 0;
}

/* What to do with each leaf node of a tree. */
typedef int (*leaf_fn)(struct env_file *f, const unsigned char *node, uint64_t dsize,
                       uint64_t pgno, void *arg);

/* Walk the tree under page `pgno`, `depth` levels deep counting this one,
 * checking every page it reads; leaf nodes go to fn. */
static int walk(struct env_file *f, uint64_t pgno, unsigned depth, leaf_fn fn, void *arg)
{
	unsigned char *p = f->page + (size_t)(depth - 1) * f->psize;
	int rc = read_page(f, pgno, p);
	if (rc)
		return rc;
	/* These trees hold neither fixed-size duplicates nor sub-pages:
	 * a page is exactly a branch or a leaf. */
	unsigned flags = (unsigned)get16(p + PG_FLAGS) &
	                 (P_BRANCH | P_LEAF | P_LEAF2 | P_OVERFLOW | P_META);
	if (flags != P_BRANCH && flags != P_LEAF)
		return damaged(f, "a tree page is neither a branch nor a leaf", pgno);
	bool leaf = flags == P_LEAF;
	if (leaf != (depth == 1))
		return damaged(f, "a tree's depth disagrees with its pages", pgno);
	uint64_t lower = get16(p + PG_LOWER), upper = get16(p + PG_UPPER);
	if (lower < PG_HDR || lower > upper || upper > f->psize || (lower - PG_HDR) % 2)
		return damaged(f, "a page's free-space bounds are impossible", pgno);
	uint64_t nkeys = (lower - PG_HDR) / 2;
	if (!leaf && nkeys == 0)
		return damaged(f, "a branch page is empty", pgno);
	for (uint64_t i = 0; i < nkeys; i++) {
		uint64_t off = get16(p + PG_HDR + 2 * i);
		if (off < upper || off + N_HDR > f->psize)
			return damaged(f, "a node lies outside its page", pgno);
		const unsigned char *n = p + off;
		uint64_t ksize = get16(n + N_KSIZE);
		if (off + N_HDR + ksize > f->psize)
			return damaged(f, "a key runs past its page", pgno);
		if (!leaf) {
			rc = walk(f, node_child(n), depth - 1, fn, arg);
			if (rc)
				return rc;
			continue;   /* each level has its own buffer: p is intact */
		}
		uint64_t dsize = node_lo32(n);
		unsigned nflags = (unsigned)get16(n + N_FLAGS);
		if (nflags & F_BIGDATA) {
			if (off + N_HDR + ksize + W > f->psize)
				return damaged(f, "a node runs past its page", pgno);
		} else if (off + N_HDR + ksize + dsize > f->psize) {
			return damaged(f, "a node runs past its page", pgno);
		}
		if (fn && (rc = fn(f, n, dsize, pgno, arg)))
			return rc;
	}
	return 0;
}

/* ---- the free list: which missing pages it accounts for ---- */

struct missing {
	uint64_t first;           /* the first page past the end of the file */
	uint64_t count;           /* pages first .. last_pg */
	uint64_t found;           /* of them, listed as free */
	unsigned char *seen;      /* bitmap over them */
};

static int note_free_page(struct missing *m, uint64_t pg)
{
	if (pg < m->first || pg - m->first >= m->count)
		return 0;
	uint64_t i = pg - m->first;
	if (!(m->seen[i / 8] & (1u << (i % 8)))) {
		m->seen[i / 8] |= (unsigned char)(1u << (i % 8));
		m->found++;
	}
	return 0;
}

/* A free-list record: key a transaction id, data a page-number list
 * whose first entry is its length. */
static int free_leaf(struct env_file *f, const unsigned char *n, uint64_t dsize,
                     uint64_t pgno, void *arg)
{
	struct missing *m = arg;
	uint64_t ksize = get16(n + N_KSIZE);
	unsigned nflags = (unsigned)get16(n + N_FLAGS);
	if (dsize < W || dsize % W)
		return damaged(f, "a free-list record has an impossible size", pgno);
	unsigned char *buf = malloc(dsize);
	if (!buf)
		return pf_seterr(PF_ENOMEM, "pf_open: out of memory checking '%s'", f->path);
	int rc = 0;
	if (nflags & F_BIGDATA) {
		uint64_t ov = get_word(n + N_HDR + ksize);
		unsigned char hdr[PG_HDR];
		if (ov < 2 || ov > f->last_pg) {
			rc = damaged(f, "a free-list record names a page outside the file", pgno);
			goto out;
		}
		uint64_t span = (PG_HDR + dsize + f->psize - 1) / f->psize;
		if (ov + span - 1 > f->last_pg) {
			rc = damaged(f, "a free-list record runs past the last page", ov);
			goto out;
		}
		if ((ov + span) * f->psize > f->size) {
			rc = truncated(f, ov + span - 1);
			goto out;
		}
		if ((rc = read_at(f, hdr, sizeof hdr, ov * f->psize)) ||
		    (rc = read_at(f, buf, dsize, ov * f->psize + PG_HDR)))
			goto out;
		if (get_word(hdr + PG_PGNO) != ov || !(get16(hdr + PG_FLAGS) & P_OVERFLOW) ||
		    get32(hdr + PG_NPAGES) < span) {
			rc = damaged(f, "a free-list record's overflow page is not one", ov);
			goto out;
		}
	} else {
		memcpy(buf, n + N_HDR + ksize, dsize);
	}
	uint64_t len = get_word(buf);
	if (len > dsize / W - 1) {
		rc = damaged(f, "a free-list record is longer than its data", pgno);
		goto out;
	}
	for (uint64_t i = 1; i <= len; i++)
		note_free_page(m, get_word(buf + i * W));
out:
	free(buf);
	return rc;
}

/* The main database's records of named databases. */
static int main_leaf(struct env_file *f, const unsigned char *n, uint64_t dsize,
                     uint64_t pgno, void *arg)
{
	(void)arg;
	uint64_t ksize = get16(n + N_KSIZE);
	unsigned nflags = (unsigned)get16(n + N_FLAGS);
	if (!(nflags & F_SUBDATA))
		return 0;   /* a plain key: not ours to judge */
	if ((nflags & F_BIGDATA) || dsize != DB_SIZE)
		return damaged(f, "a named database's record has the wrong size", pgno);
	return check_db_record(f, n + N_HDR + ksize, "a named database's record is impossible",
	                       pgno);
}

/* ---- the meta pages ---- */

static int read_meta(struct env_file *f, int which, uint64_t off, unsigned char *m)
{
	unsigned char hdr[PG_HDR];
	if (f->size < off + PG_HDR + M_SIZE)
		return pf_seterr(PF_ECORRUPT, "pf_open: '%s' is truncated: restore from backup "
		                 "(the file is %llu bytes, too short for meta page %d)", f->path,
		                 (unsigned long long)f->size, which);
	int rc = read_at(f, hdr, sizeof hdr, off);
	if (!rc)
		rc = read_at(f, m, M_SIZE, off + PG_HDR);
	if (rc)
		return rc;
	if (!(get16(hdr + PG_FLAGS) & P_META) || get_word(hdr + PG_PGNO) != (uint64_t)which ||
	    get32(m + M_MAGIC) != LMDB_MAGIC)
		return pf_seterr(PF_ECORRUPT, "pf_open: '%s' is damaged or not a database: meta "
		                 "page %d is not an LMDB meta page: restore from backup",
		                 f->path, which);
	if (get32(m + M_VERSION) != LMDB_DATA_VERSION)
		return pf_seterr(PF_ECORRUPT, "pf_open: '%s' has LMDB file format %llu in meta "
		                 "page %d; this LMDB reads format %u", f->path,
		                 (unsigned long long)get32(m + M_VERSION), which, LMDB_DATA_VERSION);
	return 0;
}

int pf_envfile_check(const char *file, pf_envfile *out)
{
	struct env_file f = { .fd = -1, .path = file };
	struct missing miss = { 0 };
	unsigned char meta[2][M_SIZE];
	int rc;

	memset(out, 0, sizeof *out);
	f.fd = open(file, O_RDONLY | O_CLOEXEC);
	if (f.fd < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			return pf_seterr(PF_EACCES, "pf_open: cannot open '%s': permission denied "
			                 "(fix the permissions of the directory or its files)", file);
		if (e == ENOMEM)
			return pf_seterr(PF_ENOMEM, "pf_open: out of memory opening '%s'", file);
		return pf_seterr(PF_EIO, "pf_open: cannot open '%s': %s", file, strerror(e));
	}
	struct stat st;
	if (fstat(f.fd, &st) != 0) {
		rc = pf_seterr(PF_EIO, "pf_open: cannot stat '%s': %s", file, strerror(errno));
		goto out;
	}
	f.size = (uint64_t)st.st_size;
	if (f.size == 0) {
		rc = pf_seterr(PF_ECORRUPT, "pf_open: '%s' is empty (0 bytes) beside a database's "
		               "files: truncated: restore from backup", file);
		goto out;
	}

	/* Meta page 0 gives the page size, meta page 1 sits one page in. */
	if ((rc = read_meta(&f, 0, 0, meta[0])))
		goto out;
	uint64_t psize = get32(meta[0] + M_DBS + FREE_DB * DB_SIZE + DB_PAD);
	if (psize < 256 || psize > 65536 || (psize & (psize - 1))) {
		rc = pf_seterr(PF_ECORRUPT, "pf_open: '%s' is damaged: meta page 0 gives the "
		               "impossible page size %llu: restore from backup", file,
		               (unsigned long long)psize);
		goto out;
	}
	f.psize = psize;
	if ((rc = read_meta(&f, 1, psize, meta[1])))
		goto out;
	if (get32(meta[1] + M_DBS + FREE_DB * DB_SIZE + DB_PAD) != psize) {
		rc = pf_seterr(PF_ECORRUPT, "pf_open: '%s' is damaged: its meta pages disagree "
		               "on the page size: restore from backup", file);
		goto out;
	}
	/* LMDB's choice: the larger transaction id, page 0 on a tie. */
	int cur = get_word(meta[0] + M_TXNID) < get_word(meta[1] + M_TXNID) ? 1 : 0;
	const unsigned char *m = meta[cur];
	f.last_pg = get_word(m + M_LASTPG);
	out->txnid = get_word(m + M_TXNID);
	out->psize = (unsigned)psize;
	out->last_pg = f.last_pg;
	if (f.last_pg < 1 || f.last_pg > UINT64_MAX / psize - 1) {
		rc = damaged(&f, "the current meta page names an impossible last page", (uint64_t)cur);
		goto out;
	}
	if ((rc = check_db_record(&f, m + M_DBS + FREE_DB * DB_SIZE,
	                          "the free list's record in the current meta page is impossible",
	                          (uint64_t)cur)) ||
	    (rc = check_db_record(&f, m + M_DBS + MAIN_DB * DB_SIZE,
	                          "the main database's record in the current meta page is "
	                          "impossible", (uint64_t)cur)))
		goto out;

	f.page = malloc((size_t)psize * MAX_DEPTH);
	if (!f.page) {
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory checking '%s'", file);
		goto out;
	}

	/* Every page up to the last one is in use or on the free list; only
	 * pages on the free list may lie past the end of the file (LMDB does
	 * not write a page it freed in the transaction that allocated it). */
	uint64_t pages_in_file = f.size / psize;
	if (pages_in_file <= f.last_pg) {
		miss.first = pages_in_file;
		miss.count = f.last_pg + 1 - pages_in_file;
		if (miss.count > MAX_MISSING) {
			rc = truncated(&f, f.last_pg);
			goto out;
		}
		miss.seen = calloc((size_t)(miss.count + 7) / 8, 1);
		if (!miss.seen) {
			rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory checking '%s'", file);
			goto out;
		}
		const unsigned char *fdb = m + M_DBS + FREE_DB * DB_SIZE;
		if (get_word(fdb + DB_ROOT) != NO_PAGE &&
		    (rc = walk(&f, get_word(fdb + DB_ROOT), (unsigned)get16(fdb + DB_DEPTH),
		               free_leaf, &miss)))
			goto out;
		if (miss.found != miss.count) {
			/* The highest page in use past the end. */
			uint64_t pg = f.last_pg;
			for (uint64_t i = miss.count; i-- > 0; pg--)
				if (!(miss.seen[i / 8] & (1u << (i % 8))))
					break;
			rc = truncated(&f, pg);
			goto out;
		}
	}

	/* The main database: its pages, and each named database's root. */
	const unsigned char *mdb = m + M_DBS + MAIN_DB * DB_SIZE;
	f.pages_read = 0;
	if (get_word(mdb + DB_ROOT) != NO_PAGE &&
	    (rc = walk(&f, get_word(mdb + DB_ROOT), (unsigned)get16(mdb + DB_DEPTH), main_leaf, NULL)))
		goto out;
	rc = 0;
out:
	free(miss.seen);
	free(f.page);
	close(f.fd);
	return rc;
}
