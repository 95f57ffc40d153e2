"""SIGTERM and SIGHUP stop a run as Ctrl-C does; short steps that must not be cut hold them back.

Each becomes an exception where the program is, so the same cleanup runs (a temporary file
removed, the renderer's process group killed) and the exit status is 128 + the signal's number:
130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP, decided by `run` whoever caught the exception.
The handlers are the command line's: a program that imports graphviz_ad keeps its own.
"""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, NoReturn

STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_holding = 0
_pending: list[int] = []
_first: list[int] = []  # the first stopping signal that came: it decides the exit status


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like the KeyboardInterrupt of a SIGINT."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


def _stop(number: int, frame: object) -> None:
    if not _first:
        _first.append(number)
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


def run(command: Callable[[], object], say: Callable[[str], None]) -> NoReturn:
    """Run the command line with the stopping signals handled, and end the process: with the
    command's status, or, when a stopping signal came, with 128 + its number and its message
    (`say`), however late it came. typer turns an interruption it catches (one that came after
    the command's own error handling) into status 130 and says nothing, so the status is
    decided here, from the signal, not from what became of its exception."""
    global _holding
    status: object = None
    try:
        try:
            stop_on_signals()
            command()
            status = 0
        except SystemExit as ending:
            status = ending.code
        finally:
            _holding += 1  # from here on a signal is only noted: the status is decided below
    except KeyboardInterrupt:
        pass
    if _first or status is None:  # None: an interruption raised by no handler of ours
        number = _first[0] if _first else signal.SIGINT
        say(describe(number))
        status = 128 + number
    sys.exit(status)


def describe(number: int) -> str:
    return "interrupted" if number == signal.SIGINT else f"stopped by {signal.Signals(number).name}"
