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
