/* sl_test.h — the tiny assertion kit every C test uses: CHECK macros that count failures and keep going. */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sl_test_failures = 0;
static int sl_test_checks = 0;

#define CHECK(cond) do { sl_test_checks++; if (!(cond)) { sl_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_MSG(cond, ...) do { sl_test_checks++; if (!(cond)) { sl_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); sl_test_checks++; \
    if (_a != _b) { sl_test_failures++; fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld vs %lld)\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)

#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); sl_test_checks++; \
    if (!_a || !_b || strcmp(_a, _b) != 0) { sl_test_failures++; fprintf(stderr, \
    "%s:%d: CHECK failed: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, __LINE__, #a, #b, \
    _a ? _a : "(null)", _b ? _b : "(null)"); } } while (0)

/* Substring check, for asserting error messages. */
#define CHECK_CONTAINS(hay, needle) do { const char *_h = (hay), *_n = (needle); sl_test_checks++; \
    if (!_h || !strstr(_h, _n)) { sl_test_failures++; fprintf(stderr, \
    "%s:%d: CHECK failed: \"%s\" should contain \"%s\"\n", __FILE__, __LINE__, _h ? _h : "(null)", _n); } } while (0)

/* |a-b| <= tol * max(1,|b|) */
#define CHECK_NEAR(a, b, tol) do { double _a = (a), _b = (b), _t = (tol); sl_test_checks++; \
    if (!(fabs(_a - _b) <= _t * (fabs(_b) > 1 ? fabs(_b) : 1))) { sl_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s ~ %s (%.17g vs %.17g, tol %g)\n", __FILE__, __LINE__, \
    #a, #b, _a, _b, _t); } } while (0)

/* Print a summary and return the process exit code. */
#define SL_TEST_DONE() (fprintf(stderr, "%d checks, %d failed\n", sl_test_checks, sl_test_failures), \
    sl_test_failures ? 1 : 0)

/* Exit code ctest reads as "skipped" (set SKIP_RETURN_CODE 77 on the test). */
#define SL_TEST_SKIP 77

#endif /* SL_TEST_H */
