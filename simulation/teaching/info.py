"""The Info panel (NetLogo's Info tab) and the glossary of Chinese terms, as HTML.

Written in Markdown and rendered on the server (Solara's own Markdown component loads KaTeX
from the CDN, which the offline asset bundle lacks). "Things to try" comes from
`simulation.teaching.experiments`, whose claims are checked against the model.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import markdown

from simulation.model.params import KNOBS, MECHANISMS
from simulation.teaching.experiments import EXPERIMENTS
from simulation.teaching.knobs import MECHANISM_TITLES, label

WHAT_IS_IT: Final = """
## What is it?

China declared absolute poverty eliminated at the end of 2020. Since then every county runs a
**dynamic monitoring and assistance mechanism to prevent return to poverty**
(防止返贫动态监测和帮扶机制): officials watch the households that only recently escaped poverty
(脱贫户) and those living just above the line (边缘户), identify those at risk, and help them
before — or soon after — they fall back.

This page is a live model of one such county, "M County" in central China, from January 2021.
Each dot on the map is a household. A study of M County found four prevention mechanisms, each
with weaknesses: **responsibility** (officials' duty, coordination, social partners),
**social security** (who is covered, how much it pays), **industry** (projects that employ and
pay dividends to poor households) and **endogenous motivation** (guidance, training, the
"wait, rely, ask" mindset 等靠要). The sliders are those mechanisms; the scenarios are the
study's four strategies.
"""

HOW_IT_WORKS: Final = """
## How it works

Each dot is a household of up to six people, each with an age, a sex and a role: at school,
working locally, a migrant worker (or a migrant who has lost the job), in an assisted job, or
not working. One step is one month. Every month, in this order:

1. **(January) People**: members age; some die, babies are born, 16-year-olds go on to senior
   school or start work, workers migrate, come home or retire, and young adults move out to
   set up their own household. A household whose members have all died or moved away is
   gone and leaves the map.
2. **Shocks** strike whole villages (a disaster) and industry sectors (market shocks).
3. **Industry projects** earn or lose money. A project whose reserve runs out struggles, and a
   struggling project fails unless it is managed back to health; its linked households lose
   their dividend and project job.
4. **Households** meet their own shocks — a member in hospital, an accident, a member disabled,
   a migrant job lost, a child starting senior school (fees) — and earn wages, farm income,
   dividends and transfers (pensions, subsidies, 低保/特困), and pay their rigid costs
   (medical bills after insurance and assistance, school fees) from **savings** first, then
   from what they earn above subsistence, then on **credit** from relatives (debt, repaid
   later) — what is left goes unpaid.
   **低保 and 特困** are civil-affairs programmes: an eligible household applies (or is
   matched by the monitoring), is means-tested, receives a monthly benefit, is reviewed, and
   leaves after a gradual exit once its own income is above the exit line.
5. **Officials identify** households at risk through their own application, a cadre's
   screening visit, a department's data warning, and from January 2026 the low-income
   population platform (it flags households with income below 1.5 times the 低保 standard;
   every shipped scenario runs it but *no_monitoring*) — and, after a short lag, start **help
   matched to the cause**: temporary aid after a recent bill, accident or disaster, an
   application for 低保/特困 for those who cannot work, a **job for one member** (a placement
   by a social partner or a public-welfare post, taken by a jobless migrant, or by a local
   worker if it pays more) after a job loss or when income is simply low, a production grant
   otherwise. After half a year safely above the line the risk is **eliminated**; support
   continues for the follow-up months.
6. **Accounting**: a household's per-capita income over the last 12 months is compared with
   the monitoring line (6,000 yuan per person in 2021, rising each year). Falling below it is a
   **return to poverty** for a formerly poor household, **new poverty** for the others; each
   fall is attributed to the shock behind the income drop. The page also keeps a second
   count, **hardship**: the same income *net of rigid costs*. A hospital bill leaves the
   official income test untouched but can push a family under on the hardship count.

The simulated households are a sample: one dot stands for many real households (the *One dot*
monitor says how many), and the monitors give both the dots and the county totals.

On the command line a strategy takes effect in 2026, after a 2021-2025 history shared by every
scenario; on this page a scenario's policies act **from January 2021**, so that two counties
compared side by side differ from the first month. Changes a scenario dates keep their date
on the page too: the baseline's own change in January 2026 (the low-income platform starts
flagging households) happens then in every county, and a dotted line on the charts marks it.
"""

HOW_TO_USE: Final = """
## How to use it

- **Scenario** (top of the left panel; on a phone, behind the ☰ menu): the county's policy
  mix. *baseline* is M County's status quo; *responsibility*, *social_security*, *industry* and
  *motivation* are the study's four strategies; *combined* is all four. **Compare with** runs
  a second county on the **same seed**: the same households meet the same shocks, so every
  difference between the two comes from the policies. Choosing a scenario restarts from
  January 2021 (also after a finished run: no need to press Reset).
- **Controls**: **Step** advances one month (or *Render interval* months), **▶** plays and pauses,
  **Reset** starts again from January 2021 with the current settings. *Play interval* slows
  the play; a larger *Render interval* draws less often and runs faster.
- **Model parameters**: households on the map and the **seed** (the random draw of the county
  and its shocks); they apply at **Reset**.
- **Mechanism knobs** (bottom of the left panel): a slider changes the first county **from the
  next month on**, like a new policy (a dotted line marks the date on the charts). The small
  ▲ under a slider marks the **baseline** value (M County's status quo). Reset keeps your
  slider values; *Back to scenario values* undoes them.
- **The map**: click a household to read its **story** — its members (age and what each one
  does), its income month by month on both counts, its savings and debt, the shocks it met,
  deaths, births and members moving out, who identified it, the jobs its members held and
  its spells on 低保 or 特困. Hover over a dot, a project square or an official to see what
  it is.
"""

NOTICE: Final = """
## Things to notice

- **Red dots without a ring** have fallen below the line and nobody has identified them yet.
  How long do they stay that way? The ring appears when monitoring catches them.
- **Two counts**: *Returns since 2021* uses the official income test; *Hardship returns
  since 2021* counts the same families when their income net of rigid costs falls below the
  line. The second is larger, and **illness** is its commonest cause: a hospital bill is a
  cost, and the official test looks at income only. In a household's story the black
  line is the official count and the dotted line the hardship count.
- Many households under monitoring never fall below the line at all: they are caught while
  **at risk**, in the alert band just above it. Compare *Monitored now* with *Below the line
  now*.
- The monitoring line **rises every year**: a household whose income does not keep up slips
  under it without any shock — cause "low income".
- **Savings and debt** absorb shocks: a family with savings pays a bill from them; one
  without borrows, and repays out of later income (the story's lowest panel).
- **The county ages**: a household of old people whose children have moved out lives on
  pensions, family support and perhaps 低保 or 特困; when its last member dies it leaves the
  map.
- **Industry squares** turning yellow (struggling) and grey (failed): linked households lose
  their dividend and project job.
- **2026**: the transition period ends. The low-income platform becomes one more way
  households are identified (a story names it as the channel); in *transfer_withdrawal* the
  subsidies stop, and formerly poor households that relied on them fall.
"""

EXTENDING: Final = """
## Extending the model

Everything a slider moves is a knob of the schema (`simulation/model/params.py`), with its unit,
range and source; a scenario file (`scenarios/*.toml`) sets knobs and can schedule dated policy
changes and disasters. Load your own file with `python run.py demo --scenario FILE`, or drop it
on the page. For many replicates, confidence intervals and costs per avoided return, use the
command line: `python run.py compare baseline social_security`.

## Credits and references

Model of the prevention mechanisms of "M County, H Province" and the four optimization
strategies of that study; facts and sources behind every number: the project's
`docs/` and `simulation/model/params.py`. Built with Mesa 3.5 (agent-based modelling) and
Solara (the page). Teaching-interface conventions after NetLogo's Info tab.
"""

GLOSSARY: Final = (
    ("防止返贫动态监测和帮扶机制", "fángzhǐ fǎnpín dòngtài jiāncè hé bāngfú jīzhì",
     "dynamic monitoring and assistance mechanism to prevent return to poverty"),
    ("返贫", "fǎnpín", "return to poverty: a household lifted out of poverty falls back"),
    ("致贫", "zhìpín", "falling into poverty for the first time (new poverty)"),
    ("脱贫户", "tuōpín hù", "formerly poor household: registered as poor, lifted out by 2020"),
    ("边缘户 / 边缘易致贫户", "biānyuán hù", "marginal household: never registered as poor, "
     "living just above the line, easily falls into poverty"),
    ("监测对象", "jiāncè duìxiàng", "monitored household (identified as at risk)"),
    ("风险消除", "fēngxiǎn xiāochú", "risk eliminated: stable above the line for half a year, "
     "removed from monitoring"),
    ("监测线", "jiāncè xiàn", "monitoring line: the per-capita income threshold (6,000 yuan in "
     "2021, rising yearly)"),
    ("低保 (最低生活保障)", "dībǎo", "minimum living allowance: tops income up to the local "
     "standard"),
    ("兜底", "dōudǐ", "'holding the bottom': the safety net (低保, 特困 support) for those who "
     "cannot work"),
    ("特困人员", "tèkùn rényuán", "persons in extreme difficulty (no labour, no income, no "
     "family support)"),
    ("渐退", "jiàntuì", "gradual exit: a household whose income has risen keeps 低保 for a few "
     "months before it stops"),
    ("低收入人口动态监测信息平台", "dī shōurù rénkǒu dòngtài jiāncè xìnxī píngtái",
     "the low-income population monitoring platform (from 2026 it flags low-income "
     "households)"),
    ("临时救助", "línshí jiùzhù", "temporary assistance after a sudden shock"),
    ("医疗救助", "yīliáo jiùzhù", "medical assistance: refunds part of what insurance leaves"),
    ("大病保险", "dàbìng bǎoxiǎn", "critical illness insurance (above a deductible)"),
    ("公益岗位", "gōngyì gǎngwèi", "public-welfare job (village cleaner, forest ranger...)"),
    ("驻村第一书记", "zhù cūn dì-yī shūjì", "resident first secretary sent to a village (★ on "
     "the map)"),
    ("帮扶责任人", "bāngfú zérèn rén", "responsible official: the cadre assigned to a "
     "household"),
    ("万企帮万村", "wàn qǐ bāng wàn cūn", "'ten thousand firms help ten thousand villages': "
     "social partners"),
    ("利益联结", "lìyì liánjié", "benefit linkage: dividends, jobs or contract purchases "
     "tying a household to an industry project"),
    ("产业奖补", "chǎnyè jiǎngbǔ", "industry award grant to a household starting production"),
    ("雨露计划", "yǔlù jìhuà", "'Rain and Dew' plan: grants for students of poor families"),
    ("等靠要", "děng kào yào", "'wait, rely, ask': the dependency mindset"),
    ("扶志扶智", "fú zhì fú zhì", "supporting aspiration and ability (guidance and training)"),
    ("过渡期", "guòdù qī", "the five-year transition period, 2021–2025"),
    ("外出务工", "wàichū wùgōng", "migrant work: working away from home, in a city"),
)


def knob_table() -> str:
    """The four mechanisms and their knobs, from the schema."""
    lines = []
    for mechanism in MECHANISMS:
        knobs = [k for k in KNOBS if k.mechanism == mechanism]
        items = "; ".join(f"*{label(k).lower()}* — {k.doc} ({k.unit})" for k in knobs)
        lines.append(f"- **{MECHANISM_TITLES.get(mechanism, mechanism)}**: {items}.")
    return "\n### The four mechanisms and their knobs\n\n" + "\n".join(lines) + "\n"


def things_to_try() -> str:
    lines = ["## Things to try", "",
             "Each of these was checked against the model on paired seeds "
             "(`python -m simulation.teaching.experiments`). One seed is one possible "
             "history: an effect can hide in a single run, so try two or three seeds.", ""]
    for exp in EXPERIMENTS:
        lines += [f"### {exp.title}", "",
                  f"- **Do**: {exp.instructions()}",
                  f"- **Watch**: {exp.watch}.",
                  f"- **Why**: {exp.why}.", ""]
    return "\n".join(lines)


@cache
def info_markdown() -> str:
    """The whole Info panel as Markdown."""
    return "\n".join((WHAT_IS_IT, HOW_IT_WORKS, knob_table(), HOW_TO_USE, NOTICE,
                      things_to_try(), EXTENDING))


def glossary_markdown() -> str:
    rows = ["| Term | Pinyin | Meaning |", "|---|---|---|"]
    rows += [f"| {term} | {pinyin} | {meaning} |" for term, pinyin, meaning in GLOSSARY]
    return "## Glossary of Chinese terms\n\n" + "\n".join(rows)


def to_html(text: str) -> str:
    return markdown.markdown(text, extensions=["tables"])


@cache
def info_html() -> str:
    return to_html(info_markdown())


@cache
def glossary_html() -> str:
    return to_html(glossary_markdown())
