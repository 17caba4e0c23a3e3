"""Model behaviour: neutrality, each knob's channel, dated events, reproducibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import small

from simulation.experiments.runner import make_model, run_one
from simulation.model.agents.household import Household
from simulation.model.agents.industry import Industry
from simulation.model.agents.official import Official
from simulation.model.agents.partner import SocialPartner
from simulation.model.agents_engine import PovertyModel
from simulation.model.codes import EVENTS, PLACEMENT
from simulation.model.params import KNOBS

NO_SHOCKS = {
    "shocks.hospitalisation_rate": 0.0, "shocks.accident_rate": 0.0,
    "shocks.disability_rate": 0.0, "shocks.job_loss_rate": 0.0, "shocks.disaster_rate": 0.0,
    "income.volatility": 0.0, "demography.enabled": 0.0,
    "industry.market_volatility": 0.0, "industry.project_volatility": 0.0,
    "industry.margin_misfit": 0.0, "policy.line_growth": 0.0, "income.transfer_growth": 0.0,
}


def events(result) -> pd.Series:  # type: ignore[no-untyped-def]
    return pd.Series([EVENTS[e] for e in result.events[:, 2]], dtype=object)


@pytest.mark.parametrize("engine", ["arrays", "agents"])
def test_no_shocks_nobody_falls(engine: str) -> None:
    """Without shocks incomes only grow against a fixed line: no fall, no dip."""
    sc = small(**{k.replace(".", "__"): v for k, v in NO_SHOCKS.items()}).with_values(
        {"run.years": 6})
    result = run_one(sc, 3, engine=engine)
    ev = events(result)
    assert not ev.isin(["fall", "dip"]).any()
    runs = pd.DataFrame(result.years)
    assert (runs["returned_households"] == 0).all()
    assert (runs["newly_poor_households"] == 0).all()
    for cause in ("illness", "accident", "disability", "job_loss", "disaster"):
        assert not ev.isin([cause]).any()


@pytest.mark.parametrize("engine", ["arrays", "agents"])
def test_demography_off_nobody_ages_dies_is_born_or_leaves(engine: str) -> None:
    sc = small(demography__enabled=0.0)
    model = make_model(sc, 4, engine, log_shocks=True)
    before = model.people_snapshot()
    model.run()
    after = model.people_snapshot()
    for key in ("age", "present", "sex"):
        assert np.array_equal(before[key], after[key]), key
    ev = pd.Series([EVENTS[e] for e in model.event_table()[:, 2]], dtype=object)
    assert not ev.isin(["death", "birth", "moved_out", "dissolved"]).any()
    on = make_model(small(), 4, engine, log_shocks=True)
    on.run()
    ev_on = pd.Series([EVENTS[e] for e in on.event_table()[:, 2]], dtype=object)
    assert ev_on.isin(["death"]).any() and ev_on.isin(["birth"]).any()
    assert (on.people_snapshot()["age"] > before["age"]).any()


def test_demography_ages_everyone_present_by_one_year_each_january() -> None:
    model = make_model(small(), 6, "arrays")
    start = model.people_snapshot()
    model.run(13)  # through January 2022
    now = model.people_snapshot()
    stayed = start["present"] & now["present"] & (now["age"] >= start["age"])
    assert stayed.sum() > 0.9 * start["present"].sum()
    assert np.array_equal(now["age"][stayed], start["age"][stayed] + 1)


def _totals(name: str = "baseline", seed: int = 5, **overrides: float) -> pd.Series:
    sc = small(name, **overrides).with_values({"run.years": 4, "run.households": 1500})
    return pd.DataFrame(run_one(sc, seed).years).sum()


def test_absent_duty_removes_cadre_screening() -> None:
    assert _totals()["identified_by_cadre_screening"] > 0
    assert _totals(responsibility__duty_performance=0.0)["identified_by_cadre_screening"] == 0


def test_absent_coordination_removes_data_warnings() -> None:
    assert _totals()["identified_by_data_warning"] > 0
    assert _totals(responsibility__coordination=0.0)["identified_by_data_warning"] == 0


def test_absent_self_report_removes_applications() -> None:
    assert _totals()["identified_by_self_report"] > 0
    assert _totals(monitoring__self_report_rate=0.0)["identified_by_self_report"] == 0


def test_no_monitoring_identifies_nobody() -> None:
    totals = _totals("no_monitoring")
    assert totals["monitoring_inflow"] == 0 and totals["monitored_stock"] == 0


def test_absent_linkage_removes_project_income() -> None:
    assert _totals()["project_share_formerly_poor"] > 0
    assert _totals(industry__linkage_share=0.0)["project_share_formerly_poor"] == 0
    assert _totals(industry__dividend=0.0, industry__job_share=0.0)[
        "project_share_formerly_poor"] == 0


def test_absent_training_participation_removes_trainees() -> None:
    assert _totals()["trainees"] > 0
    assert _totals(motivation__training_participation=0.0)["trainees"] == 0


def test_absent_social_participation_removes_partners() -> None:
    sc = small(responsibility__social_participation=0.0)
    model = PovertyModel(sc, rng=1)
    model.run(1)  # the policy date (the first month) removes the reference's partners
    assert SocialPartner not in model.agents_by_type or not len(
        model.agents_by_type[SocialPartner])
    model.run(23)
    assert not any(h.job_kind == PLACEMENT for h in model.households)
    base = PovertyModel(small(), rng=1)
    assert len(base.agents_by_type[SocialPartner]) == round(0.3 * base.population.n_villages)


def _programme_starts(**overrides: float) -> int:
    model = make_model(small(**overrides).with_values({"run.households": 1500}), 2, "arrays",
                       log_shocks=True)
    model.run()
    codes = model.event_table()[:, 2]
    return int(np.isin(codes, [EVENTS.index("dibao_start"), EVENTS.index("tekun_start")]).sum())


def test_absent_coverage_removes_new_dibao_and_tekun() -> None:
    assert _programme_starts() > 0
    assert _programme_starts(social_security__coverage=0.0) == 0


def test_absent_application_rate_leaves_only_the_monitoring_route() -> None:
    """低保 is reachable without the monitoring system (the household applies) and through
    it (an identified household is enrolled); switching both routes off enrols nobody."""
    assert _programme_starts(social_security__application_rate=0.0) > 0
    assert _programme_starts(monitoring__self_report_rate=0.0) > 0
    none = {"social_security__application_rate": 0.0, "responsibility__duty_performance": 0.0,
            "responsibility__coordination": 0.0, "monitoring__self_report_rate": 0.0,
            "monitoring__low_income_recall": 0.0}
    assert _programme_starts(**none) == 0


def test_no_monitoring_keeps_ordinary_social_assistance() -> None:
    assert _programme_starts(responsibility__duty_performance=0.0,
                             responsibility__coordination=0.0,
                             monitoring__self_report_rate=0.0,
                             monitoring__low_income_recall=0.0) > 0


def test_absent_low_income_recall_removes_platform_identification() -> None:
    assert _totals(monitoring__low_income_recall=0.6)["identified_by_low_income_platform"] > 0
    assert _totals(monitoring__low_income_recall=0.0)["identified_by_low_income_platform"] == 0


def test_absent_housing_damage_removes_repair_costs() -> None:
    hit = {"shocks__disaster_rate": 0.5, "shocks__housing_damage_share": 0.0}
    a = _totals("disaster", **hit)
    b = _totals("disaster", shocks__disaster_rate=0.5)
    assert a["disasters"] == b["disasters"] > 0
    assert a["fiscal_cost_social_security"] < b["fiscal_cost_social_security"]


def test_failed_projects_are_restructured_faster_with_a_shorter_delay() -> None:
    fail = {"industry__failure_hazard": 0.5}
    slow = _totals(industry__restructure_months=120.0, **fail)["projects_restructured"]
    fast = _totals(industry__restructure_months=3.0, **fail)["projects_restructured"]
    assert fast > slow

def test_absent_medical_assistance_rate_costs_nothing_on_bills() -> None:
    # with the rate at 0 and no safety-net cap, social-security cost is transfers only
    a = _totals(social_security__medical_assistance_rate=0.0,
                social_security__oop_cap=100_000.0)["fiscal_cost_social_security"]
    b = _totals()["fiscal_cost_social_security"]
    assert a < b


def test_scheduled_disaster_strikes_in_its_month() -> None:
    sc = small("disaster").with_values({"run.years": 7, "shocks.disaster_rate": 0.0})
    years = pd.DataFrame(run_one(sc, 4).years).set_index("year")
    assert years.loc[2027, "disasters"] == 1
    assert years.drop(2027)["disasters"].sum() == 0
    ev = run_one(sc, 4).events
    # disaster losses hit households in July 2027 (month 78) only
    hit_months = {int(m) for m, e in zip(ev[:, 0], ev[:, 2], strict=True)
                  if EVENTS[e] == "disaster"}
    assert hit_months <= {78}


def test_transfer_withdrawal_changes_nothing_before_2026() -> None:
    base = pd.DataFrame(run_one(small().with_values({"run.years": 7}), 9).years)
    cut = pd.DataFrame(run_one(small("transfer_withdrawal").with_values({"run.years": 7}),
                               9).years)
    assert base[base.year < 2026].equals(cut[cut.year < 2026])
    after = cut.year >= 2026
    assert (cut[after]["transfer_share_formerly_poor"]
            < base[after]["transfer_share_formerly_poor"]).all()
    assert cut[after]["cause_transfer_withdrawal"].sum() > 0


def test_mesa_agents_and_phases() -> None:
    model = PovertyModel(small(), rng=7)
    n_villages = model.population.n_villages
    assert len(model.agents_by_type[Household]) == 400
    assert len(model.agents_by_type[Industry]) == n_villages
    assert len(model.agents_by_type[Official]) == n_villages
    model.run(13)
    assert model.steps == 13 and model.month == 13
    assert len(model.years) == 1 and model.years[0]["year"] == 2021
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 13 and {"falls", "identified", "risk_eliminated"} <= set(frame)


@pytest.mark.parametrize("engine", ["arrays", "agents"])
def test_same_seed_same_results_different_seed_different(engine: str) -> None:
    sc = small()
    a, b, c = (run_one(sc, s, engine=engine) for s in (11, 11, 12))
    assert pd.DataFrame(a.years).equals(pd.DataFrame(b.years))
    assert np.array_equal(a.events, b.events)
    assert not pd.DataFrame(a.years).equals(pd.DataFrame(c.years))


def test_common_random_numbers_across_scenarios() -> None:
    """A knob changes outcomes through its channel, not by reshuffling the draws: scenarios
    on one seed share the population and the first month's draws."""
    a = PovertyModel(small(), rng=3)
    b = PovertyModel(small("combined"), rng=3)
    for key in ("income_target", "category", "village", "members"):
        if key in a.initial:
            assert np.array_equal(a.initial[key], b.initial[key])
    a.step(), b.step()
    assert np.array_equal(a.draws.earnings, b.draws.earnings)
    assert np.array_equal(a.draws.shock, b.draws.shock)


def test_knob_schema_is_grounded() -> None:
    for knob in KNOBS:
        assert knob.unit and knob.doc and knob.source
        assert knob.low <= knob.default <= knob.high
        assert knob.absent is None or knob.low <= knob.absent <= knob.high
