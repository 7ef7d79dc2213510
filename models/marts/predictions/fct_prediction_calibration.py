# grain: one row per fit scope (holdout, as_of) x calibration frequency bucket (0..6, 7+,
# total): predicted vs actual repeat purchases and net revenue, with fit diagnostics.
"""Holdout check and fit diagnostics of the predictions (dbt Python model; DuckDB only).

fit_scope = holdout: BG/NBD + Gamma-Gamma fitted on valid orders up to as_of_date - var
prediction_calibration_days, predicting the last prediction_calibration_days, compared with
what customers actually bought. fit_scope = as_of: the fit behind fct_customer_predictions
with its forecast; actuals are null. Both fits are read from int_predictions_fitted (fitted
once per build there), not refitted. Logic: src/dtc_economics/warehouse_predictions.py.
"""

from typing import Any

import pyarrow as pa

from dtc_economics.warehouse_predictions import (
    PredictionSettings,
    calibration_table_from_fits,
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
    # the per-customer BG/NBD inputs of both fits (holdout, as_of), computed once in SQL
    rows = dbt.ref("int_customers_purchases_summarised").filter("fit_scope in ('holdout', 'as_of')")
    rows = rows.df()
    holdout = rows[rows["fit_scope"] == "holdout"]
    actuals = holdout.set_index("customer_key")[["actual_purchase_days", "actual_net_revenue"]]
    actuals = actuals.rename(
        columns={"actual_purchase_days": "actual", "actual_net_revenue": "actual_value"}
    )
    fits = dbt.ref("int_predictions_fitted").filter("fit_scope in ('holdout', 'as_of')").df()
    fit_rows = {row["fit_scope"]: row for row in fits.to_dict("records")}
    return calibration_table_from_fits(
        fit_rows["holdout"],
        summary_from_rows(holdout),
        actuals,
        fit_rows["as_of"],
        summary_from_rows(rows[rows["fit_scope"] == "as_of"]),
        settings,
    )
