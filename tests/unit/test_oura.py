"""The Oura normalizer: Oura API v2 documents in, canonical observations out."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auren_graphs.canonical import METRICS, NormalizedBatch, Observation, PayloadError
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.normalizers.oura import normalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oura"
CTX = NormalizeContext(user_id="user-alice", vendor_user_id="7XKQ2MZP4R")
LONG_SLEEP_ID = "a3d9e1f0-6b2c-4d8e-9f1a-2b3c4d5e6f70"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def run(payload: object, ctx: NormalizeContext = CTX) -> NormalizedBatch:
    return normalize(payload, ctx)


def values(batch: NormalizedBatch) -> dict[tuple[str, date], float]:
    """(metric, day) → value, for batches where each pair occurs once."""
    pairs = [(obs.metric, obs.day) for obs in batch.observations]
    assert len(pairs) == len(set(pairs)), "expected one observation per metric and day"
    return {(obs.metric, obs.day): obs.value for obs in batch.observations}


def by_metric(batch: NormalizedBatch, metric: str) -> list[Observation]:
    return [obs for obs in batch.observations if obs.metric == metric]


def resolve_best(observations: list[Observation]) -> dict[tuple[str, date], Observation]:
    """What the store keeps for `combine="best"`: per metric and day, the highest rank."""
    best: dict[tuple[str, date], Observation] = {}
    for obs in observations:
        key = (obs.metric, obs.day)
        if key not in best or obs.rank > best[key].rank:
            best[key] = obs
    return best


def page(*documents: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(documents), "next_token": None}


def long_sleep(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(fixture("sleep_document.json"))
    document.update(changes)
    return document


# ------------------------------------------------------------------ daily documents

D12, D13, D14, D15 = (date(2026, 1, day) for day in (12, 13, 14, 15))


def test_daily_readiness_maps_score_and_temperature_deviation() -> None:
    batch = run(fixture("daily_readiness_page.json"))
    assert values(batch) == {
        ("readiness_score", D12): 82,
        ("temperature_deviation", D12): -0.21,
        ("readiness_score", D13): 74,
        ("temperature_deviation", D13): 0.35,
    }
    assert batch.records_seen == 3
    assert batch.rejections == []
    assert all(obs.device == "oura" and obs.timestamp is None for obs in batch.observations)


def test_readiness_not_scored_yet_is_skipped_not_rejected() -> None:
    batch = run(fixture("daily_readiness_page.json"))
    assert [skip.ref for skip in batch.skipped] == [
        "oura:daily_readiness:c7e81b5a-03d4-4f2e-b6a9-58e1d0c3f7a9"
    ]
    assert "null" in batch.skipped[0].reason
    assert not [obs for obs in batch.observations if obs.day == D14]


def test_a_null_field_is_left_out_and_the_rest_of_the_document_kept() -> None:
    document = fixture("daily_readiness_document.json") | {"temperature_deviation": None}
    batch = run(document)
    assert values(batch) == {("readiness_score", D12): 82}
    assert batch.skipped == [] and batch.rejections == []


def test_daily_sleep_maps_sleep_score_and_ignores_contributors() -> None:
    batch = run(fixture("daily_sleep_page.json"))
    assert values(batch) == {("sleep_score", D13): 85, ("sleep_score", D14): 78}
    assert [skip.ref for skip in batch.skipped] == [
        "oura:daily_sleep:0a6d3f28-9e1b-47c5-a2d8-c4b5e6f7a8b9"
    ]


def test_daily_activity_maps_steps_energy_in_kcal_and_score() -> None:
    batch = run(fixture("daily_activity_page.json"))
    assert values(batch) == {
        ("steps", D13): 9412,
        ("active_energy", D13): 512,
        ("total_energy", D13): 2648,
        ("activity_score", D13): 87,
        # Day two has no activity score yet, but its steps and calories are real.
        ("steps", D14): 3305,
        ("active_energy", D14): 188,
        ("total_energy", D14): 1904,
    }
    assert batch.skipped == [] and batch.rejections == []


def test_daily_spo2_maps_the_average_percentage() -> None:
    batch = run(fixture("daily_spo2_page.json"))
    assert values(batch) == {("spo2", D13): 96.874}
    assert [skip.ref for skip in batch.skipped] == [
        "oura:daily_spo2:1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
    ]


def test_spo2_percentage_that_is_not_an_object_is_rejected_with_a_reason() -> None:
    document = fixture("daily_spo2_document.json") | {"spo2_percentage": [96.8]}
    batch = run(document)
    assert batch.observations == []
    assert len(batch.rejections) == 1
    assert "spo2_percentage is an array, not an object" in batch.rejections[0].reason


def test_every_observation_uses_a_canonical_metric() -> None:
    for name in sorted(path.name for path in FIXTURES.glob("*.json")):
        for obs in run(fixture(name)).observations:
            assert obs.metric in METRICS, (name, obs.metric)


# ------------------------------------------------------------------ sleep periods


def test_main_sleep_maps_every_metric_in_canonical_units() -> None:
    batch = run(fixture("sleep_document.json"))
    assert values(batch) == {
        ("sleep_duration", D13): 25620,  # seconds asleep, awake time excluded
        ("time_in_bed", D13): 28440,
        ("sleep_light_duration", D13): 13260,
        ("sleep_deep_duration", D13): 5220,
        ("sleep_rem_duration", D13): 7140,
        ("sleep_awake_duration", D13): 2820,
        ("hrv_rmssd", D13): 46,
        ("resting_heart_rate", D13): 51,
        ("sleep_average_heart_rate", D13): 57.25,
        ("sleep_efficiency", D13): 90,
        ("respiratory_rate", D13): 14.875,
    }
    assert not by_metric(batch, "hrv_sdnn"), "Oura HRV is rMSSD, never SDNN"


def test_main_sleep_values_are_best_of_day_ranked_by_total_sleep() -> None:
    batch = run(fixture("sleep_document.json"))
    assert {(obs.combine, obs.rank) for obs in batch.observations} == {("best", 25620.0)}
    assert {obs.identity.rsplit(":", 1)[0] for obs in batch.observations} == {
        f"oura:sleep:{LONG_SLEEP_ID}"
    }


def test_main_sleep_uses_its_own_day_not_the_bedtime_date() -> None:
    # Bedtime starts on the 12th, Oura files the night under the 13th: that is the day.
    batch = run(fixture("sleep_document.json"))
    assert {obs.day for obs in batch.observations} == {D13}


def test_naps_are_summed_into_nap_duration_and_never_into_sleep_duration() -> None:
    batch = run(fixture("sleep_page.json"))
    naps = by_metric(batch, "nap_duration")
    assert sorted((obs.day, obs.value) for obs in naps) == [(D13, 1500), (D14, 2280)]
    assert all(obs.combine == "sum" for obs in naps)
    assert [(obs.day, obs.value) for obs in by_metric(batch, "sleep_duration")] == [(D13, 25620)]


def test_a_nap_gives_no_night_metrics() -> None:
    batch = run(fixture("sleep_page.json"))
    # The nap's lowest heart rate (58) and HRV (38) must not become the day's values.
    assert [obs.value for obs in by_metric(batch, "resting_heart_rate")] == [51]
    assert [obs.value for obs in by_metric(batch, "hrv_rmssd")] == [46]


def test_late_nap_counts_on_the_day_oura_gives_it() -> None:
    # A late nap ends after Oura's 6 pm day change and belongs to the next day.
    batch = run(fixture("sleep_page.json"))
    late = [obs for obs in by_metric(batch, "nap_duration") if "c5f1a3b2" in obs.identity]
    assert [(obs.day, obs.value) for obs in late] == [(D14, 2280)]


def test_deleted_and_rest_periods_store_nothing() -> None:
    batch = run(fixture("sleep_page.json"))
    assert not [obs for obs in batch.observations if "d6a2b4c3" in obs.identity]
    assert not [obs for obs in batch.observations if "e7b3c5d4" in obs.identity]
    skipped = {skip.ref.rsplit(":", 1)[1]: skip.reason for skip in batch.skipped}
    assert "rejected by the user" in skipped["d6a2b4c3-9e5f-4a1b-8c4d-5e6f7a8b9ca3"]
    assert "deleted" in skipped["e7b3c5d4-0f6a-4b2c-9d5e-6f7a8b9cadb4"]
    assert batch.rejections == []
    assert batch.records_seen == 5


def test_two_long_sleeps_in_a_day_the_longer_wins_for_every_metric() -> None:
    short = long_sleep(
        id="short-night",
        total_sleep_duration=12000,
        time_in_bed=14000,
        average_hrv=80,
        lowest_heart_rate=44,
        light_sleep_duration=6000,
        deep_sleep_duration=3000,
        rem_sleep_duration=3000,
        awake_time=2000,
        average_heart_rate=49.5,
        efficiency=86,
        average_breath=13.5,
    )
    # The shorter one comes first in the page, so order cannot be what decides.
    batch = run(page(short, long_sleep()))
    winners = resolve_best(batch.observations)
    assert {obs.identity.split(":")[2] for obs in winners.values()} == {LONG_SLEEP_ID}
    assert winners[("hrv_rmssd", D13)].value == 46
    assert winners[("sleep_duration", D13)].value == 25620
    assert len(winners) == 11


def test_sleep_period_with_unknown_type_is_rejected() -> None:
    batch = run(page(long_sleep(type="nap"), long_sleep(id="other", type=None)))
    assert batch.observations == []
    assert len(batch.rejections) == 2
    assert "'nap' is not one of" in batch.rejections[0].reason
    assert "None is not one of" in batch.rejections[1].reason


def test_long_sleep_without_any_value_yet_is_skipped() -> None:
    empty = dict.fromkeys(
        [
            "total_sleep_duration",
            "time_in_bed",
            "light_sleep_duration",
            "deep_sleep_duration",
            "rem_sleep_duration",
            "awake_time",
            "average_hrv",
            "lowest_heart_rate",
            "average_heart_rate",
            "efficiency",
            "average_breath",
        ]
    )
    batch = run(long_sleep(**empty))
    assert batch.observations == [] and batch.rejections == []
    assert [skip.ref for skip in batch.skipped] == [f"oura:sleep:{LONG_SLEEP_ID}"]


# ------------------------------------------------------------------ heart rate


def test_heartrate_rows_become_aware_samples_with_unique_identities() -> None:
    batch = run(fixture("heartrate_page.json"))
    samples = by_metric(batch, "heart_rate")
    assert [obs.value for obs in samples] == [61, 58, 56, 54, 118]
    assert all(obs.timestamp is not None and obs.timestamp.tzinfo for obs in samples)
    assert samples[0].timestamp == datetime(2026, 1, 13, 23, 58, tzinfo=UTC)
    assert [obs.day for obs in samples] == [D13, D13, D14, D14, D14]
    identities = [obs.identity for obs in samples]
    assert len(set(identities)) == len(identities)
    assert identities[0] == "oura:heartrate:2026-01-13T23:58:00+00:00:heart_rate"
    assert all(obs.combine == "replace" for obs in samples)


def test_heartrate_day_is_the_local_date_in_the_rows_own_offset() -> None:
    pacific = timezone(timedelta(hours=-8))
    rows = [
        {"bpm": 62, "source": "awake", "timestamp": "2026-01-13T23:55:00-08:00"},
        {"bpm": 57, "source": "sleep", "timestamp": "2026-01-14T00:05:00-08:00"},
    ]
    samples = run(page(*rows)).observations
    # 23:55 local is already the 14th in UTC; the local calendar day decides.
    assert [obs.day for obs in samples] == [D13, D14]
    assert [obs.timestamp for obs in samples] == [
        datetime(2026, 1, 13, 23, 55, tzinfo=pacific),
        datetime(2026, 1, 14, 0, 5, tzinfo=pacific),
    ]
    assert samples[0].timestamp is not None and samples[0].timestamp.utcoffset() == timedelta(
        hours=-8
    )


def test_the_same_sample_written_with_another_offset_has_the_same_identity() -> None:
    utc = run({"bpm": 62, "source": "awake", "timestamp": "2026-01-14T07:55:00Z"})
    local = run({"bpm": 62, "source": "awake", "timestamp": "2026-01-13T23:55:00-08:00"})
    assert utc.observations[0].identity == local.observations[0].identity


def test_heartrate_row_without_a_usable_timestamp_is_rejected_and_the_rest_kept() -> None:
    rows = [
        {"bpm": 60, "source": "awake", "timestamp": "2026-01-13T08:00:00+00:00"},
        {"bpm": 61, "source": "awake"},
        {"bpm": 62, "source": "awake", "timestamp": "2026-01-13T08:02:00"},
        {"bpm": 63, "source": "awake", "timestamp": "yesterday"},
    ]
    batch = run(page(*rows))
    assert [obs.value for obs in batch.observations] == [60]
    assert [rejection.ref for rejection in batch.rejections] == [
        "oura:heartrate:data[1]",
        "oura:heartrate:data[2]",
        "oura:heartrate:data[3]",
    ]
    assert "has no UTC offset" in batch.rejections[1].reason
    assert "not ISO 8601" in batch.rejections[2].reason
    assert batch.records_seen == 4


# ------------------------------------------------------------------ payload forms

PAIRS = [
    ("daily_readiness_page.json", "daily_readiness_document.json"),
    ("daily_sleep_page.json", "daily_sleep_document.json"),
    ("daily_activity_page.json", "daily_activity_document.json"),
    ("daily_spo2_page.json", "daily_spo2_document.json"),
    ("sleep_page.json", "sleep_document.json"),
    ("heartrate_page.json", "heartrate_row.json"),
]


@pytest.mark.parametrize(("page_name", "document_name"), PAIRS)
def test_a_single_document_normalizes_like_its_entry_in_a_page(
    page_name: str, document_name: str
) -> None:
    single = run(fixture(document_name))
    in_page = run(fixture(page_name))
    assert single.observations
    assert set(single.observations) <= set(in_page.observations)
    assert single.records_seen == 1


@pytest.mark.parametrize("name", [name for pair in PAIRS for name in pair])
def test_json_text_bytes_and_parsed_payloads_give_the_same_batch(name: str) -> None:
    text = (FIXTURES / name).read_text()
    parsed = run(json.loads(text))
    assert run(text) == parsed
    assert run(text.encode("utf-8")) == parsed


def test_a_bare_list_of_documents_is_accepted() -> None:
    documents = fixture("daily_readiness_page.json")["data"]
    assert run(documents) == run(fixture("daily_readiness_page.json"))


@pytest.mark.parametrize("payload", [{"data": [], "next_token": None}, "[]", {"data": []}])
def test_an_empty_page_is_valid_and_empty(payload: object) -> None:
    batch = run(payload)
    assert batch == NormalizedBatch()


def test_identities_are_stable_across_runs_and_unique_within_a_payload() -> None:
    for name in sorted(path.name for path in FIXTURES.glob("*.json")):
        first = [obs.identity for obs in run(fixture(name)).observations]
        second = [obs.identity for obs in run(fixture(name)).observations]
        assert first == second, name
        assert len(set(first)) == len(first), name


def test_vendor_user_id_is_not_required_of_oura_documents() -> None:
    without = run(fixture("daily_sleep_document.json"), NormalizeContext(user_id="user-alice"))
    assert without == run(fixture("daily_sleep_document.json"))


def test_a_document_naming_another_vendor_user_is_refused() -> None:
    mine = fixture("daily_sleep_document.json") | {"user_id": "7XKQ2MZP4R"}
    theirs = fixture("daily_sleep_document.json") | {"id": "other", "user_id": "SOMEONE"}
    batch = run(page(mine, theirs))
    assert [obs.identity for obs in batch.observations] == [
        "oura:daily_sleep:5d2b8f61-7c3e-4a90-b1d4-e6f7a8c9b0d3:sleep_score"
    ]
    assert [rejection.ref for rejection in batch.rejections] == ["oura:daily_sleep:other"]
    assert "'SOMEONE'" in batch.rejections[0].reason


# ------------------------------------------------------------------ bad records


def test_implausible_values_are_rejected_with_a_reason_and_the_rest_kept() -> None:
    batch = run(page(long_sleep(average_hrv=900, lowest_heart_rate=5)))
    assert len(batch.observations) == 9
    assert {rejection.ref for rejection in batch.rejections} == {f"oura:sleep:{LONG_SLEEP_ID}"}
    assert sorted(rejection.reason for rejection in batch.rejections) == [
        "hrv_rmssd: 900 ms is outside the plausible range [1, 500]",
        "resting_heart_rate: 5 bpm is outside the plausible range [20, 150]",
    ]


def test_implausible_records_do_not_stop_the_page() -> None:
    activity = fixture("daily_activity_page.json")
    activity["data"][0]["steps"] = -40
    activity["data"][1]["total_calories"] = "lots"
    batch = run(activity)
    assert ("steps", D13) not in values(batch)
    assert ("total_energy", D14) not in values(batch)
    assert values(batch)[("steps", D14)] == 3305
    assert sorted(rejection.reason for rejection in batch.rejections) == [
        "steps: -40 count is outside the plausible range [0, 200000]",
        "total_energy: value 'lots' is not a number",
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "has no id"),
        ({"id": ""}, "has no id"),
        ({"id": 42}, "has no id"),
        ({"day": None}, "has no valid day"),
        ({"day": "13/01/2026"}, "is not YYYY-MM-DD"),
    ],
)
def test_document_without_a_valid_id_or_day_is_rejected_and_the_page_goes_on(
    change: dict[str, Any], reason: str
) -> None:
    documents = fixture("daily_readiness_page.json")
    documents["data"][0].update(change)
    batch = run(documents)
    assert len(batch.rejections) == 1
    assert reason in batch.rejections[0].reason
    assert "daily_readiness" in batch.rejections[0].ref
    assert values(batch)[("readiness_score", D13)] == 74
    assert batch.records_seen == 3


def test_records_that_are_not_documents_are_rejected_when_others_are() -> None:
    documents = fixture("daily_sleep_page.json")
    documents["data"] += [17, {"foo": 1}]
    batch = run(documents)
    assert len(by_metric(batch, "sleep_score")) == 2
    assert [(rejection.ref, rejection.reason) for rejection in batch.rejections] == [
        ("data[3]", "record is a number, not an Oura document object"),
        ("data[4]", "record is not a recognised Oura document (fields: foo)"),
    ]
    assert batch.records_seen == 5


def test_a_record_with_fields_of_two_kinds_is_rejected() -> None:
    hybrid = {"id": "x", "day": "2026-01-13", "steps": 10, "bpm": 60}
    batch = run(page(hybrid, fixture("daily_sleep_document.json")))
    assert "several Oura document kinds (daily_activity, heartrate)" in (batch.rejections[0].reason)


# ------------------------------------------------------------------ garbage payloads


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff\xfe", "not valid UTF-8"),
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ('{"score": NaN}', "not valid JSON"),
        ("42", "must be a JSON object .* not a number"),
        ("null", "must be a JSON object .* not null"),
        ('"a string"', "must be a JSON object .* not a string"),
        ({"data": {"id": "x"}}, "'data' must be a list of documents, not an object"),
        ({"data": None}, "'data' must be a list of documents, not null"),
        ({}, "no Oura document kind recognised in the document"),
        ({"detail": "Unauthorized"}, r"no Oura document kind .*fields: detail"),
        ([1, 2, 3], "no Oura document kind recognised in any of the 3 records"),
        ({"data": [{"records": []}]}, "no Oura document kind recognised"),
        (
            {"data": [{"id": "w", "activity": "running", "calories": 300}]},
            "expected daily_readiness, daily_sleep, sleep, daily_activity, daily_spo2, heartrate",
        ),
    ],
)
def test_wholly_invalid_payloads_raise_payload_error_saying_why(
    payload: object, message: str
) -> None:
    with pytest.raises(PayloadError, match=message):
        run(payload)


# ------------------------------------------------------------------ robustness

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
ALL_DOCUMENTS = [
    document
    for name in sorted(path.name for path in FIXTURES.glob("*.json"))
    for document in (fixture(name)["data"] if "data" in fixture(name) else [fixture(name)])
]


@settings(max_examples=150, deadline=None)
@given(payload=JSON_VALUES)
def test_any_json_either_normalizes_or_raises_payload_error(payload: object) -> None:
    with contextlib.suppress(PayloadError):
        run(payload)


@settings(max_examples=300, deadline=None)
@given(
    document=st.sampled_from(ALL_DOCUMENTS),
    field=st.sampled_from(
        [
            "id",
            "day",
            "type",
            "timestamp",
            "score",
            "bpm",
            "total_sleep_duration",
            "spo2_percentage",
            "contributors",
            "average_hrv",
            "steps",
            "user_id",
        ]
    ),
    value=JSON_VALUES,
)
def test_a_real_document_with_one_field_garbled_never_crashes(
    document: dict[str, Any], field: str, value: object
) -> None:
    garbled = copy.deepcopy(document) | {field: value}
    batch = run(page(garbled, fixture("daily_sleep_document.json")))
    assert batch.records_seen == 2
    for obs in batch.observations:
        assert obs.metric in METRICS


def test_a_sleep_type_that_is_not_text_is_rejected_not_crashed() -> None:
    batch = run(long_sleep(type=["long_sleep"]))
    assert batch.observations == []
    assert "['long_sleep'] is not one of" in batch.rejections[0].reason
