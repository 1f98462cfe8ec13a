#!/usr/bin/env bash
# shipped.sh — workflows/validate-hypotheses.xml end to end, and a <loop> that stops on the verdict validate publishes.
. "$SCILOOP_SOURCE_DIR/tests/integration/engine/lib.sh"
unset SCILOOP_PLUGIN_PATH # the built-in plugins only
SRC="$SCILOOP_SOURCE_DIR"

expect_ok "$SCILOOP" run "$SRC/workflows/validate-hypotheses.xml" --outdir res
expect_contains "$T/err" "3 ran"
head -1 res/verdicts.csv | grep -q ",verdict,rule$" || fail "verdicts table lacks the verdict column"
grep -q '"verdict"' res/report/report.json || fail "report.json has no verdict"
[ -f res/report/report.md ] || fail "no Markdown report"
awk -F'\t' '$4 == "validate.hypotheses"' .sciloop/journal | grep -q "verdict" || fail "the journal did not record the published verdict"
expect_ok "$SCILOOP" run "$SRC/workflows/validate-hypotheses.xml" --outdir res
expect_contains "$T/err" "0 ran, 3 reused"

# A study that collects more of the trial each round until the hypotheses are supported:
# round n keeps the rows whose number modulo 6 is below n.
cat > loop.xml <<X
<workflow xmlns="urn:sciloop:workflow:1" name="study">
  <loop id="study" max="6" until="check.verdict = supported">
    <step id="collect" op="core.shell">
      <input port="in" path="$SRC/examples/validate/trial.csv"/>
      <set name="command">head -n 1 "\$in" &gt; data.csv; tail -n +2 "\$in" | awk -v n=\${study.round} 'NR % 6 &lt; n' &gt;&gt; data.csv</set>
      <set name="outputs">data.csv</set>
    </step>
    <step id="check" op="validate.hypotheses">
      <input port="data" from="collect.out" select="data.csv"/>
      <input port="hypotheses" path="$SRC/examples/validate/hypotheses.csv"/>
    </step>
  </loop>
  <output name="verdicts" from="check.verdicts"/>
</workflow>
X
expect_ok "$SCILOOP" run loop.xml --outdir loop-out
expect_contains "$T/err" "loop study finished after 2 rounds: until (check.verdict = supported) held after round 2"
grep -q "study\[1\].check" .sciloop/journal || fail "round 1 is not in the journal"
expect_ok "$SCILOOP" run loop.xml --outdir loop-out
expect_contains "$T/err" "0 ran, 4 reused"
finish
