"""Copy the marts into the serving DuckDB file BI tools read (see docs/serving.md)."""

import sys

from dtc_economics.publish import main

raise SystemExit(main(sys.argv[1:]))
