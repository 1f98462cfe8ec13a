#!/usr/bin/env bash
# template.sh — install the SDK, build examples/plugin-template out of tree both ways (CMake find_package and
# pkg-config), and run it in a workflow with the installed engine.
. "$(dirname "$0")/lib.sh"
prefix="$T/prefix"
expect_ok cmake --install "$SCILOOP_BUILD_DIR" --prefix "$prefix"
[ -x "$prefix/bin/sciloop" ] || fail "sciloop not installed"
[ -f "$prefix/include/sciloop/plugin.h" ] || fail "SDK headers not installed"
[ -f "$prefix/lib/pkgconfig/sciloop.pc" ] || fail "pkg-config file not installed"
[ -f "$prefix/lib/cmake/Sciloop/SciloopConfig.cmake" ] || fail "CMake package not installed"
cp -r "$SCILOOP_SOURCE_DIR/examples/plugin-template" src

# 1. CMake with find_package(Sciloop)
expect_ok cmake -S src -B build-cmake -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-Wall -Wextra -Werror"
expect_ok cmake --build build-cmake
[ -f build-cmake/wordcount.so ] || fail "CMake build made no wordcount.so"

# 2. pkg-config + make
expect_ok env PKG_CONFIG_PATH="$prefix/lib/pkgconfig" make -C src CFLAGS="-O2 -Wall -Wextra -Werror"
[ -f src/wordcount.so ] || fail "make built no wordcount.so"

# only the entry point is exported
nm -D --defined-only build-cmake/wordcount.so | grep -q ' T sciloop_plugin_v1$' || fail "entry symbol not exported"
[ "$(nm -D --defined-only build-cmake/wordcount.so | grep -c ' T ')" = 1 ] || fail "more than the entry symbol exported"

printf 'the cat saw the other cat\nThe end\n' > src/input.txt
for dir in build-cmake src; do
  unset SCILOOP_PLUGIN_PATH
  export SCILOOP_PLUGIN_PATH="$T/$dir"
  expect_ok "$prefix/bin/sciloop" ops describe wordcount.count
  expect_contains "$T/out" "min_length     int     default=1 range=[1, 100]"
  wf src/flow.xml <<'X'
  <step id="words" op="wordcount.count"><input port="text" path="input.txt"/></step>
  <output name="counts" from="words.counts"/>
X
  expect_ok "$prefix/bin/sciloop" run src/flow.xml --workdir "w-$dir" --outdir "o-$dir"
  printf 'word,count\nthe,3\ncat,2\nend,1\nother,1\nsaw,1\n' > expected.csv
  cmp -s expected.csv "o-$dir/counts.csv" || { fail "$dir: unexpected word counts"; cat "o-$dir/counts.csv" >&2; }
  # the shipped example runs too
  expect_ok "$prefix/bin/sciloop" run src/example.xml --workdir "w2-$dir" --outdir "o2-$dir"
  expect_contains "o2-$dir/counts.csv" "word,count"
done
finish
