/* SPDX-License-Identifier: MIT
 * cn-fake-helper: the real server, store and scheduler over the engine TEST DOUBLE, as its own
 * process, for tests that kill a helper (SIGKILL) or drive the `continuo` CLI. Test code only.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_runner.h"
#include "server.h"

int main(int argc, char **argv)
{
    cn_server_config cfg = {0};
    fake_engine fe = {0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--endpoint")) cfg.endpoint = argv[i + 1];
        else if (!strcmp(argv[i], "--store")) cfg.store_dir = argv[i + 1];
        else if (!strcmp(argv[i], "--step-us")) fe.step_us = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--heartbeat-ms")) cfg.heartbeat_ms = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--lose-device-after"))
            fe.lose_device_after = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "cn-fake-helper: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!cfg.store_dir) {
        fprintf(stderr, "usage: cn-fake-helper --store DIR [--endpoint E] [--step-us N] "
                "[--heartbeat-ms N] [--lose-device-after N]\n");
        return 2;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    cn_runner run;
    fake_runner(&run, &fe);
    cfg.runner = &run;
    cn_server *s = NULL;
    char err[512];
    if (cn_server_start(&s, &cfg, err, sizeof err)) {
        fprintf(stderr, "cn-fake-helper: %s\n", err);
        return 1;
    }
    int status = cn_server_wait(s, &sigs);
    cn_server_stop(&s);
    return status;
}
