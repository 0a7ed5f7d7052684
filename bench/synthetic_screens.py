"""Synthetic screenshots for the lossless and graphics benchmarks (issue 32 item 4): drawn with Pillow, the
same pixels on every run (no randomness but a seeded generator, Pillow's bundled font), so they need no file
in the repository. Three kinds of screen content a codec meets:

  text_page     a document: paragraphs of anti-aliased text in two sizes, headings in colour, a table
  dashboard     an application: flat panels, buttons with labels, a line chart, bars, a gradient strip
  web_page      text around a photograph (a crop of the first training photo, so photo and drawing mix)

  PYTHONPATH=$PWD python -P bench/synthetic_screens.py OUT_DIR     # writes them as PNGs to look at
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
WORDS = ("the codec decodes every tile of the stream on its own so a region needs only the tiles it meets "
         "while the context model predicts each latent from its decoded neighbours and the rate follows "
         "from the quality the user asks for lossless planes keep every sample exact").split()


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _paragraph(rng: np.random.Generator, words: int) -> str:
    return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), words))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) > width and line:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + [line] if line else lines


def text_page(h: int = 768, w: int = 1024) -> np.ndarray:
    rng = np.random.default_rng(1)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(img)
    body, head = _font(15), _font(24)
    y = 24
    for section in range(4):
        d.text((40, y), f"{section + 1}. Section heading", font=head, fill=(20, 60, 140))
        y += 36
        for line in _wrap(d, _paragraph(rng, 90), body, w - 80):
            d.text((40, y), line, font=body, fill=(30, 30, 30))
            y += 20
        y += 14
    # a table: ruled cells with numbers
    x0, cw, ch = 40, 140, 24
    for r in range(6):
        for c in range(6):
            box = (x0 + c * cw, y + r * ch, x0 + (c + 1) * cw, y + (r + 1) * ch)
            d.rectangle(box, outline=(160, 160, 160), fill=(235, 240, 250) if r == 0 else None)
            d.text((box[0] + 6, box[1] + 4), f"{rng.integers(0, 10_000):,}", font=body, fill=(0, 0, 0))
    return np.asarray(img)


def dashboard(h: int = 720, w: int = 1280) -> np.ndarray:
    rng = np.random.default_rng(2)
    img = Image.new("RGB", (w, h), (242, 244, 247))
    d = ImageDraw.Draw(img)
    label = _font(14)
    d.rectangle((0, 0, w, 48), fill=(33, 41, 54))
    d.text((20, 14), "Throughput  |  Tiles  |  Memory  |  Settings", font=_font(18), fill=(230, 230, 230))
    d.rectangle((0, 48, 200, h), fill=(255, 255, 255))
    for i in range(10):
        d.rounded_rectangle((16, 70 + 44 * i, 184, 104 + 44 * i), radius=6,
                            fill=(59, 130, 246) if i == 2 else (243, 244, 246))
        d.text((30, 78 + 44 * i), f"Menu item {i + 1}", font=label, fill=(255, 255, 255) if i == 2 else (55, 65, 81))
    # a line chart with its grid
    cx0, cy0, cx1, cy1 = 230, 80, 1240, 400
    d.rectangle((cx0, cy0, cx1, cy1), fill=(255, 255, 255), outline=(209, 213, 219))
    for k in range(1, 8):
        yy = cy0 + k * (cy1 - cy0) // 8
        d.line((cx0, yy, cx1, yy), fill=(229, 231, 235))
    for colour, seed in (((239, 68, 68), 0), ((16, 185, 129), 1), ((59, 130, 246), 2)):
        walk = np.cumsum(np.random.default_rng(seed).normal(0, 6, 60)) + 160 + 40 * seed
        pts = [(cx0 + 10 + i * (cx1 - cx0 - 20) / 59, cy1 - 20 - float(np.clip(v, 0, 280))) for i, v in enumerate(walk)]
        d.line(pts, fill=colour, width=3, joint="curve")
    # bars with values, and a gradient strip
    for i in range(12):
        v = int(rng.integers(40, 230))
        d.rectangle((240 + 80 * i, 680 - v, 290 + 80 * i, 680), fill=(99, 102, 241))
        d.text((244 + 80 * i, 660 - v), str(v), font=label, fill=(17, 24, 39))
    strip = np.linspace(0, 255, cx1 - cx0).astype(np.uint8)
    arr = np.array(img)
    arr[420:440, cx0:cx1] = np.stack([strip, 255 - strip, np.full_like(strip, 128)], -1)
    return arr


def web_page(h: int = 900, w: int = 1200) -> np.ndarray:
    rng = np.random.default_rng(3)
    img = Image.new("RGB", (w, h), (250, 250, 250))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w, 64), fill=(255, 255, 255))
    d.text((32, 18), "jpegai_fast  ·  docs  ·  benchmarks  ·  download", font=_font(22), fill=(17, 17, 17))
    photo_path = sorted((SHARED / "train").glob("*.*"))[0]
    photo = Image.open(photo_path).convert("RGB")
    side = min(photo.size)
    photo = photo.crop((0, 0, side, side)).resize((480, 360), Image.Resampling.LANCZOS)
    img.paste(photo, (32, 96))
    body = _font(16)
    y = 96
    for line in _wrap(d, _paragraph(rng, 260), body, w - 560 - 32):
        d.text((540, y), line, font=body, fill=(40, 40, 40))
        y += 22
    y = max(y, 480) + 20
    for line in _wrap(d, _paragraph(rng, 300), body, w - 64):
        if y > h - 40:
            break
        d.text((32, y), line, font=body, fill=(40, 40, 40))
        y += 22
    return np.asarray(img)


def screens() -> dict[str, np.ndarray]:
    """The synthetic screenshots by name, HxWx3 uint8."""
    return {"text_page": text_page(), "dashboard": dashboard(), "web_page": web_page()}


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, arr in screens().items():
        Image.fromarray(arr).save(out / f"{name}.png")
        print(out / f"{name}.png", arr.shape)
