/*
 * test_fuzz_regress.c — replays the saved fuzz inputs in the normal suite,
 * without libFuzzer, so a crash once found stays fixed.
 *
 * Every file under tests/fuzz/regress/<target>/ goes through the same
 * function the libFuzzer target calls (the target sources are included
 * below with PF_FUZZ_REPLAY, which leaves out their libFuzzer entry
 * point), with the same checks: a broken property aborts, and Criterion
 * reports the test as crashed; the message names the input file.  Each
 * directory holds the crashes found (crash-*) and a few seed samples
 * (seed-*) so the replay path itself is always exercised.  Under
 * `make check-asan` the replay also catches the memory errors the
 * fuzzers were built to see.
 *
 * The directory is tests/fuzz/regress relative to the working directory
 * (`make check` runs from the top), or $PF_FUZZ_REGRESS_DIR.
 */
#include "helpers.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PF_FUZZ_REPLAY 1
/* One translation unit: the targets' helpers are static, their names
 * distinct, and the shared ones guarded. */
#include "fuzz/fuzz_rules.c"
#include "fuzz/fuzz_codec.c"
#include "fuzz/fuzz_import_csv.c"
#include "fuzz/fuzz_import_jsonl.c"
#include "fuzz/fuzz_render.c"

typedef int (*replay_fn)(const uint8_t *, size_t);

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL, "cannot open %s", path);
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			buf = realloc(buf, cap);
			cr_assert(buf != NULL);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every file of regress/<target>, in name order; at least one. */
static void replay(const char *target, replay_fn fn)
{
	const char *root = getenv("PF_FUZZ_REGRESS_DIR");
	char dir[512];
	snprintf(dir, sizeof dir, "%s/%s", root ? root : "tests/fuzz/regress", target);
	DIR *d = opendir(dir);
	cr_assert(d != NULL, "no regression directory %s", dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		cr_assert(names != NULL);
		names[n] = strdup(e->d_name);
		cr_assert(names[n] != NULL);
		n++;
	}
	closedir(d);
	cr_assert(n > 0, "%s holds no input to replay", dir);
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		size_t len;
		unsigned char *data = read_all(path, &len);
		fuzz_input_name = path;
		fn(data, len);
		fuzz_input_name = NULL;
		free(data);
		free(names[i]);
	}
	free(names);
	fuzz_env_close();
	cr_log_info("fuzz replay: %s: %zu inputs", target, n);
}

Test(fuzz_regress, rules) { replay("rules", fuzz_rules_one); }
Test(fuzz_regress, codec) { replay("codec", fuzz_codec_one); }
Test(fuzz_regress, import_csv) { replay("import_csv", fuzz_import_csv_one); }
Test(fuzz_regress, import_jsonl) { replay("import_jsonl", fuzz_import_jsonl_one); }
Test(fuzz_regress, render) { replay("render", fuzz_render_one); }
