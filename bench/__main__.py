"""`make bench`: prints each figure with its ratio against a baseline measured in the same run.

AUREN_BENCH_RECORDS (default 1,000,000) sets the size of the synthetic Apple export;
AUREN_BENCH_PAGES (default 40) the pages per device and user.
"""

from __future__ import annotations

import json
import os
import time

from bench import analysis_bench, apple_bench, growth_bench, pages_bench, webhook_bench
from bench.common import OUT
from tests.support.server import throwaway_postgres


def main() -> None:
    records = int(os.environ.get("AUREN_BENCH_RECORDS", "1000000"))
    pages = int(os.environ.get("AUREN_BENCH_PAGES", "40"))
    results: dict[str, float] = {}
    with throwaway_postgres() as uri:
        results |= apple_bench.run(uri, records)
        results |= pages_bench.run(uri, pages)
        results |= growth_bench.run(uri)
        results |= analysis_bench.run(uri)
        results |= webhook_bench.run(uri)
    OUT.mkdir(exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps({"at": time.time(), **results}, indent=2))
    print(f"\nfigures written to {OUT / 'latest.json'}")


if __name__ == "__main__":
    main()
