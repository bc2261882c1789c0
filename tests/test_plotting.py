"""Plots: rendered with Agg and checked for content against hand-built models with known answers.

The models here are single Dense layers whose weights are set by hand to a
nearest-centroid classifier, ``z_k = c_k . x - |c_k|^2 / 2``, so the true
regions (Voronoi cells of the centroids), probabilities (a float64 softmax
written below) and confusion matrices are known without the code under test.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="plotting needs the logitnet[plot] extra")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.image import imread  # noqa: E402

import logitnet as ln  # noqa: E402
from logitnet import plotting  # noqa: E402

CENTROIDS = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
COLORS = [(1.0, 0.0, 0.0), (0.0, 0.6, 0.0), (0.0, 0.0, 1.0), (0.6, 0.0, 0.6)]
# One point per class near its centroid, plus two that the model gets wrong (true 0 and 2, both in cell 1).
X_SMALL = np.array([[-3.5, 0.2], [3.5, -0.2], [0.2, 3.5], [-0.2, -3.5], [3.0, 1.0], [2.5, -1.0]])
Y_SMALL = np.array([0, 1, 2, 3, 0, 2])


def centroid_model(activation: str = "linear", dtype: str = "float32") -> ln.Sequential:
    model = ln.Sequential([ln.Dense(4, activation=activation)], seed=0, dtype=dtype)
    model.build((None, 2))
    model.set_weights([CENTROIDS.T.copy(), -0.5 * (CENTROIDS**2).sum(axis=1)])
    return model


def reference_logits(points: np.ndarray) -> np.ndarray:
    return points @ CENTROIDS.T - 0.5 * (CENTROIDS**2).sum(axis=1)


def reference_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def nearest_centroid(points: np.ndarray) -> np.ndarray:
    return np.argmin(((points[:, None, :] - CENTROIDS[None]) ** 2).sum(axis=2), axis=1)


def render(fig) -> np.ndarray:
    """RGB floats in [0, 1], shape (height, width, 3), drawn by Agg."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(np.float64) / 255.0


def pixel_of(fig, ax, x: float, y: float) -> tuple[int, int]:
    """(row, column) of the data point (x, y) in the rendered image."""
    px, py = ax.transData.transform((x, y))
    height = fig.get_size_inches()[1] * fig.dpi
    return int(round(height - py - 0.5)), int(round(px - 0.5))


def png_shape(fig, dpi: int) -> tuple[int, ...]:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    return imread(buffer).shape


def seed_like_data(rng: np.random.Generator, n_per_class: int = 30) -> tuple[np.ndarray, np.ndarray]:
    X = np.concatenate([c + 0.6 * rng.standard_normal((n_per_class, 2)) for c in CENTROIDS])
    return X, np.repeat(np.arange(4), n_per_class)


# --------------------------------------------------------------------------- optional dependency
def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"logitnet\[plot\]"):
        plotting.plot_history({"loss": [1.0, 0.5]})
    with pytest.raises(ImportError, match=r"logitnet\[plot\]"):
        ln.callbacks.History().plot()


def test_demo_plot_without_matplotlib_fails_before_training(monkeypatch, tmp_path):
    from logitnet.demo import run_demo

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = io.StringIO()
    with pytest.raises(ImportError, match=r"logitnet\[plot\]"):
        run_demo(epochs=1, verbose=0, out=out, plot=str(tmp_path / "demo.png"))
    assert out.getvalue() == "" and not (tmp_path / "demo.png").exists()


def test_headless_without_pyplot_under_an_unusable_interactive_backend(tmp_path):
    # No display and an interactive backend requested: the functions never touch pyplot or a backend.
    code = (
        "import sys, numpy as np, logitnet as ln, logitnet.plotting as lp\n"
        "assert 'matplotlib' not in sys.modules\n"
        "fig = lp.plot_history({'loss': [1.0, 0.5, 0.25], 'val_loss': [1.1, 0.6, 0.4]})\n"
        f"fig.savefig({str(tmp_path / 'h.png')!r})\n"
        "print('pyplot' if 'matplotlib.pyplot' in sys.modules else 'no pyplot')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "TkAgg"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "no pyplot"
    assert imread(tmp_path / "h.png").shape[2] in (3, 4)


# --------------------------------------------------------------------------- history
def test_plot_history_draws_each_quantity_with_its_validation_curve():
    logs = {"accuracy": [0.5, 0.8, 0.9], "loss": [1.2, 0.7, 0.4], "val_accuracy": [0.4, 0.7, 0.85], "val_loss": [1.3, 0.9, 0.6]}
    fig = plotting.plot_history(logs)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]  # loss first
    for ax, key in zip(fig.axes, ["loss", "accuracy"]):
        train, val = ax.get_lines()
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(train.get_ydata(), logs[key])
        np.testing.assert_array_equal(val.get_ydata(), logs["val_" + key])
        assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
    width, height = fig.get_size_inches()
    assert png_shape(fig, dpi=50) == (round(height * 50), round(width * 50), 4)


def test_history_plot_is_the_shortcut_and_uses_the_epoch_numbers():
    X, y = seed_like_data(np.random.default_rng(0))
    model = centroid_model()
    model.compile(loss=ln.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd", metrics=["accuracy"])
    history = model.fit(X, y, epochs=5, initial_epoch=2, verbose=0, validation_split=0.25)
    fig = history.plot(metrics=["loss"])
    (ax,) = fig.axes
    train, val = ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [3, 4, 5])  # epochs 2..4, shown 1-based
    np.testing.assert_allclose(train.get_ydata(), history.history["loss"])
    np.testing.assert_allclose(val.get_ydata(), history.history["val_loss"])
    # A trained model is accepted too (its last History), and an estimator's ``history_`` dict.
    assert len(plotting.plot_history(model).axes) == 2

    class Estimator:
        history_ = {"loss": [0.9, 0.5], "val_loss": [1.0, float("nan")]}

    (ax,) = plotting.plot_history(Estimator()).axes
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [1.0, np.nan])


@pytest.mark.parametrize(
    "history, kwargs, error, match",
    [
        ({}, {}, ValueError, "no epochs"),
        ({"loss": []}, {}, ValueError, "no epochs"),
        ({"loss": [1.0]}, {"metrics": ["accuracy"]}, ValueError, r"metrics.*\['loss'\]"),
        ([1.0, 2.0], {}, TypeError, "History"),
    ],
)
def test_plot_history_bad_input(history, kwargs, error, match):
    with pytest.raises(error, match=match):
        plotting.plot_history(history, **kwargs)


# --------------------------------------------------------------------------- decision regions
def test_decision_regions_colour_every_pixel_by_the_true_cell():
    model = centroid_model()
    fig = plotting.plot_decision_regions(model, X_SMALL, Y_SMALL, colors=COLORS, resolution=300)
    ax = fig.axes[0]
    image = render(fig)
    region = 0.35 * np.array(COLORS) + 0.65  # documented: 35 % class colour on white
    lo_x, hi_x = ax.get_xlim()
    lo_y, hi_y = ax.get_ylim()
    probes = np.stack(np.meshgrid(np.linspace(lo_x, hi_x, 25)[1:-1], np.linspace(lo_y, hi_y, 25)[1:-1]), -1).reshape(-1, 2)
    # Keep probes away from the drawn points, the legend's corner and the boundaries (|x| = |y| lines).
    far_from_points = np.min(np.linalg.norm(probes[:, None] - X_SMALL[None], axis=2), axis=1) > 0.6
    far_from_boundary = np.abs(np.abs(probes[:, 0]) - np.abs(probes[:, 1])) > 0.3
    legend = ax.get_legend().get_window_extent()
    checked = 0
    for (px, py), keep in zip(probes, far_from_points & far_from_boundary):
        row, col = pixel_of(fig, ax, px, py)
        if not keep or legend.contains(col, fig.get_size_inches()[1] * fig.dpi - row):
            continue
        expected = region[nearest_centroid(np.array([[px, py]]))[0]]
        np.testing.assert_allclose(image[row, col], expected, atol=2.5 / 255, err_msg=f"at ({px:.2f}, {py:.2f})")
        checked += 1
    assert checked > 250


def test_decision_regions_show_each_class_colour_points_and_boundaries():
    model = centroid_model()
    fig = plotting.plot_decision_regions(model, X_SMALL, Y_SMALL, colors=COLORS, resolution=200)
    ax = fig.axes[0]
    image = render(fig)
    region = 0.35 * np.array(COLORS) + 0.65
    for k, colour in enumerate(COLORS):
        assert np.sum(np.all(np.abs(image - region[k]) < 3 / 255, axis=2)) > 2000  # the region
        assert np.sum(np.all(np.abs(image - colour) < 3 / 255, axis=2)) > 5  # point faces (and legend)
    # On a boundary (y = -x between cells 0 and 2; y = x between 1 and 2) the line is dark.
    for x, y in [(-1.5, 1.5), (1.5, 1.5), (-4.0, -4.0)]:
        row, col = pixel_of(fig, ax, x, y)
        assert image[row - 2:row + 3, col - 2:col + 3].sum(axis=2).min() < 1.0
    # Away from any boundary it is not.
    row, col = pixel_of(fig, ax, -5.0, 0.0)
    assert image[row - 2:row + 3, col - 2:col + 3].sum(axis=2).min() > 2.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2", "3"]


def test_decision_regions_of_a_sigmoid_model_follow_its_argmax():
    # Same weights, sigmoid output: argmax of predict() and so the cells are unchanged.
    fig = plotting.plot_decision_regions(centroid_model("sigmoid"), X_SMALL, Y_SMALL, colors=COLORS, resolution=100)
    image = fig.axes[0].images[0].get_array()
    xs, ys = image_grid(fig.axes[0].images[0])
    points = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
    expected = (0.35 * np.array(COLORS) + 0.65)[nearest_centroid(points)]
    clear = np.abs(np.abs(points[:, 0]) - np.abs(points[:, 1])) > 2 * (xs[1] - xs[0])  # not on a boundary
    assert clear.mean() > 0.9
    np.testing.assert_allclose(np.asarray(image).reshape(-1, 3)[clear], expected[clear])


def test_decision_regions_image_size_and_drawing_on_a_given_axes():
    mpl_figure = pytest.importorskip("matplotlib.figure")
    fig = mpl_figure.Figure(figsize=(8, 3))
    left, right = fig.subplots(1, 2)
    returned = plotting.plot_decision_regions(centroid_model(), X_SMALL, Y_SMALL, ax=right)
    assert returned is fig and len(left.images) == 0 and len(right.images) == 1
    assert png_shape(fig, dpi=40) == (120, 320, 4)


# --------------------------------------------------------------------------- probabilities
def image_grid(image) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates of an imshow image with origin='lower', from its extent."""
    left, right, bottom, top = image.get_extent()
    rows, cols = image.get_array().shape[:2]
    xs = left + (np.arange(cols) + 0.5) * (right - left) / cols
    ys = bottom + (np.arange(rows) + 0.5) * (top - bottom) / rows
    return xs, ys


@pytest.mark.parametrize("activation", ["linear", "softmax", "sigmoid"])
def test_probability_surfaces_are_the_softmax_of_the_logits(activation):
    fig = plotting.plot_probabilities(centroid_model(activation), X_SMALL, Y_SMALL, resolution=60)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4
    surfaces = np.stack([np.asarray(ax.images[0].get_array()) for ax in panels], axis=-1)
    assert surfaces.shape == (60, 60, 4)
    assert surfaces.min() >= 0.0 and surfaces.max() <= 1.0
    np.testing.assert_allclose(surfaces.sum(axis=-1), 1.0, atol=1e-6)
    xs, ys = image_grid(panels[0].images[0])
    xx, yy = np.meshgrid(xs, ys)
    expected = reference_softmax(reference_logits(np.column_stack([xx.ravel(), yy.ravel()])))
    # Float32 model: the grid points themselves are rounded to float32.
    np.testing.assert_allclose(surfaces.reshape(-1, 4), expected, atol=2e-5)
    for ax in panels:
        assert ax.images[0].get_clim() == (0.0, 1.0)
    assert [ax.get_title() for ax in panels] == [f"P(class {k} | x)" for k in range(4)]


def test_probability_panels_render_white_at_zero_and_the_class_colour_at_one():
    fig = plotting.plot_probabilities(centroid_model(), X_SMALL, None, resolution=120, colors=COLORS)
    panels = [ax for ax in fig.axes if ax.images]
    image = render(fig)
    for k, ax in enumerate(panels):
        inside = CENTROIDS[k] * 1.15  # deep in cell k: P(k) ~ 1
        outside = -CENTROIDS[k] * 1.15  # deep in the opposite cell: P(k) ~ 0
        assert reference_softmax(reference_logits(inside[None]))[0, k] > 0.999
        np.testing.assert_allclose(image[pixel_of(fig, ax, *inside)], COLORS[k], atol=3 / 255)
        np.testing.assert_allclose(image[pixel_of(fig, ax, *outside)], 1.0, atol=3 / 255)
    width, height = fig.get_size_inches()
    assert png_shape(fig, dpi=30) == (round(height * 30), round(width * 30), 4)


def test_probabilities_refuse_an_output_that_is_not_logits_or_probabilities():
    model = centroid_model("relu")
    with pytest.raises(ValueError, match="activation='relu'"):
        plotting.plot_probabilities(model, X_SMALL)


# --------------------------------------------------------------------------- confusion matrix
def test_confusion_matrix_counts_and_normalizations():
    model = centroid_model()
    # True labels vs the cells of X_SMALL: points 0-3 right, point 4 (true 0) and 5 (true 2) land in cell 1.
    counts = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=float)
    fig = plotting.plot_confusion_matrix(model, X_SMALL, Y_SMALL)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), counts)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(int(v)) for v in counts.ravel()]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    by_row = plotting.plot_confusion_matrix(model, X_SMALL, Y_SMALL, normalize="true").axes[0]
    np.testing.assert_allclose(by_row.images[0].get_array()[0], [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(by_row.images[0].get_array()[1], [0, 1, 0, 0])
    assert by_row.texts[0].get_text() == "0.50"
    by_col = plotting.plot_confusion_matrix(model, X_SMALL, Y_SMALL, normalize="pred").axes[0]
    np.testing.assert_allclose(by_col.images[0].get_array()[:, 1], [1 / 3, 1 / 3, 1 / 3, 0])
    overall = plotting.plot_confusion_matrix(model, X_SMALL, Y_SMALL, normalize="all").axes[0]
    np.testing.assert_allclose(overall.images[0].get_array(), counts / 6)


def test_confusion_matrix_accepts_one_hot_targets_and_class_names():
    fig = plotting.plot_confusion_matrix(centroid_model(), X_SMALL, np.eye(4)[Y_SMALL], class_names=list("abcd"))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcd")
    assert ax.images[0].get_array().sum() == len(Y_SMALL)


# --------------------------------------------------------------------------- other classifiers
class StringLabelClassifier:
    """A scikit-learn-style nearest-centroid classifier with string classes."""

    classes_ = np.array(["east", "north", "south", "west"])  # sorted, as scikit-learn keeps them
    _centroids = np.array([[3.0, 0.0], [0.0, 3.0], [0.0, -3.0], [-3.0, 0.0]])

    def predict_proba(self, X):
        z = np.asarray(X) @ self._centroids.T - 0.5 * (self._centroids**2).sum(axis=1)
        return reference_softmax(z)


def test_estimators_with_predict_proba_and_string_classes():
    clf = StringLabelClassifier()
    names = np.array(["west", "east", "north", "south", "west", "north"])  # Y_SMALL's classes by direction
    fig = plotting.plot_confusion_matrix(clf, X_SMALL, names)
    counts = fig.axes[0].images[0].get_array()
    # Order east, north, south, west: the two misplaced points (true west, true north) are predicted east.
    np.testing.assert_array_equal(counts, [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    regions = plotting.plot_decision_regions(clf, X_SMALL, names)
    assert [t.get_text() for t in regions.axes[0].get_legend().get_texts()] == list(clf.classes_)
    proba = plotting.plot_probabilities(clf, X_SMALL, names, resolution=20)
    assert [ax.get_title() for ax in proba.axes if ax.images][0] == "P(class east | x)"
    with pytest.raises(ValueError, match="'up'"):
        plotting.plot_decision_regions(clf, X_SMALL, np.array(["up"] * 6))


def test_scikit_learn_logistic_regression_probabilities():
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = seed_like_data(np.random.default_rng(1))
    clf = linear_model.LogisticRegression().fit(X, y)
    fig = plotting.plot_probabilities(clf, X, y, resolution=30)
    panels = [ax for ax in fig.axes if ax.images]
    xs, ys = image_grid(panels[0].images[0])
    xx, yy = np.meshgrid(xs, ys)
    expected = clf.predict_proba(np.column_stack([xx.ravel(), yy.ravel()]))
    surfaces = np.stack([ax.images[0].get_array() for ax in panels], axis=-1).reshape(-1, 4)
    np.testing.assert_allclose(surfaces, expected, atol=1e-12)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: plotting.plot_decision_regions(m, np.zeros((5, 3))), ValueError, r"X.shape=\(5, 3\)"),
        (lambda m: plotting.plot_probabilities(m, [1.0, 2.0]), ValueError, "2-D array"),
        (lambda m: plotting.plot_decision_regions(m, X_SMALL, Y_SMALL[:3]), ValueError, r"y.shape=\(3,\)"),
        (lambda m: plotting.plot_decision_regions(m, X_SMALL, Y_SMALL + 1), ValueError, "label 4"),
        (lambda m: plotting.plot_decision_regions(m, X_SMALL, resolution=1), ValueError, "resolution=1"),
        (lambda m: plotting.plot_decision_regions(m, X_SMALL, Y_SMALL, colors=["red"]), ValueError, "colors"),
        (lambda m: plotting.plot_decision_regions(m, X_SMALL, Y_SMALL, class_names=["a"]), ValueError, "class_names"),
        (lambda m: plotting.plot_confusion_matrix(m, X_SMALL, Y_SMALL, normalize="rows"), ValueError, "normalize='rows'"),
        (lambda m: plotting.plot_confusion_matrix(m, np.zeros((2, 5)), [0, 1]), ValueError, "expects 2"),
        (lambda m: plotting.plot_decision_regions(object(), X_SMALL), TypeError, "predict"),
    ],
)
def test_bad_input_is_refused_with_the_argument_named(call, error, match):
    with pytest.raises(error, match=match):
        call(centroid_model())


def test_an_untrained_model_is_refused():
    model = ln.Sequential([ln.Dense(4)])
    with pytest.raises(ValueError, match="call `fit\\(\\)`"):
        plotting.plot_decision_regions(model, X_SMALL, Y_SMALL)


# --------------------------------------------------------------------------- the demo figure
def test_plot_demo_layout_and_accuracies():
    X, y = seed_like_data(np.random.default_rng(2))
    y_noisy = y.copy()
    y_noisy[:6] = 1  # six points of class 0 labelled 1: accuracy 114/120
    sigmoid_model, linear_model = centroid_model("sigmoid"), centroid_model()
    histories = ({"loss": [1.0, 0.5]}, {"loss": [0.9, 0.4], "val_loss": [1.0, 0.6]})
    fig = plotting.plot_demo(sigmoid_model, linear_model, X, y_noisy, histories, resolution=40)
    region_axes = [ax for ax in fig.axes if len(ax.images) == 1 and ax.get_legend() is not None]
    assert len(region_axes) == 2
    accuracy = np.mean(nearest_centroid(X) == y_noisy)
    assert accuracy == pytest.approx(114 / 120)
    for ax in region_axes:
        assert f"training accuracy {accuracy:.3f}" in ax.get_title()
    curves = [ax for ax in fig.axes if ax.get_xlabel() == "epoch"]
    assert [len(ax.get_lines()) for ax in curves] == [1, 2]
    prob_panels = [ax for ax in fig.axes if ax.get_title().startswith("P(class")]
    surfaces = np.stack([ax.images[0].get_array() for ax in prob_panels], axis=-1)
    np.testing.assert_allclose(surfaces.sum(axis=-1), 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="histories"):
        plotting.plot_demo(sigmoid_model, linear_model, X, y, histories[:1])


def test_demo_cli_writes_the_figure(tmp_path, capsys):
    from logitnet.cli import main

    path = tmp_path / "demo.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["demo", "--quiet", "--epochs", "2", "--plot", str(path)]) == 0
    assert f"Figure written to {path}" in capsys.readouterr().out
    image = imread(path)
    assert image.shape[0] >= 900 and image.shape[1] >= 1200
    # The four tab10 class colours (the points and the surfaces at P = 1) are in it.
    tab10 = np.array([[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40]]) / 255
    for colour in tab10:
        assert np.sum(np.all(np.abs(image[..., :3] - colour) < 3 / 255, axis=2)) > 100
