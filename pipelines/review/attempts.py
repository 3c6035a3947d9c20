"""Login attempts on one account, or from one address, one at a time.

The throttle (5 failures per account, 20 per address, in 15 minutes) counts the failures already
recorded. Checked by many threads at once, a burst of attempts would all count the same past and
all be tried: each attempt is counted, checked and recorded while holding the lock of its account
and of its address. Striped locks (a fixed set, chosen by hash): attacker-chosen names cannot
grow memory. One server process; several processes would need the database to serialise.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

_STRIPES = [threading.Lock() for _ in range(64)]


@contextmanager
def holding(*keys: str) -> Iterator[None]:
    """Hold the locks of all `keys` (in one fixed order: no deadlock between two holders)."""
    stripes = sorted({zlib.crc32(k.encode("utf-8")) % len(_STRIPES) for k in keys})
    with ExitStack() as stack:
        for stripe in stripes:
            stack.enter_context(_STRIPES[stripe])
        yield
