"""Batched sequential reading of RiegeliBackendReader.

Iterating `reader.steps` or an episode fetches and decodes up to
`_BATCH_STEPS` steps per native call. These tests make batches straddle
episode, shard and chunk boundaries (a batch of 7 steps against episodes of
10 steps, shards of 3 episodes and 2 KiB chunks) and check every value
against what the environment returned while recording, then check a
damaged chunk and a malformed record inside a batch, the bounds of one
batch, and an empty dataset.
"""

import os
import shutil
import tempfile
from unittest import mock

from absl.testing import absltest
import dm_env
import numpy as np

import envlogger
from envlogger import step_data
from envlogger.backends import backend_reader
from envlogger.backends import riegeli_backend_reader
from envlogger.converters import native_codec
from envlogger.testing import catch_env
from envlogger.testing import compare
from envlogger.testing import damage_harness

_EPISODES = 12
_EPISODES_PER_SHARD = 3
_STEPS_PER_EPISODE = 10  # Catch's default 10 rows.


def _as_stored(timestep: dm_env.TimeStep) -> dm_env.TimeStep:
  """`timestep` as the codec reads it back: Python floats become float64."""
  return timestep._replace(
    **{
      field: np.float64(getattr(timestep, field))
      for field in ('reward', 'discount')
      if isinstance(getattr(timestep, field), float)
    }
  )


def _record(path: str) -> list[tuple]:
  """Records _EPISODES Catch episodes; returns each step as read back."""
  recorded = []

  def step_fn(timestep, action, unused_env):
    # Values of several codec types, different at every step.
    n = len(recorded)
    return {
      'n': n,
      'name': f'step{n}',
      'half': np.float32(n / 2),
      'vec': np.arange(n % 4 + 1, dtype=np.int16),
    }

  env = catch_env.Catch(seed=5)
  rng = np.random.default_rng(5)
  with envlogger.EnvLogger(
    env,
    data_directory=path,
    step_fn=step_fn,
    max_episodes_per_file=_EPISODES_PER_SHARD,
    writer_options='transpose,brotli:6,chunk_size:2k',
  ) as logged:
    for _ in range(_EPISODES):
      timestep = logged.reset()
      recorded.append(step_data.StepData(_as_stored(timestep), None, step_fn(timestep, None, None)))
      while not timestep.last():
        action = int(rng.integers(3))
        timestep = logged.step(action)
        recorded.append(
          step_data.StepData(_as_stored(timestep), action, step_fn(timestep, action, None))
        )
  return recorded


class _RecordedTestCase(absltest.TestCase):
  """Records the dataset of `_record` once per class at `cls.path` (in `cls._tmp`)."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls._tmp = tempfile.mkdtemp()
    cls.path = os.path.join(cls._tmp, 'recorded')
    cls.recorded = _record(cls.path)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls._tmp)
    super().tearDownClass()


class BatchedReadTest(_RecordedTestCase):
  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    assert len(cls.recorded) == _EPISODES * _STEPS_PER_EPISODE, len(cls.recorded)

  def _assert_recorded(self, steps, indices) -> None:
    self.assertLen(steps, len(indices))
    for step, i in zip(steps, indices):
      self.assertIsInstance(step, step_data.StepData)
      self.assertIsInstance(step.timestep, dm_env.TimeStep)
      self.assertIsInstance(step.timestep.step_type, dm_env.StepType)
      self.assertEqual(compare.differences(step, self.recorded[i]), [], i)

  def _spy_batches(self, reader: envlogger.Reader) -> list[tuple[int, int]]:
    """Makes the reader log (start, count) of every native batch."""
    backend = reader._backend  # pylint: disable=protected-access
    native = backend._read_steps  # pylint: disable=protected-access
    batches = []

    def spy(start, *args):
      steps = native(start, *args)
      batches.append((start, len(steps)))
      return steps

    backend._read_steps = spy  # pylint: disable=protected-access
    return batches

  def test_batches_straddling_episodes_shards_and_chunks_read_the_recorded_values(self):
    shards = [d for d in os.listdir(self.path) if os.path.isdir(os.path.join(self.path, d))]
    self.assertLen(shards, _EPISODES // _EPISODES_PER_SHARD)
    for batch_steps in (1, 7, 256):
      with (
        self.subTest(batch_steps=batch_steps),
        mock.patch.object(riegeli_backend_reader, '_BATCH_STEPS', batch_steps),
        envlogger.Reader(self.path) as reader,
      ):
        batches = self._spy_batches(reader)
        self._assert_recorded(list(reader.steps), range(len(self.recorded)))
        self.assertEqual(sum(count for _, count in batches), len(self.recorded))
        self.assertTrue(all(0 < count <= batch_steps for _, count in batches), batches)
        if batch_steps == 7:
          # Some batch holds the end of an episode and the start of the next,
          # and one the end of a shard and the start of the next.
          spans = [range(start, start + count) for start, count in batches]
          for boundary in (_STEPS_PER_EPISODE, _STEPS_PER_EPISODE * _EPISODES_PER_SHARD):
            self.assertTrue(any(boundary - 1 in s and boundary in s for s in spans), boundary)

        # Episodes are batched within their own range.
        batches.clear()
        for e, episode in enumerate(reader.episodes):
          start = e * _STEPS_PER_EPISODE
          self._assert_recorded(list(episode), range(start, start + _STEPS_PER_EPISODE))
        self.assertTrue(
          all(
            start // _STEPS_PER_EPISODE == (start + count - 1) // _STEPS_PER_EPISODE
            for start, count in batches
          ),
          batches,
        )
        # The same values as random access.
        for i in (0, 9, 10, 29, 30, len(self.recorded) - 1):
          self.assertEqual(compare.differences(reader.steps[i], self.recorded[i]), [])

  def test_iteration_is_lazy(self):
    with envlogger.Reader(self.path) as reader:
      batches = self._spy_batches(reader)
      iterator = iter(reader.steps)
      self.assertEqual(batches, [])
      first = [next(iterator) for _ in range(3)]
      self.assertLen(batches, 1)
      self.assertLessEqual(batches[0][1], riegeli_backend_reader._BATCH_STEPS)  # pylint: disable=protected-access
      self._assert_recorded(first, range(3))

  def test_steps_own_their_arrays(self):
    with envlogger.Reader(self.path) as reader:
      first, second = list(reader.steps)[1:3]
      obs = first.timestep.observation
      self.assertIsNot(obs, second.timestep.observation)
      self.assertTrue(obs.flags.writeable and obs.flags.owndata)
      expected = obs.copy()
      obs[...] = 42
      again = reader.steps[1].timestep.observation
      np.testing.assert_array_equal(again, expected)
      np.testing.assert_array_equal(list(reader.steps)[1].timestep.observation, expected)

  def test_read_steps_bounds(self):
    with envlogger.Reader(self.path) as reader:
      native = reader._backend._read_steps  # pylint: disable=protected-access
      classes = (step_data.StepData, dm_env.TimeStep, riegeli_backend_reader._STEP_TYPES)  # pylint: disable=protected-access
      n = len(self.recorded)
      self.assertLen(native(0, n, 5, 1 << 20, *classes), 5)
      self.assertLen(native(0, 3, 5, 1 << 20, *classes), 3)
      self.assertLen(native(0, n, 100, 1, *classes), 1)  # max_bytes: the first step only.
      self.assertLen(native(n - 2, n + 10, 100, 1 << 20, *classes), 2)
      for start, stop in ((n, n + 5), (-1, 3), (4, 4), (5, 2)):
        self.assertEqual(native(start, stop, 100, 1 << 20, *classes), [], (start, stop))
      self._assert_recorded(native(27, 33, 100, 1 << 20, *classes), range(27, 33))
      with self.assertRaisesRegex(TypeError, 'namedtuple'):
        native(0, 1, 1, 100, dict, dm_env.TimeStep, {})
      with self.assertRaisesRegex(TypeError, 'dict of step types'):
        native(0, 1, 1, 100, step_data.StepData, dm_env.TimeStep, [])

  def test_damaged_chunk_inside_a_batch(self):
    clean = damage_harness.load_clean(self.path)
    rel, chunks = next(
      (rel, chunks) for rel, chunks in sorted(clean.step_chunks.items()) if len(chunks) >= 3
    )
    begin, unused_end, lost = chunks[len(chunks) // 2]
    path = os.path.join(tempfile.mkdtemp(dir=self._tmp), 'd')
    shutil.copytree(self.path, path)
    damage_harness.flip_byte(os.path.join(path, rel), begin + 30, mask=0x5A)
    kept = [i for i in range(len(self.recorded)) if i not in set(lost)]
    with envlogger.Reader(path) as reader:
      batches = self._spy_batches(reader)
      with self.assertLogs(level='WARNING') as logs:
        steps = list(reader.steps)
      self._assert_recorded(steps, kept)
      warnings = [r for r in logs.records if 'Skipping damaged data' in r.getMessage()]
      self.assertLen(warnings, 1)
      # The batch before the damage ended at its first lost step; the next
      # batch starts after the last.
      self.assertIn(lost[0], [start + count for start, count in batches])
      self.assertIn(lost[-1] + 1, [start for start, _ in batches])
      [region] = reader.skipped_regions()
      self.assertEqual(list(region.steps), lost)
      with self.assertRaises(backend_reader.DamagedDataError):
        reader.steps[lost[0]]

  def test_malformed_record_inside_a_batch(self):
    path = os.path.join(tempfile.mkdtemp(dir=self._tmp), 'raw')
    os.makedirs(path)
    writer = riegeli_backend_reader._native.dataset_io.RiegeliDatasetWriter()  # pylint: disable=protected-access
    writer.init(path, native_codec.encode({}))
    for i in range(10):
      step = self.recorded[i]
      record = native_codec.encode((tuple(step.timestep), step.action, step.custom_data))
      writer.add_step(native_codec.encode(5) if i == 6 else record, is_new_episode=i == 0)
    writer.close()
    with envlogger.Reader(path) as reader:
      with self.assertRaises(TypeError) as direct:
        reader.steps[6]
      batches = self._spy_batches(reader)
      iterator = iter(reader.steps)
      self._assert_recorded([next(iterator) for _ in range(6)], range(6))
      with self.assertRaises(TypeError) as iterated:
        next(iterator)
      self.assertEqual(str(iterated.exception), str(direct.exception))
      self.assertEqual(batches[0], (0, 6))

  def test_empty_dataset(self):
    path = os.path.join(tempfile.mkdtemp(dir=self._tmp), 'empty')
    with envlogger.EnvLogger(catch_env.Catch(), data_directory=path):
      pass
    with envlogger.Reader(path) as reader:
      self.assertEqual(list(reader.steps), [])
      self.assertEqual(list(reader.episodes), [])
      self.assertEqual(
        reader._backend._read_steps(
          0,
          10,
          10,
          100,
          step_data.StepData,
          dm_env.TimeStep,  # pylint: disable=protected-access
          riegeli_backend_reader._STEP_TYPES,
        ),
        [],
      )  # pylint: disable=protected-access


class ChunkCacheTest(_RecordedTestCase):
  """cache_bytes bounds the decoded step chunks kept, over all shards."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.shards = _EPISODES // _EPISODES_PER_SHARD

  def _read_shuffled(self, reader: envlogger.Reader, seed: int) -> None:
    """Reads every step once in a random order, checking its values."""
    for i in np.random.default_rng(seed).permutation(len(self.recorded)):
      self.assertEqual(compare.differences(reader.steps[int(i)], self.recorded[i]), [], i)

  def test_default_bound_is_64_mib_per_shard(self):
    with envlogger.Reader(self.path) as reader:
      self.assertEqual(reader.cache_stats()['max_bytes'], self.shards * (64 << 20))

  def test_a_cache_holding_every_chunk_decodes_each_once(self):
    with envlogger.Reader(self.path, cache_bytes=1 << 30) as reader:
      self._read_shuffled(reader, 0)
      first = reader.cache_stats()
      self._read_shuffled(reader, 1)
      second = reader.cache_stats()
    self.assertEqual(first['max_bytes'], (1 << 30) // self.shards * self.shards)
    self.assertGreater(first['chunks'], self.shards)  # 2k chunks: several per shard.
    self.assertEqual(second['evictions'], 0)
    self.assertEqual(second['misses'], first['misses'])  # No chunk looked up and missed again.
    self.assertGreater(second['hits'], first['hits'])
    self.assertEqual(second['chunks'], first['chunks'])

  def test_a_small_cache_evicts_and_stays_within_its_bound(self):
    with envlogger.Reader(self.path, cache_bytes=1 << 30) as reader:
      self._read_shuffled(reader, 0)
      everything = reader.cache_stats()['bytes']
    bound = everything // 3
    with envlogger.Reader(self.path, cache_bytes=bound) as reader:
      self._read_shuffled(reader, 2)
      stats = reader.cache_stats()
      copied = reader.copy()
      self.assertEqual(copied.cache_stats()['max_bytes'], stats['max_bytes'])
      self.assertEqual(copied.cache_stats()['bytes'], 0)  # Its own, empty cache.
      copied.close()
    self.assertEqual(stats['max_bytes'], bound // self.shards * self.shards)
    self.assertLessEqual(stats['bytes'], stats['max_bytes'])
    self.assertGreater(stats['evictions'], 0)
    self.assertLess(stats['chunks'], 2 * self.shards + everything // max(1, bound))

  def test_zero_keeps_no_chunk(self):
    with envlogger.Reader(self.path, cache_bytes=0) as reader:
      self._read_shuffled(reader, 3)
      stats = reader.cache_stats()
    self.assertEqual((stats['max_bytes'], stats['bytes'], stats['chunks']), (0, 0, 0))

  def test_bad_cache_bytes_raise_value_error_naming_them(self):
    for bad in (-1, 1.5, True, '64M'):
      with self.subTest(bad=bad), self.assertRaisesRegex(ValueError, repr(bad).replace('.', r'\.')):
        envlogger.Reader(self.path, cache_bytes=bad)


if __name__ == '__main__':
  absltest.main()
