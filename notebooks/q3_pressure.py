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
# # Q3: memory pressure, and Ingo's claim tested
#
# The study's pressure scenarios per design (replicated, paired by seed), the
# probability that a state is dropped within its 60 s key life against the
# pressure level (Ingo: "99.999% of cases won't ever be dropped"), and the
# measured drops under memcg pressure on this kernel (`data/host/pressure.csv`).

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
answer = questions.q3(effort, costs=costs)
for note in answer.notes:
    print("note:", note)
answer.simulated["claim"]

# %%
print(figures.crossing_text(answer.values, answer.simulated["claim"]))

# %%
answer.measured.get("drops", "data/host/pressure.csv absent")

# %%
for draw in (figures.draw_q3_claim, figures.draw_q3_scenarios, figures.draw_q3_measured):
    paths = draw(answer, effort, out)
    display(SVG(filename=str(paths[1])))
