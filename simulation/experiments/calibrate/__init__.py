"""Calibration to a county's own statistics: `python run.py calibrate TARGETS.toml`.

    spec.py      targets files: free parameters (schema keys and ranges), targets (ranges or
                 values with uncertainty, per year or window), validation
    emulate.py   history matching: Gaussian-process emulators, implausibility, refocusing
    driver.py    the waves, resumable part files, the plausible ensemble, the best fit and
                 the calibrated county profile

The fit report (fit.md, figures) is written by the analysis layer (analysis/calibration_fit.py).
"""
