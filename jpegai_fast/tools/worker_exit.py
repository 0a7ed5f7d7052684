"""Pool workers that end with the process that started them.

A ``concurrent.futures.ProcessPoolExecutor`` worker blocks on its call queue, and it holds that queue's
write end itself (a multiprocessing Queue travels to the worker with both ends), so when the driver is
killed outright (SIGKILL, the OOM killer) the worker never reads EOF and lives on, orphaned, holding its
model and its memory; measured: `jpegai-fast batch` SIGKILLed left its worker and the pool's resource
tracker running for good. A daemon thread in each worker watches the parent instead: when the parent
is gone the worker is re-parented, ``os.getppid()`` changes, and the worker exits at once. (Linux's
PR_SET_PDEATHSIG would do it without polling, but it fires on the death of the parent *thread* that
forked, and is Linux-only.)
"""
from __future__ import annotations

import os
import threading
import time

#: How often a worker checks its parent: the longest an orphan outlives the driver.
POLL_S = 0.5


def end_with_parent(poll_s: float = POLL_S) -> None:
    """Call first in a pool worker's initializer: the worker exits (code 1) once its parent is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)      # no cleanup: the driver that would collect results is gone

    threading.Thread(target=watch, name="jpegai_fast-end-with-parent", daemon=True).start()
