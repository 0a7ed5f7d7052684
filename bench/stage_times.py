"""Where the time goes (issue 33 item 1): encode and decode time per stage at Kodak, 4K and 8K sizes, per
thread count, from ``jpegai_fast.tools.profiling.profile`` (the same timers as ``jpegai-fast profile``).

Stage times are wall time summed over calls; tiles run in parallel, so with 2 threads a stage's sum can
exceed its share of the wall clock (it is thread-seconds there). The image is bench/large_image.py's
mirror-tiled photograph at every size, so the content does not change with it.

  PYTHONPATH=$PWD python -P bench/stage_times.py --sizes 768x512 3840x2160 7680x4320 --threads 1 2
"""
from __future__ import annotations

import argparse

from bench.large_image import test_image
from jpegai_fast.tools.profiling import STAGES, profile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["768x512", "3840x2160", "7680x4320"])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--quality", type=float, default=75.0)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    print("| size | threads | bpp | encode s | decode s | " + " | ".join(f"{s} enc / dec" for s in STAGES) + " |")
    print("| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in STAGES) + " |")
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        img = test_image(w, h)
        for threads in args.threads:
            p = profile(img, quality=args.quality, threads=threads, repeats=args.repeats)
            enc, dec = p["encode_stages_s"], p["decode_stages_s"]
            cells = [f"{enc.get(s, 0):.3f} / {dec.get(s, 0):.3f}" for s in STAGES]
            print(f"| {size} | {threads} | {p['bpp']:.3f} | {p['encode_s']:.2f} | {p['decode_s']:.2f} | "
                  + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
