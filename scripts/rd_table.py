"""Markdown RD tables from a jpegai_fast.eval.model_rd json (anchors: use `jpegai-fast eval`).

Usage: python scripts/rd_table.py docs/rd_light.json
"""
import json
import sys


def main(rd_path: str) -> None:
    rd = json.load(open(rd_path))
    print(f"Model id `{rd['model_id']}`, {rd['images']} Kodak images, bits {rd['bits']}.\n")
    print("| t | bpp | PSNR-RGB (dB) | MS-SSIM |")
    print("| ---: | ---: | ---: | ---: |")
    for r in rd["rows"]:
        print(f"| {r['t']:.2f} | {r['bpp']:.4f} | {r['psnr']:.2f} | {r['msssim']:.4f} |")
    print("\nAt the JPEG AI target rates (interpolated in log bpp between the t points; n/a = outside the "
          "model's range):\n")
    print("| bpp | " + " | ".join(rd["psnr_at_target_bpp"]) + " |")
    print("| --- |" + " ---: |" * len(rd["psnr_at_target_bpp"]))
    fmt = lambda v, d: "n/a" if v is None else f"{v:.{d}f}"  # noqa: E731
    print("| PSNR-RGB | " + " | ".join(fmt(v, 2) for v in rd["psnr_at_target_bpp"].values()) + " |")
    print("| MS-SSIM | " + " | ".join(fmt(v, 4) for v in rd["msssim_at_target_bpp"].values()) + " |")


if __name__ == "__main__":
    main(*sys.argv[1:])
