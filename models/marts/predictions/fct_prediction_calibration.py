# grain: one row per fit scope (holdout, as_of) x calibration frequency bucket (0..6, 7+,
# total): predicted vs actual repeat purchases and net revenue, with fit diagnostics.
"""Holdout check and fit diagnostics of the predictions (dbt Python model; DuckDB only).

fit_scope = holdout: BG/NBD + Gamma-Gamma fitted on valid orders up to as_of_date - var
prediction_calibration_days, predicting the last prediction_calibration_days, compared with
what customers actually bought. fit_scope = as_of: the fit behind fct_customer_predictions
with its forecast; actuals are null. Both fits are read from int_predictions_fitted (fitted
once per build there), not refitted. Logic: src/dtc_economics/warehouse_predictions.py
(calibration_table_from_relations).
"""

from typing import Any

import pyarrow as pa

from dtc_economics import warehouse_predictions as wp


def model(dbt: Any, session: Any) -> pa.Table:
    dbt.config(materialized="table")
    # vars reach Python models through config meta (_predictions__models.yml)
    settings = wp.PredictionSettings.from_mapping(dbt.config.meta_get("prediction_settings"))
    return wp.calibration_table_from_relations(
        dbt.ref("int_customers_purchases_summarised"),
        dbt.ref("int_predictions_fitted"),
        settings,
    )
