"""Print where the warehouse is and a few headline figures after `make build`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

HEADLINE_SQL = """
select
    (select count(*) from marts.fct_orders) as orders,
    (select count(*) from marts.fct_orders where is_valid_order) as valid_orders,
    (select count(*) from marts.dim_customers) as customers,
    (select sum(gross_sales) from marts.fct_orders where is_valid_order) as gross_sales,
    (select sum(net_revenue) from marts.fct_orders where is_valid_order) as net_revenue,
    (select avg(case when order_count > 1 then 1.0 else 0.0 end) from marts.dim_customers)
        as repeat_share,
    (select min(as_of_date) from marts.dim_customers) as as_of_date
"""


def headline(database: Path) -> dict[str, object]:
    """Read the headline figures from the marts of a built warehouse."""
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(HEADLINE_SQL)
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, required=True, help="warehouse DuckDB file")
    args = parser.parse_args(argv)
    figures = headline(args.database)
    print(f"\nWarehouse: {args.database.resolve()} (marts in schema `marts`)")
    print(f"  as of             {figures['as_of_date']}")
    print(f"  orders            {figures['orders']:,} ({figures['valid_orders']:,} valid)")
    print(f"  customers         {figures['customers']:,}")
    print(f"  gross sales       {figures['gross_sales'] or 0:,.0f} (excl. VAT)")
    print(f"  net revenue       {figures['net_revenue'] or 0:,.0f} (excl. VAT, net of returns)")
    print(f"  repeat customers  {(figures['repeat_share'] or 0):.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
