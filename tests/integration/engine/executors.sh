#!/usr/bin/env bash
# executors.sh — local and inline executors give identical outputs; --jobs, retries with the attempt visible, core.shell.
. "$(dirname "$0")/lib.sh"
wf f.xml <<'X'
  <foreach id="fan" var="i" in="1..12">
    <step id="leaf" op="testkit.sleep"><set name="seconds">0.05</set><set name="value">${i}</set></step>
  </foreach>
  <step id="join" op="testkit.noop"><input port="in" from="leaf.out"/></step>
  <output name="joined" from="join.out"/>
X
expect_ok "$SCILOOP" run -q f.xml --executor local --jobs 4 --workdir wl --outdir ol
expect_ok "$SCILOOP" run -q f.xml --executor inline --jobs 3 --workdir wi --outdir oi
cmp -s ol/joined oi/joined || fail "local and inline outputs differ"
# concurrency really happened: 12 steps of 0.05s with 4 jobs take well under 12*0.05s of wall time for the leaves
python3 - "$(ls -d wl/runs/2*)/trace.tsv" <<'P' || fail "steps did not overlap under --jobs 4"
import sys, csv
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter='\t') if r['step'].startswith('fan')]
ev = sorted([(float(r['start']), 1) for r in rows] + [(float(r['end']), -1) for r in rows])
cur = peak = 0
for _, d in ev:
    cur += d; peak = max(peak, cur)
assert 2 <= peak <= 4, peak
P

# Ctrl-C: running steps are cancelled, queued ones never start, exit code 130; the next run
# reuses what finished and runs the rest
wf slow.xml <<'X'
  <foreach id="f" var="i" in="1..20">
    <step id="s" op="testkit.sleep"><set name="seconds">0.4</set><set name="value">${i}</set></step>
  </foreach>
X
for ex in local inline; do
  "$SCILOOP" run slow.xml --executor $ex -j 2 --workdir "int-$ex" >"$T/out" 2>"$T/err" &
  pid=$!
  sleep 1.0
  kill -INT $pid
  wait $pid
  rc=$?
  [ "$rc" -eq 130 ] || fail "$ex: an interrupted run should exit 130, got $rc"
  expect_contains "$T/err" "interrupted: 20 steps:"
  expect_contains "$T/err" " 0 failed,"
  expect_ok "$SCILOOP" run -q slow.xml --executor $ex -j 8 --workdir "int-$ex"
  grep -Eq "done: 20 steps: [0-9]+ ran, [1-9][0-9]* reused" "$T/err" || { fail "$ex: the resumed run reused nothing"; cat "$T/err" >&2; }
done

# retries: the op sees the attempt number; it fails twice and succeeds on the third attempt
wf r.xml <<'X'
  <step id="flaky" op="testkit.fail" retry="2"><set name="fail_attempts">2</set></step>
X
expect_ok "$SCILOOP" run r.xml
expect_contains "$T/err" "retry   flaky: attempt 1 failed (failing on purpose on attempt 1 of the first 2); trying again (2 of 3)"
expect_contains "$T/err" "attempt 2 failed (failing on purpose on attempt 2"
wf r2.xml <<'X'
  <step id="flaky" op="testkit.fail" retry="1"><set name="fail_attempts">5</set></step>
X
expect_error "step 'flaky' (testkit.fail) failed after 2 attempts: failing on purpose on attempt 2 of the first 5" "$SCILOOP" run r2.xml

# core.shell: declared outputs, captured output, failure with the log's tail
echo "1 2 3" > nums.txt
wf s.xml <<'X'
  <step id="sum" op="core.shell">
    <input port="in" path="nums.txt"/>
    <set name="command">echo computing; tr ' ' '\n' &lt; "$in" | awk '{s+=$1} END {print s}' &gt; total.txt</set>
    <set name="outputs">total.txt</set>
  </step>
  <step id="bad" op="core.shell"><set name="command">echo something went wrong >&amp;2; exit 3</set></step>
  <step id="lazy" op="core.shell"><set name="command">true</set><set name="outputs">missing.txt</set></step>
  <output name="total" from="sum.out" select="total.txt"/>
X
expect_error "command exited with status 3; output ends with:" "$SCILOOP" run --keep-going s.xml
expect_contains "$T/err" "something went wrong"
expect_contains "$T/err" "declared output 'missing.txt' was not created by the command"
grep -q "computing" .sciloop/runs/latest/logs/sum.log || fail "core.shell output not in the step log"
wf s2.xml <<'X'
  <step id="sum" op="core.shell">
    <input port="in" path="nums.txt"/>
    <set name="command">tr ' ' '\n' &lt; "$in" | awk '{s+=$1} END {print s}' &gt; total.txt</set>
    <set name="outputs">total.txt</set>
  </step>
  <output name="total" from="sum.out" select="total.txt"/>
X
expect_ok "$SCILOOP" run s2.xml --outdir o3
[ "$(cat o3/total)" = "6" ] || fail "core.shell result published wrong: $(cat o3/total)"
finish
