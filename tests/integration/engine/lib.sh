# lib.sh — helpers for the engine's shell tests: a scratch folder, expectations on exit codes and messages.
set -u
: "${SCILOOP:?SCILOOP must point at the sciloop binary}"
T=$(mktemp -d "${TMPDIR:-/tmp}/sciloop-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
export SCILOOP_PLUGIN_PATH="$TEST_PLUGINS/good"
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run CMD...: runs it, keeping stdout in $T/out, stderr in $T/err, exit code in $rc
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }

# expect_error EXPECTED_SUBSTRING CMD...: non-zero exit, no crash signal, message contains the text
expect_error() {
  local want="$1"; shift
  run "$@"
  if [ "$rc" -eq 0 ]; then fail "expected failure of: $*"; return; fi
  if [ "$rc" -ge 128 ] && [ "$rc" -ne 130 ]; then fail "crashed (exit $rc): $*"; cat "$T/err" >&2; return; fi
  if ! grep -qF -- "$want" "$T/err"; then fail "message should contain [$want]; got:"; cat "$T/err" >&2; fi
}

expect_ok() {
  run "$@"
  if [ "$rc" -ne 0 ]; then fail "expected success (got $rc): $*"; cat "$T/err" >&2; fi
}

expect_contains() { # FILE TEXT
  if ! grep -qF -- "$2" "$1"; then fail "$1 should contain [$2]; it has:"; cat "$1" >&2; fi
}

finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures failure(s)" >&2; exit 1; fi
  echo "ok"
  exit 0
}

# wf FILE BODY: write a workflow with the standard header
wf() {
  { echo '<?xml version="1.0"?>'; echo '<workflow xmlns="urn:sciloop:workflow:1" name="t">'; cat; echo '</workflow>'; } > "$1"
}
