"""atheris fuzz harness for the container parser and the whole-stream decode of small streams.

Seeds are the conformance vectors (tests/golden/streams, made with the small test model found on
JPEGAI_FAST_WEIGHTS_PATH), written per entry point by --make-seeds DIR. The last input byte picks
the entry point:
  0: format.container.read + the stream rules (format.stream.StreamLayout) - no entropy decoding;
  1: info();
  2: decode() of the bytes as they are (CRCs usually fail: the parser and CRC paths);
  3: decode() after re-writing the header with correct CRCs around the mutated payloads, so the
     mutations reach the z/y entropy decoders, the integer hyper-synthesis, the context loop and
     the alpha decoder (the "CRC-recomputed tampering" class).
Anything but DecodeError (ImageTooLargeError included), a crash, a hang (-timeout) or a memory
blow-up (-rss_limit_mb) is a finding. Long run (docs/format.md, "Conformance and fuzzing"):
    python tests/fuzz/fuzz_container.py --make-seeds /tmp/corpus
    python tests/fuzz/fuzz_container.py -runs=1000000 -timeout=1 -rss_limit_mb=2048 -max_len=65536 \
        -len_control=0 /tmp/corpus
"""
import os
import warnings
from pathlib import Path

import atheris

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
os.environ.setdefault("JPEGAI_FAST_WEIGHTS_PATH", str(GOLDEN))

with atheris.instrument_imports(exclude=["numpy"]):   # numpy is not ours and slow to instrument
    import jpegai_fast
    import jpegai_fast.api                 # the lazily imported decode path, instrumented too
    import jpegai_fast.core.alpha_coder
    import jpegai_fast.decoder.synthesis
    from jpegai_fast import DecodeError
    from jpegai_fast.format import container
    from jpegai_fast.format.stream import ModelShape, StreamLayout

_TINY = ModelShape(M=32, rate_q_max=3 * 256)
warnings.simplefilter("ignore")         # truncated later layers warn by design
jpegai_fast.format.limits.set_max_image_pixels(1 << 22)   # small-stream campaign: refuse big images early


MUTATION = 64      # mode 3: the last 64 bytes before the mode byte are the tampering, not the stream


def make_seeds(directory):
    """Every golden stream (the lossless ones of tests/golden/lossless too) once per entry point: stream
    (+ 64 mutation bytes for mode 3) + mode byte."""
    os.makedirs(directory, exist_ok=True)
    for path in sorted((GOLDEN / "streams").glob("*.jai")) + sorted((GOLDEN / "lossless").glob("*.jai")):
        s = path.read_bytes()
        for mode in range(4):
            body = s + (bytes([mode * 5, 255]) + bytes(MUTATION - 2) if mode == 3 else b"")
            Path(directory, f"{path.stem}_{mode}").write_bytes(body + bytes([mode]))


def _recrc(data: bytes, mutation: bytes) -> bytes:
    """The golden stream ``data`` with ``mutation`` XORed over one payload, CRCs made valid again."""
    h = container.read(data)
    payloads = [data[s.offset:s.offset + s.length] for s in h.substreams]
    if not payloads or not mutation:
        return data
    k = mutation[0] % len(payloads)
    p = bytearray(payloads[k])
    cut = mutation[1] if len(mutation) > 1 else 255
    if cut < 32 and p:
        p = p[:len(p) * cut // 32]           # also shorten it sometimes
    for i, b in enumerate(mutation[2:]):
        if p:
            p[(i * 7 + mutation[0]) % len(p)] ^= b
    payloads[k] = bytes(p)
    return container.write(h, payloads)


def TestOneInput(data: bytes):
    if not data:
        return
    mode, data = data[-1] % 4, data[:-1]
    try:
        if mode == 0:
            StreamLayout(data, _TINY)
        elif mode == 1:
            jpegai_fast.info(data)
        elif mode == 2:
            jpegai_fast.decode(data, threads=1)
        else:
            if len(data) <= MUTATION:
                return
            try:
                stream = _recrc(data[:-MUTATION], data[-MUTATION:])
            except (DecodeError, ValueError):
                return                     # not a parseable base stream / not re-writable: nothing to tamper
            jpegai_fast.decode(stream, threads=1)
    except DecodeError:
        pass


if __name__ == "__main__":
    from harness import main        # tests/fuzz/ is the script's folder, first on sys.path
    main(TestOneInput, make_seeds)
