/* SPDX-License-Identifier: MIT
 * Prompt files as a user brings them: a stereo 48 kHz WAV is mixed down and resampled to the
 * model rate; a file with a NaN, an empty file and a prompt longer than the model takes are
 * refused with messages naming the value and the limit; clips are written and read back.
 */
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_io.h"
#include "check.h"

static char s_dir[64];

/* Writes FRAMES stereo float frames at RATE: left = sine, right = the same sine, so the mono
 * mixdown is that sine; sample BAD (if >= 0) of the right channel is NaN. */
static void s_write_stereo(const char *path, int rate, int64_t frames, int64_t bad)
{
    SF_INFO info = { .samplerate = rate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    for (int64_t i = 0; i < frames; i++) {
        float x = 0.5f * sinf(2.0f * 3.14159265f * 441.0f * (float)i / (float)rate);
        float lr[2] = { x, i == bad ? NAN : x };
        sf_writef_float(f, lr, 1);
    }
    sf_close(f);
}

static int s_ok(cn_check *c, const char *what, int ok, const char *err)
{
    return cn_check_true(c, what, ok, err);
}

static void s_resample_and_mix(cn_check *c)
{
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/stereo48k.wav", s_dir);
    s_write_stereo(path, 48000, 48000, -1);
    float *a = NULL;
    int64_t n = 0;
    int rc = cn_audio_load_mono(path, 44100, 0, &a, &n, err, sizeof err);
    s_ok(c, "a 1 s stereo 48 kHz WAV loads as mono 44.1 kHz", rc == 0 && llabs(n - 44100) <= 2,
         rc ? err : NULL);
    if (rc != 0) return;
    double worst = 0;   /* the 441 Hz sine must survive: compare away from the edges */
    for (int64_t i = 1000; i < n - 1000; i++) {
        double want = 0.5 * sin(2 * M_PI * 441.0 * (double)i / 44100.0);
        if (fabs(a[i] - want) > worst) worst = fabs(a[i] - want);
    }
    char detail[128];
    snprintf(detail, sizeof detail, "max deviation from the 441 Hz sine %.2g (limit 1e-3)", worst);
    s_ok(c, "the resampled mono signal is the original tone", worst < 1e-3, detail);
    free(a);
}

static void s_refusals(cn_check *c)
{
    char path[128], err[512];
    float *a = NULL;
    int64_t n = 0;
    snprintf(path, sizeof path, "%s/nan.wav", s_dir);
    s_write_stereo(path, 44100, 1000, 700);
    int rc = cn_audio_load_mono(path, 44100, 0, &a, &n, err, sizeof err);
    s_ok(c, "a NaN sample is refused, naming the sample and channel",
         rc != 0 && strstr(err, "sample 700") && strstr(err, "channel 2") && strstr(err, "NaN"), err);
    snprintf(path, sizeof path, "%s/empty.wav", s_dir);
    s_write_stereo(path, 44100, 0, -1);
    rc = cn_audio_load_mono(path, 44100, 0, &a, &n, err, sizeof err);
    s_ok(c, "an empty file is refused", rc != 0 && strstr(err, "empty"), err);
    snprintf(path, sizeof path, "%s/long.wav", s_dir);
    s_write_stereo(path, 44100, 44100 * 3, -1);
    rc = cn_audio_load_mono(path, 44100, 2.0, &a, &n, err, sizeof err);
    s_ok(c, "a 3 s prompt is refused by a model taking 2 s",
         rc != 0 && strstr(err, "prompt is 3.0 s; the model takes at most 2.0 s"), err);
    snprintf(path, sizeof path, "%s/missing.wav", s_dir);
    rc = cn_audio_load_mono(path, 44100, 0, &a, &n, err, sizeof err);
    s_ok(c, "a missing file is refused, naming it", rc != 0 && strstr(err, "missing.wav"), err);
}

static void s_write_read_back(cn_check *c)
{
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/clip.wav", s_dir);
    float tone[4410];
    for (int i = 0; i < 4410; i++) tone[i] = 1.5f * sinf((float)i * 0.05f);   /* clips at 1 */
    int rc = cn_audio_write(path, tone, 4410, 44100, 48000, err, sizeof err);
    float *a = NULL;
    int64_t n = 0;
    int rate = 0;
    if (rc == 0) rc = cn_audio_read(path, &a, &n, &rate, err, sizeof err);
    float peak = 0;
    for (int64_t i = 0; rc == 0 && i < n; i++) peak = fabsf(a[i]) > peak ? fabsf(a[i]) : peak;
    s_ok(c, "a clip written at 48 kHz reads back at 48 kHz, 0.1 s long, clipped to [-1, 1]",
         rc == 0 && rate == 48000 && llabs(n - 4800) <= 2 && peak <= 1.0f, rc ? err : NULL);
    free(a);
}

int main(void)
{
    cn_check c = { 0 };
    snprintf(s_dir, sizeof s_dir, "/tmp/continuo-audio-XXXXXX");
    if (!mkdtemp(s_dir)) return 1;
    s_resample_and_mix(&c);
    s_refusals(&c);
    s_write_read_back(&c);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system(cmd) != 0) printf("note: could not remove %s\n", s_dir);
    return cn_check_finish(&c);
}
