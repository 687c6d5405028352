/* SPDX-License-Identifier: MIT
 * CURVE over tcp loopback: `keygen` key files, a client whose public key is in the helper's
 * allow-list is admitted and served; an unlisted key, a one-off key and a plain (unencrypted)
 * client are refused; the helper keeps serving the admitted client throughout. A client
 * given no key file uses its default key file ($CONTINUO_CLIENT_KEY here) when it exists.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "htest.h"

static cn_check chk;

static cn_client *s_open(const char *ep, const char *server_pub, const char *client_key,
                         char *err)
{
    cn_client_config cfg = {ep, server_pub, client_key, "curve-test", 1500, 0, NULL, NULL};
    cn_client *c = NULL;
    if (cn_client_open(&c, &cfg, err, 512)) return NULL;
    return c;
}

int main(void)
{
    char dir[512], store[600], base[700], allow[700], err[512], msg[800];
    setenv("CONTINUO_CLIENT_KEY", "/nonexistent/continuo-client.key", 1);   /* one-off pairs */
    ht_tmpdir(dir, sizeof dir, "curve");
    snprintf(store, sizeof store, "%s/store", dir);
    snprintf(allow, sizeof allow, "%s/allowed", dir);
    mkdir(allow, 0700);
    const char *names[3] = {"helper", "allowed/alice", "mallory"};
    for (int i = 0; i < 3; i++) {
        snprintf(base, sizeof base, "%s/%s", dir, names[i]);
        int rc = cn_curve_keygen(base, err, sizeof err);
        snprintf(msg, sizeof msg, "%.200s.key and %.200s.pub %.300s", base, base, rc ? err : "written");
        cn_check_true(&chk, "keygen writes a key pair", rc == 0, msg);
    }
    char hkey[800], hpub[800], akey[800], mkey[800], pub[41], sec[41];
    snprintf(hkey, sizeof hkey, "%s/helper.key", dir);
    snprintf(hpub, sizeof hpub, "%s/helper.pub", dir);
    snprintf(akey, sizeof akey, "%s/allowed/alice.key", dir);
    snprintf(mkey, sizeof mkey, "%s/mallory.key", dir);
    struct stat st;
    stat(hkey, &st);
    int loaded = !cn_curve_load(hkey, pub, sec, err, sizeof err);
    snprintf(msg, sizeof msg, "mode %o, public key %.8s..., loaded %d", st.st_mode & 0777, pub,
             loaded);
    cn_check_true(&chk, "the key pair file is private (0600) and loads", loaded &&
                  (st.st_mode & 0777) == 0600, msg);
    fake_engine fe = {0};
    cn_runner run;
    fake_runner(&run, &fe);
    cn_server_config extra = {0};
    extra.endpoint = "tcp://127.0.0.1:0";
    extra.curve_secret = hkey;
    extra.allow = allow;
    cn_server *s = ht_server(&run, dir, store, &extra);
    if (!s) return 1;
    const char *ep = cn_server_endpoint(s);
    cn_client *alice = s_open(ep, hpub, akey, err);
    snprintf(msg, sizeof msg, "%s: %s", ep, alice ? "welcome received" : err);
    cn_check_true(&chk, "a listed client key is admitted", alice != NULL, msg);
    cn_client *mallory = s_open(ep, hpub, mkey, err);
    snprintf(msg, sizeof msg, "%s", mallory ? "admitted!" : err);
    cn_check_true(&chk, "an unlisted client key is refused", !mallory &&
                  strstr(err, "did not answer"), msg);
    cn_client *anon = s_open(ep, hpub, NULL, err);
    snprintf(msg, sizeof msg, "%s", anon ? "admitted!" : err);
    cn_check_true(&chk, "a one-off client key is refused", !anon, msg);
    cn_client *plain = s_open(ep, NULL, NULL, err);
    snprintf(msg, sizeof msg, "%s", plain ? "admitted!" : err);
    cn_check_true(&chk, "a client without CURVE is refused", !plain, msg);
    if (alice) {
        ht_rec r;
        ht_rec_init(&r);
        int rc = ht_wait(alice, cn_client_tree(alice, NULL, err, sizeof err), &r, 5000);
        cn_check_true(&chk, "the admitted client is served after the refusals", rc == 0,
                      r.message);
    }
    setenv("CONTINUO_CLIENT_KEY", akey, 1);
    cn_client *dflt = s_open(ep, hpub, NULL, err);
    snprintf(msg, sizeof msg, "CONTINUO_CLIENT_KEY=%.300s: %.300s", akey, dflt ? "welcome received" : err);
    cn_check_true(&chk, "a client given no key file uses its default key file", dflt != NULL,
                  msg);
    cn_client_close(&dflt);
    setenv("CONTINUO_CLIENT_KEY", mkey, 1);
    cn_client *dm = s_open(ep, hpub, NULL, err);
    cn_check_true(&chk, "an unlisted default key is refused, naming the files to check", !dm &&
                  strstr(err, "helper.pub") && strstr(err, "mallory.key"), dm ? "admitted!" : err);
    cn_client_close(&dm);
    cn_client_close(&alice), cn_client_close(&mallory), cn_client_close(&anon);
    cn_client_close(&plain);
    cn_server_stop(&s);
    return cn_check_finish(&chk);
}
