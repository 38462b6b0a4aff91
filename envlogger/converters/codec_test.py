"""Tests of envlogger.converters.codec.

Expected wire bytes are built here by hand from the protobuf encoding rules
(`_varint`, `_field`, struct packing), independently of the codec.
"""

import enum
import struct

import dm_env
import numpy as np
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import message_factory

from envlogger.converters import codec
from envlogger.proto import storage_pb2
from envlogger.testing import compare


def _varint(n: int) -> bytes:
  if n < 0:
    n += 1 << 64
  out = bytearray()
  while True:
    byte = n & 0x7F
    n >>= 7
    if n:
      out.append(byte | 0x80)
    else:
      out.append(byte)
      return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
  """A length-delimited field."""
  return _varint(number << 3 | 2) + _varint(len(payload)) + payload


_SCALAR_DIM = bytes.fromhex('08cafcffffffffffffff01')  # Dim{size: -438}
_SCALAR_SHAPE = _field(1, _field(2, _SCALAR_DIM))


def _scalar(values: bytes) -> bytes:
  """Serialized Data{datum{shape: scalar, values: <values>}}."""
  return _field(1, _SCALAR_SHAPE + _field(2, values))


def _array(dims, values: bytes) -> bytes:
  shape = b''.join(_field(2, b'\x08' + _varint(d)) for d in dims)
  datum = (_field(1, shape) if shape else b'') + (_field(2, values) if values else b'')
  return _field(1, datum)


# Every dtype an array may have, and zero-size shapes with and without a
# non-zero dim.
_ZERO_SIZE_DTYPES = [
  '<f4',
  '>f4',
  '<f8',
  'i1',
  'i2',
  '>i2',
  'i4',
  'i8',
  'u1',
  'u2',
  'u4',
  '>u8',
  '?',
  '<U3',
  'S2',
]
_ZERO_SIZE_SHAPES = [(0,), (0, 0), (3, 0), (0, 2, 0), (0, 1)]


def _zero_size_array(shape, dtype) -> bytes:
  """Upstream 1.3's bytes for a zero-size array.

  Its encoder adds only the non-zero dims and, for the packed small ints
  (int8/int16/uint8/uint16), assigns an empty bytes field, which protobuf
  records as a present, empty `values`; every other kind appends nothing. So
  `datum` is present only when one of those happened.
  """
  dims = [d for d in shape if d > 0]
  small_int = np.dtype(dtype).kind in 'iu' and np.dtype(dtype).itemsize <= 2
  shape_field = _field(1, b''.join(_field(2, b'\x08' + _varint(d)) for d in dims)) if dims else b''
  values_field = _field(2, b'') if small_int else b''
  if not shape_field and not values_field:
    return b''
  return _field(1, shape_field + values_field)


def _varints(values) -> bytes:
  return b''.join(_varint(v) for v in values)


# (value, Values payload, expected decoded value)
_SCALAR_CASES = [
  (np.float32(3.14159), _field(1, bytes.fromhex('d00f4940')), np.float32(3.14159)),
  (np.float32(0.0), _field(1, struct.pack('<f', 0.0)), np.float32(0.0)),
  (np.float32(-0.0), _field(1, struct.pack('<f', -0.0)), np.float32(-0.0)),
  (np.float32(np.inf), _field(1, struct.pack('<f', np.inf)), np.float32(np.inf)),
  (np.float32(np.nan), _field(1, struct.pack('<f', np.nan)), np.float32(np.nan)),
  (np.float32(1e-45), _field(1, struct.pack('<f', 1e-45)), np.float32(1e-45)),
  (2.5, _field(2, struct.pack('<d', 2.5)), np.float64(2.5)),
  (-0.0, _field(2, struct.pack('<d', -0.0)), np.float64(-0.0)),
  (1e-300, _field(2, struct.pack('<d', 1e-300)), np.float64(1e-300)),
  (float('nan'), _field(2, struct.pack('<d', float('nan'))), np.float64(np.nan)),
  (np.float64(-7.25), _field(2, struct.pack('<d', -7.25)), np.float64(-7.25)),
  (np.int32(-5), _field(3, _varint(-5)), np.int32(-5)),
  (np.int32(2**31 - 1), _field(3, _varint(2**31 - 1)), np.int32(2**31 - 1)),
  (np.int64(-(2**63)), _field(4, _varint(-(2**63))), np.int64(-(2**63))),
  (np.int64(1 << 40), _field(4, _varint(1 << 40)), np.int64(1 << 40)),
  (np.uint32(2**32 - 1), _field(5, _varint(2**32 - 1)), np.uint32(2**32 - 1)),
  (np.uint64(2**64 - 1), _field(6, _varint(2**64 - 1)), np.uint64(2**64 - 1)),
  (True, _field(7, b'\x01'), True),
  (False, _field(7, b'\x00'), False),
  (np.bool_(True), _field(7, b'\x01'), True),
  ('hello', _field(8, b'hello'), 'hello'),
  ('', _field(8, b''), ''),
  ('üñí 😀', _field(8, 'üñí 😀'.encode()), 'üñí 😀'),
  (np.str_('npstr'), _field(8, b'npstr'), 'npstr'),
  (b'\x00\xff', _field(9, b'\x00\xff'), b'\x00\xff'),
  (b'', _field(9, b''), b''),
  (np.bytes_(b'npbytes'), _field(9, b'npbytes'), b'npbytes'),
  (np.int8(-3), _field(11, b'\xfd'), np.int8(-3)),
  (np.int8(127), _field(11, b'\x7f'), np.int8(127)),
  (np.int16(300), _field(12, b'\x01\x2c'), np.int16(300)),
  (np.int16(-32768), _field(12, b'\x80\x00'), np.int16(-32768)),
  (np.uint8(200), _field(13, b'\xc8'), np.uint8(200)),
  (np.uint16(60000), _field(14, b'\xea\x60'), np.uint16(60000)),
]

# Python ints -> big-endian two's complement, bit_length() // 8 + 1 bytes.
_BIGINT_CASES = [
  (0, '00'),
  (3, '03'),
  (127, '7f'),
  (128, '0080'),
  (255, '00ff'),
  (256, '0100'),
  (-1, 'ff'),
  (-128, 'ff80'),
  (-129, 'ff7f'),
  (-256, 'ff00'),
  (-32768, 'ff8000'),
  (2**31, '0080000000'),
  (2**63, '008000000000000000'),
  (-(2**63), 'ff8000000000000000'),
  (2**64, '010000000000000000'),
  (123456789012345678901234567890, '018ee90ff6c373e0ee4e3f0ad2'),
  (-123456789012345678901234567890, 'fe7116f0093c8c1f11b1c0f52e'),
]


class TestNone:
  @pytest.mark.parametrize('value', [None, [], (), {}])
  def test_encodes_to_empty_data(self, value):
    data = codec.encode(value)
    assert isinstance(data, storage_pb2.Data)
    assert data.SerializeToString() == b''
    assert data.WhichOneof('value') is None

  def test_decode_none(self):
    assert codec.decode(None) is None

  def test_decode_empty(self):
    assert codec.decode(storage_pb2.Data()) is None
    assert codec.decode_datum(storage_pb2.Datum()) is None


class _Mode(str, enum.Enum):
  """An Enum mixing in str: str(x) is '_Mode.FAST', its characters 'fast'."""

  FAST = 'fast'


class _Blob(bytes):
  """A bytes subclass whose __bytes__ is not its contents."""

  def __bytes__(self) -> bytes:
    return b'not ' + bytes(memoryview(self))


class _Real(float):
  """A float subclass whose __float__ is not its value."""

  def __float__(self) -> float:
    return 99.0


class _Count(int):
  """An int subclass whose byte conversion methods lie."""

  def bit_length(self) -> int:
    return 0

  def to_bytes(self, *args, **kwargs) -> bytes:
    return b'\x63'


class TestScalars:
  @pytest.mark.parametrize('value,values,expected', _SCALAR_CASES)
  def test_encode(self, value, values, expected):
    assert codec.encode(value).SerializeToString() == _scalar(values)

  @pytest.mark.parametrize('value,values,expected', _SCALAR_CASES)
  def test_decode(self, value, values, expected):
    decoded = codec.decode(storage_pb2.Data.FromString(_scalar(values)))
    compare.assert_strictly_equal(decoded, expected)

  @pytest.mark.parametrize('value,values,expected', _SCALAR_CASES)
  def test_identity(self, value, values, expected):
    compare.assert_strictly_equal(codec.decode(codec.encode(value)), expected)

  @pytest.mark.parametrize('value,hex_bytes', _BIGINT_CASES)
  def test_python_int_encodes_as_bigint(self, value, hex_bytes):
    expected = _scalar(_field(10, bytes.fromhex(hex_bytes)))
    assert codec.encode(value).SerializeToString() == expected

  @pytest.mark.parametrize('value,hex_bytes', _BIGINT_CASES)
  def test_bigint_decodes_to_python_int(self, value, hex_bytes):
    data = storage_pb2.Data.FromString(_scalar(_field(10, bytes.fromhex(hex_bytes))))
    compare.assert_strictly_equal(codec.decode(data), value)

  def test_scalar_dim_is_a_ten_byte_varint(self):
    datum = codec.encode(np.int32(1)).datum
    assert list(datum.shape.dim) == [storage_pb2.Datum.Shape.Dim(size=-438)]
    assert datum.shape.dim[0].SerializeToString() == bytes.fromhex('08cafcffffffffffffff01')

  def test_float_values_buffer_decodes_as_float32(self):
    datum = storage_pb2.Datum()
    datum.shape.dim.add().size = -438
    datum.values.float_values_buffer = bytes.fromhex('40490fd0')
    compare.assert_strictly_equal(codec.decode_datum(datum), np.float32(3.14159))

  def test_int_enum_is_stored_as_bigint(self):
    data = codec.encode(dm_env.StepType.MID)
    assert data.SerializeToString() == _scalar(_field(10, b'\x01'))
    compare.assert_strictly_equal(codec.decode(data), 1)

  @pytest.mark.parametrize(
    'value, payload',
    [
      (np.str_('\0'), b'\x00'),  # str() of it is '' (numpy 2).
      (np.str_('a\0\0'), b'a\x00\x00'),
      (np.str_('\0a'), b'\x00a'),
    ],
  )
  def test_np_str_keeps_its_trailing_nuls(self, value, payload):
    data = codec.encode(value)
    assert data.SerializeToString() == _scalar(_field(8, payload))
    compare.assert_strictly_equal(codec.decode(data), payload.decode())

  def test_str_and_bytes_subclasses_store_their_own_contents(self):
    assert codec.encode(_Mode.FAST).SerializeToString() == _scalar(_field(8, b'fast'))
    assert codec.encode(_Blob(b'raw')).SerializeToString() == _scalar(_field(9, b'raw'))
    assert type(codec.decode(codec.encode(_Mode.FAST))) is str
    assert type(codec.decode(codec.encode(_Blob(b'raw')))) is bytes

  def test_number_subclasses_store_their_own_value(self):
    # 1.5 as a double is 3ff8000000000000 (field 2, fixed64 little-endian).
    assert codec.encode(_Real(1.5)).SerializeToString() == _scalar(
      _field(2, bytes.fromhex('000000000000f83f'))
    )
    # 300 as a two's complement bigint is 012c (field 10).
    assert codec.encode(_Count(300)).SerializeToString() == _scalar(_field(10, b'\x01\x2c'))
    compare.assert_strictly_equal(codec.decode(codec.encode(_Real(1.5))), np.float64(1.5))
    compare.assert_strictly_equal(codec.decode(codec.encode(_Count(-(2**70)))), -(2**70))

  @pytest.mark.parametrize(
    'value',
    [np.str_('\0'), np.str_('x\0'), _Mode.FAST, _Blob(b'raw'), np.bytes_(b'y\0'), '\0', b'\0'],
  )
  def test_str_and_bytes_as_upstream_appending_the_value_itself(self, value):
    # Upstream's codec appends the value to string_values/bytes_values and
    # lets protobuf convert it.
    datum = storage_pb2.Datum()
    datum.shape.dim.add().size = -438
    field = datum.values.string_values if isinstance(value, str) else datum.values.bytes_values
    field.append(value)
    assert (
      codec.encode(value).SerializeToString() == storage_pb2.Data(datum=datum).SerializeToString()
    )

  def test_bool_is_not_stored_as_int(self):
    assert codec.encode(True).datum.values.bool_values == [True]
    assert not codec.encode(True).datum.values.bigint_values


# dtype, shape -> expected Values payload builder (independent of the codec).
def _expected_values(array: np.ndarray) -> bytes:
  flat = array.ravel()
  dtype = array.dtype
  if dtype == np.float32:
    return _field(1, flat.astype('<f4').tobytes())
  if dtype == np.float64:
    return _field(2, flat.astype('<f8').tobytes())
  for number, t in ((3, np.int32), (4, np.int64), (5, np.uint32), (6, np.uint64)):
    if dtype == t:
      return _field(number, _varints(int(x) for x in flat))
  if dtype == np.bool_:
    return _field(7, bytes(int(x) for x in flat))
  if dtype.kind == 'U':
    return b''.join(_field(8, str(x).encode()) for x in flat)
  if dtype.kind == 'S':
    return b''.join(_field(9, bytes(x)) for x in flat)
  for number, t, be in (
    (11, np.int8, '>i1'),
    (12, np.int16, '>i2'),
    (13, np.uint8, '>u1'),
    (14, np.uint16, '>u2'),
  ):
    if dtype == t:
      return _field(
        number,
        b''.join(
          int(x).to_bytes(np.dtype(be).itemsize, 'big', signed=np.dtype(be).kind == 'i')
          for x in flat
        ),
      )
  raise AssertionError(dtype)


_DTYPES = [
  np.float32,
  np.float64,
  np.int32,
  np.int64,
  np.uint32,
  np.uint64,
  np.bool_,
  np.int8,
  np.int16,
  np.uint8,
  np.uint16,
]
_SHAPES = [(), (1,), (2,), (2, 3), (2, 1, 3)]


def _sample(dtype, shape):
  n = int(np.prod(shape))
  if dtype == np.bool_:
    return (np.arange(n) % 3 == 0).reshape(shape)
  info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else np.finfo(dtype)
  values = np.linspace(0, 1, n, dtype=np.float64)
  picked = [info.min, info.max, 0, 1] + [v * 100 for v in values]
  return np.array(picked[:n], dtype=dtype).reshape(shape)


class TestArrays:
  @pytest.mark.parametrize('dtype', _DTYPES)
  @pytest.mark.parametrize('shape', _SHAPES)
  def test_encode_bytes(self, dtype, shape):
    array = _sample(dtype, shape)
    expected = _array(shape, _expected_values(array))
    assert codec.encode(array).SerializeToString() == expected

  @pytest.mark.parametrize('dtype', _DTYPES)
  @pytest.mark.parametrize('shape', _SHAPES)
  def test_identity(self, dtype, shape):
    array = _sample(dtype, shape)
    compare.assert_strictly_equal(codec.decode(codec.encode(array)), array)

  @pytest.mark.parametrize(
    'array',
    [
      np.array(['a', 'héllo', '', '日本語 😀']),
      np.array([[b'abc', b'\x00\x01'], [b'', b'\xff']]),
      np.array('zero-d ü'),
      np.array(b'zd\x01'),
    ],
  )
  def test_strings_and_bytes_come_back_as_object_arrays(self, array):
    data = codec.encode(array)
    assert data.SerializeToString() == _array(array.shape, _expected_values(array))
    expected = np.empty(array.shape, dtype=object)
    for index in np.ndindex(array.shape):
      expected[index] = array[index].item()
    compare.assert_strictly_equal(codec.decode(data), expected)

  def test_packed_small_ints_are_big_endian(self):
    data = codec.encode(np.array([1, -2], dtype=np.int16))
    assert data.datum.values.int16_values == b'\x00\x01\xff\xfe'
    data = codec.encode(np.array([1, 65535], dtype=np.uint16))
    assert data.datum.values.uint16_values == b'\x00\x01\xff\xff'
    data = codec.encode(np.array([-1, 5], dtype=np.int8))
    assert data.datum.values.int8_values == b'\xff\x05'

  def test_non_native_byte_order_and_non_contiguous(self):
    array = np.arange(12, dtype='>f4').reshape(3, 4).T  # Fortran-ordered view
    expected = np.ascontiguousarray(array, dtype=np.float32)
    compare.assert_strictly_equal(codec.decode(codec.encode(array)), expected)
    array64 = np.arange(6, dtype='>i8')[::2]
    compare.assert_strictly_equal(
      codec.decode(codec.encode(array64)), np.array([0, 2, 4], dtype=np.int64)
    )

  @pytest.mark.parametrize('dtype', _ZERO_SIZE_DTYPES)
  @pytest.mark.parametrize('shape', _ZERO_SIZE_SHAPES)
  def test_zero_size_arrays_match_upstream(self, shape, dtype):
    data = codec.encode(np.zeros(shape, dtype=dtype))
    assert data.SerializeToString() == _zero_size_array(shape, dtype)
    assert codec.decode(data) is None

  def test_empty_array_is_an_empty_data(self):
    # Upstream's codec test: encode(np.array([])) == Data().
    assert codec.encode(np.array([])) == storage_pb2.Data()
    assert codec.encode(np.array([])).SerializeToString() == b''

  def test_float_buffer_array(self):
    datum = storage_pb2.Datum()
    datum.shape.dim.add().size = 2
    datum.values.float_values_buffer = struct.pack('>2f', 1.5, -2.0)
    compare.assert_strictly_equal(
      codec.decode_datum(datum), np.array([1.5, -2.0], dtype=np.float32)
    )

  def test_non_scalar_bigint_raises(self):
    datum = storage_pb2.Datum()
    datum.shape.dim.add().size = 2
    datum.values.bigint_values.extend([b'\x01', b'\x02'])
    with pytest.raises(TypeError, match='bigint'):
      codec.decode_datum(datum)


class TestContainers:
  def test_list_of_none(self):
    assert codec.encode([None]).SerializeToString() == _field(2, _field(1, b''))
    assert codec.encode([None, None]).SerializeToString() == _field(2, _field(1, b'') * 2)
    compare.assert_strictly_equal(codec.decode(codec.encode([None, None])), [None, None])

  @pytest.mark.parametrize(
    'value,expected',
    [
      ([np.float32(1), np.float32(2)], [np.float32(1), np.float32(2)]),
      ([1.5, 2.5], [np.float64(1.5), np.float64(2.5)]),
      ([np.int32(1), np.int32(-1)], [np.int32(1), np.int32(-1)]),
      ([np.int64(1), np.int64(-1)], [np.int64(1), np.int64(-1)]),
      ([1, 2**70], [1, 2**70]),
      ([[1.0], [2.0, 3.0]], [[np.float64(1.0)], [np.float64(2.0), np.float64(3.0)]]),
      ([np.arange(3), np.arange(2)], [np.arange(3), np.arange(2)]),
      ([{'a': 1}, {'b': np.float32(2)}], [{'a': 1}, {'b': np.float32(2)}]),
      ([1, True], [1, True]),  # bool is an int: homogeneous for upstream
      ([[], []], [None, None]),
    ],
  )
  def test_list_round_trip(self, value, expected):
    compare.assert_strictly_equal(codec.decode(codec.encode(value)), expected)

  def test_list_bytes(self):
    expected = _field(
      2, _field(1, _scalar(_field(10, b'\x01'))) + _field(1, _scalar(_field(10, b'\x02')))
    )
    assert codec.encode([1, 2]).SerializeToString() == expected

  def test_tuple_bytes_and_round_trip(self):
    value = (1, 'two', 3.0, None, np.int16(4), [5], {'six': 6})
    expected_bytes = _field(
      3, b''.join(_field(1, codec.encode(x).SerializeToString()) for x in value)
    )
    assert codec.encode(value).SerializeToString() == expected_bytes
    compare.assert_strictly_equal(
      codec.decode(codec.encode(value)),
      (1, 'two', np.float64(3.0), None, np.int16(4), [5], {'six': 6}),
    )

  def test_namedtuple_becomes_tuple(self):
    timestep = dm_env.transition(reward=1.0, observation=np.float32(2))
    compare.assert_strictly_equal(
      codec.decode(codec.encode(timestep)), (1, np.float64(1.0), np.float64(1.0), np.float32(2))
    )

  def test_dict_with_str_keys(self):
    value = {'a': np.int64(1), 'b': [np.float32(2)], 'c': None}
    compare.assert_strictly_equal(codec.decode(codec.encode(value)), value)
    data = codec.encode({'k': 3})
    assert data.SerializeToString() == _field(
      4, _field(1, _field(1, b'k') + _field(2, _scalar(_field(10, b'\x03'))))
    )

  def test_non_string_key_goes_to_kvs(self):
    data = codec.encode({123: np.int64(456)})
    assert not data.dict.values
    (kv,) = data.dict.kvs.values
    key, value = kv.tuple.values
    assert key.datum.values.bigint_values == [b'{']
    assert value.datum.values.int64_values == [456]

  @pytest.mark.parametrize(
    'value',
    [
      {0: 'zero', -7: np.float32(-7), 2**70: 'big'},
      {np.int64(5): 'five', np.int32(-6): 'minus six', np.uint8(7): 'seven'},
      {'str_key': 1, 42: 'int key', 2.5: 'float key', b'bk': 'bytes key'},
      {(1, 'a'): 'tuple-key', (2, 'b'): np.array([0, 1])},
      {True: 'bool key', 'x': {1: {'y': [2]}}},
    ],
  )
  def test_dict_keys_keep_their_decoded_type(self, value):
    def normalized_key(k):
      return np.float64(k) if isinstance(k, float) else k

    expected = {normalized_key(k): v for k, v in value.items()}
    compare.assert_strictly_equal(codec.decode(codec.encode(value)), expected)

  def test_decode_other_message_class_with_same_wire_format(self):
    file_proto = descriptor_pb2.FileDescriptorProto()
    storage_pb2.DESCRIPTOR.CopyToProto(file_proto)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    descriptor = pool.FindMessageTypeByName('envlogger.Data')
    if hasattr(message_factory, 'GetMessageClass'):  # protobuf >= 4.22
      other_cls = message_factory.GetMessageClass(descriptor)
    else:
      other_cls = message_factory.MessageFactory(pool).GetPrototype(descriptor)
    other = other_cls.FromString(codec.encode({'a': [1, 2]}).SerializeToString())
    assert not isinstance(other, storage_pb2.Data)
    assert codec.decode(other) == {'a': [1, 2]}


class _Color(enum.Enum):
  RED = 1


_UNSUPPORTED = [
  # (value, path in the message, words the message must contain)
  (set(), 'value', 'set'),
  ({1, 2}, 'value', 'set'),
  (map(str, [1]), 'value', 'map'),
  (int, 'value', 'type'),
  (complex(1, 2), 'value', 'complex'),
  (np.float16(1), 'value', 'float16'),
  (np.complex64(1), 'value', 'complex64'),
  (object(), 'value', 'object'),
  (_Color.RED, 'value', '_Color'),
  (np.array([1, 'a'], dtype=object), 'value', 'object'),
  (np.zeros(2, dtype=np.float16), 'value', 'float16'),
  (np.zeros(2, dtype=np.complex128), 'value', 'complex128'),
  (np.array(['2020-01-01'], dtype='datetime64[D]'), 'value', 'datetime64'),
  ([{'obs': np.float16(1)}], "value[0]['obs']", 'float16'),
  ([1, 2, 'x'], 'value', 'homogeneous'),
  ({'obs': [np.float32(1), 2.0]}, "value['obs']", 'homogeneous'),
  ((1, (2, {'a': [{'c': 1}, {'b': set()}]})), "value[1][1]['a'][1]['b']", 'set'),
  ([True, 1], 'value', 'homogeneous'),
  ([[], ()], 'value', 'homogeneous'),
  (np.float32, 'value', 'type'),
  (np.dtype('int64'), 'value', 'dtype'),
  ({3: np.zeros(1, np.float16)}, 'value[3]', 'float16'),
  ({frozenset([1]): 1}, 'value<key frozenset({1})>', 'frozenset'),
  ([np.zeros(1, np.float16)] * 3, 'value[0]', 'float16'),
]


class TestUnsupported:
  @pytest.mark.parametrize('value,path,word', _UNSUPPORTED)
  def test_type_error_names_type_and_path(self, value, path, word):
    with pytest.raises(TypeError) as info:
      codec.encode(value)
    message = str(info.value)
    assert message.endswith(f' at {path}'), message
    assert word in message

  def test_heterogeneous_list_message(self):
    with pytest.raises(TypeError, match=r'We assume list is homogeneous.*\[2\] is a str'):
      codec.encode([1, 2, 'x'])

  def test_unsupported_dtype_message(self):
    with pytest.raises(
      TypeError,
      match=r'Unsupported `array.dtype`: float16 '
      r"at value\[0\]\['obs'\]$",
    ):
      codec.encode([{'obs': np.zeros(3, np.float16)}])
