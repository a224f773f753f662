"""Synthetic vendor data for the benchmarks, written as the vendors write it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

PACIFIC = timezone(timedelta(hours=-8))
HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate value CDATA #REQUIRED>
<!ELEMENT Me EMPTY>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record type CDATA #REQUIRED unit CDATA #IMPLIED value CDATA #IMPLIED
  sourceName CDATA #REQUIRED sourceVersion CDATA #IMPLIED device CDATA #IMPLIED
  creationDate CDATA #IMPLIED startDate CDATA #REQUIRED endDate CDATA #REQUIRED>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-11-20 09:00:00 -0800"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01"/>
"""
WATCH, PHONE = "Alice’s Apple Watch", "Alice’s iPhone"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S -0800")


def _record(kind: str, unit: str, source: str, start: datetime, end: datetime, value: Any) -> str:
    return (
        f' <Record type="{kind}" sourceName="{source}" sourceVersion="11.0" unit="{unit}" '
        f'creationDate="{_stamp(end)}" startDate="{_stamp(start)}" endDate="{_stamp(end)}" '
        f'value="{value}"/>\n'
    )


def _day_records(day: date, rng: random.Random, heart_rates: int) -> Iterator[str]:
    midnight = datetime(day.year, day.month, day.day, tzinfo=PACIFIC)
    step = 86_400 // heart_rates
    for n in range(heart_rates):
        at = midnight + timedelta(seconds=n * step)
        yield _record(
            "HKQuantityTypeIdentifierHeartRate", "count/min", WATCH, at, at, rng.randint(48, 150)
        )
    for hour in range(7, 22):
        start = midnight + timedelta(hours=hour)
        end = start + timedelta(minutes=30)
        yield _record(
            "HKQuantityTypeIdentifierStepCount", "count", WATCH, start, end, rng.randint(100, 900)
        )
        yield _record(
            "HKQuantityTypeIdentifierStepCount", "count", PHONE, start, end, rng.randint(100, 900)
        )
        yield _record(
            "HKQuantityTypeIdentifierActiveEnergyBurned",
            "kcal",
            WATCH,
            start,
            end,
            round(rng.uniform(5, 40), 2),
        )
    yield _record(
        "HKQuantityTypeIdentifierRestingHeartRate",
        "count/min",
        WATCH,
        midnight,
        midnight + timedelta(hours=23),
        rng.randint(48, 58),
    )
    yield _record(
        "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
        "ms",
        WATCH,
        midnight + timedelta(hours=6),
        midnight + timedelta(hours=6, minutes=1),
        round(rng.uniform(30, 80), 3),
    )
    bed = midnight - timedelta(hours=1)
    for stage, minutes in (
        ("Core", 90),
        ("Deep", 60),
        ("REM", 45),
        ("Core", 120),
        ("Awake", 5),
        ("REM", 60),
    ):
        end = bed + timedelta(minutes=minutes)
        yield (
            f' <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="{WATCH}" '
            f'sourceVersion="11.0" creationDate="{_stamp(end)}" startDate="{_stamp(bed)}" '
            f'endDate="{_stamp(end)}" value="HKCategoryValueSleepAnalysisAsleep{stage}"/>\n'
            if stage != "Awake"
            else f' <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="{WATCH}" '
            f'sourceVersion="11.0" creationDate="{_stamp(end)}" startDate="{_stamp(bed)}" '
            f'endDate="{_stamp(end)}" value="HKCategoryValueSleepAnalysisAwake"/>\n'
        )
        bed = end


def apple_export(path: Path, records: int, *, seed: int = 7) -> int:
    """Write an export.xml of at least `records` records; return how many it holds."""
    rng = random.Random(seed)
    per_day_other = 15 * 3 + 2 + 6
    heart_rates = 1440
    days = max(1, -(-records // (heart_rates + per_day_other)))
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        first = date(2026, 11, 20) - timedelta(days=days - 1)
        for n in range(days):
            for line in _day_records(first + timedelta(days=n), rng, heart_rates):
                out.write(line)
                written += 1
        out.write("</HealthData>\n")
    return written


def oura_pages(
    pages: int, per_page: int, *, start: date = date(2024, 1, 1)
) -> list[dict[str, Any]]:
    """Oura daily_readiness pages of consecutive days."""
    out = []
    for p in range(pages):
        docs = []
        for n in range(per_page):
            day = start + timedelta(days=p * per_page + n)
            docs.append(
                {
                    "id": f"r-{day}",
                    "day": day.isoformat(),
                    "score": 60 + (p + n) % 40,
                    "temperature_deviation": round(((p + n) % 10 - 5) / 10, 2),
                    "temperature_trend_deviation": 0.0,
                    "timestamp": f"{day}T00:00:00+00:00",
                    "contributors": {
                        "activity_balance": 80,
                        "body_temperature": 90,
                        "hrv_balance": 70,
                        "previous_day_activity": 75,
                        "previous_night": 80,
                        "recovery_index": 90,
                        "resting_heart_rate": 85,
                        "sleep_balance": 70,
                    },
                }
            )
        out.append({"data": docs, "next_token": None})
    return out


def whoop_pages(pages: int, per_page: int, user_id: int = 10129) -> list[dict[str, Any]]:
    """WHOOP cycle pages of consecutive days."""
    out = []
    start = datetime(2024, 1, 1, 22, tzinfo=PACIFIC)
    for p in range(pages):
        records = []
        for n in range(per_page):
            i = p * per_page + n
            begin = start + timedelta(days=i)
            records.append(
                {
                    "id": 90_000 + i,
                    "user_id": user_id,
                    "created_at": (begin + timedelta(hours=9)).isoformat(),
                    "updated_at": (begin + timedelta(hours=10)).isoformat(),
                    "start": begin.isoformat(),
                    "end": (begin + timedelta(days=1)).isoformat(),
                    "timezone_offset": "-08:00",
                    "score_state": "SCORED",
                    "score": {
                        "strain": 5 + i % 15,
                        "kilojoule": 8000 + i % 500,
                        "average_heart_rate": 68,
                        "max_heart_rate": 160,
                    },
                }
            )
        out.append({"records": records, "next_token": None})
    return out
