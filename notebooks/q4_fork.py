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
# # Q4: fork and secrecy
#
# A pre-forking server with swap: key bytes that can reach swap or a core
# dump, states shared over fork, reseeds caused by wipe-on-fork, per design
# (simulated), and the measured fork behaviour (`data/host/fork.csv`).

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
answer = questions.q4(effort, costs=costs)
for note in answer.notes:
    print("note:", note)
runs = answer.simulated["fork"]
runs[runs["metric"].isin(questions.Q4_METRICS)].pivot_table(
    index="metric", columns="design", values="value")

# %%
answer.measured.get("fork", "data/host/fork.csv absent")

# %%
paths = figures.draw_q4(answer, effort, out)
display(SVG(filename=str(paths[1])))
