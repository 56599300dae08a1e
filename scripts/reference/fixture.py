"""Deterministic inputs shared with test/analysis/fixture.ts, bit for bit.

mulberry32 and mixSeed are runtime/util/random.ts written again in Python; Gaussian-like values are the
Irwin-Hall sum of twelve uniforms minus six (only additions, so both languages round identically).
"""
import numpy as np

MASK = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & MASK


def mix_seed(*parts):
    value = 0x811C9DC5
    for part in parts:
        value ^= part & MASK
        value = imul(value, 0x01000193)
        value ^= value >> 13
    return value


class Random:
    def __init__(self, state):
        self.state = state & MASK

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & MASK
        t = self.state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    def int(self, limit):
        return int(np.floor(self.next() * limit))

    def gaussian(self):
        total = 0.0
        for _ in range(12):
            total += self.next()
        return total - 6


def uniform(count, seed):
    random = Random(seed)
    return np.array([random.next() for _ in range(count)], dtype=np.float64)


def centre(label, feature):
    return ((label * 7 + feature * 3) % 5 - 2) * 0.5


def clusters(count, classes, dimension, seed, spread, constant_feature=None):
    """Labelled points around per-class centres; one feature may be held constant (a collapsed latent).

    The labels come first from the stream, so two calls with the same seed and count share them whatever
    the dimension (the latents and the pixels of the same examples).
    """
    random = Random(seed)
    labels = np.array([random.int(classes) for _ in range(count)], dtype=np.int64)
    features = np.zeros((count, dimension), dtype=np.float64)
    for row in range(count):
        for feature in range(dimension):
            value = centre(int(labels[row]), feature) + spread * random.gaussian()
            features[row, feature] = 0.25 if feature == constant_feature else value
    return features, labels


def balanced_draw(labels, size, seed, draw):
    """runtime/analysis/few-labels.ts balancedDraw: class-balanced indices, ascending."""
    classes = sorted(set(int(label) for label in labels))
    base, extra = divmod(size, len(classes))
    random = Random(mix_seed(seed, draw))
    order = list(range(len(classes)))
    for index in range(extra):
        other = index + random.int(len(classes) - index)
        order[index], order[other] = order[other], order[index]
    extra_positions = set(order[:extra])
    chosen = []
    for position, label in enumerate(classes):
        want = base + (1 if position in extra_positions else 0)
        pool = [index for index, value in enumerate(labels) if value == label]
        for index in range(want):
            other = index + random.int(len(pool) - index)
            pool[index], pool[other] = pool[other], pool[index]
        chosen.extend(pool[:want])
    return sorted(chosen)
