#!/usr/bin/env bash
# bad_input.sh CASE — one row of the bad-input table: each must fail with a precise message, never a crash.
. "$(dirname "$0")/lib.sh"
case "$1" in
malformed_xml)
  printf '<workflow xmlns="urn:sciloop:workflow:1" name="t">\n  <step id="a" op="testkit.noop">\n</workflow>\n' > f.xml
  expect_error "f.xml:3:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "mismatch" ;;
xxe)
  cat > f.xml <<'X'
<?xml version="1.0"?>
<!DOCTYPE workflow [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<workflow xmlns="urn:sciloop:workflow:1" name="t"><step id="a" op="testkit.noop"><set name="value">&xxe;</set></step></workflow>
X
  expect_error "f.xml:2:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "DOCTYPE declarations are not allowed"
  if grep -q "root:" "$T/err" "$T/out"; then fail "external entity content leaked"; fi ;;
billion_laughs)
  { echo '<?xml version="1.0"?>'; echo '<!DOCTYPE lolz ['; echo ' <!ENTITY lol "lol">';
    prev=lol; for i in 1 2 3 4 5 6 7 8 9; do echo " <!ENTITY lol$i \"$(for k in 1 2 3 4 5 6 7 8 9 10; do printf '&%s;' $prev; done)\">"; prev=lol$i; done
    echo ']>'; echo '<workflow xmlns="urn:sciloop:workflow:1" name="t"><step id="a" op="testkit.noop"><set name="value">&lol9;</set></step></workflow>'; } > f.xml
  expect_error "DOCTYPE declarations are not allowed" timeout 20 "$SCILOOP" validate f.xml ;;
schema)
  wf f.xml <<'X'
  <step id="a" op="testkit.noop" colour="red"/>
X
  expect_error "f.xml:3:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "attribute 'colour' is not allowed" ;;
unknown_op)
  wf f.xml <<'X'
  <step id="a" op="testkit.nope"/>
X
  expect_error "f.xml:3:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "unknown op 'testkit.nope'"
  expect_contains "$T/err" "did you mean 'testkit.noop'" ;;
unknown_port)
  wf f.xml <<'X'
  <step id="a" op="testkit.noop"/>
  <step id="b" op="testkit.noop"><input port="inn" from="a.out"/></step>
X
  expect_error "f.xml:4:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "has no input port 'inn'; did you mean 'in'?" ;;
type_mismatch)
  wf f.xml <<'X'
  <step id="t" op="testkit.table"/>
  <step id="g" op="testkit.graphuser"><input port="graph" from="t.table"/></step>
X
  expect_error "f.xml:4:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "type mismatch: t.table is a 'table' artifact but input port 'graph' of testkit.graphuser expects 'graph'" ;;
cycle)
  wf f.xml <<'X'
  <step id="a" op="testkit.noop"><input port="in" from="c.out"/></step>
  <step id="b" op="testkit.noop"><input port="in" from="a.out"/></step>
  <step id="c" op="testkit.noop"><input port="in" from="b.out"/></step>
X
  expect_error "the steps form a cycle:" "$SCILOOP" validate f.xml
  for s in a b c; do expect_contains "$T/err" "$s ->"; done ;;
missing_path)
  wf f.xml <<'X'
  <step id="a" op="testkit.noop"><input port="in" path="no/such/file.txt"/></step>
X
  expect_error "f.xml:3:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "no/such/file.txt does not exist" ;;
param_type)
  wf f.xml <<'X'
  <step id="a" op="testkit.sleep"><set name="seconds">soon</set></step>
X
  expect_error "f.xml:3:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "param 'seconds' of testkit.sleep: expected a finite number, got 'soon'" ;;
param_range)
  wf f.xml <<'X'
  <param name="n" type="int" default="2" min="1" max="5"/>
  <step id="a" op="testkit.sleep"><set name="seconds">-1</set></step>
X
  expect_error "expected a number in [0, 3600], got -1" "$SCILOOP" validate f.xml
  wf g.xml <<'X'
  <param name="n" type="int" default="2" min="1" max="5"/>
  <step id="a" op="testkit.noop"><set name="value">${n}</set></step>
X
  expect_error "--param n=9: expected an integer in [1, 5], got 9" "$SCILOOP" validate g.xml --param n=9
  expect_error "--param n=x: expected an integer, got 'x'" "$SCILOOP" validate g.xml --param n=x ;;
duplicate_id)
  wf f.xml <<'X'
  <step id="a" op="testkit.noop"/>
  <step id="a" op="testkit.noop"/>
X
  expect_error "f.xml:4:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "duplicate id 'a': already used at line 3" ;;
abi_major)
  export SCILOOP_PLUGIN_PATH="$TEST_PLUGINS/good:$TEST_PLUGINS/bad_abi"
  wf f.xml <<'X'
  <step id="a" op="futureabi.x"/>
X
  expect_error "plugin speaks ABI 2.0 but this engine speaks ABI 1.1" "$SCILOOP" validate f.xml
  expect_ok "$SCILOOP" plugins
  expect_contains "$T/out" "not loaded: $TEST_PLUGINS/bad_abi/bad_abi.so: plugin speaks ABI 2.0" ;;
no_entry)
  export SCILOOP_PLUGIN_PATH="$TEST_PLUGINS/no_entry"
  expect_ok "$SCILOOP" plugins
  expect_contains "$T/out" "does not export the entry symbol 'sciloop_plugin_v1'" ;;
truncated)
  export SCILOOP_PLUGIN_PATH="$TEST_PLUGINS/truncated"
  expect_ok "$SCILOOP" plugins
  expect_contains "$T/out" "truncated descriptor" ;;
crash)
  # under AddressSanitizer, let the signal kill the worker as it would without it
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
  wf f.xml <<'X'
  <step id="boom" op="testkit.crash"/>
  <step id="after" op="testkit.noop"><input port="in" from="boom.out"/></step>
  <step id="independent" op="testkit.noop"/>
X
  expect_error "step 'boom' (testkit.crash) failed: op testkit.crash crashed in its worker process: signal 11 (Segmentation fault)" "$SCILOOP" run -q f.xml
  [ "$rc" -eq 1 ] || fail "a step failure should exit 1, got $rc"
  expect_contains "$T/err" "about to crash"
  # the engine survived and kept its state: the journal is readable and the next run reuses nothing broken
  expect_error "crashed in its worker process" "$SCILOOP" run -q --keep-going f.xml
  expect_contains "$T/err" "1 reused from cache" ;;
timeout)
  wf f.xml <<'X'
  <step id="slow" op="testkit.sleep" timeout="300ms"><set name="seconds">30</set></step>
X
  start=$(date +%s)
  expect_error "step 'slow' (testkit.sleep) failed: exceeded its time limit of 0.3s (timeout=\"300ms\")" "$SCILOOP" run -q f.xml
  [ $(( $(date +%s) - start )) -lt 10 ] || fail "timeout took too long"
  expect_error "exceeded its time limit" "$SCILOOP" run -q --executor inline f.xml ;;
unknown_param)
  wf f.xml <<'X'
  <step id="a" op="testkit.noop"><set name="valeu">1</set></step>
X
  expect_error "f.xml:3:" "$SCILOOP" validate f.xml
  expect_contains "$T/err" "op testkit.noop has no param 'valeu'; did you mean 'value'?" ;;
missing_param)
  wf f.xml <<'X'
  <param name="need" type="string"/>
  <step id="a" op="testkit.noop"><set name="value">${need}</set></step>
X
  expect_error "param 'need' has no default; give it with --param need=VALUE" "$SCILOOP" validate f.xml
  expect_ok "$SCILOOP" validate f.xml --param need=x ;;
bad_cli_param)
  wf f.xml <<'X'
  <param name="n" type="int" default="1"/>
  <step id="a" op="testkit.noop"/>
X
  expect_error "--param m=3: " "$SCILOOP" validate f.xml --param m=3
  expect_contains "$T/err" "has no param 'm'; it has: n" ;;
not_multi)
  wf f.xml <<'X'
  <foreach id="sw" var="i" in="1,2,3">
    <step id="a" op="testkit.noop"><set name="value">${i}</set></step>
  </foreach>
  <step id="b" op="testkit.count"><input port="previous" from="a.out"/></step>
X
  expect_error "input port 'previous' of testkit.count takes one artifact, but its binding gives 3" "$SCILOOP" validate f.xml ;;
previous_not_optional)
  wf f.xml <<'X'
  <loop id="l" max="3">
    <step id="c" op="testkit.count"><input port="previous" from="c.out" round="previous"/></step>
  </loop>
X
  expect_error "round=\"previous\" must also say optional=\"true\"" "$SCILOOP" validate f.xml ;;
until_value)
  wf f.xml <<'X'
  <loop id="l" max="3" until="c.verdikt = supported">
    <step id="c" op="testkit.count"><input port="previous" from="c.out" round="previous" optional="true"/></step>
  </loop>
X
  expect_error "op testkit.count publishes no value 'verdikt' (it publishes: count,verdict)" "$SCILOOP" validate f.xml ;;
bad_select)
  wf f.xml <<'X'
  <step id="sh" op="core.shell"><set name="command">true</set></step>
  <step id="b" op="testkit.noop"><input port="in" from="sh.out" select="../../etc/passwd"/></step>
X
  expect_error "select=\"../../etc/passwd\" must be a relative path inside the artifact" "$SCILOOP" validate f.xml ;;
*) fail "unknown case $1" ;;
esac
finish
