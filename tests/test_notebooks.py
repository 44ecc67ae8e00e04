"""Every notebook runs, in quick mode, and writes figures that show what they claim.

Executed with papermill (QUICK=True, FIGURES_DIR=a temporary directory so
the committed figures/ are never overwritten by a quick run); an exception
in any cell fails the test.  Each figure must have drawn something, carry
its title and name every design it compares, and its one line of provenance
must agree with its NAME.txt, whose sha256 must be those of the data files
as they are.  Also: each .ipynb is the jupytext pair of its .py and carries
no outputs.
"""
from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jupytext
import matplotlib.image
import papermill
import pytest

import model

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("q*.py"))
ALL = tuple(model.DESIGNS)

# The figures each notebook must write (model/figures.py DRAW): the start of
# the title and the names the figure must show.
EXPECTED = {
    "q1_cost_per_call": {"q1_cost_per_call": ("Q1:", ("vdso", "syscall"))},
    "q2_memory": {"q2_memory": ("Q2:", ALL)},
    "q3_pressure": {"q3_claim": ("Q3: Ingo's claim tested", ("droppable",)),
                    "q3_scenarios": ("Q3: memory pressure per design", ALL),
                    "q3_measured_drops": ("Q3 measured:", ())},
    "q4_fork": {"q4_fork": ("Q4:", ALL)},
    "q5_complexity": {"q5_tradeoff": ("Q5:", ALL)},
    "q6_scale": {"q6_scale": ("Q6:", ALL)},
}


def svg_text(path: Path) -> list[str]:
    """Every text element of an SVG written with svg.fonttype none."""
    return ["".join(e.itertext()) for e in ET.parse(path).iter("{http://www.w3.org/2000/svg}text")]


def check_figure(out: Path, name: str, title: str, names: tuple) -> None:
    # Data is drawn in colour; frames, grids and text are grey (an empty
    # figure of axes and titles has no coloured pixel at all).
    pixels = matplotlib.image.imread(out / f"{name}.png")[..., :3]
    coloured = (pixels.max(axis=2) - pixels.min(axis=2) > 0.25).mean()
    assert coloured > 5e-4, f"{name}.png: no data drawn ({coloured:.3%} coloured pixels)"
    texts = svg_text(out / f"{name}.svg")
    assert any(t.startswith(title) for t in texts), f"{name}: no title {title!r}"
    for shown in names:
        assert any(shown in t for t in texts), f"{name}: {shown!r} not shown"
    # One line of provenance on the figure, the rest in NAME.txt, which it names.
    lines = [t for t in texts if t.startswith("effort 'quick', model ")]
    assert len(lines) == 1 and f"details in {name}.txt" in lines[0], lines
    sidecar = (out / f"{name}.txt").read_text()
    files = re.findall(r"^([0-9a-f]{64})  (data/\S+)$", sidecar, re.M)
    for digest, path in files:
        assert hashlib.sha256((REPO / path).read_bytes()).hexdigest() == digest, path
    if files:
        listed = "".join(f"{d}  {p}\n" for d, p in files)
        shown = re.search(r"data: \d+ files? sha256 ([0-9a-f]{12})", lines[0]).group(1)
        assert hashlib.sha256(listed.encode()).hexdigest().startswith(shown)
    else:
        assert "no data/ file" in lines[0]


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
    for name, (title, names) in EXPECTED[source.stem].items():
        check_figure(out, name, title, names)
