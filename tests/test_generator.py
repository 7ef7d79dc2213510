"""Tests of the demo store generator (scripts/generate_demo_store.py).

Determinism, the raw data contract, the committed fixture, the planted effects (measured
directly on the raw files with DuckDB) and ``--append-day``.
"""

from __future__ import annotations

import filecmp
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dtc_economics.contract import TABLES
from dtc_economics.generate import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "store_small"
FIXTURE_ARGS = ["--customers", "300", "--seed", "7"]  # documented in docs/demo_store.md
SEED_MAPPING = ROOT / "seeds" / "channel_mapping.csv"
BFCM_WINDOWS = [(date(2023, 11, 24), date(2023, 11, 27)), (date(2024, 11, 29), date(2024, 12, 2))]
BFCM_WINDOWS += [(date(2025, 11, 28), date(2025, 12, 1))]


def generate(out: Path, *args: str) -> Path:
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    return out


def _reader(path: Path, table: str) -> str:
    csv = path / f"{table}.csv"
    if csv.exists():
        return f"read_csv('{csv}', all_varchar = true, header = true)"
    return f"read_parquet('{path / f'{table}.parquet'}')"


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Raw views plus resolved helper tables (identity, channel, first order) of a store."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for t in TABLES:
        con.execute(f"CREATE VIEW raw_{t.name} AS SELECT * FROM {_reader(path, t.name)}")
    bfcm_days = " OR ".join(f"f.d BETWEEN DATE '{a}' AND DATE '{b}'" for a, b in BFCM_WINDOWS)
    con.execute(
        f"""
        CREATE TABLE mapping AS SELECT * FROM read_csv('{SEED_MAPPING}', all_varchar = true);
        CREATE TABLE lines AS
        SELECT order_line_id, order_id, product_id, cast(quantity AS int) AS qty,
               cast(unit_price AS double) AS unit_price,
               coalesce(cast(discount_amount AS double), 0) AS discount,
               coalesce(cast(is_gift AS boolean), false) AS gift,
               coalesce(cast(tax_rate AS double), 0.2) AS tax_rate,
               round(cast(unit_price AS double) * cast(quantity AS int)
                     - coalesce(cast(discount_amount AS double), 0), 2) AS paid
        FROM raw_order_lines;
        CREATE TABLE orders AS
        WITH owners AS (
            SELECT lower(trim(email)) AS em, min(customer_id) AS owner FROM raw_customers
            GROUP BY 1),
        agg AS (
            SELECT order_id, sum(paid) AS paid, count(*) AS n_lines,
                   sum(discount) FILTER (WHERE NOT gift)
                     / nullif(sum(unit_price * qty) FILTER (WHERE NOT gift), 0) AS disc_share
            FROM lines GROUP BY 1),
        o AS (
            SELECT order_id, nullif(trim(customer_id), '') AS cid,
                   nullif(lower(trim(customer_email)), '') AS em, customer_email AS raw_email,
                   cast(cast(ordered_at AS timestamptz) AS timestamp) AS ts,
                   coalesce(nullif(lower(trim(status)), ''), 'completed') AS status,
                   nullif(lower(trim(utm_source)), '') AS src,
                   nullif(lower(trim(utm_medium)), '') AS med
            FROM raw_orders)
        SELECT o.*, coalesce(o.cid, owners.owner, 'guest:' || o.em) AS ident,
               cast(timezone('Europe/Paris', o.ts AT TIME ZONE 'UTC') AS date) AS d,
               agg.paid, agg.n_lines, agg.disc_share,
               CASE WHEN o.src IS NULL AND o.med IS NULL THEN 'direct'
                    ELSE coalesce(exact.channel, wild.channel, 'unknown') END AS channel
        FROM o
        LEFT JOIN owners ON owners.em = o.em
        LEFT JOIN agg USING (order_id)
        LEFT JOIN mapping AS exact ON exact.utm_source = o.src AND exact.utm_medium = o.med
        LEFT JOIN mapping AS wild ON wild.utm_source = '*' AND wild.utm_medium = o.med;
        CREATE TABLE valid AS
        SELECT *, row_number() OVER (PARTITION BY ident ORDER BY ts, order_id) AS k
        FROM orders WHERE status = 'completed' AND paid > 0 AND ident IS NOT NULL;
        CREATE TABLE first_lines AS
        SELECT l.order_id, p.category FROM lines AS l JOIN raw_products AS p USING (product_id)
        QUALIFY row_number() OVER (PARTITION BY l.order_id ORDER BY l.order_line_id) = 1;
        CREATE TABLE cust AS
        SELECT f.ident, f.ts, f.d, f.channel, f.disc_share >= 0.4 AS promo, fl.category,
               ({bfcm_days}) AS bfcm, s.ts AS second_ts, v.value_12m
        FROM valid AS f
        JOIN first_lines AS fl USING (order_id)
        LEFT JOIN valid AS s ON s.ident = f.ident AND s.k = 2
        JOIN (SELECT a.ident, sum(b.paid) AS value_12m FROM valid AS a
              JOIN valid AS b ON b.ident = a.ident AND b.ts < a.ts + INTERVAL 365 DAY
              WHERE a.k = 1 GROUP BY 1) AS v ON v.ident = f.ident
        WHERE f.k = 1;
        """
    )
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def repeat_rates(
    con: duckdb.DuckDBPyConnection, group: str, days: int = 365, end: str = "2026-10-31"
) -> dict[object, float]:
    """Share of customers with a 2nd valid order within ``days`` (mature cohorts only)."""
    rows = con.execute(
        f"""SELECT {group} AS g,
                   avg((second_ts IS NOT NULL
                        AND second_ts < ts + INTERVAL {days} DAY)::int) AS rate
            FROM cust WHERE ts <= TIMESTAMP '{end}' - INTERVAL {days} DAY GROUP BY 1"""
    ).fetchall()
    return {g: r for g, r in rows}


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def store_20k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("s20k"), "--customers", "20000", "--seed", "42")


@pytest.fixture(scope="session")
def con_20k(store_20k: Path) -> duckdb.DuckDBPyConnection:
    return connect(store_20k)


@pytest.fixture(scope="session")
def store_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("s1k"), "--customers", "1000", "--seed", "3")


# --------------------------------------------------------------------------------------
# determinism and the committed fixture
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_args_give_identical_files(tmp_path: Path, fmt: str) -> None:
    args = ["--customers", "1500", "--seed", "11", "--format", fmt]
    a = generate(tmp_path / "a", *args)
    b = generate(tmp_path / "b", *args)
    for t in TABLES:
        assert filecmp.cmp(a / f"{t.name}.{fmt}", b / f"{t.name}.{fmt}", shallow=False), t.name


def test_different_seeds_differ(tmp_path: Path, store_small: Path) -> None:
    other = generate(tmp_path / "other", "--customers", "1000", "--seed", "4")
    for name in ("orders", "order_lines", "marketing_spend"):
        assert not filecmp.cmp(store_small / f"{name}.csv", other / f"{name}.csv", shallow=False)


def test_committed_fixture_equals_fresh_generation(tmp_path: Path) -> None:
    fresh = generate(tmp_path / "fresh", *FIXTURE_ARGS)
    for t in TABLES:
        assert filecmp.cmp(FIXTURE_DIR / f"{t.name}.csv", fresh / f"{t.name}.csv", shallow=False), (
            f"{t.name}.csv drifted: regenerate tests/fixtures/store_small "
            f"({' '.join(FIXTURE_ARGS)}) and review the diff"
        )


def test_fixture_is_small() -> None:
    size = sum(p.stat().st_size for p in FIXTURE_DIR.iterdir())
    assert size < 600_000


# --------------------------------------------------------------------------------------
# contract
# --------------------------------------------------------------------------------------


def _check_contract(path: Path) -> None:
    con = connect(path)
    for t in TABLES:
        cols = [r[0] for r in con.execute(f"DESCRIBE raw_{t.name}").fetchall()]
        assert cols == t.column_names, t.name
        if t.primary_key:
            n, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT {t.primary_key}) FROM raw_{t.name} "
                f"WHERE {t.primary_key} IS NOT NULL"
            ).fetchone()
            assert n == distinct == scalar(con, f"SELECT count(*) FROM raw_{t.name}"), t.name
        for col, parent, pcol in t.references:
            orphans = scalar(
                con,
                f"SELECT count(*) FROM raw_{t.name} AS c ANTI JOIN raw_{parent} AS p "
                f"ON p.{pcol} = c.{col} WHERE c.{col} IS NOT NULL",
            )
            assert orphans == 0, (t.name, col)
    # typed values parse (strict casts fail on bad values)
    con.execute(
        """SELECT cast(ordered_at AS timestamptz), cast(prices_include_tax AS boolean),
                  cast(shipping_amount AS double) FROM raw_orders"""
    ).fetchall()
    con.execute(
        "SELECT cast(created_at AS timestamptz) FROM raw_customers WHERE created_at IS NOT NULL"
    ).fetchall()
    assert scalar(con, "SELECT count(*) FROM lines WHERE qty <= 0 OR unit_price < 0") == 0
    assert scalar(con, "SELECT count(*) FROM lines WHERE discount < 0 OR paid < 0") == 0
    assert scalar(con, "SELECT count(*) FROM lines WHERE tax_rate NOT IN (0.2, 0.055)") == 0
    assert scalar(con, "SELECT count(*) FROM orders WHERE n_lines IS NULL") == 0
    assert scalar(con, "SELECT count(*) FROM raw_orders WHERE currency <> 'EUR'") == 0
    assert (
        scalar(
            con,
            """SELECT count(*) FROM raw_orders WHERE coalesce(status, 'completed')
               NOT IN ('completed', 'cancelled', 'test')""",
        )
        == 0
    )
    # refunds: after their order, never after the end date, within the paid amounts
    con.execute(
        """CREATE TABLE refunds AS
        SELECT r.refund_id, r.order_id, r.order_line_id, cast(r.amount AS double) AS amount,
               cast(cast(r.refunded_at AS timestamptz) AS timestamp) AS ts,
               o.ts AS order_ts, o.paid AS order_paid, o.status,
               coalesce(cast(ro.shipping_amount AS double), 0) AS shipping, l.paid AS line_paid
        FROM raw_refunds AS r JOIN orders AS o USING (order_id)
        JOIN raw_orders AS ro USING (order_id)
        LEFT JOIN lines AS l ON l.order_line_id = r.order_line_id"""
    )
    assert scalar(con, "SELECT count(*) FROM refunds WHERE ts <= order_ts") == 0
    assert scalar(con, "SELECT count(*) FROM refunds WHERE amount < 0") == 0
    last_spend = scalar(con, "SELECT max(cast(spend_date AS date)) FROM raw_marketing_spend")
    assert scalar(con, f"SELECT count(*) FROM refunds WHERE ts >= DATE '{last_spend}' + 1") == 0
    line_ok = "order_line_id IS NULL OR l.order_id = refunds.order_id"
    assert (
        scalar(
            con,
            f"""SELECT count(*) FROM refunds LEFT JOIN lines AS l USING (order_line_id)
                WHERE NOT ({line_ok})""",
        )
        == 0
    )
    over = """SELECT count(*) FROM (SELECT order_id, sum(amount) AS a, any_value(order_paid) AS p,
              any_value(shipping) AS s FROM refunds GROUP BY 1) WHERE a > p + s + 0.001"""
    assert scalar(con, over) == 0
    assert scalar(con, "SELECT count(*) FROM refunds WHERE status <> 'completed'") == 0
    assert scalar(con, "SELECT count(*) FROM raw_marketing_spend WHERE amount::double < 0") == 0
    spend_channels = {
        r[0] for r in con.execute("SELECT channel FROM raw_marketing_spend").fetchall()
    }
    allowed = {"paid_social", "paid_search", "influencer", "affiliate", "email", "referral"}
    assert spend_channels <= allowed | {"brand", None}


def test_contract_20k(store_20k: Path) -> None:
    _check_contract(store_20k)


def test_contract_fixture() -> None:
    _check_contract(FIXTURE_DIR)


def test_contract_parquet(tmp_path: Path) -> None:
    out = generate(tmp_path / "pq", "--customers", "800", "--seed", "5", "--format", "parquet")
    _check_contract(out)
    schema = pq.read_schema(out / "orders.parquet")
    assert str(schema.field("ordered_at").type) == "timestamp[us]"
    assert str(schema.field("prices_include_tax").type) == "bool"


# --------------------------------------------------------------------------------------
# edge cases present even in the small fixture
# --------------------------------------------------------------------------------------

EDGE_CASES = {
    "guest order resolved to a registered customer by email": """
        SELECT count(*) FROM raw_orders WHERE customer_id IS NULL
        AND lower(trim(customer_email)) IN (SELECT lower(email) FROM raw_customers)""",
    "repeat guest by email, with case/space variants": """
        SELECT count(*) FROM (SELECT lower(trim(customer_email)) AS em FROM raw_orders
        WHERE customer_id IS NULL AND customer_email IS NOT NULL
          AND lower(trim(customer_email)) NOT IN (SELECT lower(email) FROM raw_customers)
        GROUP BY 1 HAVING count(*) >= 2 AND count(DISTINCT customer_email) >= 2)""",
    "order with neither customer id nor email": """
        SELECT count(*) FROM raw_orders WHERE customer_id IS NULL AND customer_email IS NULL""",
    "cancelled order": "SELECT count(*) FROM raw_orders WHERE status = 'cancelled'",
    "test order": "SELECT count(*) FROM raw_orders WHERE status = 'test'",
    "empty status": "SELECT count(*) FROM raw_orders WHERE status IS NULL",
    "empty currency": "SELECT count(*) FROM raw_orders WHERE currency IS NULL",
    "zero-value order (every line 100% off, no gift)": """
        SELECT count(*) FROM (SELECT order_id FROM lines GROUP BY 1
        HAVING bool_and(NOT gift) AND bool_and(discount = round(unit_price * qty, 2)))""",
    "gift line": """SELECT count(*) FROM lines
        WHERE gift AND discount = round(unit_price * qty, 2) AND unit_price > 0""",
    "partial line refund": """SELECT count(*) FROM raw_refunds AS r JOIN lines USING
        (order_line_id) WHERE cast(r.amount AS double) <= lines.paid""",
    "full order refund without line id": """SELECT count(*) FROM raw_refunds AS r
        JOIN orders USING (order_id) WHERE r.order_line_id IS NULL
        AND abs(cast(r.amount AS double) - orders.paid) < 0.001""",
    "refund larger than the line paid": """SELECT count(*) FROM raw_refunds AS r JOIN lines
        USING (order_line_id) WHERE cast(r.amount AS double) > lines.paid""",
    "refund in a later month than its order": """SELECT count(*) FROM raw_refunds AS r
        JOIN orders USING (order_id)
        WHERE date_trunc('month', cast(r.refunded_at AS timestamptz)) > date_trunc('month', d)""",
    "two orders of one customer at the same timestamp": """SELECT count(*) FROM (
        SELECT customer_id, ordered_at FROM raw_orders WHERE customer_id IS NOT NULL
        GROUP BY ALL HAVING count(*) >= 2)""",
    "5.5% VAT line": "SELECT count(*) FROM lines WHERE tax_rate = 0.055",
    "line with empty tax_rate": "SELECT count(*) FROM raw_order_lines WHERE tax_rate IS NULL",
    "empty prices_include_tax": """SELECT count(*) FROM raw_orders
        WHERE prices_include_tax IS NULL""",
    "+01:00 offset timestamp": "SELECT count(*) FROM raw_orders WHERE ordered_at LIKE '%+01:00'",
    "+02:00 offset timestamp": "SELECT count(*) FROM raw_orders WHERE ordered_at LIKE '%+02:00'",
    "direct order (no UTMs)": "SELECT count(*) FROM orders WHERE channel = 'direct'",
    "unknown channel order": "SELECT count(*) FROM orders WHERE channel = 'unknown'",
    "messy UTM (case / spaces)": """SELECT count(*) FROM raw_orders
        WHERE utm_source <> lower(trim(utm_source)) OR utm_medium <> lower(trim(utm_medium))""",
    "BF/CM-acquired customer": "SELECT count(*) FROM cust WHERE bfcm",
    "promo-acquired customer": "SELECT count(*) FROM cust WHERE promo",
    "registered customer without orders": """SELECT count(*) FROM raw_customers
        WHERE customer_id NOT IN (SELECT customer_id FROM raw_orders
        WHERE customer_id IS NOT NULL)""",
    "product name with comma or quote": """SELECT count(*) FROM raw_products
        WHERE product_name LIKE '%,%' OR product_name LIKE '%"%'""",
    "spend by channel column": "SELECT count(*) FROM raw_marketing_spend WHERE channel <> 'brand'",
    "spend by utm pair": "SELECT count(*) FROM raw_marketing_spend WHERE utm_source IS NOT NULL",
    "brand spend": "SELECT count(*) FROM raw_marketing_spend WHERE channel = 'brand'",
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_fixture_has_edge_case(name: str, fixture_con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(fixture_con, EDGE_CASES[name]) >= 1, name


@pytest.fixture(scope="module")
def fixture_con() -> duckdb.DuckDBPyConnection:
    return connect(FIXTURE_DIR)


def test_exactly_one_formula_product_name(fixture_con: duckdb.DuckDBPyConnection) -> None:
    names = [r[0] for r in fixture_con.execute("SELECT product_name FROM raw_products").fetchall()]
    assert len(names) >= 35
    formulas = [n for n in names if n[:1] in "=+-@"]
    assert formulas == ['=HYPERLINK("http://x","click")']


# --------------------------------------------------------------------------------------
# planted effects, measured on the raw data of a 20k-customer store
# --------------------------------------------------------------------------------------


def test_volumes(con_20k: duckdb.DuckDBPyConnection) -> None:
    n_orders = scalar(con_20k, "SELECT count(*) FROM raw_orders")
    n_lines = scalar(con_20k, "SELECT count(*) FROM raw_order_lines")
    assert 2.6 < n_orders / 20000 < 3.4
    assert 6.8 < n_lines / 20000 < 9.0
    shares = dict(
        con_20k.execute(
            "SELECT status, count(*) / sum(count(*)) OVER () FROM orders GROUP BY 1"
        ).fetchall()
    )
    assert 0.015 < shares["cancelled"] < 0.025 and 0.003 < shares["test"] < 0.008
    guest = scalar(con_20k, "SELECT avg((cid IS NULL)::int) FROM orders")
    assert 0.08 < guest < 0.12
    refunded = scalar(
        con_20k,
        """SELECT count(DISTINCT order_id) / (SELECT count(*) FROM orders
           WHERE status = 'completed') FROM raw_refunds""",
    )
    assert 0.06 < refunded < 0.09


def test_overall_12_month_repeat_is_about_30_percent(con_20k: duckdb.DuckDBPyConnection) -> None:
    rate = repeat_rates(con_20k, "'all'")["all"]
    assert 0.26 < rate < 0.34


def test_referral_repeats_best_affiliate_worst(con_20k: duckdb.DuckDBPyConnection) -> None:
    overall = repeat_rates(con_20k, "'all'")["all"]
    by_channel = repeat_rates(con_20k, "channel")
    acquisition = ["paid_social", "paid_search", "organic", "affiliate", "influencer", "email"]
    assert max(by_channel, key=by_channel.get) == "referral"
    assert min((c for c in acquisition + ["referral"]), key=by_channel.get) == "affiliate"
    assert 1.3 < by_channel["referral"] / overall < 1.8
    assert 0.35 < by_channel["affiliate"] / overall < 0.7


def test_first_product_category_effect(con_20k: duckdb.DuckDBPyConnection) -> None:
    overall = repeat_rates(con_20k, "'all'")["all"]
    by_cat = repeat_rates(con_20k, "category")
    assert 1.4 < by_cat["refill"] / overall < 1.8
    assert 0.25 < by_cat["gadget"] / overall < 0.55


def test_promo_acquired_repeat_about_half(con_20k: duckdb.DuckDBPyConnection) -> None:
    by_promo = repeat_rates(con_20k, "promo")
    assert 0.35 < by_promo[True] / by_promo[False] < 0.65


def test_bfcm_acquired_repeat_less_at_90_and_180_days(
    con_20k: duckdb.DuckDBPyConnection,
) -> None:
    for days in (90, 180):
        by_bfcm = repeat_rates(con_20k, "bfcm", days)
        assert 0.4 < by_bfcm[True] / by_bfcm[False] < 0.8, days
    promo_share = dict(
        con_20k.execute("SELECT bfcm, avg(promo::int) FROM cust GROUP BY 1").fetchall()
    )
    assert promo_share[True] > 2.5 * promo_share[False]
    per_day = dict(
        con_20k.execute(
            """SELECT bfcm, count(*) / count(DISTINCT d) FROM cust
               WHERE month(d) IN (11, 12) GROUP BY 1"""
        ).fetchall()
    )
    assert per_day[True] > 2.5 * per_day[False]


def test_march_cohorts_repeat_better_than_november(con_20k: duckdb.DuckDBPyConnection) -> None:
    by_month = repeat_rates(con_20k, "month(d)")
    assert by_month[3] > 1.25 * by_month[11]


def test_last_three_months(con_20k: duckdb.DuckDBPyConnection) -> None:
    """New customers grow ~7% a month; reactivated grow; the twice-a-year group slides."""
    new = dict(
        con_20k.execute(
            "SELECT month(d), count(*) FROM cust WHERE d >= DATE '2026-07-01' GROUP BY 1"
        ).fetchall()
    )
    growth = (new[10] / new[7]) ** (1 / 3)
    assert 1.03 < growth < 1.11
    buyers = con_20k.execute(
        """WITH b AS (SELECT DISTINCT ident, date_trunc('month', d) AS m FROM valid),
           typed AS (
               SELECT b.m, EXISTS (SELECT 1 FROM b AS p WHERE p.ident = b.ident AND p.m < b.m)
                        AND NOT EXISTS (SELECT 1 FROM b AS p WHERE p.ident = b.ident
                            AND p.m < b.m AND p.m >= b.m - INTERVAL 12 MONTH) AS reactivated
               FROM b WHERE b.m >= DATE '2026-04-01')
        SELECT month(m), count(*) FILTER (WHERE reactivated) FROM typed GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    reactivated = dict(buyers)
    assert reactivated[8] + reactivated[9] + reactivated[10] > 3 * reactivated[7]
    assert reactivated[10] > reactivated[7]
    # twice-a-year: 3+ orders, every gap 5-7 months; their orders per month, April to October
    twice = dict(
        con_20k.execute(
            """WITH g AS (SELECT ident, ts, ts - lag(ts) OVER (PARTITION BY ident ORDER BY ts)
                             AS gap FROM valid),
               grp AS (SELECT ident FROM g GROUP BY 1 HAVING count(*) >= 3
                       AND bool_and(gap IS NULL OR gap BETWEEN INTERVAL 150 DAY
                                                     AND INTERVAL 215 DAY))
            SELECT month(d), count(*) FROM valid WHERE ident IN (SELECT ident FROM grp)
              AND d >= DATE '2026-04-01' GROUP BY 1"""
        ).fetchall()
    )
    before = sum(twice[m] for m in (4, 5, 6, 7)) / 4
    after = sum(twice[m] for m in (8, 9, 10)) / 3
    assert 0.45 < after / before < 0.85
    assert twice[10] < twice[7]


def test_ltv_to_cac_ranks_referral_best_affiliate_worst(
    con_20k: duckdb.DuckDBPyConnection,
) -> None:
    rows = con_20k.execute(
        """WITH spend AS (
               SELECT coalesce(s.channel, exact.channel, wild.channel) AS channel,
                      sum(cast(s.amount AS double)) AS spend
               FROM raw_marketing_spend AS s
               LEFT JOIN mapping AS exact ON exact.utm_source = s.utm_source
                    AND exact.utm_medium = s.utm_medium
               LEFT JOIN mapping AS wild ON wild.utm_source = '*'
                    AND wild.utm_medium = s.utm_medium
               GROUP BY 1),
           c AS (SELECT channel, count(*) AS n,
                        avg(value_12m) FILTER (WHERE ts <= TIMESTAMP '2025-10-31') AS ltv
                 FROM cust GROUP BY 1)
        SELECT channel, spend / n AS cac, ltv / (spend / n) AS ratio
        FROM c JOIN spend USING (channel)"""
    ).fetchall()
    cac = {r[0]: r[1] for r in rows}
    ratio = {r[0]: r[2] for r in rows}
    assert set(ratio) == {
        "paid_social",
        "paid_search",
        "influencer",
        "affiliate",
        "email",
        "referral",
    }
    assert max(ratio, key=ratio.get) == "referral"
    assert min(ratio, key=ratio.get) == "affiliate"
    assert cac["email"] < cac["referral"] * 1.5 < cac["paid_search"] < cac["influencer"]


# --------------------------------------------------------------------------------------
# --append-day
# --------------------------------------------------------------------------------------


def test_append_day_csv(tmp_path: Path, store_small: Path) -> None:
    out = generate(tmp_path / "next", "--append-day", str(store_small), "--seed", "9")
    for t in TABLES:
        before = (store_small / f"{t.name}.csv").read_bytes()
        after = (out / f"{t.name}.csv").read_bytes()
        assert after.startswith(before), f"{t.name}: earlier rows changed"
        if t.name in ("orders", "order_lines", "refunds", "marketing_spend"):
            assert len(after) > len(before), f"{t.name}: nothing appended"
    con = connect(out)
    con.execute(f"CREATE TABLE old AS SELECT order_id FROM {_reader(store_small, 'orders')}")
    new_orders = con.execute(
        "SELECT d, ident FROM orders WHERE order_id NOT IN (SELECT order_id FROM old)"
    ).fetchall()
    assert {r[0] for r in new_orders} == {date(2026, 11, 1)}
    new_refunds = con.execute(
        f"""SELECT cast(timezone('Europe/Paris', cast(r.refunded_at AS timestamptz)) AS date),
                   o.d, r.order_line_id
            FROM raw_refunds AS r JOIN orders AS o USING (order_id)
            WHERE r.refund_id NOT IN (SELECT refund_id FROM {_reader(store_small, "refunds")})"""
    ).fetchall()
    assert new_refunds and {r[0] for r in new_refunds} == {date(2026, 11, 1)}
    assert any(r[1] < date(2026, 11, 1) for r in new_refunds)  # on orders of earlier months
    assert any(r[2] is None for r in new_refunds)  # a full order refund
    # both new and repeat customers ordered that day
    firsts = dict(con.execute("SELECT ident, min(d) FROM orders GROUP BY 1").fetchall())
    kinds = {firsts[ident] == date(2026, 11, 1) for _, ident in new_orders}
    assert kinds == {True, False}
    assert scalar(con, "SELECT max(cast(spend_date AS date)) FROM raw_marketing_spend") == date(
        2026, 11, 1
    )
    _check_contract(out)
    # deterministic, and chainable (a second append adds Nov 2)
    again = generate(tmp_path / "again", "--append-day", str(store_small), "--seed", "9")
    for t in TABLES:
        assert filecmp.cmp(out / f"{t.name}.csv", again / f"{t.name}.csv", shallow=False)
    nxt = generate(tmp_path / "nxt", "--append-day", str(out), "--seed", "9")
    last = f"SELECT max(ordered_at) FROM {_reader(nxt, 'orders')}"
    assert scalar(duckdb.connect(), last).startswith("2026-11-02")


def test_append_day_parquet(tmp_path: Path) -> None:
    src = generate(tmp_path / "src", "--customers", "1000", "--seed", "8", "--format", "parquet")
    out = generate(tmp_path / "out", "--append-day", str(src), "--seed", "1")
    for t in TABLES:
        before = pq.read_table(src / f"{t.name}.parquet")
        after = pq.read_table(out / f"{t.name}.parquet")
        assert after.schema == before.schema
        assert after.slice(0, before.num_rows).equals(before), t.name
    con = connect(out)
    assert scalar(con, "SELECT max(d) FROM orders") == date(2026, 11, 1)


# --------------------------------------------------------------------------------------
# costs and margins (issue 15; docs/demo_store.md "Costs and margins")
# --------------------------------------------------------------------------------------

# unit cost / list price excl. VAT by category, as documented (1 - gross margin rate)
PLANTED_COST_RATIO = {
    "refill": 0.30,
    "skincare": 0.25,
    "accessory": 0.45,
    "gadget": 0.65,
    "food": 0.55,
}


def test_cost_to_price_ratio_by_category(con_20k: duckdb.DuckDBPyConnection) -> None:
    rows = con_20k.execute(
        """SELECT p.category,
                  sum(l.qty * coalesce(cast(rl.unit_cost AS double),
                                       cast(p.unit_cost AS double)))
                    / sum(l.qty * l.unit_price / (1 + l.tax_rate)) AS ratio
           FROM lines AS l JOIN raw_order_lines AS rl USING (order_line_id)
           JOIN raw_products AS p ON p.product_id = l.product_id
           WHERE coalesce(rl.unit_cost, p.unit_cost) IS NOT NULL GROUP BY 1"""
    ).fetchall()
    ratio = dict(rows)
    assert set(ratio) == set(PLANTED_COST_RATIO)
    for category, want in PLANTED_COST_RATIO.items():  # cents rounding only
        assert ratio[category] == pytest.approx(want, abs=0.005), category
    # refills keep a 70 % gross margin rate at list price, gadgets 35 %
    assert 1 - ratio["refill"] == pytest.approx(0.70, abs=0.005)
    assert 1 - ratio["gadget"] == pytest.approx(0.35, abs=0.005)


def test_line_costs_last_year_and_one_product_without_cost(
    con_20k: duckdb.DuckDBPyConnection,
) -> None:
    no_cost = con_20k.execute("SELECT product_id FROM raw_products WHERE unit_cost IS NULL")
    assert no_cost.fetchall() == [("P027",)]
    first_line_cost = scalar(
        con_20k,
        """SELECT min(o.d) FROM raw_order_lines AS rl JOIN orders AS o USING (order_id)
           WHERE rl.unit_cost IS NOT NULL""",
    )
    last_without = scalar(
        con_20k,
        """SELECT max(o.d) FROM raw_order_lines AS rl JOIN orders AS o USING (order_id)
           WHERE rl.unit_cost IS NULL""",
    )
    assert first_line_cost == date(2025, 11, 1)  # the last 365 days of history
    assert last_without == date(2025, 10, 31)
    # the line's cost at the time of sale equals the catalogue cost where both exist
    assert (
        scalar(
            con_20k,
            """SELECT count(*) FROM raw_order_lines AS l JOIN raw_products AS p USING (product_id)
               WHERE l.unit_cost IS NOT NULL AND p.unit_cost IS NOT NULL
                 AND l.unit_cost <> p.unit_cost""",
        )
        == 0
    )
    # net revenue of valid orders whose every line has a known cost: high but below 100 %
    coverage = scalar(
        con_20k,
        """WITH known AS (
               SELECT l.order_id,
                      bool_and(coalesce(rl.unit_cost, p.unit_cost) IS NOT NULL) AS known_cost
               FROM lines AS l JOIN raw_order_lines AS rl USING (order_line_id)
               JOIN raw_products AS p ON p.product_id = l.product_id GROUP BY 1)
           SELECT sum(paid) FILTER (WHERE known_cost) / sum(paid)
           FROM valid JOIN known USING (order_id)""",
    )
    assert 0.95 < coverage < 0.99


def test_shipping_cost_per_shipped_order(con_20k: duckdb.DuckDBPyConnection) -> None:
    rows = con_20k.execute(
        """WITH units AS (SELECT order_id, sum(qty) AS u FROM lines GROUP BY 1)
           SELECT o.status, cast(ro.shipping_cost AS double) AS cost, u.u
           FROM orders AS o JOIN raw_orders AS ro USING (order_id) JOIN units AS u
           USING (order_id)"""
    ).fetchall()
    assert rows
    for status, cost, units in rows:
        want = 0.0 if status in ("cancelled", "test") else 5.90 + 0.60 * min(units - 1, 5)
        assert cost == pytest.approx(want, abs=1e-9), (status, cost, units)


def test_affiliate_fine_on_revenue_never_repays_on_margin(
    con_20k: duckdb.DuckDBPyConnection,
) -> None:
    """Independent CM2 from the raw files: net revenue excl. VAT after refunds - COGS (no
    restock credit, so a lower bound of the margin) - shipping cost; fully loaded CAC =
    all spend (brand included) allocated to channels in proportion to their spend."""
    rows = con_20k.execute(
        """WITH lc AS (
               SELECT l.order_id, sum(l.paid / (1 + l.tax_rate)) AS net,
                      sum(l.qty * coalesce(cast(rl.unit_cost AS double),
                                           cast(p.unit_cost AS double))) AS cogs
               FROM lines AS l JOIN raw_order_lines AS rl USING (order_line_id)
               JOIN raw_products AS p ON p.product_id = l.product_id GROUP BY 1),
           ref AS (SELECT order_id, sum(cast(amount AS double)) / 1.2 AS refunded
                   FROM raw_refunds GROUP BY 1),
           o AS (SELECT v.ident, lc.net - coalesce(ref.refunded, 0) AS rev,
                        lc.net - coalesce(ref.refunded, 0) - lc.cogs
                          - cast(ro.shipping_cost AS double) AS cm2
                 FROM valid AS v JOIN lc USING (order_id)
                 JOIN raw_orders AS ro USING (order_id) LEFT JOIN ref USING (order_id)),
           spend AS (
               SELECT coalesce(s.channel, exact.channel, wild.channel) AS channel,
                      sum(cast(s.amount AS double)) AS spend
               FROM raw_marketing_spend AS s
               LEFT JOIN mapping AS exact ON exact.utm_source = s.utm_source
                    AND exact.utm_medium = s.utm_medium
               LEFT JOIN mapping AS wild ON wild.utm_source = '*'
                    AND wild.utm_medium = s.utm_medium
               GROUP BY 1),
           loading AS (SELECT sum(spend) / sum(spend) FILTER (WHERE channel <> 'brand') AS f
                       FROM spend),
           n AS (SELECT channel, count(*) AS n FROM cust GROUP BY 1),
           c AS (SELECT cust.channel, cust.ident, sum(o.rev) AS rev, sum(o.cm2) AS cm2
                 FROM cust JOIN o USING (ident)
                 WHERE cust.ts <= TIMESTAMP '2025-10-31' GROUP BY 1, 2)
        SELECT c.channel, spend.spend / n.n * loading.f AS cac_fl, avg(c.rev) AS rev,
               avg(c.cm2) AS cm2,
               avg((c.cm2 >= spend.spend / n.n * loading.f)::int) AS repaid
        FROM c JOIN n USING (channel) JOIN spend USING (channel), loading
        GROUP BY ALL"""
    ).fetchall()
    by = {r[0]: r[1:] for r in rows}
    assert set(by) == {"paid_social", "paid_search", "influencer", "affiliate", "email", "referral"}
    cac, rev, cm2, repaid = by["affiliate"]
    assert rev / cac > 1.5  # revenue to date per customer: looks fine
    assert cm2 < 0.9 * cac  # margin to date per customer: the loaded CAC is never repaid
    assert repaid < 0.35  # most affiliate customers have not repaid their CAC
    for channel, (c_cac, _, c_cm2, c_repaid) in by.items():
        if channel != "affiliate":
            assert c_cm2 > 1.5 * c_cac, channel  # every other channel repays on average
            assert c_repaid > repaid + 0.1, channel


def test_without_costs_leaves_out_the_cost_columns(tmp_path: Path) -> None:
    out = generate(tmp_path / "plain", *FIXTURE_ARGS, "--without-costs")
    dropped = {"orders": "shipping_cost", "order_lines": "unit_cost", "products": "unit_cost"}
    con = duckdb.connect()
    for t in TABLES:
        want = [c for c in t.column_names if c != dropped.get(t.name)]
        got = [
            r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_reader(out, t.name)}").fetchall()
        ]
        assert got == want, t.name
        # every other column is the committed fixture's, row for row
        cols = ", ".join(f'"{c}"' for c in want)
        diff = scalar(
            con,
            f"""SELECT count(*) FROM (SELECT {cols} FROM {_reader(out, t.name)} EXCEPT ALL
                SELECT {cols} FROM {_reader(FIXTURE_DIR, t.name)})""",
        )
        assert diff == 0, t.name
    # appending a day keeps the store without costs
    nxt = generate(tmp_path / "next", "--append-day", str(out), "--seed", "9")
    for name in dropped:
        header = (nxt / f"{name}.csv").read_text().splitlines()[0]
        assert header == (out / f"{name}.csv").read_text().splitlines()[0], name
