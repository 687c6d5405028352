#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Regenerates presets/<model>.json and presets/model_sets.json from the golden set's
# released_layouts (the reference's released hparams and state-dict layouts). Never edits them by hand.
"""Usage: tools/make_presets.py [LAYOUTS_DIR] [PRESETS_DIR]
(defaults: tests/golden/released_layouts, presets)"""

import json
import os
import sys

URL = "https://openaipublic.azureedge.net/jukebox/models/"
GEOMETRY = ("levels", "downs_t", "strides_t", "l_bins", "emb_width", "sr")


def dump(preset):
    """JSON with the hparams indented and one layout entry per line (diffs stay readable)."""
    head = {k: v for k, v in preset.items() if k != "layout"}
    text = json.dumps(head, indent=1)[:-2]
    rows = ",\n  ".join(json.dumps(e) for e in preset["layout"])
    return text + ',\n "layout": [\n  ' + rows + "\n ]\n}\n"


def main(argv):
    src = argv[0] if argv else "tests/golden/released_layouts"
    dst = argv[1] if len(argv) > 1 else "presets"
    index = json.load(open(os.path.join(src, "index.json")))
    vq = json.load(open(os.path.join(src, "vqvae.json")))["hparams"]
    geometry = {k: vq[k] for k in GEOMETRY}
    for name in index["models"]:
        lay = json.load(open(os.path.join(src, name + ".json")))
        hp = lay["hparams"]
        kind = "vqvae" if name == "vqvae" else "prior"
        preset = {
            "model": name,
            "kind": kind,
            "released_file": lay["released_file"],
            "url": URL + lay["released_file"],
            "labels": None if kind == "vqvae" else ("v3" if hp.get("labels_v3") else "v2"),
            "n_parameters": lay["n_parameters_unique"],
            "hparams": hp,
        }
        if kind == "prior":
            preset["vqvae"] = geometry
        preset["layout"] = [[e["key"], e["shape"], e["dtype_in_model"]]
                            for e in lay["state_dict"]]
        with open(os.path.join(dst, name + ".json"), "w") as f:
            f.write(dump(preset))
    with open(os.path.join(dst, "model_sets.json"), "w") as f:
        json.dump(index["model_sets"], f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
