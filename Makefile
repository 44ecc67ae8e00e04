# The study's entry points.  `make study` and `make test` are the two a new
# user needs; everything else is a step of those or slow work of its own.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Debian packages: the C harness and the kernel tree for the patch checks.
DEBS_TEST    := gcc libc6-dev make patch linux-source-6.12
# ... and what building and booting the patched kernels needs.
DEBS_KERNELS := $(DEBS_TEST) qemu-system-x86 busybox-static bc flex bison \
                libelf-dev libssl-dev cpio xz-utils

.PHONY: all venv debian-deps study test test-slow bench calibrate kernels \
        calibrate-guests complexity validate sweep figures report clean

all: study

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(STAMP)

debian-deps:
	scripts/debian-deps $(DEBS_TEST)

# The study on defaults: every default scenario for every design, then
# the figures and the report.  Minutes, not hours.  Everything it writes is
# under results/ (figures in results/figures/): a fresh clone stays clean.
study: venv
	$(PY) -m model study

test: venv debian-deps
	$(PY) -m pytest

# The slow tests (whole Q3 sweep, the kernel selftest build): run them before
# calling an issue that touches them resolved.
test-slow: venv debian-deps
	STUDY_SLOW=1 $(PY) -m pytest -m slow

bench: venv
	$(PY) -m bench

# Measure the running kernel (writes data/host/); openssl for the ChaCha20
# reference beside callcost.
calibrate: venv
	scripts/debian-deps $(DEBS_TEST) openssl
	$(PY) -m measure.host

# Slow: build the five kernel variants of kernel-patches/ and measure them under QEMU.
kernels: venv
	scripts/debian-deps $(DEBS_KERNELS)
	$(PY) -m measure.kernels build

calibrate-guests: kernels
	$(PY) -m measure.kernels measure
	$(PY) -m measure.kernels campaign

complexity: venv
	$(PY) -m measure.complexity

validate: venv
	$(PY) -m model validate

# A replicated sweep with confidence intervals; results/sweeps/NAME/.
# Interrupt it at will: finished runs are cached and a rerun resumes.
SWEEP ?= model/sweeps/q3-pressure.toml
sweep: venv
	$(PY) -m model sweep $(SWEEP)

# Every committed figure, at the effort they were committed with (slow: 11-22
# minutes here).  The only target that writes figures/.
figures: venv
	$(PY) -m model figures --effort full

report: venv
	$(PY) -m model report

clean:
	rm -rf results build
