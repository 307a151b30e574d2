"""Export work in bounded slices: the GIL is offered to other threads between them.

The export thread redacts and encodes whole batches (512 spans by default) in
pure Python; done in one go that holds the GIL for milliseconds, and a request
thread that wakes meanwhile waits up to the interpreter's switch interval (5 ms)
before it can run.  :func:`sliced` hands the items on unchanged and sleeps for
:data:`PAUSE` seconds after every :data:`SLICE` of them, which releases the GIL
so a waiting thread can take it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["PAUSE", "SLICE", "sliced"]

#: Items handled between two offers of the GIL: one offer per default batch (512).
#: Slices of 16 shortened a waiting thread's wake-up in ``bench_export_gil`` but cost
#: the whole server 22% of its throughput under load with no lower p99 (``bench_http``:
#: every offer hands the GIL over and waits to take it back).
SLICE = 512
#: How long each offer sleeps (0: release the GIL and take it back if nobody took it).
PAUSE = 0.0

_T = TypeVar("_T")


def sliced(items: Iterable[_T], size: int | None = None) -> Iterator[_T]:
    """Yield *items* in order, releasing the GIL briefly after every *size* (:data:`SLICE`)."""
    size = size or SLICE
    pause = PAUSE
    sleep = time.sleep
    count = 0
    for item in items:
        if count == size:
            sleep(pause)
            count = 0
        count += 1
        yield item
