"""Every enumeration of the model, defined once: household categories, causes of a fall,
monitoring states and identification channels, per-household events, industry states, and the
sentinels used in household state. Integer codes index the name tuples."""

from __future__ import annotations

from typing import Final

# Household categories (the sampling strata): 脱贫户, 边缘户, ordinary rural households.
FORMERLY_POOR, MARGINAL, ORDINARY = 0, 1, 2
CATEGORIES: Final = ("formerly_poor", "marginal", "ordinary")

# Causes a fall below the line (or a risk) is attributed to; `low_income` means no recorded
# shock: earnings drift, or the line rising past the household (docs/ODD.md, "Causes").
CAUSES: Final = ("illness", "disability", "job_loss", "accident", "disaster", "schooling",
                 "industry_failure", "transfer_withdrawal", "low_income")
(ILLNESS, DISABILITY, JOB_LOSS, ACCIDENT, DISASTER, SCHOOLING, INDUSTRY_FAILURE,
 TRANSFER_WITHDRAWAL, LOW_INCOME) = range(9)
N_CAUSES: Final = len(CAUSES)
N_SHOCK_CAUSES: Final = LOW_INCOME  # causes with a loss-ledger entry (all but low_income)

# Monitoring states: not monitored -> identified -> assisted -> risk eliminated.
NOT_MONITORED, IDENTIFIED, ASSISTED, RISK_ELIMINATED = 0, 1, 2, 3
MONITORING_STATES: Final = ("not_monitored", "identified", "assisted", "risk_eliminated")
# Identification channels, plus the follow-up re-check of risk-eliminated households.
SELF_REPORT, CADRE_SCREENING, DATA_WARNING, RECHECK = 1, 2, 3, 4
CHANNELS: Final = ("none", "self_report", "cadre_screening", "data_warning", "recheck")

# Per-household events written to events.parquet (cohort and time-to-return analysis).
EVENTS: Final = ("fall", "rise", "dip", "identified", "assisted", "risk_eliminated",
                 "rolled_back", "illness", "accident", "disability", "job_loss", "disaster",
                 "school_entry")
(FALL, RISE, DIP, IDENTIFIED_EVENT, ASSISTED_EVENT, ELIMINATED_EVENT, ROLLED_BACK,
 ILLNESS_EVENT, ACCIDENT_EVENT, DISABILITY_EVENT, JOB_LOSS_EVENT, DISASTER_EVENT,
 SCHOOL_EVENT) = range(13)
SHOCK_EVENTS: Final = frozenset({ILLNESS_EVENT, ACCIDENT_EVENT, DISABILITY_EVENT, JOB_LOSS_EVENT,
                                 DISASTER_EVENT, SCHOOL_EVENT})

# Industry projects.
OPERATING, STRUGGLING, FAILED = 0, 1, 2
INDUSTRY_STATES: Final = ("operating", "struggling", "failed")
N_SECTORS: Final = 5
SECTORS: Final = ("planting", "breeding", "processing", "tourism", "e-commerce")

# Sentinels.
NO_SUPPORT: Final = -1  # support_until when no follow-up runs
NO_CAP: Final = 1e12  # out-of-pocket cap of a household without medical assistance (none)
