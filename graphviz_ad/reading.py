"""Program text from a file or standard input: at most MAX_PROGRAM_BYTES read, decoded as UTF-8."""

from __future__ import annotations

import codecs
import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from graphviz_ad.errors import LimitError, UsageError

MAX_PROGRAM_BYTES = 5_000_000
STANDARD_INPUT_NAMES = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")
STANDARD_INPUT = "standard input"


def is_standard_input(argument: str) -> bool:
    return argument in STANDARD_INPUT_NAMES


def read_standard_input() -> str:
    """The program piped in; a closed or unreadable standard input is a typed error."""
    stream = sys.stdin
    if stream is None:
        raise UsageError("standard input is closed", None,
                         "pipe the program in (echo 'x*2' | gad grad - x=1), or give it as an "
                         "argument")
    try:
        return decode(_read_bounded(stream.buffer, STANDARD_INPUT), STANDARD_INPUT)
    except OSError as error:
        raise UsageError(f"cannot read {STANDARD_INPUT}: {error.strerror or error}") from None


def read_program_file(path: Path, shown: str) -> str:
    """A program file's text; `shown` is the name as the user typed it, for messages."""
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            if stat.S_ISREG(status.st_mode) and status.st_size > MAX_PROGRAM_BYTES:
                raise _too_long(shown, status.st_size)
            return decode(_read_bounded(handle, shown), shown)
    except OSError as error:
        raise UsageError(f"cannot read {shown}: {error.strerror or error}", None,
                         "check that the file exists and that you may read it") from None


def _read_bounded(handle: BinaryIO, shown: str) -> bytes:
    """One byte past the limit is enough to know it was passed: memory stays bounded."""
    data = handle.read(MAX_PROGRAM_BYTES + 1)
    if len(data) > MAX_PROGRAM_BYTES:
        raise _too_long(shown, None)
    return data


def _too_long(shown: str, size: int | None) -> LimitError:
    measured = f"{size:,} bytes" if size is not None else f"more than {MAX_PROGRAM_BYTES:,} bytes"
    return LimitError(f"{shown} has {measured}; the limit is {MAX_PROGRAM_BYTES:,}")


def decode(data: bytes, shown: str) -> str:
    """UTF-8, with or without a byte-order mark; a byte that is not UTF-8 is named by its
    position in the data as given, the mark included."""
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        position = skipped + error.start
        raise UsageError(f"{shown} is not UTF-8 text: byte {position} "
                         f"(0x{data[position]:02x}) cannot be decoded") from None
