"""Manual entries (AUREN's own format) to canonical observations."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from auren_graphs.canonical import METRICS, NormalizedBatch, Observation, PayloadError
from auren_graphs.ingestion.normalizers.common import NormalizeContext
from auren_graphs.ingestion.normalizers.manual import normalize

CTX = NormalizeContext(user_id="user-alice")
PST = timezone(timedelta(hours=-8))


def entry(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "entry_id": "e-1",
        "metric": "resting_heart_rate",
        "value": 53,
        "unit": "bpm",
        "measured_at": "2026-11-02T07:30:00-08:00",
    }
    return {k: v for k, v in (base | fields).items() if v is not None}


def without(key: str, **fields: Any) -> dict[str, Any]:
    made = entry(**fields)
    del made[key]
    return made


def one(batch: NormalizedBatch) -> Observation:
    assert batch.rejections == [], batch.rejections
    [obs] = batch.observations
    return obs


def reason_for(payload: object, ctx: NormalizeContext = CTX) -> str:
    batch = normalize(payload, ctx)
    assert batch.observations == []
    [rejection] = batch.rejections
    return rejection.reason


# --- the documented format ------------------------------------------------------------


def test_the_documented_example() -> None:
    obs = one(normalize({"entries": [entry()]}, CTX))

    assert obs.metric == "resting_heart_rate"
    assert obs.value == 53.0
    assert obs.day == date(2026, 11, 2)
    assert obs.timestamp == datetime(2026, 11, 2, 7, 30, tzinfo=PST)
    assert obs.device == "manual"
    assert obs.identity == "manual:e-1:resting_heart_rate"
    assert obs.combine == "replace"


def test_a_daily_value_with_a_date_has_that_day_and_no_timestamp() -> None:
    payload = {
        "entries": [
            without("measured_at", metric="steps", value=8200, unit="count", date="2026-11-02")
        ]
    }

    obs = one(normalize(payload, CTX))

    assert (obs.metric, obs.value, obs.day, obs.timestamp) == (
        "steps",
        8200.0,
        date(2026, 11, 2),
        None,
    )


def test_a_date_names_the_day_even_when_measured_the_next_morning() -> None:
    payload = [entry(date="2026-11-01", measured_at="2026-11-02T07:30:00-08:00")]

    obs = one(normalize(payload, CTX))

    assert obs.day == date(2026, 11, 1)
    assert obs.timestamp == datetime(2026, 11, 2, 7, 30, tzinfo=PST)


@pytest.mark.parametrize(
    ("measured_at", "day"),
    [
        # 23:30 in Los Angeles is already 3 November in UTC: the local date counts.
        ("2026-11-02T23:30:00-08:00", date(2026, 11, 2)),
        # 00:30 in Tokyo is still 1 November in UTC.
        ("2026-11-02T00:30:00+09:00", date(2026, 11, 2)),
        ("2026-11-02T07:30:00Z", date(2026, 11, 2)),
    ],
)
def test_the_day_is_the_local_date_of_measured_at_in_its_own_offset(
    measured_at: str, day: date
) -> None:
    obs = one(normalize([entry(measured_at=measured_at)], CTX))

    assert obs.day == day
    assert obs.timestamp is not None and obs.timestamp.isoformat().startswith(measured_at[:19])


def test_a_note_and_a_matching_user_id_are_fine() -> None:
    payload = {"entries": [entry(user_id="user-alice", note="after coffee")]}

    assert one(normalize(payload, CTX)).value == 53.0


def test_a_bare_list_and_a_single_entry_are_accepted() -> None:
    wrapped = normalize({"entries": [entry()]}, CTX)

    assert normalize([entry()], CTX) == wrapped
    assert normalize(entry(), CTX) == wrapped


@pytest.mark.parametrize("encode", [json.dumps, lambda doc: json.dumps(doc).encode()])
def test_text_and_bytes_payloads_are_decoded(encode: Any) -> None:
    payload = {"entries": [entry(), entry(entry_id="e-2", metric="hrv_rmssd", value=48, unit="ms")]}

    assert normalize(encode(payload), CTX) == normalize(payload, CTX)


def test_identities_are_stable_across_two_normalizations() -> None:
    payload = json.dumps(
        {
            "entries": [
                entry(entry_id="a"),
                entry(entry_id="b", metric="sleep_duration", value=7.5, unit="h"),
                entry(entry_id=17, metric="steps", value=100, unit="count"),
            ]
        }
    )

    first, second = normalize(payload, CTX), normalize(payload, CTX)

    assert [o.identity for o in first.observations] == [
        "manual:a:resting_heart_rate",
        "manual:b:sleep_duration",
        "manual:17:steps",
    ]
    assert first == second


def test_records_seen_counts_every_entry() -> None:
    batch = normalize({"entries": [entry(), "junk", entry(entry_id="e-2", metric="nope")]}, CTX)

    assert batch.records_seen == 3
    assert len(batch.observations) == 1
    assert len(batch.rejections) == 2


# --- units ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "value", "unit", "expected"),
    [
        ("sleep_duration", 7.5, "h", 27_000.0),
        ("sleep_duration", 7.5, "hr", 27_000.0),
        ("sleep_duration", 450, "min", 27_000.0),
        ("sleep_duration", 27_000, "s", 27_000.0),
        ("sleep_duration", 27_000_000, "ms", 27_000.0),
        ("nap_duration", 20, "MIN", 1_200.0),
        ("workout_duration", 1.25, "h", 4_500.0),
        ("total_energy", 4184, "kJ", 1_000.0),
        ("active_energy", 2092, "kj", 500.0),
        ("workout_energy", 350, "kcal", 350.0),
        ("resting_heart_rate", 53, "count/min", 53.0),
        ("heart_rate", 71, "beats/min", 71.0),
        ("respiratory_rate", 14.5, "count/min", 14.5),
        ("respiratory_rate", 14.5, "breaths/min", 14.5),
        ("hrv_rmssd", 48, "ms", 48.0),
        ("hrv_sdnn", 0.052, "s", 52.0),
        ("spo2", 97, "%", 97.0),
        ("sleep_efficiency", 91, "percent", 91.0),
        ("readiness_score", 82, "score", 82.0),
        ("strain", 12.4, "strain", 12.4),
        ("steps", 9000, "count", 9000.0),
        ("skin_temperature", 33.9, "degC", 33.9),
        ("skin_temperature", 33.9, "°C", 33.9),
        ("temperature_deviation", -0.3, "degc", -0.3),
        ("workout_distance", 5, "km", 5000.0),
        ("workout_distance", 400, "m", 400.0),
    ],
)
def test_units_convert_to_the_canonical_unit(
    metric: str, value: float, unit: str, expected: float
) -> None:
    obs = one(normalize([entry(metric=metric, value=value, unit=unit)], CTX))

    assert obs.metric == metric
    assert obs.value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("metric", "unit", "reason"),
    [
        (
            "resting_heart_rate",
            "furlongs",
            "resting_heart_rate: unknown unit 'furlongs' (accepted: bpm,",
        ),
        ("resting_heart_rate", "h", "resting_heart_rate: unit 'h' does not fit this metric"),
        (
            "sleep_duration",
            "kcal",
            "sleep_duration: unit 'kcal' does not fit this metric (accepted: s,",
        ),
        ("respiratory_rate", "bpm", "respiratory_rate: unit 'bpm' does not fit this metric"),
        ("steps", "%", "steps: unit '%' does not fit this metric (accepted: count)"),
        (
            "skin_temperature",
            "degF",
            "skin_temperature: unknown unit 'degF' (accepted: degC, °C, celsius)",
        ),
        ("resting_heart_rate", 5, "resting_heart_rate: unknown unit 5"),
    ],
)
def test_an_unknown_or_unfitting_unit_is_refused(metric: str, unit: object, reason: str) -> None:
    assert reason_for([entry(metric=metric, unit=unit)]).startswith(reason)


def test_an_entry_without_a_unit_is_refused() -> None:
    assert (
        reason_for([without("unit")])
        == "resting_heart_rate: entry has no unit (accepted: bpm, count/min, beats/min)"
    )


# --- refused entries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "ref", "reason"),
    [
        (entry(metric="vo2max"), "manual:e-1", "unknown metric 'vo2max'"),
        (without("metric"), "manual:e-1", "entry has no metric"),
        (without("entry_id"), "manual:entries[0]", "entry has no entry_id"),
        (entry(entry_id="  "), "manual:entries[0]", "entry_id '  ' is not a non-empty string"),
        (entry(entry_id=["x"]), "manual:entries[0]", "entry_id ['x'] is not a non-empty string"),
        (without("value"), "manual:e-1", "resting_heart_rate: entry has no value"),
        (entry(value="53"), "manual:e-1", "resting_heart_rate: value '53' is not a number"),
        (entry(value=True), "manual:e-1", "resting_heart_rate: value True is not a number"),
        (without("measured_at"), "manual:e-1", "entry needs measured_at"),
        (
            entry(measured_at="2026-11-02T07:30:00"),
            "manual:e-1",
            "measured_at: timestamp '2026-11-02T07:30:00' has no UTC offset",
        ),
        (
            entry(measured_at="this morning"),
            "manual:e-1",
            "measured_at: timestamp 'this morning' is not ISO 8601",
        ),
        (
            without("measured_at", date="02/11/2026"),
            "manual:e-1",
            "date: day '02/11/2026' is not YYYY-MM-DD",
        ),
        (
            without("measured_at", metric="heart_rate", date="2026-11-02"),
            "manual:e-1",
            "heart_rate is a sample at an instant: give measured_at",
        ),
        ("junk", "manual:entries[0]", "an entry is a JSON object, not a string"),
    ],
)
def test_a_bad_entry_is_refused_with_a_reason_and_the_rest_kept(
    bad: object, ref: str, reason: str
) -> None:
    good = entry(entry_id="good")

    batch = normalize({"entries": [bad, good]}, CTX)

    [rejection] = batch.rejections
    assert rejection.ref == ref
    assert rejection.reason.startswith(reason), rejection.reason
    assert [o.identity for o in batch.observations] == ["manual:good:resting_heart_rate"]


def test_an_entry_for_another_user_is_refused() -> None:
    batch = normalize({"entries": [entry(user_id="user-bob"), entry(entry_id="e-2")]}, CTX)

    [rejection] = batch.rejections
    assert rejection.ref == "manual:e-1"
    assert (
        rejection.reason
        == "entry belongs to user user-bob, but this payload is for user user-alice"
    )
    assert [o.identity for o in batch.observations] == ["manual:e-2:resting_heart_rate"]


@pytest.mark.parametrize(
    ("metric", "value", "unit"),
    [
        ("resting_heart_rate", 400, "bpm"),
        ("sleep_duration", 30, "h"),  # more than a day once converted
        ("spo2", 120, "%"),
        ("hrv_rmssd", -5, "ms"),
    ],
)
def test_an_implausible_value_is_refused_with_a_reason_and_the_rest_kept(
    metric: str, value: float, unit: str
) -> None:
    batch = normalize([entry(metric=metric, value=value, unit=unit), entry(entry_id="e-2")], CTX)

    [rejection] = batch.rejections
    assert rejection.ref == "manual:e-1"
    assert metric in rejection.reason and "plausible range" in rejection.reason
    assert [o.identity for o in batch.observations] == ["manual:e-2:resting_heart_rate"]


# --- wholly invalid payloads ----------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff\xfe", "not valid UTF-8"),
        ("{entries:", "not valid JSON"),
        ("NaN", "not valid JSON"),
        ("42", 'manual payload must be {"entries": [...]}, got a number'),
        ("null", "got null"),
        ({"entries": "e-1"}, "'entries' is a string, not a list"),
        ({"entries": {"entry_id": "e-1"}}, "'entries' is an object, not a list"),
        ({"data": []}, "got an object with keys [data]"),
        ({}, "got an object with keys [none]"),
    ],
)
def test_a_wholly_invalid_payload_raises_with_a_useful_message(
    payload: object, message: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        normalize(payload, CTX)

    assert message in str(caught.value)


def test_an_empty_entries_list_is_an_empty_batch() -> None:
    assert normalize({"entries": []}, CTX) == NormalizedBatch()


def test_nul_in_an_identity_rejects_that_record_only() -> None:
    # Postgres text and jsonb cannot hold U+0000: such a record would fail the whole run.
    batch = normalize({"entries": [entry(entry_id="a\u0000b"), entry(entry_id="ok")]}, CTX)
    assert [o.identity for o in batch.observations] == ["manual:ok:resting_heart_rate"]
    [rejection] = batch.rejections
    assert "NUL" in rejection.reason
    assert "\x00" not in rejection.ref + rejection.reason


def test_every_canonical_unit_is_accepted_under_its_own_name() -> None:
    # Schemathesis found training_load (au) missing: a KeyError, a 500 on the push route.
    for spec in METRICS.values():
        batch = normalize(
            {"entries": [entry(metric=spec.name, unit=spec.unit, value=spec.low)]}, CTX
        )
        assert batch.rejections == [], (spec.name, batch.rejections)


def test_a_normalizer_bug_refuses_the_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    from auren_graphs.ingestion import normalizers

    def broken(payload: object, ctx: NormalizeContext) -> NormalizedBatch:
        raise KeyError("bug")

    monkeypatch.setitem(normalizers.NORMALIZERS, "manual", broken)
    with pytest.raises(PayloadError, match=r"could not be read \(KeyError\)"):
        normalizers.normalize("manual", {"entries": []}, CTX)
