"""The seed study: every variant's seeds trained, scored and compared into seed_study.json."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed, parallel_config

import provenance
import runtime
from seed_study import scoring as seed_scoring
from seed_study import statistics as seed_statistics
from seed_study.training import DataSpec, Job, is_saved, load_data, model_file, train_job
from settings import SHEET, Training
from study_settings import SCORING, STUDY_SEEDS, STUDY_VARIANTS, VARIANTS, Variant

ROOT = Path(__file__).resolve().parents[1]
STUDY_FILE, NOTES_FILE = ROOT / "seed_study.json", ROOT / "seed_study" / "notes.json"
PILOT_FILE = ROOT / "seed_study" / "pilot.json"  # the pilot of 2026-12-05, as it was
FIRST_STUDY_FILE = ROOT / "seed_study" / "first_study.json"  # seeds 10 to 38, as it was
PLAN_FILE = ROOT / "seed_study" / "PLAN.md"  # written before the study's runs
MODELS_DIR = ROOT / "build" / "seed_models"
NOTEBOOK_MODELS = {name: ROOT / "models" / f"{name}.pt" for name in STUDY_VARIANTS}  # seed 0


def study_settings(variants: dict, training: Training, scoring: dict, device: str) -> dict:
    """Return a study's "settings" as seed_study.json records them."""
    models = {name: variant.to_dict() for name, variant in variants.items()}
    return {**dataclasses.asdict(training), "models": models, **scoring, "device": device}


def run_parallel(function: Callable, calls: list[tuple], workers: int) -> Iterator:
    """Yield function(*call) per call in order, in `workers` processes of one thread (0: here)."""
    if workers == 0:
        return (function(*call) for call in calls)
    with parallel_config("loky", inner_max_num_threads=1):  # OMP_NUM_THREADS=1 and the like
        parallel = Parallel(n_jobs=workers, return_as="generator")
    return parallel(delayed(function)(*call) for call in calls)


def make_jobs(variants: dict, seeds: list[int], training: Training) -> list[Job]:
    """Return one job per variant and seed, seed by seed (a run cut short leaves whole pairs)."""
    return [Job(name, seed, variants[name], training) for seed in seeds for name in variants]


def train_and_score(
    jobs: list[Job], spec: DataSpec, scoring: dict, models_dir: Path, workers: int, log=print
) -> dict[tuple[str, int], tuple]:
    """Train the jobs not saved yet (on a GPU in turn); return (scores, history, codes) per job."""
    device = runtime.get_device().type
    workers = workers if device == "cpu" else 0
    paths = [model_file(models_dir, job, spec, device) for job in jobs]
    missing = [(job, spec, path) for job, path in zip(jobs, paths) if not is_saved(path)]
    saved = len(jobs) - len(missing)
    log(f"{saved} of {len(jobs)} models saved; training {len(missing)} on {device}")
    for (job, _, _), trained in zip(missing, run_parallel(train_job, missing, workers)):
        log(f"trained {job.model} seed {job.seed} in {trained['seconds']:.0f} s")
    calls = [(path, job, spec, device, scoring) for path, job in zip(paths, jobs)]
    results = run_parallel(seed_scoring.score_file, calls, workers)
    return {(job.model, job.seed): result for job, result in zip(jobs, results)}


def similarities(codes: dict[tuple[str, int], np.ndarray], neighbours: int) -> list[dict]:
    """Return the linear CKA and neighbour overlap of the test codes of every two (model, seed)."""
    nearest = {key: seed_scoring.nearest_neighbours(codes[key], neighbours) for key in codes}
    pairs = []
    for first, second in itertools.combinations(codes, 2):
        cka = seed_scoring.linear_cka(codes[first], codes[second])
        overlap = seed_scoring.neighbour_overlap(nearest[first], nearest[second])
        models, seeds = zip(first, second)
        pair = {"models": list(models), "seeds": list(seeds)}
        pairs.append(pair | {"cka": cka, "knn_overlap": overlap})
    return pairs


def compared(study: dict, comparisons: list[tuple[str, str]], pairs: list[dict]) -> dict:
    """Return the study with its comparisons and the summary of the code similarity of `pairs`."""
    labels = {name: model["label"] for name, model in study["settings"]["models"].items()}
    similarity = {"summary": seed_statistics.similarity_summary(pairs, labels), "pairs": pairs}
    tests = [seed_statistics.compare(study, *pair) for pair in comparisons]
    return study | {"comparisons": tests, "similarity": similarity}


def sized(study: dict, earlier_files: list[Path], spec: DataSpec) -> dict:
    """Return the study with the plan's sizing from the earlier studies beside what the study
    found, the first study's primary rows (the verdicts it replicates), and PCA-8's scores with
    each model's seeds tested against them."""
    earlier = [json.loads(path.read_text(encoding="utf-8")) for path in earlier_files]
    pca = seed_scoring.pca_scores(load_data(spec), study["settings"])
    models = study["settings"]["models"]
    tests = {model: seed_statistics.against(study, model, pca, "PCA-8") for model in models}
    return study | {
        "sizing": seed_statistics.sizing(earlier, study),
        "first_study": seed_statistics.comparison_of(earlier[-1])["primary"],
        "pca_8": pca,
        "against_pca_8": tests,
    }


def run_study(
    variants: dict[str, Variant],
    comparisons: list[tuple[str, str]],
    seeds: list[int],
    training: Training,
    scoring: dict,
    spec: DataSpec,
    models_dir: Path,
    workers: int,
    log: Callable[[str], None] = print,
) -> dict:
    """Return the seed study of `variants`: train what is not saved, score all, compare."""
    jobs = make_jobs(variants, seeds, training)
    results = train_and_score(jobs, spec, scoring, models_dir, workers, log)
    device = str(runtime.get_device())
    study = {"plan": "seed_study/PLAN.md", "pilot": "seed_study/pilot.json", "seeds": seeds}
    study["settings"] = study_settings(variants, training, scoring, device)
    study["notes"] = json.loads(NOTES_FILE.read_text(encoding="utf-8"))
    for name in variants:
        study[name] = seed_statistics.summaries([results[name, seed][0] for seed in seeds])
    study["restarts"] = {
        name: [results[name, seed][1]["restarts"] for seed in seeds] for name in variants
    }
    codes = {key: result[2] for key, result in results.items()}
    return compared(study, comparisons, similarities(codes, scoring["neighbours"]))


def verify(study: dict, variants: dict, seed: int, spec: DataSpec, folder: Path) -> list[str]:
    """Return how `seed` of `variants`, trained anew into `folder`, differs from its records."""
    fields = [field.name for field in dataclasses.fields(Training)]
    training = Training(**{name: study["settings"][name] for name in fields})
    jobs, problems = make_jobs(variants, [seed], training), []
    for (name, _), (scores, _, _) in train_and_score(
        jobs, spec, study["settings"], folder, 0
    ).items():
        problems += seed_scoring.record_problems(study, name, seed, scores)
    return problems


def verify_study() -> int:
    """Print how the notebook's models differ from the pilot's seed 0 and how the study's first
    seed of the plain model, trained anew, differs from seed_study.json; return the status."""
    study = json.loads(STUDY_FILE.read_text(encoding="utf-8"))
    pilot = json.loads(PILOT_FILE.read_text(encoding="utf-8"))
    os.environ.setdefault(runtime.DEVICE_VARIABLE, study["settings"]["device"])
    spec, first = DataSpec(str(ROOT / "data")), STUDY_VARIANTS[0]
    problems = seed_scoring.seed0_problems(NOTEBOOK_MODELS, pilot, spec)
    with tempfile.TemporaryDirectory() as folder:
        problems += verify(study, {first: VARIANTS[first]}, study["seeds"][0], spec, Path(folder))
    print("\n".join(problems) or f"the notebook's models and seed {study['seeds'][0]} reproduce")
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Train, score and compare the seed study.")
    parser.add_argument("--seeds", type=int, default=len(STUDY_SEEDS), help="the first N seeds")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="0: no workers")
    parser.add_argument("--verify", action="store_true", help="check a seed again; write nothing")
    args = parser.parse_args()
    if args.verify:
        sys.exit(verify_study())
    seeds, spec = STUDY_SEEDS[: args.seeds], DataSpec(str(ROOT / "data"))
    variants = {name: VARIANTS[name] for name in STUDY_VARIANTS}
    study = run_study(
        variants, [STUDY_VARIANTS], seeds, SHEET, SCORING, spec, MODELS_DIR, args.workers
    )
    study = sized(study, [PILOT_FILE, FIRST_STUDY_FILE], spec)
    provenance.write_atomically(STUDY_FILE, provenance.json_text(study))
    print(f"wrote {STUDY_FILE.name}")
