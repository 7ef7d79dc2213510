# grain: one row per customer in dim_customers: BG/NBD + Gamma-Gamma predictions over the
# next var prediction_horizon_days (365) after as_of_date, with the model inputs used.
"""Customer-value predictions (dbt Python model; DuckDB only, see _predictions__docs.md).

Reads the per-customer purchase summary as of int_as_of_date (int_customers_purchases_
summarised: purchase days of valid orders in the reporting timezone, net_revenue excl. VAT)
and the as_of fit of int_predictions_fitted (BG/NBD and Gamma-Gamma, fitted once per build
there), applies the closed forms of dtc_economics.btyd once per distinct input row
(frequency, recency, T, repeat net revenue) and joins them back to the dim_customers
customers in DuckDB (no per-customer frame in Python). Below the data-sufficiency gate, or
when a fit is not usable, prediction columns are null and prediction_status /
prediction_status_reason say why; the build does not fail.
Logic: src/dtc_economics/warehouse_predictions.py (scored_inputs).
"""

from typing import Any

from dtc_economics import warehouse_predictions as wp


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table")
    # vars reach Python models through config meta (_predictions__models.yml)
    settings = wp.PredictionSettings.from_mapping(dbt.config.meta_get("prediction_settings"))
    summary = dbt.ref("int_customers_purchases_summarised").filter(
        f"fit_scope = '{wp.SCOPE_AS_OF}'"
    )
    [fit_row] = wp.fit_rows_of(dbt.ref("int_predictions_fitted"), wp.SCOPE_AS_OF)
    outcome, scored = wp.scored_inputs(fit_row, wp.distinct_inputs(summary), settings.horizon_days)
    names = wp.registered(
        session,
        "fct_customer_predictions",
        customers=dbt.ref("int_customers_enriched"),
        summary=summary,
        scored=scored,
        fit=wp.fit_table(
            outcome,
            settings.horizon_days,
            no_history_reason=f"no valid order on or before {outcome.fit_end}",
        ),
    )
    # a customer without a valid order up to as_of_date is not in the summary: no_history
    return session.sql(f"""
        select
            customers.customer_id,
            fit.fit_end_date as as_of_date,
            fit.horizon_days,
            summary.frequency,
            summary.recency_days,
            summary.t_days,
            scored.monetary_value,
            scored.p_alive,
            scored.expected_orders as expected_orders_365d,
            scored.p_repurchase as p_repurchase_365d,
            scored.expected_order_value,
            scored.expected_orders * scored.expected_order_value as predicted_value_365d,
            scored.order_value_source,
            case
                when summary.customer_key is null then '{wp.STATUS_NO_HISTORY}'
                else fit.prediction_status
            end as prediction_status,
            case
                when summary.customer_key is null then fit.no_history_reason
                else fit.prediction_status_reason
            end as prediction_status_reason
        from {names["customers"]} as customers
        cross join {names["fit"]} as fit
        left join {names["summary"]} as summary
            on customers.customer_key = summary.customer_key
        left join {names["scored"]} as scored
            on {wp.input_join("summary", "scored")}
    """)
