"""Prints the SSIM constants that test/analysis/ssim.test.ts holds, from scikit-image.

Run with Debian's Python (python3-skimage 0.19.3): /usr/bin/python3 scripts/reference/ssim.py
The inputs are the test's, built from the same seeded formulas (fixture.py); the MNIST pairs are read
from the shared datasets folder beside the repository when it is there.
"""
import gzip
import os
import sys

import numpy as np
import skimage
from skimage.metrics import structural_similarity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import uniform  # noqa: E402


def ssim(first, second, **options):
    settings = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)
    settings.update(options)
    if first.ndim == 3:
        settings['channel_axis'] = 2
    return structural_similarity(first, second, **settings)


def cases():
    noise_a = uniform(28 * 28, 1).reshape(28, 28)
    yield 'mixed noise 28×28', noise_a, 0.7 * noise_a + 0.3 * uniform(28 * 28, 2).reshape(28, 28), {}
    yield 'independent noise 28×28', uniform(28 * 28, 3).reshape(28, 28), uniform(28 * 28, 4).reshape(28, 28), {}
    rows, columns = np.meshgrid(np.arange(20), np.arange(24), indexing='ij')
    yield 'stripes 20×24', ((rows * 3 + columns * 5) % 17) / 16, ((rows * 3 + columns * 5 + 2) % 17) / 16, {}
    square = np.zeros((28, 28))
    square[8:20, 10:18] = 1
    shifted = np.zeros((28, 28))
    shifted[8:20, 11:19] = 0.5
    yield 'square on black, shifted and dimmed 28×28', square, shifted, {}
    colour = uniform(16 * 20 * 3, 5).reshape(16, 20, 3)
    yield 'colour 16×20×3', colour, colour * colour, {}
    yield 'smallest 11×13', uniform(11 * 13, 7).reshape(11, 13), uniform(11 * 13, 8).reshape(11, 13), {}
    yield 'sigma 1 (9×9 window) 28×28', noise_a, 0.7 * noise_a + 0.3 * uniform(28 * 28, 2).reshape(28, 28), {'sigma': 1.0}


def mnist_cases(folder):
    with gzip.open(os.path.join(folder, 't10k-images-idx3-ubyte.gz')) as file:
        images = np.frombuffer(file.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28) / 255.0
    yield 'MNIST test 0 vs 1', images[0], images[1]
    yield 'MNIST test 2 vs 3', images[2], images[3]
    yield 'MNIST test 0 vs 0.8·itself + 0.2·noise', images[0], 0.8 * images[0] + 0.2 * uniform(28 * 28, 9).reshape(28, 28)


def main():
    print(f'# scikit-image {skimage.__version__}, numpy {np.__version__}')
    for name, first, second, options in cases():
        print(f"  ['{name}', {ssim(first, second, **options)!r}],")
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'data', 'mnist')
    if os.path.isdir(folder):
        for name, first, second in mnist_cases(folder):
            print(f"  ['{name}', {ssim(first, second)!r}],")
    else:
        print(f'# {os.path.normpath(folder)} is absent: no MNIST constants')


main()
