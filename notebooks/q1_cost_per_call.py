# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Q1: cost per call
#
# vDSO `getrandom()` against the syscall, by request size and by thread
# count, measured on the running kernel by the C harness (`make calibrate`
# writes `data/host/callcost.csv`), beside the service times the model uses.
# No model logic here: everything comes from `model.questions.q1`.

# %% tags=["parameters"]
# QUICK: the test suite's few replications (seconds); False: the full study.
QUICK = False
# Where figures go; None: figures/ (results/figures-quick/ when QUICK).
FIGURES_DIR = None
# Costs set by hand instead of data/host, as `--what-if` takes them
# (e.g. ["facts"]); every figure then says so.
WHAT_IF = []

# %%
from IPython.display import SVG, display

from model import figures, questions

effort, out, costs = figures.notebook_setup(QUICK, FIGURES_DIR, WHAT_IF)

# %%
answer = questions.q1(effort, costs=costs)
for note in answer.notes:
    print("note:", note)
answer.measured.get("speedup", "data/host/callcost.csv absent")

# %%
answer.simulated["service_time"]

# %%
answer.measured.get("selftest_agreement", "data/host/selftest_agreement.csv absent")

# %%
paths = figures.draw_q1(answer, effort, out)
display(SVG(filename=str(paths[1])))

# %% [markdown]
# Every machine measured, side by side, as `python -m model costs` prints
# them: `data/host/` (the model's costs) and any directory laid out as
# `data/` under it (`data/xeon/host/`, an Intel Xeon), with a call after
# an idle gap where `idlecall.csv` was measured, and a thread calling
# alone once a gap where each way was timed alone.  The
# model runs on `data/host/`'s costs alone.

# %%
from model import hostcosts

print(hostcosts.side_by_side())
