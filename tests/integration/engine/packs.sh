#!/usr/bin/env bash
# packs.sh — outputs given from memory (host->write_output): packed by the inline executor, made files
# only when asked for, identical across executors, cached, checked when read back, misuse refused.
. "$(dirname "$0")/lib.sh"
CHECK="python3 $SCILOOP_SOURCE_DIR/tests/integration/engine/check_store.py"
wf f.xml <<'X'
  <foreach id="fan" var="i" in="1..6">
    <step id="e" op="testkit.emit"><set name="value">item ${i}</set></step>
    <step id="n" op="testkit.noop"><input port="in" from="e.out"/></step>
  </foreach>
  <step id="quiet" op="testkit.emit"><set name="value">never read</set></step>
  <step id="join" op="testkit.noop"><input port="in" from="n.out"/></step>
  <output name="joined" from="join.out"/>
  <output name="items" from="e.out"/>
X
expect_ok "$SCILOOP" run -q f.xml --executor local --jobs 2 --workdir wl --outdir ol
expect_ok "$SCILOOP" run -q f.xml --executor inline --jobs 2 --workdir wi --outdir oi
diff -r ol oi >/dev/null || fail "local and inline outputs differ"
printf 'item 3' | cmp -s - "$(grep -l '^item 3$' oi/items/* | head -1)" || fail "a published output given from memory lost its bytes"

# inline: every output lives in the run's pack, and the journal says where (R2 records)
[ "$(ls wi/store/packs | wc -l)" -eq 1 ] || fail "one inline run should write one pack: $(ls wi/store/packs)"
[ "$(grep -c '^R2' wi/journal)" -eq 14 ] || fail "expected 14 R2 records, got $(grep -c '^R2' wi/journal)"
# an output nobody asked a path for never became a file; one a step read did
quiet=$(printf 'never read' | sha256sum | cut -c1-64)
[ ! -e "wi/store/${quiet:0:2}/$quiet" ] || fail "an output no step read should stay packed"
item1=$(printf 'item 1' | sha256sum | cut -c1-64)
[ -f "wi/store/${item1:0:2}/$item1" ] || fail "an input a step read should have become a file in the store"
# local: the worker wrote files, no pack
[ -z "$(ls wl/store/packs)" ] || fail "the local executor should not pack"
grep -q '^R2' wl/journal && fail "the local executor's records should be R1"
$CHECK wi || fail "inline store is not whole"
$CHECK wl || fail "local store is not whole"

# cached from packs, by either executor; a worker gets packed inputs as files
expect_ok "$SCILOOP" run f.xml --executor inline --workdir wi --outdir oi2
expect_contains "$T/err" "0 ran, 14 reused"
diff -r oi oi2 >/dev/null || fail "outputs published from the cache differ"
sed -i 's|<step id="join" op="testkit.noop">|<step id="join" op="testkit.noop"><set name="value">v2</set>|' f.xml
expect_ok "$SCILOOP" run f.xml --executor local --workdir wi --outdir oi3
expect_contains "$T/err" "1 ran, 13 reused"
expect_ok "$SCILOOP" why f.xml quiet --workdir wi
expect_contains "$T/out" "=> cached"

# a pack cut short (a kill mid-write, a full disk): records past its end are not trusted
pack=$(ls wi/store/packs/*.pack | head -1)
truncate -s 100 "$pack"
expect_ok "$SCILOOP" run f.xml --executor inline --workdir wi --outdir oi4
grep -q " 0 ran," "$T/err" && fail "records naming a truncated pack's lost entries should not be reused"
cmp -s oi3/joined oi4/joined || fail "recomputed output differs"
expect_ok "$SCILOOP" run f.xml --executor inline --workdir wi --outdir oi5
expect_contains "$T/err" "0 ran, 14 reused"

# a damaged entry is caught when read back, with the pack named
rm -rf wd && expect_ok "$SCILOOP" run -q f.xml --executor inline --workdir wd
rm -f wd/store/*/"$item1"*
python3 - wd/store/packs/*.pack <<'P'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'item 1')
b[i] ^= 0x20
open(p, 'wb').write(bytes(b))
P
sed -i 's|<set name="value">v2</set>|<set name="value">v3</set>|' f.xml
sed -i 's|<step id="n" op="testkit.noop">|<step id="n" op="testkit.noop"><set name="value">again</set>|' f.xml
expect_error "(the pack is damaged); the step that made it runs again next time" "$SCILOOP" run -q f.xml --executor inline --workdir wd
expect_contains "$T/err" ".pack: the entry at offset"
grep -q '^D1' wd/journal || fail "the damaged entry should be noted in the journal"
expect_ok "$SCILOOP" run f.xml --executor inline --workdir wd --outdir od
expect_contains "$T/err" "done    fan[1].e (testkit.emit)"
expect_ok "$SCILOOP" run -q f.xml --executor inline --workdir fresh --outdir ofresh
diff -r od ofresh >/dev/null || fail "outputs after recovering from a damaged pack differ from a fresh run's"

# misuse is refused with the reason
wf m.xml <<'X'
  <step id="both" op="testkit.misuse"><set name="mode">both</set></step>
X
expect_error "both wrote output port 'out'" "$SCILOOP" run -q m.xml --executor inline --workdir wm
wf d.xml <<'X'
  <step id="dir" op="testkit.misuse"><set name="mode">dir</set></step>
X
expect_error "output port 'dir' is a directory (type 'dir'): write it at output_path" "$SCILOOP" run -q d.xml --executor inline --workdir wm
finish
