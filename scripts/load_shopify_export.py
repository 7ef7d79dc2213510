"""Load a Shopify admin orders export into the warehouse (docs/sources/shopify_export.md)."""

import sys

from dtc_economics.shopify_export import main

raise SystemExit(main(sys.argv[1:]))
