"""Households returning to poverty in M County — command line. See `python run.py --help`."""

from simulation.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
