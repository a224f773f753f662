"""Users for the report's tests: months of mixed devices with gaps, Apple only, a year.

Each builder returns canonical observations (as the normalizers produce them) ending on
END; `seed_user` writes them to a store and runs the analysis graph once, so the store
holds the findings the report lists, as it would on a server.
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import date, timedelta
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import BaseStore

from auren_graphs.analysis.graph import builder
from auren_graphs.canonical import Observation
from auren_graphs.ingestion.storage import write_observations
from tests.support.identity import as_user

END = date(2026, 11, 20)


def _day(n: int, days: int, end: date) -> date:
    return end - timedelta(days=days - 1 - n)


def mixed(days: int = 120, *, end: date = END, seed: int = 7) -> list[Observation]:
    """Oura nights (HRV, resting HR, sleep, readiness), WHOOP for a while, manual training
    load on training days; a 6-day trip without the ring, scattered missed nights, and an
    HRV drop over the last 8 days."""
    rng = random.Random(seed)
    trip = set(range(days - 40, days - 34))
    whoop = set(range(days // 3, days // 3 + 20))
    out: list[Observation] = []
    for n in range(days):
        day = _day(n, days, end)
        if n not in trip and rng.random() > 0.08:
            ln = rng.gauss(4.0 if n < days - 8 else 3.55, 0.12)
            out += [
                Observation("hrv_rmssd", round(math.exp(ln), 1), day, "oura", f"o:{day}:h"),
                Observation(
                    "resting_heart_rate",
                    round(rng.gauss(52 if n < days - 8 else 57, 1.5)),
                    day,
                    "oura",
                    f"o:{day}:r",
                ),
                Observation(
                    "sleep_duration", round(rng.gauss(7.1, 0.7) * 3600), day, "oura", f"o:{day}:s"
                ),
                Observation("readiness_score", rng.randint(55, 92), day, "oura", f"o:{day}:ready"),
            ]
        if n in whoop:
            out += [
                Observation("recovery_score", rng.randint(20, 95), day, "whoop", f"w:{day}:rec"),
                Observation("strain", round(rng.uniform(6, 19), 1), day, "whoop", f"w:{day}:st"),
            ]
        if n not in trip and day.weekday() in (0, 2, 3, 5):
            load = round(rng.uniform(200, 650))
            out.append(Observation("training_load", load, day, "manual", f"m:{day}:load"))
    return out


def apple_only(days: int = 90, *, end: date = END, seed: int = 11) -> list[Observation]:
    """Apple Health as it arrives: SDNN spot checks (several a day, some days none),
    resting heart rate and sleep; no rMSSD, no training load."""
    rng = random.Random(seed)
    out: list[Observation] = []
    for n in range(days):
        day = _day(n, days, end)
        for k in range(rng.choice([0, 1, 2, 3, 4])):
            value = round(rng.gauss(45, 9), 1)
            out.append(Observation("hrv_sdnn", value, day, "apple_health", f"a:{day}:sdnn{k}"))
        if rng.random() > 0.1:
            out.append(
                Observation(
                    "resting_heart_rate", rng.randint(54, 62), day, "apple_health", f"a:{day}:r"
                )
            )
        if rng.random() > 0.15:
            hours = rng.gauss(6.8, 0.8)
            out.append(
                Observation(
                    "sleep_duration", round(hours * 3600), day, "apple_health", f"a:{day}:s"
                )
            )
    return out


CONNECTIONS: list[dict[str, Any]] = [
    {
        "vendor": "oura",
        "vendor_user_id": "7XKQ2MZP4R",
        "status": "active",
        "last_sync_at": "2026-11-20T07:41:00+00:00",
    },
    {"vendor": "whoop", "vendor_user_id": "10129", "status": "disconnected", "last_sync_at": None},
]


async def seed_user(
    store: BaseStore, user_id: str, observations: list[Observation], *, as_of: date = END
) -> dict[str, Any]:
    """Write the observations and run the analysis graph once (it remembers findings)."""
    if observations:
        await write_observations(store, user_id, observations)
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    config = as_user(user_id, "analysis", str(uuid.uuid4()))
    out: dict[str, Any] = await graph.ainvoke(
        {"user_id": user_id, "as_of": as_of.isoformat()}, config
    )
    return out
