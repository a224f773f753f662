"""Sustained load: clients ingest as fast as the server takes it, analyses in between.

Each client has a user of its own and walks back in time from today: every call carries
days no earlier call of that user carried (Oura readiness pages through `ingest_batch`,
as the pages benchmark sends them; a day of manual heart-rate entries; a one-day Apple
export), so what the server acknowledged can be read back and audited as in
`reliability.kill`. Every few ingests the client asks for an analysis. A sampler reads the
server's RSS (`langgraph dev` and its children) and the count of acknowledged ingests every
few seconds: throughput per span of the run and the RSS slope say whether it holds steady.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, TypeVar

import psutil  # type: ignore[import-untyped,unused-ignore]  # no stubs installed

from auren_client import AurenClient, AurenError, IngestReport, ServerError
from auren_contract import Device
from auren_graphs.ingestion.normalizers import NORMALIZERS, NormalizeContext
from bench.generate import HEADER, _day_records, oura_pages
from reliability.common import Row, garbage, row_ids, stored_items
from tests.support.config import SERVICE_KEY
from tests.support.server import DevServer

SAMPLE_EVERY = 5.0  # seconds between samples of the server
ANALYZE_EVERY = 8  # a client's ingests between two of its analyses
WARMUP = 0.2  # share of the run left out of the RSS slope
PARTS = 5  # throughput is compared between the first and the last of these spans
CALL_TIMEOUT = 120.0  # an ingest or analysis taking longer is a hang
OURA_PAGES, OURA_DAYS = 2, 30
T = TypeVar("T")


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the load began
    rss_mb: float  # the server's resident memory, children included
    ingests: int  # ingests acknowledged so far


def rss_slope(samples: Sequence[Sample], warmup: float = WARMUP) -> float:
    """Least-squares RSS slope in MB/min, leaving out the first `warmup` share of the run
    (nan with fewer than two samples left)."""
    if not samples:
        return math.nan
    cut = samples[0].at + warmup * (samples[-1].at - samples[0].at)
    kept = [s for s in samples if s.at >= cut]
    if len(kept) < 2:
        return math.nan
    return statistics.linear_regression([s.at / 60 for s in kept], [s.rss_mb for s in kept]).slope


def throughput(samples: Sequence[Sample], parts: int = PARTS) -> list[float]:
    """Ingests per minute in `parts` consecutive spans of the samples (split by count)."""
    bounds = sorted({round(k * (len(samples) - 1) / parts) for k in range(parts + 1)})
    return [
        (b.ingests - a.ingests) * 60 / (b.at - a.at)
        for a, b in pairwise(samples[i] for i in bounds)
        if b.at > a.at
    ]


def duplicates(items: Sequence[Mapping[str, Any]]) -> int:
    """Values stored more than once.

    Storage keeps one `<device>:combined` or `<device>:derived:...` row in each (metric,
    day) item, so those ids repeat across items by design; any other id names one
    record's value and is stored once in the whole store.
    """
    seen: Counter[str] = Counter()
    for item in items:
        where = f"{item.get('namespace')}/{item.get('key')}/"
        for row in (item.get("value") or {}).get("rows", []):
            rid = str(row.get("id"))
            shared = rid.endswith(":combined") or ":derived:" in rid
            seen[where + rid if shared else rid] += 1
    return sum(n - 1 for n in seen.values() if n > 1)


@dataclass
class Call:
    """One ingest: its payloads (pages go in one batch) and the identities it stores."""

    device: Device
    payloads: list[dict[str, Any] | str]
    days: int
    identities: set[str] = field(default_factory=set)


def manual_day(user: str, day: date) -> dict[str, Any]:
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    entries = [
        {
            "entry_id": f"{user}-{day}-h{h}",
            "metric": "heart_rate",
            "value": 55 + h,
            "unit": "bpm",
            "measured_at": (midnight + timedelta(hours=h)).isoformat(),
        }
        for h in range(24)
    ]
    return {"entries": entries}


def make_call(user: str, n: int, last_day: date, seed: int) -> Call:
    """Call `n` of `user`: days ending at `last_day`, as many as its kind covers."""
    if n % 3 == 0:
        days = OURA_PAGES * OURA_DAYS
        pages = oura_pages(OURA_PAGES, OURA_DAYS, start=last_day - timedelta(days=days - 1))
        call = Call("oura", list(pages), days)
    elif n % 3 == 1:
        call = Call("manual", [manual_day(user, last_day)], 1)
    else:
        rng = random.Random(f"{seed}-{user}-{n}")
        xml = HEADER + "".join(_day_records(last_day, rng, 96)) + "</HealthData>\n"
        call = Call("apple_health", [xml], 1)
    context = NormalizeContext(user)
    for payload in call.payloads:
        batch = NORMALIZERS[call.device](payload, context)
        call.identities |= {o.identity for o in batch.observations if o.combine == "replace"}
    return call


@dataclass
class Tally:
    acknowledged: dict[str, set[str]] = field(default_factory=dict)
    ingests: int = 0
    done: int = 0
    analyses: list[float] = field(default_factory=list)  # seconds each
    status_5xx: int = 0
    hangs: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    odd_reports: int = 0  # fresh data reported as rejected or duplicate

    async def attempt(self, work: Awaitable[T]) -> T | None:
        try:
            return await work
        except ServerError as exc:
            self.errors[f"ServerError {exc.status_code}"] += 1
            self.status_5xx += exc.status_code >= 500
        except TimeoutError:
            self.hangs += 1
        except AurenError as exc:
            # No fault is injected and every payload is valid: any other failure is the
            # server's, and counts as a 5xx so that the row fails.
            self.errors[type(exc).__name__] += 1
            self.status_5xx += 1
        return None


async def ingest(auren: AurenClient, user: str, call: Call) -> IngestReport:
    if len(call.payloads) > 1:
        return await auren.ingest_batch(user, call.device, call.payloads, timeout=CALL_TIMEOUT)
    return await auren.ingest(user, call.device, call.payloads[0], timeout=CALL_TIMEOUT)


async def client_loop(url: str, user: str, tally: Tally, deadline: float, seed: int) -> None:
    acknowledged = tally.acknowledged.setdefault(user, set())
    last_day = datetime.now(UTC).date()
    # The client as shipped: it retries a dropped connection (a keep-alive connection the
    # server closes as a request goes out is a race of HTTP itself, not a fault).
    async with AurenClient(url=url, api_key=SERVICE_KEY, timeout=CALL_TIMEOUT) as auren:
        n = 0
        while time.monotonic() < deadline:
            call = make_call(user, n, last_day, seed)
            last_day -= timedelta(days=call.days)
            n += 1
            tally.ingests += 1
            report = await tally.attempt(ingest(auren, user, call))
            if report is not None:
                acknowledged |= call.identities
                tally.done += 1
                tally.odd_reports += bool(report.rejected_count or report.duplicates)
            if n % ANALYZE_EVERY == 0 and time.monotonic() < deadline:
                began = time.monotonic()
                if await tally.attempt(auren.analyze(user, timeout=CALL_TIMEOUT)) is not None:
                    tally.analyses.append(time.monotonic() - began)


def server_rss_mb(pid: int) -> float:
    """Resident memory of the process and all its descendants, in MB."""
    proc = psutil.Process(pid)
    total: int = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a child that just exited
            total += child.memory_info().rss
    return total / 2**20


async def sample_server(
    pid: int, tally: Tally, began: float, deadline: float, samples: list[Sample]
) -> None:
    """A sample every SAMPLE_EVERY seconds, the last one at the deadline."""
    while True:
        now = time.monotonic()
        rss = await asyncio.to_thread(server_rss_mb, pid)
        samples.append(Sample(min(now, deadline) - began, rss, tally.done))
        if now >= deadline:
            return
        await asyncio.sleep(min(SAMPLE_EVERY, deadline - now))


async def sustained_load(
    server: DevServer, *, seconds: float, clients: int = 4, seed: int = 0
) -> Row:
    """`clients` users ingesting back to back for `seconds`, with analyses in between."""
    assert server.process is not None, "the server is not running"
    row = Row("sustained load (ingestion + analysis)")
    run = uuid.uuid4().hex[:8]
    tally = Tally()
    samples: list[Sample] = []
    began = time.monotonic()
    deadline = began + seconds
    sampler = asyncio.create_task(
        sample_server(server.process.pid, tally, began, deadline, samples)
    )
    await asyncio.gather(
        *(
            client_loop(server.url, f"rel-load-{run}-{n}", tally, deadline, seed)
            for n in range(clients)
        )
    )
    await sampler
    for user, acknowledged in tally.acknowledged.items():
        items = await stored_items(server.url, user)
        row.lost += len(acknowledged - set(row_ids(items)))
        row.duplicates += duplicates(items)
        row.garbage += len(garbage(items))
    row.trials = tally.ingests
    row.status_5xx, row.hangs = tally.status_5xx, tally.hangs
    row.notes += summary(tally, samples, clients, seconds)
    return row


def summary(tally: Tally, samples: list[Sample], clients: int, seconds: float) -> list[str]:
    rates = throughput(samples) or [math.nan]
    rss = [s.rss_mb for s in samples]
    analysis = statistics.median(tally.analyses) if tally.analyses else math.nan
    notes = [
        f"{clients} clients for {seconds:.0f} s: {tally.done} of {tally.ingests} ingests "
        f"acknowledged, {len(tally.analyses)} analyses (median {analysis:.1f} s)",
        f"{sum(map(len, tally.acknowledged.values()))} values acknowledged",
        f"ingests/min first vs last fifth: {rates[0]:.0f} vs {rates[-1]:.0f} "
        f"(ratio {rates[-1] / rates[0] if rates[0] else math.nan:.2f})",
        f"server RSS {rss[0]:.0f} -> {rss[-1]:.0f} MB (peak {max(rss):.0f}), "
        f"slope {rss_slope(samples):+.2f} MB/min by least squares over {len(samples)} "
        f"RSS samples leaving out the first {WARMUP:.0%} as warm-up "
        f"({rss_slope(samples, 0):+.2f} MB/min with it)",
    ]
    if tally.errors:
        errors = ", ".join(f"{name}: {n}" for name, n in tally.errors.most_common())
        notes.append(f"errors (all counted as 5xx): {errors}")
    if tally.odd_reports:
        notes.append(f"{tally.odd_reports} reports said fresh values were rejected or duplicate")
    return notes
