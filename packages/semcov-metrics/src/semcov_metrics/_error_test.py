"""Is a group's error above the rest of its class's? A one-sided two-proportion test on (possibly
fractional) miss counts, by the normal approximation or Fisher's exact test."""

from __future__ import annotations

import numpy as np

from semcov_metrics._validation import check_choice

__all__: list[str] = []

ERROR_TEST_METHODS = ("z", "fisher")
ALTERNATIVES = ("greater", "less", "two-sided")


def error_p_values(
    misses: np.ndarray,
    support: np.ndarray,
    class_misses: np.ndarray,
    class_support: np.ndarray,
    *,
    method: str,
    alternative: str,
) -> np.ndarray:
    """p-values of "the group's miss rate differs from its class's other samples'".

    The group holds ``support`` (membership mass) of its class's ``class_support`` samples and
    ``misses`` of its ``class_misses`` misses; the rest of the class holds the differences.
    All arrays have the same shape (G,). NaN where the group or the rest has no mass.

    * ``"z"``: the pooled two-proportion z statistic on the effective (fractional) counts,
      ``z = (e_g − e_r) / sqrt(e (1 − e) (1/n_g + 1/n_r))`` with ``e`` the class's miss rate;
      p from the normal distribution. Where ``e`` is 0 or 1 both rates are equal and p = 1.
    * ``"fisher"``: Fisher's exact test on the counts rounded to the nearest integer
      (hypergeometric tail for one-sided alternatives, scipy's ``fisher_exact`` for
      ``"two-sided"``).
    """
    from scipy import stats

    check_choice(method, "method", ERROR_TEST_METHODS)
    check_choice(alternative, "alternative", ALTERNATIVES)
    misses, support = np.asarray(misses, float), np.asarray(support, float)
    class_misses, class_support = np.asarray(class_misses, float), np.asarray(class_support, float)
    if method == "fisher":
        misses, support = np.round(misses), np.round(support)
        class_misses, class_support = np.round(class_misses), np.round(class_support)
    rest = class_support - support
    defined = (support > 0) & (rest > 0)
    p = np.full(support.shape, np.nan)
    if method == "z":
        with np.errstate(invalid="ignore", divide="ignore"):
            pooled = class_misses / class_support
            spread = np.sqrt(pooled * (1 - pooled) * (1 / support + 1 / rest))
            z = (misses / support - (class_misses - misses) / rest) / spread
        flat = defined & (spread == 0)
        live = defined & (spread > 0)
        p[flat] = 1.0
        if alternative == "greater":
            p[live] = stats.norm.sf(z[live])
        elif alternative == "less":
            p[live] = stats.norm.cdf(z[live])
        else:
            p[live] = np.minimum(1.0, 2 * stats.norm.sf(np.abs(z[live])))
        return p
    total, drawn, hits = class_support[defined], support[defined], misses[defined]
    bad = class_misses[defined]
    if alternative == "greater":
        p[defined] = stats.hypergeom.sf(hits - 1, total, bad, drawn)
    elif alternative == "less":
        p[defined] = stats.hypergeom.cdf(hits, total, bad, drawn)
    else:
        p[defined] = [
            stats.fisher_exact([[h, d - h], [b - h, t - d - b + h]]).pvalue
            for h, d, b, t in zip(hits, drawn, bad, total, strict=True)
        ]
    return np.clip(p, 0.0, 1.0)
