"""Lossless bytes and speed (issue 32): jpegai_fast's lossless mode against PNG (Pillow, optimize=True),
WebP lossless (Pillow, method 6, quality 100: its strongest effort) and, when imagecodecs is importable,
JPEG XL lossless (effort 7), on Kodak 1-6, ../shared/datasets/graphics/*.png and the synthetic screenshots of
bench/synthetic_screens.py (text, an application, a web page with a photograph).

Every codec's decode is checked to be exact. Times are on one thread for every codec (the host is
shared, so they are compared within one run): encode once, decode best of five, the codecs' decodes
taking turns so that a busy spell of the host hits them alike. The last line adds jpegai_fast's decode
with its default threads (one plane per thread), for information: the other codecs decode on one.

  PYTHONPATH=$PWD python -P bench/lossless_bytes.py [--markdown]
"""
from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"


def images(with_screens: bool = True) -> dict[str, np.ndarray]:
    """Kodak 1-6, the shared graphics and (``with_screens``) the synthetic screenshots, by name."""
    from jpegai_fast.files.images import read_image
    paths = [SHARED / "kodak" / f"kodim{i:02d}.png" for i in range(1, 7)] + sorted((SHARED / "graphics").glob("*.png"))
    out = {p.stem: read_image(p) for p in paths}
    if with_screens:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from synthetic_screens import screens
        out.update({f"screen:{k}": v for k, v in screens().items()})
    return out


def _timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def _pillow(fmt: str, **kw):
    def enc(a):
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format=fmt, **kw)
        return buf.getvalue()
    return enc, lambda d: np.asarray(Image.open(io.BytesIO(d)))


def codecs() -> dict:
    import jpegai_fast
    out = {
        "jpegai_fast": (lambda a: jpegai_fast.encode(a, lossless=True, threads=1),
                        lambda d: jpegai_fast.decode(d, threads=1)),
        "PNG": _pillow("PNG", optimize=True),
        "WebP": _pillow("WEBP", lossless=True, method=6, quality=100),
    }
    try:
        import imagecodecs
        if imagecodecs.JPEGXL.available:
            out["JPEG XL"] = (lambda a: imagecodecs.jpegxl_encode(a, lossless=True, effort=7, numthreads=1),
                              lambda d: imagecodecs.jpegxl_decode(d, numthreads=1))
    except ImportError:
        pass
    return out


def main(markdown: bool = False) -> dict:
    import jpegai_fast
    rows, threaded = {}, {}
    cs = codecs()
    for name, img in images().items():
        rows[name], coded = {}, {}
        for cname, (enc, _dec) in cs.items():
            coded[cname], t_enc = _timed(lambda: enc(img))
            rows[name][cname] = [len(coded[cname]), t_enc, float("inf")]
        for _ in range(5):
            for cname, (_enc, dec) in cs.items():
                back, t_dec = _timed(lambda: dec(coded[cname]))
                if not np.array_equal(back, img):
                    raise AssertionError(f"{cname} is not exact on {name}")
                rows[name][cname][2] = min(rows[name][cname][2], t_dec)
        _, threaded[name] = _timed(lambda: jpegai_fast.decode(coded["jpegai_fast"]), repeat=5)
        for cname, (b, t_enc, t_dec) in rows[name].items():
            print(f"{name:12s} {cname:12s} {b:9d} B  enc {t_enc:6.2f} s  dec {t_dec:6.3f} s", file=sys.stderr, flush=True)
    if markdown:
        print(table(rows, list(cs)))
        kodak = [k for k in rows if k.startswith("kodim")]
        one = sum(rows[k]["jpegai_fast"][2] for k in kodak)
        webp = sum(rows[k]["WebP"][2] for k in kodak)
        print(f"\nKodak 1-6 decode: jpegai_fast {one:.3f} s on one thread = {one / webp:.2f}x WebP ({webp:.3f} s); "
              f"with its default threads {sum(threaded[k] for k in kodak):.3f} s = "
              f"{sum(threaded[k] for k in kodak) / webp:.2f}x")
    return rows


def table(rows: dict, names: list[str]) -> str:
    head = "| image | " + " | ".join(f"{n} bytes (enc / dec s)" for n in names) + " |"
    lines = [head, "| --- |" + " --- |" * len(names)]
    totals = {n: [0, 0.0, 0.0] for n in names}
    for image, r in rows.items():
        cells = []
        for n in names:
            b, te, td = r[n]
            cells.append(f"{b:,} ({te:.2f} / {td:.3f})")
            totals[n] = [totals[n][0] + b, totals[n][1] + te, totals[n][2] + td]
        lines.append(f"| {image} | " + " | ".join(cells) + " |")
    kodak = [k for k in rows if k.startswith("kodim")]
    screens = [k for k in rows if k.startswith("screen:")]
    graphics = [k for k in rows if k not in kodak and k not in screens]
    groups = {"Kodak 1-6": kodak, "graphics": graphics, "Kodak 1-6 + graphics (the target's set)": kodak + graphics,
              "synthetic screens": screens}
    for label, keys in groups.items():
        cells = []
        for n in names:
            b = sum(rows[k][n][0] for k in keys)
            ours = sum(rows[k][names[0]][0] for k in keys)
            te, td = sum(rows[k][n][1] for k in keys), sum(rows[k][n][2] for k in keys)
            cells.append(f"**{b:,}** ({te:.2f} / {td:.3f}){'' if n == names[0] else f'; ours {100 * (ours / b - 1):+.1f} %'}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main(markdown="--markdown" in sys.argv)
