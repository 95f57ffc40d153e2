"""Running a Graphviz renderer: chosen, run with a timeout, output checked, written atomically.

The only module that starts processes or writes image files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from graphviz_ad.errors import RenderError, UsageError, WriteError

AUTO = "auto"
SYSTEM_DOT = "dot"
PURE = "graphviz-pure"
RENDERERS = (AUTO, SYSTEM_DOT, PURE)
TEXT_FORMATS = ("dot", "json")
IMAGE_FORMATS = ("svg", "png", "pdf")
FORMATS = TEXT_FORMATS + IMAGE_FORMATS
DEFAULT_TIMEOUT = 60.0
PDF_HINT = ("PDF needs a system Graphviz: install it (Debian/Ubuntu: apt install graphviz; "
            "macOS: brew install graphviz; conda: conda install graphviz), or write .svg or .png")


@dataclass(frozen=True)
class Renderer:
    name: str
    executable: str

    def supports(self, image_format: str) -> bool:
        return image_format != "pdf" or self.name == SYSTEM_DOT


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
    """auto: a system `dot` when one is on PATH, else the bundled graphviz-pure."""
    if choice not in RENDERERS:
        raise UsageError(f"unknown renderer `{choice}`", None,
                         f"choose one of {', '.join(RENDERERS)}")
    system = shutil.which(SYSTEM_DOT) if choice in (AUTO, SYSTEM_DOT) else None
    if system:
        return Renderer(SYSTEM_DOT, system)
    if choice == SYSTEM_DOT:
        raise RenderError("no Graphviz `dot` on PATH", None,
                          "install Graphviz, or use --renderer graphviz-pure")
    if image_format == "pdf":
        raise RenderError("no system Graphviz `dot` on PATH, and only it writes PDF", None,
                          PDF_HINT)
    pure = _pure_executable()
    if pure is None:
        raise RenderError("graphviz-pure is not installed and there is no Graphviz `dot` on PATH",
                          None, "pip install graphviz-pure, or install Graphviz")
    return Renderer(PURE, pure)


def check_output(data: bytes, image_format: str) -> None:
    """Refuse empty or malformed renderer output before anything is written."""
    if not data:
        raise RenderError("the renderer printed nothing")
    if image_format == "png" and not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise RenderError("the renderer's output is not a PNG image")
    if image_format == "pdf" and not data.startswith(b"%PDF-"):
        raise RenderError("the renderer's output is not a PDF document")
    if image_format == "svg":
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as error:
            raise RenderError(f"the renderer's SVG does not parse: {error}") from None
        if not root.tag.endswith("svg"):
            raise RenderError("the renderer's output is not an SVG document")


def render(source: str, image_format: str, renderer: Renderer, timeout: float = DEFAULT_TIMEOUT,
           dpi: int | None = None) -> bytes:
    """DOT text in, image bytes out; the renderer is killed after `timeout` seconds."""
    if not renderer.supports(image_format):
        raise RenderError(f"{renderer.name} cannot write {image_format.upper()}", None, PDF_HINT)
    command = [renderer.executable, f"-T{image_format}"]
    if dpi is not None and image_format == "png":
        command.append(f"-Gdpi={dpi}")
    try:
        finished = subprocess.run(command, input=source.encode(), capture_output=True,
                                  timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{renderer.name} did not finish within {timeout:g} s and was stopped",
                          None, "raise --timeout, or draw less: --only-paths, --compact, "
                                "or --format dot") from None
    except OSError as error:
        raise RenderError(f"could not run {renderer.executable}: {error.strerror}") from None
    if finished.returncode != 0:
        message = finished.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {finished.returncode}"
        raise RenderError(f"{renderer.name} failed: {detail}")
    check_output(finished.stdout, image_format)
    return finished.stdout


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file beside `path`, then rename: never a partial file."""
    try:
        _write_through_temporary(path, data)
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from None


def _write_through_temporary(path: Path, data: bytes) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
