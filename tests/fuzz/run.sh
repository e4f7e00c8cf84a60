#!/bin/sh
# tests/fuzz/run.sh — run libFuzzer targets one after the other (the
# machine is shared: one fuzzer, one job at a time) and print how many
# inputs each executed, from libFuzzer's -print_final_stats=1 output.
#
#   run.sh FUZZ_DIR SECONDS TARGET...
#
# Each TARGET runs as FUZZ_DIR/fuzz_TARGET on the corpus FUZZ_DIR/corpus/
# TARGET (new inputs are added to it), crashes go to FUZZ_DIR/artifacts/
# TARGET/, the log to FUZZ_DIR/logs/TARGET.log.  Exits non-zero if any
# target crashed; the summary says which and where the input is.
set -u
dir=$1; secs=$2; shift 2
here=$(dirname "$0")
status=0
summary=""
for t in "$@"; do
	bin=$dir/fuzz_$t
	mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t" "$dir/logs"
	log=$dir/logs/$t.log
	dict=""
	[ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
	case $t in
		codec) maxlen=4096 ;;
		import_csv|import_jsonl) maxlen=4096 ;;
		rules|render) maxlen=16384 ;;
		*) maxlen=8192 ;;
	esac
	echo "fuzz: $t for ${secs}s (log: $log)"
	# -jobs/-workers are left at 1: other work shares the cores.
	"$bin" -max_total_time="$secs" -max_len=$maxlen -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 $dict \
		-artifact_prefix="$dir/artifacts/$t/" "$dir/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -1)
	[ -n "$execs" ] || execs="?"
	corp=$(ls "$dir/corpus/$t" | wc -l)
	if [ $rc -eq 0 ]; then
		line=$(printf '%-14s %12s executions in %ss, corpus %s files, no crash' "$t" "$execs" "$secs" "$corp")
	else
		status=1
		art=$(ls -t "$dir/artifacts/$t" 2>/dev/null | head -1)
		line=$(printf '%-14s %12s executions, CRASHED (exit %s): %s' "$t" "$execs" "$rc" "$dir/artifacts/$t/$art")
		grep -m3 -E 'ERROR|property violated|runtime error' "$log" | sed 's/^/    /'
	fi
	echo "  $line"
	summary="$summary$line
"
done
echo "fuzz summary:"
printf '%s' "$summary" | sed 's/^/  /'
exit $status
