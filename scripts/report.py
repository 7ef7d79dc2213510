"""Render the self-contained HTML report from the marts (see README "Serving the marts")."""

import sys

from dtc_economics.report import main

raise SystemExit(main(sys.argv[1:]))
