/* SPDX-License-Identifier: MIT
 * Leveled stderr logging for continuo-helper. One line per call, prefixed with the time and
 * the level. Never exits or aborts.
 */
#define _GNU_SOURCE
#include "server_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int s_level = CN_LOG_INFO;
static const char *const s_names[] = {"error", "warn", "info", "debug"};

void cn_log_set_level(int level) { atomic_store(&s_level, level); }

int cn_log_parse_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, s_names[i])) return i;
    return -1;
}

void cn_log(int level, const char *fmt, ...)
{
    if (level > atomic_load(&s_level)) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld continuo-helper %s: %s\n", tm.tm_hour, tm.tm_min,
            tm.tm_sec, ts.tv_nsec / 1000000, s_names[level < 0 ? 0 : level > 3 ? 3 : level],
            msg);
}
