"""Time whole `gad` processes against their dependencies' imports: `python bench/startup.py`.

Standard library only. The commands run alternately (after a few warm-up runs) with the
interpreter of the virtualenv that holds `gad`, so every command pays the same `site` start-up;
the report gives the best and the median of each. The floor is
`python -c "import numpy, typer, rich.console, rich.table"`, what the chosen dependencies cost
before gad runs a line; the targets are ratios of medians to it: `gad grad samples/seed.gad` at
most 1.4 times (gad's own imports and work add at most 40%), and the worked example drawn to PNG
(`gad graph samples/seed.gad -o seed.png`, with whichever renderer `auto` picks, which runs
twice) at most 2.25 times. `python -c pass` is timed too, and each command's ratio to it
printed: the targets were once 12 and 25 times it, until the floor alone passed 12 (numpy 2.4
imports in 80-100 ms, and this interpreter starts in 12 ms, not 24.5; docs/performance.md).
`--gad PATH` times another installation's `gad`, e.g. one of an earlier commit, or a throwaway
virtualenv with a different typer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "samples/seed.gad"
TARGETS = {"grad": 1.4, "png": 2.25}  # times the dependencies' imports (medians)
DEPENDENCIES = "import numpy, typer, rich.console, rich.table"


# As a user's installation runs: with the bytecode cache, which the warm-up runs write (an
# environment that sets PYTHONDONTWRITEBYTECODE would time compiling the package instead).
ENVIRONMENT = {name: value for name, value in os.environ.items()
               if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True, env=ENVIRONMENT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--gad", type=Path, default=Path(sys.executable).parent / "gad",
                        help="the gad executable (default: next to this interpreter)")
    options = parser.parse_args()

    gad = options.gad.absolute()  # keep the venv's bin/, don't resolve its python symlink
    python = gad.parent / ("python.exe" if os.name == "nt" else "python")
    if not gad.exists() or not python.exists():
        print(f"no gad or python in {gad.parent}", file=sys.stderr)
        return 2
    picture = Path(tempfile.mkdtemp()) / "seed.png"
    commands = {
        "python -c pass": [str(python), "-c", "pass"],
        "dependencies' imports": [str(python), "-c", DEPENDENCIES],
        f"gad grad {SAMPLE}": [str(gad), "grad", SAMPLE],
        f"gad graph {SAMPLE} -o seed.png": [str(gad), "graph", SAMPLE, "-o", str(picture)],
    }
    for _ in range(options.warmup):
        for command in commands.values():
            run_once(command)
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(options.runs):  # alternate, so a busy spell hits both
        for label, command in commands.items():
            times[label].append(run_once(command))

    print(f"{python} ({options.runs} runs each, after {options.warmup} warm-up; "
          f"{os.cpu_count()} cores)")
    for label, values in times.items():
        print(f"  {label:28} best {min(values) * 1e3:7.1f} ms   "
              f"median {statistics.median(values) * 1e3:7.1f} ms")
    baseline, floor, *measured = (times[label] for label in commands)
    print(f"  the dependencies' imports alone: "
          f"{statistics.median(floor) / statistics.median(baseline):.1f} times python -c pass "
          "(medians)")
    for (name, target), values in zip(TARGETS.items(), measured):
        ratio = statistics.median(values) / statistics.median(floor)
        over_floor = statistics.median(values) - statistics.median(floor)
        print(f"  {name}: {ratio:.2f} times the dependencies' imports (medians; bests "
              f"{min(values) / min(floor):.2f}), {over_floor * 1e3:.0f} ms over them; target "
              f"<= {target:g}: {'met' if ratio <= target else 'NOT met'}; "
              f"{statistics.median(values) / statistics.median(baseline):.1f} times python -c pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
