"""Load a folder of store exports into PostgreSQL's raw schema (see docs/serving.md)."""

import sys

from dtc_economics.load_postgres import main

raise SystemExit(main(sys.argv[1:]))
