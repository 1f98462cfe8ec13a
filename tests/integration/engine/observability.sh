#!/usr/bin/env bash
# observability.sh — trace TSV, per-step logs, plain progress lines off a TTY, dag in DOT/Mermaid, plugins and ops describe.
. "$(dirname "$0")/lib.sh"
wf f.xml <<'X'
  <step id="a" op="testkit.sleep"><set name="seconds">0.1</set></step>
  <step id="b" op="testkit.noop"><input port="in" from="a.out"/></step>
X
expect_ok "$SCILOOP" run f.xml
expect_contains "$T/err" "[1/2] done    a (testkit.sleep)"
expect_contains "$T/err" "[2/2] done    b (testkit.noop)"
trace=.sciloop/runs/latest/trace.tsv
head -1 "$trace" | grep -q "^step	op	attempt	status	start	end	wall	cpu	peak_rss_kb	cache_hit$" || fail "trace header"
python3 - "$trace" <<'P' || fail "trace rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
assert [r['step'] for r in rows] == ['a', 'b'], rows
a = rows[0]
assert a['status'] == 'ok' and a['cache_hit'] == 'no' and int(a['attempt']) == 1
assert float(a['wall']) >= 0.1 and float(a['end']) >= float(a['start'])
assert int(a['peak_rss_kb']) > 0
P
expect_ok "$SCILOOP" run f.xml
python3 - .sciloop/runs/latest/trace.tsv <<'P' || fail "cached rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
assert all(r['status'] == 'cached' and r['cache_hit'] == 'yes' for r in rows), rows
P
expect_ok "$SCILOOP" dag f.xml --format dot
expect_contains "$T/out" 's0 -> s1 [label="out"];'
expect_ok "$SCILOOP" dag f.xml --format mermaid
expect_contains "$T/out" "flowchart TD"
expect_contains "$T/out" "s0 -- out --> s1"
expect_ok "$SCILOOP" plugins
expect_contains "$T/out" "testkit"
expect_contains "$T/out" "core"
expect_ok "$SCILOOP" ops describe testkit.sleep
expect_contains "$T/out" "seconds        float   default=1 range=[0, 3600]"
expect_contains "$T/out" "in             any        optional several"
expect_ok "$SCILOOP" ops describe core.shell
expect_contains "$T/out" "command        string  required"
expect_error "unknown op 'testkit.slep'; did you mean 'testkit.sleep'?" "$SCILOOP" ops describe testkit.slep
# the live display redraws in place on a TTY
if command -v script >/dev/null; then
  script -qec "TERM=xterm $SCILOOP run f.xml --workdir wtty" /dev/null > tty.out 2>&1
  grep -q $'\033\[' tty.out || fail "no live display on a TTY"
fi
finish
