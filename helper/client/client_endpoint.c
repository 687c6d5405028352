/* SPDX-License-Identifier: MIT
 * The default endpoint of a local helper (ipc:// in the user's runtime folder). Sound files
 * and resampling live in helper/audio/audio_io.c. Never opens anything itself.
 */
#define _GNU_SOURCE
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *cn_default_endpoint(char *buf, size_t len)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (dir && dir[0]) snprintf(buf, len, "ipc://%s/continuo-helper.sock", dir);
    else snprintf(buf, len, "ipc:///tmp/continuo-%d/continuo-helper.sock", (int)getuid());
    return buf;
}
