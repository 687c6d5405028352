/* SPDX-License-Identifier: MIT
 * Helper logging to stderr with levels (error, warn, info, debug) and timestamps.
 * Thread-safe (one fprintf per line); never used from anywhere realtime.
 */
#ifndef CN_SERVER_LOG_H
#define CN_SERVER_LOG_H

enum { CN_LOG_ERROR = 0, CN_LOG_WARN, CN_LOG_INFO, CN_LOG_DEBUG };

void cn_log_set_level(int level);
int cn_log_parse_level(const char *name);   /* -1 if unknown */
void cn_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
