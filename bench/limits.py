"""How fast a refusal comes: `.venv/bin/python bench/limits.py [--only TEXT] [--timeout S]`.

docs/errors.md ("Limits and budgets") promises that an over-budget request ends within a second
or two and a few tens of MB, whatever its size. For each limit of its table that a command can
reach, this builds an input just past it in a temporary folder and runs the real `gad` (the one
beside this interpreter) in a fresh process, one at a time: wall time, peak resident memory
(`ru_maxrss` from `os.wait4` of that one child, which includes the renderer it waited for; the
child is started by a small launcher, whose 10 MB or so are a floor), exit status and the line
of the output that names the limit. Each case is checked to hit the limit it is
for: its line must match the case's pattern and the exit status must be the documented one;
a case that does not is marked `NOT HIT`. Two baselines, `python -c pass` and
`gad grad samples/seed.gad` (and `gad torch samples/torch_seed.py` when torch is importable),
give the scale; below the table, the cases past the promise are named: more than 2 s, or more
than 100 MB over `python -c pass` (a torch case: over the `gad torch` baseline). Some cases run
a second command for scale, such as the same one just under the limit. The table is Markdown,
for docs/performance.md.

Standard library only (inputs such as .npy files are written byte by byte). `--only TEXT` runs
the cases whose limit or input holds TEXT (the baselines always run; `--only=--max-nodes` for a
text that starts with a dash).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GAD = str(BIN / "gad")
PYTHON = str(BIN / "python")
PROMISE_SECONDS = 2.0
PROMISE_MB = 100  # over the interpreter's own base (`python -c pass`)
# A case's input, written into a folder: (the arguments after `gad`, a file for standard input)
Maker = Callable[[Path], tuple[list[str], "Path | None"]]


@dataclass(frozen=True)
class Case:
    limit: str
    what: str  # the input, in a few words
    make: Maker
    expect: str  # a regular expression the line naming the limit matches
    status: int = 2
    torch: bool = False
    # Another command for scale, where it says what the limit saves or costs: (what it is,
    # its maker), such as the same command just under the limit
    compare: tuple[str, Maker] | None = None


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    status: int
    line: str
    hit: bool
    compared: tuple[float, float, int] | None  # seconds, peak MB, exit status


# Writers of inputs -----------------------------------------------------------------------------

def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def write_npy(folder: Path, name: str, shape: tuple[int, ...]) -> Path:
    """A float64 .npy file of `shape` filled with ones, in chunks (format version 1.0)."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape!r}, }}"
    padding = 64 - (10 + len(header) + 1) % 64
    header = (header + " " * padding + "\n").encode("latin1")
    path = folder / name
    count = math.prod(shape)
    chunk = struct.pack("<d", 1.0) * 1_000_000
    with open(path, "wb") as handle:
        handle.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
        for start in range(0, count, 1_000_000):
            handle.write(chunk[:8 * min(1_000_000, count - start)])
    return path


def doubling(lines: int) -> str:
    """`y1 = y0 * y0` ...: 2^lines paths from x to the output (x = 1 keeps every value 1)."""
    return "y0 = x\n" + "".join(f"y{i} = y{i - 1} * y{i - 1}\n" for i in range(1, lines + 1))


def flat_sum(terms: int, term: str = "x") -> str:
    return "+".join([term] * terms)


def matrix_text(rows: int, columns: int) -> str:
    return "[" + ",".join(["[" + ",".join(["1"] * columns) + "]"] * rows) + "]"


# The cases -------------------------------------------------------------------------------------

def program_file(folder: Path):
    path = write(folder, "program.gad", "x" + "+x" * 2_500_000)  # 5,000,001 bytes
    return ["grad", str(path), "x=1"], None


def program_stdin(folder: Path):
    path = write(folder, "program.gad", "x" + "+x" * 2_500_000)
    return ["grad", "-", "x=1"], path


def long_number(folder: Path):
    return ["grad", "x*1" + "1" * 400, "x=1"], None


def nesting(folder: Path):
    return ["grad", "(" * 201 + "x" + ")" * 201, "x=1"], None


def array_depth(folder: Path):
    return ["grad", "x * sum(" + "[" * 33 + "1" + "]" * 33 + ")", "x=1"], None


def operators(folder: Path):
    return ["grad", str(write(folder, "flat.gad", flat_sum(2_000_001))), "x=1"], None


def built_nodes(folder: Path, operators: int = 1_000_001):
    # 1,000,001 operators, each with its constant: counted before parsing, 2,000,001 of them.
    return ["grad", str(write(folder, "constants.gad", "x" + "+1" * operators)), "x=1"], None


def negated_nodes(folder: Path, terms: int = 1_000_001):
    # -x + -x + ...: a sign is not counted before parsing (1,000,000 operators are not more
    # than MAX_NODES), so the builder refuses at its 2,000,001st node.
    return ["grad", str(write(folder, "signs.gad", "+".join(["-x"] * terms))), "x=1"], None


def outer_product(folder: Path):
    column, row = matrix_text(3163, 1), matrix_text(1, 3163)  # 3163² = 10,004,569
    return ["grad", "sum(a @ b)", f"a={column}", f"b={row}"], None


def npy_elements(folder: Path):
    return ["grad", "sum(x)", f"x=@{write_npy(folder, 'x.npy', (10_000_001,))}"], None


def csv_elements(folder: Path):
    line = ",".join(["1"] * 3163) + "\n"
    return ["grad", "sum(x)", f"x=@{write(folder, 'x.csv', line * 3163)}"], None


def json_elements(folder: Path):
    path = write(folder, "x.json", "[" + ",".join(["1"] * 10_000_001) + "]")
    return ["grad", "sum(x)", f"x=@{path}"], None


def held_elements(folder: Path):
    # x, x*2 and (x*2)*3 of 9,000,000 elements each: 27,000,000 held
    return ["grad", "sum(x*2*3)", f"x=@{write_npy(folder, 'x.npy', (9_000_000,))}"], None


def check_budget(folder: Path, elements: int = 16_000):
    # two replays per element of sin and sum: 2 · 16,000 · (16,000 + 2·64 + 1) = 516,128,000
    return ["grad", "sum(sin(x))", f"x=@{write_npy(folder, 'x.npy', (elements,))}"], None


def forward_budget(folder: Path):
    # one tangent sweep per element: 22,400 · (22,400 + 2·64 + 1) = 504,649,600
    return ["grad", "sum(sin(x))", f"x=@{write_npy(folder, 'x.npy', (22_400,))}", "--mode",
            "forward"], None


def all_paths(folder: Path):
    return ["paths", str(write(folder, "doubling.gad", doubling(14))), "x=1", "--wrt", "x",
            "--all"], None


def listed_edges(folder: Path):
    # 16,384 paths of up to 214 edges: the top 10,000 are up to 2,140,000 edges
    text = doubling(14) + "".join("y14 = sin(y14)\n" for _ in range(200))
    return ["paths", str(write(folder, "long.gad", text)), "x=1", "--wrt", "x", "--top",
            "10000"], None


def listing_work(folder: Path):
    # 16,384 paths over arrays of 10,000 elements: up to 290,016 elements' work each
    program = write(folder, "arrays.gad", doubling(14) + "sum(y14)\n")
    return ["paths", str(program), f"x=@{write_npy(folder, 'x.npy', (10_000,))}", "--wrt", "x",
            "--top", "10000"], None


def summary_visits(folder: Path):
    # 820 inputs summed in order: 1,008,190 node visits
    text = "".join(f"x{i} = 1\n" for i in range(820)) + "+".join(f"x{i}" for i in range(820))
    return ["paths", str(write(folder, "inputs.gad", text))], None


def count_bits(folder: Path, terms: int = 26_000):
    # 26,000 counts of 2^10000 (10,001 bits each) held at once: 260,026,000 bits; made in all,
    # about 50,000,000 + 2 · 260,026,000 bits, far below EXACT_COUNT_WORK
    text = doubling(10_000) + "".join(f"z{i} = y10000 * 2\n" for i in range(terms)) \
        + "+".join(f"z{i}" for i in range(terms)) + "\n"
    return ["paths", str(write(folder, "held.gad", text)), "x=1", "--wrt", "x", "--top",
            "1"], None


def count_work(folder: Path, lines: int = 101_000):
    # y = y + y - y: 3^k paths after k lines, about 1.585 k bits, made twice a line (the + and
    # the -): 1.585 · 101,000² = 16.2e9 bits in all, past EXACT_COUNT_WORK; the value stays x
    text = "y = x\n" + "y = y + y - y\n" * lines + "y\n"
    return ["paths", str(write(folder, "tripling.gad", text)), "x=1", "--wrt", "x", "--top",
            "1"], None


def jacobian(folder: Path):
    return ["grad", "W@x", f"W=@{write_npy(folder, 'W.npy', (3000, 3000))}",
            f"x=@{write_npy(folder, 'x.npy', (3000,))}", "--no-check"], None


def value_file_bytes(folder: Path):
    path = folder / "big.csv"
    with open(path, "wb") as handle:
        handle.truncate(100_000_001)  # sparse: the size is refused before a byte is read
    return ["grad", "sum(x)", f"x=@{path}"], None


def value_stdin_bytes(folder: Path):
    path = folder / "big.csv"
    with open(path, "wb") as handle:
        handle.truncate(100_000_001)
    return ["grad", "sum(x)", "x=@-"], path


def npy_dimensions(folder: Path):
    return ["grad", "sum(x)", f"x=@{write_npy(folder, 'x.npy', (1,) * 33)}"], None


def json_dimensions(folder: Path):
    return ["grad", "sum(x)", f"x=@{write(folder, 'x.json', '[' * 33 + '1' + ']' * 33)}"], None


def picture_nodes(folder: Path):
    return ["graph", str(ROOT / "samples/mlp300.gad"), "--expand-all", "-o",
            str(folder / "out.svg")], None


def picture_nodes_large(folder: Path):
    return ["graph", str(write(folder, "sum.gad", flat_sum(200_000, "sin(x)"))), "x=1",
            "--expand-all", "-o", str(folder / "out.svg")], None


def grad_of_large_sum(folder: Path):
    return ["grad", str(write(folder, "sum.gad", flat_sum(200_000, "sin(x)"))), "x=1",
            "--no-check"], None


def export_nodes(folder: Path):
    return ["graph", str(write(folder, "sum.gad", flat_sum(50_001))), "x=1", "--expand-all",
            "-o", str(folder / "out.dot")], None


def png_pixels(folder: Path):
    # 120 inputs in one rank (about an inch each) before a chain of 120 ranks (about 1.5
    # inches each): about 180 × 115 inches, past 4096² pixels even at 30 dpi. The pixels bound
    # the area, so a long chain alone never passes it; a grid of nodes would, but only past
    # thousands of nodes, which Graphviz takes minutes to lay out.
    text = "".join(f"x{i} = 0.{i}\n" for i in range(120)) \
        + "y = sum([" + ", ".join(f"x{i}" for i in range(120)) + "])\n" \
        + "y = sin(y)\n" * 120 + "y\n"
    return ["graph", str(write(folder, "fan.gad", text)), "--expand-all", "--max-nodes", "400",
            "-o", str(folder / "out.png")], None


def trace_rows(folder: Path):
    # n terms are 3n - 2 steps: the n - 1 sums forward, the seed, 2n - 2 adjoint updates
    return ["trace", str(write(folder, "sum.gad", flat_sum(3_335))), "x=1"], None


def trace_steps(folder: Path):
    return ["trace", str(write(folder, "sum.gad", flat_sum(33_335))), "x=1", "--json"], None


def torch_loop(folder: Path):
    text = ("def f(x):\n    y = x\n    for _ in range(10 ** 6):\n        y = y + x\n"
            "    return y\n")
    return ["torch", str(write(folder, "loop.py", text)), "x=1"], None


def torch_check_runs(folder: Path):
    text = "def f(x):\n    return (x * x).sum()\n"
    return ["torch", str(write(folder, "square.py", text)),
            f"x=@{write_npy(folder, 'x.npy', (1000,))}", "--check"], None


CASES = [
    Case("MAX_PROGRAM_BYTES", "program file of 5,000,001 bytes", program_file,
         r"has 5,000,001 bytes; the limit is 5,000,000"),
    Case("MAX_PROGRAM_BYTES", "the same on standard input", program_stdin,
         r"standard input has more than 5,000,000 bytes"),
    Case("MAX_NUMBER_CHARS", "a number of 401 digits", long_number,
         r"a number of 401 characters; the limit is 400"),
    Case("MAX_NESTING", "201 nested brackets", nesting, r"nests deeper than 200 levels"),
    Case("MAX_ARRAY_DEPTH", "an array literal 33 deep", array_depth,
         r"arrays nest deeper than 32 levels"),
    Case("MAX_NODES", "a 2,000,001-term sum (operators counted)", operators,
         r"more than 2,000,000 nodes"),
    Case("MAX_NODES", "x + 1 + 1 ... (1,000,001 operators and constants, counted)",
         built_nodes, r"more than 2,000,000 nodes"),
    Case("MAX_NODES", "-x + -x + ... (1,000,001 negations: builder)", negated_nodes,
         r"more than 2,000,000 nodes",
         compare=("just under", lambda folder: negated_nodes(folder, 999_999))),
    Case("MAX_ELEMENTS", "a @ b, 3163×1 by 1×3163", outer_product,
         r"@ would make an array of 10,004,569 elements"),
    Case("MAX_ELEMENTS", ".npy of 10,000,001 float64 (80 MB)", npy_elements,
         r"has 10,000,001 elements; the limit is 10,000,000"),
    Case("MAX_ELEMENTS", ".csv of 3163 × 3163 cells (20 MB)", csv_elements,
         r"has 10,004,569 elements; the limit is 10,000,000"),
    Case("MAX_ELEMENTS", ".json of 10,000,001 numbers (20 MB)", json_elements,
         r"has 10,000,001 elements; the limit is 10,000,000"),
    Case("MAX_HELD_ELEMENTS", "sum(x*2*3), x of 9,000,000", held_elements,
         r"bring the elements of the graph's arrays to 27,000,000; the limit is 25,000,000"),
    Case("WORK_BUDGET", "check of sum(sin(x)), x of 16,000 (skipped)", check_budget,
         r"skipped past their work budget: checking x needs 516,128,000", status=0,
         compare=("just under", lambda folder: check_budget(folder, 15_000))),
    Case("WORK_BUDGET", "--mode forward, x of 22,400", forward_budget,
         r"forward mode for x needs 22,400 tangent sweeps"),
    Case("ENUMERATION_LIMIT", "--all of 16,384 paths", all_paths,
         r"16,384 paths to the output; listing all of them is limited to 10,000"),
    Case("MAX_LISTED_EDGES", "--top 10000 of 16,384 paths of up to 214 edges", listed_edges,
         r"edges.*2,000,000"),
    Case("MAX_LISTING_WORK", "--top 10000 of 16,384 paths over 10,000-element arrays",
         listing_work, r"elements' work.*the limit is 300,000,000"),
    Case("MAX_SUMMARY_VISITS", "gad paths of 820 summed inputs", summary_visits,
         r"node visits; the limit is 1,000,000"),
    Case("EXACT_COUNT_BITS", "26,000 counts of 2^10000 held (estimated)", count_bits,
         r"paths from x to .*: ≈ ", status=0,
         compare=("just under", lambda folder: count_bits(folder, 24_000))),
    Case("EXACT_COUNT_WORK", "3^101000 paths (estimated)", count_work,
         r"paths from x to .*: ≈ ", status=0,
         compare=("just under", lambda folder: count_work(folder, 95_000))),
    Case("WORK_BUDGET (Jacobian)", "W@x, W 3000×3000 (72 MB .npy), --no-check", jacobian,
         r"the Jacobian by reverse mode needs 3,000 backward sweeps"),
    Case("MAX_VALUE_FILE_BYTES", "a value file of 100,000,001 bytes", value_file_bytes,
         r"has 100,000,001 bytes; the limit is 100,000,000"),
    Case("MAX_VALUE_FILE_BYTES", "the same on standard input (x=@-)", value_stdin_bytes,
         r"standard input has more than 100,000,000 bytes"),
    Case("value file dimensions", ".npy of 33 dimensions", npy_dimensions,
         r"has 33 dimensions; the limit is 32"),
    Case("value file dimensions", ".json nested 33 deep", json_dimensions,
         r"nests deeper than 32 levels"),
    Case("--max-nodes", "samples/mlp300.gad --expand-all -o out.svg", picture_nodes,
         r"more than --max-nodes 150"),
    Case("--max-nodes", "a 200,000-term sum of sin(x), --expand-all -o out.svg",
         picture_nodes_large, r"more than --max-nodes 150",
         compare=("its gad grad --no-check", grad_of_large_sum)),
    Case("MAX_EXPORT_NODES", "a 50,001-term sum, --expand-all -o out.dot", export_nodes,
         r"DOT output is limited to 100,000"),
    Case("MAX_PNG_PIXELS", "[x0, ..., x119] then 120 sin, --expand-all -o out.png",
         png_pixels, r"even at 30 dpi a PNG of it passes 16,777,216 pixels"),
    Case("MAX_TRACE_ROWS", "gad trace of a 3,335-term sum", trace_rows,
         r"the trace has 10,003 steps; the limit is 10,000"),
    Case("MAX_TRACE_STEPS", "gad trace --json of a 33,335-term sum", trace_steps,
         r"the trace has 100,003 steps; the limit is 100,000"),
    Case("MAX_TRACE_NODES", "torch: a loop of 10**6 scalar adds", torch_loop,
         r"more than 20,000 nodes", torch=True),
    Case("MAX_CHECK_RUNS", "torch --check of x of 1,000 elements (skipped, so it fails)",
         torch_check_runs, r"checking x needs 2,001 runs of the function; the budget is 2,000",
         status=1, torch=True),
]


# Running ---------------------------------------------------------------------------------------

# The processes are started by a small launcher rather than by this one: on Linux a child's peak
# memory counts its parent's from before the exec (the kernel keeps the larger of the two), and
# this process grows to a few hundred MB writing the inputs. The launcher reads one job a line
# (JSON: arguments, standard input or null, the two output files, the timeout) and answers
# [seconds, peak in ru_maxrss's unit, exit status]; it stops a case that runs away by killing
# that case's own process group.
LAUNCHER = """
import json, os, signal, subprocess, sys, threading, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["stdout"], "wb") as out, open(job["stderr"], "wb") as err, \\
            open(job["stdin"] or os.devnull, "rb") as given:
        start = time.perf_counter()
        process = subprocess.Popen(job["arguments"], cwd=job["cwd"], stdin=given, stdout=out,
                                   stderr=err, env=job["env"], start_new_session=True)
        timer = threading.Timer(job["timeout"], os.killpg, (process.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps([seconds, usage.ru_maxrss, process.returncode]), flush=True)
"""


class Launcher:
    def __init__(self) -> None:
        # -S: no site packages (nor the editable install's hook), so the launcher stays small
        self.process = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, arguments: list[str], stdin: Path | None, timeout: float, folder: Path
            ) -> tuple[float, float, int, str]:
        """One fresh process: (seconds, peak MB, exit status, standard output and error)."""
        out, err = folder / "stdout.txt", folder / "stderr.txt"
        environment = {key: value for key, value in os.environ.items() if key != "GAD_DEBUG"}
        environment["COLUMNS"] = "100"
        job = {"arguments": arguments, "stdin": str(stdin) if stdin else None,
               "stdout": str(out), "stderr": str(err), "cwd": str(ROOT), "env": environment,
               "timeout": timeout}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        seconds, peak, status = json.loads(self.process.stdout.readline())
        # ru_maxrss is in kilobytes on Linux, bytes on macOS
        peak_mb = peak / (1e6 if sys.platform == "darwin" else 1e3)
        text = out.read_text(errors="replace") + err.read_text(errors="replace")
        return seconds, peak_mb, status, text

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def run_made(make: Maker, launcher: Launcher, timeout: float) -> tuple[float, float, int, str]:
    """`gad` on the input `make` writes into a temporary folder, as `Launcher.run`."""
    with tempfile.TemporaryDirectory(prefix="gad-limits-") as name:
        folder = Path(name)
        arguments, stdin = make(folder)
        seconds, peak, status, text = launcher.run([GAD, *arguments], stdin, timeout, folder)
    return seconds, peak, status, text.replace(f"{folder}{os.sep}", "")  # the files' own names


def measure(case: Case, launcher: Launcher, timeout: float) -> Run:
    seconds, peak, status, text = run_made(case.make, launcher, timeout)
    compared = run_made(case.compare[1], launcher, timeout)[:3] if case.compare else None
    matches = [line.strip() for line in text.splitlines() if re.search(case.expect, line)]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = matches[0] if matches else first
    return Run(seconds, peak, status, line, bool(matches) and status == case.status, compared)


def cell(text: str, width: int = 110) -> str:
    text = text if len(text) <= width else text[:width - 1] + "…"
    return text.replace("|", "\\|")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose limit or input holds it")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds before a case is stopped (default 300)")
    options = parser.parse_args()
    launcher = Launcher()
    try:
        return report(launcher, options.only, options.timeout)
    finally:
        launcher.close()


def report(launcher: Launcher, only: str, timeout: float) -> int:
    """Run the baselines and the cases, print the table; 1 if a case missed its limit."""
    has_torch = importlib.util.find_spec("torch") is not None
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, {platform.machine()} {platform.system()}; "
          f"one run each, wall time and peak RSS of the one process", file=sys.stderr)
    baselines = [("`python -c pass`", [PYTHON, "-c", "pass"]),
                 ("`gad grad samples/seed.gad`", [GAD, "grad", "samples/seed.gad"])]
    if has_torch:
        baselines.append(("`gad torch samples/torch_seed.py x1=1.5 x2=0.5 c=1`",
                          [GAD, "torch", "samples/torch_seed.py", "x1=1.5", "x2=0.5", "c=1"]))
    rows = ["| limit | input | exit | wall s | peak MB | for scale: s, MB | the line naming it |",
            "|---|---|--:|--:|--:|--:|---|"]
    measured = []  # (seconds, peak MB) of each baseline
    for label, command in baselines:
        with tempfile.TemporaryDirectory(prefix="gad-limits-") as name:
            seconds, peak, status, _ = launcher.run(command, None, timeout, Path(name))
        measured.append((seconds, peak))
        rows.append(f"| (baseline) | {label} | {status} | {seconds:.2f} | {peak:.0f} | | |")
    # A case is held to the promise over the interpreter's start, or over torch's for torch's
    base = {False: (0.0, measured[0][1]), True: measured[-1]}
    missed, broken = [], []
    for case in CASES:
        if only and only not in case.limit and only not in case.what:
            continue
        if case.torch and not has_torch:
            rows.append(f"| `{case.limit}` | {case.what} | | | | | (torch is not importable) |")
            continue
        result = measure(case, launcher, timeout)
        print(f"{case.limit}: {case.what}: {result.seconds:.2f} s, {result.peak_mb:.0f} MB, "
              f"exit {result.status}", file=sys.stderr)
        mark = "" if result.hit else "NOT HIT: "
        scale = "" if result.compared is None else \
            f"{case.compare[0]}: {result.compared[0]:.2f}, {result.compared[1]:.0f}"
        rows.append(f"| `{case.limit}` | {case.what} | {result.status} | {result.seconds:.2f} | "
                    f"{result.peak_mb:.0f} | {scale} | {mark}{cell(result.line)} |")
        if not result.hit:
            broken.append(case)
        elif result.seconds - base[case.torch][0] > PROMISE_SECONDS or \
                result.peak_mb - base[case.torch][1] > PROMISE_MB:
            missed.append((case, result))
    print("\n".join(rows))
    print()
    print(f"Past the promise ({PROMISE_SECONDS:g} s, or {PROMISE_MB} MB over `python -c pass`; "
          "for torch, over `gad torch`'s baseline): " + ("none" if not missed else "; ".join(
              f"{case.limit} ({case.what}): {result.seconds:.1f} s, {result.peak_mb:.0f} MB"
              for case, result in missed)))
    if broken:
        print("Cases that did not hit their limit: "
              + "; ".join(f"{case.limit} ({case.what})" for case in broken))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
