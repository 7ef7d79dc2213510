# grain: one row per customer in dim_customers: BG/NBD + Gamma-Gamma predictions over the
# next var prediction_horizon_days (365) after as_of_date, with the model inputs used.
"""Customer-value predictions (dbt Python model; DuckDB only, see _predictions__docs.md).

Reads valid orders from fct_orders (order_date in the reporting timezone, net_revenue excl.
VAT) up to int_as_of_date, fits BG/NBD and Gamma-Gamma with dtc_economics.btyd, and writes
one row per dim_customers customer. Below the data-sufficiency gate, or when a fit is not
usable, prediction columns are null and prediction_status / prediction_status_reason say
why; the build does not fail. Logic: src/dtc_economics/warehouse_predictions.py.
"""

from typing import Any

import pyarrow as pa

from dtc_economics.warehouse_predictions import PredictionSettings, customer_predictions_table


def model(dbt: Any, session: Any) -> pa.Table:
    dbt.config(materialized="table")
    # vars reach Python models through config meta (_predictions__models.yml)
    settings = PredictionSettings.from_mapping(
        {
            "horizon_days": dbt.config.meta_get("prediction_horizon_days"),
            "calibration_days": dbt.config.meta_get("prediction_calibration_days"),
            "min_customers": dbt.config.meta_get("prediction_min_customers"),
            "min_history_days": dbt.config.meta_get("prediction_min_history_days"),
            "min_repeat_buyers": dbt.config.meta_get("prediction_min_repeat_buyers"),
        }
    )
    # integer customer keys (grouping a million string ids in pandas is slow)
    customers = dbt.ref("int_customers_enriched").select(
        "customer_id, row_number() over (order by customer_id) as customer_key"
    )
    orders = (
        dbt.ref("int_orders_netted")
        .filter("is_valid_order")
        .select("customer_id, order_date, net_revenue")
        .join(customers, "customer_id")
        .select("customer_key, order_date, net_revenue")
        .df()
    )
    as_of_date = dbt.ref("int_as_of_date").select("as_of_date").fetchall()[0][0]
    return customer_predictions_table(orders, customers.df(), as_of_date, settings)
