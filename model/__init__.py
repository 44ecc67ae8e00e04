"""A SimPy model of vDSO getrandom() state memory, design by design (model.sim.designs)."""
from .sim.designs import DESIGNS
from .scenario import Scenario, ScenarioError, load
from .sim.simulation import Result, simulate

__all__ = ["DESIGNS", "Scenario", "ScenarioError", "load", "Result", "simulate"]
