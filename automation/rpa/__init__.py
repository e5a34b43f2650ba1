"""Shared RPA scenarios: the scenario model, tenant overrides, and the Playwright executor.

Public API::

    from automation.rpa import load_scenario, run_scenario, BrowserSession
"""
from .browser import BrowserSession
from .executor import (RecordResult, RpaConfigError, ScenarioRunResult, load_scenario, resolve_system,
                       run_scenario)
from .model import Scenario, ScenarioError, ScenarioProblem, load_scenario_file
from .overrides import EffectiveScenario, apply_override

__all__ = ["BrowserSession", "EffectiveScenario", "RecordResult", "RpaConfigError", "Scenario", "ScenarioError",
           "ScenarioProblem", "ScenarioRunResult", "apply_override", "load_scenario", "load_scenario_file",
           "resolve_system", "run_scenario"]
