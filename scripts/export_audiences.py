"""Write one CSV per CRM audience from marts.fct_audiences (`make audiences`; no clear email)."""

import sys

from dtc_economics.audiences import main

raise SystemExit(main(sys.argv[1:]))
