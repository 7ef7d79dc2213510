"""Load a folder of store exports into the warehouse's raw schema (see docs/loader.md)."""

import sys

from dtc_economics.loader import main

raise SystemExit(main(sys.argv[1:]))
