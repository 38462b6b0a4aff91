"""Tests of EnvLogger, run against every backend in `_HARNESSES`.

Each harness knows how to build a logger for a backend and a Reader over what
it wrote. `_HARNESSES` holds the in-memory backend and the Riegeli backend
(the default of EnvLogger); every test below runs for each. Tests that only
make sense for one backend take no harness and say so.
"""

import concurrent.futures
import gc
import os
import pickle
from typing import Any, List

import dm_env
from dm_env import specs
import numpy as np
import pytest

import envlogger
from envlogger import environment_logger
from envlogger import step_data
from envlogger.backends import in_memory_backend
from envlogger.backends import schedulers
from envlogger import riegeli
from envlogger.converters import codec
from envlogger.proto import storage_pb2
from envlogger.testing import catch_env
from envlogger.testing import compare


class _InMemoryHarness:
  """Logs to an InMemoryBackendWriter; reads it back with the Reader."""

  name = 'in_memory'

  def __init__(self, tmp_path):
    del tmp_path  # unused: nothing is written to disk
    self._writers: List[in_memory_backend.InMemoryBackendWriter] = []

  def logger(self, env: dm_env.Environment, **kwargs) -> envlogger.EnvLogger:
    logger = envlogger.EnvLogger(env, backend=envlogger.BackendType.IN_MEMORY, **kwargs)
    self._writers.append(logger._backend)  # pylint: disable=protected-access
    return logger

  def reader(self) -> envlogger.Reader:
    return envlogger.Reader(self._writers[-1], backend=envlogger.BackendType.IN_MEMORY)

  def recorded(self, steps: List[step_data.StepData]) -> List[tuple]:
    """The steps as this backend reads them back, as plain tuples.

    In memory the very objects are returned. (A storing backend returns the
    codec round trip: python floats become np.float64, etc.)
    """
    return [tuple(s) for s in steps]


class _RiegeliHarness:
  """Logs to a Riegeli dataset in a fresh tmp directory; reads it from disk."""

  name = 'riegeli'

  def __init__(self, tmp_path):
    self._tmp_path = tmp_path
    self._num_loggers = 0
    self.data_directory = None
    # Reader.__del__ closes its backend, and `reader().episodes` outlives the
    # Reader it came from (as upstream's does): keep the readers alive.
    self._readers: List[envlogger.Reader] = []

  def logger(self, env: dm_env.Environment, **kwargs) -> envlogger.EnvLogger:
    # Each logger gets its own dataset, as the in-memory harness gets its own
    # writer; reader() reads the last one.
    self._num_loggers += 1
    self.data_directory = str(self._tmp_path / f'dataset{self._num_loggers}')
    return envlogger.EnvLogger(env, data_directory=self.data_directory, **kwargs)

  def reader(self) -> envlogger.Reader:
    reader = envlogger.Reader(self.data_directory)
    self._readers.append(reader)
    return reader

  def recorded(self, steps: List[step_data.StepData]) -> List[tuple]:
    """The steps as they come back from disk: the codec round trip of each.

    The Python codec (independent of the native one the writer uses) gives
    what the Data protos decode to: python floats -> np.float64, ints ->
    np.int64, empty containers -> None, and so on. The reader turns the
    stored step type back into a dm_env.StepType, as upstream's does.
    """

    def round_trip(value):
      return codec.decode(codec.encode(value))

    return [
      (
        dm_env.TimeStep(
          dm_env.StepType(round_trip(s.timestep.step_type)),
          round_trip(s.timestep.reward),
          round_trip(s.timestep.discount),
          round_trip(s.timestep.observation),
        ),
        round_trip(s.action),
        round_trip(s.custom_data),
      )
      for s in steps
    ]


_HARNESSES = [_InMemoryHarness, _RiegeliHarness]


@pytest.fixture(params=_HARNESSES, ids=lambda h: h.name)
def harness(request, tmp_path):
  return request.param(tmp_path)


class CustomSpecsEnvironment(dm_env.Environment):
  """Episodes of `episode_length` steps with fixed values and given specs."""

  def __init__(self, observation_spec, action_spec, episode_length=10):
    self._observation_spec = observation_spec
    self._action_spec = action_spec
    self._episode_length = episode_length
    self._step = 0

  def reset(self):
    self._step = 0
    return dm_env.restart(123)

  def step(self, action):
    self._step += 1
    if self._step == self._episode_length:
      return dm_env.termination(-1.0, 987)
    return dm_env.transition(1.0, 321)

  def observation_spec(self):
    return self._observation_spec

  def action_spec(self):
    return self._action_spec


class RandomDataEnvironment(dm_env.Environment):
  """Random float32 observations; episodes end with probability p."""

  def __init__(self, data_size=10, prob_episode_end=0.1, seed=0):
    self._size = data_size
    self._p = prob_episode_end
    self._rng = np.random.default_rng(seed)

  def reset(self):
    return dm_env.restart(self._observation())

  def step(self, action):
    if self._rng.random() < self._p:
      return dm_env.termination(1.0, self._observation())
    return dm_env.transition(0.5, self._observation())

  def _observation(self):
    return self._rng.random(self._size, dtype=np.float32)

  def observation_spec(self):
    return specs.Array((self._size,), np.float32, 'obs')

  def action_spec(self):
    return specs.DiscreteArray(3, name='action')


def _train(env: dm_env.Environment, num_episodes: int, seed: int = 0):
  """Random agent; returns the StepData it expects to be recorded."""
  rng = np.random.default_rng(seed)
  expected = []
  for _ in range(num_episodes):
    timestep = env.reset()
    expected.append(step_data.StepData(timestep, None, None))
    while not timestep.last():
      action = np.int64(rng.integers(3))
      timestep = env.step(action)
      expected.append(step_data.StepData(timestep, action, None))
  return expected


@pytest.mark.parametrize(
  'observation_spec,action_spec',
  [
    (specs.Array((), np.int32, 'obs'), specs.Array((2,), np.float32, 'act')),
    (specs.BoundedArray((2, 3), np.float64, -1.0, 1.0, 'obs'), specs.DiscreteArray(7, name='act')),
    (
      [specs.Array((1,), np.int8, 'a'), specs.Array((2,), np.uint16, 'b')],
      (specs.DiscreteArray(2), specs.BoundedArray((), np.int64, 0, 9)),
    ),
    (
      {
        'pos': specs.Array((3,), np.float32, 'pos'),
        'nested': {'id': specs.DiscreteArray(4, name='id')},
      },
      {'move': specs.BoundedArray((2,), np.float32, -1.0, 1.0, 'move')},
    ),
  ],
)
def test_specs_of_different_types_are_supported(harness, observation_spec, action_spec):
  env = CustomSpecsEnvironment(observation_spec, action_spec)
  with harness.logger(env) as logger:
    _train(logger, 1)
  reader = harness.reader()
  compare.assert_strictly_equal(reader.observation_spec(), observation_spec)
  compare.assert_strictly_equal(reader.action_spec(), action_spec)
  compare.assert_strictly_equal(reader.reward_spec(), env.reward_spec())
  compare.assert_strictly_equal(reader.discount_spec(), env.discount_spec())


def test_different_specs_are_actually_different(harness):
  env = CustomSpecsEnvironment(specs.Array((1,), np.int32, 'x'), specs.Array((2,), np.int32, 'y'))
  with harness.logger(env) as logger:
    _train(logger, 1)
  reader = harness.reader()
  assert compare.differences(reader.observation_spec(), reader.action_spec())


def test_metadata_is_available(harness):
  user_metadata = {'agent': 'random', 'n': [1, 2, 3], 'seed': np.int64(7)}
  original = dict(user_metadata)
  with harness.logger(catch_env.Catch(), metadata=user_metadata) as logger:
    _train(logger, 1)
  # The caller's dict is not modified (upstream added 'environment_specs').
  assert user_metadata == original and 'environment_specs' not in user_metadata
  reader = harness.reader()
  metadata = reader.metadata()
  assert set(metadata['environment_specs']) == {
    'observation_spec',
    'action_spec',
    'reward_spec',
    'discount_spec',
  }
  metadata.pop('environment_specs')
  compare.assert_strictly_equal(metadata, user_metadata)
  # The returned dict is a copy: mutating it does not affect the reader.
  assert 'environment_specs' in reader.metadata()


def test_data_reader_get_timestep(harness):
  env = catch_env.Catch()
  with harness.logger(env) as logger:
    expected = _train(logger, 13)
  reader = harness.reader()
  assert len(expected) == 130
  assert len(reader.steps) == 130 and len(reader.episodes) == 13
  compare.assert_strictly_equal([tuple(s) for s in reader.steps], harness.recorded(expected))
  recorded = harness.recorded(expected)
  for i in (0, 9, 10, 129, -1, -130):
    compare.assert_strictly_equal(tuple(reader.steps[i]), recorded[i])
  for e, episode in enumerate(reader.episodes):
    assert len(episode) == 10
    compare.assert_strictly_equal(
      [tuple(s) for s in episode], harness.recorded(expected[10 * e : 10 * e + 10])
    )
    assert episode[0].timestep.first() and episode[-1].timestep.last()


def test_step_fn(harness):
  counter = iter(range(1000))

  def step_fn(timestep, action, env):
    del action
    assert isinstance(env, catch_env.Catch)
    return {'n': next(counter), 'first': timestep.first()}

  with harness.logger(catch_env.Catch(), step_fn=step_fn) as logger:
    _train(logger, 2)
  reader = harness.reader()
  assert len(reader.steps) == 20 and len(reader.episodes) == 2
  assert [s.custom_data for s in reader.steps] == [
    {'n': i, 'first': i % 10 == 0} for i in range(20)
  ]


def test_episode_fn(harness):
  episode = [-1]

  def episode_fn(timestep, action, env):
    del action, env
    if timestep.first():
      episode[0] += 1
    # Odd episodes get metadata; the last non-None value of an episode wins.
    if episode[0] % 2 == 1:
      return 100 + episode[0] if timestep.last() else -1
    return None

  with harness.logger(catch_env.Catch(), episode_fn=episode_fn) as logger:
    _train(logger, 11)
  reader = harness.reader()
  assert list(reader.episode_metadata()) == [100 + e if e % 2 else None for e in range(11)]


def test_logger_close(harness):
  logger = harness.logger(catch_env.Catch())
  _train(logger, 1)
  for _ in range(10):
    logger.close()
  assert len(harness.reader().steps) == 10


def test_logger_as_context(harness):
  with harness.logger(catch_env.Catch()) as logger:
    assert isinstance(logger, environment_logger.EnvLogger)
    _train(logger, 3)
  assert len(harness.reader().episodes) == 3


def test_only_episodic_metadata(harness):
  values = iter([1, 2, 3])

  def episode_fn(timestep, action, env):
    del action, env
    return next(values) if timestep.first() else None

  def first_steps_only(data):
    return data.timestep.first()

  with harness.logger(
    catch_env.Catch(), episode_fn=episode_fn, scheduler=first_steps_only
  ) as logger:
    _train(logger, 3)
  reader = harness.reader()
  assert len(reader.steps) == 3 and len(reader.episodes) == 3
  assert list(reader.episode_metadata()) == [1, 2, 3]


def test_parallel_readers(harness):
  with harness.logger(RandomDataEnvironment(seed=3)) as logger:
    expected = _train(logger, 20)
  reader = harness.reader()
  copies = [reader.copy() for _ in range(50)]

  def read_all(r):
    return [tuple(s) for s in r.steps]

  with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    results = list(pool.map(read_all, copies, timeout=30))
  for result in results:
    compare.assert_strictly_equal(result, harness.recorded(expected))


def test_step_before_reset_resets(harness):
  with harness.logger(catch_env.Catch()) as logger:
    timestep = logger.step(2)  # no reset yet: upstream resets, ignores action
    assert timestep.first()
    timestep = logger.step(0)
    assert timestep.mid()
  reader = harness.reader()
  assert len(reader.steps) == 2 and len(reader.episodes) == 1
  assert reader.steps[0].action is None and reader.steps[1].action == 0


def test_step_after_last_resets(harness):
  with harness.logger(catch_env.Catch()) as logger:
    _train(logger, 1)
    assert logger.step(1).first()
  assert [len(e) for e in harness.reader().episodes] == [10, 1]


def test_envlogger_pickling_raises_type_error(harness):
  logger = harness.logger(catch_env.Catch())
  with pytest.raises(TypeError, match='cannot be serialized/pickled'):
    pickle.dumps(logger)
  logger.close()


def test_delegates_unknown_attributes():
  env = catch_env.Catch()
  logger = envlogger.EnvLogger(env, backend=envlogger.BackendType.IN_MEMORY)
  assert logger._rows == 10  # pylint: disable=protected-access
  assert logger.observation_spec() == env.observation_spec()
  with pytest.raises(AttributeError):
    logger.no_such_attribute  # pylint: disable=pointless-statement


def test_backend_instance_is_used_as_is():
  writer = in_memory_backend.InMemoryBackendWriter(metadata={'own': 1})
  with envlogger.EnvLogger(catch_env.Catch(), metadata={'ignored': 2}, backend=writer) as logger:
    _train(logger, 1)
  assert len(writer.steps) == 10
  # As upstream: metadata (and so the environment specs) is not recorded.
  assert writer.metadata() == {'own': 1}


def test_backend_step_recorder_hook():
  """A backend's declared step_recorder() takes the steps; by default
  (None) EnvLogger hands StepData to record_step."""
  plain = in_memory_backend.InMemoryBackendWriter()
  assert plain.step_recorder() is None
  with envlogger.EnvLogger(catch_env.Catch(), backend=plain) as logger:
    _train(logger, 1)
  assert len(plain.steps) == 10

  fields_seen = []

  class FastWriter(in_memory_backend.InMemoryBackendWriter):
    def step_recorder(self):
      def record(timestep, action, custom_data, is_new_episode):
        fields_seen.append((timestep.step_type, is_new_episode))

      return record

  fast = FastWriter()
  with envlogger.EnvLogger(catch_env.Catch(), backend=fast) as logger:
    _train(logger, 1)
  assert fast.steps == []  # record_step was bypassed.
  assert len(fields_seen) == 10
  assert fields_seen[0] == (dm_env.StepType.FIRST, True)
  assert fields_seen[-1] == (dm_env.StepType.LAST, False)
  assert all(step_type == dm_env.StepType.MID and not new for step_type, new in fields_seen[1:-1])


def test_callable_backend_receives_metadata_and_kwargs():
  received = {}

  def factory(**kwargs: Any):
    received.update(kwargs)
    return in_memory_backend.InMemoryBackendWriter(
      metadata=kwargs['metadata'], scheduler=kwargs['scheduler']
    )

  scheduler = schedulers.NStepScheduler(2)
  with envlogger.EnvLogger(
    catch_env.Catch(), metadata={'a': 1}, backend=factory, scheduler=scheduler
  ) as logger:
    _train(logger, 1)
  assert received['scheduler'] is scheduler
  assert received['metadata']['a'] == 1
  assert 'environment_specs' in received['metadata']


def test_dropped_logger_closes_its_backend_at_once(tmp_path):
  """No reference cycle through the logger's recording path: reference
  counting alone closes the backend (the GC is off), for a backend that is
  given StepData and for the Riegeli writer's direct path."""

  class ClosingWriter(in_memory_backend.InMemoryBackendWriter):
    closed = 0

    def close(self):
      ClosingWriter.closed += 1

  gc.disable()
  try:
    logger = envlogger.EnvLogger(catch_env.Catch(), backend=ClosingWriter)
    _train(logger, 1)
    del logger
    assert ClosingWriter.closed == 1
    logger = envlogger.EnvLogger(catch_env.Catch(), data_directory=str(tmp_path))
    expected = _train(logger, 2)
    del logger
  finally:
    gc.enable()
  # Closed (indexed, complete) without close() or a GC pass.
  with envlogger.Reader(str(tmp_path)) as reader:
    assert [len(e) for e in reader.episodes] == [10, 10]
    compare.assert_strictly_equal(
      [tuple(s) for s in reader.steps], _RiegeliHarness(tmp_path).recorded(expected)
    )


def test_in_memory_rejects_data_directory():
  with pytest.raises(TypeError):
    envlogger.EnvLogger(
      catch_env.Catch(), data_directory='/tmp/x', backend=envlogger.BackendType.IN_MEMORY
    )


def test_default_backend_is_riegeli():
  assert environment_logger._DEFAULT_BACKEND == envlogger.BackendType.RIEGELI  # pylint: disable=protected-access


# Riegeli-only tests (upstream's EnvLoggerTest): they look at or damage the
# files of the dataset, or pass options only the Riegeli writer takes.


def _shard_directories(data_directory) -> List[str]:
  """The shard (timestamp) directories of a dataset, oldest first."""
  return sorted(
    os.path.join(data_directory, d)
    for d in os.listdir(data_directory)
    if os.path.isdir(os.path.join(data_directory, d))
  )


def test_riegeli_metadata_with_writer_options(tmp_path):
  user_metadata = {'agent': 'random', 'n': [1, 2, 3], 'seed': np.int64(7)}
  with envlogger.EnvLogger(
    catch_env.Catch(),
    data_directory=str(tmp_path),
    metadata=user_metadata,
    max_episodes_per_file=973,
    writer_options='transpose,brotli:1,chunk_size:50M',
  ) as logger:
    _train(logger, 2)
  with envlogger.Reader(str(tmp_path)) as reader:
    metadata = reader.metadata()
    assert len(reader.episodes) == 2
  assert set(metadata.pop('environment_specs')) == {
    'observation_spec',
    'action_spec',
    'reward_spec',
    'discount_spec',
  }
  # Python ints round-trip as Python ints (bigint), np.int64 as np.int64.
  compare.assert_strictly_equal(metadata, user_metadata)


def test_truncated_trajectory(tmp_path):
  with envlogger.EnvLogger(
    catch_env.Catch(), data_directory=str(tmp_path), max_episodes_per_file=2
  ) as logger:
    expected = _train(logger, 5)
  assert len(expected) == 50  # Catch episodes have 10 steps.
  shards = _shard_directories(tmp_path)
  assert len(shards) == 3
  # Destroy the last shard (one episode): all four of its files become empty.
  files = sorted(os.listdir(shards[-1]))
  assert files == [
    'episode_index.riegeli',
    'episode_metadata.riegeli',
    'step_offsets.riegeli',
    'steps.riegeli',
  ]
  for name in files:
    os.truncate(os.path.join(shards[-1], name), 0)
  with envlogger.Reader(str(tmp_path)) as reader:
    assert len(reader.steps) == 40
    assert len(reader.episodes) == 4
    assert [len(e) for e in reader.episodes] == [10] * 4
    assert reader.steps[-1].timestep.last()
    compare.assert_strictly_equal(
      [tuple(s) for s in reader.steps], _RiegeliHarness(tmp_path).recorded(expected[:40])
    )


def test_episode_starts_monotonically_increasing(tmp_path):
  with envlogger.EnvLogger(
    RandomDataEnvironment(data_size=5, prob_episode_end=0.2, seed=11),
    data_directory=str(tmp_path),
    max_episodes_per_file=50,
    flush_scheduler=schedulers.BernoulliStepScheduler(1.0 / 13, seed=5),
  ) as logger:
    _train(logger, 100)
  shards = _shard_directories(tmp_path)
  assert len(shards) == 2
  for shard in shards:
    starts = []
    with riegeli.RecordReader(os.path.join(shard, 'episode_index.riegeli')) as index:
      for datum in index.read_messages(storage_pb2.Datum):
        assert [d.size for d in datum.shape.dim][1:] == [2]
        starts.extend(datum.values.int64_values[::2])
    assert len(starts) == 50
    assert starts[0] == 0
    assert all(a < b for a, b in zip(starts, starts[1:])), starts


def test_scheduler_skips_first_timestep(tmp_path):
  # A scheduler that drops the first step of an episode leaves the Riegeli
  # writer with no episode (and so no shard) to add the next step to.
  with envlogger.EnvLogger(
    catch_env.Catch(),
    data_directory=str(tmp_path),
    scheduler=lambda data: not data.timestep.first(),
  ) as logger:
    logger.reset()
    with pytest.raises(RuntimeError, match='first step must start an episode'):
      logger.step(0)
