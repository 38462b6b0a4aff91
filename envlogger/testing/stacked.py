"""Test helper: compares arrays stacked along a step axis with per-step values.

The expected side is built here from per-step values (e.g. what upstream's
Reader returned, `upstream_fixtures.expected`) with `np.stack`, by the
arrays rule for None (NaN in floating leaves, 0 otherwise), never from the
arrays API under test.
"""

from typing import Any, Sequence

import numpy as np


def assert_stacked(got: Any, values: Sequence[Any], path: str = '') -> None:
  """`got` (a tree of arrays with a leading step axis) equals `values` stacked.

  Dicts must have the same keys; lists/tuples the same length; a leaf must
  have the dtype of the first non-None per-step value and equal its values
  (NaN equal to NaN). A leaf that is None in every step must be None.

  Raises:
    AssertionError: naming the path of the first leaf that differs.
  """
  present = [v for v in values if v is not None]
  if not present:
    assert got is None, f'{path}: expected None, got {got!r}'
    return
  first = present[0]
  if isinstance(first, dict):
    assert isinstance(got, dict) and set(got) == set(first), (
      f'{path}: keys {sorted(got) if isinstance(got, dict) else got!r} != {sorted(first)}'
    )
    for key in first:
      assert_stacked(got[key], [None if v is None else v[key] for v in values], f'{path}/{key}')
    return
  if isinstance(first, (list, tuple)) and not hasattr(first, 'dtype'):
    assert len(got) == len(first), f'{path}: {len(got)} parts, expected {len(first)}'
    for i in range(len(first)):
      assert_stacked(got[i], [None if v is None else v[i] for v in values], f'{path}/{i}')
    return
  dtype = np.asarray(first).dtype
  fill = np.nan if dtype.kind == 'f' else 0
  want = np.stack(
    [np.full(np.shape(first), fill, dtype) if v is None else np.asarray(v) for v in values]
  )
  got = np.asarray(got)
  assert got.dtype == want.dtype, f'{path}: dtype {got.dtype}, expected {want.dtype}'
  np.testing.assert_array_equal(got, want, err_msg=path)


def stack_by_hand(values: Sequence[Any], reference: Sequence[Any] = ()) -> Any:
  """np.stack of per-step values, None as NaN (floats) or 0, containers kept.

  A leaf that is None in every value takes its layout from `reference` (the
  same part of other steps of the dataset); with no such layout it is None.
  """
  present = [v for v in values if v is not None] or [v for v in reference if v is not None][:1]
  if not present:
    return None
  first = present[0]
  sub = lambda vs, k: [None if v is None else v[k] for v in vs]
  if isinstance(first, dict):
    return {k: stack_by_hand(sub(values, k), sub(reference, k)) for k in first}
  if isinstance(first, (list, tuple)):
    items = [stack_by_hand(sub(values, i), sub(reference, i)) for i in range(len(first))]
    return items if isinstance(first, list) else tuple(items)
  template = np.asarray(first)
  fill = np.nan if template.dtype.kind == 'f' else 0
  if not values:
    return np.zeros((0,) + template.shape, template.dtype)
  return np.stack(
    [np.full(template.shape, fill, template.dtype) if v is None else np.asarray(v) for v in values]
  )


def assert_tree_equal(actual: Any, expected: Any, path: str = 'step') -> None:
  """`actual` has the structure of `expected`, and equal arrays (dtype, shape, values).

  Dicts must have the same keys in the same order; lists/tuples the same type
  and length; None must be None.

  Raises:
    AssertionError: naming the path of the first part that differs.
  """
  if expected is None:
    assert actual is None, path
  elif isinstance(expected, dict):
    assert isinstance(actual, dict) and list(actual) == list(expected), path
    for k in expected:
      assert_tree_equal(actual[k], expected[k], f'{path}/{k}')
  elif isinstance(expected, (list, tuple)):
    assert type(actual) is type(expected) and len(actual) == len(expected), path
    for i, (a, e) in enumerate(zip(actual, expected)):
      assert_tree_equal(a, e, f'{path}/{i}')
  else:
    assert isinstance(actual, np.ndarray), path
    assert actual.dtype == expected.dtype, (path, actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (path, actual.shape, expected.shape)
    np.testing.assert_array_equal(actual, expected, err_msg=path)
