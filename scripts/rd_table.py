"""Markdown RD tables from a jpegai_fast.eval_model json (and optional anchors json).

Usage: python scripts/rd_table.py docs/rd_light.json [docs/kodak_anchors.json]
"""
import json
import sys


def main(rd_path: str, anchors_path: str = "") -> None:
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
    if anchors_path:
        an = json.load(open(anchors_path))
        print("\nAnchors (Pillow, real file sizes, same 24 images):\n")
        print("| codec | setting | bpp | PSNR-RGB |")
        print("| --- | --- | ---: | ---: |")
        for codec in ("jpeg444", "webp", "jpeg2000"):
            for r in an.get(codec, []):
                keys = [k for k in r if k not in ("bpp", "psnr")]
                setting = f"{keys[0]} {r[keys[0]]}" if keys else "rate-controlled"
                print(f"| {codec} | {setting} | {r['bpp']:.4f} | {r['psnr']:.2f} |")
        if "bd_rate_of_model" in an:
            print("\nBD-rate (PSNR-RGB) of the model vs each anchor over the overlapping range: " +
                  ", ".join(f"{k} {v:+.1f}%" for k, v in an["bd_rate_of_model"].items()))


if __name__ == "__main__":
    main(*sys.argv[1:])
