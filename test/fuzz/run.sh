#!/bin/bash
# test/fuzz/run.sh SECONDS HARNESS...: run each libFuzzer harness of
# test/fuzz/bin for SECONDS on a copy of its seed corpus (test/fuzz/corpus/<h>)
# in a temporary directory.  Prints one line per harness:
#   PASS <h>: <executions> runs in <s> s, cov: <edges> ft: <features> corp: <n>/<bytes> exec/s: <r>
#   FAIL <h>: ... (the log tail, and the temp dir holding the crash artifact)
# Exit status: non-zero when any harness failed.  Nothing is written to the repo.
set -u
cd "$(dirname "$0")/../.."
seconds=$1
shift
status=0
for h in "$@"; do
  bin=test/fuzz/bin/$h
  work=$(mktemp -d "${TMPDIR:-/tmp}/pg_mlops_$h.XXXXXX")
  mkdir -p "$work/corpus" "$work/artifacts"
  [ -d "test/fuzz/corpus/$h" ] && cp -R "test/fuzz/corpus/$h/." "$work/corpus/"
  start=$(date +%s)
  ( cd "$work" && "$OLDPWD/$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
      "$work/corpus" ) >"$work/log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  # libFuzzer's last status line, e.g. "#123 DONE cov: 81 ft: 250 corp: 40/1101b lim: 4096 exec/s: 41 rss: 31Mb"
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  [ -n "$runs" ] || runs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*')
  rate=$(echo "$last" | grep -oE 'exec/s: [0-9]+')
  crashes=$(ls "$work/artifacts" 2>/dev/null | wc -l)
  if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] && [ -n "$runs" ]; then
    echo "PASS $h: ${runs} runs in ${took} s, ${cov:-cov: ?} ${rate}"
    rm -rf "$work"
  else
    echo "FAIL $h: exit $rc after ${runs:-?} runs, $crashes artifact(s); kept in $work"
    # the sanitizer's report and stack, the failing input's location
    grep -E 'ERROR:|SUMMARY:|runtime error|deadly signal|^ *#[0-9]+ 0x|Test unit written|^stat::' "$work/log" \
      | head -n 40 | sed 's/^/    /'
    grep -qE 'ERROR:|runtime error|deadly signal' "$work/log" || tail -n 20 "$work/log" | sed 's/^/    /'
    status=1
  fi
done
exit $status
