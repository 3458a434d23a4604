# The two commands of the README: `make report` and `make test`. Both set up what is missing.
# tools/setup.sh makes .venv; PYTHON=python3.12 make test names the Python it is made with.
VENV_PYTHON := .venv/bin/python

.PHONY: report test setup html bench seeds collapse-check

report: setup  ## execute the notebook if stale, export dist/exercise9.pdf and dist/exercise9.zip
	$(VENV_PYTHON) tools/build_report.py $(if $(FORCE),--force)

test: setup  ## unit tests beside the notebook under nbval (2 workers), the PDF and ZIP checks
	$(VENV_PYTHON) -m pytest -n 2 --dist loadscope --no-loadscope-reorder

setup:  ## install what is missing (system packages as root on Debian, .venv, data)
	sh tools/setup.sh

html: setup  ## HTML export, a fallback that needs no LaTeX
	$(VENV_PYTHON) tools/build_report.py --html

bench: setup  ## seconds per epoch against a tutorial-style baseline
	$(VENV_PYTHON) bench/bench_epoch.py

seeds: setup  ## the seed study: 10 seeds of each model -> seed_study.json; trains only models not in build/seed_models/
	$(VENV_PYTHON) -m seed_study

collapse-check: setup  ## seeds 0-19, plain and denoising model, 5 epochs each
	$(VENV_PYTHON) bench/collapse_check.py

.PHONY: portability
portability:  ## the ZIP's quick tests on Python 3.12 and 3.13: not root, umask 077, no LaTeX, offline
	sh tools/portability.sh
