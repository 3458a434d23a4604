"""bench/seed_study.py and the committed seed_study.json: made by the current code, and holding
what Question 3 c) reads (the paired tests, the code similarity, the code stability)."""

import importlib.util
import json
from pathlib import Path

import pytest

import seed_statistics

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seed_study_script():
    spec = importlib.util.spec_from_file_location("seed_study", ROOT / "bench" / "seed_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def study() -> dict:
    path = ROOT / "seed_study.json"
    assert path.exists(), "seed_study.json is missing: run `make seeds`"
    return json.loads(path.read_text(encoding="utf-8"))


def test_seed_study_was_made_by_the_code_it_runs_now(seed_study_script, study):
    assert study["code_digest"] == seed_study_script.code_digest(), (
        "seed_study.json is stale: the code it runs has changed; run `make seeds`")


def test_every_measure_has_its_paired_test_and_the_verdict_of_the_one_rule(study):
    rows = study["comparison"]
    assert [row["label"] for row in rows] == [
        label for _, label, _, _ in seed_statistics.measure_rows(
            study["settings"], study["autoencoder"])]
    corrected = seed_statistics.holm([row["p"] for row in rows])
    for row, p_holm in zip(rows, corrected):
        assert row["seeds"] == len(study["seeds"]) >= 5
        assert row["ci95"][0] <= row["mean"] <= row["ci95"][1]
        assert row["p_holm"] == pytest.approx(p_holm) and row["p_holm"] >= row["p"]
        assert row["verdict"] == seed_statistics.verdict(row["mean"], p_holm,
                                                         row["higher_is_better"])


def test_similarity_covers_every_pair_of_models_and_its_groups(study):
    seeds = len(study["seeds"])
    pairs = study["similarity"]["pairs"]
    assert len(pairs) == (2 * seeds) * (2 * seeds - 1) // 2
    summary = study["similarity"]["summary"]
    assert summary["plain-plain"]["pairs"] == summary["denoising-denoising"]["pairs"] == (
        seeds * (seeds - 1) // 2)
    assert summary["plain-denoising"]["pairs"] == seeds * (seeds - 1)
    assert summary["plain-denoising, same seed"]["pairs"] == seeds
    for group in summary.values():
        for measure in ("cka", "knn_overlap"):
            assert 0 <= group[measure]["min"] <= group[measure]["mean"] <= group[measure]["max"] <= 1


def test_code_stability_is_given_for_both_models_at_every_noise_level(study):
    levels = study["settings"]["noise_stds_stability"]
    assert levels == [std for std in study["settings"]["noise_stds_psnr"] if std > 0]
    for model in ("autoencoder", "denoising_autoencoder"):
        values = study[model]["code_stability"]["values"]
        assert len(values) == len(study["seeds"]) and all(len(v) == len(levels) for v in values)
