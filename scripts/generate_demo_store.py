"""Generate the deterministic demo store: see ``dtc_economics.generate`` and docs/demo_store.md.

Example: ``python scripts/generate_demo_store.py --customers 20000 --seed 42 --out DIR``
"""

import sys

from dtc_economics.generate import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
