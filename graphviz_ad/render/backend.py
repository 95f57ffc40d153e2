"""Running a Graphviz renderer: chosen, fenced in, stopped on time, its output checked.

The only module that starts processes. The renderer runs in its own process group, which is
killed when we time out or are stopped, with caps on its memory and output; only the end of
what it prints on standard error is passed on.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable
from xml.etree import ElementTree

from graphviz_ad import signals
from graphviz_ad.errors import LimitError, RenderError
from graphviz_ad.options import DEFAULT_TIMEOUT, RENDERERS
from graphviz_ad.render import fence

AUTO, SYSTEM_DOT, PURE = RENDERERS
GRAPHVIZ_DPI = 96  # Graphviz's own resolution when none is given
MIN_DPI = 30  # the least --dpi accepts; a PNG that needs less is refused
# The largest PNG drawn, 4096 x 4096. dot holds about 4.5 bytes a pixel while drawing (158 MB
# for 35 megapixels), so this is about 75 MB and well under a second; the largest picture
# --max-nodes allows still gets about 65 dpi, where 12-point text is 11 pixels high. Past it
# the resolution is lowered to fit, with a note (docs/errors.md).
MAX_PNG_PIXELS = 4096 * 4096
# Inches around the layout's bounding box, for the graph's `pad` on each side (0.2 in dot.py).
PAD_INCHES = 0.5
# How much wider or higher than its layout a renderer may draw a PNG (graphviz-pure adds up to an
# inch for the graph's label; dot and graphviz-pure draw the samples a little smaller than laid
# out). Past it the renderer misbehaved: a resolution fitted to that size would rest on nothing.
DRAWN_MARGIN_INCHES = 2.0
# A second guard, should an estimate be wrong: the renderer's address space and output size.
RENDERER_MEMORY_BYTES = 1 << 30
MAX_RENDERER_OUTPUT_BYTES = 128 << 20
# Past this resident size we start the renderer through the fence's script rather than a fork:
# forking copies our page tables (75-90 ms at 2 GB of torch tensors; the script costs 14 ms).
FORK_AT_MOST_BYTES = 512 << 20
# Only the end of what a renderer prints on standard error is shown.
RELAYED_ERROR_BYTES = 2000
RELAYED_ERROR_LINES = 5
RELAYED_LINE_CHARACTERS = 300
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LESS_HINT = "draw less: --only-paths (with --wrt), --compact, or --format dot"


@dataclass(frozen=True)
class Renderer:
    name: str
    executable: str


def _pure_executable() -> str | None:
    """graphviz-pure's `dot`, found through the installed package's own file list, so it is
    found with its scripts folder off PATH (`pip install --user`, a venv not activated)."""
    from importlib import metadata

    try:
        files = metadata.distribution(PURE).files or ()
    except metadata.PackageNotFoundError:
        return shutil.which(PURE)
    for file in files:
        if file.stem == PURE and file.parent.name in ("bin", "Scripts"):
            located = Path(file.locate()).resolve()
            if located.is_file() and os.access(located, os.X_OK):
                return str(located)
    return shutil.which(PURE)


def find_renderer(choice: str = AUTO, image_format: str = "svg") -> Renderer:
    """auto: a system `dot` when one is on PATH, else the bundled graphviz-pure (`choice` is
    one of RENDERERS, as DrawOptions checks)."""
    system = shutil.which(SYSTEM_DOT) if choice in (AUTO, SYSTEM_DOT) else None
    if system:
        return Renderer(SYSTEM_DOT, system)
    if choice == SYSTEM_DOT:
        raise RenderError("no Graphviz `dot` on PATH", None,
                          "install Graphviz, or use --renderer graphviz-pure")
    if image_format == "pdf":
        from graphviz_ad.render.pdf import require_converter

        require_converter()
    pure = _pure_executable()
    if pure is None:
        raise RenderError("graphviz-pure is not installed and there is no Graphviz `dot` on PATH",
                          None, "pip install graphviz-pure, or install Graphviz")
    return Renderer(PURE, pure)


@dataclass(frozen=True)
class Rendered:
    """Image bytes, and a note when the picture was drawn other than asked (a lower dpi)."""

    data: bytes
    note: str | None = None


def render(source: str, image_format: str, renderer: Renderer, timeout: float = DEFAULT_TIMEOUT,
           dpi: int | None = None) -> Rendered:
    """DOT text in, checked image bytes out; the renderer is stopped after `timeout` seconds.
    graphviz-pure writes no PDF: its SVG is converted (render/pdf.py)."""
    deadline = time.monotonic() + timeout
    if image_format == "png":
        return _render_png(source, renderer, timeout, deadline, dpi or GRAPHVIZ_DPI)
    if image_format == "pdf" and renderer.name == PURE:
        from graphviz_ad.render.pdf import svg_to_pdf

        svg = run_renderer(renderer, ["-Tsvg"], source.encode(), timeout, deadline)
        check_output(svg, "svg")
        data = svg_to_pdf(svg)
    else:
        data = run_renderer(renderer, [f"-T{image_format}"], source.encode(), timeout, deadline)
    check_output(data, image_format)
    return Rendered(data)


def _render_png(source: str, renderer: Renderer, timeout: float, deadline: float,
                asked: int) -> Rendered:
    """Lay out once (DOT with positions), choose a resolution that keeps the picture within
    MAX_PNG_PIXELS, then draw those positions (`-n2`: no second layout).

    A renderer may draw a little beyond the layout's bounding box (graphviz-pure: up to an
    inch, for the graph's label); then the picture is drawn once more, at the resolution its
    measured size allows.
    """
    layout = run_renderer(renderer, ["-Tdot"], source.encode(), timeout, deadline)
    width, height = drawing_inches(layout)
    dpi = _fitting_dpi(asked, width * height, (width, height))
    data = _draw(renderer, layout, dpi, timeout, deadline)
    pixels, drawn = _measure(data, dpi, (width, height))
    if pixels > MAX_PNG_PIXELS:
        dpi = _fitting_dpi(dpi, pixels / dpi ** 2, drawn)
        data = _draw(renderer, layout, dpi, timeout, deadline)
        pixels, _ = _measure(data, dpi, (width, height))
    if pixels > MAX_PNG_PIXELS:
        wide, high = png_dimensions(data)
        raise RenderError(f"the renderer drew {wide:,} × {high:,} pixels at {dpi} dpi; the "
                          f"limit is {MAX_PNG_PIXELS:,}")
    note = None if dpi == asked else (
        f"drawn at {dpi} dpi, not {asked}: the picture is {width:.1f} × {height:.1f} inches and "
        f"a PNG is kept within {MAX_PNG_PIXELS:,} pixels; .svg scales without limit")
    return Rendered(data, note)


def _fitting_dpi(asked: int, square_inches: float, size: tuple[float, float]) -> int:
    dpi = min(asked, math.floor(math.sqrt(MAX_PNG_PIXELS / square_inches)))
    if dpi < MIN_DPI:
        raise LimitError(f"the picture is {size[0]:,.0f} × {size[1]:,.0f} inches: even at "
                         f"{MIN_DPI} dpi a PNG of it passes {MAX_PNG_PIXELS:,} pixels, the limit",
                         None, f"write .svg or .pdf, which scale, or {LESS_HINT}")
    return dpi


def _draw(renderer: Renderer, layout: bytes, dpi: int, timeout: float, deadline: float) -> bytes:
    return run_renderer(renderer, ["-Kneato", "-n2", "-Tpng", f"-Gdpi={dpi}"], layout, timeout,
                        deadline)


def _measure(data: bytes, dpi: int,
             laid_out: tuple[float, float]) -> tuple[int, tuple[float, float]]:
    """The PNG's pixels and its width and height in inches, refused past the layout's by more
    than DRAWN_MARGIN_INCHES."""
    wide, high = png_dimensions(data)
    drawn = (wide / dpi, high / dpi)
    if any(size > layout + DRAWN_MARGIN_INCHES for size, layout in zip(drawn, laid_out)):
        raise RenderError(f"the renderer drew {wide:,} × {high:,} pixels at {dpi} dpi, "
                          f"{drawn[0]:,.1f} × {drawn[1]:,.1f} inches, for a layout of "
                          f"{laid_out[0]:,.1f} × {laid_out[1]:,.1f} inches")
    return wide * high, drawn


def drawing_inches(layout: bytes) -> tuple[float, float]:
    """Width and height of a laid-out graph, from the root graph's `bb` (the first one written),
    with its padding."""
    found = re.search(rb'\bbb="([^"]*)"', layout)
    try:
        left, bottom, right, top = (float(part) for part in found.group(1).split(b","))
    except (AttributeError, ValueError):
        raise RenderError("the renderer's layout has no bounding box") from None
    points = 72
    width, height = (right - left) / points + PAD_INCHES, (top - bottom) / points + PAD_INCHES
    if not (math.isfinite(width * height) and width > 0 and height > 0):
        raise RenderError("the renderer's layout has no bounding box")
    return width, height


def check_output(data: bytes, image_format: str) -> None:
    """Refuse a malformed SVG, PDF or JSON layout before anything is written (PNG:
    png_dimensions)."""
    if image_format == "pdf" and not data.startswith(b"%PDF-"):
        raise RenderError("the renderer's output is not a PDF document")
    if image_format == "json":
        try:
            json.loads(data)
        except ValueError as error:
            raise RenderError(f"the renderer's layout does not parse: {error}") from None
    if image_format == "svg":
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as error:
            raise RenderError(f"the renderer's SVG does not parse: {error}") from None
        if not root.tag.endswith("svg"):
            raise RenderError("the renderer's output is not an SVG document")


def png_dimensions(data: bytes) -> tuple[int, int]:
    """Width and height from IHDR, once every chunk from the signature to IEND has a length that
    fits and a CRC that matches (PNG specification, section 5)."""
    if not data:
        raise RenderError("the renderer printed nothing")
    if not data.startswith(PNG_SIGNATURE):
        raise RenderError("the renderer's output is not a PNG image")
    view = memoryview(data)
    position, size, seen = len(PNG_SIGNATURE), None, set()
    while True:
        if position == len(data):
            raise _broken_png("it ends before its end chunk (IEND)")
        if position + 12 > len(data):
            raise _broken_png(f"it ends inside a chunk, at byte {position:,}")
        length = int.from_bytes(view[position:position + 4], "big")
        kind = bytes(view[position + 4:position + 8])
        end = position + 12 + length
        if length > 0x7FFF_FFFF or end > len(data) or not kind.isalpha():
            raise _broken_png(f"the chunk at byte {position:,} is malformed")
        crc = int.from_bytes(view[end - 4:end], "big")
        if zlib.crc32(view[position + 8:end - 4], zlib.crc32(kind)) != crc:
            raise _broken_png(f"the {kind.decode()} chunk at byte {position:,} fails its CRC")
        if size is None:
            if kind != b"IHDR" or length != 13:
                raise _broken_png("it does not start with its header (IHDR)")
            size = (int.from_bytes(view[position + 8:position + 12], "big"),
                    int.from_bytes(view[position + 12:position + 16], "big"))
            if 0 in size:
                raise _broken_png("its header gives it no pixels")
        seen.add(kind)
        position = end
        if kind == b"IEND":
            break
    if b"IDAT" not in seen:
        raise _broken_png("it has no image data (IDAT)")
    if position != len(data):
        raise _broken_png(f"{len(data) - position:,} bytes follow its end (IEND)")
    return size


def _broken_png(why: str) -> RenderError:
    return RenderError(f"the renderer's PNG is broken: {why}")


def run_renderer(renderer: Renderer, arguments: list[str], given: bytes, timeout: float,
                 deadline: float) -> bytes:
    """Run the renderer on `given`, within its limits, and return what it printed.

    Standard input, output and error are anonymous temporary files: nothing stays on disk
    whatever happens, and the output file's size is capped by RLIMIT_FSIZE.
    """
    try:
        with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stdout, \
                tempfile.TemporaryFile() as stderr:
            stdin.write(given)
            stdin.seek(0)
            status = _wait(renderer, arguments, (stdin, stdout, stderr), timeout, deadline)
            if status != 0:
                raise _failure(renderer.name, status, stderr)
            stdout.seek(0)
            data = stdout.read()
    except OSError as error:
        raise RenderError(f"could not run {renderer.executable}: {error.strerror or error}") \
            from None
    if not data:
        raise RenderError("the renderer printed nothing")
    return data


def _wait(renderer: Renderer, arguments: list[str], streams: tuple[BinaryIO, ...],
          timeout: float, deadline: float) -> int:
    """The renderer's exit status; on a timeout or a signal (an exception here), its process
    group is killed before the exception goes on."""
    stdin, stdout, stderr = streams
    process = None
    try:
        command, setup = _fenced([renderer.executable, *arguments])
        with signals.held():  # started and known, or not started: never an orphan
            process = subprocess.Popen(command, stdin=stdin, stdout=stdout, stderr=stderr,
                                       start_new_session=True, preexec_fn=setup)
        return _exit_status(process, max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise RenderError(f"{renderer.name} did not finish within {timeout:g} s and was stopped",
                          None, f"raise --timeout, or {LESS_HINT}") from None
    finally:
        if process is not None and process.returncode is None:
            _stop(process)


def _exit_status(process: subprocess.Popen, timeout: float) -> int:
    """The process's exit status once it ends, within `timeout` (else TimeoutExpired). Woken by
    the kernel the moment it ends, where a pidfd can wait on it (Linux); Popen.wait polls with
    sleeps of up to 50 ms, a tenth of a small picture's time."""
    try:
        descriptor = os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        return process.wait(timeout)
    try:
        waiting = select.poll()  # not select(), which refuses a descriptor past 1023
        waiting.register(descriptor, select.POLLIN)
        if not waiting.poll(math.ceil(timeout * 1000)):
            raise subprocess.TimeoutExpired(process.args, timeout)
    finally:
        os.close(descriptor)
    return process.wait()


def _stop(process: subprocess.Popen) -> None:
    """Kill the renderer's whole process group (it and anything it started), then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _fenced(renderer: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    """The command that runs `renderer` behind its fence (render/fence.py), and the preexec
    function that puts the fence up, if any: in a fork while we are small; past
    FORK_AT_MOST_BYTES, through the fence's script, started by vfork."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak *= 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    if peak > FORK_AT_MOST_BYTES and sys.executable:
        return fence.command(_limits(), renderer), None
    return renderer, fence.child_setup(_limits())


def _limits() -> list[tuple[int, int]]:
    """Our caps, lowered to the hard limits already in force (a child cannot raise them)."""
    limits = []
    for kind, cap in ((resource.RLIMIT_AS, RENDERER_MEMORY_BYTES),
                      (resource.RLIMIT_FSIZE, MAX_RENDERER_OUTPUT_BYTES)):
        hard = resource.getrlimit(kind)[1]
        limits.append((kind, cap if hard == resource.RLIM_INFINITY else min(cap, hard)))
    return limits


def _failure(name: str, status: int, stderr: BinaryIO) -> RenderError:
    if status == -signal.SIGXFSZ:
        return RenderError(f"{name} printed more than {MAX_RENDERER_OUTPUT_BYTES:,} bytes, the "
                           "limit, and was stopped", None, LESS_HINT)
    lines = _last_lines(stderr)
    if status < 0:
        reason = f"{name} was killed by {_signal_name(-status)}"
    else:
        reason = f"{name} failed" + ("" if lines else f" with exit status {status}")
    if len(lines) == 1:
        reason += f": {lines[0]}"
    elif lines:
        reason += ":\n  " + "\n  ".join(lines)
    hint = None
    if status < 0 or "memory" in " ".join(lines).lower():
        hint = (f"the renderer may use at most {RENDERER_MEMORY_BYTES >> 20:,} MiB of memory; "
                f"{LESS_HINT}, or lower --dpi")
    return RenderError(reason, None, hint)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_lines(stderr: BinaryIO) -> list[str]:
    """The last few lines the renderer printed on standard error, each cut to a sensible length,
    with control characters shown as `?`."""
    size = stderr.seek(0, os.SEEK_END)
    stderr.seek(max(0, size - RELAYED_ERROR_BYTES))
    lines = stderr.read().decode("utf-8", errors="replace").splitlines()
    if size > RELAYED_ERROR_BYTES and len(lines) > 1:
        lines = lines[1:]  # the first is cut at its start
    shown = []
    for line in lines:
        line = "".join(char if char.isprintable() else "?" for char in line.strip())
        if len(line) > RELAYED_LINE_CHARACTERS:
            line = "…" + line[-RELAYED_LINE_CHARACTERS:]
        if line:
            shown.append(line)
    return shown[-RELAYED_ERROR_LINES:]
