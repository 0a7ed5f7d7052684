"""The README's main job: code a real photograph with the shipped model and compare with the codecs people use.

``jpegai-fast demo [--image PATH] [--out DIR] [--bpp 0.12 0.25 0.5 1.0]``

Without --image it codes the photograph shipped in the package (``data/chelsea.png``, CC0, see
data/README.md). For each target rate it prints bpp, PSNR and encode/decode time of this codec and
the PSNR of JPEG (4:2:0, Pillow), WebP, AVIF (where Pillow has it) and JPEG XL (where imagecodecs has
it; the [eval] extra) at the same file size or smaller, says plainly who is ahead, and writes the
decoded images and one side-by-side PNG per rate: original | jpegai_fast | each peer. On Kodak the
picture is mixed (docs/evaluation.md): ahead of JPEG everywhere, behind AVIF, near WebP and JPEG 2000.
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from jpegai_fast import api
from jpegai_fast.files.images import read_image, write_image

SHIPPED_PHOTO = Path(__file__).resolve().parents[1] / "data" / "chelsea.png"   # jpegai_fast/data/
PEERS = ("jpeg", "webp", "avif", "jxl")


def synthetic_image(height: int = 384, width: int = 512, seed: int = 0) -> np.ndarray:
    """A deterministic RGB test picture with smooth areas, hard edges, texture and fine lines (tests, benches)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([xx / width, yy / height, 0.5 + 0.5 * np.sin(xx / 23.0) * np.cos(yy / 31.0)], -1)
    disk = (xx - width * 0.3) ** 2 + (yy - height * 0.5) ** 2 < (height * 0.25) ** 2
    img[disk] = [0.9, 0.2, 0.1]
    img[height // 8:height // 3, width // 2:width - 20] = rng.random((1, 1, 3)) * 0.5
    img[height // 2:, width // 2:] += 0.15 * rng.standard_normal((height - height // 2, width - width // 2, 3))
    img[::16, :width // 2] = 0.05                        # thin lines
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _peer(name: str, img: np.ndarray, max_bytes: int):
    """(decoded image, bytes) of classical codec ``name`` at the largest size <= max_bytes, or None."""
    from jpegai_fast.eval.codecs import get_codec
    from jpegai_fast.eval.ratesearch import search_knob
    c = get_codec(name)
    if not c.available:
        return None
    point = search_knob(c, img, 8.0 * max_bytes / (img.shape[0] * img.shape[1]), tolerance=0.0)
    if point.data is None:
        return None
    return c.decode(point.data), len(point.data)


def side_by_side(panels: list[tuple[str, np.ndarray]], path: Path) -> None:
    """One PNG with the panels in a row, each labelled above."""
    from PIL import Image, ImageDraw
    h, w = panels[0][1].shape[:2]
    bar = 18
    canvas = Image.new("RGB", (len(panels) * w + (len(panels) - 1) * 4, h + bar), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (label, img) in enumerate(panels):
        x = i * (w + 4)
        canvas.paste(Image.fromarray(img), (x, bar))
        draw.text((x + 4, 3), label, fill="black")
    import io
    from jpegai_fast.files.atomic import atomic_write
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    atomic_write(path, buf.getvalue(), overwrite=True)     # the demo's own results: a rerun replaces them


def run(image: Path | None, out: Path, targets: list[float], threads: int | None = None) -> list[dict]:
    """Code the image at each target rate; print the table; write decoded and side-by-side PNGs."""
    path = image or SHIPPED_PHOTO
    img = read_image(path)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.dtype != np.uint8:
        img = (img >> 8).astype(np.uint8)
    out.mkdir(parents=True, exist_ok=True)
    print(f"{path.name}: {img.shape[1]}x{img.shape[0]}" + ("  (shipped photo, CC0)" if image is None else ""))
    print(f"{'target':>7} {'bpp':>7} {'PSNR dB':>8} {'encode s':>9} {'decode s':>9}   same size or smaller: "
          + "  ".join(f"{p.upper():>13}" for p in PEERS))
    rows = []
    for target in targets:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = api.encode(img, bpp=target, threads=threads)
        t1 = time.perf_counter()
        rec = api.decode(data, threads=threads)
        t2 = time.perf_counter()
        bpp = 8 * len(data) / (img.shape[0] * img.shape[1])
        row = {"target": target, "bpp": bpp, "psnr": psnr(img, rec), "encode_s": t1 - t0, "decode_s": t2 - t1}
        panels = [("original", img), (f"jpegai_fast {bpp:.3f} bpp {row['psnr']:.2f} dB", rec)]
        peers = []
        for name in PEERS:
            got = _peer(name, img, len(data))
            if got is None:
                peers.append(f"{'n/a':>13}")
                continue
            dec, size = got
            p_bpp, p_psnr = 8 * size / (img.shape[0] * img.shape[1]), psnr(img, dec)
            row[name] = {"bpp": p_bpp, "psnr": p_psnr}
            peers.append(f"{p_psnr:>6.2f} dB {p_bpp:.2f}")
            panels.append((f"{name.upper()} {p_bpp:.3f} bpp {p_psnr:.2f} dB", dec))
        note = "  (target outside the model's rate range)" if caught else ""
        print(f"{target:>7.3f} {bpp:>7.4f} {row['psnr']:>8.2f} {row['encode_s']:>9.3f} {row['decode_s']:>9.3f}   "
              f"{'':>20}" + "  ".join(peers) + note)
        print(f"{'':>8}{verdict(row)}")
        write_image(out / f"decoded_{target:.3f}bpp.png", rec, overwrite=True)   # the demo's own results
        side_by_side(panels, out / f"compare_{target:.3f}bpp.png")
        rows.append(row)
    names = " | ".join(p.upper() for p in PEERS if p in rows[-1]) if rows else ""
    print(f"decoded images and side-by-side comparisons (original | jpegai_fast | {names}) in {out}/")
    print("one picture is not a verdict: over the 24 Kodak images the model is behind JPEG 2000, WebP and AVIF "
          "at the high rates; `jpegai-fast eval` and docs/evaluation.md have the full RD and BD-rates")
    return rows


def verdict(row: dict) -> str:
    """Who is ahead at this size, in words: jpegai_fast's PSNR against each peer's (no peer left out)."""
    ahead = [f"{p.upper()} by {row['psnr'] - row[p]['psnr']:.2f} dB" for p in PEERS if p in row
             and row["psnr"] >= row[p]["psnr"]]
    behind = [f"{p.upper()} by {row[p]['psnr'] - row['psnr']:.2f} dB" for p in PEERS if p in row
              and row["psnr"] < row[p]["psnr"]]
    return "; ".join(filter(None, [f"ahead of {', '.join(ahead)}" if ahead else "",
                                   f"behind {', '.join(behind)}" if behind else ""]))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", type=Path, help="image to code (default: the shipped photograph)")
    ap.add_argument("--out", type=Path, default=Path("demo_out"), help="where decoded and comparison PNGs go")
    ap.add_argument("--bpp", type=float, nargs="*", default=[0.12, 0.25, 0.5, 1.0])
    args = ap.parse_args(argv)
    run(args.image, args.out, args.bpp)


if __name__ == "__main__":
    main()
