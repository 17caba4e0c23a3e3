"""The one schema: every knob and constant of the model, with unit, default, range and source.

Nothing else in the code base gives a model number a name. Scenario files (TOML) set values by
the dotted keys below ("responsibility.duty_performance"); the loader rejects keys that are not
here and values outside the declared range; sweeps derive their SALib problem from these ranges.

Defaults describe **M County's status quo** (docs/ODD.md §1; [m-county-study]): the weaknesses
the study found are encoded as lower values of the mechanism knobs than national practice.
Sources are abbreviated; a key in brackets, such as [nrra-2022], is an entry of docs/sources.md
(anchor docs/sources.md#nrra-2022). "assumption" marks a number no source pins down; the range
is then what we consider plausible, and a [prior-...] entry of docs/sources.md says what the
assumption is anchored on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Final, get_type_hints

MECHANISMS: Final = ("responsibility", "social_security", "industry", "motivation")


@dataclass(frozen=True, slots=True)
class Param:
    """One number of the model.

    Attributes:
        key: dotted scenario key, "section.name".
        default: M County status-quo value.
        low, high: inclusive plausible range (validation and sweeps).
        unit: physical unit ("share" = fraction in [0, 1]).
        doc: one line saying what the number is.
        source: where the default comes from, or "assumption".
        integer: True when only whole numbers make sense.
        mechanism: which of the four mechanisms the knob belongs to (None for constants).
        absent: the value that switches the knob's channel off (neutrality tests), if any.
        stronger: which end of the range is the stronger mechanism ("high", or "low" for a
            knob where less is more, e.g. households per official).
    """

    key: str
    default: float
    low: float
    high: float
    unit: str
    doc: str
    source: str
    integer: bool = False
    mechanism: str | None = None
    absent: float | None = None
    stronger: str = "high"

    @property
    def weak_end(self) -> float:
        """The knob's weakest value: its absent value if it has one, else the weak end of its
        range (the knob-effects table runs each knob from here to `strong_end`)."""
        if self.absent is not None:
            return self.absent
        return self.high if self.stronger == "low" else self.low

    @property
    def strong_end(self) -> float:
        return self.low if self.stronger == "low" else self.high

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def is_knob(self) -> bool:
        """Mechanism knobs are what scenarios and sweeps are about; the rest are constants."""
        return self.mechanism is not None

    def range_text(self) -> str:
        return f"[{number_text(self.low)}, {number_text(self.high)}]"

    def allowed(self) -> str:
        """What a value must be, as an error message says it."""
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} in {self.range_text()} {self.unit}".rstrip()

    def check(self, origin: str, value: object, key: str | None = None) -> float:
        """`value` if it is an allowed value of this number (as int or float); otherwise
        ValueError with one message naming `origin`, the key and the allowed range.
        (Scenario, disaster and sweep-option values are all checked here.)"""
        name = key or self.key
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{origin}: key '{name}' must be {self.allowed()}, got {value!r}")
        if self.integer and isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"{origin}: key '{name}' must be {self.allowed()}, "
                                 f"got {value!r}")
            value = int(value)
        if value != value or not self.low <= value <= self.high:  # value != value: NaN
            raise ValueError(f"{origin}: key '{name}' = {value!r} is out of range; allowed: "
                             f"{self.allowed()}")
        return int(value) if self.integer else float(value)


def number_text(value: float) -> str:
    """A bound as people write it: 2,000,000 rather than 2e+06, 0.05 rather than 0.050000."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def _p(default: float, low: float, high: float, unit: str, doc: str, source: str, *,
       integer: bool = False, mechanism: str | None = None, absent: float | None = None,
       stronger: str = "high") -> Any:
    """A schema entry, declared as a field of its section's dataclass: the field's default is
    the status-quo value, and the rest of its Param (key from section and field name) rides in
    the field's metadata (see `_collect`)."""
    if not low <= default <= high:
        raise AssertionError(f"schema: default {default} outside [{low}, {high}] ({doc})")
    return field(default=default, metadata={"param": (default, low, high, unit, doc, source,
                                                      integer, mechanism, absent, stronger)})


@dataclass(frozen=True, slots=True)
class Run:
    """[run] Horizon and size of a run."""

    years: int = _p(
        15, 1, 30, "years", "simulated horizon, starting January 2021",
        "model design, docs/ODD.md §2 (2021-01 to 2035-12)", integer=True)
    households: int = _p(
        5000, 50, 2_000_000, "households", "simulated (sample) households",
        "design choice, docs/ODD.md §2; ≈1:10 of a county's exited households [prior-county]",
        integer=True)


@dataclass(frozen=True, slots=True)
class County:
    """[county] What M County is: households, villages, categories."""

    households: float = _p(
        160_000, 20_000, 500_000, "households",
        "rural households of M County (sample weights scale results to these totals)",
        "assumption: 0.5-1.0 M people, 60-80% rural, ~3.2 per household [prior-county]")
    villages: float = _p(
        400, 50, 1500, "villages", "administrative villages of the county",
        "assumption: 300-600 villages [prior-county]")
    formerly_poor_share: float = _p(
        0.125, 0.06, 0.20, "share",
        "formerly poor (脱贫户) households among rural households",
        "assumption 0.12 [prior-county]; Lankao 11.8% (2014) [lankao]")
    marginal_share: float = _p(
        0.03, 0.005, 0.10, "share",
        "marginal (边缘户) households among rural households",
        "assumption; Baoshan 2021 monitored as many marginal as unstable exited households "
        "[baoshan-2021]")
    key_village_share: float = _p(
        0.3, 0.0, 1.0, "share",
        "villages with a resident first secretary (驻村第一书记)",
        "assumption: 100-250 former poor villages of 300-600 [prior-county]")


@dataclass(frozen=True, slots=True)
class Sample:
    """[sample] The stratified sample of simulated households."""

    formerly_poor: float = _p(
        0.6, 0.1, 0.9, "share",
        "share of simulated households drawn from the formerly poor (stratified sample)",
        "design choice: oversample the population of interest; weights undo it")
    marginal: float = _p(
        0.15, 0.02, 0.5, "share",
        "share of simulated households drawn from marginal households", "design choice")
    households_per_village: int = _p(
        100, 10, 2000, "households",
        "simulated households per simulated village", "design choice", integer=True)


@dataclass(frozen=True, slots=True)
class Population:
    """[population] Households at the start: labour, dependants, illness, motivation."""

    no_labour_formerly_poor: float = _p(
        0.27, 0.05, 0.45, "share",
        "formerly poor households without labour capacity (elderly, disabled)",
        "~20% of exited relied on 兜底 [scio-2020-doudi]; 77% of monitored on dibao/特困 "
        "(Xijiang 2022) [xijiang-2022]")
    no_labour_marginal: float = _p(
        0.15, 0.0, 0.45, "share",
        "marginal households without labour capacity", "assumption")
    no_labour_ordinary: float = _p(
        0.06, 0.0, 0.3, "share",
        "ordinary households without labour capacity",
        "assumption (rural 65+ share 13.8%, CRRS 2021 [crrs-2021])")
    extra_worker_prob: float = _p(
        0.4, 0.0, 1.0, "probability",
        "chance of each of two possible extra workers beyond the first (Binomial(2, p))",
        "assumption, gives mean household size ≈3.2 [prior-county]")
    elderly_prob: float = _p(
        0.26, 0.0, 1.0, "probability",
        "chance of each of two possible elderly members (Binomial(2, p))",
        "calibrated with the age shapes: rural 60+ 23.8% (2020 census) [census-2020], 20% "
        "in CRRS 2021 [crrs-2021]")
    child_prob: float = _p(
        0.33, 0.0, 1.0, "probability",
        "chance of each of three possible children (Binomial(3, p))", "assumption")
    student_share: float = _p(
        0.3, 0.0, 1.0, "share",
        "children in non-compulsory schooling (high school, vocational, college)", "assumption")
    migrant_share: float = _p(
        0.45, 0.0, 1.0, "share", "workers who work as migrants",
        "assumption; 33 M exited workers employed, most outside their township [nrra-employment]")
    chronic_formerly_poor: float = _p(
        0.36, 0.0, 1.0, "share",
        "formerly poor households with a chronic patient",
        "34.3% prevalence among adults [nhss-chronic]; calibrated: illness 40-50% of risk "
        "causes [nhfpc-illness] [prior-causes]")
    chronic_marginal: float = _p(
        0.40, 0.0, 1.0, "share",
        "marginal households with a chronic patient", "assumption between the two above")
    chronic_ordinary: float = _p(
        0.30, 0.0, 1.0, "share",
        "ordinary households with a chronic patient", "34.3% of persons (NHSS 2018) [nhss-chronic]")
    disabled_formerly_poor: float = _p(
        0.12, 0.0, 0.5, "share",
        "formerly poor households with a disabled member",
        "assumption; 6% of population disabled [disability-2006]")
    disabled_marginal: float = _p(
        0.08, 0.0, 0.5, "share",
        "marginal households with a disabled member", "assumption")
    disabled_ordinary: float = _p(
        0.04, 0.0, 0.5, "share",
        "ordinary households with a disabled member", "assumption")
    production_dispersion: float = _p(
        0.25, 0.05, 0.8, "sd of log",
        "dispersion of household production income", "assumption")
    income_median_formerly_poor: float = _p(
        10_300.0, 6000.0, 20_000.0, "yuan/person-yr",
        "median per-capita net income of formerly poor households entering 2021",
        "NRRA: mean 12,550 in 2021 (+16.9%) [nrra-2022]; fitted with the dispersion below")
    income_dispersion_formerly_poor: float = _p(
        0.36, 0.1, 0.8, "sd of log",
        "dispersion of formerly poor households' per-capita income",
        "fitted: ~30% of exited people below 10,000 yuan (Xinjiang 2021) [xinjiang-2023]; "
        "calibrated with the 兜底 share [scio-2020-doudi]")
    income_median_marginal: float = _p(
        8400.0, 5000.0, 15_000.0, "yuan/person-yr",
        "median per-capita net income of marginal households entering 2021",
        "assumption: near the line (edge households) [feixian-guide]")
    income_dispersion_marginal: float = _p(
        0.2, 0.05, 0.8, "sd of log",
        "dispersion of marginal households' per-capita income", "assumption")
    income_median_ordinary: float = _p(
        17_000.0, 8000.0, 40_000.0, "yuan/person-yr",
        "median per-capita net income of ordinary rural households entering 2021",
        "non-poor rural mean 18,900 yuan (NBS 2021) [nbs-rural-income]")
    income_dispersion_ordinary: float = _p(
        0.45, 0.1, 1.0, "sd of log",
        "dispersion of ordinary households' per-capita income", "assumption (~1% below the line)")
    no_labour_income_ratio: float = _p(
        0.5, 0.4, 1.2, "x category median",
        "median income of households without labour capacity relative to their category's",
        "calibrated: 20% of formerly poor people on 低保/特困 [scio-2020-doudi]; elderly and "
        "disabled households are the poorest [prior-income]")
    skill_floor: float = _p(
        0.3, 0.05, 1.0, "multiplier",
        "lowest earnings multiplier (households that cannot reach their income draw stay poorer)",
        "assumption")
    family_support_cap: float = _p(
        1500.0, 0.0, 5000.0, "yuan/household-month",
        "most support from children living elsewhere (赡养) a household without workers gets",
        "assumption; NBS transfer income includes remittances [nbs-poor-areas-2019]")
    motivation_mean: float = _p(
        0.6, 0.1, 0.9, "score 0-1",
        "mean endogenous motivation (uniform ±0.25 around it)", "assumption")
    dependency_prevalence: float = _p(
        0.2, 0.0, 0.6, "share",
        "formerly poor and marginal households starting 2021 with a dependency (等靠要) "
        "mindset (guidance then lowers it: motivation.guidance_coverage)",
        "assumption: 0.15 (0.05-0.30) [prior-motivation]")
    no_supporter_share: float = _p(
        0.25, 0.0, 1.0, "share",
        "households without labour capacity that have no legal supporter (no children): "
        "eligible for 特困 rather than 低保",
        "assumption, fitted: rural 特困 4.4 M against rural 低保 about 35 M people (2020-21) "
        "[mca-2021-tekun] [mca-bulletins]")
    worker_age_low: int = _p(
        18, 16, 30, "years", "youngest age of a working member in January 2021",
        "assumption within the census working ages [census-2020]", integer=True)
    worker_age_high: int = _p(
        64, 55, 75, "years", "oldest age of a working member in January 2021",
        "assumption: rural people keep working past 60 [giles-2021], [pang-2004]", integer=True)
    worker_age_shape: float = _p(
        0.7, 0.3, 1.5, "exponent",
        "shape of working members' ages within their range (age = low + span * u^shape; "
        "below 1 leans old)",
        "fitted: mean age of local rural workers 46.8, migrants 41.7 (2021-24) [nbs-migrant]; "
        "large 1960s cohorts near 60 [census-2020]")
    elderly_age_shape: float = _p(
        1.6, 0.5, 3.0, "exponent",
        "shape of elderly members' ages within their range (above 1 leans young)",
        "fitted: rural 60+ 23.8%, 65+ 17.7% (2020) [census-2020] [aging-bulletin-2020]")
    elderly_age_high: int = _p(
        88, 75, 100, "years", "oldest age of an elderly member in January 2021",
        "assumption; ages fitted to the rural 60+ share 23.8% [census-2020]", integer=True)


@dataclass(frozen=True, slots=True)
class Income:
    """[income] Incomes, transfers, the earnings trend, savings."""

    local_wage: float = _p(
        900.0, 300.0, 3000.0, "yuan/worker-month",
        "effective local wage in 2021, averaged over months with and without work",
        "calibrated to NBS poor-area wage income 4,082 yuan/person (2019) [nbs-poor-areas-2019]")
    migrant_wage: float = _p(
        2000.0, 800.0, 5000.0, "yuan/worker-month",
        "effective migrant wage in 2021 (remitted, averaged over the year)",
        "assumption below NBS 2021 migrant average 4,432 yuan/month (part-year work) "
        "[nbs-migrant]")
    unemployed_fallback: float = _p(
        0.3, 0.0, 1.0, "share of local wage",
        "what a migrant who lost the job earns back home", "assumption")
    production_formerly_poor: float = _p(
        700.0, 0.0, 3000.0, "yuan/household-month",
        "net farm and household-business income of formerly poor households, 2021",
        "assumption: business ≈27% of exited households' income [prior-income]")
    production_marginal: float = _p(
        600.0, 0.0, 3000.0, "yuan/household-month",
        "net production income of marginal households, 2021", "assumption")
    production_ordinary: float = _p(
        900.0, 0.0, 5000.0, "yuan/household-month",
        "net production income of ordinary households, 2021",
        "NBS 2024: business 16.7% of all residents' income [nbs-2024]")
    property: float = _p(
        40.0, 0.0, 500.0, "yuan/household-month",
        "property income (land rent, collective dividends)",
        "assumption: ≈1-3% of income [prior-income]; 1% in poor areas 2019 [nbs-poor-areas-2019]")
    pension: float = _p(
        180.0, 0.0, 1000.0, "yuan/elderly-month",
        "resident basic pension per elderly member",
        "assumption: central minimum 93 + local top-up [pension-minimum]")
    formerly_poor_subsidy: float = _p(
        500.0, 0.0, 1500.0, "yuan/household-month",
        "direct policy transfers to formerly poor households (ecological posts, subsidies, "
        "PV dividends)",
        "calibrated: transfers 20-30% of exited households' income [nbs-poor-areas-2019]")
    savings_rate: float = _p(
        0.3, 0.0, 0.8, "share",
        "share of income above subsistence saved while savings are below their target",
        "assumption; rural saving ≈20-30% of disposable income (NBS consumption ratios)")
    initial_savings: float = _p(
        2.0, 0.0, 24.0, "months of income",
        "savings buffer at the start of 2021",
        "bottom-quintile liquid savings ≈2 months [prior-finance]; CHFS [chfs-2011]")
    savings_target: float = _p(
        4.0, 0.0, 24.0, "months of income",
        "buffer a household aims for (precautionary saving); above it, it consumes the excess",
        "assumption: buffer-stock saving; thin buffers of low-income households [prior-finance]")
    savings_drawdown: float = _p(
        0.1, 0.0, 1.0, "1/month",
        "share of savings above the target consumed in a month (consumption rises with "
        "wealth and income)", "assumption")
    credit_months: float = _p(
        6.0, 0.0, 36.0, "months of income",
        "most a household can borrow from relatives and friends (informal credit)",
        "43.8% of rural households borrowed privately (CHFS 2013) [chfs-2014]; assumption")
    repayment_share: float = _p(
        0.08, 0.0, 1.0, "share",
        "share of income above subsistence that goes to repaying debt (informal loans from "
        "relatives are repaid over years)",
        "assumption, calibrated: 30-50% of low-income households in debt [chfs-2014]")
    initial_debt_share: float = _p(
        0.3, 0.0, 0.8, "share",
        "formerly poor and marginal households in debt at the start of 2021",
        "30-50% of low-income households in informal debt [prior-finance], [chfs-2014]")
    initial_debt_months: float = _p(
        4.0, 0.0, 24.0, "months of income",
        "debt of an indebted household at the start of 2021", "assumption [prior-finance]")
    cpi_growth: float = _p(
        0.01, 0.0, 0.06, "1/yr",
        "consumer prices: index of grants, caps, aid and programme unit costs",
        "CPI +0.9, +2.0, +0.2, +0.2, 0.0% in 2021-2025 [nbs-cpi]")
    medical_inflation: float = _p(
        0.012, 0.0, 0.08, "1/yr",
        "medical prices: index of bills, deductibles, caps and outpatient costs",
        "health-care CPI +0.6% to +1.5% a year 2022-24 [nbs-cpi], [prior-prices]")
    transfer_growth: float = _p(
        0.065, 0.0, 0.15, "1/yr",
        "yearly rise of pensions and policy subsidies (each January)",
        "assumption: indexed like the line; minimum basic pension 93 (2021) to 143 yuan/month "
        "(2025) [pension-minimum]")
    chronic_outpatient: float = _p(
        120.0, 0.0, 800.0, "yuan/month",
        "out-of-pocket outpatient cost of a chronic patient", "assumption")
    growth_transition: float = _p(
        0.10, 0.0, 0.20, "1/yr",
        "nominal earnings growth 2021-2025",
        "exited +14-17% (2021-22) [nrra-2022] [nrra-2023], counties +7-12% [nbs-exited-counties]")
    growth_normal: float = _p(
        0.06, 0.0, 0.15, "1/yr",
        "nominal earnings growth from 2026",
        "exited counties converging to 6.6-8% [nbs-exited-counties]")
    volatility: float = _p(
        0.30, 0.0, 0.5, "sd of log earnings",
        "household earnings volatility (stationary sd of the deviation)",
        "calibrated to the year-to-year s.d. of log household income (0.15-0.45, "
        "analysis/calibration.py) with the persistence below; individual wages 0.20 "
        "(0.10-0.35) [prior-income]")
    persistence: float = _p(
        0.97, 0.0, 0.99, "per month",
        "monthly AR(1) persistence of an earnings deviation (0.97: half-life about two years)",
        "assumption: income shocks of the poor are largely persistent "
        "[santaeulalia-zheng-2018] [ward-2016]; calibrated with the volatility")


@dataclass(frozen=True, slots=True)
class Policy:
    """[policy] The monitoring line and the 低保 exit rule."""

    line_2021: float = _p(
        6000.0, 4000.0, 9000.0, "yuan/person-yr",
        "monitoring line in 2021 (per-capita net income)",
        "official: 中农组发〔2021〕7号 [crwlg-2021]")
    line_growth: float = _p(
        0.065, 0.0, 0.12, "1/yr",
        "yearly rise of the monitoring line",
        "our inference from 6,600 (2022) [sun-2023], 6,900 (2023) [mengjin-2023]; [prior-prices]")
    dibao_exit_ratio: float = _p(
        1.0, 1.0, 2.0, "x 低保 standard",
        "own per-capita income above which a 低保 household starts its gradual exit at a review",
        "official means test: income above the standard [mca-2021-57]; gradual exit during "
        "follow-up [social-assistance-2020]")


@dataclass(frozen=True, slots=True)
class Demography:
    """[demography] People age, die, are born, go to school, work, migrate, retire, move out."""

    enabled: int = _p(
        1, 0, 1, "switch",
        "1: people age and die, children are born, young adults move out each January; 0: the "
        "2021 population stays as it is (no ageing, deaths, births or moves)",
        "model design (neutrality tests)", integer=True, absent=0)
    mortality_multiplier: float = _p(
        1.12, 0.8, 1.5, "x national life table",
        "rural mortality relative to the national life table (by age and sex)",
        "rural life expectancy ≈1.2 years below national [bmj-gh-2023]; table [wpp-2019]")
    fertility_multiplier: float = _p(
        1.2, 0.0, 2.5, "x national fertility",
        "rural fertility relative to national age-specific fertility",
        "rural total fertility ≈1.5 against national 1.28 [li-2024-tfr], [wpp-2022], "
        "[prior-demography]")
    boys_per_girl: float = _p(
        1.11, 1.0, 1.2, "ratio", "sex ratio at birth",
        "111.3 boys per 100 girls (2020 census) [census-2020]")
    pension_age: int = _p(
        60, 55, 70, "years", "age from which a person receives the resident basic pension",
        "official: 60 [pension-minimum]", integer=True)
    school_continuation: float = _p(
        0.6, 0.0, 1.0, "share",
        "16-year-olds who go on to senior high school, vocational school or college",
        "assumption [prior-demography]")
    study_years: float = _p(
        4.0, 1.0, 8.0, "years", "mean years of schooling after 16",
        "assumption: 3 years of senior school, some college [prior-demography]")
    migrate_rate: float = _p(
        0.06, 0.0, 0.4, "1/person-yr",
        "chance a local worker aged 16-45 takes up migrant work in a year",
        "assumption; migrant workers' average age 41.7-43.2 (2021-24) [nbs-migrant]")
    migrant_return_age: int = _p(
        50, 40, 65, "years", "age from which migrants return to local work",
        "share of migrants over 50: 27% (2021) to 32% (2024) [nbs-migrant]", integer=True)
    migrant_return_rate: float = _p(
        0.15, 0.0, 1.0, "1/person-yr",
        "chance a migrant past the return age comes home to local work in a year",
        "assumption [prior-demography]")
    retirement_60: float = _p(
        0.04, 0.0, 1.0, "1/person-yr",
        "chance a local worker aged 60-69 stops working in a year",
        "rural elderly work to advanced ages (CHARLS) [giles-2021], [pang-2004]; assumption")
    retirement_70: float = _p(
        0.12, 0.0, 1.0, "1/person-yr",
        "chance a local worker aged 70-79 stops working in a year", "assumption [giles-2021]")
    retirement_80: float = _p(
        0.4, 0.0, 1.0, "1/person-yr",
        "chance a local worker aged 80+ stops working in a year", "assumption")
    move_out_rate: float = _p(
        0.06, 0.0, 0.5, "1/person-yr",
        "chance a young adult (18-30, not the household head) leaves to set up a household "
        "elsewhere in a year", "assumption [prior-demography]")


@dataclass(frozen=True, slots=True)
class Shocks:
    """[shocks] Idiosyncratic and covariate shocks."""

    hospitalisation_rate: float = _p(
        0.14, 0.0, 0.3, "1/person-yr",
        "chance a person is hospitalised in a year (population average)",
        "13.8% of persons (NHSS 2018) [wu-2023]")
    chronic_multiplier: float = _p(
        1.8, 1.0, 4.0, "x",
        "hospitalisation risk of chronic-patient households relative to others", "assumption")
    bill_min: float = _p(
        2000.0, 500.0, 10000.0, "yuan",
        "smallest inpatient bill (truncated Pareto, alpha = 1)", "assumption; mean ≈9,300 yuan")
    bill_max: float = _p(
        200_000.0, 20_000.0, 1_000_000.0, "yuan", "largest inpatient bill",
        "assumption; Taikang screens OOP > 30,000 [taikang-2023]")
    accident_rate: float = _p(
        0.01, 0.0, 0.05, "1/household-yr", "chance of a serious accident",
        "assumption: 0.01 [prior-shocks]")
    accident_bill_min: float = _p(
        5000.0, 1000.0, 20_000.0, "yuan", "smallest accident cost",
        "assumption")
    accident_bill_max: float = _p(
        100_000.0, 10_000.0, 500_000.0, "yuan", "largest accident cost",
        "assumption")
    disability_rate: float = _p(
        0.006, 0.0, 0.05, "1/person-yr",
        "chance a person of 50-54 becomes disabled in a year (other ages: the age profile)",
        "age profile fitted to ≈6% disabled, a quarter of those 60+ [disability-2006]; "
        "[prior-shocks]")
    illness_work_months: float = _p(
        1.0, 0.0, 6.0, "months",
        "wages a working patient loses for a hospital stay (treatment and recovery)",
        "assumption: inpatient stays of 9-10 days plus recovery [nhc-2018]")
    job_loss_rate: float = _p(
        0.06, 0.0, 0.5, "1/migrant-yr",
        "chance an employed migrant worker loses the job",
        "assumption: 0.08 (0.04-0.15) in COVID years [prior-shocks]; exited workers' employment "
        "stable 2021-24 [nrra-employment]")
    reemployment_rate: float = _p(
        0.2, 0.0, 1.0, "1/month",
        "chance a jobless migrant finds work again in a month (at full motivation)", "assumption")
    downturn_multiplier: float = _p(
        1.0, 1.0, 6.0, "x",
        "multiplier on migrant job loss during an economic downturn (divides re-employment)",
        "scenario lever; 1 = normal")
    downturn_wage_cut: float = _p(
        0.1, 0.0, 0.5, "share",
        "fall of local and migrant wages while a downturn lasts (multiplier above 1)",
        "assumption; migrant income grew only 2.8% in 2020 against 8.8% in 2021 [nbs-migrant]")
    disaster_rate: float = _p(
        0.15, 0.0, 1.0, "1/yr", "chance of a natural disaster in the county",
        "assumption: 0.15 [prior-shocks] (MEM: 3-6% of population affected a year [mem-disasters])")
    disaster_village_share: float = _p(
        0.2, 0.0, 1.0, "share", "villages hit by a disaster",
        "assumption: 0.2 of households [prior-shocks]")
    disaster_production_loss: float = _p(
        0.3, 0.0, 1.0, "share",
        "production income lost in hit villages while recovering",
        "assumption: 30% (10-60%) [prior-shocks]")
    disaster_months: int = _p(
        6, 1, 24, "months", "months of reduced production after a disaster",
        "assumption", integer=True)
    disaster_asset_loss: float = _p(
        0.25, 0.0, 2.0, "x annual production income",
        "one-off asset loss of a hit household", "assumption [prior-shocks]")
    housing_damage_share: float = _p(
        0.05, 0.0, 0.5, "share",
        "hit households whose house is damaged",
        "Henan 2021: 0.6% of affected households' houses collapsed, 5% damaged "
        "[henan-flood-2021]; [prior-disasters]")
    housing_repair: float = _p(
        30_000.0, 0.0, 200_000.0, "yuan (2021)",
        "cost of repairing a damaged house",
        "assumption: rural houses worth ≈4 years of income, vulnerability 0.3 "
        "[unbreakable-code], [hallegatte-2017]")
    schooling_cost: float = _p(
        6000.0, 0.0, 20_000.0, "yuan/student-yr",
        "cost of a child in non-compulsory schooling, paid each September",
        "assumption: 5,000-10,000 yuan/yr [prior-shocks]")



@dataclass(frozen=True, slots=True)
class Responsibility:
    """[responsibility] Responsibility mechanism: officials, coordination, social forces."""

    duty_performance: float = _p(
        0.55, 0.0, 1.0, "share",
        "share of planned screening visits actually made with a real assessment (lax duty)",
        "assumption; CCRS 2014: low household visit rates [ccrs-2014]",
        mechanism="responsibility", absent=0.0)
    coordination: float = _p(
        0.5, 0.0, 1.0, "share",
        "share of department data warnings that reach the responsible official in time",
        "assumption: 0.8 nationally [prior-monitoring]; M County weaker",
        mechanism="responsibility", absent=0.0)
    social_participation: float = _p(
        30.0, 0.0, 100.0, "partners/100 villages",
        "enterprises, NGOs and volunteer groups engaged (social forces)",
        "万企帮万村 88k firms/103k villages [acfic-wanqi]; Shenqiu 154/543 [shenqiu]",
        mechanism="responsibility", absent=0.0)
    caseload: float = _p(
        40.0, 10.0, 150.0, "households/official",
        "households each responsible official (帮扶责任人) looks after",
        "assumption; weekly assistance visit days [mengjin-2023]", mechanism="responsibility",
        stronger="low")
    visits_per_official: float = _p(
        16.0, 0.0, 60.0, "visits/month",
        "household visits an official can make in a month", "assumption; one visit day a week")
    detection_per_visit: float = _p(
        0.5, 0.0, 1.0, "probability",
        "chance a visit to an at-risk household recognises the risk",
        "assumption: 0.5 (0.2-0.8) [prior-monitoring]")
    first_secretary_visits: float = _p(
        2.0, 1.0, 4.0, "x",
        "visit capacity in villages with a resident first secretary",
        "first secretaries raise poor households' income (PSM-DID) [huang-wang-shang-2018]")
    partner_jobs: float = _p(
        10.0, 0.0, 50.0, "placements/partner-yr",
        "jobs a social partner offers monitored households",
        "Shenqiu: 154 firms, 3,000+ jobs [shenqiu]")
    partner_wage: float = _p(
        1500.0, 500.0, 4000.0, "yuan/month",
        "effective wage of a job found through a social partner", "assumption")
    placement_term: int = _p(
        24, 1, 120, "months", "length of a job a social partner places a worker in",
        "assumption", integer=True)
    mentoring: float = _p(
        0.02, 0.0, 0.1, "motivation/month",
        "motivation gain of an assisted household mentored by a social partner", "assumption")


@dataclass(frozen=True, slots=True)
class SocialSecurity:
    """[social_security] Social-security mechanism: coverage, support, follow-up."""

    coverage: float = _p(
        0.9, 0.0, 1.0, "share",
        "take-up of 低保 and medical assistance among the eligible (1 - exclusion error)",
        "calibrated: 20% of formerly poor people on 低保/特困 [scio-2020-doudi]; exclusion was "
        "large before the two lists were merged [golan-2017] [prior-social-security]",
        mechanism="social_security", absent=0.0)
    medical_assistance_rate: float = _p(
        0.6, 0.0, 0.9, "share",
        "medical assistance: share of the in-policy cost left after insurance that is refunded",
        "official: ≥70% for 低保/特困, 'slightly lower' for others [gov-2021-42]",
        mechanism="social_security", absent=0.0)
    oop_cap: float = _p(
        10_000.0, 1000.0, 100_000.0, "yuan/bill",
        "safety-net cap on a covered household's out-of-pocket cost of one bill (兜底)",
        "assumption; campaign-era caps on low-income patients' self-payment, relaxed in transition",
        mechanism="social_security", absent=100_000.0, stronger="low")
    dibao_standard: float = _p(
        5500.0, 0.0, 9000.0, "yuan/person-yr (2021)",
        "rural 低保 standard in 2021 (it then rises by dibao_growth a year)",
        "between the Henan floor, 377 yuan/month (4,524 a year) in 2021 and 420 in 2022 "
        "[henan-dibao-2022], and the national rural average 6,362 (2021) [mca-2021]",
        mechanism="social_security", absent=0.0)
    follow_up_months: int = _p(
        3, 0, 36, "months",
        "months support continues (and re-checks run) after risk elimination",
        "measures continue to contract end [fudaoke]; assumption for M County",
        integer=True, mechanism="social_security", absent=0)
    insurance_rate: float = _p(
        0.7, 0.0, 0.95, "share",
        "basic medical insurance reimbursement of in-policy inpatient cost",
        "≈70% (NHSA 2024) [nhsa-2024]")
    out_of_scope: float = _p(
        0.10, 0.0, 0.5, "share",
        "share of a bill outside the insurance catalogue",
        "assumption: 0.15 (0.10-0.25) [prior-social-security]; low end: catalogue controls for "
        "low-income patients")
    cii_deductible: float = _p(
        8000.0, 0.0, 30_000.0, "yuan",
        "critical illness insurance deductible (on cost left after basic insurance)",
        "≈0.5 x rural per-capita income for low-income groups [cii-2015] (the halving is "
        "recalled, not verified)")
    cii_rate: float = _p(
        0.6, 0.0, 0.9, "share", "critical illness insurance rate above it",
        "official: ≥50% [cii-2015]; 0.60 is our assumption [prior-social-security]")
    temporary_aid_cap: float = _p(
        5000.0, 0.0, 20_000.0, "yuan/event",
        "largest temporary assistance (临时救助) payment (paid only after a sudden event or a "
        "large necessary expense)",
        "assumption; often 6x monthly 低保 standard; scope as in [gov-2014-47]")
    temporary_aid_window: int = _p(
        6, 1, 24, "months",
        "temporary assistance answers a shock (bill, accident, disaster) at most this many "
        "months old",
        "assumption: 6 (3-12) months; temporary assistance is for a sudden event or a recent "
        "large necessary expense [gov-2014-47]", integer=True)
    public_welfare_wage: float = _p(
        500.0, 0.0, 2000.0, "yuan/month",
        "wage of a public-welfare job (公益岗位)", "assumption; typical 300-800 yuan")
    dibao_growth: float = _p(
        0.06, 0.0, 0.15, "1/yr", "yearly rise of the 低保 standard (each January)",
        "national rural standard +21.3% 2020-2025 [mca-2025]; Henan +11% in 2022 "
        "[henan-dibao-2022]")
    tekun_ratio: float = _p(
        # high 2.5: 特困 at 1.3 x the urban standard = 2.22 x Yunnan's rural one [yunnan-dibao-2020]
        1.3, 1.0, 2.5, "x 低保 standard",
        "特困 (extreme poverty) support per person relative to the 低保 standard",
        "official: at least 1.3 times [gov-2016-14], [mca-cgtn-2022]")
    dibao_supplement: float = _p(
        0.2, 0.0, 1.0, "x 低保 standard",
        "extra 低保 per elderly or disabled member (分类施保)",
        "assumption: provinces add 10-30% for such members [prior-dibao]")
    application_rate: float = _p(
        0.05, 0.0, 1.0, "1/month",
        "chance an eligible household applies for 低保 or 特困 on its own in a month (through "
        "the village committee, without the monitoring system); active discovery (主动发现) "
        "raises it", "assumption [prior-dibao]", mechanism="social_security", absent=0.0)
    approval_months: int = _p(
        1, 0, 3, "months", "months from application to the first payment",
        "30 working days, extendable to 45 [mca-2021-57]; 25 days in Zhengzhou [zhongyuan-2023]",
        integer=True)
    review_months: int = _p(
        6, 1, 24, "months",
        "months between reviews of a 低保 household with working-age members",
        "every 6 months for households with labour; yearly for stable ones [mca-2021-57]",
        integer=True)
    review_months_stable: int = _p(
        12, 1, 36, "months",
        "months between reviews of a 低保 household without labour capacity",
        "yearly [mca-2021-57]", integer=True)
    gradual_exit_months: int = _p(
        6, 0, 24, "months",
        "months a household keeps 低保 after its income rises above the exit line (渐退)",
        "up to 6 months [social-assistance-2020]; [prior-dibao]", integer=True)
    asset_limit_months: float = _p(
        24.0, 0.0, 120.0, "months of the 低保 standard",
        "savings above this make a household ineligible for 低保 (asset test)",
        "assumption; provinces cap deposits at 1-3 years of the standard [mca-2021-57]")
    disaster_relief: float = _p(
        0.5, 0.0, 1.0, "share", "share of a house's repair cost paid by disaster relief (救灾)",
        "assumption; Hebei reported no disaster-induced return in 2021 [prior-disasters]")
    public_welfare_term: int = _p(
        12, 1, 60, "months", "length of a public-welfare post (公益岗位) before it is re-let",
        "posts are usually one-year contracts [public-welfare-posts]; assumption", integer=True)
    education_grant: float = _p(
        3000.0, 0.0, 10_000.0, "yuan/student-yr",
        "雨露计划 grant per student of a formerly poor or monitored household",
        "official: 3,000 yuan/yr [yulu-plan]")


@dataclass(frozen=True, slots=True)
class Industry:
    """[industry] Industry mechanism: positioning, risk resistance, management, linkage."""

    positioning: float = _p(
        0.45, 0.0, 1.0, "score 0-1",
        "market fit of the chosen industries (margin, exposure to sector shocks)",
        "assumption; blind launches and idle assets [banyuetan-idle] [county-audits]",
        mechanism="industry", absent=0.0)
    risk_resistance: float = _p(
        0.4, 0.0, 1.0, "share",
        "share of operating losses covered by insurance and diversification",
        "special insurance covered 70% (2022) [hk01-2023]; M County weaker",
        mechanism="industry", absent=0.0)
    management: float = _p(
        0.35, 0.0, 1.0, "score 0-1",
        "follow-up management: upkeep and technical support of struggling projects",
        "assumption; idle 'half-dead' assets [banyuetan-idle]", mechanism="industry", absent=0.0)
    linkage_share: float = _p(
        0.5, 0.0, 1.0, "share",
        "formerly poor households with a benefit linkage (利益联结) to a project",
        "~3/4 nationally [mara-2025]; M County weaker", mechanism="industry", absent=0.0)
    dividend: float = _p(
        800.0, 0.0, 3000.0, "yuan/linked household-yr",
        "dividend of an operating project to each linked household",
        "assumption: 800 (300-2,000) [prior-industry]", mechanism="industry", absent=0.0)
    job_share: float = _p(
        0.3, 0.0, 1.0, "share",
        "linked households with a member employed by the project", "assumption")
    wage: float = _p(
        1000.0, 0.0, 4000.0, "yuan/month", "effective wage of a project job",
        "assumption")
    margin_fit: float = _p(
        0.03, -0.1, 0.3, "share of revenue/month",
        "monthly operating margin of a well-positioned project", "assumption")
    margin_misfit: float = _p(
        -0.12, -0.3, 0.1, "share of revenue/month",
        "monthly operating margin of a badly positioned project", "assumption")
    market_volatility: float = _p(
        0.25, 0.0, 0.6, "sd/month",
        "sector market shock (planting, breeding, processing, tourism, e-commerce)", "assumption")
    project_volatility: float = _p(
        0.12, 0.0, 0.5, "sd/month", "project-specific shock",
        "assumption")
    initial_buffer: float = _p(
        1.0, 0.0, 12.0, "months of revenue",
        "mean reserve a project starts with (uniform ±50%)", "assumption")
    reserve_cap: float = _p(
        1.5, 0.1, 24.0, "months of revenue",
        "reserve kept; surpluses above it are distributed",
        "calibrated: ~5% of projects fail a year at M County knobs (prior 3-20% [prior-industry])")
    failure_hazard: float = _p(
        0.12, 0.0, 1.0, "1/month",
        "chance a struggling project fails when unmanaged",
        "assumption: ~8% of projects fail a year (0.03-0.20) [prior-industry]")
    revival_rate: float = _p(
        0.15, 0.0, 1.0, "1/month",
        "chance a struggling project is revived at full management", "assumption")
    restructure_months: float = _p(
        24.0, 3.0, 120.0, "months",
        "mean months until a failed project is restructured or replaced (at full management; "
        "half as fast at none)",
        "idle project assets a known problem [banyuetan-idle], [county-audits]; assumption")
    production_support: float = _p(
        3000.0, 0.0, 20_000.0, "yuan/household",
        "industry award grant (产业奖补) to an assisted household", "assumption")


@dataclass(frozen=True, slots=True)
class Motivation:
    """[motivation] Endogenous-motivation mechanism: guidance, training, dependency."""

    guidance: float = _p(
        0.4, 0.0, 1.0, "share",
        "substance of propaganda and guidance, versus formality",
        "assumption; Zhou, Chen & Qiu 2022 [zhou-chen-qiu-2022]", mechanism="motivation",
        absent=0.0)
    training_practicality: float = _p(
        0.05, 0.0, 0.3, "wage gain",
        "earnings gain of a trained worker", "+18.3% ATE (Yunnan) [xie-li-2013]; M County "
        "impractical",
        mechanism="motivation", absent=0.0)
    training_participation: float = _p(
        0.15, 0.0, 0.6, "share/yr",
        "yearly training take-up in formerly poor and monitored working households",
        "26.4% (Yunnan) [xie-li-2013]", mechanism="motivation", absent=0.0)
    dependency_drop: float = _p(
        0.4, 0.0, 1.0, "1/yr",
        "chance a dependent household drops the mindset under full guidance", "assumption")
    dependency_gain: float = _p(
        0.1, 0.0, 1.0, "1/yr",
        "chance a transfer-dependent household acquires the mindset without guidance",
        "低保 lowers work when the amount is high (Han Huawei) [han-huawei]")
    dependency_effect: float = _p(
        0.5, 0.0, 1.0, "share",
        "reduction of job search, self-report and training take-up under dependency", "assumption")


@dataclass(frozen=True, slots=True)
class Monitoring:
    """[monitoring] The dynamic monitoring and assistance procedure."""

    self_report_rate: float = _p(
        0.15, 0.0, 1.0, "1/month",
        "chance an at-risk household applies in a month, at full motivation",
        "assumption: 0.15 [prior-monitoring]")
    data_recall: float = _p(
        0.6, 0.0, 1.0, "probability",
        "share of traced events (hospital bills, disasters, job loss) flagged by departments",
        "assumption: 0.6 (0.3-0.9) [prior-monitoring]")
    lag_days: int = _p(
        15, 0, 120, "days", "time from identification to assistance",
        "official: within 15 days since 2022 [scio-2023]", integer=True)
    low_income_recall: float = _p(
        0.0, 0.0, 1.0, "1/month",
        "chance a month that the unified low-income platform flags a household below "
        "low_income_band x the 低保 standard (0 before the 2026 normalized regime)",
        "2026 No. 1 Document: identification unified with social-assistance low-income "
        "monitoring [no1-2026], [mca-platform-2023]; baseline sets 0.3 from 2026-01")
    low_income_band: float = _p(
        1.5, 1.0, 3.0, "x 低保 standard",
        "income below which the low-income platform counts a household (低保边缘)",
        "official: 1.5 x the 低保 standard [mca-2023]")
    alert_band: float = _p(
        1.2, 1.0, 2.0, "x monitoring line",
        "per-capita income below which a household counts as unstable (at risk)",
        "income below the line 'or unstable' [feixian-guide]; 八必访 [babifang-2024]")
    severe_shock_share: float = _p(
        0.75, 0.05, 1.0, "share of 12-month income",
        "a one-month shock cost above this is a sudden severe difficulty",
        "category 3, sudden severe difficulty [feixian-guide]; calibrated: illness 40-50% of "
        "risk causes [prior-causes]")
    alert_months: int = _p(
        3, 1, 12, "months",
        "months a shock stays traceable and keeps a household at risk", "assumption", integer=True)
    spell_months: int = _p(
        6, 1, 24, "months",
        "months above the line after which a new fall counts as a return (shorter exits continue "
        "the same poverty spell)", "the official 'stable for half a year' rule [zongyang-rule]",
        integer=True)
    elimination_months: int = _p(
        6, 1, 24, "months",
        "months above the line before risk can be eliminated", "official: ≥ half a year "
        "[zongyang-rule]",
        integer=True)
    elimination_hazard: float = _p(
        0.45, 0.0, 1.0, "1/month",
        "chance a household meeting the criteria is verified as risk-eliminated in a month",
        "assumption: 0.25 (0.1-0.5) [prior-monitoring]; calibrated: 55-70% of the monitored "
        "risk-eliminated [mara-2023] [mara-2024]")
    recheck_rate: float = _p(
        0.5, 0.0, 1.0, "1/month",
        "chance a follow-up re-check finds renewed risk of a risk-eliminated household",
        "assumption")


@dataclass(frozen=True, slots=True)
class Costs:
    """[costs] Unit costs of the mechanisms (fiscal cost)."""

    official_year: float = _p(
        12_000.0, 0.0, 100_000.0, "yuan/official-yr",
        "allowances and supervision of a responsible official at full duty", "assumption")
    coordination_year: float = _p(
        3_000_000.0, 0.0, 20_000_000.0, "yuan/yr",
        "county data platform and joint response at full coordination", "assumption")
    partner_year: float = _p(
        50_000.0, 0.0, 500_000.0, "yuan/partner-yr",
        "incentives and liaison per engaged social partner", "assumption")
    insurance_year: float = _p(
        40_000.0, 0.0, 500_000.0, "yuan/project-yr",
        "premium subsidy per project at full risk resistance", "assumption")
    management_year: float = _p(
        60_000.0, 0.0, 500_000.0, "yuan/project-yr",
        "follow-up management (technicians, upkeep) per project at full management", "assumption")
    positioning_year: float = _p(
        20_000.0, 0.0, 500_000.0, "yuan/project-yr",
        "market research and adjustment per project at full positioning", "assumption")
    linkage_year: float = _p(
        200.0, 0.0, 2000.0, "yuan/linked household-yr",
        "award to enterprises per linked household", "assumption")
    restructure: float = _p(
        300_000.0, 0.0, 5_000_000.0, "yuan/project",
        "cost of restructuring or replacing a failed project (county industry funds)",
        "assumption")
    training: float = _p(
        2000.0, 0.0, 10_000.0, "yuan/trainee", "cost of one vocational training",
        "assumption")
    guidance_village_year: float = _p(
        30_000.0, 0.0, 300_000.0, "yuan/village-yr",
        "guidance activities per village at full substance", "assumption")


@dataclass(frozen=True, slots=True)
class Knobs:
    """Every number of the model in force, by section (`p.shocks.hospitalisation_rate`):
    typed, so a misspelt name is a type error. Built from scenario values by `as_namespace`."""

    run: Run
    county: County
    sample: Sample
    population: Population
    income: Income
    policy: Policy
    demography: Demography
    shocks: Shocks
    responsibility: Responsibility
    social_security: SocialSecurity
    industry: Industry
    motivation: Motivation
    monitoring: Monitoring
    costs: Costs


SECTION_TYPES: Final[dict[str, type]] = get_type_hints(Knobs)
"""Section name -> its dataclass, in schema order."""


def _collect() -> dict[str, Param]:
    schema: dict[str, Param] = {}
    for section, cls in SECTION_TYPES.items():
        for f in fields(cls):
            default, low, high, unit, doc, source, integer, mechanism, absent, stronger = \
                f.metadata["param"]
            key = f"{section}.{f.name}"
            schema[key] = Param(key, default, low, high, unit, doc, source, integer,
                                mechanism, absent, stronger)
    return schema


SCHEMA: Final = MappingProxyType(_collect())
SECTIONS: Final = tuple(SECTION_TYPES)
KNOBS: Final = tuple(p for p in SCHEMA.values() if p.is_knob)


def defaults() -> dict[str, float]:
    """All keys at their M County status-quo value."""
    return {k: p.default for k, p in SCHEMA.items()}


def as_namespace(values: Mapping[str, float]) -> Knobs:
    """Scenario values (dotted keys) as typed sections: `p.section.name`."""
    return Knobs(**{section: cls(**{f.name: values[f"{section}.{f.name}"]
                                    for f in fields(cls)})
                    for section, cls in SECTION_TYPES.items()})
