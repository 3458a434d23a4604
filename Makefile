# The two commands of the README: `make report` and `make test`. Both set up what is missing.
# tools/setup.sh makes .venv; PYTHON=python3.12 make test names the Python it is made with.
VENV_PYTHON := .venv/bin/python

.PHONY: report run test setup html bench seeds

report: setup  ## export the committed notebooks: dist/exercise9.pdf, dist/companion.pdf, the ZIP
	$(VENV_PYTHON) tools/build_report.py

run: setup  ## run both notebooks top to bottom (the committed run), then export as `report`
	$(VENV_PYTHON) tools/build_report.py --execute

test: setup  ## unit tests beside the notebook under nbval (2 workers), the PDF and ZIP checks
	$(VENV_PYTHON) -m pytest -n 2 --dist loadscope --no-loadscope-reorder

setup:  ## install what is missing (system packages as root on Debian, .venv, data)
	sh tools/setup.sh

html: setup  ## HTML export, a fallback that needs no LaTeX
	$(VENV_PYTHON) tools/build_report.py --html

bench: setup  ## seconds per epoch against a tutorial-style baseline
	$(VENV_PYTHON) bench/bench_epoch.py

seeds: setup  ## the seed study (seed_study/PLAN.md): seeds 40 to 59 of the plain and denoising models (the replication) -> seed_study.json; trains only models not in build/seed_models/
	$(VENV_PYTHON) -m seed_study

.PHONY: verify
verify: setup  ## the notebook's models against the pilot's seed 0, and the study's first plain model trained anew against seed_study.json (minutes)
	$(VENV_PYTHON) -m seed_study --verify

.PHONY: portability
portability:  ## the ZIP's check (pytest --nbval exercise9.ipynb) on Python 3.12 and 3.13: not root, umask 077, no LaTeX, offline
	sh tools/portability.sh
