"""Every notebook runs, in quick mode, and writes its figures.

Executed with papermill (QUICK=True, FIGURES_DIR=a temporary directory so
the committed figures/ are never overwritten by a quick run); an exception
in any cell fails the test.  Also: each .ipynb is the jupytext pair of its
.py and carries no outputs.
"""
from __future__ import annotations

import json
from pathlib import Path

import jupytext
import papermill
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("q*.py"))

# The figures each notebook must write (model/figures.py DRAW).
EXPECTED = {
    "q1_cost_per_call": ["q1_cost_per_call"],
    "q2_memory": ["q2_memory"],
    "q3_pressure": ["q3_claim", "q3_scenarios", "q3_measured_drops"],
    "q4_fork": ["q4_fork"],
    "q5_complexity": ["q5_tradeoff"],
    "q6_scale": ["q6_scale"],
}


def test_every_question_has_a_notebook():
    assert [p.stem for p in SOURCES] == sorted(EXPECTED)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_pair_in_sync_and_stripped(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run jupytext --sync {source.name}"
    paired = jupytext.read(ipynb)
    text = jupytext.read(source)
    code = lambda nb: [c.source for c in nb.cells]     # noqa: E731
    assert code(paired) == code(text), f"{ipynb.name} differs from {source.name}: jupytext --sync"
    raw = json.loads(ipynb.read_text())
    for cell in raw["cells"]:
        assert not cell.get("outputs"), f"{ipynb.name}: committed outputs, strip them"
        assert cell.get("execution_count") is None, f"{ipynb.name}: execution counts"
    tagged = [c for c in raw["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "QUICK = False" in "".join(tagged[0]["source"])


@pytest.mark.timeout(300)
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_executes_quick(source, tmp_path):
    out = tmp_path / "figures"
    papermill.execute_notebook(str(source.with_suffix(".ipynb")),
                               str(tmp_path / source.with_suffix(".ipynb").name),
                               parameters={"QUICK": True, "FIGURES_DIR": str(out)},
                               cwd=str(NOTEBOOKS), kernel_name="python3",
                               progress_bar=False, log_output=False)
    for name in EXPECTED[source.stem]:
        for ext in ("png", "svg"):
            path = out / f"{name}.{ext}"
            assert path.exists() and path.stat().st_size > 1000, path
        svg = (out / f"{name}.svg").read_text()
        # The provenance footnote travels with the figure.
        assert "effort 'quick'" in svg and "model " in svg
        assert "sha256" in svg or "ABSENT" in svg or "no data/ file" in svg
