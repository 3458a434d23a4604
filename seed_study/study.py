"""Seed study: seeds 0 to settings.STUDY_SEEDS - 1 of each variant of settings.VARIANTS,
compared in the pairs of settings.COMPARISONS.

Every model is trained by helpers.train_autoencoder as the report trains its own
(training.train_job) and saved under build/seed_models/, named by the digest of its training
code, settings and seed; a model saved before is not trained again. Every model is then scored
from its file (scoring.score_file) and the study writes seed_study.json (run it with
`make seeds`): per model, seed and measure the value, per model the mean and sample sd
(ddof=1); per comparison the family of every quantity once and the curves over the noise
levels, each measure with its exact sign-flip test, simultaneous 95% interval, margin and
verdict (statistics.compare); and the code similarity (linear CKA, 10-nearest-neighbour
overlap on all test images) of every pair of models. On the CPU the jobs run in worker
processes, one thread each, as many as the machine has cores; on a GPU one after another.

What each measure is, the family, the test and the margins: seed_study/notes.json, copied
into seed_study.json as "notes".
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
import provenance
import runtime
import settings
from seed_study import scoring as seed_scoring
from seed_study import statistics as seed_statistics
from seed_study import training as seed_training
from settings import Training, Variant

NOTES_FILE = ROOT / "seed_study" / "notes.json"
MODELS_DIR = ROOT / "build" / "seed_models"


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


def study_digest(study: dict) -> str:
    """Return the digest of what made a study document: the code run_study runs and its
    settings (provenance.digest of the "seed study")."""
    described = {"seeds": study["seeds"], "settings": study["settings"],
                 "comparisons": [comparison["models"] for comparison in study["comparisons"]]}
    return provenance.digest("seed study", described)


def staleness(study: dict) -> str:
    """Return why a study document is stale against this code and its default settings on the
    CPU ('' if it is current)."""
    expected = default_settings(len(study["seeds"]))
    return provenance.staleness("seed study", study.get("code_digest"), expected)


@contextlib.contextmanager
def worker_pool(device: str, workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """Yield a pool of `workers` spawned processes of one thread each on the CPU; None on
    another device or for 0 workers, where the jobs run one after another in this process
    (on its threads)."""
    if device != "cpu" or workers == 0:
        yield None
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=seed_training.init_worker) as pool:
        yield pool


def run_jobs(pool: ProcessPoolExecutor | None, function: Callable,
             calls: list[tuple]) -> Iterator[tuple[int, object]]:
    """Yield (index, function(*calls[index])) as each call finishes, in the pool if any."""
    if pool is None:
        for index, call in enumerate(calls):
            yield index, function(*call)
        return
    futures = {pool.submit(function, *call): index for index, call in enumerate(calls)}
    try:
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        for future in futures:
            future.cancel()
        raise


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
    return (scores, history, test codes) per job."""
    device = runtime.get_device().type
    paths = [seed_training.model_file(models_dir, job, spec, device) for job in jobs]
    missing = [(job, spec, path) for job, path in zip(jobs, paths) if not path.is_file()]
    start = time.perf_counter()
    log(f"{len(jobs) - len(missing)} of {len(jobs)} models saved in {models_dir}; training "
        f"{len(missing)} on {device}" + (f" in {workers} processes" if device == "cpu" else ""))
    results: list = [None] * len(jobs)
    with worker_pool(device, workers) as pool:
        for index, trained in run_jobs(pool, seed_training.train_job, missing):
            job = missing[index][0]
            log(f"trained {job.model} seed {job.seed} in {trained['seconds']:.0f} s "
                f"({time.perf_counter() - start:.0f} s)")
        scored_from = time.perf_counter()
        calls = [(path, job, spec, scoring) for path, job in zip(paths, jobs)]
        for index, result in run_jobs(pool, seed_scoring.score_file, calls):
            results[index] = result
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=settings.STUDY_SEEDS)
    parser.add_argument("--epochs", type=int, default=settings.SHEET.epochs)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes on the CPU (default: one per core; 0: "
                        "train and score in this process)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--output", type=Path, default=ROOT / "seed_study.json")
    args = parser.parse_args()

    start = time.perf_counter()
    study = run_study(settings.VARIANTS, settings.COMPARISONS, list(range(args.seeds)),
                      dataclasses.replace(settings.SHEET, epochs=args.epochs), settings.SCORING,
                      seed_training.DataSpec(str(ROOT / "data")), args.models_dir, args.workers)
    notes = json.loads(NOTES_FILE.read_text(encoding="utf-8"))
    study = {"seeds": study["seeds"], "settings": study["settings"],
             "code_digest": study_digest(study), "notes": notes} | study
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
