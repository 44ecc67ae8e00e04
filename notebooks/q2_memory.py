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
# # Q2: memory per design
#
# State memory resident, unevictable and charged to RLIMIT_MEMLOCK against
# the number of threads of one process (simulated), and where the mlock
# designs fall back to the syscall; the measured capacity of RLIMIT_MEMLOCK
# from `data/host/memlock.csv` where present.

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
answer = questions.q2(effort, costs=costs)
for note in answer.notes:
    print("note:", note)
answer.simulated["memory"]

# %%
answer.measured.get("memlock", "data/host/memlock.csv absent")

# %%
paths = figures.draw_q2(answer, effort, out)
display(SVG(filename=str(paths[1])))
