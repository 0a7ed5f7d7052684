"""Peer entropy coders for the benchmark, each in its fastest correct arrangement we know of,
all on the same quantised tables (jpegai_fast's Gaussian tables) and the same symbols.
A peer that is not installed is None."""
from __future__ import annotations

import glob
import importlib.util
import site

import numpy as np

from jpegai_fast.core import rans

try:
    import constriction
except ImportError:  # pragma: no cover - optional peer
    constriction = None


def load_compressai_ans():
    """compressai.ans without compressai/__init__ (which imports torchvision & co.)."""
    for root in site.getsitepackages() + [site.getusersitepackages()]:
        for path in glob.glob(f"{root}/compressai/ans*.so"):
            spec = importlib.util.spec_from_file_location("compressai.ans", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None


class CompressAIRans:
    """CompressAI 1.2.8 RansEncoder/RansDecoder ``*_with_indexes`` (precision 16, bypass escapes).
    Timed call alone: the list conversions it needs are done once, outside the timing."""

    name = "compressai-1.2.8"

    def __init__(self, ans):
        cdfs, lengths, offsets = rans.gaussian_tables()
        self.cdfs = [row[:n].tolist() for row, n in zip(cdfs, lengths)]
        self.lengths = lengths.tolist()
        self.offsets = offsets.tolist()
        self.enc = ans.RansEncoder()
        self.dec = ans.RansDecoder()

    def prepare(self, symbols, indexes):
        return symbols.reshape(-1).tolist(), indexes.reshape(-1).tolist()

    def encode(self, prepared):
        sym, idx = prepared
        return self.enc.encode_with_indexes(sym, idx, self.cdfs, self.lengths, self.offsets)

    def decode(self, data, prepared):
        _, idx = prepared
        return self.dec.decode_with_indexes(data, idx, self.cdfs, self.lengths, self.offsets)


class ConstrictionGaussian:
    """constriction AnsCoder with a QuantizedGaussian per symbol (mean 0, std = ladder sigma)."""

    name = "constriction-gaussian"

    def __init__(self):
        self.model = constriction.stream.model.QuantizedGaussian(-1024, 1024)

    def prepare(self, symbols, indexes):
        sym = np.clip(symbols.reshape(-1), -1024, 1024).astype(np.int32)
        std = rans.SCALES[indexes.reshape(-1)]
        return sym, np.zeros_like(std), std

    def encode(self, prepared):
        sym, mean, std = prepared
        enc = constriction.stream.stack.AnsCoder()
        enc.encode_reverse(sym, self.model, mean, std)
        return enc.get_compressed()

    def decode(self, data, prepared):
        _, mean, std = prepared
        return constriction.stream.stack.AnsCoder(data).decode(self.model, mean, std)


class ConstrictionGrouped:
    """constriction AnsCoder, symbols grouped by scale index, one Categorical per table
    (the grouping/scatter is part of the timed work: a decoder has to do it too)."""

    name = "constriction-grouped"

    def __init__(self):
        cdfs, lengths, offsets = rans.gaussian_tables()
        self.offsets = offsets
        self.models = []
        for row, n in zip(cdfs, lengths):
            p = np.diff(row[:n])[:-1].astype(np.float64)  # regular symbols only
            self.models.append(constriction.stream.model.Categorical(p / p.sum(), perfect=False))

    def prepare(self, symbols, indexes):
        idx = indexes.reshape(-1)
        R = -self.offsets[idx]
        sym = np.clip(symbols.reshape(-1), -R, R)  # constriction has no escape path
        return sym.astype(np.int32), idx

    def _groups(self, idx):
        order = np.argsort(idx, kind="stable")
        counts = np.bincount(idx, minlength=rans.NUM_SCALES)
        return order, np.concatenate([[0], np.cumsum(counts)])

    def encode(self, prepared):
        sym, idx = prepared
        order, bounds = self._groups(idx)
        grouped = sym[order] - self.offsets[idx[order]]
        enc = constriction.stream.stack.AnsCoder()
        for k in reversed(range(rans.NUM_SCALES)):
            if bounds[k + 1] > bounds[k]:
                enc.encode_reverse(grouped[bounds[k]:bounds[k + 1]].astype(np.int32), self.models[k])
        return enc.get_compressed()

    def decode(self, data, prepared):
        _, idx = prepared
        order, bounds = self._groups(idx)
        dec = constriction.stream.stack.AnsCoder(data)
        out = np.empty(idx.size, np.int32)
        for k in range(rans.NUM_SCALES):
            if bounds[k + 1] > bounds[k]:
                vals = dec.decode(self.models[k], int(bounds[k + 1] - bounds[k]))
                out[order[bounds[k]:bounds[k + 1]]] = vals + self.offsets[k]
        return out


def available_peers():
    peers = []
    ans = load_compressai_ans()
    if ans is not None:
        peers.append(CompressAIRans(ans))
    if constriction is not None:
        peers += [ConstrictionGaussian(), ConstrictionGrouped()]
    return peers
