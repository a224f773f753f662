"""Writes the sample files the README's examples use: 90 nights of an Oura ring (its
API's `sleep` documents), sRPE training load as manual entries, and one evening of an
Apple Watch export. Deterministic (seeded); the data ends on 2026-11-30.

    .venv/bin/python examples/generate.py
"""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).parent
END = date(2026, 11, 30)
NIGHTS = 90


def oura_sleep(rng: random.Random) -> dict[str, object]:
    documents = []
    for n in range(NIGHTS):
        day = END - timedelta(days=NIGHTS - 1 - n)
        late_dip = n >= NIGHTS - 6  # the last nights: HRV down, resting HR up
        asleep = int(rng.gauss(7.0, 0.6) * 3600)
        documents.append({
            "id": f"sleep-{day}", "type": "long_sleep", "day": day.isoformat(),
            "bedtime_start": f"{day - timedelta(days=1)}T23:05:00+01:00",
            "bedtime_end": f"{day}T07:10:00+01:00",
            "average_hrv": round(math.exp(rng.gauss(3.55 if late_dip else 3.95, 0.12))),
            "lowest_heart_rate": round(rng.gauss(56 if late_dip else 51, 1.5)),
            "average_heart_rate": 57.5, "average_breath": 14.6, "efficiency": 89,
            "total_sleep_duration": asleep, "time_in_bed": asleep + 1900,
            "light_sleep_duration": asleep // 2, "deep_sleep_duration": asleep // 4,
            "rem_sleep_duration": asleep - asleep // 2 - asleep // 4,
            "awake_time": 1900, "latency": 540, "period": 0,
        })  # fmt: skip
    return {"data": documents, "next_token": None}


def training(rng: random.Random) -> dict[str, object]:
    entries = []
    for n in range(NIGHTS):
        day = END - timedelta(days=NIGHTS - 1 - n)
        if day.weekday() in (0, 2, 4, 5):  # four sessions a week, the long one on Saturday
            load = round(rng.gauss(620 if day.weekday() == 5 else 380, 60))
            entries.append({"entry_id": f"session-{day}", "metric": "training_load",
                            "value": load, "unit": "au", "date": day.isoformat()})  # fmt: skip
    return {"entries": entries}


def apple_export() -> str:
    evening = END.isoformat()
    records = "\n".join(
        f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Apple Watch" '
        f'unit="count/min" creationDate="{evening} 21:{m:02d}:00 +0100" '
        f'startDate="{evening} 21:{m:02d}:00 +0100" endDate="{evening} 21:{m:02d}:00 +0100" '
        f'value="{62 + m % 9}"/>'
        for m in range(0, 60, 5)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_GB">\n'
        f' <ExportDate value="{evening} 22:00:00 +0100"/>\n{records}\n</HealthData>\n'
    )


def main() -> None:
    rng = random.Random(2026)
    (HERE / "oura-sleep.json").write_text(json.dumps(oura_sleep(rng), indent=1) + "\n")
    (HERE / "training.json").write_text(json.dumps(training(rng), indent=1) + "\n")
    (HERE / "export.xml").write_text(apple_export())


if __name__ == "__main__":
    main()
