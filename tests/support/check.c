/* SPDX-License-Identifier: MIT
 * Implementation of the test checks in check.h: every comparison prints one line.
 */
#include "check.h"

#include <math.h>
#include <stdio.h>

int cn_check_close(cn_check *c, const char *what, const float *got, const float *want,
                   int64_t n, double tol)
{
    double worst = 0;
    int64_t at = -1;
    for (int64_t i = 0; i < n; i++) {
        double d;
        if (isinf(want[i]) || isinf(got[i]))
            d = (got[i] == want[i]) ? 0 : INFINITY;
        else if (isnan(got[i]) || isnan(want[i]))
            d = INFINITY;
        else
            d = fabs((double)got[i] - (double)want[i]);
        if (d > worst || at < 0) {
            if (d > worst) worst = d;
            if (at < 0 || d >= worst) at = i;
        }
    }
    int ok = worst <= tol;
    if (ok) {
        printf("ok   %s: max abs diff %.3g <= %.3g over %lld values\n", what, worst, tol,
               (long long)n);
        c->passed++;
    } else {
        printf("FAIL %s: max abs diff %.3g > %.3g at index %lld (got %.7g, want %.7g)\n", what,
               worst, tol, (long long)at, at >= 0 ? got[at] : 0.0, at >= 0 ? want[at] : 0.0);
        c->failed++;
    }
    return ok;
}

int cn_check_equal_i32(cn_check *c, const char *what, const int32_t *got, const int32_t *want,
                       int64_t n)
{
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            if (first < 0) first = i;
            bad++;
        }
    }
    if (bad == 0) {
        printf("ok   %s: %lld values identical\n", what, (long long)n);
        c->passed++;
        return 1;
    }
    printf("FAIL %s: %lld of %lld differ; first at %lld (got %d, want %d)\n", what,
           (long long)bad, (long long)n, (long long)first, got[first], want[first]);
    c->failed++;
    return 0;
}

int cn_check_true(cn_check *c, const char *what, int ok, const char *detail)
{
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, detail ? ": " : "", detail ? detail : "");
    if (ok) c->passed++;
    else c->failed++;
    return ok;
}

int cn_check_finish(const cn_check *c)
{
    printf("%d passed, %d failed\n", c->passed, c->failed);
    return c->failed ? 1 : 0;
}
