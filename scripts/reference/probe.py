"""Prints the constants that test/analysis/{probe,knn,few-labels}.test.ts hold, from scikit-learn.

Run with Debian's Python (python3-sklearn 1.2.1): /usr/bin/python3 scripts/reference/probe.py
The data are the tests', built from the same seeded formulas (fixture.py). The probe's reference is
LogisticRegression solved by newton-cg to a gradient of 1e-8 (on C·Σ loss + ½‖W‖²; the gradient reached is
printed, computed here by hand), so its optimum is exact to far below the tests' tolerances (lbfgs stops on
scipy's default relative decrease first; its distance from newton-cg is printed). The
few-labels fits, on separable data where newton-cg crawls, use lbfgs: only their accuracies are compared.
A convergence warning is an error here: every constant comes from a converged fit.
"""
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import balanced_draw, clusters  # noqa: E402


def numbers(values):
    return '[' + ', '.join(repr(float(value)) for value in np.ravel(values)) + ']'


def integers(values):
    return '[' + ', '.join(str(int(value)) for value in np.ravel(values)) + ']'


def labels(values):
    return "'" + ''.join(str(int(value)) for value in values) + "'"


def probe(C, solver='newton-cg', tol=1e-8):
    return make_pipeline(StandardScaler(), LogisticRegression(penalty='l2', C=C, multi_class='multinomial', solver=solver, tol=tol, max_iter=10000))


def objective_gradient(model, x, y, C):
    """Largest gradient component of C·Σ cross-entropy + ½‖W‖² at the fitted pipeline's optimum."""
    inputs = model[0].transform(x)
    regression = model[-1]
    logits = inputs @ regression.coef_.T + regression.intercept_
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    residuals = probabilities - np.eye(len(regression.classes_))[np.searchsorted(regression.classes_, y)]
    return max(np.abs(C * residuals.T @ inputs + regression.coef_).max(), np.abs(C * residuals.sum(axis=0)).max())


def probe_cases():
    train_x, train_y = clusters(300, 4, 6, 11, 0.9, constant_feature=4)
    test_x, test_y = clusters(200, 4, 6, 12, 0.9, constant_feature=4)
    print('// probe: train clusters(300, 4, 6, 11, 0.9, 4), test clusters(200, 4, 6, 12, 0.9, 4)')
    for C in (1.0, 0.02):
        model = probe(C).fit(train_x, train_y)
        regression = model[-1]
        lbfgs = probe(C, solver='lbfgs', tol=1e-10).fit(train_x, train_y)[-1]
        print(f'// C = {C}: gradient at the optimum {objective_gradient(model, train_x, train_y, C):.1e}; '
              f'lbfgs differs from newton-cg by at most {np.max(np.abs(lbfgs.coef_ - regression.coef_)):.1e} in a coefficient')
        print(f'  {{ C: {C!r},')
        print(f'    accuracy: {model.score(test_x, test_y)!r},')
        print(f'    trainAccuracy: {model.score(train_x, train_y)!r},')
        print(f'    weights: {numbers(regression.coef_)},')
        print(f'    intercepts: {numbers(regression.intercept_ - regression.intercept_.mean())},')
        print(f'    probabilities: {numbers(model.predict_proba(test_x[:5]))},')
        print(f'    predictions: {labels(model.predict(test_x))} }},')


def knn_cases():
    train_x, train_y = clusters(300, 4, 6, 11, 0.9, constant_feature=4)
    test_x, test_y = clusters(200, 4, 6, 12, 0.9, constant_feature=4)
    print('// kNN: the probe\'s data')
    for k, metric in ((5, 'euclidean'), (8, 'cosine'), (1, 'euclidean')):
        model = KNeighborsClassifier(n_neighbors=k, metric=metric, algorithm='brute').fit(train_x, train_y)
        probabilities = model.predict_proba(test_x)
        ties = int(np.sum(np.sum(probabilities == probabilities.max(axis=1, keepdims=True), axis=1) > 1))
        distances, indices = model.kneighbors(test_x[:3])
        print(f'// k = {k}, {metric}: {ties} test rows have a tied vote')
        print(f"  {{ k: {k}, metric: '{metric}',")
        print(f'    accuracy: {model.score(test_x, test_y)!r},')
        print(f'    probabilities: {numbers(probabilities[:5])},')
        print(f'    neighbours: {integers(indices)},')
        print(f'    distances: {numbers(distances)},')
        print(f'    predictions: {labels(model.predict(test_x))} }},')


def few_labels_cases():
    sets = {
        'latents': (clusters(300, 4, 6, 21, 1.2, constant_feature=4), clusters(200, 4, 6, 22, 1.2, constant_feature=4)),
        'pixels': (clusters(300, 4, 24, 21, 2.5), clusters(200, 4, 24, 22, 2.5)),
    }
    train_labels = sets['latents'][0][1]
    assert np.array_equal(train_labels, sets['pixels'][0][1])
    print('// few labels: latents clusters(300|200, 4, 6, 21|22, 1.2, 4), pixels clusters(300|200, 4, 24, 21|22, 2.5); seed 7, 3 draws')
    print(f'// draw 0 of 30: {integers(balanced_draw(train_labels, 30, 7, 0))}')
    for kind, make in (('probe', lambda: probe(1.0, solver='lbfgs', tol=1e-8)), ('knn', lambda: KNeighborsClassifier(n_neighbors=3, algorithm='brute'))):
        for size in (12, 30):
            for name, ((train_x, train_y), (test_x, test_y)) in sets.items():
                accuracies = []
                for draw in range(3):
                    rows = balanced_draw(train_y, size, 7, draw)
                    accuracies.append(make().fit(train_x[rows], train_y[rows]).score(test_x, test_y))
                accuracies = np.array(accuracies)
                print(f"  {{ classifier: '{kind}', labels: {size}, set: '{name}', accuracies: {numbers(accuracies)}, mean: {accuracies.mean()!r}, std: {accuracies.std(ddof=1)!r} }},")


warnings.simplefilter('error')
print(f'// scikit-learn {sklearn.__version__}, numpy {np.__version__}')
probe_cases()
knn_cases()
few_labels_cases()
