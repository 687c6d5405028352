/* SPDX-License-Identifier: MIT
 * CURVE for remote helpers: key generation and loading, and the ZAP handler thread on
 * inproc://zeromq.zap.01 that admits only allow-listed client keys. Never logs a secret key.
 */
#define _GNU_SOURCE
#include "server_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server_log.h"

static int s_write_key(const char *path, const char *text, int mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    size_t n = strlen(text);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int cn_curve_keygen(const char *base, char *err, size_t errlen)
{
    char pub[41], sec[41], path[4096], text[256];
    if (zmq_curve_keypair(pub, sec)) {
        snprintf(err, errlen, "cannot make a CURVE key pair: %s (libzmq built without "
                 "libsodium?)", zmq_strerror(zmq_errno()));
        return -1;
    }
    snprintf(path, sizeof path, "%s.key", base);
    snprintf(text, sizeof text, "# Continuo CURVE key pair: keep secret\npublic=%s\nsecret=%s\n",
             pub, sec);
    if (s_write_key(path, text, 0600, err, errlen)) return -1;
    snprintf(path, sizeof path, "%s.pub", base);
    snprintf(text, sizeof text, "# Continuo CURVE public key\npublic=%s\n", pub);
    return s_write_key(path, text, 0644, err, errlen);
}

int cn_curve_load(const char *path, char *pub, char *sec, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    int got_pub = 0, got_sec = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!strncmp(line, "public=", 7) && strlen(line + 7) == 40 && pub) {
            memcpy(pub, line + 7, 41);
            got_pub = 1;
        } else if (!strncmp(line, "secret=", 7) && strlen(line + 7) == 40 && sec) {
            memcpy(sec, line + 7, 41);
            got_sec = 1;
        }
    }
    fclose(f);
    if ((pub && !got_pub) || (sec && !got_sec)) {
        snprintf(err, errlen, "key file %s has no %s key (40 Z85 characters after "
                 "\"%s=\"); make one with `continuo-helper keygen`", path,
                 pub && !got_pub ? "public" : "secret", pub && !got_pub ? "public" : "secret");
        return -1;
    }
    return 0;
}

static int s_allow_add(cn_server *s, const char *key)
{
    char (*p)[41] = realloc(s->allow, (size_t)(s->n_allow + 1) * sizeof *p);
    if (!p) return -1;
    s->allow = p;
    memcpy(s->allow[s->n_allow++], key, 41);
    return 0;
}

/* An allow-list: a key file, a file of "public=" lines, or a directory of .pub/.key files. */
static int s_load_allow(cn_server *s, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st)) {
        snprintf(err, errlen, "allow-list %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        FILE *f = fopen(path, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            const char *k = !strncmp(line, "public=", 7) ? line + 7 : line;
            if (strlen(k) == 40) s_allow_add(s, k);
        }
        if (f) fclose(f);
        return 0;
    }
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || (strcmp(de->d_name + l - 4, ".pub") && strcmp(de->d_name + l - 4, ".key")))
            continue;
        char full[4096], pub[41], e2[256];
        snprintf(full, sizeof full, "%s/%s", path, de->d_name);
        if (!cn_curve_load(full, pub, NULL, e2, sizeof e2)) s_allow_add(s, pub);
    }
    if (d) closedir(d);
    return 0;
}

static int s_allowed(cn_server *s, const unsigned char *key32)
{
    char z[41];
    if (!zmq_z85_encode(z, key32, 32)) return 0;
    for (int i = 0; i < s->n_allow; i++)
        if (!memcmp(s->allow[i], z, 40)) return 1;
    return 0;
}

/* ZAP (RFC 27): version, request id, domain, address, identity, mechanism, credentials. */
static void *s_zap(void *arg)
{
    cn_server *s = arg;
    void *sock = s->zap_sock;   /* bound before the thread started; this thread owns it now */
    for (;;) {
        char part[8][256];
        size_t len[8] = {0};
        int n = 0, more = 1;
        while (more) {
            int r = zmq_recv(sock, n < 8 ? part[n] : part[7], 255, 0);
            if (r < 0) { zmq_close(sock); return NULL; }   /* ETERM: shutting down */
            if (n < 8) len[n++] = (size_t)(r > 255 ? 255 : r);
            size_t ml = sizeof more;
            zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &ml);
        }
        int ok = n >= 7 && len[5] == 5 && !memcmp(part[5], "CURVE", 5) && len[6] == 32 &&
                 s_allowed(s, (const unsigned char *)part[6]);
        char z[41] = "?";
        if (n >= 7 && len[6] == 32) zmq_z85_encode(z, (const uint8_t *)part[6], 32);
        cn_log(ok ? CN_LOG_INFO : CN_LOG_WARN, "client key %s %s", z,
               ok ? "admitted" : "refused (not in the allow-list)");
        zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(sock, part[1], n > 1 ? len[1] : 0, ZMQ_SNDMORE);
        zmq_send(sock, ok ? "200" : "400", 3, ZMQ_SNDMORE);
        zmq_send(sock, ok ? "OK" : "key not allowed", ok ? 2 : 15, ZMQ_SNDMORE);
        zmq_send(sock, ok ? z : "", ok ? 40 : 0, ZMQ_SNDMORE);
        zmq_send(sock, "", 0, 0);
    }
}

int cn_server_curve_setup(cn_server *s, char *err, size_t errlen)
{
    if (!s->cfg.curve_secret) return 0;
    char pub[41], sec[41];
    if (cn_curve_load(s->cfg.curve_secret, pub, sec, err, errlen)) return -1;
    if (!s->cfg.allow) {
        snprintf(err, errlen, "--curve-key needs --allow (the client keys to admit)");
        return -1;
    }
    if (s_load_allow(s, s->cfg.allow, err, errlen)) return -1;
    /* Bound here, before the ROUTER binds, so no handshake can happen without the handler. */
    s->zap_sock = zmq_socket(s->ctx, ZMQ_REP);
    if (!s->zap_sock || zmq_bind(s->zap_sock, "inproc://zeromq.zap.01")) {
        snprintf(err, errlen, "cannot bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
        if (s->zap_sock) zmq_close(s->zap_sock);
        s->zap_sock = NULL;
        return -1;
    }
    if (pthread_create(&s->zap, NULL, s_zap, s)) {
        snprintf(err, errlen, "cannot start the ZAP thread");
        return -1;
    }
    s->zap_started = 1;
    int one = 1;
    zmq_setsockopt(s->router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(s->router, ZMQ_CURVE_SECRETKEY, sec, 40);
    zmq_setsockopt(s->router, ZMQ_ZAP_DOMAIN, "continuo", 8);
    cn_log(CN_LOG_INFO, "CURVE on, public key %s, %d client keys allowed", pub, s->n_allow);
    return 0;
}
