#!/usr/bin/env bash
# Builds the gdbstub libFuzzer target into build/fuzz/ and runs it for
# FUZZ_SECONDS (default 30) from the seeds in tests/fuzz/corpus/.
# Prints one PASS/FAIL/SKIP line for tests/run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-30}
name="gdbstub_fuzz_${secs}s"
out=build/fuzz
mkdir -p "$out/corpus"

cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
	for c in clang-14 clang; do
		if command -v "$c" >/dev/null 2>&1; then cc=$c; break; fi
	done
fi
if [ -z "$cc" ]; then
	echo "SKIP: $name: clang is not installed (Debian: clang-14)"
	exit 0
fi
# libFuzzer's runtime is a separate Debian package from clang itself.
probe="$out/probe"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$probe.c"
if ! "$cc" -fsanitize=fuzzer "$probe.c" -o "$probe" >/dev/null 2>&1; then
	echo "SKIP: $name: $cc cannot link -fsanitize=fuzzer (Debian: libclang-rt-14-dev)"
	exit 0
fi

bin="$out/gdbstub_fuzz"
if ! "$cc" -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Iinclude -Itests/host tests/fuzz/gdbstub_fuzz.c tests/host/fake_target.c \
	gdbstub/*.c -o "$bin" >"$out/build.log" 2>&1; then
	echo "FAIL: $name: build failed"
	cat "$out/build.log"
	exit 1
fi

# New inputs go to build/fuzz/corpus; the seeds in the tree stay as they are.
log="$out/gdbstub_fuzz.log"
"$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$out/" \
	"$out/corpus" tests/fuzz/corpus >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -ne 0 ]; then
	echo "FAIL: $name: fuzzer exited with $rc after ${runs:-?} runs; see $log"
	grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 10
	exit 1
fi
# A run that says nothing about how much it ran proves nothing: fail rather than pass.
if ! [[ $runs =~ ^[0-9]+$ ]] || [ "$runs" -lt 1000 ]; then
	echo "FAIL: $name: the fuzzer reported ${runs:-no} runs (at least 1000 expected); see $log"
	exit 1
fi
echo "PASS: $name ($runs runs)"
