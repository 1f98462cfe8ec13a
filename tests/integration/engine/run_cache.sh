#!/usr/bin/env bash
# run_cache.sh — caching: a re-run reuses everything; a change recomputes exactly the steps downstream of it; `why` says why.
. "$(dirname "$0")/lib.sh"
echo "data v1" > input.txt
wf f.xml <<'X'
  <param name="bval" type="string" default="one"/>
  <step id="a" op="testkit.noop"><input port="in" path="input.txt"/><set name="value">a</set></step>
  <step id="b" op="testkit.noop"><input port="in" from="a.out"/><set name="value">${bval}</set></step>
  <step id="c" op="testkit.noop"><input port="in" from="b.out"/></step>
  <step id="d" op="testkit.noop"><set name="value">independent</set></step>
  <output name="final" from="c.out"/>
X
expect_ok "$SCILOOP" run f.xml
expect_contains "$T/err" "4 ran, 0 reused"
cp sciloop-out/final first.out

expect_ok "$SCILOOP" run f.xml
expect_contains "$T/err" "0 ran, 4 reused"
for s in a b c d; do expect_contains "$T/err" "reused  $s (testkit.noop)"; done
cmp -s first.out sciloop-out/final || fail "re-run changed the output"

# a param change: b and c recompute, a and d are reused
expect_ok "$SCILOOP" run f.xml --param bval=two
expect_contains "$T/err" "2 ran, 2 reused"
expect_contains "$T/err" "reused  a (testkit.noop)"
expect_contains "$T/err" "reused  d (testkit.noop)"
expect_contains "$T/err" "done    b (testkit.noop)"
expect_contains "$T/err" "done    c (testkit.noop)"
cmp -s first.out sciloop-out/final && fail "output should differ after the param change"

# why: b's key differs in exactly one param; c will run because b does
expect_ok "$SCILOOP" why f.xml b --param bval=three
expect_contains "$T/out" "=> will run: its key differs from the last recorded result"
expect_contains "$T/out" "~ param value: =two  ->  =three"
expect_ok "$SCILOOP" why f.xml c --param bval=three
expect_contains "$T/out" "will run, because an input comes from a step that will run first: b"
expect_ok "$SCILOOP" why f.xml d
expect_contains "$T/out" "=> cached"

# an input file's content change: everything downstream of a recomputes, d does not
echo "data v2" > input.txt
expect_ok "$SCILOOP" why f.xml a --param bval=two
expect_contains "$T/out" "~ input in[0]"
expect_ok "$SCILOOP" run f.xml --param bval=two
expect_contains "$T/err" "3 ran, 1 reused"
# touching a file without changing it does not invalidate anything
touch input.txt
expect_ok "$SCILOOP" run f.xml --param bval=two
expect_contains "$T/err" "0 ran, 4 reused"

# input hashes are memoised by file metadata: a file whose content changes is re-read even if
# its size and modification time are restored (its ctime changes); an unchanged one is not
echo "old content" > old.txt
touch -d '2 hours ago' old.txt
wf m.xml <<'X'
  <step id="m" op="testkit.noop"><input port="in" path="old.txt"/></step>
X
expect_ok "$SCILOOP" run m.xml
grep -q "old.txt" .sciloop/hashes || fail "the input hash memo has no entry for old.txt"
expect_ok "$SCILOOP" run m.xml
expect_contains "$T/err" "0 ran, 1 reused"
echo "new content" > old.txt
touch -d '2 hours ago' old.txt
expect_ok "$SCILOOP" run m.xml
expect_contains "$T/err" "1 ran, 0 reused"

# the store holds only whole objects named by their content, and every journal record is whole
# and names artifacts the store holds
python3 "$SCILOOP_SOURCE_DIR/tests/integration/engine/check_store.py" .sciloop || fail "the store or journal is not whole"
finish
