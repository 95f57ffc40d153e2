"""Program text and value files from disk or standard input, read with a bound on their size."""

from __future__ import annotations

import codecs
import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from graphviz_ad.errors import LimitError, UsageError

MAX_PROGRAM_BYTES = 5_000_000
MAX_VALUE_FILE_BYTES = 100_000_000  # a value file (NAME=@file): 10 million float64 is 80 MB
STANDARD_INPUT_NAMES = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")
STANDARD_INPUT = "standard input"


def is_standard_input(argument: str) -> bool:
    return argument in STANDARD_INPUT_NAMES


def read_standard_input() -> str:
    """The program piped in; a closed or unreadable standard input is a typed error."""
    return decode(read_standard_input_bytes(MAX_PROGRAM_BYTES), STANDARD_INPUT)


def read_standard_input_bytes(limit: int) -> bytes:
    """What is piped in, at most `limit` bytes (a program, or a value file with NAME=@-)."""
    stream = sys.stdin
    if stream is None:
        raise UsageError("standard input is closed", None,
                         "pipe the program in (echo 'x*2' | gad grad - x=1), or give it as an "
                         "argument")
    try:
        return _read_bounded(stream.buffer, STANDARD_INPUT, limit)
    except OSError as error:
        raise UsageError(f"cannot read {STANDARD_INPUT}: {error.strerror or error}") from None


def read_program_file(path: Path, shown: str) -> str:
    """A program file's text; `shown` is the name as the user typed it, for messages."""
    return decode(read_file(path, shown, MAX_PROGRAM_BYTES), shown)


def check_path(path: str | Path) -> None:
    """A path holding a NUL character names no file anywhere (the system's calls end a name at
    it); refused as such, never met as the ValueError Python raises for it."""
    if "\0" in os.fspath(path):
        raise UsageError(f"the path {os.fspath(path)!r} holds a NUL character, which no file name "
                         "can", None, "check how the path was made")


def read_file(path: Path, shown: str, limit: int) -> bytes:
    """A file's bytes, refused past `limit` before reading when its size is known."""
    check_path(path)
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            if stat.S_ISREG(status.st_mode) and status.st_size > limit:
                raise _too_long(shown, status.st_size, limit)
            return _read_bounded(handle, shown, limit)
    except OSError as error:
        raise UsageError(f"cannot read {shown}: {error.strerror or error}", None,
                         "check that the file exists and that you may read it") from None


def _read_bounded(handle: BinaryIO, shown: str, limit: int) -> bytes:
    """One byte past the limit is enough to know it was passed: memory stays bounded."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise _too_long(shown, None, limit)
    return data


def _too_long(shown: str, size: int | None, limit: int) -> LimitError:
    measured = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes"
    return LimitError(f"{shown} has {measured}; the limit is {limit:,}", None,
                      "give large arrays as value files, X=@data.npy, rather than as text"
                      if limit == MAX_PROGRAM_BYTES else
                      "save a smaller array, or save it as .npy (numpy.save), the most compact "
                      "of the formats")


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
