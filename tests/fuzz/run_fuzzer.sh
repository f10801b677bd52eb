#!/usr/bin/env bash
# Runs one libFuzzer harness for CTest (tests/fuzz/CMakeLists.txt).
#
#   run_fuzzer.sh fuzz   FUZZER SEEDS REGRESSIONS WORK SECONDS
#       fuzzes for SECONDS, starting from SEEDS and REGRESSIONS (read only); new inputs go to
#       WORK/corpus, a crashing input to WORK/artifacts/ (kept: the test fails and names it)
#   run_fuzzer.sh replay FUZZER SEEDS REGRESSIONS WORK
#       runs every seed and every saved crash (REGRESSIONS) once; fails if any crashes
set -uo pipefail
mode=$1 fuzzer=$2 seeds=$3 regressions=$4 work=$5 seconds=${6:-8}
name=$(basename "$fuzzer")
mkdir -p "$work/corpus" "$work/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case "$mode" in
  replay)
    inputs=()
    for dir in "$seeds" "$regressions"; do
      [ -d "$dir" ] || continue
      while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$dir" -type f ! -name '.*' -print0 | sort -z)
    done
    if [ ${#inputs[@]} -eq 0 ]; then
      echo "$name: no seeds in $seeds" >&2
      exit 1
    fi
    echo "$name: replaying ${#inputs[@]} inputs"
    exec "$fuzzer" -rss_limit_mb=2048 -timeout=30 "${inputs[@]}"
    ;;
  fuzz)
    dirs=("$work/corpus" "$seeds")
    [ -d "$regressions" ] && dirs+=("$regressions")
    "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${dirs[@]}"
    rc=$?
    if [ $rc -ne 0 ]; then
      echo "$name FOUND A CRASH (exit $rc). The input is kept in $work/artifacts/:" >&2
      ls -l "$work/artifacts/" >&2
      for f in "$work"/artifacts/*; do
        [ -f "$f" ] && echo "  $f (base64): $(head -c 4096 "$f" | base64 -w0)" >&2
      done
      echo "Reproduce: $fuzzer FILE; keep it as a regression: cp FILE $regressions/" >&2
    fi
    exit $rc
    ;;
  *)
    echo "usage: run_fuzzer.sh fuzz|replay FUZZER SEEDS REGRESSIONS WORK [SECONDS]" >&2
    exit 2
    ;;
esac
