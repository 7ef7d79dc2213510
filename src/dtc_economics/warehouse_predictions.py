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
from decimal import Decimal
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

# the inputs of the closed forms (int_customers_purchases_summarised): a customer's
# predictions are a function of these four columns
INPUT_COLUMNS = ("frequency", "recency_days", "t_days", "repeat_net_revenue")

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
    # what the predictions are computed on: one row per customer (index customer_key) or
    # per distinct input row; frequency, recency, T (days), monetary_value. None for a fit
    # made from FitInputs alone (fits_table), which predicts nothing.
    summary: pd.DataFrame | None
    bgnbd: btyd.BGNBDFit | None = None
    gamma_gamma: btyd.GammaGammaFit | None = None
    correlation: float = float("nan")
    customers: int = 0  # customers of the fit (fit_customers)
    repeat_buyers: int = 0  # of which with a repeat purchase day (fit_repeat_buyers)
    history_days: int | None = None  # the largest T; None without customers

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

    @property
    def rows(self) -> pd.DataFrame:
        """The rows the predictions are computed on (raises for a fit without them)."""
        if self.summary is None:
            raise ValueError(f"the fit as of {self.fit_end} has no rows to predict")
        return self.summary


@dataclass(frozen=True)
class FitInputs:
    """A fit's inputs in as few rows as the fits need them.

    * the distinct (x, t_x, T) rows with their customer counts: the BG/NBD likelihood and
      the gate depend on nothing else (aggregated in DuckDB by the models);
    * the repeat buyers' x and mean repeat value (half-cent rule applied), one entry per
      customer in customer_key order: the Gamma-Gamma fit, and the frequency-value
      correlation, a mean over customers whose float sums depend on their order.
    """

    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    customers: np.ndarray
    repeat_frequency: np.ndarray
    repeat_monetary_value: np.ndarray

    @property
    def n_customers(self) -> int:
        return int(self.customers.sum())

    @property
    def history_days(self) -> int | None:
        """The largest T (days), None without customers."""
        return int(round(float(self.T.max()))) if self.T.size else None


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
    out = summary_from_arrays(
        {name: rows[name].to_numpy() for name in INPUT_COLUMNS},
        pd.Index(rows[KEY].to_numpy(), name="customer_id"),
    )
    out["first_purchase"] = pd.to_datetime(rows["first_purchase_date"]).to_numpy()
    return out


def summary_from_arrays(columns: Mapping[str, Any], index: pd.Index | None = None) -> pd.DataFrame:
    """The summary of :func:`summary_from_rows` (without first_purchase) from arrays of
    ``INPUT_COLUMNS`` (as DuckDB's fetchnumpy returns them; repeat_net_revenue as double),
    one row per customer or per distinct input row; ``index`` defaults to 0..n-1."""
    freq = np.asarray(columns["frequency"]).astype("int64")
    out = pd.DataFrame(index=index if index is not None else pd.RangeIndex(freq.size))
    out["frequency"] = freq
    out["recency"] = np.asarray(columns["recency_days"]).astype(float)
    out["T"] = np.asarray(columns["t_days"]).astype(float)
    repeat = np.asarray(columns["repeat_net_revenue"]).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["monetary_value"] = np.where(freq > 0, repeat / np.where(freq > 0, freq, 1), np.nan)
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
    monetary_value; one row per customer with a purchase on or before ``fit_end``):
    :func:`fit_inputs` on :func:`fit_inputs_from_summary`, with the summary kept to
    predict from."""
    summary = _prepared(summary)
    outcome = fit_inputs(fit_inputs_from_summary(summary), fit_end, settings, start)
    return replace(outcome, summary=summary)


def fit_inputs_from_summary(summary: pd.DataFrame) -> FitInputs:
    """The :class:`FitInputs` of a per-customer summary (half-cent rule applied)."""
    summary = _prepared(summary)
    x = summary["frequency"].to_numpy()
    (ux, utx, ut), inverse = btyd.distinct_rows(x, summary["recency"], summary["T"])
    repeat = x > 0
    return FitInputs(
        frequency=ux,
        recency=utx,
        T=ut,
        customers=np.bincount(inverse, minlength=ux.size),
        repeat_frequency=x[repeat],
        repeat_monetary_value=summary["monetary_value"].to_numpy(dtype=float)[repeat],
    )


def fit_inputs_from_relation(rows: Any) -> FitInputs:
    """The :class:`FitInputs` of one fit end's rows of int_customers_purchases_summarised
    (a DuckDB relation), aggregated in DuckDB: the distinct (x, t_x, T) rows with their
    customer counts, and the repeat buyers in customer_key order; no per-customer frame."""
    grouped = rows.aggregate(
        "frequency, recency_days, t_days, count(*) as customers",
        "frequency, recency_days, t_days",
    ).fetchnumpy()
    repeat = (
        rows.filter("frequency > 0")
        .select("customer_key, frequency, cast(repeat_net_revenue as double) as repeat_net_revenue")
        .order("customer_key")
        .fetchnumpy()
    )
    freq = repeat["frequency"].astype("int64")
    mean = repeat["repeat_net_revenue"].astype(float) / freq
    return FitInputs(
        frequency=grouped["frequency"].astype(float),
        recency=grouped["recency_days"].astype(float),
        T=grouped["t_days"].astype(float),
        customers=grouped["customers"].astype("int64"),
        repeat_frequency=freq,
        repeat_monetary_value=np.where(np.abs(mean) < HALF_CENT, 0.0, mean),
    )


def fit_inputs(
    inputs: FitInputs,
    fit_end: dt.date | str,
    settings: PredictionSettings,
    start: FitOutcome | None = None,
) -> FitOutcome:
    """Apply the gate and fit both models as of ``fit_end``. Never raises for thin data:
    failures are reported in ``status`` and ``reason``; the outcome has no rows to predict
    (``summary`` None).

    ``start``: the outcome of a neighbouring fit end date whose usable fits the searches
    start from (warm start); the convergence criteria are the same as from the default
    start, so the result is the same optimum to the optimiser's tolerance."""
    end = _as_date(fit_end)
    n = inputs.n_customers
    counts = {
        "customers": n,
        "repeat_buyers": int(inputs.repeat_frequency.size),
        "history_days": inputs.history_days,
    }
    if n == 0:
        return FitOutcome(end, STATUS_INSUFFICIENT_DATA, "no customers", None, **counts)
    correlation = btyd.frequency_monetary_correlation(
        inputs.repeat_frequency, inputs.repeat_monetary_value
    )
    ok, gate = btyd.data_sufficiency(
        n,
        float(inputs.T.max()),
        counts["repeat_buyers"],
        min_customers=settings.min_customers,
        min_history_days=settings.min_history_days,
        min_repeat_buyers=settings.min_repeat_buyers,
    )
    fixed = {"summary": None, "correlation": correlation, **counts}
    if not ok:
        return FitOutcome(end, STATUS_INSUFFICIENT_DATA, gate, **fixed)
    try:
        bg_start = start.bgnbd.params if start and start.bgnbd and start.bgnbd.ok else None
        bg = btyd.fit_bgnbd(
            inputs.frequency, inputs.recency, inputs.T, inputs.customers, start=bg_start
        )
    except ValueError as exc:
        return FitOutcome(end, STATUS_FIT_FAILED, f"BG/NBD fit failed: {exc}", **fixed)
    if not bg.ok:
        reason = f"BG/NBD fit not usable: {_fit_problem(bg)}"
        return FitOutcome(end, STATUS_FIT_FAILED, reason, bgnbd=bg, **fixed)
    try:
        gg_start = (
            start.gamma_gamma.params
            if start and start.gamma_gamma and start.gamma_gamma.ok
            else None
        )
        gg = btyd.fit_gamma_gamma(
            inputs.repeat_frequency, inputs.repeat_monetary_value, start=gg_start
        )
    except ValueError as exc:
        reason = f"{gate}; Gamma-Gamma fit failed: {exc}"
        return FitOutcome(end, STATUS_PURCHASES_ONLY, reason, bgnbd=bg, **fixed)
    if not gg.ok:
        reason = f"{gate}; Gamma-Gamma fit not usable: {_fit_problem(gg)}"
        return FitOutcome(end, STATUS_PURCHASES_ONLY, reason, bgnbd=bg, gamma_gamma=gg, **fixed)
    return FitOutcome(end, STATUS_PREDICTED, gate, bgnbd=bg, gamma_gamma=gg, **fixed)


def predict(outcome: FitOutcome, horizon_days: float) -> pd.DataFrame:
    """Per-customer predictions over ``horizon_days`` after the fit date.

    Columns p_alive, expected_orders, p_repurchase, expected_order_value, predicted_value,
    order_value_source; all null where the outcome's status does not allow them. Customers
    whose mean repeat value is <= 0 (refunds exceeding repeat spend) are left out of the
    Gamma-Gamma fit and get the population mean order value, like customers without a
    repeat purchase.
    """
    s = outcome.rows
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
    # a categorical of the labels' codes: np.where over Python strings builds fixed-width
    # unicode arrays, and a column of str objects is converted to pandas' string dtype
    # (together about 2 s per million customers; this: 0.01 s)
    out["order_value_source"] = pd.Categorical.from_codes(
        np.where(own, 0, np.where(freq >= 1, 1, 2)),
        categories=[VALUE_OWN_HISTORY, VALUE_POPULATION_NON_POSITIVE, VALUE_POPULATION_NO_REPEAT],
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
    s = outcome.rows
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
        ("actual_net_revenue", pa.decimal128(18, 4)),
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
    bg, gg = outcome.bgnbd, outcome.gamma_gamma
    corr = outcome.correlation
    pop_mean = gg.params.population_mean_order_value if gg is not None else None
    return {
        "fit_status": outcome.status,
        "fit_status_reason": outcome.reason,
        "fit_customers": outcome.customers,
        "fit_repeat_buyers": outcome.repeat_buyers,
        "history_days": outcome.history_days,
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


# decimals of the money type (macro type_money: DECIMAL(18,4))
MONEY_DECIMALS = 4
# below this, a 4-decimal amount read as a double is rounded back to its exact value
MONEY_EXACT_BELOW = 1e11


def money_units(values: pd.Series) -> pd.Series:
    """4-decimal money amounts (doubles or Decimals) as exact integers of 0.0001 (nullable
    Int64: a missing amount stays missing), so that their sums are exact and do not depend
    on the order they are added in. A DECIMAL(18,4) amount read as a double differs from it
    by far less than half a unit below MONEY_EXACT_BELOW, so rounding brings back the amount
    exactly; a larger or infinite amount is refused (ValueError), never rounded silently."""
    as_float = values.astype(float).to_numpy()
    missing = np.isnan(as_float)
    too_large = ~missing & ~(np.abs(as_float) < MONEY_EXACT_BELOW)
    if too_large.any():
        raise ValueError(
            f"{int(too_large.sum())} money amount(s) not below {MONEY_EXACT_BELOW:g} in size "
            f"(first: {as_float[too_large][0]!r}): they cannot be summed exactly from doubles"
        )
    scaled = np.rint(np.where(missing, 0.0, as_float) * 10**MONEY_DECIMALS).astype(np.int64)
    return pd.Series(pd.arrays.IntegerArray(scaled, missing), index=values.index)


def _ratio(numerator: float | None, denominator: float | Decimal | None) -> float | None:
    if numerator is None or denominator is None or not denominator:
        return None
    if not (np.isfinite(numerator) and np.isfinite(float(denominator))):
        return None
    return float(numerator) / float(denominator)


def _bucket_rows(
    scope: str,
    outcome: FitOutcome,
    horizon_days: int,
    per_customer: pd.DataFrame,
) -> list[dict[str, Any]]:
    """Rows 0..6, 7+, total for one scope. ``per_customer`` (index = summary index) has
    predicted, actual (NaN when not observed), predicted_value, and actual_value (integer
    units of 0.0001, :func:`money_units`; NaN when not observed): the actual net revenue
    is summed exactly, as a Decimal of 4 decimals."""
    fit_cols = _fit_columns(outcome)
    # what the scope has at all (as `predict` fills it): an empty bucket sums to 0 only for
    # these, so buckets add up to the total row whatever the gate decided
    defined = {
        "predicted": outcome.purchases_usable,
        "predicted_value": outcome.values_usable,
        "actual": scope == SCOPE_HOLDOUT,
        "actual_value": scope == SCOPE_HOLDOUT,
    }
    freq = outcome.rows["frequency"].to_numpy()
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
            if col == "actual_value":  # money: an exact sum of integer units
                return Decimal(int(values.sum())).scaleb(-MONEY_DECIMALS)
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
            "units": money_units(orders.loc[in_holdout, "net_revenue"]).to_numpy(),
        }
    )
    actuals = later.groupby(KEY).agg(actual=("day", "nunique"), actual_units=("units", "sum"))
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
    ``holdout_actuals`` (index customer_key; actual = purchase days and actual_units = net
    revenue in (fit end, as_of_date], as integer units of 0.0001: :func:`money_units`)."""
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
    by_customer = actuals[["actual", "actual_units"]].reindex(hold.rows.index, fill_value=0)
    rows += _bucket_rows(
        SCOPE_HOLDOUT,
        hold,
        settings.calibration_days,
        pd.DataFrame(
            {
                "predicted": pred["expected_orders"],
                "actual": by_customer["actual"].astype(float),
                "predicted_value": pred["predicted_value"],
                "actual_value": by_customer["actual_units"].astype("Int64"),
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
            index=current.rows.index,
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
    inputs_for: Callable[[dt.date], FitInputs | pd.DataFrame],
    settings: PredictionSettings,
) -> pa.Table:
    """One row per (fit scope, fit end date) of ``scopes`` with its fit (gate, BG/NBD and
    Gamma-Gamma parameters and diagnostics), fitting once per distinct fit end date:
    scopes that share a date (as_of and the current month_end) share the fit.
    ``inputs_for(date)`` returns the fit's inputs as of that date: :class:`FitInputs`
    (the models: :func:`fit_inputs_from_relation`) or a per-customer summary
    (:func:`summary_from_rows`); both give the same fit. The status is the fit's;
    :func:`predict_checked` may still demote it when the closed forms are not finite over
    a horizon.

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
        inputs = inputs_for(end)
        if not isinstance(inputs, FitInputs):
            inputs = fit_inputs_from_summary(inputs)
        previous = outcomes[end] = fit_inputs(inputs, end, settings, start)
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
    per-customer summary as of the row's fit end date, or its distinct input rows: what
    to predict). No fitting: the parameters, diagnostics and counts are read back
    (doubles round-trip exactly)."""
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
    history = row["history_days"]
    return FitOutcome(
        fit_end=_as_date(row["fit_end_date"]),
        status=str(row["fit_status"]),
        reason=str(row["fit_status_reason"]),
        summary=_prepared(summary),
        bgnbd=bg,
        gamma_gamma=gg,
        correlation=float(correlation) if _present(correlation) else float("nan"),
        customers=int(row["fit_customers"]),
        repeat_buyers=int(row["fit_repeat_buyers"]),
        history_days=int(history) if _present(history) else None,
    )


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


def calibration_table_from_relations(
    summary: Any, fits: Any, settings: PredictionSettings
) -> pa.Table:
    """fct_prediction_calibration from DuckDB relations over int_customers_purchases_
    summarised and int_predictions_fitted. The bucket totals are float sums over customers
    in customer_key order, so the per-customer numbers are read (numeric columns only, as
    NumPy arrays), not their distinct rows. The actual net revenue is read as integer units
    of 0.0001, computed from the DECIMAL in SQL, so its bucket sums are exact."""
    fit_rows = {row["fit_scope"]: row for row in fit_rows_of(fits, SCOPE_HOLDOUT, SCOPE_AS_OF)}
    arrays = {}
    for scope in (SCOPE_HOLDOUT, SCOPE_AS_OF):
        arrays[scope] = (
            summary.filter(f"fit_scope = '{scope}'")
            .select(
                "customer_key, frequency, recency_days, t_days, "
                "cast(repeat_net_revenue as double) as repeat_net_revenue, "
                "actual_purchase_days, "
                f"cast(actual_net_revenue * {10**MONEY_DECIMALS} as bigint) as actual_units"
            )
            .order("customer_key")
            .fetchnumpy()
        )
    summaries = {
        scope: summary_from_arrays(cols, pd.Index(cols[KEY], name="customer_id"))
        for scope, cols in arrays.items()
    }
    hold = arrays[SCOPE_HOLDOUT]
    actuals = pd.DataFrame(
        {
            "actual": hold["actual_purchase_days"],
            "actual_units": pd.array(hold["actual_units"], dtype="Int64"),
        },
        index=summaries[SCOPE_HOLDOUT].index,
    )
    return calibration_table_from_fits(
        fit_rows[SCOPE_HOLDOUT],
        summaries[SCOPE_HOLDOUT],
        actuals,
        fit_rows[SCOPE_AS_OF],
        summaries[SCOPE_AS_OF],
        settings,
    )


# --------------------------------------------------------------------------------------
# fct_customer_predictions, int_customer_months_predicted: scored per distinct input row
# --------------------------------------------------------------------------------------


def fit_rows_of(fits: Any, *scopes: str) -> list[dict[str, Any]]:
    """The rows of int_predictions_fitted (a DuckDB relation) of the given fit scopes,
    oldest fit end first, as dicts (a handful of rows)."""
    wanted = ", ".join(f"'{scope}'" for scope in scopes)
    rows = fits.filter(f"fit_scope in ({wanted})").order("fit_end_date, fit_scope")
    return rows.df().to_dict("records")


def input_join(customers: str, scored: str) -> str:
    """SQL join condition of customers' summary rows (alias ``customers``) to their
    :func:`scored_inputs` rows (alias ``scored``): equal ``INPUT_COLUMNS``."""
    return " and ".join(f"{customers}.{name} = {scored}.{name}" for name in INPUT_COLUMNS)


def distinct_inputs(rows: Any) -> pa.Table:
    """The distinct ``INPUT_COLUMNS`` of a DuckDB relation's rows (one fit end's customers)
    as Arrow: the columns as stored (exact join keys) and repeat_net_revenue also as
    double (``repeat_value``, as the per-customer path reads it)."""
    keys = ", ".join(INPUT_COLUMNS)
    return (
        rows.aggregate(keys, keys)
        .select(f"{keys}, cast(repeat_net_revenue as double) as repeat_value")
        .to_arrow_table()
    )


# the double columns of :func:`scored_inputs` (then order_value_source)
SCORED_DOUBLES = (
    "monetary_value",
    "p_alive",
    "expected_orders",
    "p_repurchase",
    "expected_order_value",
)


def _column(values: Any, type_: pa.DataType) -> pa.Array:
    """An Arrow column of ``type_``; NaN and None become null (as pa.Table.from_pandas
    does). Read from the pandas column itself: through np.asarray, a string or categorical
    column became an array of Python objects first (about 0.6 s per million rows)."""
    array = pa.array(values, from_pandas=True)
    return array if array.type == type_ else array.cast(type_)


def scored_inputs(
    fit_row: Mapping[str, Any],
    inputs: pa.Table,
    horizon_days: int,
    elapsed_days: int | None = None,
) -> tuple[FitOutcome, pa.Table]:
    """Predictions per distinct input row of :func:`distinct_inputs` with the fit of
    ``fit_row`` (read back, no fitting): a customer's predictions are a function of its
    ``INPUT_COLUMNS``, so the models join them back to the customers in SQL.

    Returns the checked outcome (:func:`predict_checked`: its status and reason are every
    customer's) and a table of the input columns, monetary_value, p_alive,
    expected_orders, p_repurchase, expected_order_value, order_value_source and, with
    ``elapsed_days``, expected_orders_elapsed (over the first elapsed_days after the fit
    end, 0 when none have elapsed). Predicted values are expected_orders (or
    expected_orders_elapsed) x expected_order_value, multiplied in SQL like here.
    Columns are null where the status does not allow them."""
    rows = summary_from_arrays(
        {
            "frequency": inputs.column("frequency").to_numpy(),
            "recency_days": inputs.column("recency_days").to_numpy(),
            "t_days": inputs.column("t_days").to_numpy(),
            "repeat_net_revenue": inputs.column("repeat_value").to_numpy(),
        }
    )
    outcome, pred = predict_checked(outcome_from_fit_row(fit_row, rows), horizon_days)
    s = outcome.rows
    double = pa.float64()
    columns: dict[str, Any] = {name: inputs.column(name) for name in INPUT_COLUMNS}
    columns["monetary_value"] = _column(s["monetary_value"], double)
    for name in SCORED_DOUBLES[1:]:
        columns[name] = _column(pred[name], double)
    columns["order_value_source"] = _column(pred["order_value_source"], pa.string())
    if elapsed_days is not None:
        elapsed = np.full(len(s), np.nan)
        if outcome.purchases_usable and elapsed_days > 0:
            (dx, dtx, dt_), inverse = btyd.distinct_rows(s["frequency"], s["recency"], s["T"])
            elapsed = btyd.expected_purchases(outcome.bgnbd.params, elapsed_days, dx, dtx, dt_)
            elapsed = np.asarray(elapsed, dtype=float)[inverse]
        elif outcome.purchases_usable:
            elapsed = np.zeros(len(s))
        columns["expected_orders_elapsed"] = _column(elapsed, double)
    return outcome, pa.table(columns)


def fit_table(outcome: FitOutcome, horizon_days: int, **extra: Any) -> pa.Table:
    """One row: a checked outcome's fit end, horizon, status and reason (the columns every
    customer of the fit shares), and ``extra`` scalar columns."""
    return pa.table(
        {
            "fit_end_date": pa.array([outcome.fit_end], pa.date32()),
            "horizon_days": pa.array([horizon_days], pa.int32()),
            "prediction_status": pa.array([outcome.status], pa.string()),
            "prediction_status_reason": pa.array([outcome.reason], pa.string()),
            **{name: pa.array([value]) for name, value in extra.items()},
        }
    )


def registered(session: Any, prefix: str, **objects: Any) -> dict[str, str]:
    """Names under which a Python model's SQL (``session.sql``) reads DuckDB relations
    (dbt.ref) and Arrow tables: temporary views and registered tables of the model's
    connection, prefixed by the model's name."""
    names: dict[str, str] = {}
    for key, obj in objects.items():
        name = f"__{prefix}__{key}"
        if isinstance(obj, pa.Table):
            session.register(name, obj)
        else:
            obj.create_view(name, replace=True)
        names[key] = name
    return names


def monthly_scored(
    session: Any, table: str, summary: Any, fits: Any, settings: PredictionSettings
) -> pa.Table:
    """int_customer_months_predicted's inputs to join: per month_end fit of ``fits``
    (int_predictions_fitted) over ``summary`` (int_customers_purchases_summarised, scope
    month_end; DuckDB relations), the :func:`fit_table` rows (one per month, returned) and
    the :func:`scored_inputs` rows with the elapsed part, keyed by fit_end_date, written
    month by month into the temporary table ``table`` of ``session`` (DuckDB's memory,
    under its memory_limit and spilled above it, rather than every month's Arrow rows held
    in Python until the join: about 3M rows at 1M customers)."""
    fit_tables = []
    created = False
    for row in fit_rows_of(fits, SCOPE_MONTH_END):
        end = _as_date(row["fit_end_date"])
        rows = summary.filter(f"fit_end_date = date '{end.isoformat()}'")
        # one elapsed part per month (one fit end, one scope)
        elapsed = int(rows.aggregate("max(elapsed_days)").fetchall()[0][0] or 0)
        outcome, scored = scored_inputs(row, distinct_inputs(rows), settings.horizon_days, elapsed)
        fit_tables.append(fit_table(outcome, settings.horizon_days))
        ends = pa.array([end] * scored.num_rows, pa.date32())
        _append_rows(session, table, scored.append_column("fit_end_date", ends), created)
        created = True
    if not fit_tables:  # no month end with a customer: empty tables of the same columns
        empty = FitOutcome(dt.date(1970, 1, 1), STATUS_INSUFFICIENT_DATA, "", None)
        fit_tables.append(fit_table(empty, settings.horizon_days).slice(0, 0))
        inputs = distinct_inputs(summary.limit(0))
        columns = {name: inputs.column(name) for name in INPUT_COLUMNS}
        for name in (*SCORED_DOUBLES, "expected_orders_elapsed"):
            columns[name] = pa.array([], pa.float64())
        columns["order_value_source"] = pa.array([], pa.string())
        columns["fit_end_date"] = pa.array([], pa.date32())
        _append_rows(session, table, pa.table(columns), created)
    return pa.concat_tables(fit_tables)


def _append_rows(session: Any, table: str, rows: pa.Table, exists: bool) -> None:
    """Write Arrow ``rows`` into the temporary table ``table`` of ``session`` (created
    from the first rows, ``exists`` False), then unregister them: from then on the rows
    live in DuckDB, and the caller's next month replaces its Arrow table."""
    view = f"{table}__rows"
    session.register(view, rows)
    if exists:
        session.execute(f"insert into {table} select * from {view}")
    else:
        session.execute(f"create or replace temporary table {table} as select * from {view}")
    session.unregister(view)
