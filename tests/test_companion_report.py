"""companion_report.py: the companion's files, figures and tables (the seed study's rows,
the dead units, the gradient-descent experiment), every number as the companion shows it."""

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from test_report import ROOT, TEN_DENOISING, TEN_PLAIN, fonts, sgd_variant, study_of
from test_tables import rows, rule

import companion_report


def test_a_missing_seed_study_is_file_not_found_and_a_damaged_one_a_value_error(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # a project folder: the message names the file as git does
    with pytest.raises(FileNotFoundError, match="make seeds.*about an hour"):
        companion_report.read_seed_study("seed_study.json")
    Path("seed_study.json").write_text('{"seeds": [0, 1')
    with pytest.raises(ValueError, match="is damaged.*git checkout -- seed_study.json"):
        companion_report.read_seed_study("seed_study.json")
    study = json.loads((ROOT / "seed_study.json").read_text(encoding="utf-8"))
    del study["comparisons"]
    Path("seed_study.json").write_text(json.dumps(study))
    with pytest.raises(
        ValueError, match="seed_study.json is damaged .it lacks 'comparisons'.*seeds"
    ):
        companion_report.read_seed_study("seed_study.json")


def test_sgd_plot_has_examples_and_measured_time_panels_with_one_legend_entry_per_variant():
    fig = companion_report.plot_sgd_runs(
        {"stochastic": sgd_variant(1, {0.1: 0.4, 0.3: 0.3}, [0.6, 0.62])}
    )
    by_examples, by_time = fig.axes
    assert by_examples.get_xlabel() == "training examples processed"
    assert "measured" in by_time.get_xlabel() and "MSE" in by_examples.get_ylabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["stochastic (lr 0.3)"]
    assert len(by_examples.get_lines()) == 2 == len(by_time.get_lines())  # a line per seed
    plt.close(fig)


def test_psnr_plot_marks_the_training_noise_names_every_curve_and_shows_the_paired_gaps():
    curves = {"noisy input": [math.inf, 10.0, 6.0], "autoencoder": [20.0, 18.0, 12.0]}
    study = study_of(TEN_PLAIN, TEN_DENOISING)
    fig = companion_report.plot_psnr([0.0, 0.5, 1.0], curves, training_std=0.5, study=study)
    levels, psnr, stability = fig.axes
    assert [t.get_text() for t in levels.get_legend().get_texts()] == list(curves)
    assert "dB" in levels.get_ylabel() and "noise std" in levels.get_xlabel()
    assert any("training noise 0.5" in t.get_text() for t in levels.texts)
    assert "PSNR" in psnr.get_title() and "stability" in stability.get_title()
    assert psnr.get_ylabel() == "plain − denoising"
    rows = study["comparisons"][0]["curves"]["psnr_db"]
    low, high = psnr.get_ylim()
    assert all(low <= row["interval"][0] and row["interval"][1] <= high for row in rows)
    legend = [t.get_text() for t in psnr.get_legend().get_texts()]
    assert legend == ["primary (Table C2)", "exploratory"]  # PSNR at 0 is primary
    plt.close(fig)


def test_code_unit_plot_labels_dead_units_active_shares_and_the_value_axis():
    codes = np.zeros((4, 8))
    codes[:2, 0] = 1.0
    codes[:, 1:] = 2.0
    codes[:, 7] = 0.0
    fig = companion_report.plot_code_units({"autoencoder": codes})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["50%"] + ["100%"] * 6 + ["dead"]
    assert ax.get_ylabel() == "code value" and ax.get_title(loc="left") == "autoencoder"
    assert min(fonts(fig)) >= 8


def test_signed_numbers_use_a_minus_and_never_show_minus_zero():
    assert companion_report.signed(-0.0152, 3, plus=True) == "−0.015"
    assert companion_report.signed(-0.0004, 3, plus=True) == "0.000"  # rounded, with no false sign
    assert (
        companion_report.signed(0.0061, 3, plus=True) == "+0.006"
        and companion_report.signed(0.0, 3) == "0.000"
    )


def test_spreads_are_mean_and_sample_sd_the_shares_in_percentage_points():
    assert companion_report.spread([0.1, 0.2, 0.3], 3) == "0.200 ± 0.100"
    assert companion_report.spread([-0.1, -0.2, -0.3], 2) == "−0.20 ± 0.10"


def test_rows_table_gives_means_difference_interval_margin_wins_ties_p_and_verdict():
    study = study_of(TEN_PLAIN, TEN_DENOISING)
    entry = study["comparisons"][0]
    table = rows(companion_report.rows_table(study, entry["primary"], entry["models"]))
    assert table[0] == [
        "measure", "plain", "denoising", "plain − denoising", "98.3% interval", "margin",
        "plain wins / ties / denoising wins", "p × 3", "verdict",
    ]  # fmt: skip
    [stability] = [row for row in table if row[0] == "code stability at noise 0.5"]
    first = next(row for row in entry["primary"] if row["label"] == stability[0])
    assert stability[3] == companion_report.signed(first["mean"], 4, plus=True)
    assert (
        stability[4] == companion_report.interval_cell(first["interval"], 4)
        and stability[5] == "±0.02"
    )
    assert stability[6] == f"{first['first_wins']} / {first['ties']} / {first['second_wins']}"
    assert stability[7] == f"{first['p_adjusted']:.3f}" and stability[8] == first["verdict"]


def test_rows_table_without_margins_drops_the_column_and_without_means_the_models():
    study = study_of(TEN_PLAIN, TEN_DENOISING)
    entry = study["comparisons"][0]
    secondary = rows(companion_report.rows_table(study, entry["secondary"], entry["models"]))
    assert "margin" not in secondary[0] and secondary[0][1:3] == ["plain", "denoising"]
    [mse] = [row for row in secondary if row[0] == "test MSE on clean inputs"]
    assert mse[-1] == "plain better" and mse[5] == "10 / 0 / 0"  # lower is better
    curve = rows(
        companion_report.rows_table(study, entry["curves"]["psnr_db"], entry["models"], means=False)
    )
    assert curve[0][1] == "plain − denoising" and [row[0] for row in curve[1:]] == [
        "PSNR at noise 0 (dB)", "PSNR at noise 0.5 (dB)", "PSNR at noise 1 (dB)",
    ]  # fmt: skip
    few = study_of([0.070, 0.068, 0.071, 0.069], [0.080, 0.079, 0.081, 0.080])
    first = rows(
        companion_report.rows_table(
            few, few["comparisons"][0]["secondary"], ["autoencoder", "denoising_autoencoder"]
        )
    )
    assert first[1][4] == "unbounded"  # 4 seeds cannot reach 1 - 0.05/k


def test_code_table_gives_each_group_of_pairs_its_count_cka_and_overlap():
    table = rows(companion_report.code_table(study_of([0.70, 0.68, 0.71], [0.70, 0.69, 0.70])))
    assert table[0] == ["pairs of codes", "pairs", "linear CKA", "10-NN overlap"]
    assert table[1] == ["plain-plain", "1", "0.900 ± 0.000", "0.400 ± 0.000"]


def test_live_units_table_sets_the_adjusted_verdict_beside_the_unadjusted():
    study = study_of(TEN_PLAIN, TEN_DENOISING)
    table = rows(companion_report.live_units_table(study))
    assert table[0] == [
        "measure", "R², plain", "R², denoising", "adjusted difference", "its interval",
        "verdict, adjusted", "verdict (Table C2)",
    ]  # fmt: skip
    assert table[1][1:3] == ["-", "-"]  # the same live units in every seed: no line


def test_sgd_table_gives_every_rate_s_held_out_loss_the_chosen_one_and_both_budgets():
    variants = {
        "stochastic": sgd_variant(1, {0.1: 0.4, 0.3: 0.3}, [0.6, 0.62]),
        "batch": sgd_variant(6, {1.0: 0.55}, [0.7, 0.7]),
    }
    table = rows(companion_report.sgd_table(variants, n_train=6))
    assert table[0] == ["measure", "stochastic", "batch"]
    assert table[1] == ["batch size", "1", "6"]
    assert table[2:4] == [
        ["held-out MSE, lr 0.1", "0.405", "-"],
        ["held-out MSE, lr 0.3", "0.305", "-"],
    ]
    cells = {row[0]: row[1:] for row in table}
    assert cells["lr chosen"] == ["0.3", "1"] and cells["held-out MSE, lr 1"] == ["-", "0.555"]
    assert cells["test MSE, example budget"] == ["0.550 ± 0.071", "0.550 ± 0.071"]
    assert cells["test MSE, time budget"] == ["0.610 ± 0.014", "0.700 ± 0.000"]
    assert cells["updates, example budget"] == ["1", "1"]


def test_rows_table_with_the_t_test_sets_its_adjusted_p_after_the_sign_flip_test_s():
    study = study_of(TEN_PLAIN, TEN_DENOISING)
    entry = study["comparisons"][0]
    table = rows(companion_report.rows_table(study, entry["primary"], entry["models"], t_test=True))
    assert table[0][-2:] == ["p × 3, sign-flip / t-test", "verdict"]
    first = entry["primary"][0]
    p_cell = companion_report.p_cell
    assert table[1][-2] == f"{p_cell(first['p_adjusted'])} / {p_cell(first['t_test_p_adjusted'])}"


def test_verdicts_table_gives_the_first_study_without_restarted_pairs_and_all_pairs():
    study = study_of(TEN_PLAIN, TEN_DENOISING)
    study["restarts"] = {
        "autoencoder": [[]] * 10,
        "denoising_autoencoder": [["collapsed"] if s < 2 else [] for s in range(10)],
    }
    comparison = study["comparisons"][0]
    comparison["without_restarts"] = companion_report.stats.without_restarts(
        study, ("autoencoder", "denoising_autoencoder")
    )
    study["first_study"] = comparison["secondary"][:3]  # any three rows stand in for it
    table = rows(companion_report.verdicts_table(study))
    assert table[0] == ["measure, study", "seeds", "plain − denoising", "98.3% interval", "verdict"]
    ways = [comparison["primary"], comparison["without_restarts"]["primary"]]
    for index, row in enumerate(comparison["primary"]):
        first, kept, full = table[1 + 3 * index : 4 + 3 * index]
        assert first[0] == f"{row['label']}, first study" and first[1] == "10"
        assert first[4] == study["first_study"][index]["verdict"]
        assert kept[1] == "8" and kept[4] == ways[1][index]["verdict"]
        assert full[0].endswith("all pairs (Table C2)") and full[4] == row["verdict"]


def test_psnr_table_gives_each_curve_per_noise_level_with_infinity_for_a_clean_input():
    curves = {"noisy input": [math.inf, 6.02], "autoencoder": [17.4312, 16.4]}
    table = rows(companion_report.psnr_table([0.0, 1.0], curves))
    assert table == [
        ["PSNR (dB) at noise std", "0", "1"],
        ["noisy input", "∞", "6.02"],
        ["autoencoder", "17.43", "16.40"],
    ]


def test_the_primary_figure_shows_each_seed_0_the_margin_band_and_both_studies_intervals():
    study = study_of(TEN_PLAIN, TEN_DENOISING)
    study["first_study"] = study["comparisons"][0]["primary"]
    fig = companion_report.plot_primary_differences(study)
    assert len(fig.axes) == 3
    for ax, row in zip(fig.axes, study["comparisons"][0]["primary"]):
        [dots] = [line for line in ax.get_lines() if line.get_marker() == "."]
        assert len(dots.get_ydata()) == 10
        [band] = ax.patches
        low, high = band.get_y(), band.get_y() + band.get_height()
        assert (low, high) == pytest.approx((-row["margin"], row["margin"]))
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            "10\nseeds",
            "this\nstudy",
            "first\nstudy",
        ]
    plt.close(fig)


def test_the_printed_plan_typesets_its_notation(tmp_path):
    plan = tmp_path / "PLAN.md"
    plan.write_text(
        "# Plan\n\n## Test\n\nR^2 of a line; all 2^20 patterns; at 1 - 0.05/3 and 1 - 0.05/k.\n"
    )
    printed = companion_report.plan_markdown(plan)
    assert printed.splitlines()[:3] == [">", "> **Test.**", ">"]  # one block quote
    assert "> $R^2$ of a line; all $2^{20}$ patterns; at $1 - 0.05/3$ and $1 - 0.05/k$." in printed


def test_a_fitted_table_sizes_columns_by_their_cells_and_wraps_text_and_headers():
    """The rule under the header gives each column the dashes of its longest cell or header
    word, a text column (and the index) at most TEXT_WIDTH: headers and text wrap, numbers not."""
    frame = pd.DataFrame(
        {"a long header over short numbers": ["0.1", "0.25"], "verdict": ["x" * 30, "y"]},
        index=pd.Index(["first measure", "second"], name="measure"),
    )
    dashes = [cell.count("-") for cell in rule(companion_report.fitted(frame, text=("verdict",)))]
    assert dashes == [len("first measure"), len("numbers") + 2, companion_report.TEXT_WIDTH]
