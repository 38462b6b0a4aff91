"""Python values <-> `envlogger.Data` protos (the record format of envlogger).

Mapping (identical to upstream envlogger 1.3, so datasets are interchangeable):

* None and empty list/tuple/dict -> an empty `Data` (decodes as None).
* list -> `Data.array` (must be homogeneous: every element an instance of the
  type of the first one); tuple (incl. namedtuples) -> `Data.tuple`;
  dict -> `Data.dict` (str keys in the `values` map, any other key as a
  `(key, value)` tuple in `kvs`).
* numpy arrays -> `Datum` with one dim per axis (zero-size axes are dropped),
  values in row-major order. A zero-size array keeps only its non-zero dims
  (np.array([]) is an empty `Data`), except that int8/int16/uint8/uint16 ones
  also carry an empty `values`. int8/int16/uint8/uint16 are packed big-endian in
  bytes fields; str/bytes arrays become repeated string/bytes fields.
* scalars -> `Datum` with the single dim -438 ("scalar"). Python int becomes a
  big-endian two's-complement "bigint" of any size; bool -> bool; str and
  bytes (incl. np.str_/np.bytes_ and subclasses) -> their own characters/bytes,
  as upstream: an np.str_ scalar keeps trailing NULs (elements of str/bytes
  arrays have none, numpy drops them); numpy scalars keep their type; Python
  float -> float64.

Decoding gives numpy scalars/arrays of the stored type, Python int for bigints,
bool, str, bytes, lists, tuples and dicts; str/bytes arrays come back with
dtype object.

Values that cannot be encoded raise `TypeError` whose message names the
offending type and where it sits in the value, e.g.
"Unsupported `array.dtype`: float16 at value[0]['obs']".
"""

from typing import Any, List, Optional

import numpy as np

from envlogger.proto import storage_pb2

# Size of the single dim that marks a scalar Datum: the negated sum of the
# ASCII codes of "SCALAR".
_SCALAR_DIM_SIZE = -438

# Field numbers of `Datum.Values` whose packed wire payload is the numpy
# little-endian buffer itself (fixed-width fields), so arrays can be stored
# without a per-element Python loop.
_FLOAT_VALUES_FIELD = 1
_DOUBLE_VALUES_FIELD = 2
_BOOL_VALUES_FIELD = 7

_SMALL_INT_FIELDS = (
  # (numpy type, big-endian dtype, Values field name)
  (np.int8, '>i1', 'int8_values'),
  (np.int16, '>i2', 'int16_values'),
  (np.uint8, '>u1', 'uint8_values'),
  (np.uint16, '>u2', 'uint16_values'),
)

_VARINT_ARRAY_FIELDS = (
  (np.int32, 'int32_values'),
  (np.int64, 'int64_values'),
  (np.uint32, 'uint32_values'),
  (np.uint64, 'uint64_values'),
)


class _EncodeError(TypeError):
  """Internal: an unsupported value plus the path to it, built bottom-up."""

  def __init__(self, message: str):
    super().__init__(message)
    self.message = message
    self.path: List[str] = []  # innermost component first


def _packed_field(field_number: int, payload: bytes) -> bytes:
  """Wire bytes of one length-delimited (packed) field."""
  header = bytearray([(field_number << 3) | 2])
  n = len(payload)
  while n >= 0x80:
    header.append((n & 0x7F) | 0x80)
    n >>= 7
  header.append(n)
  return bytes(header) + payload


def _encode_array(value: np.ndarray, datum: storage_pb2.Datum) -> None:
  """Fills `datum` with the dims and row-major values of `value`."""
  dtype = value.dtype
  # Resolve the field first so that unsupported arrays leave no partial state.
  if np.issubdtype(dtype, np.float32):
    kind = 'float32'
  elif np.issubdtype(dtype, np.float64):
    kind = 'float64'
  elif np.issubdtype(dtype, np.bool_):
    kind = 'bool'
  elif np.issubdtype(dtype, np.str_):
    kind = 'str'
  elif np.issubdtype(dtype, np.bytes_):
    kind = 'bytes'
  else:
    kind = None
    for np_type, field in _VARINT_ARRAY_FIELDS:
      if np.issubdtype(dtype, np_type):
        kind = field
        break
    else:
      for np_type, be_dtype, field in _SMALL_INT_FIELDS:
        if np.issubdtype(dtype, np_type):
          kind = (be_dtype, field)
          break
  if kind is None:
    raise _EncodeError(f'Unsupported `array.dtype`: {dtype}')

  for dim in value.shape:
    if dim > 0:
      datum.shape.dim.add().size = dim
  flat = value.ravel()  # row-major
  if not flat.size:
    # As upstream: a zero-size array sets nothing but its non-zero dims, so
    # np.array([]) is an empty `Data`; only the packed small-int kinds assign
    # their (empty) bytes field, which makes `values` and `datum` present.
    if isinstance(kind, tuple):
      datum.values.SetInParent()
    return
  values = datum.values
  if kind == 'float32':
    values.MergeFromString(
      _packed_field(_FLOAT_VALUES_FIELD, flat.astype('<f4', copy=False).tobytes())
    )
  elif kind == 'float64':
    values.MergeFromString(
      _packed_field(_DOUBLE_VALUES_FIELD, flat.astype('<f8', copy=False).tobytes())
    )
  elif kind == 'bool':
    values.MergeFromString(_packed_field(_BOOL_VALUES_FIELD, flat.astype(np.uint8).tobytes()))
  elif kind == 'str':
    values.string_values.extend(flat.tolist())
  elif kind == 'bytes':
    values.bytes_values.extend(flat.tolist())
  elif isinstance(kind, tuple):
    be_dtype, field = kind
    setattr(values, field, flat.astype(be_dtype, copy=False).tobytes())
  else:
    getattr(values, kind).extend(flat.tolist())


def _encode_scalar(value: Any, datum: storage_pb2.Datum) -> None:
  """Fills `datum` with a scalar (dim -438) holding `value`."""
  values = datum.values
  if isinstance(value, str):
    # The string's own characters, as upstream's `append(value)` stores them:
    # str(x) would drop the trailing NULs of an np.str_ and call a subclass's
    # __str__ (e.g. an Enum mixing in str gives 'Color.RED', not its value).
    values.string_values.append(str.__str__(value))
  elif isinstance(value, bytes):
    # Likewise the object's own bytes, not a subclass's __bytes__.
    values.bytes_values.append(bytes(memoryview(value)))
  elif isinstance(value, (bool, np.bool_)):
    values.bool_values.append(bool(value))
  elif isinstance(value, int):
    # int's own methods: an int subclass overriding them must not change the
    # stored value (the native codec reads the integer itself too).
    values.bigint_values.append(
      int.to_bytes(value, int.bit_length(value) // 8 + 1, 'big', signed=True)
    )
  else:
    if isinstance(value, (type, np.dtype)):
      # np.result_type would interpret these as dtype specifications.
      raise _EncodeError(f'Unsupported type {type(value).__qualname__}: {value!r}')
    try:
      dtype = np.result_type(value)
    except TypeError as e:
      raise _EncodeError(f'Unsupported type {type(value).__qualname__}: {value!r}') from e
    # Appended as they are, as upstream does: protobuf reads a float
    # (subclass) instance's own value where float() would call an
    # overridden __float__.
    if dtype == np.float32:
      values.float_values.append(value)
    elif dtype == np.float64:
      values.double_values.append(value)
    else:
      for np_type, field in _VARINT_ARRAY_FIELDS:
        if dtype == np_type:
          getattr(values, field).append(int(value))
          break
      else:
        for np_type, be_dtype, field in _SMALL_INT_FIELDS:
          if dtype == np_type:
            setattr(values, field, np.asarray(value, dtype=be_dtype).tobytes())
            break
        else:
          raise _EncodeError(f'Unknown type: {type(value).__qualname__} (dtype {dtype}): {value!r}')
  datum.shape.dim.add().size = _SCALAR_DIM_SIZE


def _encode_into(value: Any, data: storage_pb2.Data) -> None:
  """Encodes `value` into the empty message `data`; raises _EncodeError."""
  if value is None:
    return
  if isinstance(value, list):
    if not value:
      return
    first_type = type(value[0])
    array_values = data.array.values
    for i, element in enumerate(value):
      if not isinstance(element, first_type):
        raise _EncodeError(
          'We assume list is homogeneous, i.e. every element has the type '
          f'of the first one ({first_type.__qualname__}); element [{i}] is '
          f'a {type(element).__qualname__}'
        )
      try:
        _encode_into(element, array_values.add())
      except _EncodeError as e:
        e.path.append(f'[{i}]')
        raise
  elif isinstance(value, tuple):
    if not value:
      return
    tuple_values = data.tuple.values
    for i, element in enumerate(value):
      try:
        _encode_into(element, tuple_values.add())
      except _EncodeError as e:
        e.path.append(f'[{i}]')
        raise
  elif isinstance(value, dict):
    if not value:
      return
    dict_msg = data.dict
    for key, element in value.items():
      if isinstance(key, str):
        try:
          _encode_into(element, dict_msg.values[key])
        except _EncodeError as e:
          e.path.append(f'[{key!r}]')
          raise
      else:
        kv = dict_msg.kvs.values.add().tuple.values
        try:
          _encode_into(key, kv.add())
        except _EncodeError as e:
          e.path.append(f'<key {key!r}>')
          raise
        try:
          _encode_into(element, kv.add())
        except _EncodeError as e:
          e.path.append(f'[{key!r}]')
          raise
  elif isinstance(value, np.ndarray):
    _encode_array(value, data.datum)
  else:
    _encode_scalar(value, data.datum)


def encode(user_data: Any) -> storage_pb2.Data:
  """Encodes a (nested) Python value into a `storage_pb2.Data`.

  Args:
    user_data: None, a list, tuple, dict, numpy array or scalar (see the module
      docstring for the supported types), nested arbitrarily.

  Returns:
    The encoded message.

  Raises:
    TypeError: a value (or dict key) of an unsupported type, or a
      heterogeneous list; the message says what and where, e.g. `at
      value[2]['obs']`.
  """
  data = storage_pb2.Data()
  try:
    _encode_into(user_data, data)
  except _EncodeError as e:
    path = 'value' + ''.join(reversed(e.path))
    raise TypeError(f'{e.message} at {path}') from e.__cause__
  return data


def decode_datum(datum: storage_pb2.Datum) -> Any:
  """Decodes a `Datum` into a numpy array, numpy/Python scalar or None.

  Args:
    datum: the message to decode.

  Returns:
    A scalar when the Datum's shape is the single dim -438, an array of the
    Datum's shape otherwise, or None if the Datum holds no values.

  Raises:
    TypeError: a non-scalar Datum holding bigints (not representable).
  """
  shape = [dim.size for dim in datum.shape.dim]
  is_scalar = shape == [_SCALAR_DIM_SIZE]
  values = datum.values
  result = None

  # Repeated numeric fields: the first non-empty one wins.
  if values.float_values:
    result = _numeric(values.float_values, np.float32, is_scalar)
  elif values.double_values:
    result = _numeric(values.double_values, np.float64, is_scalar)
  elif values.int32_values:
    result = _numeric(values.int32_values, np.int32, is_scalar)
  elif values.int64_values:
    result = _numeric(values.int64_values, np.int64, is_scalar)
  elif values.uint32_values:
    result = _numeric(values.uint32_values, np.uint32, is_scalar)
  elif values.uint64_values:
    result = _numeric(values.uint64_values, np.uint64, is_scalar)
  elif values.bool_values:
    if is_scalar:
      result = bool(values.bool_values[0])
    else:
      result = np.array(values.bool_values, dtype=np.bool_)
  # As upstream: a scalar found there is the answer, whatever else is set.
  if is_scalar and result is not None:
    return result

  # Big-endian packed fields override the above (later ones win).
  for buffer, be_dtype, np_type in (
    (values.float_values_buffer, '>f4', np.float32),
    (values.int8_values, '>i1', np.int8),
    (values.int16_values, '>i2', np.int16),
    (values.uint8_values, '>u1', np.uint8),
    (values.uint16_values, '>u2', np.uint16),
  ):
    if buffer:
      unpacked = np.frombuffer(buffer, dtype=be_dtype).astype(np_type)
      result = unpacked[0] if is_scalar else unpacked

  if values.string_values:
    if is_scalar:
      result = values.string_values[0]
    else:
      result = np.array(list(values.string_values), dtype=object)
  elif values.bytes_values:
    if is_scalar:
      result = values.bytes_values[0]
    else:
      result = np.array(list(values.bytes_values), dtype=object)
  elif values.bigint_values:
    if not is_scalar:
      raise TypeError(
        'Only scalar bigint_values are supported; got a Datum of shape '
        f'{shape} with {len(values.bigint_values)} bigint values'
      )
    result = int.from_bytes(values.bigint_values[0], 'big', signed=True)

  if result is None:
    return None
  return result if is_scalar else np.reshape(result, shape)


def _numeric(field, np_type, is_scalar: bool):
  if is_scalar:
    return np_type(field[0])
  return np.array(field, dtype=np_type)


def decode(user_data: Optional[storage_pb2.Data]) -> Any:
  """Decodes a `storage_pb2.Data` (as produced by `encode`) into Python values.

  Args:
    user_data: the message, or None. A message of another Python class with the
      same wire format (e.g. from another descriptor pool) is re-parsed first.

  Returns:
    The decoded value; None for None or an empty message.
  """
  if user_data is None:
    return None
  if not isinstance(user_data, storage_pb2.Data):
    user_data = storage_pb2.Data.FromString(user_data.SerializeToString())
  kind = user_data.WhichOneof('value')
  if kind == 'datum':
    return decode_datum(user_data.datum)
  if kind == 'array':
    return [decode(v) for v in user_data.array.values]
  if kind == 'tuple':
    return tuple(decode(v) for v in user_data.tuple.values)
  if kind == 'dict':
    result = {k: decode(v) for k, v in user_data.dict.values.items()}
    for kv in user_data.dict.kvs.values:
      key, value = kv.tuple.values
      result[decode(key)] = decode(value)
    return result
  return None
