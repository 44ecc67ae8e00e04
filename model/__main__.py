"""python -m model COMMAND ...: each command lives in its own module."""
from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "run": ("model.cli", "run_main", "run one scenario for some or all designs"),
    "study": ("model.cli", "study_main", "run the default study, then figures and report"),
    "sweep": ("model.sweep", "main", "a grid of scenarios x designs x replications"),
    "sensitivity": ("model.sensitivity", "main",
                    "vary each assumption over its plausible range: P(drop), reseed cost"),
    "validate": ("model.validate", "main", "predict held-out measurements, print the error"),
    "costs": ("model.hostcosts", "main", "each measured machine's per-call costs, side by side"),
    "figures": ("model.figures", "main", "regenerate every figure"),
    "report": ("model.report", "main", "write the plain-text report"),
}


def usage() -> str:
    lines = ["usage: python -m model COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<11} {help_}" for name, (_, _, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command '{name}' (known: {', '.join(COMMANDS)})",
              file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    return getattr(importlib.import_module(module), func)(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
