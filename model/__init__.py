"""A SimPy model of vDSO getrandom() state memory under five kernel designs."""
from .designs import DESIGNS
from .scenario import Scenario, ScenarioError, load
from .simulation import Result, simulate

__all__ = ["DESIGNS", "Scenario", "ScenarioError", "load", "Result", "simulate"]
