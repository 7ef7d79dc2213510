# grain: one row per month of the prediction history x customer with a purchase day on or
# before the month's fit end: predictions over the horizon and over its elapsed part.
"""Monthly prediction history per customer (dbt Python model; DuckDB only).

For each month_end fit of int_predictions_fitted (no fitting here: parameters read back),
applies the BG/NBD / Gamma-Gamma closed forms once per distinct input row (frequency,
recency, T, repeat net revenue) of the month's customers as of its fit end, and joins
them back to the customers in DuckDB: expected purchase days, P(repurchase) and predicted
value over the horizon, and expected purchase days and value over the elapsed part of the
horizon (fit end to as_of_date), next to what the customers bought in it (the summary's
actual_* columns), which fct_base_future_value_monthly compares.
Logic: src/dtc_economics/warehouse_predictions.py (monthly_scored).
"""

from typing import Any

from dtc_economics import warehouse_predictions as wp


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table")
    # vars reach Python models through config meta (_predictions__models.yml)
    settings = wp.PredictionSettings.from_mapping(dbt.config.meta_get("prediction_settings"))
    summary = dbt.ref("int_customers_purchases_summarised").filter(
        f"fit_scope = '{wp.SCOPE_MONTH_END}'"
    )
    # the scored rows go month by month into a temporary table of this connection
    scored = "__int_customer_months_predicted__scored"
    fits = wp.monthly_scored(session, scored, summary, dbt.ref("int_predictions_fitted"), settings)
    names = wp.registered(session, "int_customer_months_predicted", summary=summary, fits=fits)
    names["scored"] = scored
    return session.sql(f"""
        select
            cast(date_trunc('month', summary.fit_end_date) as date) as as_of_month,
            summary.fit_end_date,
            summary.customer_key,
            fits.prediction_status,
            fits.horizon_days,
            scored.expected_orders as expected_orders_365d,
            scored.p_repurchase as p_repurchase_365d,
            scored.expected_orders * scored.expected_order_value as predicted_value_365d,
            summary.elapsed_days,
            scored.expected_orders_elapsed,
            scored.expected_orders_elapsed * scored.expected_order_value
                as predicted_value_elapsed,
            summary.actual_end_date,
            summary.actual_purchase_days,
            summary.actual_net_revenue
        from {names["summary"]} as summary
        inner join {names["fits"]} as fits
            on summary.fit_end_date = fits.fit_end_date
        inner join {names["scored"]} as scored
            on
                summary.fit_end_date = scored.fit_end_date
                and {wp.input_join("summary", "scored")}
    """)
