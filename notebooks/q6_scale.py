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
# # Q6: scale
#
# A fleet of machines x threads x calls per second: CPU time saved per day
# against state memory pinned, with every assumption printed.  Per-thread
# memory comes from the Q2 runs, per-call saving from the model's costs
# (calls back to back) and, as squares, from a thread calling alone once a
# period where the machine measured it so (data/host/idlecall.csv).

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
q2_answer = questions.q2(effort, costs=costs)
answer = questions.q6(effort, q2_answer, costs=costs)
for note in answer.notes:
    print("note:", note)
answer.simulated["fleet"]

# %%
paths = figures.draw_q6(answer, effort, out)
display(SVG(filename=str(paths[1])))
