"""The renderer's fence: its caps, and a signal that kills it when gad dies.

Put up inside the renderer's own process before it becomes the renderer: caps on its memory and
output, and where the platform has one (Linux's prctl), a signal that kills it when gad dies,
even by SIGKILL or SIGQUIT, which run no cleanup. Standard library only, and run two ways
(render/backend.py chooses):
- as the `preexec_fn` of a fork, while gad is small;
- as a script, `python -I -S fence.py PARENT KIND=CAP... -- RENDERER ARGUMENT...`, which puts the
  fence up and then execs the renderer. gad starts it without a preexec function, so Python
  uses vfork: a fork copies the parent's page tables, 75-90 ms for a process holding 2 GB of
  torch tensors, where this script starts in about 14 ms.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from functools import cache
from typing import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
RUN_FAILED = 127  # the script's exit status when the renderer cannot be run, as a shell's


@cache
def parent_death_signal() -> Callable[[], object] | None:
    """prctl(PR_SET_PDEATHSIG, SIGKILL) for the child to call: the kernel kills the child when
    the thread that started it ends, and gad waits for it in that thread; the signal survives
    the exec into the renderer. None where there is no such call (macOS, Windows): there a
    renderer whose gad was killed outright runs on until it finishes."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong)
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def put_up(limits: list[tuple[int, int]], parent: int,
           die_with: Callable[[], object] | None) -> None:
    """In the child: the caps, then the parent-death signal; if the parent `parent` is already
    gone (it died before the call, so the signal will not come), the child kills itself."""
    for kind, value in limits:
        try:
            resource.setrlimit(kind, (value, value))
        except (OSError, ValueError):
            pass  # a platform without this limit: the pixel budget still holds
    if die_with is not None:
        die_with()
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)


def child_setup(limits: list[tuple[int, int]]) -> Callable[[], None]:
    """The fence as a fork's preexec function. (preexec_fn is unsafe when another thread holds
    a lock the child needs; this calls a few C functions, looked up before the fork, and takes
    no lock.)"""
    die_with = parent_death_signal()
    parent = os.getpid()
    return lambda: put_up(limits, parent, die_with)


def command(limits: list[tuple[int, int]], renderer: list[str]) -> list[str]:
    """The command line that runs this file as a script: the fence, then `renderer`."""
    return [sys.executable, "-I", "-S", __file__, str(os.getpid()),
            *(f"{kind}={value}" for kind, value in limits), "--", *renderer]


def main(arguments: list[str]) -> int:
    parent, *rest = arguments
    split = rest.index("--")
    limits = [tuple(int(part) for part in limit.split("=")) for limit in rest[:split]]
    renderer = rest[split + 1:]
    put_up(limits, int(parent), parent_death_signal())
    # Python starts with these ignored, and an exec keeps that: restored, as subprocess does,
    # so that output past its cap stops the renderer (SIGXFSZ) rather than failing a write.
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(number, signal.SIG_DFL)
    try:
        os.execv(renderer[0], renderer)
    except OSError as error:
        print(f"could not run {renderer[0]}: {error.strerror or error}", file=sys.stderr)
    return RUN_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
