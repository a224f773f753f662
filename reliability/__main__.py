"""`python -m reliability [--quick]`: run the fault families, print one table.

Writes the table to reliability/out/latest.md as well; exits 1 when a must-be-zero
column (acknowledged lost, duplicates, 5xx, hangs, garbage stored) is not zero, or a
family's own check failed. `AUREN_RELIABILITY_BODIES` sets the hostile bodies per device
sent over HTTP; `AUREN_RELIABILITY_LOAD_SECONDS` the length of the sustained load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass

from reliability.common import OUT, AttackRow, Row, attack_table, reliability_server, table
from reliability.hostile import FUZZ_JOBS, attacks, fuzz, fuzz_in_process
from reliability.identity import identity_attacks, identity_server_env
from reliability.kill import signal_during_ingestion
from reliability.load import sustained_load
from reliability.postgres import postgres_outage
from reliability.schema_fuzz import schema_fuzz
from reliability.standins import standin_faults
from tests.support.config import use_service_key


@dataclass(frozen=True)
class Sizes:
    kills: int
    terms: int
    outages: int
    http_bodies: int
    graph_bodies: int
    schema_cases: int
    load_seconds: float


QUICK = Sizes(
    kills=3,
    terms=2,
    outages=2,
    http_bodies=200,
    graph_bodies=1000,
    schema_cases=50,
    load_seconds=60,
)
FULL = Sizes(
    kills=20,
    terms=5,
    outages=5,
    http_bodies=1000,
    graph_bodies=10_000,
    schema_cases=500,
    load_seconds=600,
)


def sizes(quick: bool) -> Sizes:
    base = QUICK if quick else FULL
    return Sizes(
        kills=base.kills,
        terms=base.terms,
        outages=base.outages,
        http_bodies=int(os.environ.get("AUREN_RELIABILITY_BODIES", base.http_bodies)),
        graph_bodies=base.graph_bodies,
        schema_cases=base.schema_cases,
        load_seconds=float(os.environ.get("AUREN_RELIABILITY_LOAD_SECONDS", base.load_seconds)),
    )


async def run_attacks() -> list[AttackRow]:
    with reliability_server(**identity_server_env()) as server:
        return await identity_attacks(server)


async def run(size: Sizes, quick: bool) -> list[Row]:
    rows: list[Row] = []
    with reliability_server() as server:
        rows.append(await signal_during_ingestion(server, kills=size.kills, clients=4))
        rows.append(
            await signal_during_ingestion(server, kills=size.terms, clients=4, sigterm=True)
        )
    rows.append(await postgres_outage(outages=size.outages))
    rows += await standin_faults(quick=quick)
    with reliability_server(jobs=FUZZ_JOBS) as server:
        rows.append(await fuzz(server, per_device=size.http_bodies))
        rows.append(await attacks(server))
    rows.append(await fuzz_in_process(size.graph_bodies))
    rows.append(await schema_fuzz(examples=size.schema_cases))
    with reliability_server() as server:
        rows.append(await sustained_load(server, seconds=size.load_seconds))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability")
    parser.add_argument("--quick", action="store_true", help="the CI-sized run")
    args = parser.parse_args()
    use_service_key()  # the runner's clients act as a service on the servers it starts
    began = time.monotonic()
    attack_rows = asyncio.run(run_attacks())
    rows = asyncio.run(run(sizes(args.quick), args.quick))
    footer = f"\n\n{'quick' if args.quick else 'full'} run, {time.monotonic() - began:.0f} s."
    text = table(rows) + "\n\nIdentity attacks (auth required; two users, a service):\n\n"
    text += attack_table(attack_rows) + footer
    print(text)
    OUT.mkdir(exist_ok=True)
    (OUT / "latest.md").write_text(text + "\n")
    return 0 if all(r.ok for r in rows) and all(r.ok for r in attack_rows) else 1


if __name__ == "__main__":
    sys.exit(main())
