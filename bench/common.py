"""What every benchmark shares: real services, timing, RSS sampling, printing."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from langgraph.store.postgres.aio import AsyncPostgresStore
from psycopg import AsyncConnection
from psycopg.rows import dict_row

try:
    from auren_graphs.persistence.pool import use_fast_json
except ImportError:  # a baseline checkout from before issue 16 (PYTHONPATH=...)

    async def use_fast_json(connection: AsyncConnection[Any]) -> None:
        return None


from tests.support.server import DevServer, running_server, server_env

OUT = Path(__file__).parent / "out"


@contextmanager
def dev_server(postgres_uri: str, **env: str) -> Iterator[DevServer]:
    with running_server(server_env(postgres_uri, **env)) as server:
        yield server


@asynccontextmanager
async def postgres_store(uri: str) -> AsyncIterator[AsyncPostgresStore]:
    """The store the server would use, in this process, for the in-process baselines."""
    async with await AsyncConnection.connect(
        uri, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as conn:
        await use_fast_json(conn)
        store = AsyncPostgresStore(conn)
        await store.setup()
        yield store


@dataclass
class PeakRss:
    """Samples the resident memory of a process and its children until stopped, and the
    CPU time they used meanwhile (user + system, children that ended included)."""

    pid: int
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _cpu_start: dict[int, float] = field(default_factory=dict)
    _cpu_last: dict[int, float] = field(default_factory=dict)

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu_last[pid] - self._cpu_start.get(pid, 0.0) for pid in self._cpu_last)

    def _sample(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                proc = psutil.Process(self.pid)
                tree = [proc, *proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
                for p in tree:
                    times = p.cpu_times()
                    used = times.user + times.system
                    if first:
                        self._cpu_start[p.pid] = used
                    self._cpu_last[p.pid] = used
                first = False
            except psutil.Error:
                pass
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        threading.Thread(target=self._sample, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()


def cpu_of(processes: list[psutil.Process]) -> float:
    """User + system seconds of `processes` so far, with their children that ended."""
    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def postgres_processes(uri: str) -> list[psutil.Process]:
    """The processes of the Postgres serving `uri` (its postmaster and backends), found
    by the data directory or port in their command line; empty when it is not local."""
    marker = uri.split("host=")[-1].split("&")[0] if "host=" in uri else uri.rsplit(":", 1)[-1]
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if (proc.info.get("name") or "").startswith("postgres") and marker and marker in cmdline:
            found.append(proc)
    return [child for proc in found for child in (proc, *proc.children(recursive=True))]


@dataclass
class OkProber:
    """Times `GET /ok` every `interval` seconds until stopped; a failed probe counts as
    the time it took to fail (its timeout at most)."""

    url: str
    interval: float = 0.1
    timeout: float = 10.0
    max_seconds: float = 0.0
    count: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _probe(self) -> None:
        with httpx.Client(base_url=self.url, timeout=self.timeout) as http:
            while not self._stop.is_set():
                start = time.perf_counter()
                with suppress(httpx.HTTPError):
                    http.get("/ok")
                self.max_seconds = max(self.max_seconds, time.perf_counter() - start)
                self.count += 1
                self._stop.wait(self.interval)

    def __enter__(self) -> OkProber:
        threading.Thread(target=self._probe, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()


def mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<58} {value:>16}  {note}")


def header(title: str) -> None:
    print(f"\n== {title}")
