# grain: one row per fit scope x fit end date (as_of; holdout; month_end, one per month of
# the prediction history): the BG/NBD + Gamma-Gamma fit behind it, with its diagnostics.
"""The prediction fits of a build (dbt Python model; DuckDB only, see _predictions__models.yml).

Fits BG/NBD and Gamma-Gamma once per distinct fit end date from the per-customer summary
int_customers_purchases_summarised (as_of and the current month_end share as_of_date, so
they share one fit), aggregated in DuckDB first: the fits read the distinct (x, t_x, T)
rows with their customer counts and the repeat buyers' values, never a frame of every
customer. fct_customer_predictions, fct_prediction_calibration and
int_customer_months_predicted read the parameters from here and only apply the closed
forms. Logic: src/dtc_economics/warehouse_predictions.py (fits_table).
"""

import datetime as dt
from typing import Any

import pyarrow as pa

from dtc_economics import warehouse_predictions as wp


def model(dbt: Any, session: Any) -> pa.Table:
    dbt.config(materialized="table")
    # vars reach Python models through config meta (_predictions__models.yml)
    settings = wp.PredictionSettings.from_mapping(dbt.config.meta_get("prediction_settings"))
    summary = dbt.ref("int_customers_purchases_summarised")
    as_of_date = dbt.ref("int_as_of_date").select("as_of_date").fetchall()[0][0]
    # as_of and holdout always have a row (an empty scope is reported as insufficient
    # data); month ends only when some customer had bought by then
    scopes: list[tuple[str, dt.date]] = [
        (wp.SCOPE_AS_OF, as_of_date),
        (wp.SCOPE_HOLDOUT, as_of_date - dt.timedelta(days=settings.calibration_days)),
    ]
    month_ends = summary.filter(f"fit_scope = '{wp.SCOPE_MONTH_END}'").select("fit_end_date")
    scopes += [(wp.SCOPE_MONTH_END, end) for (end,) in sorted(month_ends.distinct().fetchall())]
    # every scope of a date has the same inputs: read one scope's rows
    scope_of = {end: scope for scope, end in reversed(scopes)}

    def inputs_for(end: dt.date) -> wp.FitInputs:
        rows = summary.filter(
            f"fit_scope = '{scope_of[end]}' and fit_end_date = date '{end.isoformat()}'"
        )
        return wp.fit_inputs_from_relation(rows)

    return wp.fits_table(scopes, inputs_for, settings)
