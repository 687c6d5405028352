#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the bundled demo prompt: a stereo 48 kHz, 16-bit WAV of plucked-string chords
# (A minor - F - C - G), so the main job exercises the mixdown and the resampling to 44.1 kHz.
# Usage: make-prompt.py OUT.wav [SECONDS]
import math
import struct
import sys
import wave

RATE = 48000
CHORDS = [(220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (130.81, 164.81, 196.0),
          (196.0, 246.94, 293.66)]


def sample(t, seconds):
    beat = seconds / len(CHORDS)
    k = min(int(t / beat), len(CHORDS) - 1)
    tc = t - k * beat
    env = math.exp(-4.0 * tc)
    return 0.25 * env * sum(math.sin(2 * math.pi * f * tc) + 0.3 * math.sin(4 * math.pi * f * tc)
                            for f in CHORDS[k])


def main():
    out = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    frames = bytearray()
    for i in range(int(seconds * RATE)):
        x = sample(i / RATE, seconds)
        left, right = x * 0.9, x * 1.1
        frames += struct.pack('<hh', int(max(-1, min(1, left)) * 32767),
                              int(max(-1, min(1, right)) * 32767))
    with wave.open(out, 'wb') as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))


if __name__ == '__main__':
    main()
