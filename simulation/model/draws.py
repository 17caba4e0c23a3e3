"""Phase 1 of every month: all random numbers the month needs, from the model's one generator.

The order below is part of the specification (docs/ODD.md §3, step 1). Every array has a fixed size
(households, villages, projects, sectors) whatever the state or the knobs, so two scenarios
run on the same seed consume identical numbers: common random numbers for paired comparisons.
Agents read their own draw by index; nothing else in the model draws.

  1. disaster        1 uniform            does a natural disaster strike the county?
  2. village         villages uniforms    which villages it hits (also scheduled disasters)
  3. sector          5 normals            market shock per industry sector
  4. project_z       projects normals     project-specific shock
  5. project_u       projects uniforms    failure / revival of struggling projects
  6. earnings        households normals   earnings innovation
  7. shock           households uniforms  illness / accident / disability onset
  8. severity        households uniforms  size of the bill
  9. job             households uniforms  migrant job loss / re-employment; placement order
 10. report          households uniforms  self-report
 11. screen          households uniforms  cadre screening
 12. warn            households uniforms  department data warning
 13. process         households uniforms  risk elimination / follow-up re-check
 14. house           households uniforms  housing damage in a disaster
 15. apply           households uniforms  application for 低保 / 特困
 16. train, guide    households uniforms  (March only) training take-up; dependency change
 17. death, change, move, birth   households x K uniforms each  (January only) the year's
                     demography of every person slot: death, change of role (school, work,
                     migration, retirement), moving out, giving birth
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.model.calendar import MARCH
from simulation.model.codes import N_SECTORS, K


@dataclass(slots=True)
class MonthDraws:
    """One month's random numbers (see the module docstring for the order)."""

    disaster: float
    village: np.ndarray
    sector: np.ndarray
    project_z: np.ndarray
    project_u: np.ndarray
    earnings: np.ndarray
    shock: np.ndarray
    severity: np.ndarray
    job: np.ndarray
    report: np.ndarray
    screen: np.ndarray
    warn: np.ndarray
    process: np.ndarray
    house: np.ndarray
    apply: np.ndarray
    train: np.ndarray | None
    guide: np.ndarray | None
    death: np.ndarray | None
    change: np.ndarray | None
    move: np.ndarray | None
    birth: np.ndarray | None


def draw_month(rng: np.random.Generator, month: int, households: int, villages: int,
               projects: int, into: Any = None) -> MonthDraws:
    """Draw month `month`'s numbers in the documented order. `into`: arrays named as the
    per-household draws 6-16 (kernels.HouseholdDraws), each of `households` numbers, to draw
    those into instead of new arrays (a batch's rows); the numbers are the same."""
    disaster = float(rng.random())
    village = rng.random(villages)
    sector = rng.standard_normal(N_SECTORS)
    project_z = rng.standard_normal(projects)
    project_u = rng.random(projects)
    march = month % 12 == MARCH
    if into is None:
        earnings = rng.standard_normal(households)
        shock, severity, job, report, screen, warn, process, house, apply = (
            rng.random(households) for _ in range(9))
        train = rng.random(households) if march else None
        guide = rng.random(households) if march else None
    else:
        earnings = rng.standard_normal(out=into.earnings)
        shock, severity, job, report, screen, warn, process, house, apply = (
            rng.random(out=a) for a in (into.shock, into.severity, into.job, into.report,
                                        into.screen, into.warn, into.process, into.house,
                                        into.apply))
        train = rng.random(out=into.train) if march else None
        guide = rng.random(out=into.guide) if march else None
    january = month % 12 == 0
    death, change, move, birth = ((rng.random((households, K)) for _ in range(4)) if january
                                  else (None, None, None, None))
    return MonthDraws(disaster, village, sector, project_z, project_u, earnings, shock,
                      severity, job, report, screen, warn, process, house, apply, train, guide,
                      death, change, move, birth)
