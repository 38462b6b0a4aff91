"""Strict structural comparison of decoded envlogger values.

The comparison rules are those of the upstream fixtures (see
`envlogger/testdata/upstream-1.3/README.md`):

* the Python type must be identical at every node (`np.float32` is not
  `np.float64` is not `float`, `int` is not `np.int64`, a list is not a tuple,
  a `dm_env.StepType` must be that enum);
* numpy arrays: same dtype, same shape, same values (NaN equals NaN); object
  arrays are compared element by element with these same rules;
* floating point scalars: NaN equals NaN, otherwise `==`;
* dicts: same keys, matched by type and value (`np.int64(5)` and `5` are
  different keys), key order ignored, and equal values;
* dm_env specs: same class and same shape, dtype, name, minimum, maximum and
  num_values (dm_env's own `__eq__` ignores the name).

A `StepData` read back by a Reader should be compared as `tuple(step)`
against the fixtures' plain 3-tuples.
"""

from typing import Any, List

from dm_env import specs
import numpy as np

_SPEC_ATTRIBUTES = ('shape', 'dtype', 'name', 'minimum', 'maximum', 'num_values')


def differences(actual: Any, expected: Any, path: str = 'value') -> List[str]:
  """Returns human-readable differences between two values (empty if equal).

  Args:
    actual: the value to check.
    expected: the reference value.
    path: name of the root, used as prefix of every reported location.
  """
  found: List[str] = []
  _compare(actual, expected, path, found)
  return found


def assert_strictly_equal(actual: Any, expected: Any, path: str = 'value') -> None:
  """Raises AssertionError listing the first differences, if any."""
  found = differences(actual, expected, path)
  if found:
    shown = '\n  '.join(found[:20])
    more = f'\n  ... and {len(found) - 20} more' if len(found) > 20 else ''
    raise AssertionError(f'{len(found)} difference(s):\n  {shown}{more}')


def _is_nan(x: Any) -> bool:
  try:
    return bool(np.isnan(x))
  except (TypeError, ValueError):
    return False


def _compare(actual: Any, expected: Any, path: str, found: List[str]) -> None:
  if type(actual) is not type(expected):
    found.append(
      f'{path}: type {type(actual).__qualname__} != '
      f'{type(expected).__qualname__} '
      f'({_short(actual)} vs {_short(expected)})'
    )
    return
  if isinstance(expected, np.ndarray):
    _compare_arrays(actual, expected, path, found)
  elif isinstance(expected, dict):
    _compare_dicts(actual, expected, path, found)
  elif isinstance(expected, (list, tuple)):
    if len(actual) != len(expected):
      found.append(f'{path}: length {len(actual)} != {len(expected)}')
      return
    fields = getattr(expected, '_fields', None)
    for i, (a, e) in enumerate(zip(actual, expected)):
      component = f'.{fields[i]}' if fields else f'[{i}]'
      _compare(a, e, path + component, found)
  elif isinstance(expected, specs.Array):
    for attribute in _SPEC_ATTRIBUTES:
      has_a = hasattr(actual, attribute)
      has_e = hasattr(expected, attribute)
      if has_a != has_e:
        found.append(f'{path}.{attribute}: present {has_a} != {has_e}')
      elif has_e:
        a, e = getattr(actual, attribute), getattr(expected, attribute)
        if attribute == 'dtype':
          if np.dtype(a) != np.dtype(e):
            found.append(f'{path}.dtype: {a} != {e}')
        else:
          _compare(a, e, f'{path}.{attribute}', found)
  elif _is_nan(expected):
    if not _is_nan(actual):
      found.append(f'{path}: {_short(actual)} != NaN')
  elif not actual == expected:
    found.append(f'{path}: {_short(actual)} != {_short(expected)}')


def _compare_arrays(actual: np.ndarray, expected: np.ndarray, path: str, found: List[str]) -> None:
  if actual.dtype != expected.dtype:
    found.append(f'{path}: dtype {actual.dtype} != {expected.dtype}')
    return
  if actual.shape != expected.shape:
    found.append(f'{path}: shape {actual.shape} != {expected.shape}')
    return
  if expected.dtype == object:
    for index in np.ndindex(expected.shape):
      _compare(actual[index], expected[index], f'{path}[{", ".join(map(str, index))}]', found)
    return
  equal_nan = np.issubdtype(expected.dtype, np.inexact)
  if not np.array_equal(actual, expected, equal_nan=equal_nan):
    found.append(f'{path}: array values differ: {_short(actual)} vs {_short(expected)}')


def _compare_dicts(actual: dict, expected: dict, path: str, found: List[str]) -> None:
  actual_keys = {(type(k), k): k for k in actual}
  expected_keys = {(type(k), k): k for k in expected}
  for typed_key, key in expected_keys.items():
    if typed_key not in actual_keys:
      found.append(f'{path}: missing key {key!r} ({type(key).__qualname__})')
    else:
      _compare(actual[actual_keys[typed_key]], expected[key], f'{path}[{key!r}]', found)
  for typed_key, key in actual_keys.items():
    if typed_key not in expected_keys:
      found.append(f'{path}: unexpected key {key!r} ({type(key).__qualname__})')


def _short(x: Any, limit: int = 80) -> str:
  text = repr(x)
  return text if len(text) <= limit else text[: limit - 3] + '...'
