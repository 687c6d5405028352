# SPDX-License-Identifier: MIT
# Test helper: writes small torch checkpoints (legacy torch.save stream and zip archive) from
# raw bytes with the standard library only, plus .npy and .safetensors readers. Never imports torch.
"""Tiny torch.save writer for converter tests.

A fake `torch` module is put into sys.modules so pickle can name torch globals
(torch._utils._rebuild_tensor_v2, torch.FloatStorage, ...) exactly as torch writes them.
"""

import ast
import collections
import json
import pickle
import struct
import sys
import types
import zipfile

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
ELSIZE = {"Float": 4, "Half": 2, "Double": 8, "Long": 8}


def _fake_module(name):
    mod = sys.modules.get(name)
    if mod is None:
        mod = sys.modules[name] = types.ModuleType(name)
        if "." in name:
            parent, _, child = name.rpartition(".")
            setattr(_fake_module(parent), child, mod)
    return mod


def _global(module, name, obj):
    obj.__module__, obj.__qualname__, obj.__name__ = module, name, name
    setattr(_fake_module(module), name, obj)
    return obj


def _rebuild_tensor_v2(*args):
    raise RuntimeError("only for pickling")


_global("torch._utils", "_rebuild_tensor_v2", _rebuild_tensor_v2)
for _n in ELSIZE:
    _global("torch", _n + "Storage", type(_n + "Storage", (), {}))
    _global("torch.cuda", _n + "Storage", type(_n + "Storage", (), {}))
Hyperparams = _global("jukebox.hparams", "Hyperparams", type("Hyperparams", (dict,), {}))


class Storage:
    def __init__(self, key, dtype, data, cuda=False):
        self.key, self.dtype, self.data, self.cuda = str(key), dtype, bytes(data), cuda
        self.numel = len(self.data) // ELSIZE[dtype]


class Tensor:
    """A view of a storage as torch pickles it."""

    def __init__(self, storage, size, offset=0, stride=None):
        self.storage, self.size, self.offset = storage, tuple(size), offset
        if stride is None:
            stride, acc = [], 1
            for n in reversed(self.size):
                stride.insert(0, acc)
                acc *= n
        self.stride = tuple(stride)

    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, False,
                                     collections.OrderedDict()))


def tensor(key, dtype, values, size):
    """A tensor with its own storage holding VALUES (floats)."""
    fmt = {"Float": "f", "Half": "e", "Double": "d"}[dtype]
    return Tensor(Storage(key, dtype, struct.pack("<%d%s" % (len(values), fmt), *values)), size)


class _Pickler(pickle.Pickler):
    def __init__(self, f, legacy):
        super().__init__(f, protocol=2)
        self.legacy, self.seen = legacy, collections.OrderedDict()

    def persistent_id(self, obj):
        if not isinstance(obj, Storage):
            return None
        self.seen.setdefault(obj.key, obj)
        module = "torch.cuda" if obj.cuda and self.legacy else "torch"
        stype = getattr(sys.modules[module], obj.dtype + "Storage")
        pid = ("storage", stype, obj.key, "cuda:0" if obj.cuda else "cpu", obj.numel)
        return pid + (None,) if self.legacy else pid


def write_legacy(path, obj):
    with open(path, "wb") as f:
        for head in (LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True,
                                          "type_sizes": {"short": 2, "int": 4, "long": 4}}):
            pickle.dump(head, f, protocol=2)
        p = _Pickler(f, legacy=True)
        p.dump(obj)
        pickle.dump(list(p.seen), f, protocol=2)
        for st in p.seen.values():
            f.write(struct.pack("<q", st.numel))
            f.write(st.data)


def write_zip(path, obj, prefix="archive"):
    import io
    buf = io.BytesIO()
    p = _Pickler(buf, legacy=False)
    p.dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(prefix + "/data.pkl", buf.getvalue())
        z.writestr(prefix + "/byteorder", "little")
        for st in p.seen.values():
            z.writestr(prefix + "/data/" + st.key, st.data)
        z.writestr(prefix + "/version", "3\n")


def read_npy(path):
    with open(path, "rb") as f:
        b = f.read()
    hlen = struct.unpack("<H", b[8:10])[0]
    head = ast.literal_eval(b[10:10 + hlen].decode("latin-1"))
    return head["shape"], head["descr"], b[10 + hlen:]


def read_safetensors(path):
    """(entries, metadata, data bytes, header length)."""
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    meta = header.pop("__metadata__")
    return header, meta, b[8 + n:], n


def tensor_bytes(path_or_parts, name):
    header, meta, data, _ = path_or_parts
    name = json.loads(meta.get("continuo.tied", "{}")).get(name, name)
    e = header[name]
    return e["dtype"], e["shape"], data[e["data_offsets"][0]:e["data_offsets"][1]]
