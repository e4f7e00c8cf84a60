/*
 * floor.c — the floor of `make bench`: what LMDB and msgpack-c cost with
 * nothing of libprofile around them.
 *
 * An LMDB environment of its own holding one msgpack record per guest
 * (a map shaped like a profile: contacts, tier, preferences, padded to the
 * mean size of libprofile's stored guest records) and an e-mail index.
 * fl_get: renew a reset read transaction, mdb_get, msgpack_unpack into a
 * reused zone (no allocation).  fl_get_email: the same after an mdb_get in
 * the index.  fl_commit: one write transaction putting 16+64 bytes,
 * committed with full sync (or with MDB_NOMETASYNC).
 */
#include "bench.h"

#include <lmdb.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct fl_env {
	MDB_env *env;
	MDB_dbi guest, contact, commit;
	MDB_txn *rtxn;
	msgpack_zone zone;
	size_t record_size;
	uint64_t seq;
};

static void ck(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "bench: floor: %s: %s\n", what, mdb_strerror(rc));
		exit(1);
	}
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	size_t l = strlen(s);
	msgpack_pack_str(pk, l);
	msgpack_pack_str_body(pk, s, l);
}

static void record(msgpack_sbuffer *sb, const bench_guest *g, size_t want)
{
	msgpack_packer pk;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 12);
	pack_str(&pk, "name"); pack_str(&pk, g->name);
	pack_str(&pk, "email"); pack_str(&pk, g->email);
	pack_str(&pk, "phone"); pack_str(&pk, g->phone);
	pack_str(&pk, "lang"); pack_str(&pk, g->language);
	pack_str(&pk, "country"); pack_str(&pk, g->country);
	pack_str(&pk, "tier"); msgpack_pack_int(&pk, (int)g->tier);
	pack_str(&pk, "consent"); msgpack_pack_int(&pk, 1);
	pack_str(&pk, "created"); msgpack_pack_int64(&pk, 1700000000);
	pack_str(&pk, "updated"); msgpack_pack_int64(&pk, 1700000000);
	pack_str(&pk, "stays"); msgpack_pack_int(&pk, g->nstays);
	pack_str(&pk, "prefs");
	msgpack_pack_map(&pk, (size_t)g->npref);
	for (int k = 0; k < g->npref; k++) {
		const bench_cat *c = &bench_cats[g->pref[k].cat];
		pack_str(&pk, c->name);
		msgpack_pack_map(&pk, 6);
		pack_str(&pk, "v"); pack_str(&pk, c->vals[g->pref[k].val]);
		pack_str(&pk, "k"); msgpack_pack_int(&pk, g->pref[k].kind);
		pack_str(&pk, "d"); pack_str(&pk, "import");
		pack_str(&pk, "n"); msgpack_pack_int(&pk, 1);
		pack_str(&pk, "f"); msgpack_pack_int64(&pk, 1700000000);
		pack_str(&pk, "l"); msgpack_pack_int64(&pk, 1700000000);
	}
	pack_str(&pk, "pad");
	size_t have = sb->size + 5;
	size_t pad = want > have ? want - have : 0;
	msgpack_pack_bin(&pk, pad);
	static const char zeros[4096];
	msgpack_pack_bin_body(&pk, zeros, pad < sizeof zeros ? pad : sizeof zeros);
}

fl_env *fl_open(const char *dir, uint64_t n, size_t record_size)
{
	fl_env *f = calloc(1, sizeof *f);
	if (!f)
		exit(1);
	mkdir(dir, 0700);
	ck(mdb_env_create(&f->env), "env_create");
	ck(mdb_env_set_maxdbs(f->env, 4), "maxdbs");
	ck(mdb_env_set_mapsize(f->env, (size_t)(n + 1000) * (record_size + 400) * 2 + (64u << 20)), "mapsize");
	ck(mdb_env_open(f->env, dir, MDB_NOTLS, 0600), "env_open");
	MDB_txn *t;
	ck(mdb_txn_begin(f->env, NULL, 0, &t), "txn");
	ck(mdb_dbi_open(t, "guest", MDB_CREATE, &f->guest), "dbi guest");
	ck(mdb_dbi_open(t, "contact", MDB_CREATE, &f->contact), "dbi contact");
	ck(mdb_dbi_open(t, "commit", MDB_CREATE, &f->commit), "dbi commit");
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	bench_guest g;
	for (uint64_t i = 0; i < n; i++) {
		gen_guest(i, &g);
		record(&sb, &g, record_size);
		MDB_val k = { 16, g.id.b }, v = { sb.size, sb.data };
		ck(mdb_put(t, f->guest, &k, &v, 0), "put");
		MDB_val ek = { strlen(g.email), g.email };
		ck(mdb_put(t, f->contact, &ek, &k, 0), "put contact");
		if (i == 0)
			f->record_size = sb.size;
		if (i % 10000 == 9999) {  /* keep the dirty list small */
			ck(mdb_txn_commit(t), "commit");
			ck(mdb_txn_begin(f->env, NULL, 0, &t), "txn");
		}
	}
	msgpack_sbuffer_destroy(&sb);
	ck(mdb_txn_commit(t), "commit");
	ck(mdb_txn_begin(f->env, NULL, MDB_RDONLY, &f->rtxn), "rtxn");
	mdb_txn_reset(f->rtxn);
	msgpack_zone_init(&f->zone, 2048);
	return f;
}

void fl_close(fl_env *f)
{
	if (!f)
		return;
	msgpack_zone_destroy(&f->zone);
	mdb_txn_abort(f->rtxn);
	mdb_env_close(f->env);
	free(f);
}

size_t fl_record_size(const fl_env *f) { return f->record_size; }

static void get_unpack(fl_env *f, MDB_val *k)
{
	MDB_val v;
	ck(mdb_get(f->rtxn, f->guest, k, &v), "get");
	size_t off = 0;
	msgpack_object obj;
	msgpack_zone_clear(&f->zone);
	if (msgpack_unpack(v.mv_data, v.mv_size, &off, &f->zone, &obj) != MSGPACK_UNPACK_SUCCESS
	    || obj.type != MSGPACK_OBJECT_MAP) {
		fputs("bench: floor: bad record\n", stderr);
		exit(1);
	}
}

void fl_get(fl_env *f, const pf_id *id)
{
	ck(mdb_txn_renew(f->rtxn), "renew");
	MDB_val k = { 16, (void *)id->b };
	get_unpack(f, &k);
	mdb_txn_reset(f->rtxn);
}

void fl_get_email(fl_env *f, const char *email)
{
	ck(mdb_txn_renew(f->rtxn), "renew");
	MDB_val ek = { strlen(email), (void *)email }, id;
	ck(mdb_get(f->rtxn, f->contact, &ek, &id), "get contact");
	get_unpack(f, &id);
	mdb_txn_reset(f->rtxn);
}

void fl_commit(fl_env *f, int nometasync)
{
	ck(mdb_env_set_flags(f->env, MDB_NOMETASYNC, nometasync), "set_flags");
	MDB_txn *t;
	ck(mdb_txn_begin(f->env, NULL, 0, &t), "txn");
	unsigned char key[16] = { 0 }, val[64] = { 0 };
	uint64_t s = ++f->seq;
	for (int i = 0; i < 8; i++)
		key[15 - i] = (unsigned char)(s >> (8 * i));
	MDB_val k = { sizeof key, key }, v = { sizeof val, val };
	ck(mdb_put(t, f->commit, &k, &v, 0), "put");
	ck(mdb_txn_commit(t), "commit");
}
