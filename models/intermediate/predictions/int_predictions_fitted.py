# grain: one row per fit scope x fit end date (as_of; holdout; month_end, one per month of
# the prediction history): the BG/NBD + Gamma-Gamma fit behind it, with its diagnostics.
"""The prediction fits of a build (dbt Python model; DuckDB only, see _predictions__models.yml).

Fits BG/NBD and Gamma-Gamma once per distinct fit end date from the per-customer summary
int_customers_purchases_summarised (as_of and the current month_end share as_of_date, so
they share one fit). fct_customer_predictions, fct_prediction_calibration and
int_customer_months_predicted read the parameters from here and only apply the closed
forms. Logic: src/dtc_economics/warehouse_predictions.py (fits_table).
"""

import datetime as dt
from typing import Any

import pandas as pd
import pyarrow as pa

from dtc_economics.warehouse_predictions import (
    SCOPE_AS_OF,
    SCOPE_HOLDOUT,
    SUMMARY_COLUMNS,
    PredictionSettings,
    fits_table,
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
    summary = dbt.ref("int_customers_purchases_summarised")
    as_of_date = dbt.ref("int_as_of_date").select("as_of_date").fetchall()[0][0]
    # as_of and holdout always have a row (an empty scope is reported as insufficient
    # data); month ends only when some customer had bought by then
    scopes: list[tuple[str, dt.date]] = [
        (SCOPE_AS_OF, as_of_date),
        (SCOPE_HOLDOUT, as_of_date - dt.timedelta(days=settings.calibration_days)),
    ]
    month_ends = summary.filter("fit_scope = 'month_end'").select("fit_end_date").distinct()
    scopes += [("month_end", end) for (end,) in sorted(month_ends.fetchall())]
    columns = ", ".join(SUMMARY_COLUMNS)
    # every scope of a date has the same inputs: read one scope's rows (no distinct)
    scope_of = {end: scope for scope, end in reversed(scopes)}

    def summary_for(end: dt.date) -> pd.DataFrame:
        # one fit end's rows, numeric keys only
        rows = summary.filter(
            f"fit_scope = '{scope_of[end]}' and fit_end_date = date '{end.isoformat()}'"
        )
        return summary_from_rows(rows.select(columns).df())

    return fits_table(scopes, summary_for, settings)
