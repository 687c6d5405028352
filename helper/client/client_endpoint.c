/* SPDX-License-Identifier: MIT
 * Client defaults: the endpoint of a local helper (ipc:// in the user's runtime folder) and
 * the client's CURVE key pair file. Sound files and resampling live in helper/audio/audio_io.c.
 * Never opens anything itself.
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

const char *cn_default_client_key(char *buf, size_t len)
{
    const char *env = getenv("CONTINUO_CLIENT_KEY"), *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (env && env[0]) snprintf(buf, len, "%s", env);
    else if (xdg && xdg[0]) snprintf(buf, len, "%s/continuo/client.key", xdg);
    else snprintf(buf, len, "%s/.config/continuo/client.key", home ? home : "");
    return buf;
}
