"""The year end's household counts (metrics.household_counts, one compiled pass) equal the
numpy masks and bincounts they replaced, row by row, on random household columns."""

from __future__ import annotations

import numpy as np

from simulation.model import metrics as M
from simulation.model.codes import (
    ASSISTED,
    DIBAO,
    FORMERLY_POOR,
    IDENTIFIED,
    MARGINAL,
    N_CAUSES,
    ORDINARY,
    RISK_ELIMINATED,
    TEKUN,
)


def test_household_counts_equal_masks_and_bincounts() -> None:
    g = np.random.default_rng(3)
    n, groups = 2_000, 3

    def flag(p: float = 0.3) -> np.ndarray:
        return g.random(n) < p

    col = {"alive": flag(0.9), "category": g.integers(0, 3, n).astype(np.int8),
           "weight_group": g.integers(0, groups, n).astype(np.int32),
           "fell_this_year": flag(), "fall_repeat": flag(), "fell_h_this_year": flag(),
           "below": flag(), "below_h": flag(), "state": g.integers(0, 4, n).astype(np.int8),
           "programme": g.integers(0, 4, n).astype(np.int8), "y_at_risk": flag(),
           "y_risk_identified": flag(),
           "fall_cause": g.integers(-1, N_CAUSES, n).astype(np.int8),
           "job_kind": g.integers(0, 3, n).astype(np.int8), "y_hit": flag(),
           "y_trained": flag(), "ever_monitored": flag(), "ever_fell": flag()}
    counts = np.empty((M.N_COUNTS, groups + 1), np.int64)
    M.household_counts(col["alive"], col["category"], col["weight_group"], groups,
                       col["fell_this_year"], col["fall_repeat"], col["fell_h_this_year"],
                       col["below"], col["below_h"], col["state"], col["programme"],
                       col["y_at_risk"], col["y_risk_identified"], col["fall_cause"],
                       col["job_kind"], col["y_hit"], col["y_trained"], col["ever_monitored"],
                       col["ever_fell"], counts)

    alive = col["alive"]
    cat = np.where(alive, col["category"], 3)
    grp = np.where(alive, col["weight_group"], groups)
    fp, fell, fell_h = cat == FORMERLY_POOR, col["fell_this_year"], col["fell_h_this_year"]
    st, prog = col["state"], col["programme"]
    monitored = (st == IDENTIFIED) | (st == ASSISTED)
    risky, known = col["y_at_risk"], col["y_risk_identified"]
    masks = {
        M.C_FP: fp, M.C_RETURNED: fp & fell, M.C_RETURNED_FIRST: fp & fell & ~col["fall_repeat"],
        M.C_RETURNED_REPEAT: fp & fell & col["fall_repeat"],
        M.C_NEW_MARGINAL: (cat == MARGINAL) & fell, M.C_NEW_ORDINARY: (cat == ORDINARY) & fell,
        M.C_RETURNED_H: fp & fell_h, M.C_NEW_H: ((cat == MARGINAL) | (cat == ORDINARY)) & fell_h,
        M.C_BELOW: col["below"], M.C_BELOW_FP: fp & col["below"],
        M.C_BELOW_H_FP: fp & col["below_h"], M.C_MONITORED: monitored,
        M.C_ELIMINATED: st == RISK_ELIMINATED, M.C_ROSTER: st != 0, M.C_RISKY: risky,
        M.C_RISKY_KNOWN_FELL: risky & known & fell, M.C_RISKY_KNOWN: risky & known,
        M.C_RISKY_UNKNOWN_FELL: risky & ~known & fell, M.C_RISKY_UNKNOWN: risky & ~known,
        M.C_DIBAO: prog == DIBAO, M.C_TEKUN: prog == TEKUN,
        M.C_MONITORED_PROGRAMME: monitored & ((prog == DIBAO) | (prog == TEKUN)),
        M.C_ALIVE: alive, M.C_JOBS: col["job_kind"] != 0, M.C_HIT: col["y_hit"],
        M.C_HIT_FELL: col["y_hit"] & fell, M.C_TRAINED: col["y_trained"],
        M.C_NEW_SAMPLE: ~fp & fell & alive, M.C_MONITORED_ALIVE: monitored & alive,
        **{M.C_CAUSE + k: fell & (col["fall_cause"] == k) for k in range(N_CAUSES)}}
    for row, mask in masks.items():
        np.testing.assert_array_equal(counts[row], np.bincount(grp[mask], minlength=groups + 1),
                                      err_msg=f"row {row}")
    cohort = col["category"] == FORMERLY_POOR
    every = col["weight_group"]
    for row, mask in ((M.C_COHORT, cohort), (M.C_COHORT_MONITORED, cohort & col["ever_monitored"]),
                      (M.C_COHORT_RETURNED, cohort & col["ever_fell"])):
        np.testing.assert_array_equal(counts[row, :groups],
                                      np.bincount(every[mask], minlength=groups))
    assert len(masks) + 3 == M.N_COUNTS
