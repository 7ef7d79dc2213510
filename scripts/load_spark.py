"""Load a folder of store exports into Spark's raw database (see docs/spark.md)."""

import sys

from dtc_economics.load_spark import main

raise SystemExit(main(sys.argv[1:]))
