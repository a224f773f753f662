"""Every record examined is accounted for: the report's outcomes add up to its records.

Each device's fixtures go through the ingestion graph (in-process, in-memory store)
twice: the first time every record is accepted, rejected, skipped or ignored; the
second time what was accepted comes back as duplicates. The sum is always the number
of records examined.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from auren_graphs.canonical import OUTCOMES, BatchBuilder, RecordLedger
from auren_graphs.ingestion.graph import builder
from tests.support import payloads
from tests.support.identity import as_user

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _fixture_payloads() -> list[tuple[str, str, Any]]:
    cases: list[tuple[str, str, Any]] = []
    for device in ("oura", "whoop"):
        for path in sorted((FIXTURES / device).glob("*.json")):
            cases.append((f"{device}/{path.name}", device, json.loads(path.read_text())))
    apple = FIXTURES / "apple"
    cases.append(("apple/export.xml", "apple_health", (apple / "export.xml").read_text()))
    hae = json.loads((apple / "health_auto_export.json").read_text())
    cases.append(("apple/health_auto_export.json", "apple_health", hae))
    cases.append(("manual/entries", "manual", payloads.manual_entries(days=3)))
    return cases


CASES = _fixture_payloads()


async def _report(store: InMemoryStore, user: str, device: str, payload: Any) -> dict[str, Any]:
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    config = as_user(user, "ingestion")
    out = await graph.ainvoke({"user_id": user, "device": device, "payload": payload}, config)
    assert out.get("error") is None, out["error"]
    report: dict[str, Any] = out["report"]
    return report


def _adds_up(report: dict[str, Any]) -> None:
    outcomes = report["outcomes"]
    assert set(outcomes) == set(OUTCOMES)
    assert report["records"] > 0
    assert sum(outcomes.values()) == report["records"], outcomes
    assert sum(report["ignored"].values()) == outcomes["ignored"]
    assert outcomes["rejected"] <= report["rejected_count"]
    assert outcomes["skipped"] <= report["skipped_count"]


@pytest.mark.parametrize(("name", "device", "payload"), CASES, ids=[c[0] for c in CASES])
async def test_every_record_is_accounted_for_on_first_and_second_delivery(
    name: str, device: str, payload: Any
) -> None:
    store = InMemoryStore()
    first = await _report(store, "u-acct", device, payload)
    _adds_up(first)
    second = await _report(store, "u-acct", device, payload)
    _adds_up(second)
    assert second["outcomes"]["accepted"] == 0
    # What was new the first time is a duplicate now; the rest is judged the same way.
    assert second["outcomes"]["duplicate"] == first["outcomes"]["accepted"]
    for outcome in ("rejected", "skipped", "ignored"):
        assert second["outcomes"][outcome] == first["outcomes"][outcome]


async def test_the_apple_fixture_names_what_it_ignores_and_why_it_rejects() -> None:
    report = await _report(
        InMemoryStore(), "u-apple", "apple_health", (FIXTURES / "apple" / "export.xml").read_text()
    )
    assert report["records"] == 31
    assert report["ignored"] == {
        "HKQuantityTypeIdentifierBasalEnergyBurned": 1,
        "HKQuantityTypeIdentifierBloodPressureSystolic": 1,
        "HKQuantityTypeIdentifierBloodPressureDiastolic": 1,
        "HKCategoryTypeIdentifierAppleStandHour": 1,
        "HKCorrelationTypeIdentifierBloodPressure": 1,
        "ActivitySummary": 1,
    }
    assert report["outcomes"] == {
        "accepted": 23,  # 2 workouts (several values each) and 21 samples
        "duplicate": 0,
        "updated": 0,
        "rejected": 2,  # a heart rate in count/s, one without an offset
        "skipped": 0,
        "ignored": 6,
    }


async def test_a_corrected_record_is_updated_and_a_partly_new_one_accepted() -> None:
    store = InMemoryStore()
    entry = {"entry_id": "e1", "metric": "resting_heart_rate", "value": 53, "unit": "bpm"}
    first = {"entries": [{**entry, "date": "2026-11-02"}]}
    await _report(store, "u-fix", "manual", first)
    fixed = {
        "entries": [
            {**entry, "date": "2026-11-02", "value": 52},
            {**entry, "entry_id": "e2", "date": "2026-11-03"},
            {**entry, "entry_id": "e3", "metric": "no_such_metric", "date": "2026-11-03"},
        ]
    }
    report = await _report(store, "u-fix", "manual", fixed)
    assert report["outcomes"] == {
        "accepted": 1,
        "duplicate": 0,
        "updated": 1,
        "rejected": 1,
        "skipped": 0,
        "ignored": 0,
    }


def test_a_record_with_several_values_counts_once_by_its_best_news() -> None:
    builder = BatchBuilder("whoop")
    day = date(2026, 11, 2)
    for metric in ("strain", "total_energy"):
        builder.add(metric, 10, day=day, identity="w1")
    builder.end_record()
    builder.add("strain", 11, day=day, identity="w2")
    builder.end_record()
    ledger = builder.batch.ledger
    # w1: one value duplicate, one updated -> updated; w2: accepted.
    assert ledger.outcomes(bytearray([1, 2, 3]), bytearray()) == {
        "accepted": 1,
        "duplicate": 0,
        "updated": 1,
        "rejected": 0,
        "skipped": 0,
        "ignored": 0,
    }


def test_a_record_that_says_nothing_is_skipped_with_a_reason() -> None:
    builder = BatchBuilder("oura")
    builder.end_record(ref="data[0]")
    assert builder.batch.ledger.skipped == 1
    assert builder.batch.skipped[0].ref == "data[0]"


def test_ignored_types_are_capped_and_their_names_bounded() -> None:
    ledger = RecordLedger()
    for n in range(100):
        ledger.ignore(f"type-{n}")
    ledger.ignore("x" * 10_000)
    assert len(ledger.ignored) == 65
    assert ledger.ignored["(other types)"] == 37
    assert sum(ledger.ignored.values()) == 101
    assert all(len(name) <= 120 for name in ledger.ignored)
