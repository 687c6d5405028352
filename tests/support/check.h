/* SPDX-License-Identifier: MIT
 * Test checks that print what they compared, the tolerance and the worst difference, and
 * count passes and failures for the closing "N passed, M failed" line.
 */
#ifndef CN_CHECK_H
#define CN_CHECK_H

#include <stdint.h>

typedef struct cn_check {
    int passed, failed;
} cn_check;

/* max |got - want| <= tol (both finite-or-equal-infinity); prints one line. Returns 1 if ok. */
int cn_check_close(cn_check *c, const char *what, const float *got, const float *want,
                   int64_t n, double tol);
/* Exact equality of integers; prints the first mismatch. Returns 1 if ok. */
int cn_check_equal_i32(cn_check *c, const char *what, const int32_t *got, const int32_t *want,
                       int64_t n);
/* A plain condition with a message. Returns ok. */
int cn_check_true(cn_check *c, const char *what, int ok, const char *detail);
/* Prints "N passed, M failed" and returns the process exit status (0 if none failed). */
int cn_check_finish(const cn_check *c);

#endif
