"""The seed study: `python -m seed_study` (`make seeds`) writes seed_study.json (study.py)."""
