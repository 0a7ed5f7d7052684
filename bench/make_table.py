"""Markdown table (M symbols/s, best round) from a pytest-benchmark JSON of test_bench_coder.py."""
import json
import sys


def main(path):
    rows = {}
    for b in json.load(open(path))["benchmarks"]:
        info = b["extra_info"]
        key = (info["size"], info["coder"])
        rate = info["symbols"] / b["stats"]["min"] / 1e6
        rows.setdefault(key, {})[info["op"]] = rate
        rows[key]["bytes"] = info.get("bytes")
    print("| size | coder | encode M sym/s | decode M sym/s | bytes |")
    print("|---|---|---:|---:|---:|")
    for size in ("kodak", "8k"):
        base = rows.get((size, "jpegai_fast-1t"), {})
        for (s, name), r in sorted(rows.items(), key=lambda kv: kv[0][1]):
            if s != size:
                continue
            print(f"| {size} | {name} | {r.get('encode', float('nan')):.1f} | "
                  f"{r.get('decode', float('nan')):.1f} | {r.get('bytes')} |")
        for (s, name), r in rows.items():
            if s == size and not name.startswith("jpegai") and base:
                print(f"|  | ratio jpegai_fast-1t / {name} | {base['encode'] / r['encode']:.1f}x | "
                      f"{base['decode'] / r['decode']:.1f}x | |")


if __name__ == "__main__":
    main(sys.argv[1])
