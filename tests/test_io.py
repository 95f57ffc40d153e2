"""Input and output at the edges: special files, standard streams, signals, the renderer's fences.

Special files are made in tmp_path (a fifo, device nodes made with os.mknod as root, a socket);
the machine's own /dev is never written.
"""

import os
import re
import resource
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphviz_ad import analyze, reading, signals
from graphviz_ad.api import load
from graphviz_ad.errors import LimitError, RenderError, UsageError
from graphviz_ad.render import backend, fence
from graphviz_ad.render.backend import png_dimensions
from graphviz_ad.render.formats import check_output
from tests.conftest import FAKE_LAYOUT, fake_dot, gad

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "seed.gad"
runner = CliRunner()
NULL_DEVICE = os.makedev(1, 3)
FULL_DEVICE = os.makedev(1, 7)




def gad_process(*arguments, prefix=(), **options):
    """`gad` as its own process, for what only a process has: closed streams, signals, a uid."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run([*prefix, sys.executable, "-m", "graphviz_ad",
                           *[str(argument) for argument in arguments]], timeout=60, **options)


def device(path: Path, number: int) -> Path:
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, number)
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path


def without_privileges() -> list[str]:
    """A prefix that runs a command without root's power to read and search anything."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root reads every file, and there is no setpriv to drop that power")
    return [setpriv, "--inh-caps=-all", "--bounding-set=-all"]


def png(width: int, height: int, tail: bytes = b"") -> bytes:
    """A PNG of one grey level, built by hand: signature, IHDR, IDAT, IEND."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    rows = (b"\0" + b"\x80" * width) * height
    return (backend.PNG_SIGNATURE
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"") + tail)


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG whose header claims `width` x `height` pixels over a few bytes of
    image data: what a misbehaving renderer might print, at no cost to build."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    return (backend.PNG_SIGNATURE
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


# Special files as outputs (issue 8, item 1)

def test_a_character_device_is_written_in_place_never_replaced(tmp_path):
    null = device(tmp_path / "null", NULL_DEVICE)
    result = gad("graph", "x*2", "x=1", "-o", null, "--format", "svg")
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(null.stat().st_mode) and null.stat().st_rdev == NULL_DEVICE
    assert sorted(path.name for path in tmp_path.iterdir()) == ["null"]


def test_a_full_device_is_a_write_error_and_stays_a_device(tmp_path):
    full = device(tmp_path / "full", FULL_DEVICE)
    result = gad("graph", "x*2", "x=1", "-o", full, "--format", "dot")
    assert result.exit_code == 1
    assert f"cannot write {full}: No space left on device" in result.stderr
    assert stat.S_ISCHR(full.stat().st_mode)


def test_a_named_pipe_is_written_in_place_for_its_reader(tmp_path):
    fifo = tmp_path / "picture.dot"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = gad("graph", "x*2", "x=1", "-o", fifo)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert received[0].startswith(b"digraph graphviz_ad {")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_socket_is_sent_the_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: a socket's name has at most 107 bytes
    received = bytearray()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("picture.sock")
        server.listen(1)

        def serve():
            connection, _ = server.accept()
            with connection:
                while chunk := connection.recv(65536):
                    received.extend(chunk)

        listener = threading.Thread(target=serve, daemon=True)
        listener.start()
        result = gad("graph", "x*2", "x=1", "-o", "picture.sock", "--format", "dot")
        listener.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert received.startswith(b"digraph graphviz_ad {")
    assert stat.S_ISSOCK(os.stat("picture.sock").st_mode)


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_names_of_standard_output_mean_standard_output(name):
    # Through typer's runner, standard output is a buffer in memory: opening `name` would have
    # reached the test process's real descriptor 1 instead.
    result = gad("graph", "x*2", "x=1", "-o", name)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("digraph graphviz_ad {")
    assert result.stderr == ""


def test_a_block_device_is_refused_before_any_work(tmp_path):
    try:
        os.mknod(tmp_path / "disk", stat.S_IFBLK | 0o600, os.makedev(7, 0))
    except PermissionError:
        pytest.skip("making a device node needs root")
    result = gad("graph", "x*2", "x=1", "-o", tmp_path / "disk", "--format", "dot")
    assert result.exit_code == 2 and "is a block device" in result.stderr
    assert stat.S_ISBLK((tmp_path / "disk").stat().st_mode)


def test_a_replaced_file_keeps_its_mode(tmp_path):
    out = tmp_path / "picture.dot"
    out.write_text("old picture")
    out.chmod(0o600)
    assert gad("graph", "x*2", "x=1", "-o", out).exit_code == 0
    assert out.read_text().startswith("digraph graphviz_ad {")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_new_file_gets_the_usual_mode_from_the_umask(tmp_path):
    old_umask = os.umask(0o027)
    try:
        assert gad("graph", "x*2", "x=1", "-o", tmp_path / "picture.dot").exit_code == 0
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "picture.dot").stat().st_mode) == 0o640


def test_a_symbolic_link_is_kept_and_the_file_it_names_replaced(tmp_path):
    target = tmp_path / "real.dot"
    target.write_text("old picture")
    link = tmp_path / "link.dot"
    link.symlink_to(target.name)
    assert gad("graph", "x*2", "x=1", "-o", link).exit_code == 0
    assert link.is_symlink() and target.read_text().startswith("digraph graphviz_ad {")


# File names and folders (item 11)

def test_a_255_byte_name_is_written_and_a_256_byte_name_refused(tmp_path):
    legal = tmp_path / ("a" * 251 + ".dot")
    result = gad("graph", "x*2", "x=1", "-o", legal)
    assert result.exit_code == 0, result.stderr
    assert legal.read_text().startswith("digraph")
    result = gad("graph", "x*2", "x=1", "-o", tmp_path / ("b" * 252 + ".dot"))
    assert result.exit_code == 2
    assert "has 256 bytes; the limit is 255" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [legal.name]


def test_a_path_with_a_nul_is_a_usage_error_not_an_internal_one(tmp_path):
    """No argument of a command line can hold a NUL; the library's paths can."""
    analysis = analyze("x * 2", x=1)
    nul = "holds a NUL character, which no file name can"
    for attempt, message in [(lambda: check_output(str(tmp_path / "a\0b.svg")), nul),
                             (lambda: analysis.save(str(tmp_path / "a\0b.dot")), nul),
                             (lambda: analysis.save(str(tmp_path / "a\0b.png")), nul),
                             (lambda: load(str(tmp_path / "p\0.gad")), "no such file")]:
        with pytest.raises(UsageError, match=message) as caught:
            attempt()
        assert caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_an_unsearchable_output_folder_is_a_usage_error(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o000)
    result = gad_process("graph", "x*2", "x=1", "-o", closed / "picture.dot",
                         prefix=without_privileges())
    assert result.returncode == 2, result.stderr
    assert b"cannot reach" in result.stderr and b"Permission denied" in result.stderr
    assert b"internal error" not in result.stderr


def test_an_unreadable_program_file_is_a_usage_error(tmp_path):
    program = tmp_path / "secret.gad"
    program.write_text("x * 2")
    program.chmod(0o000)
    result = gad_process("grad", program, "x=1", prefix=without_privileges())
    assert result.returncode == 2, result.stderr
    assert f"cannot read {program}: Permission denied".encode() in result.stderr


# Standard input (item 3)

class EndlessInput:
    """A standard input that never ends (`yes 'x+'`), counting the bytes asked of it."""

    def __init__(self):
        self.asked = 0
        self.buffer = self

    def read(self, size=-1):
        assert size >= 0, "read everything from an endless stream"
        self.asked += size
        return (b"x+" * (size // 2 + 1))[:size]


def test_standard_input_is_read_no_further_than_one_byte_past_the_limit(monkeypatch):
    endless = EndlessInput()
    monkeypatch.setattr(sys, "stdin", endless)
    with pytest.raises(LimitError, match="standard input has more than 5,000,000 bytes; the "
                                         "limit is 5,000,000"):
        reading.read_standard_input()
    assert endless.asked == reading.MAX_PROGRAM_BYTES + 1


@pytest.mark.parametrize("data, message", [
    (b"x \xff", "standard input is not UTF-8 text: byte 2 (0xff) cannot be decoded"),
    (b"\xef\xbb\xbfx * \xc3", "standard input is not UTF-8 text: byte 7 (0xc3) cannot be decoded"),
])
def test_standard_input_is_decoded_as_a_file_is(data, message):
    result = gad("grad", "-", "x=1", input=data)
    assert result.exit_code == 2 and message in result.stderr


def test_standard_input_with_a_byte_order_mark_reads_as_a_file_does():
    result = gad("grad", "-", "x=3", "--json", "--no-check", input=b"\xef\xbb\xbfx * 2\r\n")
    assert result.exit_code == 0, result.stderr
    assert '"gradient": {"x": 2.0}' in result.stdout


def test_a_closed_standard_input_is_a_usage_error():
    result = gad_process("grad", "-", "x=1", stdin=None, preexec_fn=lambda: os.close(0))
    assert result.returncode == 2
    assert b"error[usage]: standard input is closed" in result.stderr


# Standard output (item 11)

def test_a_closed_standard_output_fails_with_exit_1():
    result = gad_process("grad", "x*2", "x=1", stdout=None, preexec_fn=lambda: os.close(1))
    assert result.returncode == 1
    assert b"error[write]: standard output is closed" in result.stderr


def test_standard_output_on_a_full_disk_fails_with_exit_1(tmp_path):
    full = device(tmp_path / "full", FULL_DEVICE)
    with open(full, "wb") as stdout:
        result = gad_process("grad", "x*2", "x=1", stdout=stdout)
    assert result.returncode == 1
    assert result.stderr.decode() == ("error[write]: cannot write standard output: No space "
                                      "left on device\n")


@pytest.mark.parametrize("arguments", [["ops"], ["grad", "x*2", "x=1", "--json"],
                                       ["graph", "x*2", "x=1"]])
def test_a_reader_that_went_away_ends_the_run_quietly(arguments):
    reading_end, writing_end = os.pipe()
    os.close(reading_end)
    try:
        result = gad_process(*arguments, stdout=writing_end)
    finally:
        os.close(writing_end)
    assert result.returncode == 1 and result.stderr == b""


@pytest.mark.parametrize("seconds", ["inf", "nan", "-inf"])
def test_a_timeout_that_is_not_a_finite_number_is_a_usage_error(tmp_path, seconds):
    result = gad("graph", "x*2", "x=1", "-o", tmp_path / "g.svg", "--timeout", seconds)
    assert result.exit_code == 2
    assert "--timeout" in result.stderr
    assert list(tmp_path.iterdir()) == []


# Signals (item 7)

def gone(pid: int) -> bool:
    """No such process, or only its exit status is left (a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


SLEEPING_RENDERER = 'sleep 30 &\necho "$$ $!" > "{folder}/pids"\nwait'


@pytest.mark.parametrize("number, status, said", [
    (signal.SIGINT, 130, b"interrupted"),
    (signal.SIGTERM, 143, b"stopped by SIGTERM"),
    (signal.SIGHUP, 129, b"stopped by SIGHUP"),
])
def test_a_signal_stops_the_run_and_its_renderer_and_leaves_the_old_output(tmp_path, number,
                                                                           status, said):
    folder = tmp_path / "bin"
    folder.mkdir()
    env = {**os.environ, **fake_dot(folder, SLEEPING_RENDERER.format(folder=folder))}
    out = tmp_path / "out"
    out.mkdir()
    (out / "seed.svg").write_bytes(b"old picture")
    process = subprocess.Popen([sys.executable, "-m", "graphviz_ad", "graph", str(SEED), "-o",
                                str(out / "seed.svg"), "--renderer", "dot"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    pids = folder / "pids"
    assert wait_for(lambda: pids.exists() and pids.read_text().endswith("\n"))
    process.send_signal(number)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == status, stderr
    assert said in stderr and b"Traceback" not in stderr
    assert [path.name for path in out.iterdir()] == ["seed.svg"]
    assert (out / "seed.svg").read_bytes() == b"old picture"
    renderer, its_child = (int(pid) for pid in pids.read_text().split())
    assert wait_for(lambda: gone(renderer) and gone(its_child), 10)


def _without_core_dumps() -> None:
    """SIGQUIT dumps core by default: a limit of one byte makes the kernel write none, not even
    to a core_pattern pipe (core(5)), so the test leaves nothing on the machine."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (1, 1))
    except ValueError:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)  # a shell's background job ignores it


# gad, its renderer started through the fence's script (render/fence.py), as when gad is large.
THROUGH_THE_FENCE_SCRIPT = """
import sys
from graphviz_ad import cli
from graphviz_ad.render import backend

backend.FORK_AT_MOST_BYTES = 0
sys.argv = ["gad", *sys.argv[1:]]
cli.main()
"""
# The two ways the renderer is started: forked (a small gad), or through the fence's script.
STARTS = {"forked": ["-m", "graphviz_ad"], "through the script": ["-c", THROUGH_THE_FENCE_SCRIPT]}


@pytest.fixture(params=["forked", "through the script"])
def started(request, monkeypatch):
    """Each way of starting the renderer, for the tests that run gad in this process."""
    if request.param == "through the script":
        monkeypatch.setattr(backend, "FORK_AT_MOST_BYTES", 0)
    return request.param


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a parent-death signal is "
                                                                 "Linux's (prctl)")
@pytest.mark.parametrize("number", [signal.SIGKILL, signal.SIGQUIT])
@pytest.mark.parametrize("start", STARTS)
def test_the_renderer_dies_with_gad_even_when_gad_cleans_nothing_up(tmp_path, number, start):
    """SIGKILL and SIGQUIT end gad without running a handler: the kernel kills the renderer."""
    folder = tmp_path / "bin"
    folder.mkdir()
    pid_file = folder / "pid"
    env = {**os.environ, **fake_dot(folder, f'echo $$ > "{pid_file}"\nexec sleep 30')}
    process = subprocess.Popen([sys.executable, *STARTS[start], "graph", str(SEED), "-o",
                                str(tmp_path / "seed.svg"), "--renderer", "dot"], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                               preexec_fn=_without_core_dumps)
    assert wait_for(lambda: pid_file.exists() and pid_file.read_text().endswith("\n"))
    renderer = int(pid_file.read_text())
    assert not gone(renderer)
    process.send_signal(number)
    assert process.wait(timeout=30) == -number
    assert wait_for(lambda: gone(renderer), 10)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin"]


# A signal that comes after the command's own handling of interruptions, while typer finishes:
# typer turns the interruption into status 130 and says nothing.
LATE_SIGNAL = """
import os, signal, sys
from contextlib import contextmanager
from graphviz_ad import cli

handled = cli._user_errors


@contextmanager
def then_a_signal():
    try:
        with handled():
            yield
    finally:
        os.kill(os.getpid(), signal.{name})


cli._user_errors = then_a_signal
sys.argv = ["gad", *sys.argv[1:]]
cli.main()
"""


@pytest.mark.parametrize("number, status, said", [
    (signal.SIGTERM, 143, b"stopped by SIGTERM"),
    (signal.SIGHUP, 129, b"stopped by SIGHUP"),
    (signal.SIGINT, 130, b"interrupted"),
])
@pytest.mark.parametrize("arguments", [["eval", "x * 2", "x=1"], ["eval", "x +* 2"]])
def test_a_late_signal_still_ends_with_its_status_and_message(number, status, said, arguments):
    script = LATE_SIGNAL.replace("{name}", signal.Signals(number).name)
    result = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True,
                            check=False, timeout=60,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert result.returncode == status, result.stderr
    assert result.stderr.endswith(said + b"\n") and b"Traceback" not in result.stderr


def test_a_signal_as_the_command_line_ends_decides_the_status(monkeypatch):
    """Raised from the handler while the process is already exiting with status 0."""
    saved = {number: signal.getsignal(number) for number in signals.STOPPING_SIGNALS}
    said = []

    def finished_then_stopped():
        os.kill(os.getpid(), signal.SIGTERM)
        raise SystemExit(0)

    monkeypatch.setattr(signals, "_holding", 0)
    monkeypatch.setattr(signals, "_first", [])
    monkeypatch.setattr(signals, "_pending", [])
    try:
        with pytest.raises(SystemExit) as ended:
            signals.run(finished_then_stopped, said.append)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
    assert ended.value.code == 143 and said == ["stopped by SIGTERM"]


def test_a_renderer_past_its_timeout_is_killed_with_everything_it_started(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    env = fake_dot(folder, SLEEPING_RENDERER.format(folder=folder))
    result = gad("graph", SEED, "-o", tmp_path / "seed.svg", "--renderer", "dot", "--timeout",
                 "1", env=env)
    assert result.exit_code == 1 and "did not finish within 1 s" in result.stderr
    renderer, its_child = (int(pid) for pid in (folder / "pids").read_text().split())
    assert wait_for(lambda: gone(renderer) and gone(its_child), 10)


def test_an_ignored_hangup_stays_ignored(monkeypatch):
    monkeypatch.setattr(signal, "signal", lambda number, handler: installed.append(number))
    monkeypatch.setattr(signal, "getsignal", lambda number: signal.SIG_IGN
                        if number == signal.SIGHUP else signal.SIG_DFL)
    installed = []
    signals.stop_on_signals()
    assert installed == [signal.SIGINT, signal.SIGTERM]


def test_a_signal_in_a_held_step_is_acted_on_when_the_step_is_done():
    saved = {number: signal.getsignal(number) for number in signals.STOPPING_SIGNALS}
    steps = []
    try:
        signals.stop_on_signals()
        with pytest.raises(signals.Stopped) as stopped:
            with signals.held():
                os.kill(os.getpid(), signal.SIGTERM)
                steps.append("the rest of the step")
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # a second one would end us
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
    assert steps == ["the rest of the step"] and stopped.value.number == signal.SIGTERM


# The renderer's fences (item 8)

@pytest.mark.parametrize("data, message", [
    (backend.PNG_SIGNATURE + b"garbage" * 10, "the chunk at byte 8 is malformed"),
    (backend.PNG_SIGNATURE, "it ends before its end chunk (IEND)"),
    (png(4, 3)[:-3], "it ends inside a chunk"),
    (png(4, 3).replace(b"IHDR", b"IHDr"), "the IHDr chunk at byte 8 fails its CRC"),
    (png(4, 3)[:-12], "it ends before its end chunk (IEND)"),
    (png(4, 3, tail=b"more"), "4 bytes follow its end (IEND)"),
    (png(4, 3)[:8] + png(4, 3)[33:], "it does not start with its header (IHDR)"),
    (png(0, 3), "its header gives it no pixels"),
    (b"GIF89a", "the renderer's output is not a PNG image"),
])
def test_a_png_is_walked_chunk_by_chunk_to_its_end(data, message):
    with pytest.raises(RenderError, match=re.escape(message)):
        png_dimensions(data)


def test_a_well_formed_png_gives_its_size():
    assert png_dimensions(png(4, 3)) == (4, 3)


def test_a_png_without_image_data_is_refused():
    whole = png(4, 3)
    header_end = 8 + 25
    image_end = whole.index(b"IEND") - 4
    with pytest.raises(RenderError, match=r"it has no image data \(IDAT\)"):
        png_dimensions(whole[:header_end] + whole[image_end:])


def test_png_resolution_is_lowered_to_stay_within_the_pixel_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(backend, "MAX_PNG_PIXELS", 300_000)
    out = tmp_path / "seed.png"
    result = gad("graph", SEED, "-o", out, "--dpi", "1200", "--renderer", "graphviz-pure")
    assert result.exit_code == 0, result.stderr
    width, height = png_dimensions(out.read_bytes())
    assert width * height <= 300_000
    note = result.stderr.split("note: ")[1].split(" dpi, not 1200")[0]
    dpi = int(note.removeprefix("drawn at "))
    assert 30 <= dpi < 1200
    assert width * height > 300_000 * ((dpi - 8) / dpi) ** 2  # not lowered further than needed


def test_png_that_cannot_fit_even_at_the_lowest_dpi_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(backend, "MAX_PNG_PIXELS", 1000)
    result = gad("graph", SEED, "-o", tmp_path / "seed.png", "--renderer", "graphviz-pure")
    assert result.exit_code == 2
    assert "even at 30 dpi a PNG of it passes 1,000 pixels, the limit" in result.stderr
    assert list(tmp_path.iterdir()) == []


def drawing_by_dpi(tmp_path, pngs: dict[int, bytes]) -> dict:
    """A fake renderer that lays out as FAKE_LAYOUT and draws, for the -Gdpi it is given, the
    PNG of `pngs` at that dpi; returns the environment that finds it."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for dpi, data in pngs.items():
        (folder / f"{dpi}.png").write_bytes(data)
    return fake_dot(folder, FAKE_LAYOUT + 'cat > /dev/null\n'
                    'for given; do case $given in -Gdpi=*) dpi=${given#-Gdpi=};; esac; done\n'
                    f'cat "{folder}/$dpi.png"')


def test_a_png_drawn_larger_than_its_layout_is_drawn_again_to_fit(tmp_path, monkeypatch):
    monkeypatch.setattr(backend, "MAX_PNG_PIXELS", 100_000)
    # Laid out as 2 x 1 inches (FAKE_LAYOUT), estimated as 2.5 x 1.5, but drawn 4 x 2 inches:
    # at 144 dpi that is 576 x 288 = 165,888 pixels, so 8 square inches allow 111 dpi.
    env = drawing_by_dpi(tmp_path, {144: png(576, 288), 111: png(444, 222)})
    out = tmp_path / "seed.png"
    result = gad("graph", SEED, "-o", out, "--renderer", "dot", env=env)
    assert result.exit_code == 0, result.stderr
    assert "drawn at 111 dpi, not 144" in result.stderr
    assert png_dimensions(out.read_bytes()) == (444, 222)


@pytest.mark.parametrize("width, height, drawn", [
    (5000, 4000, "34.7 × 27.8 inches"),
    (100_000, 100_000, "694.4 × 694.4 inches"),
])
def test_a_renderer_that_draws_far_larger_than_its_layout_is_a_render_error(tmp_path, width,
                                                                            height, drawn):
    """Laid out as 2.5 x 1.5 inches with the padding: a PNG of many times that is the
    renderer's fault, said with the figures it gave, not a limit of ours on the picture."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "huge.png").write_bytes(png_claiming(width, height))
    env = fake_dot(folder, FAKE_LAYOUT + f'cat > /dev/null; cat "{folder}/huge.png"')
    result = gad("graph", SEED, "-o", tmp_path / "seed.png", "--renderer", "dot", env=env)
    assert result.exit_code == 1, result.stderr
    assert (f"error[render]: the renderer drew {width:,} × {height:,} pixels at 144 dpi, {drawn}, "
            "for a layout of 2.5 × 1.5 inches") in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin"]


def test_a_renderer_still_past_the_budget_when_drawn_again_is_a_render_error(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(backend, "MAX_PNG_PIXELS", 100_000)
    # 600 x 300 at 144 dpi (4.2 x 2.1 inches, within 2 inches of the layout): 180,000 pixels, so
    # 8.7 square inches allow 107 dpi; drawn again it gives 470 x 250, still 117,500 pixels.
    env = drawing_by_dpi(tmp_path, {144: png_claiming(600, 300), 107: png_claiming(470, 250)})
    result = gad("graph", SEED, "-o", tmp_path / "seed.png", "--renderer", "dot", env=env)
    assert result.exit_code == 1, result.stderr
    assert "the renderer drew 470 × 250 pixels at 107 dpi; the limit is 100,000" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin"]


def test_the_renderer_is_started_through_the_fence_script_past_the_size_a_fork_is_cheap_at(
        monkeypatch):
    monkeypatch.setattr(backend, "FORK_AT_MOST_BYTES", 1 << 50)
    command, setup = backend._fenced(["/usr/bin/dot", "-Tsvg"])
    assert command == ["/usr/bin/dot", "-Tsvg"] and callable(setup)
    monkeypatch.setattr(backend, "FORK_AT_MOST_BYTES", 0)
    command, setup = backend._fenced(["/usr/bin/dot", "-Tsvg"])
    assert command[:4] == [sys.executable, "-I", "-S", str(Path(fence.__file__))]
    assert command[4] == str(os.getpid()) and command[-3:] == ["--", "/usr/bin/dot", "-Tsvg"]
    assert setup is None


def test_a_renderer_that_cannot_be_run_is_a_render_error(tmp_path, started):
    folder = tmp_path / "bin"
    folder.mkdir()
    env = fake_dot(folder, "")
    (folder / "dot").write_text("#!/nonexistent/interpreter\n")
    result = gad("graph", SEED, "-o", tmp_path / "seed.svg", "--renderer", "dot", env=env)
    assert result.exit_code == 1, result.stderr
    assert re.search(r"could not run \S*/bin/dot: No such file or directory", result.stderr)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin"]


def test_the_renderer_runs_within_a_memory_cap(tmp_path, started):
    folder = tmp_path / "bin"
    folder.mkdir()
    two_gigabytes = 2 << 30
    env = fake_dot(folder, f"exec {sys.executable} -c 'bytearray({two_gigabytes})'")
    result = gad("graph", SEED, "-o", tmp_path / "seed.svg", "--renderer", "dot", env=env)
    assert result.exit_code == 1
    assert "MemoryError" in result.stderr
    assert "the renderer may use at most 1,024 MiB of memory" in result.stderr


def test_the_renderer_output_is_capped(tmp_path, monkeypatch, started):
    monkeypatch.setattr(backend, "MAX_RENDERER_OUTPUT_BYTES", 10_000)
    folder = tmp_path / "bin"
    folder.mkdir()
    env = fake_dot(folder, "exec yes '<svg>'")
    result = gad("graph", SEED, "-o", tmp_path / "seed.svg", "--renderer", "dot", env=env)
    assert result.exit_code == 1
    assert "dot printed more than 10,000 bytes, the limit, and was stopped" in result.stderr


def test_only_the_last_lines_of_a_renderers_errors_are_shown(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    script = ("yes 'Warning: the same complaint again' | head -n 300000 >&2\n"
              "printf 'Error: \\033[31mthe last words\\n' >&2\nexit 3")
    env = fake_dot(folder, script)
    result = gad("graph", SEED, "-o", tmp_path / "seed.svg", "--renderer", "dot", env=env)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "error[render]: dot failed:"
    assert lines[1:5] == ["  Warning: the same complaint again"] * 4
    assert lines[5] == "  Error: ?[31mthe last words"
    assert len(result.stderr) < 1000
