"""Oura and WHOOP pages: through the server (client batches) vs the same work in-process."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from auren_client import AurenClient
from auren_contract import Device
from auren_graphs.ingestion.normalizers import DERIVATIONS, NORMALIZERS
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.storage import write_batch
from bench.common import dev_server, header, postgres_store, row
from bench.generate import oura_pages, whoop_pages

USERS = 8


def _workload(pages: int) -> dict[Device, list[dict[str, Any]]]:
    return {"oura": oura_pages(pages, 30), "whoop": whoop_pages(pages, 25)}


async def _in_process(uri: str, work: dict[Device, list[dict[str, Any]]]) -> float:
    async with postgres_store(uri) as store:
        start = time.perf_counter()
        for device, pages in work.items():
            for user in range(USERS):
                context = NormalizeContext(f"bench-local-{device}-{user}")
                for page in pages:
                    batch = NORMALIZERS[device](page, context)
                    await write_batch(store, context.user_id, device, batch, DERIVATIONS)
        return time.perf_counter() - start


async def _through_server(url: str, work: dict[Device, list[dict[str, Any]]]) -> float:
    async with AurenClient(url=url) as auren:
        start = time.perf_counter()
        for device, pages in work.items():
            await asyncio.gather(
                *(
                    auren.ingest_batch(f"bench-server-{device}-{user}", device, pages)
                    for user in range(USERS)
                )
            )
        return time.perf_counter() - start


def run(postgres_uri: str, pages: int) -> dict[str, float]:
    header(f"Oura and WHOOP pages: {pages} pages per device for each of {USERS} users")
    work = _workload(pages)
    records = USERS * sum(
        len(p.get("data", p.get("records", []))) for ps in work.values() for p in ps
    )
    local = asyncio.run(_in_process(postgres_uri, work))
    with dev_server(postgres_uri) as server:
        served = asyncio.run(_through_server(server.url, work))
    row(
        "in-process (normalize + write, one user after another)",
        f"{records / local:,.0f} rec/s",
        f"{local:.1f} s",
    )
    row(
        "through the server (ingest_batch, users in parallel)",
        f"{records / served:,.0f} rec/s",
        f"{served:.1f} s",
    )
    row("server / in-process", f"{local / served:.2f}", "target >= 0.5")
    return {"pages_inprocess_rps": records / local, "pages_server_rps": records / served}
