"""Prints the MIG constants that test/analysis/disentanglement.test.ts holds, from scikit-learn.

Run with Debian's Python (python3-sklearn 1.2.1): /usr/bin/python3 scripts/reference/mig.py
The inputs are the test's, built from the same seeded formulas (fixture.py). The estimator is
disentanglement_lib's (Locatello et al. 2019): each latent dimension discretized by numpy's 20-bin
histogram edges and digitize, then sklearn's mutual_info_score against every factor.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.metrics import mutual_info_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import uniform  # noqa: E402

COUNT = 400


def inputs():
    """Three factors and five latent dimensions (examples × dimensions), as the test builds them."""
    f0 = np.floor(uniform(COUNT, 21) * 3).astype(np.int64)
    f1 = np.floor(uniform(COUNT, 22) * 5).astype(np.int64)
    f2 = np.floor(uniform(COUNT, 23) * 4).astype(np.int64)
    latents = np.stack([
        f0 + 0.4 * uniform(COUNT, 31),
        0.5 * f1 - 0.2 * f0 + uniform(COUNT, 32),
        uniform(COUNT, 33) - 0.5,
        np.full(COUNT, 0.25),
        f2 * f2 * 0.3 + 0.05 * uniform(COUNT, 34),
    ], axis=1)
    return latents, np.stack([f0, f1, f2])


def histogram_discretize(target, num_bins=20):
    """disentanglement_lib.evaluation.metrics.utils._histogram_discretize (dimensions × examples)."""
    discretized = np.zeros_like(target, dtype=np.int64)
    for i in range(target.shape[0]):
        discretized[i, :] = np.digitize(target[i, :], np.histogram(target[i, :], num_bins)[1][:-1])
    return discretized


def main():
    latents, factors = inputs()
    bins = histogram_discretize(latents.T)
    information = np.array([[mutual_info_score(factor, dimension) for factor in factors] for dimension in bins])
    entropy = np.array([mutual_info_score(factor, factor) for factor in factors])
    ordered = np.sort(information, axis=0)[::-1]
    gaps = (ordered[0, :] - ordered[1, :]) / entropy
    results = {
        'sklearn': sklearn.__version__,
        'binCounts': [np.bincount(dimension, minlength=21)[1:].tolist() for dimension in bins],
        'mutualInformation': information.tolist(),
        'entropy': entropy.tolist(),
        'gaps': gaps.tolist(),
        'mig': float(np.mean(gaps)),
    }
    for key, value in results.items():
        print(f'{key}: {json.dumps(value)}')

main()
