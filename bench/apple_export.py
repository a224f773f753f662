"""A realistic synthetic Apple Health export.xml, written as the Health app writes it.

The mix follows what a Watch wearer's export holds (per day, about 1,000 records):
heart rate 45%, active energy 17%, steps 10% (Watch and iPhone, overlapping), sleep
stages 3% (the Watch's stages and the iPhone's InBed), HRV (SDNN) with its beat list
(`InstantaneousBeatsPerMinute` children), resting and walking heart rate, respiratory
rate, oxygen saturation, a workout most days (statistics, events, route), one
`ActivitySummary` per day, and about 21% of record types AUREN does not store (basal
energy, distance, stand hours, exercise time, flights, audio exposure). Records carry
the `device` description, `creationDate` and metadata a real export has, so the file
is about 460 bytes per record. Dates are rendered in America/Los_Angeles with the
offset each date had (DST included), as the Health app does.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.generate import HEADER

ZONE = ZoneInfo("America/Los_Angeles")
WATCH, PHONE = "Alice’s Apple Watch", "Alice’s iPhone"
_WATCH_DEVICE = (
    "&lt;&lt;HKDevice: 0x2833e7b10&gt;, name:Apple Watch, manufacturer:Apple Inc., "
    "model:Watch, hardware:Watch7,4, software:11.1&gt;"
)
_PHONE_DEVICE = (
    "&lt;&lt;HKDevice: 0x2833e7c40&gt;, name:iPhone, manufacturer:Apple Inc., "
    "model:iPhone, hardware:iPhone17,1, software:26.1&gt;"
)
HK = "HKQuantityTypeIdentifier"

# Types AUREN does not store, per day: (type, unit, count, value range, source).
_OTHER_TYPES = (
    ("BasalEnergyBurned", "kcal", 110, (0.5, 2.5), WATCH),
    ("DistanceWalkingRunning", "km", 55, (0.01, 0.4), WATCH),
    ("AppleExerciseTime", "min", 15, (1, 5), WATCH),
    ("AppleStandTime", "min", 12, (1, 5), WATCH),
    ("FlightsClimbed", "count", 6, (1, 3), PHONE),
    ("EnvironmentalAudioExposure", "dBASPL", 8, (40, 80), WATCH),
    ("HeadphoneAudioExposure", "dBASPL", 4, (50, 75), PHONE),
)
_SLEEP_STAGES = ("AsleepCore", "AsleepDeep", "AsleepCore", "AsleepREM", "Awake")


class _Day:
    """Renders one local day's records; timestamps carry that moment's own offset."""

    def __init__(self, day: date, rng: random.Random) -> None:
        self.day, self.rng = day, rng
        self.midnight = datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)
        self.lines: list[str] = []
        self.counts: Counter[str] = Counter()

    def at(self, seconds: float) -> datetime:
        # Elapsed time from local midnight, rendered in the offset of that instant.
        return (self.midnight + timedelta(seconds=seconds)).astimezone(ZONE)

    @staticmethod
    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S %z")

    def record(
        self,
        kind: str,
        unit: str | None,
        value: object,
        start: datetime,
        end: datetime,
        source: str = WATCH,
        children: str = "",
    ) -> None:
        device = _WATCH_DEVICE if source == WATCH else _PHONE_DEVICE
        unit_attr = f' unit="{unit}"' if unit is not None else ""
        created = self.stamp(end + timedelta(seconds=self.rng.randint(5, 600)))
        head = (
            f' <Record type="{kind}" sourceName="{source}" sourceVersion="11.1" '
            f'device="{device}"{unit_attr} creationDate="{created}" '
            f'startDate="{self.stamp(start)}" endDate="{self.stamp(end)}" value="{value}"'
        )
        self.lines.append(f"{head}>\n{children} </Record>\n" if children else f"{head}/>\n")
        self.counts["Record"] += 1

    def render(self) -> list[str]:
        self.heart_rates(450)
        self.active_energy(170)
        self.steps(50)
        self.sleep()
        self.hrv(5)
        self.daily()
        self.others()
        if self.rng.random() < 0.7:
            self.workout()
        self.summary()
        return self.lines

    def heart_rates(self, count: int) -> None:
        context = '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="{}"/>\n'
        for n in range(count):
            moment = self.at(n * 86_400 / count + self.rng.randint(0, 60))
            motion = context.format(self.rng.choice((0, 0, 1, 2)))
            self.record(
                f"{HK}HeartRate",
                "count/min",
                self.rng.randint(48, 150),
                moment,
                moment,
                children=motion,
            )

    def active_energy(self, count: int) -> None:
        start = 6 * 3600
        for _ in range(count):
            length = self.rng.randint(30, 120)
            value = round(self.rng.uniform(0.05, 3.0), 3)
            self.record(
                f"{HK}ActiveEnergyBurned", "kcal", value, self.at(start), self.at(start + length)
            )
            start += length + self.rng.randint(0, 240)

    def steps(self, pairs: int) -> None:
        start = 7 * 3600
        for _ in range(pairs):
            length = self.rng.randint(60, 600)
            for source in (WATCH, PHONE):
                value = self.rng.randint(20, 900)
                self.record(
                    f"{HK}StepCount",
                    "count",
                    value,
                    self.at(start),
                    self.at(start + length),
                    source,
                )
            start += length + self.rng.randint(60, 900)

    def sleep(self) -> None:
        kind, prefix = "HKCategoryTypeIdentifierSleepAnalysis", "HKCategoryValueSleepAnalysis"
        bed = -3600.0 + self.rng.randint(-1800, 1800)  # the evening before
        self.record(kind, None, f"{prefix}InBed", self.at(bed), self.at(bed + 8.2 * 3600), PHONE)
        moment = bed + 600
        timezone = '  <MetadataEntry key="HKTimeZone" value="America/Los_Angeles"/>\n'
        for n in range(29):
            length = self.rng.randint(5, 30) * 60
            stage = _SLEEP_STAGES[n % len(_SLEEP_STAGES)]
            self.record(
                kind,
                None,
                f"{prefix}{stage}",
                self.at(moment),
                self.at(moment + length),
                children=timezone,
            )
            moment += length

    def hrv(self, count: int) -> None:
        for n in range(count):
            start = self.at(3600 + n * 4 * 3600 + self.rng.randint(0, 1800))
            beats = "".join(
                f'   <InstantaneousBeatsPerMinute bpm="{self.rng.randint(55, 80)}" '
                f'time="{(start + timedelta(seconds=i)).strftime("%-I:%M:%S.%f")[:-4]} '
                f'{start.strftime("%p")}"/>\n'
                for i in range(60)
            )
            tag = "HeartRateVariabilityMetadataList"
            children = f"  <{tag}>\n{beats}  </{tag}>\n"
            self.record(
                f"{HK}HeartRateVariabilitySDNN",
                "ms",
                round(self.rng.uniform(25, 90), 3),
                start,
                start + timedelta(seconds=60),
                children=children,
            )

    def daily(self) -> None:
        noon = self.at(12 * 3600)
        self.record(
            f"{HK}RestingHeartRate",
            "count/min",
            self.rng.randint(48, 60),
            self.at(4),
            self.at(23 * 3600),
        )
        self.record(
            f"{HK}WalkingHeartRateAverage",
            "count/min",
            self.rng.randint(85, 110),
            noon,
            self.at(20 * 3600),
        )
        for n in range(10):
            moment = self.at(n * 1200 + 300)
            self.record(
                f"{HK}RespiratoryRate",
                "count/min",
                round(self.rng.uniform(12, 18), 1),
                moment,
                moment + timedelta(seconds=30),
            )
        for n in range(5):
            moment = self.at(n * 2400 + 600)
            self.record(
                f"{HK}OxygenSaturation", "%", round(self.rng.uniform(0.94, 0.99), 2), moment, moment
            )

    def others(self) -> None:
        for name, unit, count, (low, high), source in _OTHER_TYPES:
            for n in range(count):
                start = self.at(n * 86_400 / count)
                value = round(self.rng.uniform(low, high), 3)
                self.record(
                    f"{HK}{name}", unit, value, start, start + timedelta(seconds=60), source
                )
        stand = "HKCategoryTypeIdentifierAppleStandHour"
        for hour in range(7, 23):
            self.record(
                stand,
                None,
                "HKCategoryValueAppleStandHourStood",
                self.at(hour * 3600),
                self.at(hour * 3600 + 3600),
            )

    def workout(self) -> None:
        start = self.at(17 * 3600 + self.rng.randint(0, 3600))
        minutes = self.rng.randint(20, 60)
        end = start + timedelta(minutes=minutes)
        span = f'startDate="{self.stamp(start)}" endDate="{self.stamp(end)}"'
        energy = round(minutes * self.rng.uniform(8, 12), 2)
        self.lines.append(
            f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="{minutes}" '
            f'durationUnit="min" sourceName="{WATCH}" sourceVersion="11.1" '
            f'device="{_WATCH_DEVICE}" '
            f'creationDate="{self.stamp(end)}" {span}>\n'
            '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
            '  <MetadataEntry key="HKTimeZone" value="America/Los_Angeles"/>\n'
            f'  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="{self.stamp(start)}" '
            f'duration="{minutes}" durationUnit="min"/>\n'
            f'  <WorkoutStatistics type="{HK}ActiveEnergyBurned" {span} '
            f'sum="{energy}" unit="kcal"/>\n'
            f'  <WorkoutStatistics type="{HK}DistanceWalkingRunning" {span} '
            f'sum="{round(minutes / 6, 3)}" unit="km"/>\n'
            f'  <WorkoutStatistics type="{HK}HeartRate" {span} '
            f'average="{self.rng.randint(130, 150)}" '
            f'minimum="95" maximum="{self.rng.randint(160, 185)}" unit="count/min"/>\n'
            f'  <WorkoutRoute sourceName="{WATCH}" sourceVersion="11.1" {span}>\n'
            f'   <FileReference path="/workout-routes/route_{self.day.isoformat()}.gpx"/>\n'
            "  </WorkoutRoute>\n </Workout>\n"
        )
        self.counts["Workout"] += 1

    def summary(self) -> None:
        burned = self.rng.randint(300, 900)
        self.lines.append(
            f' <ActivitySummary dateComponents="{self.day.isoformat()}" '
            f'activeEnergyBurned="{burned}" activeEnergyBurnedGoal="600" '
            'activeEnergyBurnedUnit="Cal" appleMoveTime="0" appleMoveTimeGoal="0" '
            f'appleExerciseTime="{self.rng.randint(10, 60)}" appleExerciseTimeGoal="30" '
            f'appleStandHours="{self.rng.randint(8, 14)}" appleStandHoursGoal="12"/>\n'
        )
        self.counts["ActivitySummary"] += 1


def realistic_export(path: Path, records: int, *, seed: int = 11) -> int:
    """Write a realistic export.xml of at least `records` top-level records; return how many.

    Records are the direct children of <HealthData> but ExportDate and Me.
    """
    rng = random.Random(seed)
    probe = _Day(date(2026, 1, 15), random.Random(seed))
    per_day = len(probe.render())
    days = max(1, -(-records // per_day))
    written = 0
    last = date(2026, 11, 20)
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(days):
            lines = _Day(last - timedelta(days=days - 1 - n), rng).render()
            out.write("".join(lines))
            written += len(lines)
        out.write("</HealthData>\n")
    return written
