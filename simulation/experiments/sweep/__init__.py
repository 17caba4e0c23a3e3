"""Sensitivity sweeps and scenario discovery (issue 4).

    python run.py sweep scenarios/sweeps/mechanisms_sobol.toml [--workers N | --scheduler ADDR]
    python run.py discover results/sweeps/mechanisms_sobol --metric returned_households --below X

Modules, one job each:

    spec.py      sweep-file schema and validation (SweepSpec, load_sweep, SweepError)
    models.py    model plug-ins: the M County model and the Ishigami test function
    design.py    SALib samplers / full-factorial grid, and the seed of every run
    execute.py   executors (in-process, local fork pool, Dask) and the chunk worker
    store.py     the sweep folder: Parquet part files, manifest, resume
    driver.py    run_sweep: plan, stream, resume, then analyse
    analysis.py  Sobol / Morris / FAST / RBD-FAST / delta / grid indices, convergence
    figures.py   figures of indices, convergence, S2, outputs against top factors
    discover.py  PRIM scenario discovery (EMA Workbench)
    commands.py  the two CLI commands
"""
