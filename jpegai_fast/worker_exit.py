"""Worker processes (pool workers, training ranks) that end with the process that started them.

A ``concurrent.futures.ProcessPoolExecutor`` worker blocks on its call queue, and it holds that queue's
write end itself (a multiprocessing Queue travels to the worker with both ends), so when the driver is
killed outright (SIGKILL, the OOM killer) the worker never reads EOF and lives on, orphaned, holding its
model and its memory; measured: `jpegai-fast batch` SIGKILLed left its worker and the pool's resource
tracker running for good. A daemon thread in each worker watches the parent instead: when the parent
is gone the worker is re-parented, ``os.getppid()`` changes, and the worker exits at once. (Linux's
PR_SET_PDEATHSIG would do it without polling, but it fires on the death of the parent *thread* that
forked, and is Linux-only.)

The parent's pid must come from the parent (``parent=os.getpid()`` passed along with the worker's
arguments): a spawned worker spends seconds importing before its initializer runs, and a parent that
died in that window has already been replaced by the reaper, so ``os.getppid()`` read then would be
the wrong process to watch, and the worker would wait forever (measured with ``--ranks 2``: rank 0
killed while rank 1 imported torch left rank 1 waiting at the group's rendezvous, whose timeout is
10 minutes).
"""
from __future__ import annotations

import os
import threading
import time

#: How often a worker checks its parent: the longest an orphan outlives the driver.
POLL_S = 0.5


def end_with_parent(parent: int, poll_s: float = POLL_S) -> None:
    """Call first in a worker: it exits (code 1) once ``parent`` (the pid the parent passed it) is not
    its parent any more, at once if that is already so."""
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)      # no cleanup: the driver that would collect results is gone

    threading.Thread(target=watch, name="jpegai_fast-end-with-parent", daemon=True).start()
