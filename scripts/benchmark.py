"""Benchmark the build against its compiled-SQL floor and a pandas peer (docs/performance.md).

Example: ``python scripts/benchmark.py --scales 10k,100k,1M --runs 3 --out bench/results``;
``--quick`` is a smoke test (10k customers, one run, results in bench/results/tmp/quick).
"""

import sys
from pathlib import Path

# this clone's code, whatever an installed (editable) dtc_economics points at
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dtc_economics.benchmark import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
