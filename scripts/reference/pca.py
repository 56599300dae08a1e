"""Reference numbers for test/analysis/cells.test.ts: PCA of fixed points by numpy's eigh.

The points are small integers from a formula both languages compute exactly; their covariance is
divided by n (not n - 1), components are sorted by variance and each one's sign is set so that its
largest loading is positive, as runtime/analysis/pca.ts does. Run: python3 scripts/reference/pca.py
"""
import numpy as np

ROWS, COLUMNS = 40, 5


def point(row, column):
    base = ((row * (column + 3) * 7 + column * column * 5) % 13) - 6
    # A shared term makes the columns correlated, so the leading component carries most of the variance.
    return base + 2 * ((row * 5) % 9 - 4) * (column % 3)


points = np.array([[point(row, column) for column in range(COLUMNS)] for row in range(ROWS)], dtype=np.float64)
centred = points - points.mean(axis=0)
covariance = centred.T @ centred / ROWS
values, vectors = np.linalg.eigh(covariance)
order = np.argsort(values)[::-1]
components = []
for index in order[:2]:
    vector = vectors[:, index]
    largest = vector[np.argmax(np.abs(vector))]
    components.append(vector * (1 if largest >= 0 else -1))
components = np.array(components)
print('variances', repr([float(values[index]) for index in order[:2]]))
print('explained', repr([float(values[index] / values.sum()) for index in order[:2]]))
print('components', repr(components.tolist()))
print('projection of rows 0-2', repr((centred[:3] @ components.T).tolist()))
