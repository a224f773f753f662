"""Small vendor payloads for the integration tests, in the vendors' own formats."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def manual_entries(days: int = 3, start: date = date(2026, 10, 1)) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for n in range(days):
        day = start + timedelta(days=n)
        entries.append(
            {
                "entry_id": f"rhr-{day}",
                "metric": "resting_heart_rate",
                "value": 50 + n % 5,
                "unit": "bpm",
                "date": day.isoformat(),
            }
        )
        entries.append(
            {
                "entry_id": f"hr-{day}",
                "metric": "heart_rate",
                "value": 60 + n % 7,
                "unit": "bpm",
                "measured_at": f"{day}T23:30:00-08:00",
            }
        )
    return {"entries": entries}


def oura_readiness_page(days: int = 3, start: date = date(2026, 10, 1)) -> dict[str, Any]:
    return {
        "data": [
            {
                "id": f"readiness-{start + timedelta(days=n)}",
                "contributors": {
                    "activity_balance": 80,
                    "body_temperature": 90,
                    "hrv_balance": 75,
                    "previous_day_activity": 70,
                    "previous_night": 85,
                    "recovery_index": 100,
                    "resting_heart_rate": 95,
                    "sleep_balance": 80,
                },
                "day": (start + timedelta(days=n)).isoformat(),
                "score": 70 + n,
                "temperature_deviation": -0.1,
                "temperature_trend_deviation": 0.05,
                "timestamp": f"{start + timedelta(days=n)}T00:00:00+00:00",
            }
            for n in range(days)
        ],
        "next_token": None,
    }


def whoop_recovery(cycle_id: int, user_id: int, state: str = "SCORED") -> dict[str, Any]:
    record: dict[str, Any] = {
        "cycle_id": cycle_id,
        "sleep_id": f"00000000-0000-4000-8000-{cycle_id:012d}",
        "user_id": user_id,
        "created_at": "2026-10-02T11:25:44.774Z",
        "updated_at": "2026-10-02T14:25:44.774Z",
        "score_state": state,
    }
    if state == "SCORED":
        record["score"] = {
            "user_calibrating": False,
            "recovery_score": 44,
            "resting_heart_rate": 64,
            "hrv_rmssd_milli": 31.813562,
            "spo2_percentage": 95.6875,
            "skin_temp_celsius": 33.7,
        }
    return record


def apple_export(heart_rates: int = 10, start: str = "2026-10-01") -> str:
    """An export.xml with one heart-rate sample every 10 s from local midnight (max 8640)."""
    day = date.fromisoformat(start)

    def stamp(n: int) -> str:
        seconds = 10 * n
        return f"{day} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d} -0700"

    rows = "\n".join(
        f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Alice’s Apple Watch" '
        f'sourceVersion="11.0" unit="count/min" creationDate="{stamp(n)}" '
        f'startDate="{stamp(n)}" endDate="{stamp(n)}" value="{60 + n % 30}"/>'
        for n in range(heart_rates)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>\n"
        "<!ATTLIST HealthData locale CDATA #REQUIRED>\n]>\n"
        '<HealthData locale="en_US">\n <ExportDate value="2026-10-03 09:00:00 -0700"/>\n'
        ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01"/>\n'
        f"{rows}\n</HealthData>\n"
    )


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<HealthData locale="en_US"><Record type="HKQuantityTypeIdentifierHeartRate" value="&lol3;"/></HealthData>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE HealthData [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<HealthData locale="en_US"><Record type="HKQuantityTypeIdentifierHeartRate" sourceName="&xxe;"/></HealthData>
"""


def oura_sleep_page(
    days: int, end: date, *, drop_last: int = 0, sleep_h: float = 6.5
) -> dict[str, Any]:
    """Long sleeps with rMSSD alternating 50/70 ms, the last `drop_last` nights at 40 ms."""
    docs = []
    for n in range(days):
        day = end - timedelta(days=days - 1 - n)
        hrv = 40 if n >= days - drop_last else (50 if n % 2 else 70)
        asleep = int(sleep_h * 3600)
        docs.append(
            {
                "id": f"sleep-{day}",
                "type": "long_sleep",
                "day": day.isoformat(),
                "bedtime_start": f"{day - timedelta(days=1)}T23:00:00-08:00",
                "bedtime_end": f"{day}T07:00:00-08:00",
                "average_hrv": hrv,
                "lowest_heart_rate": 50 + n % 3,
                "average_heart_rate": 56.5,
                "average_breath": 14.5,
                "efficiency": 88,
                "total_sleep_duration": asleep,
                "time_in_bed": asleep + 1800,
                "light_sleep_duration": asleep // 2,
                "deep_sleep_duration": asleep // 4,
                "rem_sleep_duration": asleep - asleep // 2 - asleep // 4,
                "awake_time": 1800,
                "latency": 600,
                "period": 0,
            }
        )
    return {"data": docs, "next_token": None}


DAYS = (date(2026, 9, 1), date(2026, 12, 1))
