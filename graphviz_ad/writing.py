"""Writing an output: standard output, devices, pipes and sockets in place; files replaced whole.

Only a regular file (or a missing one) is replaced, through a temporary file and a rename, so a
failure or a signal never leaves a partial file or damages the old one; the replaced file keeps
its mode. Anything else is written as it is, never renamed over.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from graphviz_ad.errors import UsageError, WriteError
from graphviz_ad.reading import check_path
from graphviz_ad.signals import held

STANDARD_OUTPUT_NAMES = ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
STANDARD_OUTPUT = "standard output"
NAME_MAX = 255  # bytes in one file name, where the file system does not say
# Short and fixed, so it fits beside any legal name: `.{name}.XXXX.tmp` would not beside a
# 255-byte one.
TEMPORARY_PREFIX = ".gad-"
TEMPORARY_SUFFIX = ".tmp"


def is_standard_output(target: str) -> bool:
    return target in STANDARD_OUTPUT_NAMES


def check_target(target: str) -> None:
    """Refuse an output path that cannot work, before anything is computed."""
    check_path(target)
    path = Path(target)
    name = os.fsencode(path.name)
    limit = _name_max(path.parent)
    if len(name) > limit:
        raise UsageError(f"the file name {_shortened(path.name)} has {len(name)} bytes; the limit "
                         f"is {limit}", None, "choose a shorter name")
    try:
        status = os.stat(path)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise UsageError(f"the folder {path.parent} does not exist", None,
                             "create it first") from None
        return
    except OSError as error:
        raise UsageError(f"cannot reach {target}: {error.strerror or error}", None,
                         "check the folders' permissions, or write somewhere else") from None
    if stat.S_ISDIR(status.st_mode):
        raise UsageError(f"{target} is a directory", None, "give a file name, e.g. -o graph.svg")
    if stat.S_ISBLK(status.st_mode):
        raise UsageError(f"{target} is a block device", None,
                         "write to a file, a character device, a pipe or a socket")


def refuse_overwriting(target: str, inputs: list[tuple[str, str]]) -> None:
    """Refuse an output that is a file the run reads (`inputs`: path and what it is): the same
    file by device and inode, however either is named (a symbolic or hard link, `./`).
    Standard output is written in place, never replaced."""
    if is_standard_output(target):
        return
    try:
        written = os.stat(target)
    except (OSError, ValueError):
        return  # not there yet, or not a file: nothing of ours to lose
    if not stat.S_ISREG(written.st_mode):
        return  # a device, pipe or socket is written in place, never replaced
    for path, what in inputs:
        try:
            read = os.stat(path)
        except (OSError, ValueError):
            continue  # reading it will say why
        if (read.st_dev, read.st_ino) == (written.st_dev, written.st_ino):
            raise UsageError(f"{target} is {what} itself", None, "write to another file")


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder if str(folder) else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        return NAME_MAX


def _shortened(name: str) -> str:
    return name if len(name) <= 40 else f"{name[:30]}…{name[-9:]}"


def write_output(target: str, data: bytes) -> None:
    """Write `data` to standard output or to the file, device, pipe or socket `target`."""
    if is_standard_output(target):
        write_standard_output(data)
        return
    check_path(target)
    try:
        try:
            status = os.stat(target)
        except FileNotFoundError:
            status = None
        if status is None or stat.S_ISREG(status.st_mode):
            # Through a symbolic link to the file it names: the link stays.
            _replace(Path(os.path.realpath(target)), data, status)
        elif stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode):
            _write_in_place(target, data)
        elif stat.S_ISSOCK(status.st_mode):
            _send(target, data)
        else:
            raise WriteError(f"cannot write {target}: it is not a file, a character device, a "
                             "pipe or a socket")
    except OSError as error:
        raise WriteError(f"cannot write {target}: {error.strerror or error}") from None


def _replace(path: Path, data: bytes, old: os.stat_result | None) -> None:
    """Signals wait until the rename is done: the old file or the new one, never a half."""
    with held():
        descriptor, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX,
                                                 dir=path.parent)
        try:
            with open(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            _take_over(temporary, old)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _take_over(temporary: str, old: os.stat_result | None) -> None:
    """The replaced file's mode (and owner, where allowed); a new file gets 0666 less umask."""
    if old is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        return
    os.chmod(temporary, stat.S_IMODE(old.st_mode))
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.chown(temporary, old.st_uid, old.st_gid)
        except PermissionError:
            pass


def _write_in_place(target: str, data: bytes) -> None:
    """A character device or a named pipe: opened for writing as it is (a pipe waits for its
    reader, as a shell's `>` does), never created, truncated or renamed over."""
    descriptor = os.open(target, os.O_WRONLY | os.O_NOCTTY)
    with open(descriptor, "wb") as handle:
        handle.write(data)


def _send(target: str, data: bytes) -> None:
    import socket  # here, not at the top: every command imports this module, few send

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(target)
        connection.sendall(data)


def write_standard_output(data: bytes) -> None:
    with standard_output() as stream:
        stream.buffer.write(data)


@contextmanager
def standard_output() -> Iterator[TextIO]:
    """sys.stdout, flushed on leaving: a closed or failing standard output is a WriteError.

    A reader that went away (a pipe into `head`) is not an error of ours: BrokenPipeError is
    left for the caller to end quietly.
    """
    stream = sys.stdout
    if stream is None:
        raise WriteError(f"{STANDARD_OUTPUT} is closed", None,
                         "send the output to a file or a pipe, or use -o FILE where there is one")
    try:
        yield stream
        stream.flush()
    except BrokenPipeError:
        _discard_pending(stream)
        raise
    except OSError as error:
        _discard_pending(stream)
        raise WriteError(f"cannot write {STANDARD_OUTPUT}: {error.strerror or error}") from None


class StandardOutput:
    """Standard output as a file for `print` and rich: sys.stdout as it is at each call, each
    write checked as `standard_output` checks it."""

    def write(self, text: str) -> int:
        with standard_output() as stream:
            return stream.write(text)

    def flush(self) -> None:
        with standard_output():
            pass

    def isatty(self) -> bool:
        return sys.stdout is not None and sys.stdout.isatty()

    def __getattr__(self, name: str):
        return getattr(sys.stdout, name)  # encoding, fileno, ... as the stream's


def _discard_pending(stream: TextIO) -> None:
    """Point the failed descriptor at the null device, so that Python's own flush at exit does
    not fail a second time with a traceback-like message."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)
