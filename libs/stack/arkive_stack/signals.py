"""Signal handling for the launcher: first signal stops gracefully, a second one kills."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def stop_on_signals(
    on_first: Callable[[], None], on_repeat: Callable[[], None], log: Callable[[str], None]
) -> Iterator[None]:
    """While active, the first SIGINT/SIGTERM/SIGHUP calls `on_first`, any later one `on_repeat`.
    Restores the previous handlers afterwards. A no-op outside the main thread, where Python
    cannot install signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    count = 0

    def on_signal(sig: signal.Signals) -> None:
        nonlocal count
        count += 1
        if count == 1:
            log(f"{sig.name}: stopping (send it again to kill at once)")
            on_first()
        else:
            log(f"{sig.name} again: killing every process")
            on_repeat()

    for s in STOP_SIGNALS:
        loop.add_signal_handler(s, on_signal, s)
    try:
        yield
    finally:
        for s in STOP_SIGNALS:
            loop.remove_signal_handler(s)
            if previous[s] is not None:
                signal.signal(s, previous[s])
