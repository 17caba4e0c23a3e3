"""Each rule with exact numbers, and the same numbers on floats and on arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import knobs

from simulation.model import rules
from simulation.model.codes import ACCIDENT, DISABILITY, ILLNESS, JOB_LOSS, LOW_INCOME, SCHOOLING

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(0.0, 1e6, allow_nan=False)
unit = st.floats(0.0, 0.999999)


def test_selections_are_exact() -> None:
    assert rules.positive_part(-3.5) == 0.0
    assert rules.positive_part(2.25) == 2.25
    assert rules.minimum(0.1, 0.3) == 0.1
    assert rules.minimum(0.3, 0.1) == 0.1
    assert np.array_equal(rules.minimum(np.array([0.1, 0.3]), np.array([0.3, 0.1])),
                          np.array([0.1, 0.1]))


def test_earnings_ar1_and_floors() -> None:
    dev, wages, production = rules.earnings(dev=0.1, z=1.0, persistence=0.9, innovation_sd=0.05,
                                            wage_base_=2000.0, production_base=700.0, trend=1.1,
                                            disaster_loss=0.3)
    assert dev == 0.9 * 0.1 + 0.05 * 1.0
    level = 1.1 * (1.0 + dev)
    assert wages == 2000.0 * level
    assert production == 700.0 * level * (1.0 - 0.3)
    # a deviation below -1 cannot make earnings negative
    _, wages, production = rules.earnings(dev=-2.0, z=0.0, persistence=1.0, innovation_sd=0.0,
                                          wage_base_=2000.0, production_base=700.0, trend=1.0,
                                          disaster_loss=0.0)
    assert wages == 0.0 and production == 0.0
    # rho = 1, sigma = 0 keeps the deviation (used to build the initial window)
    assert rules.earnings(dev=0.123, z=5.0, persistence=1.0, innovation_sd=0.0, wage_base_=1.0,
                          production_base=1.0, trend=1.0, disaster_loss=0.0)[0] == 0.123


def test_wage_base() -> None:
    # 1 local worker, 1 employed migrant, 1 jobless migrant, skill 1.5
    assert rules.wage_base(local=1, employed=1, unemployed=1, local_wage=900.0, migrant_wage=2000.0,
                           fallback_wage=270.0, skill=1.5) == (900 + 2000 + 270) * 1.5


def test_shock_kinds_partition_one_uniform() -> None:
    p_ill, p_acc, p_dis = 0.05, 0.01, 0.02
    assert rules.shock_kinds(0.049, p_ill, p_acc, p_dis, 2) == (True, False, False)
    assert rules.shock_kinds(0.055, p_ill, p_acc, p_dis, 2) == (False, True, False)
    assert rules.shock_kinds(0.07, p_ill, p_acc, p_dis, 2) == (False, False, True)
    assert rules.shock_kinds(0.07, p_ill, p_acc, p_dis, 0) == (False, False, False)
    assert rules.shock_kinds(0.09, p_ill, p_acc, p_dis, 2) == (False, False, False)


def test_truncated_pareto_bounds_and_median() -> None:
    assert rules.truncated_pareto(0.0, 2000.0, 200_000.0) == 2000.0
    assert math.isclose(rules.truncated_pareto(1.0, 2000.0, 200_000.0), 200_000.0)
    # alpha = 1: P(bill > x) = (low/x - low/high) / (1 - low/high)
    x = rules.truncated_pareto(0.5, 2000.0, 200_000.0)
    assert math.isclose((2000 / x - 0.01) / 0.99, 0.5)


_OOP = {"social_security__out_of_scope": 0.1, "social_security__insurance_rate": 0.7,
        "social_security__cii_deductible": 8000.0, "social_security__cii_rate": 0.6,
        "social_security__medical_assistance_rate": 0.6}


def test_out_of_pocket_three_tiers_and_cap() -> None:
    # 50,000 bill: 10% out of scope; basic insurance pays 70% of 45,000 -> 13,500 left;
    # CII pays 60% above 8,000 -> 13,500 - 3,300 = 10,200; assistance 60% -> 4,080 left
    p = knobs(**{**_OOP, "social_security__oop_cap": 1e9})
    oop, aid = rules.out_of_pocket(p, 50_000.0, True)
    assert math.isclose(oop, 5000.0 + 10_200.0 - 6120.0)
    assert math.isclose(aid, 6120.0)
    # the safety-net cap moves the excess to medical assistance
    capped, aid2 = rules.out_of_pocket(knobs(**{**_OOP, "social_security__oop_cap": 6000.0}),
                                       50_000.0, True)
    assert capped == 6000.0 and math.isclose(aid2, aid + oop - 6000.0)
    # a household not covered: no assistance, no cap; out of pocket = out of scope + after CII
    oop0, aid0 = rules.out_of_pocket(p, 50_000.0, False)
    assert aid0 == 0.0 and math.isclose(oop0, 15_200.0)


def test_job_transitions_slices() -> None:
    # 2 employed migrants, monthly loss chance 0.01 each: lose below 0.02
    assert rules.job_transitions(0.019, 2, 1, 0.01, 0.2) == (True, False)
    assert rules.job_transitions(0.5, 2, 1, 0.01, 0.2) == (False, False)
    assert rules.job_transitions(0.85, 2, 1, 0.01, 0.2) == (False, True)
    assert rules.job_transitions(0.85, 2, 0, 0.01, 0.2) == (False, False)


def test_dibao_gap_filling() -> None:
    assert rules.dibao_gap(5100.0, 3100.0) == 2000.0
    assert rules.dibao_gap(5100.0, 6000.0) == 0.0
    assert rules.dibao_payment(True, 3, 2000.0) == 500.0
    assert rules.dibao_payment(False, 3, 2000.0) == 0.0
    assert rules.income_without_dibao(5100.0, True, 2000.0) == 3100.0


def test_monthly_accounts() -> None:
    transfers, gross, rigid, net, roll = rules.monthly_accounts(labour=1000.0, production=500.0,
                                                                project=100.0, regular=300.0,
                                                                family=200.0, trend=1.1,
                                                                one_off=50.0, property_=40.0,
                                                                unmet_shock_cost=800.0,
                                                                chronic_cost=60.0, school_fee=0.0,
                                                                roll12=30_000.0, leaving=2000.0)
    assert transfers == 300.0 + 200.0 * 1.1 + 50.0
    assert gross == 1000.0 + 500.0 + 100.0 + transfers + 40.0
    assert rigid == 800.0 + 60.0
    assert net == gross - rigid
    assert roll == 30_000.0 - 2000.0 + net


def test_savings() -> None:
    assert rules.savings_used(3000.0, 5000.0) == 3000.0
    assert rules.savings_used(8000.0, 5000.0) == 5000.0
    # save 30% of income above subsistence, up to 24 months of income
    assert rules.save(savings=1000.0, paid=0.0, gross=3000.0, subsistence=1500.0, rate=0.3,
                      cap_months=24.0) == 1000.0 + 0.3 * 1500.0
    assert rules.save(savings=1e9, paid=0.0, gross=3000.0, subsistence=1500.0, rate=0.3,
                      cap_months=24.0) == 24.0 * 3000.0
    assert rules.save(savings=1000.0, paid=500.0, gross=1000.0, subsistence=1500.0, rate=0.3,
                      cap_months=24.0) == 500.0


def test_detection_probabilities() -> None:
    p = knobs(monitoring__self_report_rate=0.15, motivation__dependency_effect=0.5)
    assert rules.self_report_probability(p, 0.6, False) == 0.15 * 0.6
    assert rules.self_report_probability(p, 0.6, True) == 0.15 * 0.6 * 0.5
    # 16 visits for a caseload of 40: 0.4 visits a household-month
    assert rules.screening_probability(0.55, 16.0, 40.0, 0.5) == 0.55 * 0.4 * 0.5
    assert rules.screening_probability(1.0, 60.0, 40.0, 0.5) == 0.5  # at most one visit
    assert rules.warning_probability(0.6, 0.5, True) == 0.3
    assert rules.warning_probability(0.6, 0.5, False) == 0.0


def test_primary_cause_ledger() -> None:
    losses = [0.0, 5000.0, 0.0, 9000.0, 0.0, 0.0, 0.0, 0.0]
    assert rules.primary_cause(losses, 1.0, 100.0, 0, False) == ACCIDENT
    # nothing above the floor: the registry's standing cause
    assert rules.primary_cause(losses, 0.001, 100.0, 1, True) == DISABILITY
    assert rules.primary_cause(losses, 0.001, 100.0, 0, True) == ILLNESS
    assert rules.primary_cause(losses, 0.001, 100.0, 0, False) == LOW_INCOME
    arr = np.array(losses)[:, None].repeat(3, axis=1)
    out = rules.primary_cause(arr, np.array([1.0, 0.001, 0.001]), np.full(3, 100.0),
                              np.array([0, 1, 0]), np.array([False, True, True]))
    assert out.tolist() == [ACCIDENT, DISABILITY, ILLNESS]


def test_add_loss_decays_then_adds() -> None:
    decay = rules.decay_table(0.5, 4)
    assert decay == [1.0, 0.5, 0.25, 0.125, 0.0625]
    ledger = [8.0] + [0.0] * 7
    rules.add_loss(losses=ledger, loss_month=0, decay=decay, t=2, cause=JOB_LOSS, amount=10.0)
    assert ledger[0] == 2.0 and ledger[JOB_LOSS] == 10.0


def test_industry_transition() -> None:
    # operating with a reserve: stays operating
    assert rules.industry_transition(status=0, buffer=0.5, u=0.5, p_fail=0.1, p_revive=0.1,
                                     revived_buffer=0.75) == (0, 0.5)
    # reserve exhausted: struggling, fails in the bottom slice, revived in the top one
    assert rules.industry_transition(status=0, buffer=-0.1, u=0.5, p_fail=0.1, p_revive=0.1,
                                     revived_buffer=0.75)[0] == 1
    assert rules.industry_transition(status=1, buffer=-0.1, u=0.05, p_fail=0.1, p_revive=0.1,
                                     revived_buffer=0.75)[0] == 2
    status, reserve = rules.industry_transition(status=1, buffer=-0.1, u=0.95, p_fail=0.1,
                                                p_revive=0.1, revived_buffer=0.75)
    assert status == 0 and math.isclose(reserve, 0.75)
    # failed projects stay failed unless revived (at a fifth of the rate)
    assert rules.industry_transition(status=2, buffer=-1.0, u=0.95, p_fail=0.1, p_revive=0.1,
                                     revived_buffer=0.75)[0] == 2
    assert rules.industry_transition(status=2, buffer=-1.0, u=0.99, p_fail=0.1, p_revive=0.1,
                                     revived_buffer=0.75)[0] == 0


def test_update_reserve_insurance_and_cap() -> None:
    assert math.isclose(rules.update_reserve(1.0, -0.2, 0.4, 1.5), 1.0 - 0.2 * 0.6)
    assert rules.update_reserve(1.4, 0.3, 0.4, 1.5) == 1.5


def test_matched_measures() -> None:
    # no labour capacity: 低保; job loss with labour: job placement; illness: production
    # measure and temporary aid; schooling: education grant
    assert rules.matched_measures(LOW_INCOME, 0)[0] == 1
    dibao, job, production, education, temporary = rules.matched_measures(JOB_LOSS, 2)
    assert (bool(dibao), bool(job), bool(production)) == (False, True, False)
    dibao, job, production, education, temporary = rules.matched_measures(ILLNESS, 1)
    assert bool(production) and bool(temporary) and not job
    assert bool(rules.matched_measures(SCHOOLING, 1)[3])


def test_emergency_aid() -> None:
    # gap of 1,000 yuan/person for 3 people plus half a 4,000 bill, capped at 5,000
    p = knobs(social_security__temporary_aid_cap=5000.0)
    assert rules.emergency_aid(p, 5000.0, 6000.0, 3, 4000.0) == 5000.0
    assert rules.emergency_aid(p, 5800.0, 6000.0, 3, 1000.0) == 1100.0


@settings(max_examples=200, deadline=None)
@given(dev=finite, z=st.floats(-6, 6), base=positive, prod=positive,
       trend=st.floats(0.5, 3.0), loss=unit, savings=positive, paid=positive,
       gross=positive, sub=positive, roll=finite, leave=finite)
def test_rules_identical_on_floats_and_arrays(dev, z, base, prod, trend, loss, savings, paid,
                                              gross, sub, roll, leave) -> None:
    """The one-rule-for-both-engines contract: a rule on Python floats gives exactly the
    element of the same rule on arrays."""
    f = rules.earnings(dev=dev, z=z, persistence=0.9, innovation_sd=0.04, wage_base_=base,
                       production_base=prod, trend=trend, disaster_loss=loss)
    a = rules.earnings(dev=np.array([dev, 0.0]), z=np.array([z, 0.0]), persistence=0.9,
                       innovation_sd=0.04, wage_base_=np.array([base, 1.0]),
                       production_base=np.array([prod, 1.0]), trend=trend,
                       disaster_loss=np.array([loss, 0.0]))
    assert [x[0] for x in a] == list(f)
    s = rules.save(savings=savings, paid=paid, gross=gross, subsistence=sub, rate=0.3,
                   cap_months=24.0)
    assert rules.save(savings=np.array([savings]), paid=np.array([paid]), gross=np.array([gross]),
                      subsistence=np.array([sub]), rate=0.3, cap_months=24.0)[0] == s
    acc = rules.monthly_accounts(labour=gross, production=prod, project=base, regular=sub,
                                 family=paid, trend=trend, one_off=savings, property_=40.0,
                                 unmet_shock_cost=paid, chronic_cost=60.0, school_fee=0.0,
                                 roll12=roll, leaving=leave)
    acc_a = rules.monthly_accounts(labour=np.array([gross]), production=np.array([prod]),
                                   project=np.array([base]), regular=np.array([sub]),
                                   family=np.array([paid]), trend=trend,
                                   one_off=np.array([savings]), property_=40.0,
                                   unmet_shock_cost=np.array([paid]), chronic_cost=np.array([60.0]),
                                   school_fee=0.0, roll12=np.array([roll]),
                                   leaving=np.array([leave]))
    assert [x[0] for x in acc_a] == list(acc)
    p = knobs(**{**_OOP, "social_security__oop_cap": 6000.0})
    oop = rules.out_of_pocket(p, gross, True)
    oop_a = rules.out_of_pocket(p, np.array([gross]), np.array([True]))
    assert [x[0] for x in oop_a] == list(oop)


@pytest.mark.parametrize("annual", [0.0, 0.01, 0.14, 0.5])
def test_monthly_chance_compounds_to_annual(annual: float) -> None:
    from simulation.model.context import monthly_chance

    assert math.isclose(1 - (1 - monthly_chance(annual)) ** 12, annual)
