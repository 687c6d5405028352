/* SPDX-License-Identifier: MIT
 * Built only when the helper's client library is missing: no real helper link, and the
 * status says so. Never used when cn_client is available.
 */
#include "link.h"

const cn_link_ops *const cn_link_client_ops = 0;

const char *cn_link_default_endpoint(char *buf, size_t n)
{
    (void)buf;
    (void)n;
    return 0;
}
