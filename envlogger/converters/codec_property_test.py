"""Property tests: decode(encode(x)) == normalize(x) for random nested values.

`_normalized` is an independent statement of the codec's documented
normalizations (empty containers and zero-size arrays -> None, Python float ->
np.float64, str/bytes arrays -> object arrays, np.str_/np.bytes_/np.bool_
scalars -> str/bytes/bool (an np.str_ keeping its trailing NULs), float dict
keys -> np.float64).
"""

from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np

from envlogger.converters import codec
from envlogger.testing import compare
from envlogger.testing import dtypes

_NUMERIC_DTYPES = dtypes.NUMERIC_DTYPES

_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)

_arrays = st.one_of(
  [hnp.arrays(dtype, _shapes) for dtype in _NUMERIC_DTYPES]
  + [
    hnp.arrays(hnp.unicode_string_dtypes(max_len=5), _shapes),
    hnp.arrays(hnp.byte_string_dtypes(max_len=5), _shapes),
  ]
)

_numpy_scalars = st.one_of(
  [hnp.from_dtype(np.dtype(dtype)).map(dtype) for dtype in _NUMERIC_DTYPES]
  + [st.text(max_size=5).map(np.str_), st.binary(max_size=5).map(np.bytes_)]
)

_leaves = st.one_of(
  st.none(),
  st.booleans(),
  st.integers(),
  st.integers(-(2**80), 2**80),
  st.floats(allow_nan=True, allow_infinity=True),
  st.text(max_size=8),
  st.binary(max_size=8),
  _numpy_scalars,
  _arrays,
)

_keys = st.one_of(
  st.text(max_size=4),
  st.integers(),
  st.binary(max_size=3),
  st.integers(-(2**63), 2**63 - 1).map(np.int64),
  st.tuples(st.integers(0, 3), st.text(max_size=2)),
  st.floats(allow_nan=False),
)


def _homogeneous_lists(children):
  """Lists whose elements all share the first element's type."""
  return st.lists(children, min_size=1, max_size=4).map(
    lambda xs: [x for x in xs if isinstance(x, type(xs[0]))]
  )


_values = st.recursive(
  _leaves,
  lambda children: st.one_of(
    _homogeneous_lists(children),
    st.lists(children, max_size=0),
    st.lists(children, max_size=4).map(tuple),
    st.dictionaries(_keys, children, max_size=4),
  ),
  max_leaves=12,
)


def _normalized_key(key: Any) -> Any:
  if isinstance(key, float):
    return np.float64(key)
  if isinstance(key, tuple):
    return _normalized(key)
  return key


def _normalized(value: Any) -> Any:
  """What decode(encode(value)) is documented to return."""
  if value is None:
    return None
  if isinstance(value, (list, tuple, dict)) and not value:
    return None
  if isinstance(value, list):
    return [_normalized(x) for x in value]
  if isinstance(value, tuple):
    return tuple(_normalized(x) for x in value)
  if isinstance(value, dict):
    return {_normalized_key(k): _normalized(v) for k, v in value.items()}
  if isinstance(value, np.ndarray):
    if value.size == 0:
      return None
    if value.dtype.kind in 'US':
      result = np.empty(value.shape, dtype=object)
      for index in np.ndindex(value.shape):
        result[index] = value[index].item()
      return result
    return value.astype(value.dtype.newbyteorder('='))
  if isinstance(value, (bool, np.bool_)):
    return bool(value)
  if isinstance(value, str):
    return ''.join(value)  # Its characters: str() of an np.str_ drops NULs.
  if isinstance(value, bytes):
    return bytes(value)
  if isinstance(value, float):
    return np.float64(value)
  return value  # int, numpy scalars


@settings(max_examples=300, deadline=None)
@given(_values)
def test_round_trip(value):
  compare.assert_strictly_equal(codec.decode(codec.encode(value)), _normalized(value))


@settings(max_examples=100, deadline=None)
@given(_values)
def test_encoding_is_deterministic_and_parses_back(value):
  data = codec.encode(value)
  serialized = data.SerializeToString(deterministic=True)
  assert type(data).FromString(serialized) == data
  assert codec.encode(value).SerializeToString(deterministic=True) == serialized


_unsupported = st.sampled_from(
  [
    set(),
    frozenset([1]),
    complex(1, 2),
    np.float16(0.5),
    np.complex64(1),
    object(),
    np.zeros(2, dtype=np.float16),
    np.array([1, None], dtype=object),
    np.zeros(1, dtype=np.complex128),
    np.array(['2020'], dtype='datetime64[Y]'),
    np.longdouble(1) if np.dtype(np.longdouble) != np.float64 else set(),
  ]
)

# A path step: ('list', n_copies) puts the bad value first in a list of copies;
# ('tuple', i, n) at position i of a tuple of valid values; ('dict', key).
_steps = st.one_of(
  st.tuples(st.just('list'), st.integers(1, 3)),
  st.tuples(st.just('tuple'), st.integers(0, 2), st.integers(0, 2)),
  st.tuples(st.just('dict'), st.one_of(st.text(max_size=3), st.integers(-5, 5))),
)


@settings(max_examples=200, deadline=None)
@given(_unsupported, st.lists(_steps, max_size=5), st.lists(_leaves, min_size=4, max_size=4))
def test_unsupported_values_raise_type_error_with_path(bad, steps, fillers):
  value = bad
  path = ''
  for step in steps:
    if step[0] == 'list':
      value = [value] * step[1]
      component = '[0]'
    elif step[0] == 'tuple':
      _, i, n = step
      value = tuple(fillers[:i]) + (value,) + tuple(fillers[i : i + n])
      component = f'[{i}]'
    else:
      key = step[1]
      value = {key: value}
      component = f'[{key!r}]'
    path = component + path
  try:
    codec.encode(value)
  except TypeError as e:
    message = str(e)
  else:
    raise AssertionError(f'no TypeError for {value!r}')
  assert message.endswith(f' at value{path}'), message
  assert type(bad).__name__ in message or str(getattr(bad, 'dtype', '')) in (message), message
