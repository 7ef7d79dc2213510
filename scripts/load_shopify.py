"""Load a folder of Shopify connector tables into the warehouse (docs/sources/shopify.md)."""

import sys

from dtc_economics.load_shopify import main

raise SystemExit(main(sys.argv[1:]))
