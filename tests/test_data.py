"""Tests for logitnet.data: the one-time checks and conversions at the public boundary.

Expected values are hand-written; message fragments are the ones the brief and
keras-parity.md §5/§8/§9 require (the argument's name, what was expected, what was received).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from logitnet.data import (
    assign_weights,
    check_categorical_targets,
    check_features,
    check_same_length,
    check_sample_weight,
    check_sparse_labels,
    class_weight_to_sample_weight,
    train_validation_split,
)


# --------------------------------------------------------------------------- check_features
def test_features_list_input_becomes_float32_c_array():
    out = check_features([[1, 2], [3, 4], [5, 6]])
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint16, np.bool_, np.float16, np.float64])
def test_features_numeric_dtypes_are_converted(dtype):
    x = np.array([[1, 0], [0, 1]], dtype=dtype)
    out = check_features(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1.0, 0.0], [0.0, 1.0]])


def test_features_model_dtype_float64_is_kept_exactly():
    x = np.array([[0.1, 1e-300]])
    out = check_features(x, dtype=np.float64)
    assert out.dtype == np.float64 and out[0, 0] == 0.1 and out[0, 1] == 1e-300


def test_features_fortran_order_and_strided_views_become_c_contiguous():
    x = np.asfortranarray(np.arange(12.0).reshape(4, 3))
    out = check_features(x)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.arange(12.0).reshape(4, 3))
    view = np.arange(24.0).reshape(4, 6)[:, ::2]
    out = check_features(view)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, [[0, 2, 4], [6, 8, 10], [12, 14, 16], [18, 20, 22]])


def test_features_empty_two_dimensional_is_accepted():
    assert check_features(np.empty((0, 3))).shape == (0, 3)


def test_features_one_dimensional_message():
    with pytest.raises(ValueError) as info:
        check_features(np.arange(5.0), name="x")
    message = str(info.value)
    assert "`x`" in message and "2-D" in message and "ndim=1" in message and "(5,)" in message
    assert "x.reshape(-1, 1)" in message and "x.reshape(1, -1)" in message


def test_features_three_dimensional_message():
    with pytest.raises(ValueError, match=r"`x` must be a 2-D array .* ndim=3 and shape \(2, 2, 2\)"):
        check_features(np.zeros((2, 2, 2)))


def test_features_scalar_is_rejected():
    with pytest.raises(ValueError, match=r"`x`.*ndim=0"):
        check_features(3.0)


def test_features_wrong_feature_count_message():
    with pytest.raises(ValueError) as info:
        check_features(np.zeros((4, 3)), n_features=2)
    message = str(info.value)
    assert "`x` has 3 features per sample, but the model expects 2" in message
    assert "x.shape=(4, 3)" in message


@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")])
def test_features_non_finite_message_names_the_position(bad, word):
    x = np.zeros((4, 3))
    x[2, 1] = bad
    with pytest.raises(ValueError) as info:
        check_features(x, name="validation_data x")
    message = str(info.value)
    assert "`validation_data x`" in message and word in message and "row 2, column 1" in message


def test_features_overflow_to_inf_in_float32_is_caught():
    # 1e39 is finite in float64 but inf once converted to the model's float32.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from the cast, just the ValueError
        with pytest.raises(ValueError, match=r"NaN or infinity .*1e\+39\).* overflows float32"):
            check_features(np.array([[1e39, 0.0]]))


def test_features_strings_are_type_error():
    with pytest.raises(TypeError, match=r"`x` must hold numbers .* \(strings\)"):
        check_features(np.array([["a", "b"]]))


def test_features_objects_are_type_error():
    with pytest.raises(TypeError, match="`x` must hold numbers"):
        check_features(np.array([[{}, 1]], dtype=object))


def test_features_none_and_ragged():
    with pytest.raises(ValueError, match="`x` is required"):
        check_features(None)
    with pytest.raises((ValueError, TypeError), match="`x`"):
        check_features([[1.0, 2.0], [3.0]])


def test_features_returns_a_copy_when_converting_and_does_not_modify_input():
    x = np.array([[1.0, 2.0]], dtype=np.float64)
    out = check_features(x)
    out[0, 0] = 99.0
    assert x[0, 0] == 1.0


# --------------------------------------------------------------------------- check_same_length
def test_same_length_message_lists_sizes():
    with pytest.raises(ValueError) as info:
        check_same_length(x=np.zeros((200, 2)), y=np.zeros(150))
    message = str(info.value)
    assert message.startswith("Data cardinality is ambiguous")
    assert "'x' sizes: 200\n'y' sizes: 150\n" in message


def test_same_length_accepts_equal_and_ignores_none():
    check_same_length(x=np.zeros((3, 2)), y=np.zeros(3), sample_weight=None)


# --------------------------------------------------------------------------- check_sparse_labels
def test_sparse_labels_column_vector_is_squeezed_to_intp():
    out = check_sparse_labels(np.array([[0], [3], [1]]), n_classes=4)
    assert out.shape == (3,) and out.dtype == np.intp
    np.testing.assert_array_equal(out, [0, 3, 1])


def test_sparse_labels_list_and_integral_floats_and_bools():
    np.testing.assert_array_equal(check_sparse_labels([2, 0, 1], n_classes=3), [2, 0, 1])
    out = check_sparse_labels(np.array([0.0, 1.0, 2.0, 3.0]), n_classes=4)
    assert out.dtype == np.intp
    np.testing.assert_array_equal(out, [0, 1, 2, 3])
    np.testing.assert_array_equal(check_sparse_labels(np.array([True, False]), n_classes=2), [1, 0])


def test_sparse_labels_uint8_and_int8():
    np.testing.assert_array_equal(check_sparse_labels(np.array([3, 0], dtype=np.uint8), n_classes=4), [3, 0])
    np.testing.assert_array_equal(check_sparse_labels(np.array([3, 0], dtype=np.int8), n_classes=4), [3, 0])


def test_sparse_labels_non_integral():
    with pytest.raises(ValueError) as info:
        check_sparse_labels(np.array([0.0, 2.7, 1.0]), n_classes=4)
    message = str(info.value)
    assert "`y`" in message and "2.7" in message and "truncate it to 2" in message


def test_sparse_labels_nan():
    with pytest.raises(ValueError, match="`y` contains NaN or infinity"):
        check_sparse_labels(np.array([0.0, np.nan]), n_classes=4)


def test_sparse_labels_strings():
    with pytest.raises(TypeError) as info:
        check_sparse_labels(np.array(["cat", "dog", "cat"]), n_classes=2)
    message = str(info.value)
    assert "`y`" in message and "'cat'" in message and "np.unique(y, return_inverse=True)" in message


@pytest.mark.parametrize("label", [4, 10])
def test_sparse_labels_too_large(label):
    with pytest.raises(ValueError) as info:
        check_sparse_labels(np.array([0, label, 1]), n_classes=4)
    message = str(info.value)
    assert f"the label {label}, outside the valid range [0, 4) for a model with 4 outputs" in message
    assert f"at least {label + 1} units" in message


def test_sparse_labels_negative():
    with pytest.raises(ValueError, match=r"label -1, outside the valid range \[0, 3\)"):
        check_sparse_labels(np.array([0, -1, 2]), n_classes=3)


def test_sparse_labels_one_based_hint():
    with pytest.raises(ValueError, match="1-based: subtract 1"):
        check_sparse_labels(np.array([1, 2, 3, 4]), n_classes=4)


def test_sparse_labels_one_hot_hint():
    with pytest.raises(ValueError) as info:
        check_sparse_labels(np.eye(4), n_classes=4, loss_name="sparse_categorical_crossentropy")
    message = str(info.value)
    assert "`y` for `sparse_categorical_crossentropy`" in message and "(4, 4)" in message
    assert "one-hot" in message and "loss='categorical_crossentropy'" in message


def test_sparse_labels_ignore_class_values_pass():
    out = check_sparse_labels(np.array([0, -1, 2, -1]), n_classes=3, ignore_class=-1)
    np.testing.assert_array_equal(out, [0, -1, 2, -1])
    out = check_sparse_labels(np.array([[255], [1]], dtype=np.uint8), n_classes=3, ignore_class=255)
    np.testing.assert_array_equal(out, [255, 1])
    # Only the ignored value is exempt.
    with pytest.raises(ValueError, match="label 3"):
        check_sparse_labels(np.array([0, 255, 3]), n_classes=3, ignore_class=255)
    # All labels ignored: nothing to range-check.
    np.testing.assert_array_equal(check_sparse_labels(np.array([-1, -1]), n_classes=3, ignore_class=-1), [-1, -1])


def test_sparse_labels_name_in_message():
    with pytest.raises(ValueError, match="`validation_data y`"):
        check_sparse_labels(np.array([9]), n_classes=3, name="validation_data y")


# --------------------------------------------------------------------------- check_categorical_targets
def test_categorical_targets_converted():
    out = check_categorical_targets([[0, 1], [1, 0]], n_classes=2, dtype=np.float64)
    assert out.dtype == np.float64 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("y", [np.array([0, 1, 2]), np.array([[0], [1], [2]])])
def test_categorical_targets_integer_labels_hint(y):
    with pytest.raises(ValueError) as info:
        check_categorical_targets(y, n_classes=3)
    message = str(info.value)
    assert "`y` for `categorical_crossentropy` must have shape (n_samples, 3)" in message
    assert f"received shape {y.shape}" in message and "loss='sparse_categorical_crossentropy'" in message


def test_categorical_targets_wrong_width():
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\) .* received shape \(2, 3\)\.$"):
        check_categorical_targets(np.zeros((2, 3)), n_classes=4)


def test_categorical_targets_nan_and_strings():
    with pytest.raises(ValueError, match=r"`y` contains NaN or infinity \(first at row 1, column 0\)"):
        check_categorical_targets(np.array([[0.0, 1.0], [np.nan, 0.0]]), n_classes=2)
    with pytest.raises(TypeError, match="`y` for `categorical_crossentropy` must hold numbers"):
        check_categorical_targets(np.array([["a", "b"]]), n_classes=2)


# --------------------------------------------------------------------------- check_sample_weight
def test_sample_weight_none_column_and_dtype():
    assert check_sample_weight(None, n_samples=3) is None
    out = check_sample_weight(np.array([[1], [2], [0]]), n_samples=3, dtype=np.float64)
    assert out.shape == (3,) and out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, 2.0, 0.0])
    assert check_sample_weight([0.5, 1.5], n_samples=2).dtype == np.float32


def test_sample_weight_wrong_shape():
    expected = "`sample_weight` must have shape (3,), one weight per sample, but received shape (2,)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        check_sample_weight(np.ones(2), n_samples=3)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_sample_weight_must_be_finite_non_negative(bad):
    with pytest.raises(ValueError, match="`sample_weight` must hold finite, non-negative numbers"):
        check_sample_weight(np.array([1.0, bad]), n_samples=2)


def test_sample_weight_strings():
    with pytest.raises(TypeError, match="`sample_weight` must hold numbers"):
        check_sample_weight(np.array(["a", "b"]), n_samples=2)


# --------------------------------------------------------------------------- class_weight
def test_class_weight_maps_labels_and_missing_classes_weigh_one():
    out = class_weight_to_sample_weight({0: 2.0, 2: 0.5}, np.array([0, 1, 2, 3, 0]), n_classes=4)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [2.0, 1.0, 0.5, 1.0, 2.0])


def test_class_weight_accepts_numpy_keys_and_zero_weights():
    out = class_weight_to_sample_weight({np.int64(1): 0}, np.array([0, 1]), n_classes=2, dtype=np.float64)
    np.testing.assert_array_equal(out, [1.0, 0.0])


def test_class_weight_labels_outside_range_weigh_one():
    # Labels equal to a loss's ignore_class (e.g. -1 or 255) are left out by the loss anyway.
    out = class_weight_to_sample_weight({0: 3.0, 2: 5.0}, np.array([0, -1, 255, 2]), n_classes=3)
    np.testing.assert_array_equal(out, [3.0, 1.0, 1.0, 5.0])


@pytest.mark.parametrize("bad", [{4: 1.0}, {-1: 1.0}, {"a": 1.0}, {1.0: 1.0}, {True: 1.0}])
def test_class_weight_bad_keys(bad):
    with pytest.raises(ValueError, match=r"`class_weight` has the key .* in \[0, 4\)"):
        class_weight_to_sample_weight(bad, np.array([0]), n_classes=4)


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_class_weight_bad_values(bad):
    with pytest.raises(ValueError, match="`class_weight` has weight"):
        class_weight_to_sample_weight({0: bad}, np.array([0]), n_classes=2)


def test_class_weight_must_be_a_dict():
    with pytest.raises(TypeError, match="`class_weight` must be a dict"):
        class_weight_to_sample_weight([1.0, 2.0], np.array([0]), n_classes=2)


# --------------------------------------------------------------------------- train_validation_split
def test_split_takes_the_last_rows():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    (xt, yt, wt), (xv, yv, wv) = train_validation_split([x, y, None], 0.25)
    # split_at = floor(10 * 0.75) = 7
    np.testing.assert_array_equal(yt, np.arange(7))
    np.testing.assert_array_equal(yv, [7, 8, 9])
    np.testing.assert_array_equal(xv, x[7:])
    assert wt is None and wv is None


def test_split_floor_rounding():
    y = np.arange(7)
    (yt,), (yv,) = train_validation_split([y], 0.5)  # floor(3.5) = 3
    assert len(yt) == 3 and len(yv) == 4


@pytest.mark.parametrize("n, split", [(3, 0.9), (1, 0.5), (200, 0.999)])
def test_split_insufficient_data_is_keras_error(n, split):
    expected = (
        f"Training data contains {n} samples, which is not sufficient to split it into a validation and training "
        f"set as specified by `validation_split={split}`."
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        train_validation_split([np.zeros(n)], split)


# --------------------------------------------------------------------------- assign_weights
def test_assign_weights_copies_in_place_with_dtype_conversion():
    targets = [np.zeros((2, 3), dtype=np.float32), np.zeros(3, dtype=np.float32)]
    ids = [id(t) for t in targets]
    assign_weights("m", targets, [np.ones((2, 3)), [1, 2, 3]])
    assert [id(t) for t in targets] == ids
    np.testing.assert_array_equal(targets[0], np.ones((2, 3)))
    np.testing.assert_array_equal(targets[1], [1.0, 2.0, 3.0])
    assert targets[0].dtype == np.float32


def test_assign_weights_messages():
    targets = [np.zeros((2, 25)), np.zeros(25)]
    with pytest.raises(ValueError, match=re.escape(
        "You called `set_weights(weights)` on layer 'seq' with a weight list of length 1, "
        "but the layer was expecting 2 weights."
    )):
        assign_weights("seq", targets, [np.zeros((2, 25))])
    with pytest.raises(ValueError, match=re.escape(
        "Layer seq weight shape (25,) is not compatible with provided weight shape (24,)."
    )):
        assign_weights("seq", targets, [np.zeros((2, 25)), np.zeros(24)])
    with pytest.raises(TypeError, match="`set_weights` expects a list"):
        assign_weights("seq", targets, np.zeros((2, 25)))


def test_assign_weights_rejects_non_finite_without_partial_assignment():
    targets = [np.zeros(2), np.zeros(2)]
    with pytest.raises(ValueError, match="finite"):
        assign_weights("seq", targets, [np.ones(2), np.array([1.0, np.nan])])
    np.testing.assert_array_equal(targets[0], [0.0, 0.0])


# --------------------------------------------------------------------------- label hints (issue 7)
def test_sparse_labels_negative_marker_suggests_ignore_class():
    with pytest.raises(ValueError, match=r"If -1 marks samples without a label.*ignore_class=-1\)"):
        check_sparse_labels(np.array([0, -1, 2, -1]), n_classes=3)
    with pytest.raises(ValueError, match=r"Labels must be 0\.\.2; encode them"):
        check_sparse_labels(np.array([0, -1, -2]), n_classes=3)


def test_sparse_labels_more_classes_than_units_counts_them():
    with pytest.raises(ValueError, match=r"`y` holds 6 classes, more than the model's 4 output units\. Either the "
                                         r"last layer needs at least 6 units"):
        check_sparse_labels(np.arange(12) % 6, n_classes=4)
    with pytest.raises(ValueError) as info:  # 3 classes, one of them out of range: no "more classes" sentence
        check_sparse_labels(np.array([0, 1, 7]), n_classes=4)
    assert "classes, more than" not in str(info.value) and "at least 8 units" in str(info.value)


def test_sparse_labels_one_based_hint_states_the_valid_range():
    with pytest.raises(ValueError, match=r"1-based: subtract 1 .*Labels must be 0\.\.3 for a model with 4 outputs"):
        check_sparse_labels(np.array([1, 2, 3, 4]), n_classes=4)


def test_sparse_labels_one_hot_of_another_width_is_still_called_one_hot():
    with pytest.raises(ValueError, match=r"one-hot encoded.*\(It has 3 columns, but the model has 4 outputs\.\)"):
        check_sparse_labels(np.eye(3)[[0, 1, 2, 1]], n_classes=4)
    with pytest.raises(ValueError) as info:  # two columns of counts: not one-hot
        check_sparse_labels(np.array([[2, 0], [1, 1]]), n_classes=4)
    assert "one-hot" not in str(info.value)


def test_categorical_targets_with_more_columns_than_outputs():
    with pytest.raises(ValueError, match=r"has 6 columns \(classes\), more than the model's 4 output units: give "
                                         r"the last layer 6 units\."):
        check_categorical_targets(np.eye(6), n_classes=4)


def test_single_unit_output_is_refused_with_the_reason():
    from logitnet.data import check_n_outputs

    check_n_outputs(2, "out", "softmax")  # fine
    with pytest.raises(ValueError, match=r"'out' has 1 unit \(activation='softmax'\).*always 1.*Dense\(2\)"):
        check_n_outputs(1, "out", "softmax")


# --------------------------------------------------------------------------- out-of-core inputs
class _Sliceable:
    """A minimal array-like: shape, dtype and slicing (records the rows of each read)."""

    def __init__(self, data):
        self._data, self.shape, self.dtype, self.reads = data, data.shape, data.dtype, []

    def __getitem__(self, key):
        out = self._data[key]
        self.reads.append(len(out) if np.ndim(out) == 2 else 1)
        return out


def test_streamed_features_are_checked_block_by_block_with_statistics(tmp_path):
    from logitnet.outofcore import RowSource

    x = (np.random.default_rng(0).normal(size=(300_000, 4)) * [1, 10, 100, 1000]).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    source = check_features(mm, n_features=4, stream=True, stats=True)
    assert isinstance(source, RowSource) and source.shape == (300_000, 4)
    x64 = x.astype(np.float64)
    # means near 0: compared on the scale of each feature's spread (float64 rounding of 300,000 terms)
    assert (np.abs(source.stats.mean - x64.mean(axis=0)) <= 1e-10 * x64.std(axis=0)).all()
    np.testing.assert_allclose(source.stats.std, x64.std(axis=0), rtol=1e-10)
    np.testing.assert_array_equal(source.stats.min, x64.min(axis=0))
    np.testing.assert_array_equal(source.stats.max, x64.max(axis=0))
    np.testing.assert_array_equal(source[299_990:300_000], x[299_990:])
    np.testing.assert_array_equal(source.take(np.array([3, 4, 5, 100, 299_999])), x[[3, 4, 5, 100, 299_999]])
    assert type(check_features(x, stream=True)) is np.ndarray  # in-memory arrays take the usual path


def test_streamed_features_keep_the_messages_of_in_memory_ones():
    with pytest.raises(ValueError, match="has 3 features per sample, but the model expects 4"):
        check_features(_Sliceable(np.zeros((5, 3))), n_features=4, stream=True)
    with pytest.raises(TypeError, match="must hold numbers"):
        check_features(_Sliceable(np.array([["a"]])), stream=True)
    bad = np.zeros((5, 3))
    bad[4, 1] = np.inf
    with pytest.raises(ValueError, match=r"first at row 4, column 1: inf"):
        check_features(_Sliceable(bad), stream=True)


def test_validation_split_of_a_streamed_input_reads_nothing():
    data = _Sliceable(np.arange(40.0).reshape(20, 2))
    source = check_features(data, stream=True)
    data.reads.clear()
    (train, _), (val, _) = train_validation_split([source, np.arange(20)], 0.25)
    assert data.reads == [] and len(train) == 15 and len(val) == 5
    np.testing.assert_array_equal(val[0:5], np.arange(30.0, 40.0).reshape(5, 2))
    np.testing.assert_array_equal(train.take(np.array([0, 14])), [[0.0, 1.0], [28.0, 29.0]])


def test_what_is_streamed():
    from logitnet.outofcore import is_streamable

    class DaskLike(_Sliceable):
        __dask_graph__ = None

    assert is_streamable(_Sliceable(np.zeros((2, 2))))
    assert not is_streamable(np.zeros((2, 2))) and not is_streamable([[1.0, 2.0]])
    assert not is_streamable(DaskLike(np.zeros((2, 2))))
    assert not is_streamable(_Sliceable(np.zeros(3)))  # 1-D: the usual message comes from np.asarray
