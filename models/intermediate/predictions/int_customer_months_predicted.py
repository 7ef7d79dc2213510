# grain: one row per month of the prediction history x customer with a purchase day on or
# before the month's fit end: predictions over the horizon and over its elapsed part.
"""Monthly prediction history per customer (dbt Python model; DuckDB only).

For each month_end fit of int_predictions_fitted (no fitting here: parameters read back),
applies the BG/NBD / Gamma-Gamma closed forms to the customers' summary as of the month's
fit end: expected purchase days, P(repurchase) and predicted value over the horizon, and
expected purchase days and value over the elapsed part of the horizon (fit end to
as_of_date), which fct_base_future_value_monthly compares with what customers bought.
Logic: src/dtc_economics/warehouse_predictions.py (monthly_predictions_frame).
"""

from typing import Any

import pyarrow as pa

from dtc_economics.warehouse_predictions import (
    SUMMARY_COLUMNS,
    PredictionSettings,
    monthly_predictions_frame,
    monthly_predictions_table,
    outcome_from_fit_row,
    summary_from_rows,
)


def model(dbt: Any, session: Any) -> pa.Table:
    dbt.config(materialized="table")
    settings = PredictionSettings.from_mapping(
        {
            "horizon_days": dbt.config.meta_get("prediction_horizon_days"),
            "calibration_days": dbt.config.meta_get("prediction_calibration_days"),
            "min_customers": dbt.config.meta_get("prediction_min_customers"),
            "min_history_days": dbt.config.meta_get("prediction_min_history_days"),
            "min_repeat_buyers": dbt.config.meta_get("prediction_min_repeat_buyers"),
        }
    )
    fits = dbt.ref("int_predictions_fitted").filter("fit_scope = 'month_end'").df()
    summary = dbt.ref("int_customers_purchases_summarised")
    columns = ", ".join(SUMMARY_COLUMNS) + ", elapsed_days"
    frames = []
    for row in fits.sort_values("fit_end_date").to_dict("records"):
        end = row["fit_end_date"]
        end = end.date() if hasattr(end, "date") else end
        rows = summary.filter(
            f"fit_scope = 'month_end' and fit_end_date = date '{end.isoformat()}'"
        ).select(columns)
        rows = rows.df()
        elapsed = int(rows["elapsed_days"].iloc[0]) if len(rows) else 0
        outcome = outcome_from_fit_row(row, summary_from_rows(rows))
        frames.append(monthly_predictions_frame(outcome, elapsed, settings))
    return monthly_predictions_table(frames)
