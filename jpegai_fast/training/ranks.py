"""Data-parallel training over CPU processes (``train.py --ranks N``): N one-thread processes, one batch.

Why: the light model's convolutions are narrow (64 channels), so a second thread in the same
process buys little (oneDNN splits every small layer and waits at its barrier). Measured 2026-12-02
on the 2-core AVX2 host, 4 x 256^2 crops, compiled fp32: 0.90 s/step with 2 threads in one process,
1.33 s/step with 1 thread next to another one-thread job. Two processes of one thread, each on
half the batch, measured 0.79 s/step (x1.14): a half batch costs more than half a step, while the
all-reduce of the gradients (~9 MB) and the broadcast took 0.4 % of rank 0's time (py-spy).
Not on a CPU with native bf16: on session 6's AVX512-BF16/AMX host, `--bf16 --threads 2` in one
process ran 0.17 s/step and `--bf16 --ranks 2 --threads 1` 0.23 s/step (the live loop's log), so
ranks are the fp32 hosts' recipe.

Exactness (a checkpoint is the one-process run's, so a run resumes with any number of ranks):

* every rank draws the whole batch, t and the noise from the same generator, in the same order as
  a one-process run, and keeps its slice (``shard``): the RNG streams never diverge;
* the loss is a mean over pixels, the slices are equal, so the mean of the ranks' gradients is the
  whole batch's gradient (up to the order of float sums); every rank clips and steps Adam on the
  same averaged gradient, so the weights stay identical;
* only rank 0 reads the clock: whether to stop and the schedule's progress are broadcast from it
  every step (``control``), so the learning rate is the same everywhere and no rank waits forever
  at a collective another has left. Rank 0 alone writes the log, checkpoints and exports.
"""
from __future__ import annotations

import copy
import datetime
import os
import signal
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

#: How long a rank waits at a collective before it gives up (the first step compiles for ~1-2 min).
TIMEOUT = datetime.timedelta(minutes=10)


class Ranks:
    """This process's place in the group: ``rank`` of ``world``, after ``join``."""

    def __init__(self, rank: int, world: int):
        self.rank, self.world = rank, world

    def shard(self, t: torch.Tensor) -> torch.Tensor:
        """This rank's equal slice of a batch-first tensor."""
        n = t.shape[0] // self.world
        return t[self.rank * n:(self.rank + 1) * n]

    def average(self, params, stats: list[torch.Tensor]) -> list[float]:
        """Average the gradients of ``params`` in place, and the scalar ``stats``, over the ranks."""
        params = [p for p in params if p.requires_grad]
        for p in params:      # a parameter the graph did not reach still takes part (as zeros)
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        flat = torch.cat([p.grad.reshape(-1) for p in params] + [s.detach().float().reshape(1) for s in stats])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for p in params:
            p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
            offset += p.numel()
        return flat[offset:].tolist()

    def control(self, stop: bool, progress: float) -> tuple[bool, float]:
        """Rank 0's (stop, progress) on every rank."""
        msg = torch.tensor([float(stop), progress], dtype=torch.float64)
        dist.broadcast(msg, src=0)
        return bool(msg[0] > 0), float(msg[1])


def rendezvous_path(out: Path) -> Path:
    return Path(out).resolve() / ".ranks_rendezvous"


def join(rank: int, world: int, out: Path) -> Ranks:
    """Enter the gloo group of the run in ``out`` (a file rendezvous: no port to pick)."""
    dist.init_process_group("gloo", init_method=f"file://{rendezvous_path(out)}", rank=rank, world_size=world,
                            timeout=TIMEOUT)
    return Ranks(rank, world)


def leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _worker(args, rank: int, lead: int) -> None:
    # Rank 0 owns the run: a Ctrl-C or SIGTERM meant for it must not kill a worker mid-collective;
    # rank 0 stops the workers through ``control``. If rank 0 dies outright (SIGKILL, the OOM killer)
    # before the group has formed, the worker ends with it at once instead of waiting out TIMEOUT at
    # the rendezvous (once the group is up, gloo's next read sees the dead peer's reset connection).
    from jpegai_fast.worker_exit import end_with_parent
    end_with_parent(lead)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from jpegai_fast.training.train import train
    train(args, rank=rank)


def start_workers(args) -> list:
    """Ranks 1..N-1 as fresh (spawned) processes running the same arguments."""
    path = rendezvous_path(args.out)
    path.unlink(missing_ok=True)          # a stale file from a killed run would break the rendezvous
    ctx = mp.get_context("spawn")
    procs = []
    for rank in range(1, args.ranks):
        worker_args = copy.copy(args)
        worker_args.quiet = True
        p = ctx.Process(target=_worker, args=(worker_args, rank, os.getpid()), name=f"jpegai_fast-rank{rank}")
        p.start()
        procs.append(p)
    return procs


def stop_workers(procs: list, grace_s: float = 60.0) -> None:
    """Wait for the workers to finish; terminate any that do not (rank 0 failed mid-run)."""
    for p in procs:
        p.join(timeout=grace_s)
        if p.is_alive():
            p.terminate()
            p.join(timeout=10)
