"""Load a folder of store exports into PostgreSQL's raw schema (see README "Serving the marts")."""

import sys

from dtc_economics.load_postgres import main

raise SystemExit(main(sys.argv[1:]))
