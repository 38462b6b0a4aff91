"""Tests of the native codec against the Python codec and upstream's fixtures.

* Differential property test: for random nested values of every supported
  type, `native_codec.encode(x)` must equal
  `codec.encode(x).SerializeToString(deterministic=True)` byte for byte, and
  `native_codec.decode` of those bytes must equal `codec.decode` strictly
  (types, dtypes, shapes; NaN == NaN).
* Every step, metadata and episode-metadata record written by upstream
  envlogger 1.3 (envlogger/testdata/upstream-1.3) decodes to what upstream's
  Reader returned.
* Error contracts: unsupported values, malformed wire bytes, deep nesting.
"""

import collections
import enum
import os

import dm_env
import hypothesis
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import google.protobuf
import numpy as np
import pytest

from envlogger.converters import codec
from envlogger.converters import native_codec
from envlogger.proto import storage_pb2
from envlogger.testing import compare
from envlogger.testing import dtypes
from envlogger.testing import upstream_fixtures

Pair = collections.namedtuple('Pair', ['first', 'second'])


class Color(enum.IntEnum):
  RED = 1
  BLUE = -300


class _OwnStr(str):
  """A str whose __str__ is not its characters (neither codec may call it)."""

  def __str__(self) -> str:
    return 'not ' + ''.join(self)


class _OwnBytes(bytes):
  """A bytes whose __bytes__ is not its contents."""

  def __bytes__(self) -> bytes:
    return b'not ' + bytes(memoryview(self))


class _NumpyStr(np.str_):
  """An np.str_ subclass: numpy's str() of it drops trailing NULs too."""


def _python_reference(value):
  return codec.encode(value).SerializeToString(deterministic=True)


def _assert_same_as_python(value):
  try:
    expected = _python_reference(value)
  except ValueError:  # E.g. a str with lone surrogates: not UTF-8 encodable.
    with pytest.raises(ValueError):
      native_codec.encode(value)
    return
  actual = native_codec.encode(value)
  assert actual == expected, (value, actual.hex(), expected.hex())
  decoded = native_codec.decode(actual)
  compare.assert_strictly_equal(decoded, codec.decode(storage_pb2.Data.FromString(expected)))
  _assert_arrays_writable(decoded)


def _assert_arrays_writable(value):
  if isinstance(value, np.ndarray):
    assert value.flags.writeable
  elif isinstance(value, (list, tuple)):
    for v in value:
      _assert_arrays_writable(v)
  elif isinstance(value, dict):
    for v in value.values():
      _assert_arrays_writable(v)


# --- strategies -------------------------------------------------------------

_ARRAY_DTYPES = [*dtypes.NUMERIC_DTYPES, np.dtype('<U4'), np.dtype('S4')]
_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


def _layout(array: np.ndarray, choice: int) -> np.ndarray:
  """The same values in another memory layout (strided / byte-swapped)."""
  if choice == 1 and array.ndim >= 1:
    return array[::-1]
  if choice == 2:
    return array.T
  if choice == 3 and array.dtype.byteorder in '<>=' and array.dtype.itemsize > 1:
    return array.astype(array.dtype.newbyteorder())
  return array


_arrays = st.builds(
  _layout,
  st.sampled_from(_ARRAY_DTYPES).flatmap(lambda dtype: hnp.arrays(dtype, _SHAPES)),
  st.integers(0, 3),
)

_python_ints = st.one_of(
  st.integers(),
  st.integers(-(2**130), 2**130),
  st.sampled_from(
    [
      0,
      1,
      -1,
      127,
      -128,
      128,
      -129,
      255,
      256,
      -256,
      -32768,
      2**31 - 1,
      -(2**31),
      2**63 - 1,
      -(2**63),
      2**63,
      -(2**63) - 1,
      2**64,
      -(2**64),
      2**100,
      -(2**100),
    ]
  ),
)

_numpy_scalars = st.one_of(
  st.sampled_from(
    [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
  ).flatmap(lambda t: hnp.from_dtype(np.dtype(t)).map(t)),
  hnp.from_dtype(np.dtype(np.float32)).map(np.float32),
  hnp.from_dtype(np.dtype(np.float64)).map(np.float64),
  st.booleans().map(np.bool_),
  st.text(max_size=5).map(np.str_),
  st.binary(max_size=5).map(np.bytes_),
  st.integers(-(2**63), 2**63 - 1).map(np.longlong),
)

# Strings whose str() is not their own characters. (No bytes subclass among
# them: comparing one with a numpy integer raises, so not as dict keys.)
_str_subclasses = st.one_of(
  st.text(max_size=3).map(_NumpyStr),
  st.text(max_size=3).map(_OwnStr),
  st.text(alphabet='a\0', max_size=3).map(np.str_),
)

_leaves = st.one_of(
  st.none(),
  st.booleans(),
  _python_ints,
  st.floats(),
  st.text(max_size=8),
  st.binary(max_size=8),
  _numpy_scalars,
  _str_subclasses,
  st.binary(max_size=3).map(_OwnBytes),
  _arrays,
  st.sampled_from(list(Color)),
)

_dict_keys = st.one_of(
  st.text(max_size=4),
  _str_subclasses,
  st.integers(-(2**70), 2**70),
  st.binary(max_size=3),
  st.floats(allow_nan=False),
  st.integers(-100, 100).map(np.int64),
  st.integers(0, 255).map(np.uint8),
  st.tuples(st.integers(0, 3), st.text(max_size=2)),
)


def _homogeneous_or_tuple(items):
  if items and not all(isinstance(x, type(items[0])) for x in items):
    return tuple(items)
  return items


def _containers(children):
  return st.one_of(
    st.lists(children, max_size=4).map(_homogeneous_or_tuple),
    st.lists(children, max_size=4).map(tuple),
    st.builds(Pair, children, children),
    st.dictionaries(_dict_keys, children, max_size=4),
    st.dictionaries(st.text(max_size=3), children, max_size=4),
  )


_values = st.recursive(_leaves, _containers, max_leaves=12)


@hypothesis.settings(max_examples=1500, deadline=None)
@hypothesis.given(_values)
@hypothesis.example(np.str_('\0'))
@hypothesis.example({'k': [np.str_('a\0')]})
def test_matches_python_codec(value):
  _assert_same_as_python(value)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(st.lists(_arrays, min_size=1, max_size=3))
def test_matches_python_codec_on_arrays(arrays):
  for array in arrays:
    _assert_same_as_python(array)


@pytest.mark.parametrize(
  'dtype', ['<f4', '>f8', 'i1', '>i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', '?', '<U3', 'S2']
)
@pytest.mark.parametrize('shape', [(0,), (0, 0), (3, 0), (0, 2, 0)])
def test_zero_size_arrays_match_python_codec(shape, dtype):
  # codec_test checks the Python codec's bytes against upstream's rule.
  array = np.zeros(shape, dtype=dtype)
  _assert_same_as_python(array)
  _assert_same_as_python((array, [array], {'k': array, 3: array}))


def test_empty_array_is_an_empty_data():
  assert native_codec.encode(np.array([])) == b''
  assert native_codec.encode([np.array([])]) == b'\x12\x02\x0a\x00'


def test_matches_python_codec_on_edge_values():
  for value in [
    None,
    [],
    (),
    {},
    [None],
    [None, None],
    [[]],
    {'': None},
    {'a': 1, 'ab': 2, '': 3, 'b': 4, 'é': 5, '\U0001f600': 6},
    np.zeros((0,), np.float32),
    np.zeros((0, 3), np.int8),
    np.zeros((2, 0), np.dtype('<U3')),
    np.array(7, np.uint16),
    np.array('x'),
    np.array(b'y'),
    np.float32(np.nan),
    float('-inf'),
    -0.0,
    np.float32(-0.0),
    np.array([np.nan, -0.0, np.inf, 1e-45], np.float32),
    np.array([b'a\0b\0', b'\xff'], 'S4'),
    np.array(['\0a\0'], '<U3'),
    np.str_('a\0'),
    np.str_('\0'),
    {np.str_('k\0'): np.str_('v\0')},
    np.bytes_(b'a\0'),
    np.iinfo(np.uint64).max,
    np.uint64(np.iinfo(np.uint64).max),
    np.int64(np.iinfo(np.int64).min),
    np.arange(300, dtype=np.int32) - 150,
    dm_env.restart(np.ones((10, 5), np.float32)),
    dm_env.transition(1.0, np.zeros((84, 84, 3), np.uint8), 0.5),
    {1: 2, np.int32(1): 3, (1, 'a'): None, b'k': 'v', 2.5: [1.5]},
    {Color.RED: Color.BLUE},
    [True, np.bool_(False)] and [True, False],
  ]:
    _assert_same_as_python(value)


@pytest.mark.parametrize(
  'value, field',
  [
    (np.str_('\0'), b'B\x01\x00'),
    (np.str_('a\0'), b'B\x02a\x00'),
    (_NumpyStr('\0'), b'B\x01\x00'),
    (_OwnStr('ab'), b'B\x02ab'),
    (_OwnBytes(b'\0'), b'J\x01\x00'),
    (np.bytes_(b'\0'), b'J\x01\x00'),
  ],
)
def test_strings_are_stored_as_their_own_contents(value, field):
  # A Bazel run once reported a str encoded as "\x00" natively and "" by the
  # Python codec: np.str_('\0') (whose str() is '') or a subclass of it. Both
  # codecs now store the string's own characters, as upstream does.
  scalar_datum = bytes.fromhex('0a0d120b08cafcffffffffffffff01')
  values = b'\x12' + bytes([len(field)]) + field
  expected = b'\x0a' + bytes([len(scalar_datum) + len(values)]) + (scalar_datum + values)
  assert native_codec.encode(value) == expected
  assert _python_reference(value) == expected
  key = native_codec.encode({value: None})  # A str key (kvs for bytes).
  assert key == _python_reference({value: None})


def test_encode_step_equals_encoding_the_step_tuple():
  timestep = dm_env.transition(np.float64(0.5), np.ones((10, 5), np.float32))
  custom = {'timestamp': 12.5, 'step': 3}
  assert native_codec.encode_step(timestep, 2, custom) == _python_reference((timestep, 2, custom))


# --- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
  'value, message',
  [
    ({1, 2}, 'Unsupported type set: {1, 2} at value'),
    ([0, [np.zeros(2, np.float16)]], None),
    (
      [{'obs': (1, np.zeros(2, np.float16))}],
      "Unsupported `array.dtype`: float16 at value[0]['obs'][1]",
    ),
    ([1, 'a'], 'homogeneous'),
    ({frozenset(): 1}, 'Unsupported type frozenset: frozenset() at value<key frozenset()>'),
    (np.array([object()]), 'Unsupported `array.dtype`: object at value'),
    (np.longlong(1) and np.array([1], np.longlong), 'Unsupported `array.dtype`'),
    (np.float16(1), 'Unknown type'),
    (1j, 'Unsupported type complex'),
    (np.dtype('int8'), 'Unsupported type'),
    (int, 'Unsupported type'),
  ],
)
def test_unsupported_values_raise_type_error(value, message):
  with pytest.raises(TypeError) as native_error:
    native_codec.encode(value)
  if message is not None:
    assert message in str(native_error.value)
  with pytest.raises(TypeError):  # The Python codec rejects them too.
    codec.encode(value)


def test_heterogeneous_list_error_names_path():
  with pytest.raises(TypeError, match=r'element \[1\] is a str at value\[2\]'):
    native_codec.encode((0, 1, [1, 'a']))


def test_invalid_unicode_raises_value_error():
  with pytest.raises(ValueError, match='UTF-8'):
    native_codec.encode(['\ud800'])
  with pytest.raises(ValueError, match='UTF-8'):
    native_codec.encode({'\udfff': 1})
  with pytest.raises(ValueError, match=r'element 1 \(row-major\).* at value$'):
    native_codec.encode(np.array(['a', 'b\ud800']))


def test_cyclic_and_deep_values_raise_recursion_error():
  cyclic = []
  cyclic.append(cyclic)
  with pytest.raises(RecursionError):
    native_codec.encode(cyclic)
  deep = None
  for _ in range(250):
    deep = (deep,)
  with pytest.raises(RecursionError):
    native_codec.encode(deep)


@pytest.mark.parametrize(
  'data',
  [
    b'\x0a',  # Truncated length.
    b'\x0a\x05\x12\x03',  # Datum longer than the message.
    b'\x0a\x04\x12\x02\x0a\x03',  # Packed float32 of 3 bytes... truncated too.
    b'\x0a\x05\x12\x03\x0a\x01\x00',  # Packed float32 of 1 byte.
    b'\x0a\x05\x12\x03\x42\x01\xff',  # string_values not UTF-8.
    b'\x22\x05\x0a\x03\x0a\x01\xff',  # dict key not UTF-8.
    b'\x0f',  # Invalid wire type.
    b'\x1a\x02\x0a\x00\x0c',  # Unmatched end-group.
    # kvs element that is not a (key, value) tuple:
    b'\x22\x06\x12\x04\x0a\x02\x12\x00',
    # A non-scalar packed int16 field with an odd byte count:
    b'\x0a\x05\x12\x03\x62\x01\x00',
  ],
)
def test_malformed_bytes_raise_value_error(data):
  with pytest.raises(ValueError, match='byte|Malformed|multiple|element'):
    native_codec.decode(data)


def _field(number: int, payload: bytes) -> bytes:
  return _varint(number << 3 | 2) + _varint(len(payload)) + payload


@pytest.mark.parametrize(
  'values, expected',
  [
    # int64_values, unpacked and packed: a 10th varint byte with bits beyond
    # the 64th is read as protobuf reads it (found by codec_differential_fuzzer).
    (b'\x20' + b'\xff' * 9 + b'\x09', -1),
    (b'\x22\x0a' + b'\xff' * 9 + b'\x7f', -1),
    (b'\x20' + b'\xff' * 10 + b'\x01', None),  # An 11-byte value.
    (b'\xa0\x80\x80\x80\x80\x00\x01', None),  # A 6-byte tag.
  ],
)
def test_varints_follow_protobuf(values, expected):
  data = _field(1, _field(2, values))
  if expected is not None:
    reference = codec.decode(storage_pb2.Data.FromString(data))
    assert reference.dtype == np.int64 and np.array(reference).ravel().tolist() == [expected]
    native = native_codec.decode(data)
    assert native.dtype == np.int64 and np.array(native).ravel().tolist() == [expected]
  else:
    with pytest.raises(Exception, match='Error parsing message'):
      storage_pb2.Data.FromString(data)
    with pytest.raises(ValueError, match='Malformed envlogger.Data wire bytes'):
      native_codec.decode(data)


def test_an_overlong_length_varint_is_read_as_protobuf_6_reads_it():
  # A 6-byte length (5 with a redundant continuation): protobuf 6 (upb, the
  # venv's) reads it, protobuf 7 (the development container's) refuses it.
  # The native decoder follows protobuf 6.
  data = _field(1, _field(2, b'\x22\x81\x80\x80\x80\x80\x00\x05'))
  native = native_codec.decode(data)
  assert native.dtype == np.int64 and np.array(native).ravel().tolist() == [5]
  if int(google.protobuf.__version__.split('.')[0]) < 7:
    reference = codec.decode(storage_pb2.Data.FromString(data))
    assert np.array(reference).ravel().tolist() == [5]


@pytest.mark.parametrize(
  'data',
  [
    # A malformed datum (an unterminated field tag) replaced by a later array.
    b'\x0a\x05\xff\xff\xff\xff\xff\x12\x00',
    # The same one level down: tuple{Data{datum: bad}} replaced by datum{}.
    b'\x1a\x05\x0a\x03\x0a\x01\xff\x0a\x00',
    # The input codec_differential_fuzzer found.
    bytes.fromhex('0a140a0d520b08ffffffffffff01cafcffffffffffff1203220103'),
  ],
)
def test_replaced_oneof_member_must_parse_like_protobuf(data):
  # protobuf parses every member of the `value` oneof, also one that a later
  # member replaces, so malformed bytes there make the message malformed.
  with pytest.raises(Exception, match='Error parsing message'):
    storage_pb2.Data.FromString(data)
  with pytest.raises(ValueError, match='Malformed envlogger.Data wire bytes'):
    native_codec.decode(data)


def test_a_replaced_dict_entry_is_never_decoded_as_protobuf():
  # Two messages back to back merge; in a map, the later entry of a key
  # replaces the earlier one, which protobuf then never decodes: here a shape
  # () holding four floats, which alone is malformed.
  malformed = storage_pb2.Data()
  malformed.dict.values['x'].datum.shape.SetInParent()
  malformed.dict.values['x'].datum.values.float_values.extend([0.0] * 4)
  replacement = storage_pb2.Data()
  replacement.dict.values['x'].datum.values.float_values.append(1.5)
  replacement.dict.values['y'].datum.values.int32_values.append(7)
  data = malformed.SerializeToString() + replacement.SerializeToString()
  expected = codec.decode(storage_pb2.Data.FromString(data))
  assert expected == {'x': np.float32(1.5), 'y': np.int32(7)}
  decoded = native_codec.decode(data)
  assert decoded == expected
  assert {k: type(v) for k, v in decoded.items()} == {k: type(v) for k, v in expected.items()}


def test_a_replaced_dict_entry_must_still_parse_as_protobuf():
  # The replaced value holds an unterminated field tag: protobuf parses every
  # map entry, so the whole message is malformed, for both decoders.
  malformed_entry = b'\x0a\x01x\x12\x05\xff\xff\xff\xff\xff'  # key 'x', value: a bad tag
  replacement = storage_pb2.Data()
  replacement.dict.values['x'].datum.values.float_values.append(1.5)
  data = b'\x22' + bytes([len(malformed_entry) + 2]) + b'\x0a' + bytes([len(malformed_entry)])
  data += malformed_entry + replacement.SerializeToString()
  with pytest.raises(Exception, match='Error parsing message'):
    storage_pb2.Data.FromString(data)
  with pytest.raises(ValueError, match='Malformed envlogger.Data wire bytes'):
    native_codec.decode(data)


def test_deeply_nested_bytes_raise_value_error():
  data = b''
  for _ in range(300):
    data = (
      b'\x1a'
      + _varint(len(data) + 1 + len(_varint(len(data))))
      + (b'\x0a' + _varint(len(data)) + data)
    )
  with pytest.raises(ValueError, match='nested deeper'):
    native_codec.decode(data)


def _varint(n: int) -> bytes:
  out = bytearray()
  while n >= 0x80:
    out.append((n & 0x7F) | 0x80)
    n >>= 7
  out.append(n)
  return bytes(out)


def test_non_scalar_bigint_is_type_error():
  datum = storage_pb2.Data()
  datum.datum.shape.dim.add().size = 2
  datum.datum.values.bigint_values.extend([b'\x01', b'\x02'])
  with pytest.raises(TypeError, match='big ints'):
    native_codec.decode(datum.SerializeToString())


# --- decoding other writers' encodings --------------------------------------


def test_decodes_unpacked_and_reordered_fields_like_python():
  data = storage_pb2.Data()
  data.datum.values.int64_values.extend([5, -7, 2**40])
  data.datum.shape.dim.add().size = 3
  packed = data.SerializeToString()
  # Same message with int64_values unpacked, values before shape, plus an
  # unknown varint field (99) and an unknown group (98) in Values.
  values = (
    b'\x20\x05'
    + b'\x20'
    + _varint((-7) & (2**64 - 1))
    + b'\x20'
    + _varint(2**40)
    + b'\x98\x06\x01'
    + b'\x93\x06\x08\x01\x94\x06'
  )
  shape = b'\x12\x02\x08\x03'
  datum = b'\x12' + _varint(len(values)) + values + b'\x0a' + _varint(len(shape)) + shape
  unpacked = b'\x0a' + _varint(len(datum)) + datum
  expected = codec.decode(storage_pb2.Data.FromString(packed))
  compare.assert_strictly_equal(native_codec.decode(unpacked), expected)
  compare.assert_strictly_equal(codec.decode(storage_pb2.Data.FromString(unpacked)), expected)


def test_oneof_last_member_wins_and_repeats_merge_like_protobuf():
  as_list = native_codec.encode([np.int8(1)])
  as_tuple_a = native_codec.encode((np.int8(2),))
  as_tuple_b = native_codec.encode((np.int8(3), 'x'))
  data = as_list + as_tuple_a + as_tuple_b
  expected = codec.decode(storage_pb2.Data.FromString(data))
  assert expected == (np.int8(2), np.int8(3), 'x')
  compare.assert_strictly_equal(native_codec.decode(data), expected)
  compare.assert_strictly_equal(native_codec.decode(memoryview(data)), expected)


def test_float_values_buffer_and_precedence_like_upstream():
  # Upstream 1.2 wrote float32 arrays as big-endian float_values_buffer.
  data = storage_pb2.Data()
  data.datum.shape.dim.add().size = 2
  data.datum.values.float_values_buffer = np.array([1.5, -2.0], '>f4').tobytes()
  decoded = native_codec.decode(data.SerializeToString())
  compare.assert_strictly_equal(decoded, np.array([1.5, -2.0], np.float32))
  # Arrays: the later packed field overrides the repeated numeric one.
  data.datum.values.double_values.extend([7.0, 8.0])
  compare.assert_strictly_equal(
    native_codec.decode(data.SerializeToString()), np.array([1.5, -2.0], np.float32)
  )


# --- upstream fixtures ------------------------------------------------------


def test_fixtures_are_present():
  assert 'all_types' in upstream_fixtures.DATASETS and 'catch_default' in upstream_fixtures.DATASETS


@pytest.mark.parametrize('dataset', upstream_fixtures.DATASETS)
def test_fixture_records_decode_like_upstream(dataset):
  expected = upstream_fixtures.expected(dataset)
  records = upstream_fixtures.records(dataset, 'steps')
  assert len(records) == expected['num_steps']
  steps = [upstream_fixtures.as_step(native_codec.decode(b)) for _, b in records]
  compare.assert_strictly_equal(steps, expected['steps'], path='steps')
  ((_, metadata),) = upstream_fixtures.load_pickle(
    os.path.join(upstream_fixtures.DIRECTORY, f'{dataset}.records', 'metadata.records.pkl')
  )
  compare.assert_strictly_equal(
    native_codec.decode(metadata), expected['metadata'], path='metadata'
  )
  episode_metadata = [
    native_codec.decode(b) for _, b in upstream_fixtures.records(dataset, 'episode_metadata')
  ]
  compare.assert_strictly_equal(
    episode_metadata,
    [m for m in expected['episode_metadata'] if m is not None],
    path='episode_metadata',
  )
  # Re-encoding the decoded steps gives the Python codec's bytes (decoded
  # str/bytes arrays have dtype object, which both codecs reject).
  for step in expected['steps']:
    try:
      reference = _python_reference(step)
    except TypeError:
      with pytest.raises(TypeError, match='dtype`: object'):
        native_codec.encode(step)
    else:
      assert native_codec.encode(step) == reference


# --- robustness ---------------------------------------------------------------


@hypothesis.settings(max_examples=1500, deadline=None)
@hypothesis.given(
  _values,
  st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
  st.integers(0, 10**6),
)
def test_corrupted_bytes_decode_or_raise_cleanly(value, flips, cut):
  """Corrupted/truncated encodings never crash or raise anything unexpected."""
  data = bytearray(native_codec.encode(value))
  if not data:
    return
  for position, byte in flips:
    data[position % len(data)] = byte
  for candidate in (bytes(data), bytes(data[: cut % (len(data) + 1)])):
    try:
      native_codec.decode(candidate)
    except (ValueError, TypeError):
      pass  # Malformed bytes, a non-scalar bigint or an unhashable kvs key.


@hypothesis.settings(max_examples=1000, deadline=None)
@hypothesis.given(st.binary(max_size=64))
def test_random_bytes_decode_or_raise_cleanly(data):
  try:
    native_codec.decode(data)
  except (ValueError, TypeError):
    pass


def test_int_subclass_methods_are_not_called():
  """Bigints use int's own methods: subclass overrides cannot interfere."""

  class Odd(int):
    def to_bytes(self, *args, **kwargs):
      raise AssertionError('to_bytes override called')

    def bit_length(self):
      raise AssertionError('bit_length override called')

  for value in (2**80, -(2**80), 5):
    assert native_codec.encode(Odd(value)) == _python_reference(value)


def test_scalar_with_several_value_fields_decodes_its_first_numeric_field():
  # Encoders never write this, but other writers may: upstream's decoder
  # returns the first non-empty repeated numeric field of a scalar at once,
  # ignoring packed, string, bytes and bigint fields.
  datum = storage_pb2.Datum()
  datum.shape.dim.add().size = -438
  datum.values.double_values.append(7.0)
  datum.values.int8_values = b'\x05'
  datum.values.string_values.append('s')
  data = storage_pb2.Data(datum=datum)
  for decoded in (codec.decode(data), native_codec.decode(data.SerializeToString())):
    assert type(decoded) is np.float64 and decoded == 7.0


def test_scalar_packed_fields_decode_as_the_reference_codec():
  # Found by codec_differential_fuzzer: a scalar whose packed field holds
  # several elements is its first element, and a later packed field wins over
  # an earlier one (the native decoder refused the first and took the first
  # field). Big-endian: b'te' is 0x7465.
  datum = storage_pb2.Datum()
  datum.shape.dim.add().size = -438
  datum.values.int16_values = b'text'
  data = storage_pb2.Data(datum=datum)
  for decoded in (codec.decode(data), native_codec.decode(data.SerializeToString())):
    assert type(decoded) is np.int16 and decoded == 0x7465
  datum.values.int8_values = b'\x05'
  datum.values.uint16_values = b'\x01\x02'
  data = storage_pb2.Data(datum=datum)
  for decoded in (codec.decode(data), native_codec.decode(data.SerializeToString())):
    assert type(decoded) is np.uint16 and decoded == 0x0102
  datum.values.uint16_values = b'\x01\x02\x03'  # Not whole elements: refused by both.
  data = storage_pb2.Data(datum=datum)
  with pytest.raises(ValueError):
    codec.decode(data)
  with pytest.raises(ValueError, match='whole number of 2-byte elements'):
    native_codec.decode(data.SerializeToString())


@pytest.mark.parametrize(
  'field, value, expected',
  [
    ('bigint_values', b'\x00', 0),
    ('bigint_values', b'\xff\x00', -256),
    ('string_values', 'txt', 'txt'),
    ('bytes_values', b'raw', b'raw'),
  ],
)
def test_scalar_string_bytes_and_bigint_fields_override_packed_fields(field, value, expected):
  # Found by codec_differential_fuzzer: without a repeated numeric field, a
  # scalar's string, bytes or bigint field overrides its packed fields, as for
  # arrays (the native decoder kept the packed int16 b'bc' = 0x6263).
  datum = storage_pb2.Datum()
  datum.shape.dim.add().size = -438
  datum.values.int16_values = b'bc'
  getattr(datum.values, field).append(value)
  data = storage_pb2.Data(datum=datum).SerializeToString()
  decoded = native_codec.decode(data)
  assert type(decoded) is type(expected) and decoded == expected
  compare.assert_strictly_equal(codec.decode(storage_pb2.Data.FromString(data)), decoded)


def test_a_later_dict_entry_with_unknown_fields_replaces_the_earlier_one():
  # Found by codec_differential_fuzzer: a map entry that carries an unknown
  # field (here field 10, where the value belongs) is still an entry, as
  # protobuf's pure-Python implementation parses it: it replaces the
  # earlier entry of its key, and having no value it decodes as None. (upb,
  # protobuf's default Python implementation, sets such an entry aside as an
  # unknown field of the map instead.) The replaced value, three floats with an
  # empty shape, is never decoded.
  earlier = b'\x0a\x01x\x12\x14\x0a\x12\x0a\x00\x12\x0e\x0a\x0c' + b'\x00' * 12
  later = b'\x0a\x01x\x52\x02\x08\x01'
  data = b''.join(b'\x22' + bytes([len(e) + 2, 0x0A, len(e)]) + e for e in (earlier, later))
  assert native_codec.decode(data) == {'x': None}
  # Each entry alone: the earlier value is malformed, the later one is None.
  with pytest.raises(ValueError):
    native_codec.decode(data[: len(earlier) + 4])
  assert native_codec.decode(data[len(earlier) + 4 :]) == {'x': None}
