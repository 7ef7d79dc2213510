"""Warehouse layer of the customer-value predictions (BG/NBD + Gamma-Gamma).

The dbt Python models are thin wrappers. ``int_predictions_fitted`` reads the per-customer
purchase summary computed once in SQL (``int_customers_purchases_summarised``: frequency,
recency, T and repeat value per fit end date: as_of_date, the holdout's fit end and the
month ends of the prediction history) and fits BG/NBD + Gamma-Gamma once per distinct fit
end date (:func:`fits_table`); the models that publish predictions rebuild each fit from its
row (:func:`outcome_from_fit_row`) and apply the closed forms:
:func:`customer_predictions_table_from_fit`, :func:`calibration_table_from_fits`,
:func:`monthly_predictions_table`. The ``orders``-based functions
(:func:`customer_predictions_frame`, :func:`calibration_frame`) compute the same summary in
pandas with :func:`dtc_economics.btyd.summarise_orders` and share everything after it.
The fitting and the closed forms live in :mod:`dtc_economics.btyd` (validated on CDNOW);
this module adds the data-sufficiency gate, fit-status handling and the output tables with
fixed column types.

Conventions (docs/predictions_warehouse.md):

* time unit = days; a purchase = a customer's valid orders of one calendar day (reporting
  timezone) merged; value = net revenue excl. VAT (after returns attributed to the order);
* customers are identified by an integer ``customer_key`` (the models number
  dim_customers in DuckDB): grouping and aligning a million string ids in pandas took
  three quarters of the run time at 1M customers;
* nothing here raises on thin or odd data: when the gate fails or a fit is not usable,
  prediction columns are null and ``prediction_status`` / ``prediction_status_reason``
  say why, so the dbt build goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from dtc_economics import btyd

# prediction_status values (accepted_values in _predictions__models.yml)
STATUS_PREDICTED = "predicted"  # purchase and value predictions available
STATUS_PURCHASES_ONLY = "purchases_only"  # BG/NBD usable, Gamma-Gamma not: value columns null
STATUS_INSUFFICIENT_DATA = "insufficient_data"  # below the data-sufficiency gate
STATUS_FIT_FAILED = "fit_failed"  # BG/NBD did not converge or hit a bound
STATUS_NO_HISTORY = "no_history"  # customer without a valid order up to the fit date

# order_value_source values: where a customer's expected_order_value comes from
VALUE_OWN_HISTORY = "own_history"  # Gamma-Gamma posterior mean (own repeat mean + population)
VALUE_POPULATION_NO_REPEAT = "population_mean_no_repeat"  # frequency = 0
VALUE_POPULATION_NON_POSITIVE = "population_mean_non_positive_value"  # repeat net value <= 0

# Mean repeat values closer to 0 than half a cent are set to 0 (and so left out of the
# Gamma-Gamma fit): fully refunded orders can carry float noise such as 1.4e-14 in
# fct_orders.net_revenue, and a handful of such "positive" values moves the Gamma-Gamma
# parameters by 15% (log m = -32 is an extreme outlier for a gamma likelihood).
HALF_CENT = 0.005

KEY = "customer_key"  # integer customer key in the orders and customers frames

MAX_BUCKET = 7  # frequency buckets 0..6 and "7+"
SCOPE_HOLDOUT = "holdout"
SCOPE_AS_OF = "as_of"
SCOPE_MONTH_END = "month_end"

# the per-customer inputs :func:`summary_from_rows` needs (int_customers_purchases_summarised)
SUMMARY_COLUMNS = (
    "customer_key",
    "frequency",
    "recency_days",
    "t_days",
    "repeat_net_revenue",
    "first_purchase_date",
)


@dataclass(frozen=True)
class PredictionSettings:
    """Business thresholds, from dbt vars (dbt_project.yml, block "predictions")."""

    horizon_days: int = 365
    calibration_days: int = 180
    min_customers: int = 500
    min_history_days: int = 180
    min_repeat_buyers: int = 100

    def __post_init__(self) -> None:
        for name in ("horizon_days", "calibration_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 day")
        for name in ("min_customers", "min_history_days", "min_repeat_buyers"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PredictionSettings:
        """Build from {field name: value}, e.g. the vars a dbt Python model reads with
        ``dbt.config.meta_get``. dbt may hand rendered vars over as strings, so every value
        is cast to int. A missing or empty value is a configuration error (raises)."""
        parsed: dict[str, int] = {}
        for name in cls.__dataclass_fields__:
            raw = values.get(name)
            if raw is None or str(raw).strip() == "":
                raise ValueError(f"prediction setting {name!r} is not set (dbt var missing?)")
            parsed[name] = int(float(str(raw)))
        return cls(**parsed)


@dataclass(frozen=True)
class FitOutcome:
    """Per-customer model inputs as of ``fit_end`` with the gate result and the fits."""

    fit_end: dt.date
    status: str
    reason: str
    summary: pd.DataFrame  # index customer_key; frequency, recency, T (days), monetary_value
    bgnbd: btyd.BGNBDFit | None = None
    gamma_gamma: btyd.GammaGammaFit | None = None
    correlation: float = float("nan")

    @property
    def purchases_usable(self) -> bool:
        """Purchase predictions exist (BG/NBD fitted and usable)."""
        return self.status in (STATUS_PREDICTED, STATUS_PURCHASES_ONLY) and self.bgnbd is not None

    @property
    def values_usable(self) -> bool:
        """Value predictions exist too (Gamma-Gamma fitted and usable)."""
        return (
            self.status == STATUS_PREDICTED
            and self.bgnbd is not None
            and self.gamma_gamma is not None
        )


def _as_date(value: Any) -> dt.date:
    """A date from a date, datetime, pandas Timestamp or ISO string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _fit_problem(fit: btyd.BGNBDFit | btyd.GammaGammaFit) -> str:
    parts = [f"success={fit.success}"]
    if fit.at_bound:
        parts.append(f"at bound: {', '.join(fit.at_bound)}")
    if isinstance(fit, btyd.GammaGammaFit) and fit.params.q <= 1.0:
        parts.append(f"q = {fit.params.q:.3g} <= 1 (mean order value undefined)")
    parts.append(f"message: {fit.message}")
    return "; ".join(parts)


def fit_models(
    orders: pd.DataFrame, fit_end: dt.date | str, settings: PredictionSettings
) -> FitOutcome:
    """Summarise orders up to ``fit_end`` (inclusive), apply the gate, fit both models.

    ``orders`` has one row per valid order: customer_key, order_date, net_revenue. Never
    raises for thin data: failures are reported in ``status`` and ``reason``.
    """
    end = _as_date(fit_end)
    summary = btyd.summarise_orders(
        orders,
        pd.Timestamp(end),
        time_unit="days",
        customer_col=KEY,
        date_col="order_date",
        value_col="net_revenue",
    )
    return fit_summary(summary, end, settings)


def summary_from_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The summary :func:`dtc_economics.btyd.summarise_orders` returns (time unit days),
    from per-customer rows computed in SQL (``int_customers_purchases_summarised``):
    customer_key, frequency, recency_days, t_days, first_day_net_revenue,
    repeat_net_revenue (total of the purchase days after the first), first_purchase_date.

    monetary_value = repeat_net_revenue / frequency (NaN when frequency = 0), as in
    summarise_orders; indexed by customer_key in ascending order."""
    rows = rows.sort_values(KEY)
    out = pd.DataFrame(index=pd.Index(rows[KEY].to_numpy(), name="customer_id"))
    freq = rows["frequency"].to_numpy(dtype="int64")
    out["frequency"] = freq
    out["recency"] = rows["recency_days"].to_numpy(dtype=float)
    out["T"] = rows["t_days"].to_numpy(dtype=float)
    repeat = rows["repeat_net_revenue"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["monetary_value"] = np.where(freq > 0, repeat / np.where(freq > 0, freq, 1), np.nan)
    out["first_purchase"] = pd.to_datetime(rows["first_purchase_date"]).to_numpy()
    return out


def _prepared(summary: pd.DataFrame) -> pd.DataFrame:
    """A copy of the summary with mean repeat values within half a cent of 0 set to 0."""
    summary = summary.copy()
    if not summary.empty:
        m = summary["monetary_value"]
        summary["monetary_value"] = m.mask(m.abs() < HALF_CENT, 0.0)
    return summary


def fit_summary(
    summary: pd.DataFrame,
    fit_end: dt.date | str,
    settings: PredictionSettings,
    start: FitOutcome | None = None,
) -> FitOutcome:
    """:func:`fit_models` from a per-customer summary (frequency, recency, T in days,
    monetary_value; one row per customer with a purchase on or before ``fit_end``).

    ``start``: the outcome of a neighbouring fit end date whose usable fits the searches
    start from (warm start); the convergence criteria are the same as from the default
    start, so the result is the same optimum to the optimiser's tolerance."""
    end = _as_date(fit_end)
    summary = _prepared(summary)
    if summary.empty:
        return FitOutcome(end, STATUS_INSUFFICIENT_DATA, "no customers", summary)
    correlation = btyd.frequency_monetary_correlation(
        summary["frequency"], summary["monetary_value"]
    )
    ok, gate = btyd.check_data_sufficiency(
        summary,
        time_unit="days",
        min_customers=settings.min_customers,
        min_history_days=settings.min_history_days,
        min_repeat_buyers=settings.min_repeat_buyers,
    )
    if not ok:
        return FitOutcome(end, STATUS_INSUFFICIENT_DATA, gate, summary, correlation=correlation)
    try:
        bg_start = start.bgnbd.params if start and start.bgnbd and start.bgnbd.ok else None
        bg = btyd.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"], start=bg_start)
    except ValueError as exc:
        reason = f"BG/NBD fit failed: {exc}"
        return FitOutcome(end, STATUS_FIT_FAILED, reason, summary, correlation=correlation)
    if not bg.ok:
        reason = f"BG/NBD fit not usable: {_fit_problem(bg)}"
        return FitOutcome(end, STATUS_FIT_FAILED, reason, summary, bg, correlation=correlation)
    try:
        gg_start = (
            start.gamma_gamma.params
            if start and start.gamma_gamma and start.gamma_gamma.ok
            else None
        )
        gg = btyd.fit_gamma_gamma(summary["frequency"], summary["monetary_value"], start=gg_start)
    except ValueError as exc:
        reason = f"{gate}; Gamma-Gamma fit failed: {exc}"
        return FitOutcome(end, STATUS_PURCHASES_ONLY, reason, summary, bg, None, correlation)
    if not gg.ok:
        reason = f"{gate}; Gamma-Gamma fit not usable: {_fit_problem(gg)}"
        return FitOutcome(end, STATUS_PURCHASES_ONLY, reason, summary, bg, gg, correlation)
    return FitOutcome(end, STATUS_PREDICTED, gate, summary, bg, gg, correlation)


def predict(outcome: FitOutcome, horizon_days: float) -> pd.DataFrame:
    """Per-customer predictions over ``horizon_days`` after the fit date.

    Columns p_alive, expected_orders, p_repurchase, expected_order_value, predicted_value,
    order_value_source; all null where the outcome's status does not allow them. Customers
    whose mean repeat value is <= 0 (refunds exceeding repeat spend) are left out of the
    Gamma-Gamma fit and get the population mean order value, like customers without a
    repeat purchase.
    """
    s = outcome.summary
    n = len(s)
    out = pd.DataFrame(index=s.index)
    nan = np.full(n, np.nan)
    out["p_alive"] = nan
    out["expected_orders"] = nan
    out["p_repurchase"] = nan
    out["expected_order_value"] = nan
    out["predicted_value"] = nan
    out["order_value_source"] = pd.Series([None] * n, index=s.index, dtype=object)
    if not outcome.purchases_usable:
        return out
    x = s["frequency"]
    params = outcome.bgnbd.params
    # the closed forms depend on (x, t_x, T) only: evaluated once per distinct row
    (dx, dtx, dt), inverse = btyd.distinct_rows(x, s["recency"], s["T"])
    out["p_alive"] = btyd.probability_alive(params, dx, dtx, dt)[inverse]
    out["expected_orders"] = btyd.expected_purchases(params, horizon_days, dx, dtx, dt)[inverse]
    out["p_repurchase"] = btyd.probability_any_purchase(params, horizon_days, dx, dtx, dt)[inverse]
    if not outcome.values_usable:
        return out
    m = s["monetary_value"].to_numpy(dtype=float)
    freq = x.to_numpy(dtype=float)
    own = (freq >= 1) & np.isfinite(m) & (m > 0)
    value = btyd.expected_order_value(
        outcome.gamma_gamma.params, np.where(own, freq, 0.0), np.where(own, m, 0.0)
    )
    out["expected_order_value"] = value
    out["predicted_value"] = out["expected_orders"].to_numpy() * value
    out["order_value_source"] = np.where(
        own,
        VALUE_OWN_HISTORY,
        np.where(freq >= 1, VALUE_POPULATION_NON_POSITIVE, VALUE_POPULATION_NO_REPEAT),
    )
    return out


def predict_checked(outcome: FitOutcome, horizon_days: float) -> tuple[FitOutcome, pd.DataFrame]:
    """:func:`predict`, demoting the outcome when a fit that passed its checks still gives
    non-finite predictions (degenerate parameters on thin data overflow the closed forms):
    ``fit_failed`` for purchases, ``purchases_only`` for values, never a partial column."""
    pred = predict(outcome, horizon_days)
    purchase_cols = ["p_alive", "expected_orders", "p_repurchase"]
    value_cols = ["expected_order_value", "predicted_value"]
    if outcome.purchases_usable and not np.isfinite(pred[purchase_cols].to_numpy(float)).all():
        reason = (
            f"BG/NBD predictions not finite over {horizon_days:g} days "
            f"(degenerate parameters: {outcome.bgnbd.params if outcome.bgnbd else None})"
        )
        outcome = replace(outcome, status=STATUS_FIT_FAILED, reason=reason)
        return outcome, predict(outcome, horizon_days)
    if outcome.values_usable and not np.isfinite(pred[value_cols].to_numpy(float)).all():
        reason = f"{outcome.reason}; Gamma-Gamma values not finite over {horizon_days:g} days"
        outcome = replace(outcome, status=STATUS_PURCHASES_ONLY, reason=reason)
        return outcome, predict(outcome, horizon_days)
    return outcome, pred


# --------------------------------------------------------------------------------------
# fct_customer_predictions
# --------------------------------------------------------------------------------------

CUSTOMER_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("horizon_days", pa.int32()),
        ("frequency", pa.int32()),
        ("recency_days", pa.int32()),
        ("t_days", pa.int32()),
        ("monetary_value", pa.float64()),
        ("p_alive", pa.float64()),
        ("expected_orders_365d", pa.float64()),
        ("p_repurchase_365d", pa.float64()),
        ("expected_order_value", pa.float64()),
        ("predicted_value_365d", pa.float64()),
        ("order_value_source", pa.string()),
        ("prediction_status", pa.string()),
        ("prediction_status_reason", pa.string()),
    ]
)


def customer_predictions_frame(
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    as_of_date: dt.date | str,
    settings: PredictionSettings,
) -> pd.DataFrame:
    """One row per row of ``customers`` (customer_key, customer_id: dim_customers), in its
    order, with the columns of ``CUSTOMER_SCHEMA``. ``orders``: customer_key, order_date,
    net_revenue of valid orders. Customers without a valid order up to as_of_date get
    status ``no_history`` (dim_customers should not contain any)."""
    return _customer_predictions(fit_models(orders, as_of_date, settings), customers, settings)


def customer_predictions_table_from_summary(
    summary: pd.DataFrame,
    customers: pd.DataFrame,
    as_of_date: dt.date | str,
    settings: PredictionSettings,
) -> pa.Table:
    """As :func:`customer_predictions_table`, from the summary as of as_of_date
    (:func:`summary_from_rows`) instead of the orders."""
    df = _customer_predictions(fit_summary(summary, as_of_date, settings), customers, settings)
    return pa.Table.from_pandas(df, schema=CUSTOMER_SCHEMA, preserve_index=False)


def _customer_predictions(
    fitted: FitOutcome, customers: pd.DataFrame, settings: PredictionSettings
) -> pd.DataFrame:
    outcome, pred = predict_checked(fitted, settings.horizon_days)
    s = outcome.summary
    # position of each customer in the summary, -1 = no valid order up to as_of_date
    pos = s.index.get_indexer(customers[KEY].to_numpy())
    known = pos >= 0

    def column(values: pd.Series, integer: bool = False) -> pd.Series:
        """Summary-indexed values in the order of ``customers``; null where unknown."""
        out = values.reset_index(drop=True).reindex(pos).reset_index(drop=True)
        return out.round().astype("Int32") if integer else out

    df = pd.DataFrame({"customer_id": customers["customer_id"].reset_index(drop=True)})
    df["as_of_date"] = outcome.fit_end
    df["horizon_days"] = settings.horizon_days
    df["frequency"] = column(s["frequency"], integer=True)
    df["recency_days"] = column(s["recency"], integer=True)
    df["t_days"] = column(s["T"], integer=True)
    df["monetary_value"] = column(s["monetary_value"])
    df["p_alive"] = column(pred["p_alive"])
    df["expected_orders_365d"] = column(pred["expected_orders"])
    df["p_repurchase_365d"] = column(pred["p_repurchase"])
    df["expected_order_value"] = column(pred["expected_order_value"])
    df["predicted_value_365d"] = column(pred["predicted_value"])
    df["order_value_source"] = column(pred["order_value_source"])
    df["prediction_status"] = np.where(known, outcome.status, STATUS_NO_HISTORY)
    df["prediction_status_reason"] = np.where(
        known, outcome.reason, f"no valid order on or before {outcome.fit_end}"
    )
    return df


def customer_predictions_table(
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    as_of_date: dt.date | str,
    settings: PredictionSettings,
) -> pa.Table:
    """:func:`customer_predictions_frame` as an Arrow table with fixed column types."""
    df = customer_predictions_frame(orders, customers, as_of_date, settings)
    return pa.Table.from_pandas(df, schema=CUSTOMER_SCHEMA, preserve_index=False)


# --------------------------------------------------------------------------------------
# fct_prediction_calibration
# --------------------------------------------------------------------------------------

CALIBRATION_SCHEMA = pa.schema(
    [
        ("fit_scope", pa.string()),
        ("frequency_bucket", pa.string()),
        ("bucket_sort", pa.int32()),
        ("fit_end_date", pa.date32()),
        ("horizon_days", pa.int32()),
        ("horizon_end_date", pa.date32()),
        ("customers", pa.int64()),
        ("predicted_repeat_purchases", pa.float64()),
        ("actual_repeat_purchases", pa.float64()),
        ("predicted_repeat_purchases_per_customer", pa.float64()),
        ("actual_repeat_purchases_per_customer", pa.float64()),
        ("predicted_over_actual_purchases", pa.float64()),
        ("predicted_net_revenue", pa.float64()),
        ("actual_net_revenue", pa.float64()),
        ("predicted_over_actual_net_revenue", pa.float64()),
        ("fit_status", pa.string()),
        ("fit_status_reason", pa.string()),
        ("fit_customers", pa.int64()),
        ("fit_repeat_buyers", pa.int64()),
        ("history_days", pa.int32()),
        ("bgnbd_success", pa.bool_()),
        ("bgnbd_at_bound", pa.string()),
        ("bgnbd_iterations", pa.int32()),
        ("bgnbd_log_likelihood", pa.float64()),
        ("bgnbd_r", pa.float64()),
        ("bgnbd_alpha_days", pa.float64()),
        ("bgnbd_a", pa.float64()),
        ("bgnbd_b", pa.float64()),
        ("bgnbd_distinct_rows", pa.int64()),
        ("bgnbd_message", pa.string()),
        ("gamma_gamma_success", pa.bool_()),
        ("gamma_gamma_at_bound", pa.string()),
        ("gamma_gamma_iterations", pa.int32()),
        ("gamma_gamma_log_likelihood", pa.float64()),
        ("gamma_gamma_p", pa.float64()),
        ("gamma_gamma_q", pa.float64()),
        ("gamma_gamma_gamma", pa.float64()),
        ("gamma_gamma_customers", pa.int64()),
        ("gamma_gamma_excluded_customers", pa.int64()),
        ("gamma_gamma_message", pa.string()),
        ("population_mean_order_value", pa.float64()),
        ("frequency_monetary_correlation", pa.float64()),
    ]
)

BUCKET_LABELS = [str(i) for i in range(MAX_BUCKET)] + [f"{MAX_BUCKET}+", "total"]


def _fit_columns(outcome: FitOutcome) -> dict[str, Any]:
    """Fit-level columns (repeated on every bucket row of a scope)."""
    s = outcome.summary
    bg, gg = outcome.bgnbd, outcome.gamma_gamma
    corr = outcome.correlation
    pop_mean = gg.params.population_mean_order_value if gg is not None else None
    return {
        "fit_status": outcome.status,
        "fit_status_reason": outcome.reason,
        "fit_customers": len(s),
        "fit_repeat_buyers": int((s["frequency"] > 0).sum()) if len(s) else 0,
        "history_days": int(round(float(s["T"].max()))) if len(s) else None,
        "bgnbd_success": bg.success if bg else None,
        "bgnbd_at_bound": ", ".join(bg.at_bound) if bg else None,
        "bgnbd_iterations": bg.iterations if bg else None,
        "bgnbd_log_likelihood": bg.log_likelihood if bg else None,
        "bgnbd_r": bg.params.r if bg else None,
        "bgnbd_alpha_days": bg.params.alpha if bg else None,
        "bgnbd_a": bg.params.a if bg else None,
        "bgnbd_b": bg.params.b if bg else None,
        "bgnbd_distinct_rows": bg.n_rows if bg else None,
        "bgnbd_message": bg.message if bg else None,
        "gamma_gamma_success": gg.success if gg else None,
        "gamma_gamma_at_bound": ", ".join(gg.at_bound) if gg else None,
        "gamma_gamma_iterations": gg.iterations if gg else None,
        "gamma_gamma_log_likelihood": gg.log_likelihood if gg else None,
        "gamma_gamma_p": gg.params.p if gg else None,
        "gamma_gamma_q": gg.params.q if gg else None,
        "gamma_gamma_gamma": gg.params.gamma if gg else None,
        "gamma_gamma_customers": int(round(gg.n_customers)) if gg else None,
        "gamma_gamma_excluded_customers": int(round(gg.n_excluded)) if gg else None,
        "gamma_gamma_message": gg.message if gg else None,
        "population_mean_order_value": pop_mean if np.isfinite(pop_mean or np.nan) else None,
        "frequency_monetary_correlation": corr if np.isfinite(corr) else None,
    }


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or not denominator:
        return None
    if not (np.isfinite(numerator) and np.isfinite(denominator)):
        return None
    return float(numerator) / float(denominator)


def _bucket_rows(
    scope: str,
    outcome: FitOutcome,
    horizon_days: int,
    per_customer: pd.DataFrame,
) -> list[dict[str, Any]]:
    """Rows 0..6, 7+, total for one scope. ``per_customer`` (index = summary index) has
    predicted, actual (NaN when not observed), predicted_value, actual_value."""
    fit_cols = _fit_columns(outcome)
    # what the scope has at all (as `predict` fills it): an empty bucket sums to 0 only for
    # these, so buckets add up to the total row whatever the gate decided
    defined = {
        "predicted": outcome.purchases_usable,
        "predicted_value": outcome.values_usable,
        "actual": scope == SCOPE_HOLDOUT,
        "actual_value": scope == SCOPE_HOLDOUT,
    }
    freq = outcome.summary["frequency"].to_numpy()
    bucket = np.minimum(freq, MAX_BUCKET)
    rows: list[dict[str, Any]] = []
    for i, label in enumerate(BUCKET_LABELS):
        sel = np.ones(len(freq), dtype=bool) if label == "total" else bucket == i
        part = per_customer.loc[sel]
        customers = int(sel.sum())

        def total(col: str, part: pd.DataFrame = part) -> float | None:
            if not defined[col]:  # not predicted / not observed: null, even in an empty bucket
                return None
            values = part[col]
            if values.isna().any():  # null, never partial
                return None
            return float(values.sum())

        predicted, actual = total("predicted"), total("actual")
        predicted_value, actual_value = total("predicted_value"), total("actual_value")
        rows.append(
            {
                "fit_scope": scope,
                "frequency_bucket": label,
                "bucket_sort": i,
                "fit_end_date": outcome.fit_end,
                "horizon_days": horizon_days,
                "horizon_end_date": outcome.fit_end + dt.timedelta(days=horizon_days),
                "customers": customers,
                "predicted_repeat_purchases": predicted,
                "actual_repeat_purchases": actual,
                "predicted_repeat_purchases_per_customer": _ratio(predicted, customers),
                "actual_repeat_purchases_per_customer": _ratio(actual, customers),
                "predicted_over_actual_purchases": _ratio(predicted, actual),
                "predicted_net_revenue": predicted_value,
                "actual_net_revenue": actual_value,
                "predicted_over_actual_net_revenue": _ratio(predicted_value, actual_value),
                **fit_cols,
            }
        )
    return rows


def calibration_frame(
    orders: pd.DataFrame, as_of_date: dt.date | str, settings: PredictionSettings
) -> pd.DataFrame:
    """Holdout check and fit diagnostics, columns of ``CALIBRATION_SCHEMA``.

    * ``holdout``: fit on valid orders up to as_of_date - calibration_days, predict the
      customers of that date over the next calibration_days, and compare with the repeat
      purchase days (same-day orders merged) and net revenue they actually had in
      (fit end, as_of_date].
    * ``as_of``: the fit the published predictions use (orders up to as_of_date) with its
      prediction over horizon_days; actual columns are null (the future).
    """
    as_of = _as_date(as_of_date)
    cal_end = as_of - dt.timedelta(days=settings.calibration_days)
    dates = pd.to_datetime(orders["order_date"]).dt.normalize()
    in_holdout = (dates > pd.Timestamp(cal_end)) & (dates <= pd.Timestamp(as_of))
    later = pd.DataFrame(
        {
            KEY: orders.loc[in_holdout, KEY].to_numpy(),
            "day": dates[in_holdout].to_numpy(),
            "value": orders.loc[in_holdout, "net_revenue"].astype(float).to_numpy(),
        }
    )
    actuals = later.groupby(KEY).agg(actual=("day", "nunique"), actual_value=("value", "sum"))
    return _calibration(
        fit_models(orders, cal_end, settings),
        actuals,
        fit_models(orders, as_of, settings),
        settings,
    )


def calibration_table_from_summaries(
    holdout_summary: pd.DataFrame,
    holdout_actuals: pd.DataFrame,
    as_of_summary: pd.DataFrame,
    as_of_date: dt.date | str,
    settings: PredictionSettings,
) -> pa.Table:
    """As :func:`calibration_table`, from the summaries as of the holdout's fit end
    (as_of_date - calibration_days) and as of as_of_date (:func:`summary_from_rows`), and
    ``holdout_actuals`` (index customer_key; actual = purchase days and actual_value = net
    revenue in (fit end, as_of_date])."""
    as_of = _as_date(as_of_date)
    cal_end = as_of - dt.timedelta(days=settings.calibration_days)
    df = _calibration(
        fit_summary(holdout_summary, cal_end, settings),
        holdout_actuals,
        fit_summary(as_of_summary, as_of, settings),
        settings,
    )
    return pa.Table.from_pandas(df, schema=CALIBRATION_SCHEMA, preserve_index=False)


def _calibration(
    hold_fit: FitOutcome,
    actuals: pd.DataFrame,
    current_fit: FitOutcome,
    settings: PredictionSettings,
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    hold, pred = predict_checked(hold_fit, settings.calibration_days)
    by_customer = actuals[["actual", "actual_value"]].reindex(hold.summary.index, fill_value=0)
    rows += _bucket_rows(
        SCOPE_HOLDOUT,
        hold,
        settings.calibration_days,
        pd.DataFrame(
            {
                "predicted": pred["expected_orders"],
                "actual": by_customer["actual"].astype(float),
                "predicted_value": pred["predicted_value"],
                "actual_value": by_customer["actual_value"].astype(float),
            }
        ),
    )

    current, pred = predict_checked(current_fit, settings.horizon_days)
    rows += _bucket_rows(
        SCOPE_AS_OF,
        current,
        settings.horizon_days,
        pd.DataFrame(
            {
                "predicted": pred["expected_orders"],
                "actual": np.nan,
                "predicted_value": pred["predicted_value"],
                "actual_value": np.nan,
            },
            index=current.summary.index,
        ),
    )
    return pd.DataFrame(rows, columns=CALIBRATION_SCHEMA.names)


def calibration_table(
    orders: pd.DataFrame, as_of_date: dt.date | str, settings: PredictionSettings
) -> pa.Table:
    """:func:`calibration_frame` as an Arrow table with fixed column types."""
    df = calibration_frame(orders, as_of_date, settings)
    return pa.Table.from_pandas(df, schema=CALIBRATION_SCHEMA, preserve_index=False)


# --------------------------------------------------------------------------------------
# int_predictions_fitted: one fit per distinct fit end date
# --------------------------------------------------------------------------------------

_FIT_FIELDS = CALIBRATION_SCHEMA.names[CALIBRATION_SCHEMA.names.index("fit_status") :]

FIT_SCHEMA = pa.schema(
    [
        ("fit_scope", pa.string()),
        ("fit_end_date", pa.date32()),
        ("horizon_days", pa.int32()),
        *(CALIBRATION_SCHEMA.field(name) for name in _FIT_FIELDS),
        ("bgnbd_function_evaluations", pa.int32()),
        ("gamma_gamma_function_evaluations", pa.int32()),
    ]
)


def scope_horizon_days(scope: str, settings: PredictionSettings) -> int:
    """Days a scope predicts after its fit end: the holdout its calibration period, the
    others the forecast horizon."""
    return settings.calibration_days if scope == SCOPE_HOLDOUT else settings.horizon_days


def fits_table(
    scopes: Sequence[tuple[str, dt.date | str]],
    summary_for: Callable[[dt.date], pd.DataFrame],
    settings: PredictionSettings,
) -> pa.Table:
    """One row per (fit scope, fit end date) of ``scopes`` with its fit (gate, BG/NBD and
    Gamma-Gamma parameters and diagnostics), fitting once per distinct fit end date:
    scopes that share a date (as_of and the current month_end) share the fit.
    ``summary_for(date)`` returns the per-customer summary (:func:`summary_from_rows`) as of
    that date. The status is the fit's; :func:`predict_checked` may still demote it when
    the closed forms are not finite over a horizon.

    Dates are fitted oldest first. The fits that are published or checked on their own
    (the oldest date, and the dates of the as_of and holdout scopes) start from the default
    start; every other month end starts from the previous date's fit (warm start: a month
    adds few customers, so its optimum is close and the search takes fewer steps)."""
    ends = sorted({_as_date(fit_end) for _, fit_end in scopes})
    cold = {_as_date(fit_end) for scope, fit_end in scopes if scope != SCOPE_MONTH_END}
    cold |= set(ends[:1])
    outcomes: dict[dt.date, FitOutcome] = {}
    previous: FitOutcome | None = None
    for end in ends:
        start = None if end in cold else previous
        previous = outcomes[end] = fit_summary(summary_for(end), end, settings, start)
    rows: list[dict[str, Any]] = []
    for scope, fit_end in scopes:
        end = _as_date(fit_end)
        outcome = outcomes[end]
        rows.append(
            {
                "fit_scope": scope,
                "fit_end_date": end,
                "horizon_days": scope_horizon_days(scope, settings),
                **_fit_columns(outcome),
                "bgnbd_function_evaluations": (
                    outcome.bgnbd.function_evaluations if outcome.bgnbd else None
                ),
                "gamma_gamma_function_evaluations": (
                    outcome.gamma_gamma.function_evaluations if outcome.gamma_gamma else None
                ),
            }
        )
    df = pd.DataFrame(rows, columns=FIT_SCHEMA.names)
    return pa.Table.from_pandas(df, schema=FIT_SCHEMA, preserve_index=False)


def _present(value: Any) -> bool:
    if value is None or value is pd.NA:
        return False
    return not (isinstance(value, float) and np.isnan(value))


def _bounds(value: Any) -> tuple[str, ...]:
    return tuple(part for part in str(value).split(", ") if part) if _present(value) else ()


def outcome_from_fit_row(row: Mapping[str, Any], summary: pd.DataFrame) -> FitOutcome:
    """The :class:`FitOutcome` a row of :func:`fits_table` describes, over ``summary`` (the
    per-customer summary as of the row's fit end date, as the fit saw it). No fitting:
    the parameters and diagnostics are read back (doubles round-trip exactly)."""
    bg = gg = None
    if _present(row["bgnbd_success"]):
        bg = btyd.BGNBDFit(
            params=btyd.BGNBDParams(
                r=float(row["bgnbd_r"]),
                alpha=float(row["bgnbd_alpha_days"]),
                a=float(row["bgnbd_a"]),
                b=float(row["bgnbd_b"]),
            ),
            log_likelihood=float(row["bgnbd_log_likelihood"]),
            success=bool(row["bgnbd_success"]),
            message=str(row["bgnbd_message"]),
            iterations=int(row["bgnbd_iterations"]),
            function_evaluations=int(row["bgnbd_function_evaluations"]),
            n_customers=float(row["fit_customers"]),
            n_rows=int(row["bgnbd_distinct_rows"]),
            at_bound=_bounds(row["bgnbd_at_bound"]),
        )
    if _present(row["gamma_gamma_success"]):
        gg = btyd.GammaGammaFit(
            params=btyd.GammaGammaParams(
                p=float(row["gamma_gamma_p"]),
                q=float(row["gamma_gamma_q"]),
                gamma=float(row["gamma_gamma_gamma"]),
            ),
            log_likelihood=float(row["gamma_gamma_log_likelihood"]),
            success=bool(row["gamma_gamma_success"]),
            message=str(row["gamma_gamma_message"]),
            iterations=int(row["gamma_gamma_iterations"]),
            function_evaluations=int(row["gamma_gamma_function_evaluations"]),
            n_customers=float(row["gamma_gamma_customers"]),
            n_excluded=float(row["gamma_gamma_excluded_customers"]),
            at_bound=_bounds(row["gamma_gamma_at_bound"]),
        )
    correlation = row["frequency_monetary_correlation"]
    return FitOutcome(
        fit_end=_as_date(row["fit_end_date"]),
        status=str(row["fit_status"]),
        reason=str(row["fit_status_reason"]),
        summary=_prepared(summary),
        bgnbd=bg,
        gamma_gamma=gg,
        correlation=float(correlation) if _present(correlation) else float("nan"),
    )


def customer_predictions_table_from_fit(
    fit_row: Mapping[str, Any],
    summary: pd.DataFrame,
    customers: pd.DataFrame,
    settings: PredictionSettings,
) -> pa.Table:
    """fct_customer_predictions from the as_of row of :func:`fits_table` and the summary as
    of as_of_date (no second fit)."""
    outcome = outcome_from_fit_row(fit_row, summary)
    df = _customer_predictions(outcome, customers, settings)
    return pa.Table.from_pandas(df, schema=CUSTOMER_SCHEMA, preserve_index=False)


def calibration_table_from_fits(
    holdout_row: Mapping[str, Any],
    holdout_summary: pd.DataFrame,
    holdout_actuals: pd.DataFrame,
    as_of_row: Mapping[str, Any],
    as_of_summary: pd.DataFrame,
    settings: PredictionSettings,
) -> pa.Table:
    """fct_prediction_calibration from the holdout and as_of rows of :func:`fits_table`
    (no fitting); ``holdout_actuals`` as in :func:`calibration_table_from_summaries`."""
    df = _calibration(
        outcome_from_fit_row(holdout_row, holdout_summary),
        holdout_actuals,
        outcome_from_fit_row(as_of_row, as_of_summary),
        settings,
    )
    return pa.Table.from_pandas(df, schema=CALIBRATION_SCHEMA, preserve_index=False)


# --------------------------------------------------------------------------------------
# int_customer_months_predicted (fct_base_future_value_monthly)
# --------------------------------------------------------------------------------------

MONTHLY_SCHEMA = pa.schema(
    [
        ("as_of_month", pa.date32()),
        ("fit_end_date", pa.date32()),
        ("customer_key", pa.int32()),
        ("prediction_status", pa.string()),
        ("horizon_days", pa.int32()),
        ("expected_orders_365d", pa.float64()),
        ("p_repurchase_365d", pa.float64()),
        ("predicted_value_365d", pa.float64()),
        ("elapsed_days", pa.int32()),
        ("expected_orders_elapsed", pa.float64()),
        ("predicted_value_elapsed", pa.float64()),
    ]
)


def monthly_predictions_frame(
    outcome: FitOutcome, elapsed_days: int, settings: PredictionSettings
) -> pd.DataFrame:
    """Per customer of the outcome's summary (customer_key index): the predictions over the
    horizon after the fit end, and over its first ``elapsed_days`` (the part of the horizon
    already observed at as_of_date: what the calibration compares with actuals). Columns of
    ``MONTHLY_SCHEMA``; prediction columns null where the (checked) status does not allow
    them, as in fct_customer_predictions."""
    outcome, pred = predict_checked(outcome, settings.horizon_days)
    s = outcome.summary
    n = len(s)
    elapsed = np.full(n, np.nan)
    if outcome.purchases_usable:
        if elapsed_days > 0:
            (dx, dtx, dt), inverse = btyd.distinct_rows(s["frequency"], s["recency"], s["T"])
            elapsed = btyd.expected_purchases(outcome.bgnbd.params, elapsed_days, dx, dtx, dt)
            elapsed = np.asarray(elapsed, dtype=float)[inverse]
        else:
            elapsed = np.zeros(n)
    value = pred["expected_order_value"].to_numpy(dtype=float)
    end = outcome.fit_end
    return pd.DataFrame(
        {
            "as_of_month": np.full(n, end.replace(day=1), dtype=object),
            "fit_end_date": np.full(n, end, dtype=object),
            "customer_key": s.index.to_numpy(),
            "prediction_status": np.full(n, outcome.status, dtype=object),
            "horizon_days": settings.horizon_days,
            "expected_orders_365d": pred["expected_orders"].to_numpy(dtype=float),
            "p_repurchase_365d": pred["p_repurchase"].to_numpy(dtype=float),
            "predicted_value_365d": pred["predicted_value"].to_numpy(dtype=float),
            "elapsed_days": elapsed_days,
            "expected_orders_elapsed": elapsed,
            "predicted_value_elapsed": elapsed * value,
        },
        columns=MONTHLY_SCHEMA.names,
    )


def monthly_predictions_table(frames: Sequence[pd.DataFrame]) -> pa.Table:
    """The frames of :func:`monthly_predictions_frame` as one Arrow table."""
    if not frames:
        return MONTHLY_SCHEMA.empty_table()
    tables = [pa.Table.from_pandas(f, schema=MONTHLY_SCHEMA, preserve_index=False) for f in frames]
    return pa.concat_tables(tables)
