"""Interruption: SIGINT, SIGTERM and SIGHUP unwind the run (its scratch folders go with it) and end it with one line.

The signal becomes an exception raised where the program is, so every ``with`` and ``finally`` on the
way out runs: publications remove their scratch, TeX folders are deleted, latexmk's process group is
stopped. Only SIGKILL cannot be caught; the next run removes what such a run left.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

# The signal, and the exit status a shell gives a program it ended: 128 + the signal's number.
HANDLED = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129}


class Interrupted(BaseException):
    """Raised by the handler; a BaseException, so ``except Exception`` in the work does not swallow it."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Handle the signals for the duration of a command; the handlers before are restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping: list[int] = []

    def stop(number: int, frame: Any) -> None:
        if stopping:  # a second signal while cleaning up: let the cleanup finish
            return
        stopping.append(number)
        raise Interrupted(128 + number)

    previous = {}
    for name in HANDLED:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
