"""Benchmark the build against its compiled-SQL floor and a pandas peer (docs/performance.md).

Example: ``python scripts/benchmark.py --scales 10k,100k,1M --runs 3 --out bench/results``;
``--quick`` is a smoke test (10k customers, one run, results in bench/results/tmp/quick).
"""

import sys

from dtc_economics.benchmark import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
