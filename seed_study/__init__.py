"""The seed study: seeds 0 to settings.STUDY_SEEDS - 1 of each model variant, trained as the
report trains its own, scored and compared in pairs (`make seeds`, or `python -m seed_study`; writes seed_study.json).

training.py trains and saves one model per job, scoring.py measures a saved model,
statistics.py compares the models over the seeds, study.py runs the whole study and notes.json
says what each measure is.
"""
