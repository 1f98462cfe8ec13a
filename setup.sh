#!/usr/bin/env bash
# setup.sh — install what sciloop needs on Debian, build it, and run the demo or the tests.
#
#   ./setup.sh demo    install dependencies, build, run the demo workflow
#   ./setup.sh test    install dependencies, build, run the whole test suite
#                      (regular build, then an ASan/UBSan build, then the fuzzers)
#   ./setup.sh deps    only install dependencies;  ./setup.sh build   only build into build/
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}

DEBIAN_PACKAGES=(
  build-essential cmake pkg-config git python3
  libxml2-dev libarchive-dev libjansson-dev libssl-dev libutf8proc-dev
  libopenblas-dev liblapacke-dev zlib1g-dev libzstd-dev libisal-dev
  clang libclang-rt-14-dev   # libFuzzer targets
  util-linux                 # `script`, for the TTY progress test
)

deps() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=sudo; else
      echo "setup.sh: these Debian packages are missing: ${missing[*]}" >&2
      echo "setup.sh: run as root (or install sudo) so apt-get can install them" >&2
      exit 1
    fi
  fi
  echo "setup.sh: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# build DIR [cmake args...]
build() {
  local dir=$1; shift
  cmake -S "$ROOT" -B "$dir" -DSCILOOP_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$JOBS"
}

case "${1:-}" in
deps) deps ;;
build) deps; build build ;;
demo)
  deps
  build build
  demo=workflows/research-loop.xml
  [ -f "$demo" ] || demo=workflows/literature-survey.xml
  echo "setup.sh: running $demo"
  ./build/bin/sciloop run "$demo" --workdir build/demo/.sciloop --outdir build/demo/out
  echo "setup.sh: results are in build/demo/out/" ;;
test)
  deps
  build build
  (cd build && ctest -j"$JOBS" --output-on-failure --timeout 900)
  echo "setup.sh: AddressSanitizer + UndefinedBehaviorSanitizer build"
  build build-asan -DSCILOOP_SANITIZE="address;undefined" -DCMAKE_BUILD_TYPE=Debug
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest -j"$JOBS" --output-on-failure -LE "slow|fuzz|bench" --timeout 900)
  echo "setup.sh: fuzzers (libFuzzer, bounded time each)"
  CC=clang build build-fuzz -DSCILOOP_FUZZ=ON -DSCILOOP_CUDA=OFF
  (cd build-fuzz && ctest -j"$JOBS" --output-on-failure -L fuzz --timeout 900) ;;
*)
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2 ;;
esac
