"""Convert a raw-contract store into Shopify connector tables (docs/sources/shopify.md)."""

import sys

from dtc_economics.shopify_convert import main

raise SystemExit(main(sys.argv[1:]))
