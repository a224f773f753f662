"""`make bench`: prints each figure with its ratio against a baseline measured in the same run.

AUREN_BENCH_APPLE_RECORDS (or AUREN_BENCH_RECORDS; default 1,000,000) sets the size of the
realistic Apple export (bench/apple_bench.py lists its other switches); AUREN_BENCH_PAGES
(default 40) the pages per device and user. `python -m bench apple` runs only the Apple
benchmark.
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench import analysis_bench, apple_bench, growth_bench, pages_bench, webhook_bench
from bench.common import OUT
from tests.support.server import throwaway_postgres


def main() -> None:
    records = int(
        os.environ.get("AUREN_BENCH_APPLE_RECORDS")
        or os.environ.get("AUREN_BENCH_RECORDS")
        or "1000000"
    )
    only = set(sys.argv[1:])
    pages = int(os.environ.get("AUREN_BENCH_PAGES", "40"))
    results: dict[str, float] = {}
    with throwaway_postgres() as uri:
        if not only or "apple" in only:
            results |= apple_bench.run(uri, records)
        if not only or "pages" in only:
            results |= pages_bench.run(uri, pages)
        if not only or "growth" in only:
            results |= growth_bench.run(uri)
        if not only or "analysis" in only:
            results |= analysis_bench.run(uri)
        if not only or "webhooks" in only:
            results |= webhook_bench.run(uri)
    OUT.mkdir(exist_ok=True)
    name = "latest.json" if not only else f"latest-{'-'.join(sorted(only))}.json"
    (OUT / name).write_text(json.dumps({"at": time.time(), **results}, indent=2))
    print(f"\nfigures written to {OUT / name}")


if __name__ == "__main__":
    main()
