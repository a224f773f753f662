"""WHOOP API v2 documents to canonical observations."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from auren_graphs.canonical import NormalizedBatch, Observation, PayloadError
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.normalizers.whoop import normalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "whoop"
CTX = NormalizeContext(user_id="user-alice", vendor_user_id="10129")
PST = timezone(timedelta(hours=-8))

SLEEP_ID = "8c4f0b7e-2d1a-4e55-9a3c-6f1e2b7d9a10"
NAP_ID = "3b9d2e61-7c40-4f8a-b1d5-0e6a4c2f8b37"
RUN_ID = "a52f1c9e-6b3d-4e07-9f18-2c7d5e0b4a63"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def by_metric(batch: NormalizedBatch) -> dict[str, Observation]:
    found: dict[str, Observation] = {}
    for obs in batch.observations:
        assert obs.metric not in found, f"{obs.metric} emitted twice"
        found[obs.metric] = obs
    return found


def values(batch: NormalizedBatch) -> dict[str, float]:
    return {metric: obs.value for metric, obs in by_metric(batch).items()}


def page(*records: dict[str, Any]) -> dict[str, Any]:
    return {"records": list(records), "next_token": None}


# --- mappings -------------------------------------------------------------------------


def test_recovery_maps_every_score_field() -> None:
    batch = normalize(load("recovery.json"), CTX)

    assert values(batch) == {
        "recovery_score": 67.0,
        "resting_heart_rate": 52.0,
        "hrv_rmssd": pytest.approx(71.403625),  # rMSSD in ms, unchanged
        "spo2": pytest.approx(96.1875),
        "skin_temperature": pytest.approx(33.87),
    }
    for obs in batch.observations:
        assert obs.device == "whoop"
        assert obs.identity == f"whoop:recovery:1093845:{obs.metric}"
        assert obs.combine == "replace"
        assert obs.timestamp is None
    assert batch.rejections == [] and batch.skipped == []
    assert batch.records_seen == 1


def test_recovery_without_spo2_and_skin_temperature_keeps_the_rest() -> None:
    record = load("recovery.json")
    del record["score"]["spo2_percentage"], record["score"]["skin_temp_celsius"]

    batch = normalize(record, CTX)

    assert set(values(batch)) == {"recovery_score", "resting_heart_rate", "hrv_rmssd"}
    assert batch.rejections == []


def test_cycle_maps_strain_energy_and_heart_rates() -> None:
    batch = normalize(load("cycle.json"), CTX)

    assert values(batch) == {
        "strain": pytest.approx(12.604713),
        "total_energy": pytest.approx(9873.2 / 4.184),
        "average_heart_rate": 68.0,
        "max_heart_rate": 171.0,
    }
    assert {obs.identity for obs in batch.observations} == {
        f"whoop:cycle:1093845:{metric}" for metric in values(batch)
    }


def test_kilojoules_become_kilocalories() -> None:
    record = load("cycle.json")
    record["score"]["kilojoule"] = 4184.0

    assert values(normalize(record, CTX))["total_energy"] == pytest.approx(1000.0)


def test_main_sleep_maps_stages_in_seconds() -> None:
    batch = normalize(load("sleep.json"), CTX)

    assert values(batch) == {
        "sleep_duration": pytest.approx(13010 + 6502 + 6856),  # light + slow wave + REM
        "time_in_bed": pytest.approx(28373),
        "sleep_light_duration": pytest.approx(13010),
        "sleep_deep_duration": pytest.approx(6502),
        "sleep_rem_duration": pytest.approx(6856),
        "sleep_awake_duration": pytest.approx(2005),
        "respiratory_rate": pytest.approx(15.8203125),
        "sleep_performance": pytest.approx(94.0),
        "sleep_efficiency": pytest.approx(92.93342),
    }
    for obs in batch.observations:
        assert obs.combine == "best"
        assert obs.rank == pytest.approx(26368)  # seconds asleep
        assert obs.identity == f"whoop:sleep:{SLEEP_ID}:{obs.metric}"


def test_nap_is_summed_as_nap_duration_and_never_as_sleep() -> None:
    batch = normalize(load("nap.json"), CTX)

    [obs] = batch.observations
    assert obs.metric == "nap_duration"
    assert obs.value == pytest.approx(1380 + 400 + 0)
    assert obs.combine == "sum"
    assert obs.day == date(2026, 11, 2)
    assert obs.identity == f"whoop:sleep:{NAP_ID}:nap_duration"


def test_nap_and_main_sleep_in_one_page_stay_apart() -> None:
    batch = normalize(page(load("sleep.json"), load("nap.json")), CTX)

    sleep = [o for o in batch.observations if o.metric == "sleep_duration"]
    naps = [o for o in batch.observations if o.metric == "nap_duration"]
    assert [o.value for o in sleep] == [pytest.approx(26368)]
    assert [o.value for o in naps] == [pytest.approx(1780)]


def test_workout_maps_values_and_keeps_its_start_as_an_aware_timestamp() -> None:
    batch = normalize(load("workout.json"), CTX)

    assert values(batch) == {
        "workout_duration": pytest.approx(48 * 60 + 30),
        "workout_energy": pytest.approx(2510.4 / 4.184),
        "workout_strain": pytest.approx(11.8275),
        "workout_average_heart_rate": 152.0,
        "workout_max_heart_rate": 178.0,
        "workout_distance": pytest.approx(8045.2),
    }
    for obs in batch.observations:
        assert obs.timestamp == datetime(2026, 11, 3, 1, 30, tzinfo=UTC)
        assert obs.timestamp is not None and obs.timestamp.utcoffset() == timedelta(hours=-8)
        assert obs.identity == f"whoop:workout:{RUN_ID}:{obs.metric}"


def test_workout_without_distance_has_no_distance() -> None:
    batch = normalize(load("workout_page.json"), CTX)

    lift = [o for o in batch.observations if "5e0c7a38" in o.identity]
    assert {o.metric for o in lift} == {
        "workout_duration",
        "workout_energy",
        "workout_strain",
        "workout_average_heart_rate",
        "workout_max_heart_rate",
    }


# --- days -----------------------------------------------------------------------------


def test_sleep_day_is_the_local_date_of_its_end() -> None:
    # Ends 2026-11-02T14:41Z = 06:41 on 2 November in -08:00.
    batch = normalize(load("sleep.json"), CTX)

    assert {obs.day for obs in batch.observations} == {date(2026, 11, 2)}


def test_sleep_day_follows_the_offset_across_midnight() -> None:
    # Tokyo: ends 2026-11-02T21:30Z, which is 06:30 on 3 November local time.
    record = load("sleep.json")
    record |= {
        "start": "2026-11-02T13:05:00.000Z",
        "end": "2026-11-02T21:30:00.000Z",
        "timezone_offset": "+09:00",
    }

    batch = normalize(record, CTX)

    assert {obs.day for obs in batch.observations} == {date(2026, 11, 3)}


def test_workout_day_is_the_local_date_of_its_start_across_midnight() -> None:
    # Starts 2026-11-03T01:30Z, which is 17:30 on 2 November in -08:00.
    batch = normalize(load("workout.json"), CTX)

    assert {obs.day for obs in batch.observations} == {date(2026, 11, 2)}


@pytest.mark.parametrize(
    ("start", "offset", "expected"),
    [
        # Sleep onset 22:48 on 1 Nov (PST): the cycle is the day woken into, 2 Nov.
        ("2026-11-02T06:48:12.000Z", "-08:00", date(2026, 11, 2)),
        # Onset after midnight, 01:10 on 2 Nov: that same day.
        ("2026-11-02T09:10:00.000Z", "-08:00", date(2026, 11, 2)),
        # A day sleeper's onset at 09:00 on 2 Nov: that day.
        ("2026-11-02T17:00:00.000Z", "-08:00", date(2026, 11, 2)),
        # Local noon is the changeover: 12:00 on 2 Nov opens 3 Nov's cycle.
        ("2026-11-02T20:00:00.000Z", "-08:00", date(2026, 11, 3)),
        # Tokyo onset 23:30 on 2 Nov (14:30Z): 3 Nov.
        ("2026-11-02T14:30:00.000Z", "+09:00", date(2026, 11, 3)),
        # 'Z' is a valid TZD: onset 23:00 UTC on 2 Nov: 3 Nov.
        ("2026-11-02T23:00:00.000Z", "Z", date(2026, 11, 3)),
    ],
)
def test_cycle_day_is_the_day_woken_into(start: str, offset: str, expected: date) -> None:
    record = load("cycle.json")
    record |= {"start": start, "timezone_offset": offset}
    del record["end"]

    batch = normalize(record, CTX)

    assert {obs.day for obs in batch.observations} == {expected}


def test_cycle_day_does_not_change_once_the_cycle_ends() -> None:
    current = load("cycle_page.json")["records"][0]
    ended = current | {"end": "2026-11-04T06:58:00.000Z"}

    assert {o.day for o in normalize(current, CTX).observations} == {date(2026, 11, 3)}
    assert {o.day for o in normalize(ended, CTX).observations} == {date(2026, 11, 3)}


def test_recovery_alone_takes_the_utc_date_it_was_scored() -> None:
    record = load("recovery.json")
    record["created_at"] = "2026-11-05T16:20:00.000Z"

    batch = normalize(record, CTX)

    assert {obs.day for obs in batch.observations} == {date(2026, 11, 5)}


def test_recovery_takes_the_day_of_its_sleep_when_the_payload_carries_it() -> None:
    # Tokyo: woke 06:30 on 3 Nov local, scored at 21:35Z on 2 Nov.
    sleep = load("sleep.json") | {
        "start": "2026-11-02T13:05:00.000Z",
        "end": "2026-11-02T21:30:00.000Z",
        "timezone_offset": "+09:00",
    }
    recovery = load("recovery.json") | {"created_at": "2026-11-02T21:35:00.000Z"}

    batch = normalize([recovery, sleep], CTX)

    days = {o.day for o in batch.observations if o.identity.startswith("whoop:recovery:")}
    assert days == {date(2026, 11, 3)}
    assert days == {o.day for o in batch.observations if o.metric == "sleep_duration"}


def test_recovery_takes_the_day_of_its_cycle_when_only_the_cycle_is_there() -> None:
    cycle = load("cycle.json") | {"start": "2026-11-02T14:30:00.000Z", "timezone_offset": "+09:00"}
    recovery = load("recovery.json") | {"created_at": "2026-11-02T21:35:00.000Z"}

    batch = normalize(page(cycle, recovery), CTX)

    assert {o.day for o in batch.observations} == {date(2026, 11, 3)}


def test_recovery_with_no_way_to_place_it_is_rejected() -> None:
    record = load("recovery.json")
    del record["created_at"]

    batch = normalize(record, CTX)

    assert batch.observations == []
    [rejection] = batch.rejections
    assert rejection.ref == "whoop:recovery:1093845"
    assert "created_at" in rejection.reason


# --- pages, single records, pending scores --------------------------------------------


@pytest.mark.parametrize(
    ("name", "stored_metrics", "skipped_refs"),
    [
        (
            "cycle_page.json",
            8,
            ["whoop:cycle:1093844"],
        ),
        (
            "recovery_page.json",
            5,
            ["whoop:recovery:1093846", "whoop:recovery:1093844"],
        ),
        (
            "sleep_page.json",
            10,
            [
                "whoop:sleep:f1a7c3d9-5e2b-4c8f-a6d0-9b3e7f1c5a24",
                "whoop:sleep:0d6e8b42-91f3-4a7c-8e25-c4b1a9d73f06",
            ],
        ),
        (
            "workout_page.json",
            11,
            ["whoop:workout:c7d3e9f1-2a4b-4c6d-8e0f-1a2b3c4d5e6f"],
        ),
    ],
)
def test_pages_store_scored_records_and_skip_the_rest(
    name: str, stored_metrics: int, skipped_refs: list[str]
) -> None:
    document = load(name)

    batch = normalize(document, CTX)

    assert batch.records_seen == len(document["records"])
    assert len(batch.observations) == stored_metrics
    assert batch.rejections == []
    assert [s.ref for s in batch.skipped] == skipped_refs
    for skipped in batch.skipped:
        assert skipped.reason in {"score not ready: PENDING_SCORE", "score not ready: UNSCORABLE"}


@pytest.mark.parametrize("state", ["PENDING_SCORE", "UNSCORABLE"])
@pytest.mark.parametrize("name", ["cycle.json", "recovery.json", "sleep.json", "workout.json"])
def test_a_score_that_is_not_ready_stores_nothing(name: str, state: str) -> None:
    record = load(name)
    record["score_state"] = state
    del record["score"]

    batch = normalize(record, CTX)

    assert batch.observations == []
    assert batch.rejections == []
    [skipped] = batch.skipped
    assert skipped.reason == f"score not ready: {state}"


def test_the_same_record_alone_and_in_a_page_gives_the_same_observations() -> None:
    record = load("sleep.json")

    assert normalize(record, CTX).observations == normalize(page(record), CTX).observations


@pytest.mark.parametrize("encode", [json.dumps, lambda doc: json.dumps(doc).encode()])
def test_text_and_bytes_payloads_are_decoded(encode: Any) -> None:
    document = load("workout_page.json")

    assert normalize(encode(document), CTX) == normalize(document, CTX)


def test_a_mixed_bare_list_of_records_is_accepted() -> None:
    records = [load(n) for n in ("cycle.json", "recovery.json", "sleep.json", "workout.json")]

    batch = normalize(records, CTX)

    assert batch.records_seen == 4
    assert {o.identity.split(":")[1] for o in batch.observations} == {
        "cycle",
        "recovery",
        "sleep",
        "workout",
    }


def test_an_empty_page_is_an_empty_batch() -> None:
    batch = normalize({"records": [], "next_token": None}, CTX)

    assert batch == NormalizedBatch()


@pytest.mark.parametrize("name", [p.name for p in sorted(FIXTURES.glob("*.json"))])
def test_identities_are_stable_across_two_normalizations(name: str) -> None:
    text = (FIXTURES / name).read_text()

    first, second = normalize(text, CTX), normalize(text.encode(), CTX)

    assert [o.identity for o in first.observations] == [o.identity for o in second.observations]
    assert first == second


def test_uuid_ids_are_canonicalised_so_identities_do_not_depend_on_case() -> None:
    upper = load("sleep.json") | {"id": SLEEP_ID.upper()}

    identities = {o.identity for o in normalize(upper, CTX).observations}

    assert all(i.startswith(f"whoop:sleep:{SLEEP_ID}:") for i in identities)


# --- vendor user ----------------------------------------------------------------------


def test_records_of_another_whoop_user_are_refused_and_the_rest_is_kept() -> None:
    foreign = load("workout.json") | {"user_id": 99999}
    own = load("cycle.json")

    batch = normalize(page(foreign, own), CTX)

    assert {o.identity.split(":")[1] for o in batch.observations} == {"cycle"}
    [rejection] = batch.rejections
    assert rejection.ref == f"whoop:workout:{RUN_ID}"
    assert rejection.reason == (
        "this workout belongs to WHOOP user 99999, but this user is connected to WHOOP user 10129"
    )


def test_a_foreign_record_is_refused_even_while_its_score_is_pending() -> None:
    record = load("recovery_page.json")["records"][0] | {"user_id": 4242}

    batch = normalize(record, CTX)

    assert batch.skipped == []
    assert "WHOOP user 4242" in batch.rejections[0].reason


def test_user_ids_compare_as_strings() -> None:
    ctx = NormalizeContext(user_id="user-alice", vendor_user_id="10129")
    record = load("cycle.json") | {"user_id": "10129"}

    assert normalize(record, ctx).rejections == []


def test_without_a_connected_vendor_user_any_user_id_is_accepted() -> None:
    record = load("cycle.json") | {"user_id": 99999}

    batch = normalize(record, NormalizeContext(user_id="user-alice"))

    assert len(batch.observations) == 4 and batch.rejections == []


# --- bad records ----------------------------------------------------------------------


def test_an_implausible_value_is_rejected_with_a_reason_and_the_rest_kept() -> None:
    record = load("recovery.json")
    record["score"]["resting_heart_rate"] = 400

    batch = normalize(record, CTX)

    assert "resting_heart_rate" not in values(batch)
    assert set(values(batch)) == {"recovery_score", "hrv_rmssd", "spo2", "skin_temperature"}
    [rejection] = batch.rejections
    assert rejection.ref == "whoop:recovery:1093845"
    assert "resting_heart_rate" in rejection.reason and "plausible range" in rejection.reason


def test_a_non_number_value_is_rejected_and_names_the_field() -> None:
    record = load("sleep.json")
    record["score"]["stage_summary"]["total_rem_sleep_time_milli"] = "lots"

    batch = normalize(record, CTX)

    reasons = [r.reason for r in batch.rejections]
    assert any(r.startswith("sleep_rem_duration: score.stage_summary.total_rem") for r in reasons)
    # The asleep total needs REM, so it is refused too; the other stages are kept.
    assert any(r.startswith("sleep_duration:") for r in reasons)
    assert {"time_in_bed", "sleep_light_duration", "sleep_deep_duration"} <= set(values(batch))


def test_a_workout_longer_than_a_day_is_implausible() -> None:
    record = load("workout.json") | {"end": "2026-11-04T02:18:30.000Z"}

    batch = normalize(record, CTX)

    assert "workout_duration" not in values(batch)
    assert "workout_strain" in values(batch)
    assert "workout_duration" in batch.rejections[0].reason


@pytest.mark.parametrize(
    ("change", "ref", "reason"),
    [
        ({"id": None}, "whoop:records[0]", "sleep has no id"),
        ({"id": 93845}, "whoop:records[0]", "WHOOP API v1 id"),
        ({"id": "not-a-uuid"}, "whoop:records[0]", "is not a UUID"),
        ({"end": None}, f"whoop:sleep:{SLEEP_ID}", "record has no end"),
        ({"end": "yesterday"}, f"whoop:sleep:{SLEEP_ID}", "end: timestamp 'yesterday'"),
        ({"end": "2026-11-02T05:00:00.000Z"}, f"whoop:sleep:{SLEEP_ID}", "is before start"),
        ({"timezone_offset": None}, f"whoop:sleep:{SLEEP_ID}", "no timezone_offset"),
        ({"timezone_offset": "PST"}, f"whoop:sleep:{SLEEP_ID}", "timezone_offset 'PST'"),
        ({"score_state": None}, f"whoop:sleep:{SLEEP_ID}", "no score_state"),
        ({"score_state": "DONE"}, f"whoop:sleep:{SLEEP_ID}", "unknown score_state 'DONE'"),
        ({"score": None}, f"whoop:sleep:{SLEEP_ID}", "SCORED but the record has no score"),
        ({"nap": "yes"}, f"whoop:sleep:{SLEEP_ID}", "nap is 'yes'"),
    ],
)
def test_a_broken_record_is_rejected_and_the_page_goes_on(
    change: dict[str, Any], ref: str, reason: str
) -> None:
    broken = load("sleep.json")
    for key, value in change.items():
        if value is None:
            del broken[key]
        else:
            broken[key] = value

    batch = normalize(page(broken, load("workout.json")), CTX)

    assert batch.records_seen == 2
    [rejection] = batch.rejections
    assert rejection.ref == ref
    assert reason in rejection.reason
    assert {o.identity.split(":")[1] for o in batch.observations} == {"workout"}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("a string", "JSON object, not a string"),
        ({"hello": "world"}, "not a cycle, recovery, sleep or workout record"),
    ],
)
def test_unrecognisable_records_in_a_page_are_rejected(record: object, reason: str) -> None:
    batch = normalize({"records": [record, load("cycle.json")]}, CTX)

    [rejection] = batch.rejections
    assert rejection.ref == "whoop:records[0]"
    assert reason in rejection.reason
    assert len(batch.observations) == 4


def test_a_cycle_id_given_as_digits_names_the_same_cycle() -> None:
    record = load("cycle.json") | {"id": "1093845"}

    assert normalize(record, CTX) == normalize(load("cycle.json"), CTX)


# --- wholly invalid payloads ----------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff\xfe", "not valid UTF-8"),
        ("{not json", "not valid JSON"),
        ("42", "got a number"),
        ("null", "got null"),
        ('"records"', "got a string"),
        ({"records": {"id": 1}}, "'records' is an object, not a list"),
        ({"data": [], "next_token": None}, "keys [data, next_token]"),
        ({}, "keys (none)"),
        ([{"day": "2026-11-02", "score": 80}], "none of the list's items"),
    ],
)
def test_a_wholly_invalid_payload_raises_with_a_useful_message(
    payload: object, message: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        normalize(payload, CTX)

    assert message in str(caught.value)


def test_normalizing_does_not_modify_the_payload() -> None:
    document = load("sleep_page.json")
    before = copy.deepcopy(document)

    normalize(document, CTX)

    assert document == before


def test_local_timestamps_keep_the_record_offset() -> None:
    batch = normalize(load("workout.json"), CTX)

    stamp = batch.observations[0].timestamp
    assert stamp is not None
    assert stamp.astimezone(PST).hour == 17
