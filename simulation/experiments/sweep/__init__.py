"""Sensitivity sweeps: sweep files, designs, executors, the sweep folder, resume.

    python run.py sweep scenarios/sweeps/mechanisms_sobol.toml [--workers N | --scheduler ADDR]
    python run.py discover results/sweeps/mechanisms_sobol --metric returned_households --below X

Modules here, one job each (the experiments layer: they run the model, they do not analyse):

    spec.py      sweep-file schema and validation (SweepSpec, load_sweep)
    errors.py    SweepError
    models.py    model plug-ins: the M County model and the Ishigami test function
    design.py    SALib samplers / full-factorial grid, and the seed of every run
    execute.py   executors (in-process, local fork pool, Dask) and the chunk worker
    store.py     the sweep folder: Parquet part files, manifest, resume
    driver.py    run_sweep: plan, stream, resume

The analysis of a complete sweep is in the analysis layer: analysis/sweep_indices.py (Sobol,
Morris, FAST, RBD-FAST, delta, grid indices, convergence), analysis/sweep_figures.py,
analysis/sweeps.py (writes them into the folder) and analysis/discovery.py (PRIM); the two
commands are simulation/cli/sweeps.py.
"""
