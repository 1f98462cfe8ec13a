#!/usr/bin/env bash
# loops.sh — <loop until> rounds planned lazily from the previous round; foreach sweeps; when=.
. "$(dirname "$0")/lib.sh"
wf f.xml <<'X'
  <param name="rounds" type="int" default="10" min="1" max="20"/>
  <loop id="study" max="${rounds}" until="c.verdict = supported">
    <step id="c" op="testkit.count"><input port="previous" from="c.out" round="previous" optional="true"/></step>
    <step id="n" op="testkit.noop"><input port="in" from="c.out"/><set name="value">round ${study.round}</set></step>
  </loop>
  <step id="after" op="testkit.noop"><input port="in" from="n.out"/></step>
  <output name="count" from="c.out"/>
X
expect_ok "$SCILOOP" run --dry-run f.xml
expect_contains "$T/out" "study[1].c"
expect_contains "$T/out" "loop study: round 1 of at most 10 planned"
grep -q "study\[2\]" "$T/out" && fail "round 2 must not be planned before round 1 runs"
expect_ok "$SCILOOP" run f.xml
expect_contains "$T/err" "loop study finished after 3 rounds: until (c.verdict = supported) held after round 3"
expect_contains "$T/err" "done    study[3].c"
expect_contains "$T/err" "done    after"
[ "$(cat sciloop-out/count.* sciloop-out/count 2>/dev/null | head -1)" = "3" ] || fail "the published count should be the last round's (3)"
# max caps the rounds
expect_ok "$SCILOOP" run f.xml --param rounds=2 --workdir w2
expect_contains "$T/err" "loop study finished after 2 rounds: reached max=2 rounds without meeting until"
# a re-run reuses every round
expect_ok "$SCILOOP" run f.xml
expect_contains "$T/err" "0 ran, 7 reused"

wf g.xml <<'X'
  <param name="lrs" type="list" default="0.1, 0.01, 0.001"/>
  <param name="extra" type="bool" default="false"/>
  <foreach id="sweep" var="lr" in="${lrs}">
    <foreach id="seeds" var="s" in="1..2">
      <step id="train" op="testkit.noop"><set name="value">lr=${lr} seed=${s}</set></step>
    </foreach>
  </foreach>
  <step id="extra_step" op="testkit.noop" when="${extra}"/>
  <step id="gather" op="testkit.noop"><input port="in" from="train.out"/><input port="in" from="extra_step.out" optional="true"/></step>
X
expect_ok "$SCILOOP" run --dry-run g.xml
expect_contains "$T/out" "sweep[3].seeds[2].train"
expect_contains "$T/out" "extra_step                   testkit.noop  (disabled by when=\"\${extra}\")"
expect_ok "$SCILOOP" run g.xml
expect_contains "$T/err" "7 ran"
expect_ok "$SCILOOP" run g.xml --param extra=true
expect_contains "$T/err" "2 ran, 6 reused"
finish
