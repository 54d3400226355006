#!/usr/bin/env bash
# Runs every test: the cmocka unit tests of the normal and the sanitizer build, the fuzz
# corpora replayed under the sanitizers (tests/fuzz/README.md), then the black-box
# integration tests against the sanitizer build of the real daemon. Ends with one line
# "N passed, N failed"; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
passed=0
failed=0
failures=()
log=$(mktemp -d -t tpcd-test.XXXXXX)	# honours TMPDIR

# Adds one test program's counts to the totals: $1 = its name, $2 = its output, $3 = its
# exit code, $4 and $5 = the passed and failed counts it printed (empty when none). A
# non-zero exit with nothing failed is a crash (e.g. a sanitizer report): one failure.
# Leaves the counts taken in tally_p and tally_f.
tally() {
	tally_p=${4:-0}; tally_f=${5:-0}
	if [ "$3" -ne 0 ] && [ "$tally_f" -eq 0 ]; then
		echo "$2" | tail -30
		tally_f=1
	fi
	passed=$((passed + tally_p)); failed=$((failed + tally_f))
	[ "$tally_f" -eq 0 ] || failures+=("$1")
}

count_cmocka() {	# $1 = binary; counts its PASSED/FAILED lines
	local name out p f rc
	name=$1
	out=$("$name" 2>&1); rc=$?
	echo "$out" | grep -E '^\[  (FAILED|  OK  |PASSED)' | grep -v '^\[  PASSED  \]' | sed "s|^|  $name: |" | grep -v ' OK ' || true
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	tally "$name" "$out" "$rc" "$p" "$f"
	echo "unit $name: $tally_p passed, $tally_f failed"
}

t0=$SECONDS
for b in build/tests/test_* build/asan/tests/test_*; do
	[ -x "$b" ] && count_cmocka "$b"
done
echo "phase unit: $((SECONDS - t0))s"

# One pass or failure per fuzz target: every input of its corpus, once, under ASan/UBSan.
replay_corpus() {	# $1 = replay binary, $2 = corpus directory
	local out rc
	out=$(ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$1" "$2" 2>&1); rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		echo "fuzz $(echo "$out" | tail -1)"
	else
		echo "$out" | tail -30
		failed=$((failed + 1)); failures+=("$1")
		echo "fuzz replay $1: FAILED (exit $rc)"
	fi
}

t0=$SECONDS
for t in tests/fuzz/fuzz_*.c; do
	[ -f "$t" ] || continue
	t=$(basename "$t" .c); t=${t#fuzz_}
	if [ -x "build/asan/fuzz/replay_$t" ]; then
		replay_corpus "build/asan/fuzz/replay_$t" "tests/fuzz/corpus/$t"
	else
		echo "fuzz replay $t: build/asan/fuzz/replay_$t missing (make asan)"
		failed=$((failed + 1)); failures+=("replay_$t")
	fi
done
echo "phase fuzz replay: $((SECONDS - t0))s"

export TPCD_BIN=${TPCD_BIN:-build/asan/tpcd}
export TPCCTL_BIN=${TPCCTL_BIN:-build/tpcctl}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TPCD_TEST_OUT=${TPCD_TEST_OUT:-$log}	# screenshots of the browser test
export TPCD_DEMO_CACHE=$log/demo	# each demo data set generated once (harness.make_demo)
export PYTHON log

# The integration files run in TPCD_TEST_LANES lanes (default 2): each file is its own
# process with its own daemons on kernel-chosen free ports and its own temporary
# directories, and none measures timing against the machine (that is make bench), so two
# can share it. Lanes take the longest files first; each file's output is reported whole,
# in file order, as soon as it and every file before it have finished.
lanes=${TPCD_TEST_LANES:-2}
first="test_service.py test_operator.py test_limits.py test_point_in_time.py"
files=()
for t in tests/integration/test_*.py tests/golden/test_*.py tests/browser/test_*.py; do
	[ -f "$t" ] && files+=("$t")
done
queue=()
for t in "${files[@]}"; do
	case " $first " in *" $(basename "$t") "*) queue=("$t" "${queue[@]}") ;; *) queue+=("$t") ;; esac
done

run_file() {	# $1 = test file; leaves its output, exit code and seconds in $log
	local name t1=$SECONDS rc
	name=$(basename "$1")
	"$PYTHON" "$1" > "$log/$name.log" 2>&1; rc=$?
	echo "$rc $((SECONDS - t1))" > "$log/$name.rc.tmp" && mv "$log/$name.rc.tmp" "$log/$name.rc"
}
export -f run_file

report_file() {	# $1 = test file that has finished
	local t=$1 name out rc secs p f
	name=$(basename "$t")
	out=$(cat "$log/$name.log")
	if [ -e "$log/$name.rc" ]; then
		read -r rc secs < "$log/$name.rc"
	else
		rc=1 secs=0; out="$out
$t did not run"
	fi
	echo "$out" | grep -E '^(FAIL|ERROR)' | sed "s|^|  $t: |"
	p=$(echo "$out" | sed -n 's/^RESULT passed=\([0-9]*\) failed=.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^RESULT passed=[0-9]* failed=\([0-9]*\).*/\1/p' | tail -1)
	tally "$t" "$out" "$rc" "$p" "$f"
	echo "integration $t: $tally_p passed, $tally_f failed (${secs}s)"
}

t0=$SECONDS
printf '%s\n' "${queue[@]}" | xargs -d '\n' -P "$lanes" -n 1 bash -c 'run_file "$1"' _ &
lanes_pid=$!
i=0
while [ $i -lt ${#files[@]} ]; do
	name=$(basename "${files[$i]}")
	if [ -e "$log/$name.rc" ]; then
		report_file "${files[$i]}"; i=$((i + 1))
	elif ! kill -0 $lanes_pid 2>/dev/null; then	# all lanes done: report what is left
		for t in "${files[@]:$i}"; do report_file "$t"; done
		break
	else
		sleep 1
	fi
done
wait $lanes_pid
rm -rf "$TPCD_DEMO_CACHE"
echo "phase integration: $((SECONDS - t0))s"

[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]} (logs in $log)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
