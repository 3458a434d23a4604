"""Seed study: seeds 0 to settings.STUDY_SEEDS - 1 of each variant of settings.VARIANTS,
compared in the pairs of settings.COMPARISONS.

Every model is trained by safeguards.train as the report trains its own
(training.train_job) and saved under build/seed_models/, keyed by what determines it (its
variant, seed, training settings, data and device); a model saved before is not trained again.
Every model is then scored from its file (scoring.score_file) and the study writes
seed_study.json (run it with `make seeds`): per model, seed and measure the value, per model
the mean and sample sd (ddof=1); per comparison the family of every quantity once and the
curves over the noise levels, each measure with its exact sign-flip test, simultaneous 95%
interval, margin and verdict (statistics.compare); and the code similarity (linear CKA,
10-nearest-neighbour overlap on all test images) of every pair of models. On the CPU the jobs
run in joblib's worker processes, one thread each, as many as the machine has cores; on a GPU
one after another.

`make verify` (--verify) checks the records of seed 0 against models made again: the
notebook's two saved models (models/*.pt), and seed 0 of each other variant trained anew.

What each measure is, the family, the test and the margins: seed_study/notes.json, copied
into seed_study.json as "notes".
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

import provenance
import runtime
import settings
from seed_study import scoring as seed_scoring
from seed_study import statistics as seed_statistics
from seed_study import training as seed_training
from settings import Training, Variant

ROOT = Path(__file__).resolve().parents[1]
NOTES_FILE = ROOT / "seed_study" / "notes.json"
MODELS_DIR = ROOT / "build" / "seed_models"
NOTEBOOK_MODELS = {name: ROOT / "models" / f"{name}.pt"  # saved by exercise9.ipynb, seed 0
                   for name in ("autoencoder", "denoising_autoencoder")}


def study_settings(variants: dict[str, Variant], training: Training, scoring: dict,
                   device: str) -> dict:
    """Return a study's "settings" as seed_study.json records them."""
    return {**dataclasses.asdict(training),
            "models": {name: variant.to_dict() for name, variant in variants.items()},
            **scoring, "device": device}


def default_settings(seeds: int = settings.STUDY_SEEDS, device: str = "cpu") -> dict:
    """Return the "seeds", "settings" and "comparisons" of the study that settings.py
    describes, on this device."""
    return {"seeds": list(range(seeds)),
            "settings": study_settings(settings.VARIANTS, settings.SHEET, settings.SCORING,
                                       device),
            "comparisons": [list(pair) for pair in settings.COMPARISONS]}


def run_parallel(function: Callable, calls: list[tuple], workers: int) -> Iterator:
    """Yield function(*call) for each call, in order: in `workers` processes (joblib), each
    call on one thread (training.one_thread); for 0 workers in this process, on its threads."""
    if workers == 0:
        return (function(*call) for call in calls)
    return Parallel(n_jobs=workers, return_as="generator")(
        delayed(seed_training.one_thread)(function, *call) for call in calls)


def make_jobs(variants: dict[str, Variant], seeds: list[int], training: Training) -> list:
    """Return one seed_training.Job per variant and seed."""
    return [seed_training.Job(name, seed, variant, training)
            for name, variant in variants.items() for seed in seeds]


def similarities(codes: dict[tuple[str, int], np.ndarray], models: list[str], seeds: list[int],
                 neighbours: int) -> list[dict]:
    """Return the linear CKA and neighbour overlap of the test codes of every pair of models."""
    nearest = {key: seed_scoring.nearest_neighbours(code, neighbours) for key, code in codes.items()}
    return [{"models": [first[0], second[0]], "seeds": [first[1], second[1]],
             "cka": seed_scoring.linear_cka(codes[first], codes[second]),
             "knn_overlap": seed_scoring.neighbour_overlap(nearest[first], nearest[second])}
            for first, second in seed_statistics.model_pairs(models, seeds)]


def train_and_score(jobs: list, spec: seed_training.DataSpec, scoring: dict, models_dir: Path,
                    workers: int, log: Callable[[str], None] = print) -> list[tuple]:
    """Train the jobs whose model is not saved yet, then score every job's saved model;
    return (scores, history, test codes) per job. On a GPU the jobs run one after another."""
    device = runtime.get_device().type
    workers = workers if device == "cpu" else 0
    paths = [seed_training.model_file(models_dir, job, spec, device) for job in jobs]
    missing = [(job, spec, path) for job, path in zip(jobs, paths) if not path.is_file()]
    start = time.perf_counter()
    log(f"{len(jobs) - len(missing)} of {len(jobs)} models saved in {models_dir}; training "
        f"{len(missing)} on {device}" + (f" in {workers} processes" if workers else ""))
    for (job, _, _), trained in zip(missing, run_parallel(seed_training.train_job, missing,
                                                          workers)):
        log(f"trained {job.model} seed {job.seed} in {trained['seconds']:.0f} s "
            f"({time.perf_counter() - start:.0f} s)")
    scored_from = time.perf_counter()
    calls = [(path, job, spec, device, scoring) for path, job in zip(paths, jobs)]
    results = list(run_parallel(seed_scoring.score_file, calls, workers))
    log(f"training {scored_from - start:.0f} s, scoring {time.perf_counter() - scored_from:.0f} s")
    return results


def run_study(models: dict[str, Variant], comparisons: list[tuple[str, str]], seeds: list[int],
              training: Training, scoring: dict, spec: seed_training.DataSpec,
              models_dir: Path, workers: int, log: Callable[[str], None] = print) -> dict:
    """Return the seed study of `models` (train what is not saved, score all, compare)."""
    jobs = make_jobs(models, seeds, training)
    results = dict(zip([(job.model, job.seed) for job in jobs],
                       train_and_score(jobs, spec, scoring, models_dir, workers, log)))
    study = {"seeds": seeds, "settings": study_settings(models, training, scoring,
                                                        str(runtime.get_device()))}
    for name in models:
        per_seed = [results[name, seed][0] for seed in seeds]
        study[name] = {key: seed_statistics.summary([scores[key] for scores in per_seed])
                       for key in seed_statistics.MEASURES if key in per_seed[0]}
    study["restarts"] = {name: [results[name, seed][1]["restarts"] for seed in seeds]
                         for name in models}
    study["comparisons"] = [seed_statistics.compare(study, *pair) for pair in comparisons]
    codes = {key: result[2] for key, result in results.items()}
    pairs = similarities(codes, list(models), seeds, scoring["neighbours"])
    labels = {name: variant.label for name, variant in models.items()}
    study["similarity"] = {"summary": seed_statistics.similarity_summary(pairs, labels),
                           "pairs": pairs}
    return study


def verify(study: dict, variants: dict[str, Variant], spec: seed_training.DataSpec,
           models_dir: Path, workers: int, log: Callable[[str], None] = print) -> list[str]:
    """Return how seed 0 of each of `variants`, trained anew into `models_dir` with the study's
    settings and scored as the study scores it, differs from the study's records of seed 0."""
    recorded = study["settings"]
    training = Training(**{field.name: recorded[field.name]
                           for field in dataclasses.fields(Training)})
    jobs = make_jobs(variants, [0], training)
    results = train_and_score(jobs, spec, recorded, models_dir, workers, log)
    return [problem for job, (scores, _, _) in zip(jobs, results)
            for problem in seed_scoring.record_problems(study, job.model, 0, scores)]


def verify_seed0(study_file: Path, workers: int) -> int:
    """Print how a study's records of seed 0 differ from its models made again (the
    notebook's saved ones, the others trained anew in a temporary folder, on the study's device
    unless $EXERCISE9_DEVICE names one); return the exit status, 1 if they differ."""
    study = json.loads(study_file.read_text(encoding="utf-8"))
    os.environ.setdefault(runtime.DEVICE_VARIABLE, study["settings"]["device"])  # as recorded
    spec = seed_training.DataSpec(str(ROOT / "data"))
    problems = seed_scoring.seed0_problems(NOTEBOOK_MODELS, study, spec)
    others = {name: settings.VARIANTS[name] for name in study["settings"]["models"]
              if name not in NOTEBOOK_MODELS}
    with tempfile.TemporaryDirectory() as folder:
        problems += verify(study, others, spec, Path(folder), workers)
    print("\n".join(problems) or f"seed 0 of every model reproduces {study_file.name}")
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=settings.STUDY_SEEDS)
    parser.add_argument("--epochs", type=int, default=settings.SHEET.epochs)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes on the CPU (default: one per core; 0: "
                        "train and score in this process)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--output", type=Path, default=ROOT / "seed_study.json")
    parser.add_argument("--verify", action="store_true",
                        help="check the records of seed 0 in --output against models made "
                        "again (the notebook's, the others trained anew); write nothing")
    args = parser.parse_args()
    if args.verify:
        sys.exit(verify_seed0(args.output, args.workers))

    start = time.perf_counter()
    study = run_study(settings.VARIANTS, settings.COMPARISONS, list(range(args.seeds)),
                      dataclasses.replace(settings.SHEET, epochs=args.epochs), settings.SCORING,
                      seed_training.DataSpec(str(ROOT / "data")), args.models_dir, args.workers)
    notes = json.loads(NOTES_FILE.read_text(encoding="utf-8"))
    study = {"seeds": study["seeds"], "settings": study["settings"], "notes": notes} | study
    provenance.write_text_atomically(args.output, provenance.json_text(study))
    print_tables(study)
    print(f"wrote {args.output.name}; total time {time.perf_counter() - start:.0f} s")


def print_tables(study: dict) -> None:
    """Print each comparison's families of paired differences with their simultaneous
    intervals, adjusted p and verdicts, and the similarity summary."""
    for comparison in study["comparisons"]:
        title = " - ".join(comparison["labels"]) + " [simultaneous 95%]"
        families = [comparison["rows"], *comparison["curves"].values(),
                    *comparison["classes"].values()]
        for rows in families:
            print(f"\n{'measure':<34}{title:>40}{'p adj.':>8}  verdict")
            for row in rows:
                low, high = row["interval"]
                print(f"{row['label']:<34}{row['mean']:>+12.4f} [{low:+.4f}, {high:+.4f}]"
                      f"{row['p_adjusted']:>8.3f}  {row['verdict']}")
    print()
    for group, values in study["similarity"]["summary"].items():
        print(f"{group:<28} pairs {values['pairs']:>2}  CKA {values['cka']['mean']:.3f} +- "
              f"{values['cka']['sd']:.3f}  10-NN overlap {values['knn_overlap']['mean']:.3f} +- "
              f"{values['knn_overlap']['sd']:.3f}")


if __name__ == "__main__":
    main()
