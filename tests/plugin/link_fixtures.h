/* SPDX-License-Identifier: MIT
 * Helpers for the plugin's link tests, kept apart from the plugin's headers (both define a
 * cn_msg): a CURVE helper over the engine test double, and a helper of another protocol.
 */
#ifndef CN_LINK_FIXTURES_H
#define CN_LINK_FIXTURES_H

#include <stddef.h>

typedef struct lf_helper lf_helper;

/* A CURVE helper on tcp loopback whose key pair is DIR/helper.key and whose allow-list
 * (DIR/allowed/) holds the client pair DIR/allowed/client.key; plus an unrelated public key
 * DIR/other.pub. Returns NULL with err set. */
lf_helper *lf_curve_helper(const char *dir, char *err, size_t errlen);
/* A helper at ipc://DIR/other.sock answering every hello with the version error of a helper
 * speaking protocol 99. */
lf_helper *lf_other_version_helper(const char *dir, char *err, size_t errlen);
/* A fresh temporary folder (kept for a look after a failure). */
const char *lf_tmpdir(char *buf, size_t len);
const char *lf_endpoint(const lf_helper *h);
void lf_stop(lf_helper *h);

#endif
