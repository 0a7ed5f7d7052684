"""atheris fuzz harness for the metadata substreams (ICC, EXIF, XMP; format/metadata.py) on their way
out: the stream rules' parse of a stream whose metadata payloads are the fuzz bytes (CRCs valid, so
they reach the metadata code; StreamLayout(...).metadata(), what decode(with_metadata=True) returns
beside the pixels, which the harness leaves out for speed), then writing that metadata, with a 4x4
crop of the pixels, into every image file type the CLI writes.

The input: first byte picks which payload the bytes replace (ICC, EXIF or XMP) and the output file
type; the rest is the payload. decode may raise DecodeError; EXIF parsing (orientation) must never
raise; a file writer may refuse metadata with ValueError. Anything else, a crash, a hang or a memory
blow-up is a finding. Seeds: the golden stream with metadata and real-looking EXIF/ICC/XMP payloads.
"""
import os
import warnings
from pathlib import Path

import atheris

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
os.environ.setdefault("JPEGAI_FAST_WEIGHTS_PATH", str(GOLDEN))

import jpegai_fast
from jpegai_fast import DecodeError
from jpegai_fast.format import container

# coverage guidance where the metadata goes (the rest runs uninstrumented, for speed)
with atheris.instrument_imports(include=["jpegai_fast.format.metadata", "jpegai_fast.format.stream",
                                         "jpegai_fast.files"]):
    from jpegai_fast.files.images import encode_image
    from jpegai_fast.format.metadata import exif_orientation
    from jpegai_fast.format.stream import ModelShape, StreamLayout

warnings.simplefilter("ignore")
_BASE = (GOLDEN / "streams" / "rgb8_100x90_metadata.jai").read_bytes()
_HEADER = container.read(_BASE)
_PAYLOADS = [_BASE[s.offset:s.offset + s.length] for s in _HEADER.substreams]
_KINDS = (container.Kind.ICC, container.Kind.EXIF, container.Kind.XMP)
_SUFFIXES = (".png", ".tif", ".jpg", ".webp")
_PIXELS = jpegai_fast.decode(_BASE)[:4, :4].copy()     # decoded once: the harness varies metadata, not pixels
_TINY = ModelShape(M=32, rate_q_max=3 * 256)           # the golden streams' test model


def _with_payload(kind: int, payload: bytes) -> bytes:
    payloads = [payload if s.kind == kind else p for s, p in zip(_HEADER.substreams, _PAYLOADS)]
    return container.write(_HEADER, payloads)


def make_seeds(directory):
    os.makedirs(directory, exist_ok=True)
    for s, p in zip(_HEADER.substreams, _PAYLOADS):
        if s.kind in _KINDS:
            for j in range(len(_SUFFIXES)):
                Path(directory, f"kind{s.kind}_{j}").write_bytes(bytes([_KINDS.index(s.kind) + 3 * j]) + p)


def TestOneInput(data: bytes):
    if not data:
        return
    kind, suffix = _KINDS[data[0] % 3], _SUFFIXES[(data[0] // 3) % len(_SUFFIXES)]
    payload = data[1:]
    if kind == container.Kind.EXIF:
        if not 1 <= exif_orientation(payload) <= 8:
            raise AssertionError("exif_orientation out of 1..8")
    try:
        stream = _with_payload(kind, payload)
    except ValueError:
        return                   # refused by the writer (e.g. above the metadata limit): nothing to decode
    try:
        meta = StreamLayout(stream, _TINY).metadata()
    except DecodeError:
        return
    try:
        encode_image(_PIXELS, suffix, None, meta)
    except ValueError:
        pass


if __name__ == "__main__":
    from harness import main        # tests/fuzz/ is the script's folder, first on sys.path
    main(TestOneInput, make_seeds)
