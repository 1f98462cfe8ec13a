#!/usr/bin/env bash
# kill_resume.sh — SIGKILL the engine at 20 random points of a 200-step workflow; each time the same command
# must then complete with outputs byte-identical to an uninterrupted run, and the store must hold only whole objects.
# EXECUTOR=local (default) or inline: inline, the no-op steps give their outputs from memory, so the kills also
# land while pack entries and journal records are being written.
. "$(dirname "$0")/lib.sh"
KILLS=${KILLS:-20}
EXECUTOR=${EXECUTOR:-local}
RANDOM=${SEED:-20261123}
# 1 root + 19 chains of 10 + 1 gather + 8 more in a chain = 200 steps: chains, fan-out and fan-in
wf f.xml <<'X'
  <step id="root" op="testkit.sleep"><set name="seconds">0.01</set><set name="value">root</set></step>
  <foreach id="chain" var="i" in="1..19">
    <step id="c1" op="testkit.sleep"><input port="in" from="root.out"/><set name="seconds">0.01</set><set name="value">${i}</set></step>
    <step id="c2" op="testkit.sleep"><input port="in" from="c1.out"/><set name="seconds">0.01</set></step>
    <step id="c3" op="testkit.sleep"><input port="in" from="c2.out"/><set name="seconds">0.01</set></step>
    <step id="c4" op="testkit.sleep"><input port="in" from="c3.out"/><set name="seconds">0.01</set></step>
    <step id="c5" op="testkit.sleep"><input port="in" from="c4.out"/><set name="seconds">0.01</set></step>
    <step id="c6" op="testkit.sleep"><input port="in" from="c5.out"/><set name="seconds">0.01</set></step>
    <step id="c7" op="testkit.sleep"><input port="in" from="c6.out"/><set name="seconds">0.01</set></step>
    <step id="c8" op="testkit.sleep"><input port="in" from="c7.out"/><set name="seconds">0.01</set></step>
    <step id="c9" op="testkit.sleep"><input port="in" from="c8.out"/><set name="seconds">0.01</set></step>
    <step id="c10" op="testkit.sleep"><input port="in" from="c9.out"/><set name="seconds">0.01</set></step>
  </foreach>
  <step id="g1" op="testkit.noop"><input port="in" from="c10.out"/></step>
  <step id="g2" op="testkit.noop"><input port="in" from="g1.out"/></step>
  <step id="g3" op="testkit.noop"><input port="in" from="g2.out"/></step>
  <step id="g4" op="testkit.noop"><input port="in" from="g3.out"/></step>
  <step id="g5" op="testkit.noop"><input port="in" from="g4.out"/></step>
  <step id="g6" op="testkit.noop"><input port="in" from="g5.out"/></step>
  <step id="g7" op="testkit.noop"><input port="in" from="g6.out"/></step>
  <step id="g8" op="testkit.noop"><input port="in" from="g7.out"/></step>
  <step id="g9" op="testkit.noop"><input port="in" from="g8.out"/></step>
  <output name="final" from="g9.out"/>
  <output name="chains" from="c10.out"/>
X
expect_ok "$SCILOOP" validate f.xml
expect_contains "$T/out" "valid (200 steps planned)"

start=$(date +%s%N)
expect_ok "$SCILOOP" run -q f.xml --executor "$EXECUTOR" --jobs 2 --workdir ref --outdir ref-out
dur_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "uninterrupted run: ${dur_ms}ms"

check_store() {
  local wd=$1
  python3 "$SCILOOP_SOURCE_DIR/tests/integration/engine/check_store.py" "$wd" || fail "$wd: the store holds a half-written artifact or record"
  [ -z "$(find "$wd/tmp" -mindepth 2 2>/dev/null)" ] || fail "$wd/tmp should hold no staged files after a completed run"
}

killed_mid=0
for k in $(seq 1 "$KILLS"); do
  rm -rf w res
  # a random point in the first ~90% of an uninterrupted run, in milliseconds
  ms=$(( RANDOM % (dur_ms * 9 / 10 + 1) + 5 ))
  "$SCILOOP" run -q f.xml --executor "$EXECUTOR" --jobs 2 --workdir w --outdir res >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  done_before=$(grep -c '^R' w/journal 2>/dev/null || true)
  done_before=${done_before:-0}
  [ "$done_before" -gt 0 ] && [ "$done_before" -lt 200 ] && killed_mid=$((killed_mid + 1))
  expect_ok "$SCILOOP" run -q f.xml --executor "$EXECUTOR" --jobs 2 --workdir w --outdir res
  diff -r ref-out res >/dev/null || fail "kill $k at ${ms}ms ($done_before steps journaled): outputs differ from the uninterrupted run"
  check_store w
  echo "kill $k at ${ms}ms: $done_before of 200 steps had finished; resumed run matched"
done
[ "$killed_mid" -ge $((KILLS / 2)) ] || fail "only $killed_mid of $KILLS kills landed mid-run"
finish
