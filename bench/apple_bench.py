"""Apple export throughput: floor (bare parse), in-process pipeline, through the server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from defusedxml.ElementTree import iterparse

from auren_graphs.ingestion.normalizers import DERIVATIONS, apple
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.storage import write_batch
from bench.common import OUT, PeakRss, dev_server, header, mb, postgres_store, row
from bench.generate import apple_export


def export_file(records: int) -> tuple[Path, int]:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"export-{records}.xml"
    count_file = path.with_suffix(".count")
    if not path.exists() or not count_file.exists():
        count_file.write_text(str(apple_export(path, records)))
    return path, int(count_file.read_text())


def bare_parse(path: Path) -> float:
    start = time.perf_counter()
    seen = 0
    for _, element in iterparse(str(path), forbid_dtd=False):
        if element.tag == "Record":
            seen += 1
            element.clear()
    return time.perf_counter() - start


async def in_process(path: Path, postgres_uri: str) -> float:
    context = NormalizeContext("bench-inprocess")
    async with postgres_store(postgres_uri) as store:
        start = time.perf_counter()
        with path.open("rb") as stream:
            for batch in apple.normalize_stream(stream, context, batch_records=20_000):
                await write_batch(store, context.user_id, "apple_health", batch, DERIVATIONS)
        return time.perf_counter() - start


def through_server(path: Path, postgres_uri: str) -> tuple[float, int, int]:
    with dev_server(postgres_uri) as server:
        cli = Path(sys.executable).with_name("auren")
        env = {**os.environ, "AUREN_URL": server.url}
        with PeakRss(server.process.pid) as server_rss:  # type: ignore[union-attr]
            start = time.perf_counter()
            proc = subprocess.Popen(
                [str(cli), "ingest", "bench-server", "apple_health", str(path)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            with PeakRss(proc.pid) as client_rss:
                out, _ = proc.communicate()
            elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"auren ingest failed: {out.decode()}")
        return elapsed, client_rss.peak, server_rss.peak


def run(postgres_uri: str, records: int) -> dict[str, float]:
    header(f"Apple export.xml, {records:,} records requested")
    path, count = export_file(records)
    row("records in file", f"{count:,}", f"{path.stat().st_size / 2**20:.0f} MB")
    floor = bare_parse(path)
    row("bare streaming parse (floor)", f"{count / floor:,.0f} rec/s", f"{floor:.1f} s")
    local = asyncio.run(in_process(path, postgres_uri))
    row("in-process pipeline into Postgres", f"{count / local:,.0f} rec/s", f"{local:.1f} s")
    served, client_peak, server_peak = through_server(path, postgres_uri)
    row(
        "through the server into Postgres (auren ingest)",
        f"{count / served:,.0f} rec/s",
        f"{served:.1f} s",
    )
    row("server / in-process", f"{local / served:.2f}", "ratio of throughputs")
    row("server / bare parse", f"{floor / served:.2f}", "ratio of throughputs")
    row("client peak RSS", mb(client_peak), "target < 200 MB")
    row("server peak RSS (API + workers)", mb(server_peak))
    return {
        "apple_records": count,
        "apple_floor_rps": count / floor,
        "apple_inprocess_rps": count / local,
        "apple_server_rps": count / served,
        "apple_client_rss_mb": client_peak / 2**20,
        "apple_server_rss_mb": server_peak / 2**20,
    }
