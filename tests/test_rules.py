"""Each rule with exact numbers, and the same numbers from its compiled twin (the array
engine's): Python and numba must agree to the last bit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import knobs

from simulation.model import compiled, rules
from simulation.model.codes import (
    ACCIDENT,
    DISABILITY,
    ILLNESS,
    JOB_LOSS,
    JOBLESS,
    LOCAL,
    LOW_INCOME,
    MIGRANT,
    NO_CAP,
    NONE,
    PLACEMENT,
    PROJECT_JOB,
    SCHOOLING,
    STUDENT,
    WELFARE_POST,
)
from simulation.model.compiled import record
from simulation.model.lifetable import FERTILITY, MORTALITY

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(0.0, 1e6, allow_nan=False)
unit = st.floats(0.0, 0.999999)


def test_selections_are_exact() -> None:
    assert rules.positive_part(-3.5) == 0.0
    assert rules.positive_part(2.25) == 2.25
    assert rules.minimum(0.1, 0.3) == 0.1
    assert rules.minimum(0.3, 0.1) == 0.1
    assert rules.cap_if(True, 6000.0) == 6000.0 and rules.cap_if(False, 6000.0) == NO_CAP


# ----------------------------------------------------------------------------- people
def test_life_table_lookups() -> None:
    assert rules.age_band(0) == 0 and rules.age_band(64) == 12 and rules.age_band(117) == 20
    assert rules.death_probability(67, 0, 1.0) == MORTALITY[0][13]
    assert rules.death_probability(67, 1, 1.12) == MORTALITY[1][13] * 1.12
    assert rules.death_probability(104, 0, 5.0) == 1.0  # never above 1
    assert rules.birth_probability(27, 1.2) == FERTILITY[5] * 1.2
    assert rules.birth_probability(55, 1.2) == 0.0


def test_a_sixteen_year_old_goes_to_school_or_to_work() -> None:
    # continuation 0.6; of the rest, a share migrate_rate = 0.25 migrates
    assert rules.school_or_work(0.59, 0.6, 0.25) == STUDENT
    assert rules.school_or_work(0.65, 0.6, 0.25) == MIGRANT  # 0.6 + 0.4 * 0.25 = 0.7
    assert rules.school_or_work(0.71, 0.6, 0.25) == LOCAL


def test_retirement_by_age() -> None:
    p = knobs(demography__retirement_60=0.04, demography__retirement_70=0.12,
              demography__retirement_80=0.4)
    assert [rules.retirement_probability(p, a) for a in (59, 60, 75, 85)] == [0.0, 0.04, 0.12,
                                                                              0.4]


def test_roles_and_wages() -> None:
    assert [rules.works(r) for r in (NONE, STUDENT, LOCAL, MIGRANT, JOBLESS)] == [
        False, False, True, True, True]
    assert rules.market_wage(LOCAL, 900.0, 2000.0, 270.0) == 900.0
    assert rules.market_wage(MIGRANT, 900.0, 2000.0, 270.0) == 2000.0
    assert rules.market_wage(JOBLESS, 900.0, 2000.0, 270.0) == 270.0
    assert rules.market_wage(STUDENT, 900.0, 2000.0, 270.0) == 0.0
    p = knobs(responsibility__partner_wage=1500.0, social_security__public_welfare_wage=500.0,
              industry__wage=1000.0)
    assert [rules.job_wage(p, k) for k in (PLACEMENT, WELFARE_POST, PROJECT_JOB, 0)] == [
        1500.0, 500.0, 1000.0, 0.0]


# ----------------------------------------------------------------------------- earnings
def test_earnings_ar1_and_floor() -> None:
    dev = rules.earnings_deviation(0.1, 1.0, 0.9, 0.05)
    assert dev == 0.9 * 0.1 + 0.05 * 1.0
    assert rules.market_earnings(2000.0, dev, 1.1) == 2000.0 * (1.1 * (1.0 + dev))
    assert rules.market_earnings(2000.0, -2.0, 1.0) == 0.0  # never negative


# ----------------------------------------------------------------------------- shocks
def test_truncated_pareto_bounds_and_median() -> None:
    assert rules.truncated_pareto(0.0, 2000.0, 200_000.0) == 2000.0
    assert math.isclose(rules.truncated_pareto(1.0, 2000.0, 200_000.0), 200_000.0)
    x = rules.truncated_pareto(0.5, 2000.0, 200_000.0)
    assert math.isclose((2000 / x - 0.01) / 0.99, 0.5)


_OOP = {"social_security__out_of_scope": 0.1, "social_security__insurance_rate": 0.7,
        "social_security__cii_deductible": 8000.0, "social_security__cii_rate": 0.6,
        "social_security__medical_assistance_rate": 0.6}


def test_out_of_pocket_three_tiers_and_cap() -> None:
    # 50,000 bill: 10% out of scope; basic insurance pays 70% of 45,000 -> 13,500 left;
    # CII pays 60% above 8,000 -> 13,500 - 3,300 = 10,200; assistance 60% -> 4,080 left
    p = knobs(**{**_OOP, "social_security__oop_cap": 1e9})
    oop, aid = rules.out_of_pocket(p, 50_000.0, True, 1.0)
    assert math.isclose(oop, 5000.0 + 10_200.0 - 6120.0)
    assert math.isclose(aid, 6120.0)
    # the safety-net cap moves the excess to medical assistance
    capped, aid2 = rules.out_of_pocket(knobs(**{**_OOP, "social_security__oop_cap": 6000.0}),
                                       50_000.0, True, 1.0)
    assert capped == 6000.0 and math.isclose(aid2, aid + oop - 6000.0)
    # a household not covered: no assistance, no cap
    oop0, aid0 = rules.out_of_pocket(p, 50_000.0, False, 1.0)
    assert aid0 == 0.0 and math.isclose(oop0, 15_200.0)
    # medical prices 10% higher: the deductible moves with them
    oop_i, _ = rules.out_of_pocket(p, 55_000.0, False, 1.1)
    assert math.isclose(oop_i, 1.1 * oop0)


def test_job_transitions_slices() -> None:
    # 2 employed migrants, monthly loss chance 0.01 each: lose below 0.02
    assert rules.job_transitions(0.019, 2, 1, 0.01, 0.2) == (True, False)
    assert rules.job_transitions(0.5, 2, 1, 0.01, 0.2) == (False, False)
    assert rules.job_transitions(0.85, 2, 1, 0.01, 0.2) == (False, True)
    assert rules.job_transitions(0.85, 2, 0, 0.01, 0.2) == (False, False)


def test_reemployment_falls_in_a_downturn() -> None:
    p = knobs(shocks__reemployment_rate=0.2, motivation__dependency_effect=0.5)
    assert rules.reemployment_probability(p, 1.0, False) == 0.2
    assert rules.reemployment_probability(p, 0.0, True) == 0.2 * 0.5 * 0.5
    slow = knobs(shocks__reemployment_rate=0.2, shocks__downturn_multiplier=2.0)
    assert rules.reemployment_probability(slow, 1.0, False) == 0.1


# ----------------------------------------------------------------------------- the books
def test_rigid_costs_from_savings_income_credit() -> None:
    # 10,000 cost: 3,000 savings, 2,000 surplus, credit room 4,000 of 5,000 -> 1,000 unmet
    assert rules.pay_rigid(10_000.0, 3000.0, 2000.0, 1000.0, 5000.0) == (3000.0, 2000.0,
                                                                         4000.0, 1000.0)
    assert rules.pay_rigid(500.0, 3000.0, 2000.0, 0.0, 5000.0) == (500.0, 0.0, 0.0, 0.0)


def test_buffers_settle_at_the_target() -> None:
    p = knobs(income__savings_rate=0.3, income__repayment_share=0.5,
              income__savings_drawdown=0.1)
    # below target: repay half the surplus, save 30% of the rest
    assert rules.buffers(p, 1000.0, 600.0, 1000.0, 5000.0) == (1000.0 + 0.3 * 500.0, 100.0)
    # above target: save nothing, consume a tenth of the excess
    assert rules.buffers(p, 9000.0, 0.0, 1000.0, 5000.0) == (9000.0 - 400.0, 0.0)


def test_window() -> None:
    assert rules.window(12_000.0, 1000.0, 1500.0) == 12_500.0


# ----------------------------------------------------------------------------- programmes
def test_means_test_and_benefits() -> None:
    p = knobs(social_security__asset_limit_months=24.0, social_security__dibao_supplement=0.2,
              social_security__tekun_ratio=1.3)
    standard = 6000.0
    assert rules.dibao_eligible(p, 4000.0, 10_000.0, 2, standard)
    assert not rules.dibao_eligible(p, 6000.0, 0.0, 2, standard)  # income at the standard
    assert not rules.dibao_eligible(p, 4000.0, 24_001.0, 2, standard)  # savings above 2 years
    # gap 2,000 for 3 members, one frail member: (3 x 2,000 + 0.2 x 6,000) / 12
    assert rules.dibao_benefit(p, 4000.0, 3, 1, standard) == (6000.0 + 1200.0) / 12.0
    assert rules.tekun_benefit(p, 2, standard) == 2 * 1.3 * 6000.0 / 12.0
    assert rules.tekun_eligible(0, 0, True) and not rules.tekun_eligible(0, 1, True)
    assert not rules.tekun_eligible(0, 0, False)  # children support them
    assert not rules.tekun_eligible(1, 0, True)
    assert rules.own_income(9000.0, 500.0, 0.0, 2) == 9000.0 - 3000.0
    assert rules.own_income(9000.0, 500.0, 250.0, 2) == 9000.0 - 4500.0


def test_leaving_dibao() -> None:
    assert rules.leaves_dibao(7000.0, 6000.0, 30, -1, 0)
    assert not rules.leaves_dibao(7000.0, 6000.0, 30, 31, 0)  # follow-up not over
    assert not rules.leaves_dibao(7000.0, 6000.0, 30, -1, 2)  # being assisted
    assert not rules.leaves_dibao(5000.0, 6000.0, 30, -1, 0)


# ----------------------------------------------------------------------------- monitoring
def test_detection_probabilities() -> None:
    p = knobs(monitoring__self_report_rate=0.15, motivation__dependency_effect=0.5)
    assert rules.self_report_probability(p, 0.6, False) == 0.15 * 0.6
    assert rules.self_report_probability(p, 0.6, True) == 0.15 * 0.6 * 0.5
    assert rules.screening_probability(0.5, 16.0, 40.0, 0.5) == 0.5 * 0.4 * 0.5
    assert rules.screening_probability(1.0, 80.0, 40.0, 0.5) == 0.5  # at most a visit a month
    assert rules.warning_probability(0.6, 0.5, True) == 0.3
    assert rules.warning_probability(0.6, 0.5, False) == 0.0


def test_risk_scope_and_elimination() -> None:
    assert rules.at_risk(6500.0, 7200.0, 8000.0, 6000.0, False)  # below the alert line
    assert rules.at_risk(8000.0, 7200.0, 5000.0, 6000.0, False)  # rigid costs
    assert rules.at_risk(8000.0, 7200.0, 8000.0, 6000.0, True)  # a severe shock
    assert not rules.at_risk(8000.0, 7200.0, 8000.0, 6000.0, False)
    assert rules.elimination_eligible(1, True, True, 20, 15, 6, 10)
    assert not rules.elimination_eligible(0, True, True, 20, 15, 6, 10)  # 兜底: stays
    assert rules.elimination_eligible(0, False, True, 20, 15, 6, 10)  # no labour, no 兜底
    assert not rules.elimination_eligible(1, True, True, 19, 15, 6, 10)  # 5 months only
    assert not rules.elimination_eligible(1, True, True, 20, 15, 6, 21)  # a recent shock


def test_primary_cause_ledger() -> None:
    losses = [100.0, 5000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert rules.primary_cause(losses, 1.0, 1000.0, 0, 0, 1) == DISABILITY
    assert rules.primary_cause(losses, 0.1, 1000.0, 0, 1, 1) == ILLNESS  # standing condition
    assert rules.primary_cause(losses, 0.1, 1000.0, 1, 1, 1) == DISABILITY
    assert rules.primary_cause(losses, 0.1, 1000.0, 0, 0, 1) == LOW_INCOME
    assert rules.primary_cause(losses, 0.1, 1000.0, 0, 1, 0) == LOW_INCOME  # 缺劳力


def test_matched_measures() -> None:
    assert rules.matched_measures(ILLNESS, 0) == (True, False, False, False, True)
    assert rules.matched_measures(JOB_LOSS, 2) == (False, True, False, False, False)
    assert rules.matched_measures(ACCIDENT, 1) == (False, False, True, False, True)
    assert rules.matched_measures(SCHOOLING, 1) == (False, False, True, True, False)
    assert rules.matched_measures(DISABILITY, 1) == (True, False, True, False, False)


def test_emergency_aid_is_indexed() -> None:
    p = knobs(social_security__temporary_aid_cap=5000.0)
    assert rules.emergency_aid(p, 5000.0, 6000.0, 3, 4000.0, 1.0) == 5000.0
    assert rules.emergency_aid(p, 5800.0, 6000.0, 3, 1000.0, 1.0) == 1100.0
    assert rules.emergency_aid(p, 5000.0, 6000.0, 3, 6000.0, 1.0) == 5000.0
    assert rules.emergency_aid(p, 5000.0, 6000.0, 3, 6000.0, 1.1) == 5000.0 * 1.1


# ----------------------------------------------------------------------------- industry
def test_industry_transition() -> None:
    p = knobs(industry__failure_hazard=0.2, industry__management=0.5,
              industry__revival_rate=0.2, industry__initial_buffer=2.0,
              industry__restructure_months=24.0)
    assert rules.industry_transition(p, 0, 1.0, 0.5) == (0, 1.0)  # healthy
    assert rules.industry_transition(p, 0, -0.5, 0.05) == (2, -0.5)  # fails: 0.05 < 0.1
    assert rules.industry_transition(p, 1, -0.5, 0.95) == (0, 1.0)  # revived: >= 1 - 0.1
    assert rules.industry_transition(p, 1, -0.5, 0.5) == (1, -0.5)  # still struggling
    # restructured after 24 months on average at full management (0.75 / 24 at half)
    assert rules.industry_transition(p, 2, -3.0, 1.0 - 0.75 / 24.0) == (0, 1.0)
    assert rules.industry_transition(p, 2, -3.0, 0.5) == (2, -3.0)


def test_update_reserve_insurance_and_cap() -> None:
    p = knobs(industry__risk_resistance=0.5, industry__reserve_cap=1.5)
    assert rules.update_reserve(p, 1.0, -0.2) == 1.0 - 0.1
    assert rules.update_reserve(p, 1.4, 0.3) == 1.5


# ----------------------------------------------------------------------------- motivation
def test_dependency_and_motivation() -> None:
    assert not rules.dependency_update(True, 0.1, 0.2, 0.1, False)  # guidance dissolves it
    assert rules.dependency_update(True, 0.5, 0.2, 0.1, True)
    assert rules.dependency_update(False, 0.95, 0.2, 0.1, True)  # transfers breed it
    assert not rules.dependency_update(False, 0.95, 0.2, 0.1, False)
    assert rules.motivation_gain(0.5, 0.1) == 0.55
    assert rules.skill_after_training(1.0, True, 0.1) == 1.1
    assert rules.skill_after_training(1.0, False, 0.1) == 1.0


# ----------------------------------------------------------------------------- compiled twins
@settings(max_examples=60, deadline=None)
@given(dev=finite, z=finite, base=positive, trend=st.floats(0.5, 3.0), u=unit,
       cost=positive, savings=positive, surplus=positive, debt=positive, limit=positive,
       pc=positive, members=st.integers(1, 6), bill=positive, covered=st.booleans(),
       index=st.floats(1.0, 2.0), age=st.integers(0, 110), sex=st.integers(0, 1))
def test_compiled_twins_give_the_same_bits(dev: float, z: float, base: float, trend: float,
                                           u: float, cost: float, savings: float,
                                           surplus: float, debt: float, limit: float,
                                           pc: float, members: int, bill: float,
                                           covered: bool, index: float, age: int,
                                           sex: int) -> None:
    """The array engine calls the compiled twin of every rule: it must return the very same
    numbers as the Python function the agents engine calls."""
    p = knobs()
    rp = record(p)
    cases = [
        ("earnings_deviation", (dev, z, 0.9, 0.05), (dev, z, 0.9, 0.05)),
        ("market_earnings", (base, dev / 1e6, trend), (base, dev / 1e6, trend)),
        ("pay_rigid", (cost, savings, surplus, debt, limit),
         (cost, savings, surplus, debt, limit)),
        ("buffers", (p, savings, debt, surplus, limit), (rp, savings, debt, surplus, limit)),
        ("out_of_pocket", (p, bill, covered, index), (rp, bill, covered, index)),
        ("dibao_benefit", (p, pc, members, 1, 6000.0), (rp, pc, members, 1, 6000.0)),
        ("death_probability", (age, sex, 1.12), (age, sex, 1.12)),
        ("birth_probability", (age, 1.2), (age, 1.2)),
        ("hospitalisation_weight", (age, covered, 1.8), (age, covered, 1.8)),
        ("emergency_aid", (p, pc, 6000.0, members, cost, index),
         (rp, pc, 6000.0, members, cost, index)),
        ("truncated_pareto", (u, 2000.0, 200_000.0), (u, 2000.0, 200_000.0)),
        ("industry_margin", (p, z / 1e6, dev / 1e6), (rp, z / 1e6, dev / 1e6)),
    ]
    for name, py_args, nb_args in cases:
        expected = getattr(rules, name)(*py_args)
        got = getattr(compiled, name)(*nb_args)
        assert got == expected or (got != got and expected != expected), name


@pytest.mark.parametrize("annual", [0.0, 0.01, 0.14, 0.5])
def test_monthly_chance_compounds_to_annual(annual: float) -> None:
    from simulation.model.context import monthly_chance

    assert math.isclose(1.0 - (1.0 - monthly_chance(annual)) ** 12, annual, abs_tol=1e-12)


def test_assisted_job_only_taken_where_it_pays_more() -> None:
    p = knobs(social_security__public_welfare_wage=500.0)
    assert rules.takes_job(p, WELFARE_POST, JOBLESS, 2000.0, 1.0)
    assert rules.takes_job(p, WELFARE_POST, LOCAL, 2000.0, 0.2)  # earns 400 a month
    assert not rules.takes_job(p, WELFARE_POST, LOCAL, 2000.0, 0.3)  # earns 600
    assert not rules.takes_job(p, WELFARE_POST, MIGRANT, 2000.0, 0.1)


def test_temporary_assistance_only_after_a_shock() -> None:
    p = knobs(social_security__temporary_aid_cap=5000.0)
    assert rules.emergency_aid(p, 5000.0, 6000.0, 3, 0.0, 1.0) == 0.0
    assert rules.emergency_aid(p, 5000.0, 6000.0, 3, 200.0, 1.0) == 3100.0


def test_temporary_assistance_only_for_a_recent_shock() -> None:
    """A shock older than the window (6 months by default) is no ground for temporary aid."""
    p = knobs(social_security__temporary_aid_window=6)
    assert rules.recent_shock_cost(p, 900.0, 10, 15) == 900.0  # 5 months ago
    assert rules.recent_shock_cost(p, 900.0, 10, 16) == 0.0  # 6 months ago
    assert rules.recent_shock_cost(knobs(social_security__temporary_aid_window=12),
                                   900.0, 10, 16) == 900.0
