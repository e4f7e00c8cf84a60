/*
 * fuzz_import_jsonl.c — libFuzzer target for pf_import_jsonl(): the input is
 * written to a file and imported into an emptied database on a real
 * LMDB environment (one per process).  The checks after each input are
 * in fuzz_import.h: a valid report, a consistent database whose guests
 * read back and are found by e-mail, and an export that re-imports to
 * the same guests.  Run: `make fuzz` or `make check-fuzz`.
 */
#include "fuzz_import.h"

static int fuzz_import_jsonl_one(const uint8_t *data, size_t size)
{
	fuzz_import_run(data, size, true);
	return 0;
}

#ifndef PF_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_jsonl_one(data, size);
}
#endif
