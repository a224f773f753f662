"""`python -m reliability [--quick]`: run the fault families, print one table.

Writes the table to reliability/out/latest.md as well; exits 1 when a must-be-zero
column (acknowledged lost, duplicates, 5xx, hangs, garbage stored) is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from reliability.common import OUT, Row, reliability_server, table
from reliability.hostile import attacks, fuzz
from reliability.kill import signal_during_ingestion


async def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    with reliability_server() as server:
        rows.append(await signal_during_ingestion(server, kills=3 if quick else 20, clients=4))
        rows.append(
            await signal_during_ingestion(server, kills=2 if quick else 5, clients=4, sigterm=True)
        )
        per_device = int(os.environ.get("AUREN_RELIABILITY_BODIES", "200" if quick else "10000"))
        rows.append(await fuzz(server, per_device=per_device))
        rows.append(await attacks(server))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability")
    parser.add_argument("--quick", action="store_true", help="the CI-sized run")
    args = parser.parse_args()
    began = time.monotonic()
    rows = asyncio.run(run(args.quick))
    text = table(rows)
    footer = (
        f"\n\n{'quick' if args.quick else 'full'} run, {time.monotonic() - began:.0f} s. "
        "Not yet covered: Postgres stop/start, model and vendor stand-in faults, sustained load."
    )
    print(text + footer)
    OUT.mkdir(exist_ok=True)
    (OUT / "latest.md").write_text(text + footer + "\n")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
