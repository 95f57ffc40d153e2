"""SIGTERM and SIGHUP stop a run as Ctrl-C does; short steps that must not be cut hold them back.

Each becomes an exception where the program is, so the same cleanup runs (a temporary file
removed, the renderer's process group killed) and the exit status is 128 + the signal's number:
130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. The handlers are the command line's: a program
that imports graphviz_ad keeps its own.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Iterator

STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_holding = 0
_pending: list[int] = []


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like the KeyboardInterrupt of a SIGINT."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


def _stop(number: int, frame: object) -> None:
    if _holding:
        _pending.append(number)
        return
    _raise(number)


def _raise(number: int) -> None:
    if number == signal.SIGINT:
        raise KeyboardInterrupt
    # A second SIGTERM or SIGHUP ends the process at once, as if no handler were there.
    signal.signal(number, signal.SIG_DFL)
    raise Stopped(number)


def stop_on_signals() -> None:
    """Handle SIGINT, SIGTERM and SIGHUP alike; one that is ignored (SIGHUP under nohup) stays
    ignored."""
    for number in STOPPING_SIGNALS:
        if signal.getsignal(number) != signal.SIG_IGN:
            signal.signal(number, _stop)


@contextmanager
def held() -> Iterator[None]:
    """Hold back the stopping signals for a short step; one that came is acted on after it.

    Python runs signal handlers in the main thread between steps of the program, so a flag the
    handler reads works whatever other threads there are (the spinner in a terminal).
    """
    global _holding
    _holding += 1
    try:
        yield
    finally:
        _holding -= 1
        if not _holding and _pending:
            number = _pending[0]
            _pending.clear()
            _raise(number)


def signal_number(interruption: KeyboardInterrupt) -> int:
    return interruption.number if isinstance(interruption, Stopped) else signal.SIGINT


def exit_status(interruption: KeyboardInterrupt) -> int:
    return 128 + signal_number(interruption)


def describe(interruption: KeyboardInterrupt) -> str:
    number = signal_number(interruption)
    return "interrupted" if number == signal.SIGINT else f"stopped by {signal.Signals(number).name}"
