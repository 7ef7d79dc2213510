"""Forward-looking customer value: BG/NBD purchase counts and Gamma-Gamma order values.

Pure numpy/scipy implementations of

* BG/NBD -- Fader, Hardie & Lee (2005), "'Counting your customers' the easy way: an
  alternative to the Pareto/NBD model", Marketing Science 24(2). Equation numbers below
  refer to that paper.
* Gamma-Gamma -- Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for
  customer base analysis", Journal of Marketing Research 42(4), and Fader & Hardie's note
  "The Gamma-Gamma model of monetary value" (2013).

Conventions (as in the literature; docs/predictions.md explains how to read the output):

* Orders on the same calendar day are merged into one purchase occasion.
* ``frequency`` (x) = distinct purchase days - 1 (repeat purchases), ``recency`` (t_x) =
  last - first purchase day, ``T`` = calibration end - first purchase day, all in the
  chosen time unit (days or weeks = days / 7).
* ``monetary_value`` = mean value of the repeat purchase days (the first day is excluded);
  NaN for customers without a repeat purchase.

Both fits maximise the likelihood over log-parameters with L-BFGS-B and analytic
gradients. Identical (x, t_x, T) rows are aggregated into integer weights first, so a
million customers on a daily grid fit in seconds. Fits are deterministic (fixed start, no
randomness). Long dot products are taken without BLAS (:func:`_dot`), so the fitted
parameters do not depend on how many threads OpenBLAS uses.
"""

from __future__ import annotations

import os

# L-BFGS-B calls BLAS on 4-vectors at every step, and OpenBLAS wakes its threads for each
# call: on 2 cores that was ~40% of a fit's CPU seconds for no speed. Set before SciPy
# loads its OpenBLAS (a user's own setting wins); the results do not depend on it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

TimeUnit = Literal["days", "weeks"]
DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0}

# Parameters are searched in [1e-6, 1e6] on data whose time axis (BG/NBD) or money axis
# (Gamma-Gamma) is rescaled to mean 1 internally, so the bounds are unit-free.
_LOG_LOWER = np.log(1e-6)
_LOG_UPPER = np.log(1e6)
# Below this |a - 1| the BG/NBD conditional expectation is interpolated (removable
# singularity of eq. 10 at a = 1).
_A_NEAR_ONE = 1e-4
# L-BFGS-B results that end abnormally are accepted as converged when every free
# parameter's gradient of the per-customer mean log-likelihood is at most this.
_GRAD_ACCEPT = 1e-6

# Data-sufficiency defaults: project conventions, not published thresholds.
DEFAULT_MIN_CUSTOMERS = 1000
DEFAULT_MIN_HISTORY_DAYS = 180
DEFAULT_MIN_REPEAT_BUYERS = 200


# --------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD parameters: purchase rate lambda ~ Gamma(r, alpha), dropout p ~ Beta(a, b).

    ``alpha`` is in the time unit of the data it was fitted on (weeks or days).
    """

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class BGNBDFit:
    """A fitted BG/NBD model with its log-likelihood and optimiser status."""

    params: BGNBDParams
    log_likelihood: float
    success: bool
    message: str
    iterations: int
    function_evaluations: int
    n_customers: float  # sum of weights
    n_rows: int  # distinct (x, t_x, T) rows the likelihood was evaluated on
    at_bound: tuple[str, ...]  # parameters stuck at a search bound (fit not trustworthy)

    @property
    def ok(self) -> bool:
        """Converged with no parameter at a search bound."""
        return self.success and not self.at_bound


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: order value ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float

    @property
    def population_mean_order_value(self) -> float:
        """E[order value] for an unseen customer, p * gamma / (q - 1); NaN if q <= 1."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("nan")


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma model with its log-likelihood and optimiser status."""

    params: GammaGammaParams
    log_likelihood: float
    success: bool
    message: str
    iterations: int
    function_evaluations: int
    n_customers: float  # repeat customers used (sum of weights)
    n_excluded: float  # repeat customers dropped because monetary_value <= 0 or NaN
    at_bound: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Converged, no parameter at a search bound, and q > 1 (finite mean spend)."""
        return self.success and not self.at_bound and self.params.q > 1.0


@dataclass(frozen=True)
class HoldoutResult:
    """Calibration/holdout comparison of predicted vs actual repeat purchases."""

    fit: BGNBDFit | None  # None when params were supplied instead of fitted
    params: BGNBDParams
    time_unit: str
    holdout_length: float  # in time_unit
    customers: pd.DataFrame  # one row per calibration customer
    by_frequency: pd.DataFrame  # buckets 0..max_bucket-1, "max_bucket+", and "total"


# --------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------


def _as_float_array(values: npt.ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _weights(weights: npt.ArrayLike | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = _as_float_array(weights, "weights")
    if w.shape[0] != n:
        raise ValueError(f"weights has {w.shape[0]} rows, expected {n}")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative (they are customer counts)")
    return w


_KEY_BITS = 21  # up to three columns of whole numbers below 2**21 pack into one int64


def _packed_key(cols: list[np.ndarray]) -> np.ndarray | None:
    """One int64 per row whose order is the lexicographic order of the columns, when every
    column holds whole numbers in [0, 2**21) (at most three columns); else None."""
    if not 1 <= len(cols) <= 3:
        return None
    key = np.zeros(cols[0].shape[0], dtype=np.int64)
    for c in cols:
        if c.size and (c.min() < 0 or c.max() >= 2**_KEY_BITS or np.any(c != np.floor(c))):
            return None
        key = (key << _KEY_BITS) | c.astype(np.int64)
    return key


def distinct_rows(*columns: npt.ArrayLike) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The distinct rows of the given columns and, per input row, the position of its row
    among them: ``[d[inverse] for d in distinct]`` gives the columns back. Functions of a
    row evaluated once per distinct row and gathered with ``inverse`` equal the same
    function evaluated on every row, bit for bit."""
    cols = [np.asarray(c, dtype=float).ravel() for c in columns]
    key = _packed_key(cols)
    if key is None:
        frame = pd.DataFrame({i: c for i, c in enumerate(cols)})
        inverse = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup()
        inverse = inverse.to_numpy()
    else:
        inverse, _ = pd.factorize(key)
    first = np.full(int(inverse.max()) + 1 if inverse.size else 0, -1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(inverse.size - 1, -1, -1)
    return tuple(c[first] for c in cols), inverse


def aggregate_rows(
    *columns: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Collapse identical rows of the given columns, summing their weights.

    Returns the distinct rows (one array per column, lexicographically sorted) and the
    summed weight of each. Rows with zero weight are dropped.
    """
    cols = [_as_float_array(c, f"column {i}") for i, c in enumerate(columns)]
    n = cols[0].shape[0]
    if any(c.shape[0] != n for c in cols):
        raise ValueError("all columns must have the same length")
    w = _weights(weights, n)
    keep = w > 0
    cols = [c[keep] for c in cols]
    w = w[keep]
    if w.size == 0:
        return tuple(np.empty(0) for _ in cols), np.empty(0)
    key = _packed_key(cols)
    if key is not None:
        # whole numbers (days, counts): one integer key orders rows like the columns do
        first, inverse = np.unique(key, return_index=True, return_inverse=True)[1:]
        return tuple(c[first] for c in cols), np.bincount(inverse, weights=w)
    order = np.lexsort(cols[::-1])
    cols = [c[order] for c in cols]
    w = w[order]
    change = np.zeros(w.size, dtype=bool)
    change[0] = True
    for c in cols:
        change[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(change)
    return tuple(c[starts] for c in cols), np.add.reduceat(w, starts)


def _check_bgnbd_data(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = _as_float_array(frequency, "frequency")
    tx = _as_float_array(recency, "recency")
    t_age = _as_float_array(T, "T")
    if not (x.shape == tx.shape == t_age.shape):
        raise ValueError("frequency, recency and T must have the same length")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative integer count of repeat purchases")
    if np.any(tx < 0) or np.any(tx > t_age * (1 + 1e-12)):
        raise ValueError("recency must satisfy 0 <= recency <= T")
    if np.any((x == 0) & (tx != 0)):
        raise ValueError("recency must be 0 for customers with frequency 0")
    return x, tx, t_age


# --------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------


def _bgnbd_ll_terms(
    log_params: np.ndarray,
    x: np.ndarray,
    tx: np.ndarray,
    t_age: np.ndarray,
    with_grad: bool,
    x_index: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood (eq. 6) and its gradient w.r.t. log-parameters.

    ``x_index`` = np.unique(x, return_inverse=True), precomputed by the fitting loop.
    """
    r, alpha, a, b = np.exp(log_params)
    ux, inv = x_index if x_index is not None else np.unique(x, return_inverse=True)
    pos = x > 0
    # terms that depend on x only: evaluated on the distinct x values
    a1 = (special.gammaln(r + ux) - special.gammaln(r))[inv] + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + ux)
        - special.gammaln(b)
        - special.gammaln(a + b + ux)
    )[inv]
    log_at = np.log(alpha + t_age)
    log_atx = np.log(alpha + tx)
    rx = r + x
    a3 = -rx * log_at
    a4 = np.full_like(x, -np.inf)
    bx1 = np.where(pos, b + x - 1.0, 1.0)  # b + x - 1 > 0 whenever x >= 1
    a4[pos] = np.log(a) - np.log(bx1[pos]) - rx[pos] * log_atx[pos]
    l34 = np.logaddexp(a3, a4)
    ll = a1 + a2 + l34
    if not with_grad:
        return ll, None
    w4 = np.exp(a4 - l34)  # posterior weight of "dropped out after the last purchase"
    w3 = np.exp(a3 - l34)
    dg_ab = special.digamma(a + b)
    d_r = (special.digamma(r + ux) - special.digamma(r))[inv] + np.log(alpha)
    d_r -= w3 * log_at + w4 * log_atx
    d_alpha = r / alpha - w3 * rx / (alpha + t_age) - w4 * rx / (alpha + tx)
    d_a = (dg_ab - special.digamma(a + b + ux))[inv] + w4 / a
    d_b = (dg_ab + special.digamma(b + ux) - special.digamma(b) - special.digamma(a + b + ux))[
        inv
    ] - w4 / bx1
    grad = np.column_stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, grad


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product of two vectors without BLAS: OpenBLAS spreads a long dot product over
    its threads, which costs more CPU than it saves (and wall time on a busy machine)."""
    return float(np.einsum("i,i->", a, b))


class _BGNBDObjective:
    """Weighted mean negative BG/NBD log-likelihood (eq. 6) and its gradient w.r.t. the
    log-parameters, on aggregated rows (x, t_x, T) with weights.

    The same function as :func:`_bgnbd_ll_terms` summed with the weights, arranged so that
    one evaluation costs a few vector operations over the repeat buyers' distinct rows:
    terms that depend on x, on T or on t_x alone are evaluated on their distinct values
    and gathered, and the customers without a repeat purchase (x = 0, t_x = 0: their
    likelihood is a function of T alone) enter through weight totals per distinct T.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, t_age: np.ndarray, w: np.ndarray) -> None:
        self.total_w = float(w.sum())
        pos = x > 0
        self.u_t, t_inv = np.unique(t_age, return_inverse=True)
        # x = 0: weight per distinct T
        self.w_t0 = np.bincount(t_inv[~pos], weights=w[~pos], minlength=self.u_t.size)
        self.w0 = float(w[~pos].sum())
        # x > 0: one entry per distinct (x, t_x, T) row
        self.x = x[pos]
        self.w = w[pos]
        self.t_inv = t_inv[pos]
        self.u_tx, self.tx_inv = np.unique(tx[pos], return_inverse=True)
        self.u_x, self.x_inv = np.unique(self.x, return_inverse=True)
        self.w_x = np.bincount(self.x_inv, weights=self.w, minlength=self.u_x.size)
        self.w_pos = float(self.w.sum())
        self.w_pos_x = self.w * self.x

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(theta)
        u_x, x, w = self.u_x, self.x, self.w
        log_alpha = np.log(alpha)
        log_at_u = np.log(alpha + self.u_t)
        log_atx_u = np.log(alpha + self.u_tx)
        log_at = log_at_u[self.t_inv]
        log_atx = log_atx_u[self.tx_inv]
        rx = r + x
        # x-only terms (a1 + a2 of eq. 6) on the distinct x values, x = 0 included
        gl_ab, gl_b, gl_r = special.gammaln(a + b), special.gammaln(b), special.gammaln(r)
        x_terms = (
            special.gammaln(r + u_x)
            - gl_r
            + special.gammaln(b + u_x)
            - special.gammaln(a + b + u_x)
            + gl_ab
            - gl_b
        )
        a3 = -rx * log_at
        log_bx1_u = np.log(b + u_x - 1.0)
        a4 = (np.log(a) - log_bx1_u)[self.x_inv] - rx * log_atx
        l34 = np.logaddexp(a3, a4)
        ll = (
            _dot(self.w_x, x_terms)
            + _dot(w, l34)
            + self.total_w * r * log_alpha
            - r * _dot(self.w_t0, log_at_u)  # x = 0: a1 + a2 = r log(alpha) - r log(alpha + T)
        )
        d = a4 - a3
        w4 = w * special.expit(d)  # weight x posterior of "dropped out after the last purchase"
        w3 = w * special.expit(-d)
        inv_at_u = 1.0 / (alpha + self.u_t)
        inv_atx_u = 1.0 / (alpha + self.u_tx)
        dg_ab = special.digamma(a + b)
        dg_abx = special.digamma(a + b + u_x)
        d_r = (
            _dot(self.w_x, special.digamma(r + u_x) - special.digamma(r))
            + self.total_w * log_alpha
            - _dot(w3, log_at)
            - _dot(w4, log_atx)
            - _dot(self.w_t0, log_at_u)
        )
        d_alpha = (
            self.total_w * r / alpha
            - _dot((w3 * rx), inv_at_u[self.t_inv])
            - _dot((w4 * rx), inv_atx_u[self.tx_inv])
            - r * _dot(self.w_t0, inv_at_u)
        )
        sum_w4 = float(np.add.reduce(w4))
        d_a = _dot(self.w_x, dg_ab - dg_abx) + sum_w4 / a
        d_b = _dot(self.w_x, dg_ab + special.digamma(b + u_x) - special.digamma(b) - dg_abx) - _dot(
            w4, (1.0 / (b + u_x - 1.0))[self.x_inv]
        )
        grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -float(ll) / self.total_w, -grad / self.total_w


def bgnbd_log_likelihood(
    params: BGNBDParams,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> float:
    """Total BG/NBD log-likelihood (eq. 6) of the data at the given parameters."""
    x, tx, t_age = _check_bgnbd_data(frequency, recency, T)
    w = _weights(weights, x.shape[0])
    theta = np.log([params.r, params.alpha, params.a, params.b])
    ll, _ = _bgnbd_ll_terms(theta, x, tx, t_age, with_grad=False)
    return float(w @ ll)


def _at_bound(theta: np.ndarray, names: tuple[str, ...]) -> tuple[str, ...]:
    tol = 1e-3
    return tuple(
        n
        for n, v in zip(names, theta, strict=True)
        if v <= _LOG_LOWER + tol or v >= _LOG_UPPER - tol
    )


def _minimise(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta0: np.ndarray,
    method: str,
) -> optimize.OptimizeResult:
    bounds = [(_LOG_LOWER, _LOG_UPPER)] * theta0.size

    def nelder_mead(start: np.ndarray) -> optimize.OptimizeResult:
        return optimize.minimize(
            lambda th: objective(th)[0],
            start,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-14, "adaptive": True},
        )

    if method == "Nelder-Mead":
        return nelder_mead(theta0)
    if method != "L-BFGS-B":
        raise ValueError("method must be 'L-BFGS-B' or 'Nelder-Mead'")
    res = optimize.minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-8, "maxcor": 20},
    )
    if res.success:
        return res
    # L-BFGS-B stops "ABNORMAL" when its line search cannot improve an objective that is
    # already at its optimum to machine precision (flat likelihoods, e.g. Gamma-Gamma with
    # little spread of mean spend). The objectives are per-customer means, so a negligible
    # gradient on the free parameters means converged: accept instead of polishing.
    grad = np.asarray(res.get("jac", np.full(theta0.size, np.inf)), dtype=float)
    theta = np.asarray(res.x, dtype=float)
    free = (theta > _LOG_LOWER + 1e-3) & (theta < _LOG_UPPER - 1e-3)
    if np.all(np.isfinite(grad)) and np.max(np.abs(grad[free]), initial=0.0) <= _GRAD_ACCEPT:
        res.success = True
        res.message = (
            f"{res.message} (accepted: max |gradient| {np.max(np.abs(grad)):.1e} "
            f"<= {_GRAD_ACCEPT:g})"
        )
        return res
    # Rare: line-search failure away from the optimum. Polish derivative-free from there.
    polish = nelder_mead(np.asarray(res.x, dtype=float))
    if polish.fun > res.fun:
        polish.x, polish.fun = res.x, res.fun
    polish.message = f"L-BFGS-B: {res.message}; Nelder-Mead polish: {polish.message}"
    polish.nit = int(res.get("nit", 0)) + int(polish.get("nit", 0))
    polish.nfev = int(res.get("nfev", 0)) + int(polish.get("nfev", 0))
    return polish


def fit_bgnbd(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    *,
    method: str = "L-BFGS-B",
    start: BGNBDParams | None = None,
) -> BGNBDFit:
    """Maximum-likelihood BG/NBD fit on per-customer (x, t_x, T) with optional weights.

    ``weights`` are customer counts per row (e.g. from :func:`aggregate_rows`); identical
    rows are aggregated internally either way. The time axis is rescaled to mean T = 1
    for the search and ``alpha`` is reported in the data's unit; the log-likelihood is
    reported on the original scale, so it is comparable with published values.

    ``start`` (optional): parameters to start the search from (a warm start, e.g. the fit
    of a neighbouring date on nearly the same customers); by default a fixed start derived
    from the data. Either way the search runs to the same convergence criteria.
    """
    x, tx, t_age = _check_bgnbd_data(frequency, recency, T)
    (ux, utx, ut), w = aggregate_rows(x, tx, t_age, weights=weights)
    if w.size == 0:
        raise ValueError("no customers to fit")
    if not np.any(ux > 0):
        raise ValueError("no repeat purchases: BG/NBD is not identified")
    total_w = float(w.sum())
    scale = _dot(w, ut) / total_w
    if scale <= 0:
        raise ValueError("all customers have T = 0: no observation window")
    stx, st = utx / scale, ut / scale
    objective = _BGNBDObjective(ux, stx, st, w)
    if start is None:
        # r = 1 with a mean rate matching repeat purchases per unit of age, a = 1, b = 1
        rate = max(_dot(w, ux) / _dot(w, st), 1e-3)
        theta0 = np.log([1.0, 1.0 / rate, 1.0, 1.0])
    else:
        theta0 = np.log([start.r, start.alpha / scale, start.a, start.b])
        theta0 = np.clip(theta0, _LOG_LOWER, _LOG_UPPER)
    res = _minimise(objective, theta0, method)
    theta = np.asarray(res.x, dtype=float)
    r, alpha_s, a, b = np.exp(theta)
    params = BGNBDParams(r=float(r), alpha=float(alpha_s * scale), a=float(a), b=float(b))
    # scaled log-likelihood differs from the original by -sum(w * x) * log(scale)
    ll = -float(res.fun) * total_w - _dot(w, ux) * np.log(scale)
    return BGNBDFit(
        params=params,
        log_likelihood=float(ll),
        success=bool(res.success),
        message=str(res.message),
        iterations=int(res.get("nit", 0)),
        function_evaluations=int(res.get("nfev", 0)),
        n_customers=total_w,
        n_rows=int(w.size),
        at_bound=_at_bound(theta, ("r", "alpha", "a", "b")),
    )


def _broadcast(*arrays: npt.ArrayLike) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*arrays)]


def _log_alive_odds(
    params: BGNBDParams, x: np.ndarray, tx: np.ndarray, t_age: np.ndarray
) -> np.ndarray:
    """log[P(dropped out after last purchase) / P(alive)]; -inf when x = 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    pos = x > 0
    out = np.full(x.shape, -np.inf)
    xp = x[pos]
    out[pos] = (
        np.log(a)
        - np.log(b + xp - 1.0)
        + (r + xp) * (np.log(alpha + t_age[pos]) - np.log(alpha + tx[pos]))
    )
    return out


def probability_alive(
    params: BGNBDParams,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
) -> np.ndarray:
    """P(customer still active at T | x, t_x, T) (eq. 13). Always 1 for x = 0."""
    x, tx, t_age = _broadcast(frequency, recency, T)
    return special.expit(-_log_alive_odds(params, x, tx, t_age))


def _alive_expected_purchases(
    r: float, a: float, b: float, t: np.ndarray, x: np.ndarray, shift: np.ndarray
) -> np.ndarray:
    """E[purchases in (T, T + t] | alive at T, history]: numerator of eq. 10.

    Eq. 10's numerator is (a+b+x-1)/(a-1) * [1 - ((A)/(A+t))^(r+x) 2F1(r+x, b+x; a+b+x-1;
    z)] with A = alpha + T and z = t / (A + t). Euler's transformation
    2F1(a', b'; c'; z) = (1-z)^(c'-a'-b') 2F1(c'-a', c'-b'; c'; z) turns the bracket into
    1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose hypergeometric converges at
    z = 1 and has no overflowing prefactor for heavy buyers or long horizons.
    """
    z = t / (shift + t)

    def numerator(b_: float | np.ndarray) -> np.ndarray:
        c = a + b_ + x - 1.0
        hyp = special.hyp2f1(a + b_ - 1.0 - r, a - 1.0, c, z)
        # == 1 - (1-z)^(a-1) * hyp, written to keep precision when (1-z)^(a-1) ~ 1
        bracket = -np.expm1((a - 1.0) * np.log1p(-z)) * hyp - (hyp - 1.0)
        return c / (a - 1.0) * bracket

    with np.errstate(invalid="ignore", divide="ignore"):
        out = numerator(b)
    # c = 0 (x = 0 and a + b = 1 exactly) is another removable singularity: average b -/+ eps
    at_pole = np.abs(a + b + x - 1.0) < 1e-12
    if np.any(at_pole):
        eps = 1e-7 * b
        mid = 0.5 * (numerator(b - eps) + numerator(b + eps))
        out = np.where(at_pole, mid, out)
    return out


def expected_purchases(
    params: BGNBDParams,
    t: npt.ArrayLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
) -> np.ndarray:
    """Expected repeat purchases in the next ``t`` periods given (x, t_x, T) (eq. 10).

    Arguments broadcast against each other. With frequency = recency = T = 0 this is the
    expected number of repeat purchases of a newly acquired customer in (0, t] (eq. 9).
    The singularity of eq. 10 at a = 1 is removable; within 1e-4 of it the value is
    interpolated linearly between a = 1 -/+ 1e-4 (error of order 1e-8, relative).
    """
    tt, x, tx, t_age = _broadcast(t, frequency, recency, T)
    if np.any(tt < 0):
        raise ValueError("t must be >= 0")
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    shift = alpha + t_age
    if abs(a - 1.0) >= _A_NEAR_ONE:
        alive = _alive_expected_purchases(r, a, b, tt, x, shift)
    else:
        lo = _alive_expected_purchases(r, 1.0 - _A_NEAR_ONE, b, tt, x, shift)
        hi = _alive_expected_purchases(r, 1.0 + _A_NEAR_ONE, b, tt, x, shift)
        alive = lo + (a - (1.0 - _A_NEAR_ONE)) / (2 * _A_NEAR_ONE) * (hi - lo)
    return alive * special.expit(-_log_alive_odds(params, x, tx, t_age))


def probability_any_purchase(
    params: BGNBDParams,
    t: npt.ArrayLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
) -> np.ndarray:
    """P(at least one purchase in (T, T + t] | x, t_x, T).

    Exact under BG/NBD, not an approximation: a customer can drop out only right after a
    purchase, so one who is alive at T stays alive until the next purchase, and given
    alive the posterior of lambda is Gamma(r + x, alpha + T). Hence
    P(0 purchases in t | alive, history) = ((alpha+T)/(alpha+T+t))^(r+x) and
    P(>= 1) = P(alive) * (1 - ((alpha+T)/(alpha+T+t))^(r+x)).
    """
    tt, x, tx, t_age = _broadcast(t, frequency, recency, T)
    if np.any(tt < 0):
        raise ValueError("t must be >= 0")
    shift = params.alpha + t_age
    p_none_if_alive_log = (params.r + x) * (np.log(shift) - np.log(shift + tt))
    return special.expit(-_log_alive_odds(params, x, tx, t_age)) * -np.expm1(p_none_if_alive_log)


def simulate_bgnbd(
    params: BGNBDParams,
    T: npt.ArrayLike,
    *,
    holdout: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate customers from the BG/NBD generative process (continuous time).

    Every customer makes a first purchase at time 0 and is observed until ``T`` (scalar or
    one value per customer); purchases in (T, T + holdout] are counted separately.
    Returns frequency, recency, T, holdout_purchases, plus the latent lambda and p.
    """
    t_age = np.atleast_1d(np.asarray(T, dtype=float))
    n = t_age.size
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    x = np.zeros(n, dtype=np.int64)
    tx = np.zeros(n)
    y = np.zeros(n, dtype=np.int64)
    now = np.zeros(n)
    active = np.flatnonzero(lam > 0)
    horizon = t_age + holdout
    while active.size:
        now[active] += rng.exponential(1.0, size=active.size) / lam[active]
        within = now[active] <= horizon[active]
        active = active[within]
        in_cal = now[active] <= t_age[active]
        cal, hold = active[in_cal], active[~in_cal]
        x[cal] += 1
        tx[cal] = now[cal]
        y[hold] += 1
        survives = rng.random(active.size) >= p[active]
        active = active[survives]
    return pd.DataFrame(
        {
            "frequency": x,
            "recency": tx,
            "T": t_age,
            "holdout_purchases": y,
            "lambda": lam,
            "p": p,
        }
    )


# --------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------


def _gg_ll_terms(
    log_params: np.ndarray, x: np.ndarray, m: np.ndarray, with_grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log density of the mean repeat value m given x repeat purchases."""
    p, q, g = np.exp(log_params)
    px = p * x
    log_gmx = np.log(g + m * x)
    log_m = np.log(m)
    log_x = np.log(x)
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * log_m
        + px * log_x
        - (px + q) * log_gmx
    )
    if not with_grad:
        return ll, None
    dg = special.digamma(px + q)
    d_p = x * (dg - special.digamma(px) + log_m + log_x - log_gmx)
    d_q = dg - special.digamma(q) + np.log(g) - log_gmx
    d_g = q / g - (px + q) / (g + m * x)
    return ll, np.column_stack([d_p * p, d_q * q, d_g * g])


class _GammaGammaObjective:
    """Weighted mean negative Gamma-Gamma log-likelihood and its gradient w.r.t. the
    log-parameters on rows (x >= 1, m > 0) with weights: the same function as
    :func:`_gg_ll_terms` summed with the weights, with the terms that do not depend on the
    parameters summed once and the x-only terms evaluated on the distinct x values, so an
    evaluation costs one logarithm and one division per row."""

    def __init__(self, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> None:
        self.total_w = float(w.sum())
        self.u_x, x_inv = np.unique(x, return_inverse=True)
        self.w_x = np.bincount(x_inv, weights=w, minlength=self.u_x.size)
        self.z = m * x  # repeat value total (scaled)
        self.w = w
        self.wx = w * x
        log_m = np.log(m)
        self.sum_w_log_m = _dot(w, log_m)
        self.sum_wx_log_mx = _dot(self.wx, (log_m + np.log(x)))

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, g = np.exp(theta)
        pux = p * self.u_x
        log_g = np.log(g)
        log_gz = np.log(g + self.z)
        s_w_l = _dot(self.w, log_gz)
        s_wx_l = _dot(self.wx, log_gz)
        ll = (
            _dot(self.w_x, special.gammaln(pux + q) - special.gammaln(pux))
            - self.total_w * special.gammaln(q)
            + self.total_w * q * log_g
            + p * self.sum_wx_log_mx
            - self.sum_w_log_m
            - p * s_wx_l
            - q * s_w_l
        )
        dg = special.digamma(pux + q)
        d_p = _dot(self.u_x * self.w_x, dg - special.digamma(pux)) + self.sum_wx_log_mx - s_wx_l
        d_q = _dot(self.w_x, dg) - self.total_w * special.digamma(q) + self.total_w * log_g - s_w_l
        inv_gz = 1.0 / (g + self.z)
        d_g = self.total_w * q / g - p * _dot(self.wx, inv_gz) - q * _dot(self.w, inv_gz)
        grad = np.array([d_p * p, d_q * q, d_g * g])
        return -float(ll) / self.total_w, -grad / self.total_w


def _repeat_value_rows(
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    weights: npt.ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    x = _as_float_array(frequency, "frequency")
    m = np.asarray(monetary_value, dtype=float).ravel()
    if m.shape != x.shape:
        raise ValueError("frequency and monetary_value must have the same length")
    w = _weights(weights, x.shape[0])
    repeat = x >= 1
    usable = repeat & np.isfinite(m) & (m > 0)
    excluded = float(w[repeat & ~usable].sum())
    return x[usable], m[usable], w[usable], excluded


def gamma_gamma_log_likelihood(
    params: GammaGammaParams,
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> float:
    """Total Gamma-Gamma log-likelihood over repeat customers with monetary_value > 0."""
    x, m, w, _ = _repeat_value_rows(frequency, monetary_value, weights)
    theta = np.log([params.p, params.q, params.gamma])
    ll, _ = _gg_ll_terms(theta, x, m, with_grad=False)
    return float(w @ ll)


def fit_gamma_gamma(
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    *,
    method: str = "L-BFGS-B",
    start: GammaGammaParams | None = None,
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit on (x, mean repeat value m) with weights.

    Only repeat customers are informative: rows with frequency 0 are ignored, and repeat
    customers with monetary_value <= 0 or NaN (e.g. refunds exceeding repeat spend) are
    dropped and counted in ``n_excluded``. Money is rescaled to mean 1 for the search.
    ``start``: optional parameters to start the search from (as in :func:`fit_bgnbd`).
    """
    x, m, w, excluded = _repeat_value_rows(frequency, monetary_value, weights)
    (ux, um), uw = aggregate_rows(x, m, weights=w)
    if uw.size == 0:
        raise ValueError("no repeat customers with positive monetary_value to fit")
    total_w = float(uw.sum())
    scale = _dot(uw, um) / total_w
    sm = um / scale
    objective = _GammaGammaObjective(ux, sm, uw)
    if start is None:
        theta0 = np.log([1.0, 2.0, 1.0])  # population mean p*gamma/(q-1) = 1 = observed mean
    else:
        theta0 = np.log([start.p, start.q, start.gamma / scale])
        theta0 = np.clip(theta0, _LOG_LOWER, _LOG_UPPER)
    res = _minimise(objective, theta0, method)
    theta = np.asarray(res.x, dtype=float)
    p, q, g = np.exp(theta)
    # density of m scales by 1/scale per customer
    ll = -float(res.fun) * total_w - total_w * np.log(scale)
    return GammaGammaFit(
        params=GammaGammaParams(p=float(p), q=float(q), gamma=float(g * scale)),
        log_likelihood=float(ll),
        success=bool(res.success),
        message=str(res.message),
        iterations=int(res.get("nit", 0)),
        function_evaluations=int(res.get("nfev", 0)),
        n_customers=total_w,
        n_excluded=excluded,
        at_bound=_at_bound(theta, ("p", "q", "gamma")),
    )


def expected_order_value(
    params: GammaGammaParams,
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
) -> np.ndarray:
    """E[order value | x, m] = (gamma + m x) p / (p x + q - 1), a weighted average of the
    population mean p gamma / (q - 1) and the customer's own mean m.

    For x = 0 (monetary_value ignored) this is the population mean. NaN where
    p x + q - 1 <= 0 (the mean does not exist; happens only when q <= 1).
    """
    x, m = _broadcast(frequency, monetary_value)
    m = np.where(x > 0, m, 0.0)
    denom = params.p * x + params.q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (params.gamma + m * x) * params.p / denom
    return np.where(denom > 0, out, np.nan)


def frequency_monetary_correlation(
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> float:
    """Pearson correlation of x and mean repeat value over repeat customers.

    Gamma-Gamma assumes spend per order is independent of purchase frequency; a value
    near 0 (CDNOW: 0.11) supports it, |r| above ~0.3 argues against using it.
    """
    x, m, w, _ = _repeat_value_rows(frequency, monetary_value, weights)
    if w.sum() <= 0 or x.size < 2:
        return float("nan")
    mx = np.average(x, weights=w)
    mm = np.average(m, weights=w)
    cov = np.average((x - mx) * (m - mm), weights=w)
    vx = np.average((x - mx) ** 2, weights=w)
    vm = np.average((m - mm) ** 2, weights=w)
    if vx <= 0 or vm <= 0:
        return float("nan")
    return float(cov / np.sqrt(vx * vm))


# --------------------------------------------------------------------------------------
# From orders to the (x, t_x, T, m) summary
# --------------------------------------------------------------------------------------


def _purchase_days(
    orders: pd.DataFrame,
    customer_col: str,
    date_col: str,
    value_col: str | None,
) -> pd.DataFrame:
    """One row per (customer, calendar day) with the day's summed value."""
    missing = [c for c in (customer_col, date_col, value_col) if c and c not in orders.columns]
    if missing:
        raise KeyError(f"orders is missing column(s): {missing}")
    cols = [customer_col, date_col] + ([value_col] if value_col else [])
    df = orders[cols].copy()
    if df[customer_col].isna().any():
        raise ValueError(f"{customer_col} has missing values; resolve customer identity first")
    dates = df[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, format="ISO8601")
    if dates.isna().any():
        raise ValueError(f"{date_col} has missing or unparseable values")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)  # keep the local wall-clock date
    df["_day"] = dates.dt.normalize()
    if value_col:
        if df[value_col].isna().any():
            raise ValueError(f"{value_col} has missing values")
        df["_value"] = df[value_col].astype(float)
    else:
        df["_value"] = 0.0
    days = df.groupby([customer_col, "_day"], sort=True, observed=True)["_value"].sum()
    return days.reset_index().rename(columns={customer_col: "customer_id"})


def summarise_orders(
    orders: pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    *,
    time_unit: TimeUnit = "weeks",
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    value_col: str | None = "net_value",
) -> pd.DataFrame:
    """Per-customer (frequency, recency, T, monetary_value) as of ``calibration_end``.

    ``calibration_end`` is the last day of the calibration period (inclusive); orders after
    it are ignored and customers whose first purchase is after it are absent. Timestamps are
    reduced to their calendar date (timezone-aware ones in their own timezone) and orders on
    the same day are merged. Columns: frequency (int), recency, T (in ``time_unit``),
    monetary_value (mean repeat-day value, NaN if frequency = 0; absent when value_col is
    None) and first_purchase (date). Indexed by customer_id.
    """
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError("time_unit must be 'days' or 'weeks'")
    unit = DAYS_PER_UNIT[time_unit]
    end = pd.Timestamp(calibration_end)
    if end.tzinfo is not None:
        end = end.tz_localize(None)
    end = end.normalize()
    days = _purchase_days(orders, customer_col, date_col, value_col)
    days = days[days["_day"] <= end]
    if days.empty:  # nobody bought by calibration_end (a store younger than the holdout)
        columns = ["frequency", "recency", "T"] + (["monetary_value"] if value_col else [])
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
        out["frequency"] = out["frequency"].astype("int64")
        out["first_purchase"] = pd.Series(dtype="datetime64[ns]")
        out.index = pd.Index([], name="customer_id", dtype=object)
        return out
    g = days.groupby("customer_id", sort=True)
    first = g["_day"].min()
    last = g["_day"].max()
    n_days = g["_day"].size()
    out = pd.DataFrame(index=first.index)
    out["frequency"] = (n_days - 1).astype("int64")
    out["recency"] = (last - first).dt.days.astype(float) / unit
    out["T"] = (end - first).dt.days.astype(float) / unit
    if value_col:
        total = g["_value"].sum()
        first_value = days.loc[days["_day"] == days["customer_id"].map(first), :]
        first_value = first_value.groupby("customer_id")["_value"].sum()
        repeat_total = total - first_value.reindex(total.index)
        freq = out["frequency"].astype(float)
        out["monetary_value"] = np.where(freq > 0, repeat_total / freq.where(freq > 0), np.nan)
    out["first_purchase"] = first
    out.index.name = "customer_id"
    return out


def check_data_sufficiency(
    summary: pd.DataFrame,
    *,
    time_unit: TimeUnit = "weeks",
    min_customers: int = DEFAULT_MIN_CUSTOMERS,
    min_history_days: float = DEFAULT_MIN_HISTORY_DAYS,
    min_repeat_buyers: int = DEFAULT_MIN_REPEAT_BUYERS,
) -> tuple[bool, str]:
    """Is there enough data to fit BG/NBD and trust its predictions?

    History = the largest T (days from the earliest first purchase to the calibration end).
    Returns (True, "ok: ...") or (False, reasons) with every failed check, "; "-separated:
    "too few customers: N < min", "history too short: D days < min",
    "too few repeat buyers: R < min" (or "no customers").
    """
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError("time_unit must be 'days' or 'weeks'")
    n = len(summary)
    if n == 0:
        return False, "no customers"
    return data_sufficiency(
        n,
        float(summary["T"].max()) * DAYS_PER_UNIT[time_unit],
        int((summary["frequency"] > 0).sum()),
        min_customers=min_customers,
        min_history_days=min_history_days,
        min_repeat_buyers=min_repeat_buyers,
    )


def data_sufficiency(
    n: int,
    history_days: float,
    repeaters: int,
    *,
    min_customers: int = DEFAULT_MIN_CUSTOMERS,
    min_history_days: float = DEFAULT_MIN_HISTORY_DAYS,
    min_repeat_buyers: int = DEFAULT_MIN_REPEAT_BUYERS,
) -> tuple[bool, str]:
    """:func:`check_data_sufficiency` from the counts: customers, history in days (the
    largest T) and repeat buyers (e.g. of customers aggregated to distinct rows)."""
    if n == 0:
        return False, "no customers"
    problems = []
    if n < min_customers:
        problems.append(f"too few customers: {n} < {min_customers}")
    if history_days < min_history_days:
        problems.append(f"history too short: {history_days:g} days < {min_history_days:g}")
    if repeaters < min_repeat_buyers:
        problems.append(f"too few repeat buyers: {repeaters} < {min_repeat_buyers}")
    if problems:
        return False, "; ".join(problems)
    return True, f"ok: {n} customers, {history_days:g} days of history, {repeaters} repeat buyers"


# --------------------------------------------------------------------------------------
# Holdout calibration
# --------------------------------------------------------------------------------------


def holdout_calibration(
    orders: pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    holdout_end: str | pd.Timestamp,
    *,
    time_unit: TimeUnit = "weeks",
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    params: BGNBDParams | None = None,
    max_bucket: int = 7,
) -> HoldoutResult:
    """Fit BG/NBD on orders up to ``calibration_end`` (inclusive), predict each calibration
    customer's repeat purchase days in (calibration_end, holdout_end], and compare.

    ``by_frequency`` groups customers by calibration frequency 0, 1, ..., max_bucket-1 and
    "max_bucket+" and ends with a "total" row: customers, actual and predicted totals and
    means per customer, and predicted / actual. Pass ``params`` to skip the fit.
    """
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError("time_unit must be 'days' or 'weeks'")
    unit = DAYS_PER_UNIT[time_unit]
    end = pd.Timestamp(calibration_end).normalize()
    h_end = pd.Timestamp(holdout_end).normalize()
    if h_end <= end:
        raise ValueError("holdout_end must be after calibration_end")
    summary = summarise_orders(
        orders,
        end,
        time_unit=time_unit,
        customer_col=customer_col,
        date_col=date_col,
        value_col=None,
    )
    fit = None
    if params is None:
        fit = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
        params = fit.params
    horizon = (h_end - end).days / unit
    days = _purchase_days(orders, customer_col, date_col, None)
    hold = days[(days["_day"] > end) & (days["_day"] <= h_end)]
    actual = hold.groupby("customer_id").size().reindex(summary.index, fill_value=0)
    x, tx, t_age = summary["frequency"], summary["recency"], summary["T"]
    customers = summary[["frequency", "recency", "T"]].copy()
    customers["p_alive"] = probability_alive(params, x, tx, t_age)
    customers["predicted"] = expected_purchases(params, horizon, x, tx, t_age)
    customers["actual"] = actual.astype("int64")
    bucket = np.minimum(customers["frequency"].to_numpy(), max_bucket)
    labels = [str(i) for i in range(max_bucket)] + [f"{max_bucket}+"]
    customers["bucket"] = pd.Categorical.from_codes(bucket, categories=labels)
    grouped = customers.groupby("bucket", observed=False)
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "actual": grouped["actual"].sum().astype(float),
            "predicted": grouped["predicted"].sum(),
        }
    )
    table.index = table.index.astype(str)
    table.loc["total"] = [len(customers), customers["actual"].sum(), customers["predicted"].sum()]
    table["customers"] = table["customers"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        table["actual_mean"] = table["actual"] / table["customers"]
        table["predicted_mean"] = table["predicted"] / table["customers"]
        table["predicted_over_actual"] = table["predicted"] / table["actual"]
    table.index.name = "frequency_bucket"
    return HoldoutResult(
        fit=fit,
        params=params,
        time_unit=time_unit,
        holdout_length=float(horizon),
        customers=customers,
        by_frequency=table,
    )


# --------------------------------------------------------------------------------------
# Timing helper (not part of the test suite)
# --------------------------------------------------------------------------------------


def benchmark_bgnbd_fit(
    n_customers: int,
    *,
    params: BGNBDParams | None = None,
    max_age_days: int = 730,
    seed: int = 0,
) -> dict[str, float]:
    """Time a BG/NBD fit on customers simulated from the model on a daily grid.

    Ages are uniform on 1..max_age_days; recency and T are whole days expressed in weeks,
    like real order data, so identical rows aggregate. Returns timings in seconds, the
    number of distinct rows, and the fitted parameters.
    """
    params = params or BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    rng = np.random.default_rng(seed)
    age_days = rng.integers(1, max_age_days + 1, size=n_customers).astype(float)
    t0 = time.perf_counter()
    sim = simulate_bgnbd(params, age_days / 7.0, seed=seed + 1)
    t1 = time.perf_counter()
    recency = np.floor(sim["recency"].to_numpy() * 7.0) / 7.0
    (ux, _, _), w = aggregate_rows(sim["frequency"], recency, sim["T"])
    t2 = time.perf_counter()
    fit = fit_bgnbd(sim["frequency"], recency, sim["T"])
    t3 = time.perf_counter()
    return {
        "n_customers": float(n_customers),
        "n_rows": float(w.size),
        "simulate_s": t1 - t0,
        "aggregate_s": t2 - t1,
        "fit_s": t3 - t2,
        "iterations": float(fit.iterations),
        "success": float(fit.success),
        "r": fit.params.r,
        "alpha": fit.params.alpha,
        "a": fit.params.a,
        "b": fit.params.b,
    }


if __name__ == "__main__":  # python -m dtc_economics.btyd
    for n in (100_000, 1_000_000):
        print(benchmark_bgnbd_fit(n))
