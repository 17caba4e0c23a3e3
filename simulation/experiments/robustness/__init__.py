"""Robustness of a ranking of strategies over many futures (`python run.py robustness`).

futures.py reads a futures file (the uncertainty: a calibrated ensemble, uncertain constants,
structural switches, what-if shocks) and draws the futures; driver.py runs every strategy and
the baseline in every future on paired seeds, streaming resumable part files. The tables,
report section and figures are analysis/robustness.py.
"""
