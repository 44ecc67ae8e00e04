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
# # Q5: complexity against benefit
#
# Lines, flags and special cases each design adds to the kernel
# (`data/complexity.csv`, counted from the patches and cited for upstream)
# against what it buys: CPU time saved against the syscall (per call made,
# each call priced as measured after its gap, in a process as busy or
# alone, and back to back: the `b2b` column), memory pinned, states lost
# and OOM kills in the Q3 scenarios.

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
q3_answer = questions.q3(effort, costs=costs)
answer = questions.q5(effort, q3_answer)
for note in answer.notes:
    print("note:", note)
answer.measured.get("complexity", "data/complexity.csv absent")

# %%
answer.simulated["benefit"]

# %%
paths = figures.draw_q5(answer, effort, out)
display(SVG(filename=str(paths[1])))
