"""Age schedules of the demography and of age-dependent risks (data, not knobs).

Each schedule is given by 5-year age band (band b covers ages 5b to 5b + 4; the last band is
100+). The knobs in `params.py` scale them (e.g. `demography.mortality_multiplier` for rural
mortality); the schedules themselves are fixed data with their sources:

* MORTALITY: annual probability of dying, China 2020-2025, by sex: 1 - exp(-m) of the UN World
  Population Prospects 2019 central death rates m (medium variant), docs/sources.md
  [wpp-2019]. Rural mortality is higher; the multiplier's default 1.12 puts rural life
  expectancy about 1.2 years below the national figure [bmj-gh-2023].
* FERTILITY: births per woman-year, China 2020 (UN World Population Prospects 2022, age-specific
  fertility rates, total 1.28) [wpp-2022]; rural women have more children (total about 1.5
  [census-2020], [li-2024-tfr]): `demography.fertility_multiplier`.
* HOSPITALISATION, DISABILITY: relative risks by age, anchored on the 6th National
  Health Services Survey (2018; inpatient rates and chronic-disease prevalence rise steeply
  with age) [nhc-2018], [nhss-chronic] and the Second National Sample Survey on Disability
  (2006; 53% of the disabled are 60+) [disability-2006]; the shapes are assumptions within
  those anchors, the levels are knobs.
"""

from __future__ import annotations

from typing import Final

BANDS: Final = 21  # 0-4, 5-9, ..., 95-99, 100+

MORTALITY: Final[tuple[tuple[float, ...], tuple[float, ...]]] = (
    # male, 0-4 is the average of age 0 (0.00973) and 1-4 (0.00040) over the band's five years
    (0.00227, 0.00030, 0.00024, 0.00035, 0.00052, 0.00073, 0.00091, 0.00115, 0.00160,
     0.00240, 0.00403, 0.00677, 0.01271, 0.02303, 0.04188, 0.07053, 0.10191, 0.15405,
     0.21765, 0.28233, 0.35641),
    # female
    (0.00163, 0.00025, 0.00017, 0.00025, 0.00034, 0.00044, 0.00058, 0.00074, 0.00108,
     0.00155, 0.00251, 0.00422, 0.00795, 0.01436, 0.02650, 0.04488, 0.07500, 0.11902,
     0.16936, 0.23056, 0.27756),
)
"""Annual probability of death by sex and 5-year band, China 2020-2025 [wpp-2019]."""

FERTILITY: Final[tuple[float, ...]] = (
    0.0, 0.0, 0.00012, 0.01173, 0.05739, 0.08918, 0.06290, 0.02781, 0.00658, 0.00095,
    *([0.0] * 11))
"""Births per woman-year by 5-year band, China 2020 (total fertility 1.28) [wpp-2022]."""

HOSPITALISATION: Final[tuple[float, ...]] = (
    0.6, 0.3, 0.3, 0.4, 0.5, 0.6, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.3, 1.5, 1.8, 2.1, 2.4,
    2.6, 2.6, 2.6, 2.6)
"""Hospitalisation risk relative to an adult of 50-54 (assumption shaped on [nhc-2018],
[nhss-chronic])."""

DISABILITY: Final[tuple[float, ...]] = (
    0.05, 0.05, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.6, 1.0, 1.3, 1.7, 2.2, 2.8, 3.5, 4.5,
    5.5, 6.0, 6.0, 6.0)
"""Disability onset risk relative to an adult of 50-54 (assumption fitted so that about 6% of
all and a quarter of those 60+ are disabled [disability-2006])."""


