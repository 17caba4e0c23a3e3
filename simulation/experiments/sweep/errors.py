"""The error of a bad sweep file or option (its own module: spec and models both raise it)."""

from simulation.model.scenario import ScenarioError


class SweepError(ScenarioError):
    """A sweep file or sweep option is not acceptable (exit code 2); names file and key."""
