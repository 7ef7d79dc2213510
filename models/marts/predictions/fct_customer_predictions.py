# grain: one row per customer in dim_customers: BG/NBD + Gamma-Gamma predictions over the
# next var prediction_horizon_days (365) after as_of_date, with the model inputs used.
"""Customer-value predictions (dbt Python model; DuckDB only, see _predictions__docs.md).

Reads the per-customer purchase summary as of int_as_of_date (int_customers_purchases_
summarised: purchase days of valid orders in the reporting timezone, net_revenue excl. VAT)
and the as_of fit of int_predictions_fitted (BG/NBD and Gamma-Gamma, fitted once per build
there), applies the closed forms of dtc_economics.btyd, and writes one row per
dim_customers customer. Below the data-sufficiency gate, or when a fit is not
usable, prediction columns are null and prediction_status / prediction_status_reason say
why; the build does not fail. Logic: src/dtc_economics/warehouse_predictions.py.
"""

from typing import Any

import pyarrow as pa

from dtc_economics.warehouse_predictions import (
    PredictionSettings,
    customer_predictions_table_from_fit,
    summary_from_rows,
)


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
    # the per-customer BG/NBD inputs as of as_of_date, computed once in SQL; integer keys
    # (grouping a million string ids in pandas is slow); -1 = no valid order (no_history)
    summary = dbt.ref("int_customers_purchases_summarised").filter("fit_scope = 'as_of'")
    keys = summary.select("customer_id, customer_key")
    customers = (
        dbt.ref("int_customers_enriched")
        .select("customer_id")
        .join(keys, "customer_id", how="left")
        .select("customer_id, coalesce(customer_key, -1) as customer_key")
        .df()
    )
    fit = dbt.ref("int_predictions_fitted").filter("fit_scope = 'as_of'").df()
    return customer_predictions_table_from_fit(
        fit.to_dict("records")[0], summary_from_rows(summary.df()), customers, settings
    )
