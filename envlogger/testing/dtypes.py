"""The numeric NumPy dtypes the codec stores natively, for tests and fuzz corpora."""

import numpy as np

# Every numeric dtype the encoder keeps as a typed array (and the native
# columnar decoder writes back): floats, signed and unsigned ints, bool.
NUMERIC_DTYPES = (
  np.float32,
  np.float64,
  np.int8,
  np.int16,
  np.int32,
  np.int64,
  np.uint8,
  np.uint16,
  np.uint32,
  np.uint64,
  np.bool_,
)
