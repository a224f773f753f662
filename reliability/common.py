"""What every fault family shares: the server under test, the result row, the table."""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client

from auren_graphs.canonical import METRICS
from auren_graphs.webhooks import oura, whoop
from tests.support.config import AUTH_ENV, SERVICE_KEY
from tests.support.server import DevServer, running_server, server_env, throwaway_postgres

OUT = Path(__file__).resolve().parent / "out"
MUST_BE_ZERO = ("lost", "duplicates", "status_5xx", "hangs", "garbage")


@dataclass
class Row:
    """One line of the table: a fault family and what it did."""

    fault: str
    trials: int = 0
    lost: int = 0
    duplicates: int = 0
    status_5xx: int = 0
    hangs: int = 0
    garbage: int = 0
    recovery: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(getattr(self, name) == 0 for name in MUST_BE_ZERO)

    def recovery_text(self) -> str:
        if not self.recovery:
            return "-"
        return (
            f"max {max(self.recovery):.1f} s, mean {sum(self.recovery) / len(self.recovery):.1f} s"
        )


@dataclass
class AttackRow:
    """One line of the attack table: a class of attacks and what they did."""

    kind: str
    attempts: int = 0
    denied: int = 0
    leaked: int = 0
    stored: int = 0
    status_5xx: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.leaked == self.stored == self.status_5xx == 0 and self.attempts > 0


def attack_table(rows: list[AttackRow]) -> str:
    lines = [
        "| attack class | attempts | denied | leaked | stored | 5xx | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.kind} | {r.attempts} | {r.denied} | {r.leaked} | {r.stored} | "
            f"{r.status_5xx} | {'; '.join(r.notes)} |"
        )
    total = AttackRow("all", *(sum(getattr(r, f) for r in rows) for f in (
        "attempts", "denied", "leaked", "stored", "status_5xx")))  # fmt: skip
    lines.append(
        f"| **all** | {total.attempts} | {total.denied} | {total.leaked} | {total.stored} | "
        f"{total.status_5xx} | |"
    )
    return "\n".join(lines)


WHOOP_SECRET = "rel-whoop-" + secrets.token_hex(8)
OURA_SECRET = "rel-oura-" + secrets.token_hex(8)
WEBHOOK_SECRETS = {"WHOOP_CLIENT_SECRET": WHOOP_SECRET, "OURA_CLIENT_SECRET": OURA_SECRET}


def signature_headers(vendor: str, body: bytes) -> dict[str, str]:
    """The headers WHOOP or Oura sign `body` with, using this run's webhook secrets."""
    if vendor == "whoop":
        stamp = str(int(time.time() * 1000))
        return {
            "x-whoop-signature": whoop.sign(WHOOP_SECRET, stamp, body),
            "x-whoop-signature-timestamp": stamp,
        }
    stamp = str(int(time.time()))
    return {"x-oura-signature": oura.sign(OURA_SECRET, stamp, body), "x-oura-timestamp": stamp}


def table(rows: list[Row]) -> str:
    head = (
        "| fault | trials | acknowledged lost | duplicates | 5xx | hangs | garbage stored "
        "| recovery time | notes |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.fault} | {r.trials} | {r.lost} | {r.duplicates} | {r.status_5xx} | "
            f"{r.hangs} | {r.garbage} | {r.recovery_text()} | {'; '.join(r.notes)} |"
        )
    return "\n".join(lines)


def reliability_env(postgres_uri: str, **extra: str) -> dict[str, str]:
    return server_env(postgres_uri, **AUTH_ENV, **extra)


@contextmanager
def reliability_server(*, jobs: int = 4, **extra: str) -> Iterator[DevServer]:
    """A throwaway Postgres and a `langgraph dev` on it, with the suite's auth."""
    os.environ.setdefault("AUREN_API_KEY", SERVICE_KEY)
    with (
        throwaway_postgres() as uri,
        running_server(reliability_env(uri, **extra), jobs=jobs) as server,
    ):
        yield server


def timed_start(server: DevServer) -> float:
    """Start the server and return the seconds from spawn to `/ok` answering 200."""
    began = time.monotonic()
    server.start()
    return time.monotonic() - began


def healthy(server: DevServer) -> bool:
    try:
        return httpx.get(f"{server.url}/ok", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


AUDIT_LIMIT = 1_000_000


async def stored_items(url: str, user_id: str) -> list[dict[str, Any]]:
    """Every store item under `("users", user, "metrics")`, through the SDK, in one page.

    Not page by page: the store orders a search by write time alone and one ingestion
    writes many items at the same instant, so pages by offset can repeat and skip items.
    """
    sdk = get_client(url=url, api_key=SERVICE_KEY)
    page = await sdk.store.search_items(["users", user_id, "metrics"], limit=AUDIT_LIMIT)
    items = [dict(i) for i in page.get("items") or []]
    if len(items) >= AUDIT_LIMIT:
        raise RuntimeError(f"{user_id} has more than {AUDIT_LIMIT} metric items to audit")
    return items


def row_ids(items: list[dict[str, Any]]) -> Counter[str]:
    """How often each observation identity appears among the stored rows."""
    ids: Counter[str] = Counter()
    for item in items:
        for row in (item.get("value") or {}).get("rows", []):
            ids[str(row.get("id"))] += 1
    return ids


def garbage(items: list[dict[str, Any]]) -> list[str]:
    """Stored values outside their metric's bounds (or not finite, or unknown metrics)."""
    bad: list[str] = []
    for item in items:
        value = item.get("value") or {}
        metric = str(item.get("namespace", ["", "", "", "?"])[-1])
        spec = METRICS.get(metric)
        for row in value.get("rows", []):
            v = row.get("value")
            ok = (
                spec is not None
                and isinstance(v, int | float)
                and not isinstance(v, bool)
                and spec.low <= v <= spec.high  # NaN fails both comparisons
            )
            if not ok:
                bad.append(f"{metric}={v!r}")
    return bad
