"""Copy the marts into the serving DuckDB file BI tools read (see README "Serving the marts")."""

import sys

from dtc_economics.publish import main

raise SystemExit(main(sys.argv[1:]))
