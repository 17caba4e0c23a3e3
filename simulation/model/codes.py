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

# Identification through the unified low-income platform (from the 2026 normalized regime).
PLATFORM: Final = 5
CHANNELS_ALL: Final = (*CHANNELS, "low_income_platform")

# Per-household events written to events.parquet (cohort and time-to-return analysis). The
# first three are crossings of the official income test; `fall_hardship` is a fall on the
# hardship count (income net of rigid costs), whose rises and dips are not logged.
EVENTS: Final = ("fall", "rise", "dip", "identified", "assisted", "risk_eliminated",
                 "rolled_back", "illness", "accident", "disability", "job_loss", "disaster",
                 "school_entry", "fall_hardship", "dibao_start", "dibao_end", "tekun_start",
                 "death", "birth", "moved_out", "job_start", "job_end", "dissolved")
(FALL, RISE, DIP, IDENTIFIED_EVENT, ASSISTED_EVENT, ELIMINATED_EVENT, ROLLED_BACK,
 ILLNESS_EVENT, ACCIDENT_EVENT, DISABILITY_EVENT, JOB_LOSS_EVENT, DISASTER_EVENT,
 SCHOOL_EVENT, FALL_HARDSHIP, DIBAO_START, DIBAO_END, TEKUN_START, DEATH_EVENT, BIRTH_EVENT,
 MOVED_OUT_EVENT, JOB_START, JOB_END, DISSOLVED) = range(23)
SHOCK_EVENTS: Final = frozenset({ILLNESS_EVENT, ACCIDENT_EVENT, DISABILITY_EVENT, JOB_LOSS_EVENT,
                                 DISASTER_EVENT, SCHOOL_EVENT, DEATH_EVENT, BIRTH_EVENT,
                                 MOVED_OUT_EVENT, JOB_START, JOB_END, DIBAO_START, DIBAO_END,
                                 TEKUN_START})
"""Events kept only when stories are recorded (`log_shocks`): the teaching page's household
stories; batch runs keep the crossings and the monitoring events."""

# People: each household has K person slots; a person has an age, a sex and a role.
K: Final = 6  # person slots per household (rural households larger than this are rare)
MALE, FEMALE = 0, 1
# Roles: what a person does. Assisted jobs (a placement, a public-welfare post, a project job)
# employ one particular person and replace what that person earned before.
NONE, STUDENT, LOCAL, MIGRANT, JOBLESS, ASSISTED_JOB = range(6)
ROLES: Final = ("none", "student", "local_work", "migrant_work", "jobless_migrant",
                "assisted_job")
# Kinds of assisted job.
NO_JOB, PLACEMENT, WELFARE_POST, PROJECT_JOB = range(4)
JOB_KINDS: Final = ("none", "placement", "public_welfare_post", "project_job")

# Civil-affairs programmes (低保 / 特困).
OFF, PENDING, DIBAO, TEKUN = range(4)
PROGRAMMES: Final = ("none", "applied", "dibao", "tekun")

# Industry projects.
OPERATING, STRUGGLING, FAILED = 0, 1, 2
INDUSTRY_STATES: Final = ("operating", "struggling", "failed")
N_SECTORS: Final = 5
SECTORS: Final = ("planting", "breeding", "processing", "tourism", "e-commerce")

# Sentinels.
NO_SUPPORT: Final = -1  # support_until when no follow-up runs
NO_CAP: Final = 1e12  # out-of-pocket cap of a household without medical assistance (none)
