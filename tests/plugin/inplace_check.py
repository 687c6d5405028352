# SPDX-License-Identifier: MIT
# Checks a recorded track (16-bit WAV from jack_playrec) for the candidate played in place:
# the dominant frequency before and after the region end, as the median over 50 ms segments
# (one dropped period from a loaded machine spoils a segment, not the measure), and the peak.
# usage: inplace_check.py WAV REGION_END_S AFTER_S (tone HZ | any)  -> exit 0 when heard
import statistics
import struct
import sys
import wave


def samples(path):
    w = wave.open(path)
    n, r = w.getnframes(), w.getframerate()
    return struct.unpack('<%dh' % n, w.readframes(n)), r


def freq(seg, r):
    if len(seg) < 2:
        return 0.0
    crossings = sum(1 for i in range(1, len(seg)) if (seg[i - 1] < 0) != (seg[i] < 0))
    return crossings / 2 / (len(seg) / r)


def median_freq(x, r, a, b):
    step = int(0.05 * r)
    segs = [x[i:i + step] for i in range(int(a * r), int(b * r) - step + 1, step)]
    return statistics.median([freq(s, r) for s in segs]) if segs else 0.0


def peak(x, r, a, b):
    return max([abs(v) for v in x[int(a * r):int(b * r)]] + [0]) / 32768


def main():
    path, end, after, want = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
    x, r = samples(path)
    a, b = end + 0.02, end + after
    f_pre = median_freq(x, r, max(0.0, end - 0.5), end - 0.02)
    f_post, p_post = median_freq(x, r, a, b), peak(x, r, a, b)
    print("before the region end: %.1f Hz; after: %.1f Hz, peak %.4f" % (f_pre, f_post, p_post))
    if want[0] == 'any':
        return p_post > 1e-4
    return p_post > 0.2 and abs(f_post - float(want[1])) < 12


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
