"""The native dataset layer raises typed errors with unchanged messages."""

import os

import dm_env
import numpy as np
import pytest

from envlogger import _native
from envlogger.backends import backend_reader
from envlogger.backends.python import dataset_errors
from envlogger.backends.python import riegeli_dataset_reader
from envlogger.backends.python import riegeli_dataset_writer
from envlogger.converters import native_codec
from envlogger.testing import damage_harness


def _step(i: int) -> bytes:
  observation = np.full(50, i, np.int64)
  timestep = dm_env.restart(observation) if i % 5 == 0 else dm_env.transition(1.0, observation)
  return native_codec.encode_step(timestep, np.int64(i), None)


def _write(path, num_steps, **init_kwargs):
  writer = riegeli_dataset_writer.RiegeliDatasetWriter()
  writer.init(str(path), **init_kwargs)
  for i in range(num_steps):
    writer.add_step(_step(i), is_new_episode=i % 5 == 0)
  writer.close()


def test_missing_directory_is_not_found(tmp_path):
  reader = riegeli_dataset_reader.RiegeliDatasetReader()
  missing = str(tmp_path / 'missing')
  with pytest.raises(dataset_errors.NotFoundError) as raised:
    reader.init(missing)
  assert isinstance(raised.value, RuntimeError)
  assert not isinstance(raised.value, dataset_errors.EmptyShardError)
  assert (raised.value.code, raised.value.code_name) == (5, 'NOT_FOUND')
  assert str(raised.value) == f'NOT_FOUND: Data directory {missing} does not exist'


def test_bad_writer_options_are_invalid_argument(tmp_path):
  writer = riegeli_dataset_writer.RiegeliDatasetWriter()
  with pytest.raises(dataset_errors.InvalidArgumentError, match=r'^INVALID_ARGUMENT: .*brotli:42'):
    writer.init(str(tmp_path), writer_options='brotli:42')


def test_unused_writer_is_failed_precondition():
  writer = riegeli_dataset_writer.AsyncRiegeliDatasetWriter()
  with pytest.raises(dataset_errors.FailedPreconditionError) as raised:
    writer.add_step(b'')
  assert raised.value.code == 9


def test_empty_shard_has_its_own_class(tmp_path):
  _write(tmp_path, 2)
  writer = riegeli_dataset_writer.RiegeliDatasetWriter()
  writer.init(str(tmp_path))  # A second shard that never gets a step.
  writer.close()
  reader = riegeli_dataset_reader.RiegeliDatasetReader()
  with pytest.raises(dataset_errors.EmptyShardError) as raised:
    reader.init(str(tmp_path))
  assert isinstance(raised.value, dataset_errors.NotFoundError)
  assert str(raised.value).startswith('NOT_FOUND: Empty steps in ')
  assert reader.num_steps == 2


def test_damaged_chunk_is_a_damaged_data_error(tmp_path):
  path = tmp_path / 'd'
  _write(path, 40, writer_options='transpose,uncompressed,chunk_size:400')
  clean = damage_harness.load_clean(str(path))
  rel, chunks = next(
    (rel, chunks) for rel, chunks in sorted(clean.step_chunks.items()) if len(chunks) >= 3
  )
  begin, unused_end, lost = chunks[1]
  damage_harness.flip_byte(os.path.join(str(path), rel), begin + 30, mask=0x5A)
  reader = riegeli_dataset_reader.RiegeliDatasetReader()
  reader.init(str(path))
  with pytest.raises(dataset_errors.DamagedChunkError) as raised:
    reader.step(lost[0])
  error = raised.value
  assert isinstance(error, backend_reader.DamagedDataError)
  assert isinstance(error, dataset_errors.DataLossError)
  assert error.code == 15
  assert str(error).startswith('DATA_LOSS: ') and ' is in a damaged chunk: ' in str(error)
  assert reader.step(lost[-1] + 1) is not None  # Other chunks stay readable.


def test_vector_recorder_failure_is_typed(tmp_path):
  not_a_directory = tmp_path / 'file'
  not_a_directory.write_bytes(b'x')
  with pytest.raises(dataset_errors.FailedPreconditionError) as raised:
    _native.vector_recording.VectorStepRecorder(
      [str(tmp_path / 'env0'), str(not_a_directory)],
      [b'', b''],
      max_episodes_per_shard=0,
      writer_options='',
    )
  assert isinstance(raised.value, RuntimeError)
  assert (raised.value.code, raised.value.code_name) == (9, 'FAILED_PRECONDITION')
  assert str(raised.value).startswith('FAILED_PRECONDITION: ')
  assert str(not_a_directory) in str(raised.value)
