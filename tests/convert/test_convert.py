#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# continuo-convert as a user meets it: broken checkpoints refused with a message naming the
# problem, zip checkpoints equal to legacy ones, the fp16 rule, presets, id tables. Never uses torch.
"""Converter tests (stdlib unittest). Run by ctest (tests/convert.cmake) or directly:
CN_SOURCE_DIR=. CN_BINARY_DIR=build python3 tests/convert/test_convert.py"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt_writer as cw  # noqa: E402

SRC = os.environ.get("CN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("CN_BINARY_DIR", os.path.join(SRC, "build"))
CONVERT = os.path.join(BIN, "continuo-convert")
if not os.path.exists(CONVERT):
    CONVERT = os.path.join(SRC, "tools", "continuo-convert")
GOLDEN = os.path.join(SRC, "tests", "golden")
W = "prior.transformer._attn_mods.0.attn.c_attn.w"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def run(*args):
    p = subprocess.run([sys.executable, CONVERT] + [str(a) for a in args],
                       capture_output=True, text=True)
    return p.returncode, p.stderr


def tiny_model(prefix="", hps=None, extra=None):
    """A checkpoint dict of a tiny 'prior': an embedding, one Conv1D weight and bias."""
    sd = cw.collections.OrderedDict()
    sd[prefix + "prior.x_emb.weight"] = cw.tensor("0", "Float", [0.5, -1.0, 2.0, 3.0], (2, 2))
    sd[prefix + W] = cw.tensor("1", "Float", [1.0, 1.0 + 2 ** -11, 1.0 + 3 * 2 ** -11, 70000.0,
                                               -1e-8, 65519.0], (2, 3))
    sd[prefix + "prior.transformer._attn_mods.0.attn.c_attn.b"] = cw.tensor(
        "2", "Float", [0.25, 0.5, 0.75], (3,))
    for k, v in (extra or {}).items():
        sd[k] = v
    return {"hps": hps if hps is not None else {"fp16_params": False, "y_bins": [3, 9]},
            "model": sd, "step": 0}


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cn_convert_")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def assert_refused(self, args, *needles):
        rc, err = run(*args)
        print("    refused: %s" % err.strip().splitlines()[-1] if err.strip() else "(no message)")
        self.assertEqual(rc, 1, err)
        for n in needles:
            self.assertIn(n, err)
        out = args[args.index("--out") + 1] if "--out" in args else None
        if out:
            self.assertFalse(os.path.exists(out), "output left behind")
            self.assertFalse(os.path.exists(out + ".part"), "partial output left behind")
        return err

    def convert_ok(self, *args):
        rc, err = run(*args)
        self.assertEqual(rc, 0, err)
        return err


class BrokenCheckpoints(Base):
    def golden_bytes(self, case="prior_5b"):
        with open(os.path.join(GOLDEN, case, "checkpoint.pth.tar"), "rb") as f:
            return f.read()

    def test_truncated_inside_storage(self):
        data = self.golden_bytes()
        cut = self.path("cut.pth.tar")
        with open(cut, "wb") as f:
            f.write(data[:len(data) - 1000])
        err = self.assert_refused([cut, "--out", self.path("o.safetensors")],
                                  "checkpoint ends at byte %d inside storage" % (len(data) - 1000),
                                  "which needs")
        self.assertRegex(err, r"storage '\d+' which needs \d+ bytes")

    def test_truncated_inside_object(self):
        data = self.golden_bytes()
        cut = self.path("cut.pth.tar")
        with open(cut, "wb") as f:
            f.write(data[:3000])
        self.assert_refused([cut, "--out", self.path("o.safetensors")], "not a valid pickle")

    def test_corrupt_magic(self):
        data = bytearray(self.golden_bytes())
        i = data.index(b"\x8a")              # LONG1 of the magic number
        data[i + 3] ^= 0xFF
        bad = self.path("bad.pth.tar")
        with open(bad, "wb") as f:
            f.write(data)
        self.assert_refused([bad, "--out", self.path("o.safetensors")], "bad magic number")
        with open(bad, "wb") as f:
            f.write(b"GIF89a not a checkpoint")
        self.assert_refused([bad, "--out", self.path("o.safetensors")], "bad magic")

    def test_not_a_dict_with_model(self):
        p = self.path("x.pth.tar")
        cw.write_legacy(p, {"hps": {}, "state_dict": {}})
        self.assert_refused([p, "--out", self.path("o.safetensors")],
                            "not a dict with 'model'", "'state_dict'")
        cw.write_legacy(p, [1, 2, 3])
        self.assert_refused([p, "--out", self.path("o.safetensors")], "not a dict with 'model'")

    def test_unknown_dtype(self):
        p = self.path("x.pth.tar")
        extra = {"prior.pos_emb.pos_emb": cw.tensor("9", "Double", [1.0, 2.0], (1, 2))}
        cw.write_legacy(p, tiny_model(extra=extra))
        self.assert_refused([p, "--out", self.path("o.safetensors")], "prior.pos_emb.pos_emb",
                            "DoubleStorage", "float32 and float16")

    def test_truncated_zip(self):
        p = self.path("x.pth.tar")
        cw.write_zip(p, tiny_model())
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:
            f.write(data[:len(data) // 2])
        self.assert_refused([p, "--out", self.path("o.safetensors")], "damaged or truncated")


def golden_as_tensors(case):
    """The golden case's state dict rebuilt from weights/*.npy as fake torch tensors, stored
    with the manifest's dtypes and ties; also its hps."""
    man = load(os.path.join(GOLDEN, case, "manifest.json"))
    sd, by_key = cw.collections.OrderedDict(), {}
    for i, e in enumerate(man["checkpoint"]["state_dict"]):
        if e["same_tensor_as"]:
            sd[e["key"]] = by_key[e["same_tensor_as"]]
            continue
        shape, descr, raw = cw.read_npy(os.path.join(GOLDEN, case, "weights", e["key"] + ".npy"))
        n = len(raw) // 4
        vals = struct.unpack("<%df" % n, raw)
        dtype = "Half" if e["stored_dtype"] == "float16" else "Float"
        sd[e["key"]] = by_key[e["key"]] = cw.tensor(str(i), dtype, vals, shape)
    return {"hps": man["facts"]["hparams"], "model": sd, "step": 0}


class ZipFormat(Base):
    def compare(self, case):
        legacy = self.path("legacy.safetensors")
        z = self.path("zip.safetensors")
        zck = self.path("zip.pth.tar")
        cw.write_zip(zck, golden_as_tensors(case), prefix="checkpoint")
        vq = os.path.join(GOLDEN, "vqvae", "checkpoint.pth.tar")
        self.convert_ok(os.path.join(GOLDEN, case, "checkpoint.pth.tar"), "--out", legacy,
                        "--vqvae-hps", vq)
        self.convert_ok(zck, "--out", z, "--vqvae-hps", vq)
        a, b = cw.read_safetensors(legacy), cw.read_safetensors(z)
        self.assertEqual(a[0], b[0], "tensor directory differs")
        self.assertEqual(a[2], b[2], "tensor data differs")
        for k in ("continuo.kind", "continuo.vqvae", "continuo.tied"):
            self.assertEqual(a[1].get(k), b[1].get(k), k)
        print("    %s: zip == legacy, %d tensors, %d data bytes" % (case, len(a[0]), len(a[2])))

    def test_zip_prior_5b_fp16(self):
        self.compare("prior_5b")

    def test_zip_prior_1b_lyrics_tied(self):
        self.compare("prior_1b_lyrics")

    def test_shared_storage_views(self):
        """Two tensors at offsets of one storage, and a transposed (strided) view."""
        st = cw.Storage("0", "Float", struct.pack("<8f", *range(8)))
        sd = cw.collections.OrderedDict()
        sd["prior.a"] = cw.Tensor(st, (2, 2), offset=0)
        sd["prior.b"] = cw.Tensor(st, (4,), offset=4)
        sd["prior.t"] = cw.Tensor(st, (2, 2), offset=0, stride=(1, 2))
        for writer in (cw.write_legacy, cw.write_zip):
            p, o = self.path("v.pth.tar"), self.path("v.safetensors")
            writer(p, {"hps": {}, "model": sd})
            self.convert_ok(p, "--out", o)
            f = cw.read_safetensors(o)
            got = {k: struct.unpack("<4f", cw.tensor_bytes(f, k)[2]) for k in sd}
            self.assertEqual(got["prior.a"], (0, 1, 2, 3))
            self.assertEqual(got["prior.b"], (4, 5, 6, 7))
            self.assertEqual(got["prior.t"], (0, 2, 1, 3))


class Fp16AndLayout(Base):
    def test_fp16_rule(self):
        p, o = self.path("t.pth.tar"), self.path("t.safetensors")
        cw.write_legacy(p, tiny_model(hps={"fp16_params": True}))
        self.convert_ok(p, "--out", o)
        f = cw.read_safetensors(o)
        dt, shape, raw = cw.tensor_bytes(f, W)
        self.assertEqual((dt, shape), ("F16", [2, 3]))
        vals = struct.unpack("<6e", raw)
        # round to nearest even: 1+2^-11 ties to 1.0, 1+3*2^-11 ties up to 1+2^-9;
        # 70000 overflows to inf; 65519 rounds down to 65504.
        self.assertEqual(vals[:3], (1.0, 1.0, 1.0 + 2 ** -9))
        self.assertEqual(vals[3], float("inf"))
        self.assertEqual(vals[5], 65504.0)
        self.assertEqual(cw.tensor_bytes(f, "prior.x_emb.weight")[0], "F32")
        self.assertEqual(cw.tensor_bytes(f, W[:-1] + "b")[0], "F32")
        # F32 first, then F16; data starts at a multiple of 8
        order = sorted(f[0].items(), key=lambda kv: kv[1]["data_offsets"][0])
        self.assertEqual([v["dtype"] for _, v in order], ["F32", "F32", "F16"])
        self.assertEqual((8 + f[3]) % 8, 0)
        cw.write_legacy(p, tiny_model(hps={"fp16_params": False}))
        self.convert_ok(p, "--out", o)
        self.assertEqual(cw.tensor_bytes(cw.read_safetensors(o), W)[0], "F32")

    def test_module_prefix_stripped(self):
        p, o = self.path("t.pth.tar"), self.path("t.safetensors")
        cw.write_legacy(p, tiny_model(prefix="module."))
        self.convert_ok(p, "--out", o)
        names = sorted(cw.read_safetensors(o)[0])
        self.assertEqual(names, sorted([W, W[:-1] + "b", "prior.x_emb.weight"]))

    def test_cuda_storages(self):
        """Checkpoints saved from a GPU name torch.cuda.FloatStorage / HalfStorage."""
        sd = cw.collections.OrderedDict()
        sd["prior.a"] = cw.Tensor(cw.Storage("0", "Float", struct.pack("<2f", 1, 2), cuda=True),
                                  (2,))
        sd[W] = cw.Tensor(cw.Storage("1", "Half", struct.pack("<2e", 3, 4), cuda=True), (1, 2))
        p, o = self.path("t.pth.tar"), self.path("t.safetensors")
        cw.write_legacy(p, {"hps": {}, "model": sd})
        self.convert_ok(p, "--out", o)
        f = cw.read_safetensors(o)
        self.assertEqual(struct.unpack("<2f", cw.tensor_bytes(f, "prior.a")[2]), (1, 2))
        self.assertEqual(cw.tensor_bytes(f, W)[0], "F16")
        self.assertEqual(struct.unpack("<2e", cw.tensor_bytes(f, W)[2]), (3, 4))

    def test_unknown_globals_in_hps_skipped(self):
        hps = cw.Hyperparams(fp16_params=False, levels=3, name="x")
        p, o = self.path("t.pth.tar"), self.path("t.safetensors")
        cw.write_legacy(p, tiny_model(hps=hps))
        self.convert_ok(p, "--out", o)
        meta = cw.read_safetensors(o)[1]
        self.assertEqual(json.loads(meta["continuo.hparams"])["levels"], 3)
        self.assertEqual(meta["continuo.kind"], "prior")

    def make_presets(self, layout_shape=(2, 2)):
        pdir, dl = self.path("presets"), self.path("dl")
        os.makedirs(pdir)
        os.makedirs(os.path.join(dl, "tiny"))
        layout = [["prior.x_emb.weight", list(layout_shape), "float32"], [W, [2, 3], "float16"],
                  [W[:-1] + "b", [3], "float32"]]
        preset = {"model": "tiny", "kind": "prior", "released_file": "tiny/prior_level_2.pth.tar",
                  "hparams": {"fp16_params": True, "y_bins": [3, 9]}, "vqvae": {"l_bins": 7},
                  "layout": layout}
        save(os.path.join(pdir, "tiny.json"), preset)
        save(os.path.join(pdir, "model_sets.json"), {"tinyset": ["tiny"]})
        return pdir, dl

    def test_preset_layout_check(self):
        pdir, dl = self.make_presets()
        ck = os.path.join(dl, "tiny", "prior_level_2.pth.tar")
        out = self.path("out")
        self.assert_refused(["--preset", "tinyset", dl, "--presets-dir", pdir, "--out-dir", out],
                            "tiny/prior_level_2.pth.tar", "missing in", "download from")
        cw.write_legacy(ck, tiny_model(hps={}))
        self.convert_ok("--preset", "tinyset", dl, "--presets-dir", pdir, "--out-dir", out)
        f = cw.read_safetensors(os.path.join(out, "tiny.safetensors"))
        self.assertEqual(f[1]["continuo.model"], "tiny")
        self.assertEqual(json.loads(f[1]["continuo.vqvae"]), {"l_bins": 7})
        self.assertEqual(cw.tensor_bytes(f, W)[0], "F16")   # the preset's fp16_params
        err = run("--preset", "tiny", dl, "--presets-dir", pdir, "--out-dir", out)[1]
        self.assertIn("exists, skipped", err)
        # a wrong shape, a missing key, an extra key: each named
        pdir2, _ = self.path("p2"), None
        shutil.copytree(pdir, pdir2)
        lay = load(os.path.join(pdir2, "tiny.json"))
        lay["layout"][0][1] = [2, 5]
        save(os.path.join(pdir2, "tiny.json"), lay)
        self.assert_refused(["--preset", "tiny", dl, "--presets-dir", pdir2, "--out-dir",
                             self.path("o2")], "prior.x_emb.weight: shape [2, 2] in the "
                            "checkpoint, the released tiny has [2, 5]")
        lay["layout"][0][1] = [2, 2]
        lay["layout"].append(["prior.pos_emb.pos_emb", [4, 2], "float32"])
        save(os.path.join(pdir2, "tiny.json"), lay)
        self.assert_refused(["--preset", "tiny", dl, "--presets-dir", pdir2, "--out-dir",
                             self.path("o2")], "checkpoint has no prior.pos_emb.pos_emb")
        lay["layout"] = lay["layout"][1:-1]
        save(os.path.join(pdir2, "tiny.json"), lay)
        self.assert_refused(["--preset", "tiny", dl, "--presets-dir", pdir2, "--out-dir",
                             self.path("o2")], "checkpoint has prior.x_emb.weight, which the "
                            "released tiny does not")

    def test_released_vqvae_layout(self):
        """A checkpoint shaped like the released 5b/vqvae.pth.tar (GPU storages, `module.`
        keys, zeros) converts with the real preset, hparams and all."""
        pre = load(os.path.join(SRC, "presets", "vqvae.json"))
        sd = cw.collections.OrderedDict()
        for i, (key, shape, _) in enumerate(pre["layout"]):
            n = 1
            for d in shape:
                n *= d
            sd["module." + key] = cw.Tensor(cw.Storage(str(i), "Float", bytes(4 * n), cuda=True),
                                            shape)
        dl = self.path("dl")
        os.makedirs(os.path.join(dl, "5b"))
        cw.write_legacy(os.path.join(dl, "5b", "vqvae.pth.tar"), {"model": sd, "step": 1})
        self.convert_ok("--preset", "vqvae", dl, "--out-dir", self.path("o"))
        f = cw.read_safetensors(os.path.join(self.path("o"), "vqvae.safetensors"))
        self.assertEqual(len(f[0]), len(pre["layout"]))
        self.assertEqual(len(f[2]), 7515916)
        hp = json.loads(f[1]["continuo.hparams"])
        self.assertEqual((hp["levels"], hp["l_bins"], hp["emb_width"]), (3, 2048, 64))
        self.assertEqual(f[1]["continuo.model"], "vqvae")

    def test_released_presets_name_the_downloads(self):
        err = self.assert_refused(["--preset", "5b_lyrics", self.path("empty"), "--out-dir",
                                   self.path("o")],
                                  "5b/vqvae.pth.tar", "5b/prior_level_0.pth.tar",
                                  "5b/prior_level_1.pth.tar", "5b_lyrics/prior_level_2.pth.tar",
                                  "https://openaipublic.azureedge.net/jukebox/models/")
        self.assertNotIn("1b_lyrics", err)
        self.assert_refused(["--preset", "7b", self.path("empty")], "no preset '7b'")

    def test_presets_match_released_layouts(self):
        for name in ("vqvae", "upsampler_level_0", "upsampler_level_1", "prior_5b",
                     "prior_5b_lyrics", "prior_1b_lyrics"):
            pre = load(os.path.join(SRC, "presets", name + ".json"))
            rel = load(os.path.join(GOLDEN, "released_layouts", name + ".json"))
            self.assertEqual(pre["hparams"], rel["hparams"], name)
            self.assertEqual(pre["released_file"], rel["released_file"], name)
            self.assertEqual([e[0] for e in pre["layout"]], [e["key"] for e in rel["state_dict"]])


class IdTables(Base):
    def ck(self, hps):
        p = self.path("t.pth.tar")
        cw.write_legacy(p, tiny_model(hps=hps))
        return p

    def write_ids(self, d, version, artists="unknown;0\nsomeone;8\n", genres="unknown;0\nx;2\n"):
        os.makedirs(d, exist_ok=True)
        write_text(os.path.join(d, version + "_artist_ids.txt"), artists)
        write_text(os.path.join(d, version + "_genre_ids.txt"), genres)

    def test_missing_ids(self):
        p, o = self.ck({"y_bins": [3, 9]}), self.path("o.safetensors")
        self.assert_refused([p, "--out", o, "--ids", self.path("nowhere")], "not a folder",
                            "v2_artist_ids.txt")
        os.makedirs(self.path("empty"))
        self.assert_refused([p, "--out", o, "--ids", self.path("empty")],
                            "no v2_artist_ids.txt there", "jukebox/data/ids")
        self.write_ids(self.path("v2only"), "v2")
        p3 = self.ck({"y_bins": [3, 9], "labels_v3": True})
        self.assert_refused([p3, "--out", o, "--ids", self.path("v2only")],
                            "no v3_artist_ids.txt there")

    def test_ids_embedded_and_checked(self):
        p, o = self.ck({"y_bins": [3, 9], "labels_v3": True}), self.path("o.safetensors")
        self.write_ids(self.path("ids"), "v3")
        self.convert_ok(p, "--out", o, "--ids", self.path("ids"))
        meta = cw.read_safetensors(o)[1]
        self.assertEqual(meta["continuo.artist_ids"], "unknown;0\nsomeone;8\n")
        self.assertEqual(meta["continuo.genre_ids"], "unknown;0\nx;2\n")
        self.write_ids(self.path("ids"), "v3", artists="unknown;0\ntoo big;9\n")
        self.assert_refused([p, "--out", self.path("o2.safetensors"), "--ids", self.path("ids")],
                            "artist id 9 is outside the model's 9 artists")


def main():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
