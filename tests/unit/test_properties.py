"""Property-based tests of every normalizer (Hypothesis).

Documents are the real fixtures (tests/fixtures) mutated leaf by leaf: values drawn
from wide ranges (NaN, infinities, huge, negative, booleans, strings, unicode, nested
junk), fields dropped, wrong types. Whatever comes in, a normalizer either raises
`PayloadError` (the whole payload refused) or returns observations that use canonical
metric names, finite values within their metric's bounds, and the right conversions.

`AUREN_RELIABILITY_EXAMPLES` raises the number of examples (default 200) for the full
reliability run.
"""

from __future__ import annotations

import copy
import json
import math
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auren_graphs.canonical import METRICS, NormalizedBatch, PayloadError
from auren_graphs.ingestion.normalizers import NORMALIZERS, NormalizeContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLES = int(os.environ.get("AUREN_RELIABILITY_EXAMPLES", "200"))
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CTX = NormalizeContext("user-prop", "10129")


def _fixtures(device: str, folder: str, pattern: str) -> list[Any]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / folder).glob(pattern))]


def _manual_fixture() -> dict[str, Any]:
    return {
        "entries": [
            {
                "entry_id": "rhr-1",
                "metric": "resting_heart_rate",
                "value": 53,
                "unit": "bpm",
                "date": "2026-11-02",
            },
            {
                "entry_id": "hr-1",
                "metric": "heart_rate",
                "value": 71,
                "unit": "count/min",
                "measured_at": "2026-11-02T07:30:00-08:00",
            },
            {
                "entry_id": "sleep-1",
                "metric": "sleep_duration",
                "value": 7.5,
                "unit": "h",
                "date": "2026-11-02",
            },
            {
                "entry_id": "kj-1",
                "metric": "total_energy",
                "value": 9000,
                "unit": "kJ",
                "date": "2026-11-02",
            },
        ]
    }


DOCUMENTS: dict[str, list[Any]] = {
    "oura": _fixtures("oura", "oura", "*.json"),
    "whoop": _fixtures("whoop", "whoop", "*.json"),
    "apple_health": _fixtures("apple", "apple", "*.json"),
    "manual": [_manual_fixture()],
}

# Values a vendor (or an attacker) might put anywhere.
WILD: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e308, -1e308, 5e-324, 2**63, -(2**63), 86_401, 1e9]),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "NaN",
            "Infinity",
            "1e999",
            "2026-13-45",
            "2026-11-02T07:30:00",
            "2026-11-02T07:30:00+25:00",
            "\x00",
            "\ud7ff\U0010ffff",
            "SCORED",
            "PENDING_SCORE",
            "long_sleep",
            "h",
            "kJ",
            "ms",
            "count/min",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@st.composite
def mutated(draw: st.DrawFn, device: str) -> Any:
    """A fixture of `device` with some leaves replaced, some keys dropped or added.

    Decisions come from a Hypothesis-controlled `Random` and replacement values from a
    pool drawn up front: one draw per leaf would make large fixtures very slow.
    """
    document = copy.deepcopy(draw(st.sampled_from(DOCUMENTS[device])))
    rate = draw(st.sampled_from([0.02, 0.1, 0.4]))
    rng = draw(st.randoms(use_true_random=False))
    pool = draw(st.lists(WILD, min_size=1, max_size=12))
    if rng.random() < 0.03:
        return pool[0]  # not a document at all

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out: dict[Any, Any] = {}
            for key, value in node.items():
                if rng.random() < rate / 3:
                    continue  # a missing field
                out[key] = walk(value)
            if rng.random() < rate / 4:
                out[rng.choice(["", "score", "id", "data", "\u00e9\U0001f600"])] = rng.choice(pool)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return rng.choice(pool) if rng.random() < rate else node

    return walk(document)


def _as_payload(document: Any, form: str) -> Any:
    if form == "object":
        return document
    try:
        text = json.dumps(document)  # NaN/Infinity become the non-standard literals
    except (TypeError, ValueError):
        return document
    return text if form == "text" else text.encode("utf-8", "surrogatepass")


def check_batch(batch: NormalizedBatch) -> None:
    for obs in batch.observations:
        spec = METRICS.get(obs.metric)
        assert spec is not None, f"non-canonical metric {obs.metric!r}"
        assert isinstance(obs.value, float) and math.isfinite(obs.value), obs
        assert spec.low <= obs.value <= spec.high, obs
        assert isinstance(obs.day, date), obs
        assert obs.timestamp is None or obs.timestamp.tzinfo is not None, obs
        assert obs.identity, obs


def run_normalizer(device: str, payload: Any) -> NormalizedBatch | None:
    """The normalizer's batch, or None when it refused the payload with PayloadError."""
    try:
        batch = NORMALIZERS[device](payload, CTX)  # type: ignore[index]
    except PayloadError:
        return None
    check_batch(batch)
    return batch


@pytest.mark.parametrize("device", sorted(DOCUMENTS))
@PROPERTY_SETTINGS
@given(data=st.data())
def test_mutated_documents_never_crash_nor_store_garbage(device: str, data: st.DataObject) -> None:
    document = data.draw(mutated(device))
    form = data.draw(st.sampled_from(["object", "text", "bytes"]))
    run_normalizer(device, _as_payload(document, form))


@pytest.mark.parametrize("device", sorted(DOCUMENTS))
@PROPERTY_SETTINGS
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_arbitrary_bytes_and_text_never_crash(device: str, raw: bytes | str) -> None:
    run_normalizer(device, raw)


@PROPERTY_SETTINGS
@given(
    kilojoule=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**6), 10**7)
    )
)
def test_whoop_kilojoule_becomes_total_energy_in_kcal(kilojoule: float) -> None:
    cycle = json.loads((FIXTURES / "whoop" / "cycle.json").read_text())
    cycle["score"]["kilojoule"] = kilojoule
    batch = run_normalizer("whoop", cycle)
    if batch is None:  # a NaN or infinity in the document refuses the whole payload
        assert not math.isfinite(kilojoule)
        return
    energy = [o.value for o in batch.observations if o.metric == "total_energy"]
    expected = kilojoule / 4.184 if math.isfinite(kilojoule) else math.nan
    if math.isfinite(expected) and 0 <= expected <= METRICS["total_energy"].high:
        assert energy == [pytest.approx(expected)]
    else:
        assert energy == []
        assert batch.rejections


UNIT_FACTORS: list[tuple[str, str, float]] = [
    ("sleep_duration", "h", 3600.0),
    ("sleep_duration", "hr", 3600.0),
    ("sleep_duration", "min", 60.0),
    ("sleep_duration", "ms", 1 / 1000),
    ("sleep_duration", "s", 1.0),
    ("hrv_rmssd", "s", 1000.0),
    ("total_energy", "kJ", 1 / 4.184),
    ("workout_distance", "km", 1000.0),
    ("workout_distance", "mi", 1609.344),
]


@PROPERTY_SETTINGS
@given(
    case=st.sampled_from(UNIT_FACTORS),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**7), 10**7)),
    unit_case=st.sampled_from([str.lower, str.upper, lambda s: s]),
)
def test_manual_units_convert_to_the_canonical_unit(
    case: tuple[str, str, float], value: float, unit_case: Any
) -> None:
    metric, unit, factor = case
    entry = {
        "entry_id": "e1",
        "metric": metric,
        "value": value,
        "unit": unit_case(unit),
        "date": "2026-11-02",
    }
    batch = run_normalizer("manual", {"entries": [entry]})
    if batch is None:  # a NaN or infinity in the document refuses the whole payload
        assert not math.isfinite(value)
        return
    values = [o.value for o in batch.observations]
    assert all(o.metric == metric for o in batch.observations)
    spec = METRICS[metric]
    expected = value * factor if math.isfinite(value) else math.nan
    if math.isfinite(expected) and spec.low <= expected <= spec.high:
        assert values == [pytest.approx(expected)]
    else:
        assert values == []
        assert batch.rejections


def test_found_crashes_stay_fixed() -> None:
    """Two crashes these properties found: a Health Auto Export date of "\x00" and a
    WHOOP score_state that is not a string are refused, not raised as TypeError."""
    from auren_graphs.ingestion.normalizers import apple, whoop
    from auren_graphs.ingestion.normalizers.common import NormalizeContext

    context = NormalizeContext("u")
    workout = {"start": "\x00", "end": "2026-11-02 17:31:00 -0800"}
    batch = apple.normalize({"data": {"workouts": [workout]}}, context)
    assert batch.observations == []
    record = {"id": 1, "user_id": 1, "start": "2026-11-01T22:00:00Z", "score_state": ["x"]}
    assert whoop.normalize({"records": [record]}, context).observations == []
