"""The seed study (`make seeds`, or `python -m seed_study`; writes seed_study.json): training.py
trains and saves one model per job, scoring.py measures a saved model, statistics.py compares the
models over the seeds, study.py runs it all; notes.json says what each measure is."""
