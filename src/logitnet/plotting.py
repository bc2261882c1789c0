"""Plots of a classifier: learning curves, decision regions, probability surfaces, confusion matrix.

matplotlib is an optional extra (``pip install "logitnet[plot]"``), imported
inside each function, so ``import logitnet`` stays light. Every function
draws on a new :class:`matplotlib.figure.Figure` made without pyplot (or on
the ``ax`` / ``fig`` you pass) and returns the figure. No backend, display or
pyplot state is involved, so the functions work headless
(``fig.savefig("plot.png")``) and a figure is freed when you drop it. In
Jupyter a returned figure shows itself; in a script, to get a window, pass
``fig=plt.figure()`` (or ``ax=``) and call ``plt.show()``.

``model`` may be a logitnet :class:`~logitnet.models.Sequential`, an
estimator with ``predict_proba`` (scikit-learn, :mod:`logitnet.sklearn`) or
any object whose ``predict`` returns class scores of shape
``(n_samples, n_classes)``. For a Sequential, the regions are the argmax of
the last layer's logits (the class ``argmax(predict(X))`` gives, without
float32 saturation ties) and the probabilities are ``softmax`` of those
logits: for a softmax output that is ``predict(X)``; for a sigmoid output
it is what the model was trained to, since the loss is computed from the
logits (its sigmoids themselves are not probabilities).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import data
from ._validation import check_int
from .ops import softmax

__all__ = [
    "plot_history",
    "plot_decision_regions",
    "plot_probabilities",
    "plot_confusion_matrix",
    "plot_demo",
]

_REGION_ALPHA = 0.35  # region colour = 0.35 * class colour + 0.65 * white
_NORMALIZE = (None, "true", "pred", "all")


# --------------------------------------------------------------------------- matplotlib
def _require_matplotlib() -> Any:
    """Import matplotlib, or raise an ImportError that names the extra to install."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "logitnet.plotting needs matplotlib, an optional extra. Install it with "
            "`pip install \"logitnet[plot]\"` (or `pip install matplotlib`)."
        ) from exc
    return matplotlib


def _new_figure(figsize: tuple[float, float]) -> Any:
    mpl = _require_matplotlib()
    return mpl.figure.Figure(figsize=figsize, layout="constrained")


def _class_colors(n_classes: int, colors: Optional[Sequence[Any]]) -> NDArray[np.float64]:
    """RGB rows, shape (n_classes, 3): ``colors`` if given, else tab10 / tab20 / turbo."""
    mpl = _require_matplotlib()
    if colors is not None:
        if len(colors) < n_classes:
            raise ValueError(
                f"Argument `colors` needs one colour per class ({n_classes}), but received {len(colors)}."
            )
        return np.array([mpl.colors.to_rgb(c) for c in list(colors)[:n_classes]])
    if n_classes <= 10:
        return np.array(mpl.colormaps["tab10"].colors[:n_classes])
    if n_classes <= 20:
        return np.array(mpl.colormaps["tab20"].colors[:n_classes])
    return mpl.colormaps["turbo"](np.linspace(0.0, 1.0, n_classes))[:, :3]


def _region_colors(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    return _REGION_ALPHA * rgb + (1.0 - _REGION_ALPHA)


# --------------------------------------------------------------------------- models
def _is_sequential(model: Any) -> bool:
    from .models import Sequential

    return isinstance(model, Sequential)


def _sequential_logits(model: Any, X: NDArray[np.floating]) -> tuple[NDArray[np.floating], str]:
    """The last layer's logits (pre-activation), shape (n_samples, n_outputs), and its activation's name."""
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not been trained (built) yet; call `fit()` before plotting it.")
    activation = getattr(getattr(model.layers[-1], "activation", None), "name", "linear")
    fused = model._fused_output()  # softmax/sigmoid: the logits are the last layer's pre-activation
    chunks = [model._forward(X[start:start + 16384], training=False, logits=fused) for start in range(0, len(X), 16384)]
    return np.concatenate(chunks), activation


def _checked_x(model: Any, X: ArrayLike, two_d: bool, func: str) -> NDArray[np.floating]:
    n_features = model.input_dim if _is_sequential(model) and model.built else None
    dtype = model.dtype if _is_sequential(model) else np.float64
    x = data.check_features(X, name="X", dtype=dtype, n_features=n_features)
    if two_d and x.shape[1] != 2:
        raise ValueError(
            f"`{func}` draws the plane of two input features, so `X` must have shape (n_samples, 2). "
            f"Received: X.shape={x.shape}"
        )
    if len(x) == 0:
        raise ValueError(f"Argument `X` has 0 samples; `{func}` has nothing to plot.")
    return x


def _scores(model: Any, X: NDArray[np.floating]) -> tuple[NDArray[np.float64], np.ndarray]:
    """Class scores whose argmax is the predicted class, shape (n, n_classes), and the class labels."""
    if _is_sequential(model):
        logits, _ = _sequential_logits(model, X)
        return logits.astype(np.float64), np.arange(logits.shape[1])
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X), dtype=np.float64)
        return proba, np.asarray(getattr(model, "classes_", np.arange(proba.shape[1])))
    if not hasattr(model, "predict"):
        raise TypeError(
            "Argument `model` must be a logitnet Sequential, or have `predict_proba` or `predict`. "
            f"Received: {type(model).__name__}"
        )
    out = np.asarray(model.predict(X), dtype=np.float64)
    if out.ndim != 2 or out.shape[1] < 2:
        raise ValueError(
            "`model.predict(X)` must return class scores of shape (n_samples, n_classes) with n_classes >= 2. "
            f"Received: shape {out.shape}"
        )
    return out, np.arange(out.shape[1])


def _probabilities(model: Any, X: NDArray[np.floating]) -> NDArray[np.float64]:
    """Class probabilities, shape (n_samples, n_classes); rows sum to 1."""
    if _is_sequential(model):
        logits, activation = _sequential_logits(model, X)
        if activation not in ("linear", "softmax", "sigmoid"):
            raise ValueError(
                f"Cannot derive class probabilities from a last layer with activation='{activation}'. "
                "Use activation='linear' (trained with from_logits=True) or 'softmax'."
            )
        return softmax(logits.astype(np.float64))
    scores, _ = _scores(model, X)
    is_proba = np.all(scores >= 0) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-4)
    return scores if hasattr(model, "predict_proba") or is_proba else softmax(scores)


def _label_indices(y: Optional[ArrayLike], classes: np.ndarray, n_samples: int) -> Optional[NDArray[np.intp]]:
    """``y`` as indices into ``classes``; one-hot rows become their argmax."""
    if y is None:
        return None
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == len(classes) and arr.shape[1] > 1:
        arr = arr.argmax(axis=1)
    elif arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or len(arr) != n_samples:
        raise ValueError(
            f"Argument `y` must hold one label per sample of `X`, shape ({n_samples},). Received: y.shape={arr.shape}"
        )
    order = np.argsort(classes, kind="stable")
    try:
        pos = np.clip(np.searchsorted(classes, arr, sorter=order), 0, len(classes) - 1)
        found = np.asarray(classes[order[pos]] == arr, dtype=bool)
    except TypeError:  # e.g. string labels for a model whose classes are 0..K-1
        pos, found = np.zeros(len(arr), dtype=np.intp), np.zeros(len(arr), dtype=bool)
    if not np.all(found):
        bad = np.asarray(arr[~found][0]).tolist()
        raise ValueError(
            f"Argument `y` contains the label {bad!r}, which is not one of the model's classes {classes.tolist()}."
        )
    return order[pos].astype(np.intp)


def _names(classes: np.ndarray, class_names: Optional[Sequence[str]]) -> list[str]:
    if class_names is None:
        return [str(c) for c in classes]
    if len(class_names) != len(classes):
        raise ValueError(
            f"Argument `class_names` needs one name per class ({len(classes)}). Received {len(class_names)} names."
        )
    return [str(c) for c in class_names]


# --------------------------------------------------------------------------- the plane
class _Plane:
    """A ``resolution x resolution`` grid covering ``X`` (with a margin), for imshow and contour.

    ``xs``/``ys`` are the pixel centres; ``points`` has shape (resolution**2, 2),
    row-major with y varying slowest, so ``values.reshape(resolution, resolution)``
    is an image with ``origin="lower"``.
    """

    def __init__(self, X: NDArray[np.floating], resolution: int, margin: float = 0.08) -> None:
        lo, hi = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
        span = np.where(hi > lo, hi - lo, 1.0)
        lo, hi = lo - margin * span, hi + margin * span
        self.shape = (resolution, resolution)
        self.xs = np.linspace(lo[0], hi[0], resolution)
        self.ys = np.linspace(lo[1], hi[1], resolution)
        xx, yy = np.meshgrid(self.xs, self.ys)
        self.points = np.column_stack([xx.ravel(), yy.ravel()]).astype(X.dtype)
        dx, dy = (self.xs[1] - self.xs[0]) / 2, (self.ys[1] - self.ys[0]) / 2
        self.extent = (self.xs[0] - dx, self.xs[-1] + dx, self.ys[0] - dy, self.ys[-1] + dy)

    def image(self, values: np.ndarray) -> np.ndarray:
        return values.reshape(self.shape + values.shape[1:])


def _axis_labels(ax: Any, feature_names: Optional[Sequence[str]]) -> None:
    names = ("feature 0", "feature 1") if feature_names is None else feature_names
    ax.set_xlabel(str(names[0]))
    ax.set_ylabel(str(names[1]))


def _scatter_classes(ax: Any, X: np.ndarray, labels: Optional[np.ndarray], rgb: np.ndarray, names: list[str]) -> None:
    if labels is None:
        ax.scatter(X[:, 0], X[:, 1], s=8, c="0.3", linewidths=0)
        return
    for k, name in enumerate(names):
        mask = labels == k
        if mask.any():
            ax.scatter(X[mask, 0], X[mask, 1], s=9, color=rgb[k], edgecolors="black", linewidths=0.25, label=name)
    ax.legend(loc="best", fontsize="small", markerscale=1.6, framealpha=0.8, title="class")


def _draw_regions(
    ax: Any, model: Any, X: np.ndarray, labels: Optional[np.ndarray], plane: _Plane,
    colors: Optional[Sequence[Any]], names: Optional[Sequence[str]], feature_names: Optional[Sequence[str]],
) -> NDArray[np.float64]:
    """Regions, boundaries and points on ``ax``; returns the scores at ``X``."""
    scores, classes = _scores(model, plane.points)
    n_classes = scores.shape[1]
    rgb = _class_colors(n_classes, colors)
    names = _names(classes, names)
    predicted = scores.argmax(axis=1)
    ax.imshow(plane.image(_region_colors(rgb)[predicted]), origin="lower", extent=plane.extent,
              interpolation="nearest", aspect="auto")
    for k in range(n_classes):  # boundary of region k: where its score ties the best other score
        others = np.delete(scores, k, axis=1).max(axis=1)
        margin = plane.image(scores[:, k] - others)
        if margin.max() > 0 and margin.min() < 0:
            ax.contour(plane.xs, plane.ys, margin, levels=[0.0], colors="0.15", linewidths=1.0)
    _scatter_classes(ax, X, labels, rgb, names)
    ax.set_xlim(plane.extent[:2])
    ax.set_ylim(plane.extent[2:])
    _axis_labels(ax, feature_names)
    return _scores(model, X)[0]


def _class_cmap(color: np.ndarray) -> Any:
    mpl = _require_matplotlib()
    return mpl.colors.LinearSegmentedColormap.from_list("white_to_class", [(1.0, 1.0, 1.0), tuple(color)])


def _draw_probability(
    ax: Any, proba_k: np.ndarray, k: int, name: str, plane: _Plane, X: np.ndarray,
    labels: Optional[np.ndarray], color: np.ndarray,
) -> Any:
    image = ax.imshow(plane.image(proba_k), origin="lower", extent=plane.extent, interpolation="nearest",
                      aspect="auto", cmap=_class_cmap(color), vmin=0.0, vmax=1.0)
    ax.contour(plane.xs, plane.ys, plane.image(proba_k), levels=[0.5], colors="black", linewidths=0.8,
               linestyles="dashed")
    if labels is not None:
        ax.scatter(X[labels != k, 0], X[labels != k, 1], s=3, c="0.55", alpha=0.35, linewidths=0)
        ax.scatter(X[labels == k, 0], X[labels == k, 1], s=4, c="black", linewidths=0)
    ax.set_xlim(plane.extent[:2])
    ax.set_ylim(plane.extent[2:])
    ax.set_title(f"P(class {name} | x)", fontsize="medium")
    return image


# --------------------------------------------------------------------------- history
def _history_dict(history: Any) -> tuple[dict[str, list[float]], NDArray[np.int_]]:
    """The per-epoch logs and the 1-based epoch numbers of a History, a model or a dict."""
    if isinstance(history, Mapping):
        logs, epochs = dict(history), None
    elif _is_sequential(history) and history.history is None:
        logs, epochs = {}, None
    elif isinstance(getattr(history, "history", None), Mapping):
        logs, epochs = dict(history.history), getattr(history, "epoch", None)
    elif isinstance(getattr(getattr(history, "history", None), "history", None), Mapping):  # a model
        logs, epochs = dict(history.history.history), getattr(history.history, "epoch", None)
    elif isinstance(getattr(history, "history_", None), Mapping):  # a fitted logitnet.sklearn estimator
        logs, epochs = dict(history.history_), None
    else:
        raise TypeError(
            "Argument `history` must be the History returned by `fit()`, a trained model or estimator, or a "
            f"dict of per-epoch lists. Received: {type(history).__name__}"
        )
    n = max((len(v) for v in logs.values()), default=0)
    if n == 0:
        raise ValueError("Argument `history` holds no epochs; train the model with `fit()` first.")
    x = np.asarray(epochs) + 1 if epochs is not None and len(epochs) == n else np.arange(1, n + 1)
    return logs, x


def _draw_curves(ax: Any, logs: dict[str, list[float]], epochs: np.ndarray, name: str) -> None:
    from matplotlib.ticker import MaxNLocator

    for key, style, what in ((name, "-", "training"), ("val_" + name, "--", "validation")):
        if key in logs:
            values = logs[key]
            ax.plot(epochs[: len(values)], values, style, marker="o", markersize=3, label=what)
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")


def plot_history(history: Any, *, metrics: Optional[Sequence[str]] = None, fig: Any = None) -> Any:
    """Learning curves: one panel per quantity (loss first), training solid, validation dashed.

    Parameters
    ----------
    history : History, Sequential, SoftmaxClassifier or dict
        What ``fit`` returned, a trained model (its ``history``), a fitted
        :class:`logitnet.sklearn.SoftmaxClassifier` (its ``history_``), or a
        dict ``{"loss": [...], "val_loss": [...], ...}`` of per-epoch values.
    metrics : list of str, optional
        Quantities to draw (without ``val_``), e.g. ``["loss"]``. Default: all.
    fig : matplotlib Figure, optional
        Draw into this figure instead of a new one.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per quantity, in ``fig.axes``.

    Raises
    ------
    ValueError
        An empty history, or a name in ``metrics`` that was not recorded.
    """
    _require_matplotlib()
    logs, epochs = _history_dict(history)
    available = sorted({k[4:] if k.startswith("val_") else k for k in logs}, key=lambda k: (k != "loss", k))
    names = available if metrics is None else list(metrics)
    unknown = [m for m in names if m not in available]
    if unknown or not names:
        raise ValueError(
            f"Argument `metrics` must name recorded quantities {available}. Received: metrics={metrics!r}"
        )
    fig = _new_figure((4.4 * len(names), 3.4)) if fig is None else fig
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        _draw_curves(ax, logs, epochs, name)
        ax.set_title(name)
    return fig


# --------------------------------------------------------------------------- the plane plots
def plot_decision_regions(
    model: Any, X: ArrayLike, y: Optional[ArrayLike] = None, *, ax: Any = None, resolution: int = 200,
    class_names: Optional[Sequence[str]] = None, colors: Optional[Sequence[Any]] = None,
    feature_names: Optional[Sequence[str]] = None,
) -> Any:
    """The class the model predicts over the plane, its boundaries, and the data points.

    Parameters
    ----------
    model : Sequential or classifier
        Trained on two features (see the module docstring for what is accepted).
    X : array_like of shape (n_samples, 2)
        The points to draw; the plane covers them with an 8 % margin.
    y : array_like of shape (n_samples,), optional
        Their labels (indices ``0..n_classes-1``, the estimator's ``classes_``,
        or one-hot rows); the points are coloured by it. Grey points without it.
    ax : matplotlib Axes, optional
        Draw on this Axes instead of a new figure.
    resolution : int, default 200
        Grid points per axis.
    class_names, colors : list, optional
        One name / matplotlib colour per class (default: the labels; tab10).
    feature_names : (str, str), optional
        Axis labels (default ``"feature 0"``, ``"feature 1"``).

    Returns
    -------
    matplotlib.figure.Figure
        Regions are the class colours mixed 35 % with white; boundaries are
        dark lines where the two best class scores tie.
    """
    _require_matplotlib()
    resolution = check_int(resolution, "resolution", minimum=2)
    x = _checked_x(model, X, True, "plot_decision_regions")
    plane = _Plane(x, resolution)
    _, classes = _scores(model, x[:1])
    labels = _label_indices(y, classes, len(x))
    if ax is None:
        fig = _new_figure((6.4, 5.0))
        ax = fig.add_subplot()
    _draw_regions(ax, model, x, labels, plane, colors, class_names, feature_names)
    return ax.figure


def plot_probabilities(
    model: Any, X: ArrayLike, y: Optional[ArrayLike] = None, *, fig: Any = None, resolution: int = 150,
    class_names: Optional[Sequence[str]] = None, colors: Optional[Sequence[Any]] = None,
    feature_names: Optional[Sequence[str]] = None,
) -> Any:
    """The softmax probability of each class over the plane, one panel per class.

    Parameters
    ----------
    model : Sequential or classifier
        Trained on two features. For a Sequential these are ``softmax`` of
        the last layer's logits (see the module docstring).
    X : array_like of shape (n_samples, 2)
    y : array_like of shape (n_samples,), optional
        Panel ``k`` shows class ``k``'s points in black, the others in grey.
    fig : matplotlib Figure, optional
    resolution : int, default 150
    class_names, colors : list, optional
    feature_names : (str, str), optional
        Axis labels of the first panel.

    Returns
    -------
    matplotlib.figure.Figure
        Panel ``k`` (``fig.axes[k]``) holds an image, white at 0 to class
        ``k``'s colour at 1, whose array (``fig.axes[k].images[0].get_array()``,
        shape ``(resolution, resolution)``, pixel centres on the grid spanning
        its extent) is ``P(class k | x)``; the dashed line is where it is 0.5.
    """
    _require_matplotlib()
    resolution = check_int(resolution, "resolution", minimum=2)
    x = _checked_x(model, X, True, "plot_probabilities")
    plane = _Plane(x, resolution)
    proba = _probabilities(model, plane.points)
    _, classes = _scores(model, x[:1])
    labels = _label_indices(y, classes, len(x))
    names = _names(classes, class_names)
    rgb = _class_colors(proba.shape[1], colors)
    fig = _new_figure((3.3 * proba.shape[1] + 0.6, 3.2)) if fig is None else fig
    axes = fig.subplots(1, proba.shape[1], squeeze=False, sharex=True, sharey=True)[0]
    for k, ax in enumerate(axes):
        image = _draw_probability(ax, proba[:, k], k, names[k], plane, x, labels, rgb[k])
        fig.colorbar(image, ax=ax, shrink=0.85, ticks=[0, 0.5, 1])
    _axis_labels(axes[0], feature_names)
    return fig


def plot_confusion_matrix(
    model: Any, X: ArrayLike, y: ArrayLike, *, ax: Any = None, normalize: Optional[str] = None,
    class_names: Optional[Sequence[str]] = None,
) -> Any:
    """Counts of (true class, predicted class) pairs, rows true, columns predicted (scikit-learn's layout).

    Parameters
    ----------
    model : Sequential or classifier
    X : array_like of shape (n_samples, n_features)
    y : array_like of shape (n_samples,)
    ax : matplotlib Axes, optional
    normalize : {None, "true", "pred", "all"}, default None
        Divide by the row sums, the column sums or the total (as scikit-learn).
    class_names : list of str, optional

    Returns
    -------
    matplotlib.figure.Figure
        The Axes's image array is the (normalized) matrix, shape (n_classes, n_classes);
        each cell is annotated with its value.
    """
    _require_matplotlib()
    if normalize not in _NORMALIZE:
        raise ValueError(
            f"Received an invalid value for `normalize`, expected None, 'true', 'pred' or 'all'. "
            f"Received: normalize={normalize!r}"
        )
    x = _checked_x(model, X, False, "plot_confusion_matrix")
    scores, classes = _scores(model, x)
    true = _label_indices(y, classes, len(x))
    n_classes = scores.shape[1]
    matrix = np.zeros((n_classes, n_classes), dtype=np.float64)
    np.add.at(matrix, (true, scores.argmax(axis=1)), 1.0)
    if normalize is not None:
        axis = {"true": 1, "pred": 0, "all": None}[normalize]
        total = matrix.sum(axis=axis, keepdims=axis is not None)
        matrix = np.divide(matrix, total, out=np.zeros_like(matrix), where=total > 0)
    names = _names(classes, class_names)
    if ax is None:
        fig = _new_figure((1.0 * n_classes + 2.8, 0.9 * n_classes + 2.2))
        ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", vmin=0.0, interpolation="nearest")
    threshold = matrix.max() / 2
    for i in range(n_classes):
        for j in range(n_classes):
            text = f"{matrix[i, j]:.2f}" if normalize else f"{int(matrix[i, j])}"
            ax.text(j, i, text, ha="center", va="center", color="white" if matrix[i, j] > threshold else "black")
    ax.set_xticks(range(n_classes), labels=names)
    ax.set_yticks(range(n_classes), labels=names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    return ax.figure


# --------------------------------------------------------------------------- the demo figure
def plot_demo(
    nonpreferred_model: Any, preferred_model: Any, X: ArrayLike, y: ArrayLike, histories: Sequence[Any], *,
    fig: Any = None, resolution: int = 160,
) -> Any:
    """The seed's two models side by side, and the preferred model's probability surfaces.

    Row 1: each model's decision regions (titled with its training accuracy);
    row 2: each model's learning curve; row 3: one probability panel per class
    for the preferred model.

    Parameters
    ----------
    nonpreferred_model, preferred_model : Sequential
        The sigmoid-output and the linear-output (logits) models, trained.
    X : array_like of shape (n_samples, 2)
    y : array_like of shape (n_samples,)
    histories : (History, History)
        What ``fit`` returned for each model, in the same order.
    fig : matplotlib Figure, optional
    resolution : int, default 160

    Returns
    -------
    matplotlib.figure.Figure
    """
    _require_matplotlib()
    if len(histories) != 2:
        raise ValueError(f"Argument `histories` must hold two Histories, one per model. Received {len(histories)}.")
    resolution = check_int(resolution, "resolution", minimum=2)
    x = _checked_x(preferred_model, X, True, "plot_demo")
    plane = _Plane(x, resolution)
    labels = _label_indices(y, np.arange(preferred_model.n_outputs), len(x))
    n_classes = preferred_model.n_outputs
    rgb = _class_colors(n_classes, None)
    fig = _new_figure((3.3 * max(n_classes, 4), 11.5)) if fig is None else fig
    grid = fig.add_gridspec(3, 2 * n_classes, height_ratios=[1.35, 0.8, 1.0])
    half = n_classes
    titles = ("Non-preferred: sigmoid output layer", "Preferred: linear output (logits), from_logits=True")
    models = (nonpreferred_model, preferred_model)
    curve_axes = []
    for i, (model, history, title) in enumerate(zip(models, histories, titles)):
        ax = fig.add_subplot(grid[0, i * half:(i + 1) * half])
        scores = _draw_regions(ax, model, x, labels, plane, rgb, None, None)
        accuracy = float(np.mean(scores.argmax(axis=1) == labels))
        ax.set_title(f"{title}\ntraining accuracy {accuracy:.3f}", fontsize="medium")
        curve = fig.add_subplot(grid[1, i * half:(i + 1) * half], sharey=curve_axes[0] if curve_axes else None)
        logs, epochs = _history_dict(history)
        _draw_curves(curve, logs, epochs, "loss")
        curve.set_title(f"learning curve, final loss {logs['loss'][-1]:.4f}", fontsize="medium")
        curve_axes.append(curve)
    proba = _probabilities(preferred_model, plane.points)
    for k in range(n_classes):
        ax = fig.add_subplot(grid[2, 2 * k:2 * k + 2])
        image = _draw_probability(ax, proba[:, k], k, str(k), plane, x, labels, rgb[k])
        fig.colorbar(image, ax=ax, shrink=0.85, ticks=[0, 0.5, 1])
    fig.suptitle("logitnet demo: the seed's two models on its four blobs (row 3: softmax of the preferred "
                 "model's logits)", fontsize="large")
    return fig
