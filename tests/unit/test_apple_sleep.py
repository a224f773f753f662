"""Apple's time in bed: the InBed samples of the night, not the span of the staged sleep.

Three hand-written exports (tests/fixtures/apple/sleep_night_*.xml, HealthKit export
format 14): the Watch records the stages, the iPhone records when its owner was in bed.
The span of the Watch's stages (26,850 s, 28,200 s and 25,800 s) is what was stored as
time in bed before; Apple's own figure is the union of the InBed samples (28,169 s,
29,588 s and 26,940 s): a bedtime before falling asleep, a trip out of bed at night, a
second InBed sample inside the first, and a third-party app ranked below the iPhone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from auren_graphs.ingestion.graph import builder
from auren_graphs.ingestion.normalizers.apple import derive_sleep, normalize
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.storage import metric_namespace
from tests.support.identity import as_user

FIXTURES = Path(__file__).parent.parent / "fixtures" / "apple"

NIGHTS = [
    # file, the day the night ends, Watch span (old value), InBed union, asleep, core, deep, REM, awake
    (
        "sleep_night_2026-10-06.xml",
        date(2026, 10, 6),
        26_850,
        28_169,
        26_610,
        15_090,
        5_250,
        6_270,
        240,
    ),
    (
        "sleep_night_2026-10-13.xml",
        date(2026, 10, 13),
        28_200,
        29_588,
        27_720,
        17_220,
        3_900,
        6_600,
        480,
    ),
    (
        "sleep_night_2026-11-03.xml",
        date(2026, 11, 3),
        25_800,
        26_940,
        25_440,
        14_700,
        3_900,
        6_840,
        360,
    ),
]


@pytest.mark.parametrize("night", NIGHTS, ids=[n[0] for n in NIGHTS])
def test_time_in_bed_is_the_union_of_the_in_bed_samples(night: tuple) -> None:
    name, day, watch_span, in_bed, asleep, core, deep, rem, awake = night
    batch = normalize((FIXTURES / name).read_bytes(), NormalizeContext("u-sleep"))
    assert batch.rejections == []
    days = derive_sleep(batch.intervals)
    assert list(days) == [day]
    assert days[day] == {
        "time_in_bed": in_bed,
        "sleep_duration": asleep,
        "sleep_light_duration": core,
        "sleep_deep_duration": deep,
        "sleep_rem_duration": rem,
        "sleep_awake_duration": awake,
    }
    assert days[day]["time_in_bed"] != watch_span


@pytest.mark.parametrize("night", NIGHTS, ids=[n[0] for n in NIGHTS])
async def test_the_stored_time_in_bed_is_apples(night: tuple) -> None:
    name, day, _span, in_bed, asleep, *_ = night
    store = InMemoryStore()
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    config = as_user("u-sleep", "ingestion")
    payload = (FIXTURES / name).read_text()
    out = await graph.ainvoke(
        {"user_id": "u-sleep", "device": "apple_health", "payload": payload}, config
    )
    assert out["error"] is None
    stored = {}
    for metric in ("time_in_bed", "sleep_duration"):
        item = await store.aget(metric_namespace("u-sleep", metric), day.isoformat())
        assert item is not None
        [row] = item.value["rows"]
        stored[metric] = row["value"]
    assert stored == {"time_in_bed": in_bed, "sleep_duration": asleep}


def test_without_in_bed_samples_the_session_span_is_time_in_bed() -> None:
    text = (FIXTURES / "sleep_night_2026-10-06.xml").read_text()
    watch_only = "".join(
        line for line in text.splitlines(keepends=True) if "SleepAnalysisInBed" not in line
    )
    batch = normalize(watch_only, NormalizeContext("u-sleep"))
    assert derive_sleep(batch.intervals)[date(2026, 10, 6)]["time_in_bed"] == 26_850
