"""The seed study (`make seeds`): seeds 0 to settings.STUDY_SEEDS - 1 of each variant, trained as
the report trains its own and saved under build/seed_models/ (a saved model is not trained again),
scored, compared in pairs and written to seed_study.json. On the CPU the jobs run in joblib's
worker processes, one thread each. `--verify` (`make verify`) checks the records of seed 0
against the notebook's saved models and the other variants' seed 0 trained anew.
"""

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
from joblib import Parallel, delayed

import provenance
import runtime
from seed_study import scoring as seed_scoring
from seed_study import statistics as seed_statistics
from seed_study.training import DataSpec, Job, model_file, one_thread, train_job
from settings import COMPARISONS, SCORING, SHEET, STUDY_SEEDS, VARIANTS, Training, Variant

ROOT = Path(__file__).resolve().parents[1]
STUDY_FILE, NOTES_FILE = ROOT / "seed_study.json", ROOT / "seed_study" / "notes.json"
MODELS_DIR = ROOT / "build" / "seed_models"
NOTEBOOK_MODELS = {
    name: ROOT / "models" / f"{name}.pt" for name in ("autoencoder", "denoising_autoencoder")
}
Log = Callable[[str], None]


def study_settings(
    variants: dict[str, Variant], training: Training, scoring: dict, device: str
) -> dict:
    """Return a study's "settings" as seed_study.json records them."""
    models = {name: variant.to_dict() for name, variant in variants.items()}
    return {**dataclasses.asdict(training), "models": models, **scoring, "device": device}


def default_settings(seeds: int = STUDY_SEEDS, device: str = "cpu") -> dict:
    """Return the "seeds" and "settings" of the study that settings.py describes."""
    recorded = study_settings(VARIANTS, SHEET, SCORING, device)
    return {"seeds": list(range(seeds)), "settings": recorded}


def run_parallel(function: Callable, calls: list[tuple], workers: int) -> Iterator:
    """Yield function(*call) per call in order, in `workers` processes of one thread (0: here)."""
    if workers == 0:
        return (function(*call) for call in calls)
    jobs = (delayed(one_thread)(function, *call) for call in calls)
    return Parallel(n_jobs=workers, return_as="generator")(jobs)


def make_jobs(variants: dict[str, Variant], seeds: list[int], training: Training) -> list[Job]:
    """Return one job per variant and seed."""
    return [
        Job(name, seed, variant, training) for name, variant in variants.items() for seed in seeds
    ]


def train_and_score(
    jobs: list[Job], spec: DataSpec, scoring: dict, models_dir: Path, workers: int, log: Log = print
) -> list[tuple]:
    """Train the jobs whose model is not saved (one after another on a GPU), then score every
    saved model; return (scores, history, test codes) per job."""
    device = runtime.get_device().type
    workers = workers if device == "cpu" else 0
    paths = [model_file(models_dir, job, spec, device) for job in jobs]
    missing = [(job, spec, path) for job, path in zip(jobs, paths) if not path.is_file()]
    saved = len(jobs) - len(missing)
    log(f"{saved} of {len(jobs)} models saved; training {len(missing)} on {device}")
    for (job, _, _), trained in zip(missing, run_parallel(train_job, missing, workers)):
        log(f"trained {job.model} seed {job.seed} in {trained['seconds']:.0f} s")
    calls = [(path, job, spec, device, scoring) for path, job in zip(paths, jobs)]
    return list(run_parallel(seed_scoring.score_file, calls, workers))


def similarities(codes: dict[tuple[str, int], np.ndarray], neighbours: int) -> list[dict]:
    """Return the linear CKA and neighbour overlap of the test codes of every two (model, seed)."""
    nearest = {
        key: seed_scoring.nearest_neighbours(code, neighbours) for key, code in codes.items()
    }
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


def run_study(
    variants: dict[str, Variant],
    comparisons: list[tuple[str, str]],
    seeds: list[int],
    training: Training,
    scoring: dict,
    spec: DataSpec,
    models_dir: Path,
    workers: int,
    log: Log = print,
) -> dict:
    """Return the seed study of `variants`: train what is not saved, score all, compare."""
    jobs = make_jobs(variants, seeds, training)
    results = train_and_score(jobs, spec, scoring, models_dir, workers, log)
    by_job = {(job.model, job.seed): result for job, result in zip(jobs, results)}
    device = str(runtime.get_device())
    study = {"seeds": seeds, "settings": study_settings(variants, training, scoring, device)}
    study["notes"] = json.loads(NOTES_FILE.read_text(encoding="utf-8"))
    for name in variants:
        study[name] = seed_statistics.summaries([by_job[name, seed][0] for seed in seeds])
    study["restarts"] = {
        name: [by_job[name, seed][1]["restarts"] for seed in seeds] for name in variants
    }
    codes = {key: result[2] for key, result in by_job.items()}
    return compared(study, comparisons, similarities(codes, scoring["neighbours"]))


def verify(
    study: dict, variants: dict[str, Variant], spec: DataSpec, models_dir: Path, workers: int
) -> list[str]:
    """Return how seed 0 of each of `variants`, trained anew with the study's settings into
    `models_dir` and scored, differs from the study's records."""
    recorded, fields = study["settings"], [field.name for field in dataclasses.fields(Training)]
    training = Training(**{name: recorded[name] for name in fields})
    jobs = make_jobs(variants, [0], training)
    results = train_and_score(jobs, spec, recorded, models_dir, workers)
    problems = []
    for job, (scores, _, _) in zip(jobs, results):
        problems += seed_scoring.record_problems(study, job.model, 0, scores)
    return problems


def verify_seed0(workers: int) -> int:
    """Print how seed_study.json's records of seed 0 differ from its models made again (on the
    recorded device unless $EXERCISE9_DEVICE names one); return the exit status."""
    study = json.loads(STUDY_FILE.read_text(encoding="utf-8"))
    os.environ.setdefault(runtime.DEVICE_VARIABLE, study["settings"]["device"])
    spec, recorded = DataSpec(str(ROOT / "data")), study["settings"]["models"]
    problems = seed_scoring.seed0_problems(NOTEBOOK_MODELS, study, spec)
    others = {name: VARIANTS[name] for name in recorded if name not in NOTEBOOK_MODELS}
    with tempfile.TemporaryDirectory() as folder:
        problems += verify(study, others, spec, Path(folder), workers)
    print("\n".join(problems) or f"seed 0 of every model reproduces {STUDY_FILE.name}")
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Train, score and compare the seed study's models."
    )
    parser.add_argument("--seeds", type=int, default=STUDY_SEEDS)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="0: no workers")
    parser.add_argument("--verify", action="store_true", help="check seed 0 again; write nothing")
    args = parser.parse_args()
    if args.verify:
        sys.exit(verify_seed0(args.workers))
    seeds, spec = list(range(args.seeds)), DataSpec(str(ROOT / "data"))
    study = run_study(VARIANTS, COMPARISONS, seeds, SHEET, SCORING, spec, MODELS_DIR, args.workers)
    provenance.write_text_atomically(STUDY_FILE, provenance.json_text(study))
    print(f"wrote {STUDY_FILE.name}")
