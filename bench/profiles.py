"""Sampling profiles of running processes with py-spy, summarised as top-function tables.

`PySpy(pid, prefix)` records `pid` (and its subprocesses) until the block ends, writes the
collapsed stacks to `prefix.txt` and a summary (the functions most often on the CPU, by
self and by inclusive samples) to `prefix.md`. Without py-spy installed it does nothing
but say so. `python -m bench.profiles STACKS.txt` prints the summary of a recording.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType

IDLE = ("select (selectors.py", "_worker (concurrent/futures/thread.py", "wait (threading.py")


class PySpy:
    def __init__(self, pid: int, prefix: Path, rate: int = 50) -> None:
        self.pid, self.prefix, self.rate = pid, prefix, rate
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PySpy:
        binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(binary).exists():
            print("  (py-spy is not installed: no profile recorded)")
            return self
        self.prefix.parent.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [
                binary,
                "record",
                "-p",
                str(self.pid),
                "-f",
                "raw",
                "-o",
                f"{self.prefix}.txt",
                "-r",
                str(self.rate),
                "--subprocesses",
                "--function",
                "--nonblocking",
                "--gil",  # only samples holding the interpreter lock: Python's own CPU time
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        stacks = Path(f"{self.prefix}.txt")
        if stacks.exists():
            Path(f"{self.prefix}.md").write_text(summarise(stacks))


def _frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rstrip().rpartition(" ")
    return stack.split(";"), int(count)


def summarise(stacks: Path, top: int = 25) -> str:
    """Markdown tables of the busiest functions, self and inclusive, per process."""
    by_process: dict[str, list[tuple[list[str], int]]] = {}
    for line in stacks.read_text().splitlines():
        if not line.strip():
            continue
        frames, count = _frames(line)
        if any(frames[-1].startswith(idle) for idle in IDLE):
            continue  # a thread waiting for work
        process, rest = frames[0], frames[1:]
        while rest and (rest[0].startswith("process ") or "--multiprocessing-fork" in rest[0]):
            if rest[0].startswith("process "):
                process = rest[0]  # a child process: its own table
            rest = rest[1:]
        by_process.setdefault(_process_name(process), []).append((rest, count))
    total = sum(count for samples in by_process.values() for _, count in samples)
    parts = [f"{total} samples holding the GIL"]
    for process, samples in sorted(by_process.items(), key=lambda kv: -sum(c for _, c in kv[1])):
        parts.append(_process_tables(process, samples, top))
    return "\n\n".join(parts) + "\n"


def _process_name(frame: str) -> str:
    """`process 123:"python -m x ..."` as `x ...`, shortened."""
    command = frame.split(":", 1)[-1].strip('"')
    if "spawn_main" in command or "multiprocessing" in command:
        return "worker process"
    return " ".join(Path(word).name if "/" in word else word for word in command.split()[:3])


def _process_tables(process: str, samples: list[tuple[list[str], int]], top: int) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for frames, count in samples:
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def table(counter: Counter[str], title: str) -> str:
        rows = [f"| {title} | samples | share |", "|---|---:|---:|"]
        rows += [
            f"| `{name}` | {n} | {100 * n / max(total, 1):.1f}% |"
            for name, n in counter.most_common(top)
        ]
        return "\n".join(rows)

    tables = f"{table(own, 'self')}\n\n{table(inclusive, 'inclusive')}"
    return f"### {process}: {total} samples\n\n{tables}"


if __name__ == "__main__":
    print(summarise(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25))
