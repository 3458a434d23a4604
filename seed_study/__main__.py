"""Run the seed study: python -m seed_study [--seeds N] [--workers N] [--verify]."""

from seed_study.study import main

main()
