"""Embedding: a fixed random subset and a reproducible t-SNE."""

import numpy as np

import helpers


def test_sample_indices_are_distinct_sorted_and_reproducible():
    first, second = helpers.sample_indices(1000, 50, 3), helpers.sample_indices(1000, 50, 3)
    assert first.tolist() == second.tolist() == sorted(set(first.tolist()))
    assert len(first) == 50 and first.max() < 1000


def test_tsne_gives_2d_points_reproducibly_and_keeps_clusters_apart():
    generator = np.random.default_rng(0)
    codes = np.concatenate([generator.normal(0, 0.1, (40, 8)), generator.normal(5, 0.1, (40, 8))])
    first, second = helpers.tsne_embed(codes, 0), helpers.tsne_embed(codes, 0)
    assert first.shape == (80, 2) and np.array_equal(first, second)
    gap = np.linalg.norm(first[:40].mean(0) - first[40:].mean(0))
    assert gap > 3 * first[:40].std(0).max()
