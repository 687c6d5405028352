/* SPDX-License-Identifier: MIT
 * Typed, checked reads of hyper-parameters (the continuo.hparams JSON of a model file).
 * Never guesses a default: a missing or mistyped key is an error naming the key.
 */
#include "modelfile.h"

#include <math.h>
#include <stdio.h>

static const cJSON *s_get(const cJSON *hp, const char *key, char *err, size_t errlen)
{
    const cJSON *v = hp ? cJSON_GetObjectItemCaseSensitive(hp, key) : NULL;
    if (!v || cJSON_IsNull(v)) snprintf(err, errlen, "hparams: %s missing", key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static int s_as_int(const cJSON *v, const char *key, int *out, char *err, size_t errlen)
{
    if (!cJSON_IsNumber(v)) {
        snprintf(err, errlen, "hparams: %s is not a number", key);
        return -1;
    }
    double d = v->valuedouble;
    if (d != floor(d) || d < -2147483648.0 || d > 2147483647.0) {
        snprintf(err, errlen, "hparams: %s is %g, not an integer", key, d);
        return -1;
    }
    *out = (int)d;
    return 0;
}

int cn_hp_int(const cJSON *hp, const char *key, int *out, char *err, size_t errlen)
{
    const cJSON *v = s_get(hp, key, err, errlen);
    return v ? s_as_int(v, key, out, err, errlen) : -1;
}

int cn_hp_double(const cJSON *hp, const char *key, double *out, char *err, size_t errlen)
{
    const cJSON *v = s_get(hp, key, err, errlen);
    if (!v) return -1;
    if (!cJSON_IsNumber(v)) {
        snprintf(err, errlen, "hparams: %s is not a number", key);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

/* Booleans: true/false, or the integers 0/1 that the reference also uses as switches. */
int cn_hp_bool(const cJSON *hp, const char *key, int *out, char *err, size_t errlen)
{
    const cJSON *v = s_get(hp, key, err, errlen);
    if (!v) return -1;
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return 0;
    }
    if (cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1)) {
        *out = v->valuedouble == 1;
        return 0;
    }
    snprintf(err, errlen, "hparams: %s is not a boolean", key);
    return -1;
}

int cn_hp_int_list(const cJSON *hp, const char *key, int *out, int max, char *err, size_t errlen)
{
    const cJSON *v = s_get(hp, key, err, errlen);
    if (!v) return -1;
    if (!cJSON_IsArray(v)) {
        snprintf(err, errlen, "hparams: %s is not a list", key);
        return -1;
    }
    int n = cJSON_GetArraySize(v);
    if (n > max) {
        snprintf(err, errlen, "hparams: %s has %d entries; at most %d are supported", key, n,
                 max);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s[%d]", key, i);
        if (s_as_int(cJSON_GetArrayItem(v, i), sub, &out[i], err, errlen) != 0) return -1;
    }
    return n;
}

int cn_hp_is_null(const cJSON *hp, const char *key)
{
    const cJSON *v = hp ? cJSON_GetObjectItemCaseSensitive(hp, key) : NULL;
    return !v || cJSON_IsNull(v);
}
