"""Model behaviour: neutrality, each knob's channel, dated events, reproducibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import small

from simulation.experiments.runner import run_one
from simulation.model.agents.household import Household
from simulation.model.agents.industry import Industry
from simulation.model.agents.official import Official
from simulation.model.agents.partner import SocialPartner
from simulation.model.agents_engine import PovertyModel
from simulation.model.codes import EVENTS
from simulation.model.params import KNOBS

NO_SHOCKS = {
    "shocks.hospitalisation_rate": 0.0, "shocks.accident_rate": 0.0,
    "shocks.disability_rate": 0.0, "shocks.job_loss_rate": 0.0, "shocks.disaster_rate": 0.0,
    "shocks.school_entry_rate": 0.0, "income.volatility": 0.0,
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
    assert SocialPartner not in model.agents_by_type or not len(
        model.agents_by_type[SocialPartner])
    model.run(24)
    assert not any(h.partner_job for h in model.households)
    base = PovertyModel(small(), rng=1)
    assert len(base.agents_by_type[SocialPartner]) == round(0.3 * base.population.n_villages)


def test_absent_coverage_removes_medical_assistance_and_new_dibao() -> None:
    sc = small(social_security__coverage=0.0).with_values({"run.households": 1500})
    model = PovertyModel(sc, rng=2)
    model.run(36)
    assert not any(h.dibao for h in model.households)
    full = PovertyModel(small().with_values({"run.households": 1500}), rng=2)
    full.run(36)
    assert any(h.dibao for h in full.households)


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
