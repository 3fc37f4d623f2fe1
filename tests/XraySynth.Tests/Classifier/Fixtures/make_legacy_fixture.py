"""Writes tiny_densenet_legacy.pth: a state_dict in torch.save's pre-1.6 (non-zip) format, as torchvision's
2017 DenseNet checkpoints are, for a tiny DenseNet (growth 4, blocks (1, 2), init 8, 10 classes) with the legacy
key names ('norm.1', 'conv.2') and no BN num_batches_tracked, like densenet169-b2777c0a.pth.

Needs only the Python standard library: torch's _legacy_save is plain pickle (protocol 2) with persistent ids for
storages, so stand-in classes named torch.FloatStorage and torch._utils._rebuild_tensor make CPython's own pickler
write the same bytes. Values are a function of the key and the element index (see value()), so the C# test can
check every element without a reference file.

Run: python3 make_legacy_fixture.py  (writes next to this script)
"""
import collections
import os
import pickle
import struct
import sys
import types

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils
torch._utils = torch_utils


class FloatStorage:
    def __init__(self, data):
        self.data = data


FloatStorage.__module__ = "torch"
torch.FloatStorage = FloatStorage


def _rebuild_tensor(storage, storage_offset, size, stride):
    raise NotImplementedError


_rebuild_tensor.__module__ = "torch._utils"
torch_utils._rebuild_tensor = _rebuild_tensor


class Tensor:
    """Pickles as torch 0.2/0.3 tensors did: _rebuild_tensor(storage, offset, size, stride)."""

    def __init__(self, shape, data):
        self.shape = tuple(shape)
        self.storage = FloatStorage(data)

    def __reduce__(self):
        stride, step = [], 1
        for n in reversed(self.shape):
            stride.insert(0, step)
            step *= n
        return (_rebuild_tensor, (self.storage, 0, self.shape, tuple(stride)))


def value(key, j):
    s = sum(key.encode("ascii"))
    return ((s * 31 + j * 17) % 2001 - 1000) / 1000.0


def tiny_densenet_keys(growth=4, blocks=(1, 2), init=8, bn_size=4, classes=10):
    """(key, shape) in torchvision's order, legacy dense-layer names, no num_batches_tracked."""
    def bn(prefix, n):
        return [(f"{prefix}.{p}", (n,)) for p in ("weight", "bias", "running_mean", "running_var")]

    keys = [("features.conv0.weight", (init, 3, 7, 7))] + bn("features.norm0", init)
    n = init
    for b, layers in enumerate(blocks, 1):
        for i in range(layers):
            c = n + i * growth
            p = f"features.denseblock{b}.denselayer{i + 1}"
            keys += bn(f"{p}.norm.1", c) + [(f"{p}.conv.1.weight", (bn_size * growth, c, 1, 1))]
            keys += bn(f"{p}.norm.2", bn_size * growth) + [(f"{p}.conv.2.weight", (growth, bn_size * growth, 3, 3))]
        n += layers * growth
        if b != len(blocks):
            keys += bn(f"features.transition{b}.norm", n) + [(f"features.transition{b}.conv.weight", (n // 2, n, 1, 1))]
            n //= 2
    keys += bn("features.norm5", n)
    keys += [("classifier.weight", (classes, n)), ("classifier.bias", (classes,))]
    return keys


def main():
    state = collections.OrderedDict()
    for key, shape in tiny_densenet_keys():
        numel = 1
        for d in shape:
            numel *= d
        state[key] = Tensor(shape, [value(key, j) for j in range(numel)])

    serialized = {}

    class LegacyPickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, FloatStorage):
                key = str(id(obj))
                serialized[key] = obj
                return ("storage", FloatStorage, key, "cpu", len(obj.data), None)
            return None

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_densenet_legacy.pth")
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump(dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=8)),
                    f, protocol=2)
        LegacyPickler(f, protocol=2).dump(state)
        keys = sorted(serialized.keys())
        pickle.dump(keys, f, protocol=2)
        for key in keys:
            data = serialized[key].data
            f.write(struct.pack("<q", len(data)))
            f.write(struct.pack(f"<{len(data)}f", *data))
    print(f"{path}: {len(state)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
