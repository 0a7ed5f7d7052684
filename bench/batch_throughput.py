"""Throughput of collection work (docs/scale.md): images/s and Mpx/s of every way to encode a folder.

Arms, all on the same files, same quality, in one run:
  * cli-loop: one ``jpegai-fast encode`` process per file (what a shell loop does);
  * api: one process, read + encode + atomic write per file, all cores (the floor the batch machinery
    should stay within 10 % of);
  * batch-1 / batch-2: ``jpegai.batch.run`` with a local pool of 1 / 2 worker processes;
  * dask-2: the same tasks on a dask.distributed LocalCluster of 2 worker processes.
Every arm's outputs are checked byte-identical to the api arm's.

  PYTHONPATH=$PWD python -P bench/batch_throughput.py --set kodak --out bench/results/batch_kodak.json
  PYTHONPATH=$PWD python -P bench/batch_throughput.py --set 4k --count 4 --out bench/results/batch_4k.json
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
KODAK = HERE.parent / ".." / "shared" / "datasets" / "kodak"


def _make_4k(folder: Path, count: int) -> None:
    sys.path.insert(0, str(HERE))
    from large_image import test_image
    from jpegai_fast.files.images import write_image
    base = test_image(3840, 2160)
    for i in range(count):     # different crops/flips of the mirror-tiled photo, so files differ
        img = np.roll(base, 97 * i, axis=1)[:, ::(-1 if i % 2 else 1)]
        write_image(folder / f"uhd{i}.png", np.ascontiguousarray(img))


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*.jai"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["kodak", "4k"], default="kodak")
    ap.add_argument("--count", type=int, default=4, help="4k: number of 3840x2160 images")
    ap.add_argument("--quality", type=float, default=50)
    ap.add_argument("--arms", default="cli-loop,api,batch-1,batch-2,dask-2")
    ap.add_argument("--out")
    args = ap.parse_args()
    from jpegai_fast.tools import batch
    from jpegai_fast import api
    from jpegai_fast.files.atomic import atomic_write
    from jpegai_fast.files.images import read_image
    work = Path(tempfile.mkdtemp(prefix="batch_bench_"))
    src = work / "src"
    src.mkdir()
    if args.set == "kodak":
        for p in sorted(KODAK.glob("kodim*.png")):
            shutil.copy(p, src / p.name)
    else:
        _make_4k(src, args.count)
    files = sorted(src.glob("*.png"))
    mpx = sum(read_image(f).shape[0] * read_image(f).shape[1] for f in files) / 1e6
    results, reference = {}, None
    for arm in args.arms.split(","):
        dst = work / arm
        dst.mkdir()
        t0 = time.perf_counter()
        if arm == "cli-loop":
            for f in files:
                subprocess.run([sys.executable, "-P", "-m", "jpegai_fast", "encode", str(f), str(dst / (f.stem + ".jai")),
                                "-q", str(args.quality), "--quiet"], check=True)
        elif arm == "api":
            for f in files:
                atomic_write(dst / (f.stem + ".jai"), api.encode(read_image(f), quality=args.quality), overwrite=True)
        elif arm.startswith("batch-"):
            batch.run("encode", [str(src)], str(dst), workers=int(arm.split("-")[1]),
                      options={"quality": args.quality}, progress=False)
        elif arm.startswith("dask-"):
            from distributed import LocalCluster
            n = int(arm.split("-")[1])
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
                t0 = time.perf_counter()          # cluster start-up excluded (a cluster outlives batches)
                batch.run("encode", [str(src)], str(dst), scheduler=lc.scheduler_address,
                          options={"quality": args.quality}, progress=False)
                seconds = time.perf_counter() - t0
        seconds = time.perf_counter() - t0 if not arm.startswith("dask-") else seconds
        outs = _outputs(dst)
        if reference is None and arm == "api":
            reference = outs
        results[arm] = {"seconds": seconds, "images_per_s": len(files) / seconds, "mpx_per_s": mpx / seconds,
                        "outputs": outs}
        print(f"{arm:9s} {seconds:7.2f} s  {len(files) / seconds:6.2f} images/s  {mpx / seconds:6.2f} Mpx/s", flush=True)
    for arm, r in results.items():
        r["identical_to_api"] = reference is not None and r.pop("outputs") == reference
    if "api" in results:
        for arm, r in results.items():
            r["vs_api"] = r["images_per_s"] / results["api"]["images_per_s"]
        if "cli-loop" in results:
            for arm, r in results.items():
                r["vs_cli_loop"] = r["images_per_s"] / results["cli-loop"]["images_per_s"]
    print(json.dumps({k: {m: (round(v, 3) if isinstance(v, float) else v) for m, v in r.items()}
                      for k, r in results.items()}, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps({"set": args.set, "images": len(files), "mpx": mpx,
                                              "quality": args.quality, "arms": results}, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
