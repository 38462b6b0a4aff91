"""rlds_utils.to_rlds_step / zeros_like (no TensorFlow needed).

The shard recovery is tested with real TFDS in tfds_backend_writer_test.py.
"""

import collections
import os
import subprocess
import sys

import dm_env
from envlogger import step_data
from envlogger.backends import rlds_utils
import numpy as np
import pytest


def _step(timestep, action=None, custom_data=None):
  return step_data.StepData(timestep, action, custom_data)


def test_build_step():
  prev = _step(dm_env.restart(np.array([1.0, 2.0])), None, {'t': 1})
  cur = _step(dm_env.transition(0.5, np.array([3.0, 4.0]), 0.9), np.int32(2), {'t': 2})
  step = rlds_utils.to_rlds_step(prev, cur)
  assert sorted(step) == sorted(rlds_utils.RLDS_STEP_KEYS + ('t',))
  np.testing.assert_array_equal(step['observation'], [1.0, 2.0])
  assert step['action'] == 2 and isinstance(step['action'], np.int32)
  assert step['reward'] == 0.5
  assert step['discount'] == 0.9
  assert step['is_first'] and not step['is_last'] and not step['is_terminal']
  assert step['t'] == 1  # the metadata of the step holding the observation


def test_build_last_step_uses_zeros_like_the_previous_values():
  prev = _step(
    dm_env.termination(np.float32(1.0), np.array([5, 6], np.int16)),
    np.array([1.5, 2.5], np.float32),
  )
  step = rlds_utils.to_rlds_step(prev, None)
  np.testing.assert_array_equal(step['observation'], [5, 6])
  assert step['action'].dtype == np.float32
  np.testing.assert_array_equal(step['action'], [0, 0])
  assert step['reward'] == 0 and isinstance(step['reward'], np.float32)
  assert step['discount'] == 0.0 and isinstance(step['discount'], float)
  assert step['is_last'] and step['is_terminal'] and not step['is_first']


def test_build_nested_last_step():
  prev = _step(
    dm_env.transition(1.0, {'a': 1}), {'x': np.ones(3, np.int64), 'y': ('left', b'up', 7, True)}
  )
  step = rlds_utils.to_rlds_step(prev, None)
  np.testing.assert_array_equal(step['action']['x'], [0, 0, 0])
  assert step['action']['y'] == ('', b'', 0, False)


def test_text_action_last_step_is_an_empty_string():
  """Upstream #15: np.zeros_like('abc') gave a '<U3' array."""
  prev = _step(dm_env.transition(1.0, 0.0), 'go left')
  step = rlds_utils.to_rlds_step(prev, None)
  assert step['action'] == '' and isinstance(step['action'], str)
  assert rlds_utils.zeros_like(np.str_('ab')) == ''
  zeros = rlds_utils.zeros_like(np.array(['ab', 'c']))
  assert zeros.dtype == np.dtype('<U2') and list(zeros) == ['', '']
  zeros = rlds_utils.zeros_like(np.array([b'ab', 'c'], dtype=object))
  assert zeros.dtype == object and list(zeros) == [b'', '']


def test_placeholders_replace_zeros_like():
  prev = _step(dm_env.restart(0.0), None)  # a one-step episode: all None
  placeholders = {'action': np.int64(0), 'reward': np.float64(0)}
  step = rlds_utils.to_rlds_step(prev, None, placeholders)
  assert step['action'] is placeholders['action']
  assert step['reward'] is placeholders['reward']
  assert step['discount'] is None  # zeros_like(None) keeps None


def test_terminal_needs_last_and_zero_discount():
  truncated = _step(dm_env.truncation(1.0, 0.0, 0.5), 1)
  terminated = _step(dm_env.termination(1.0, 0.0), 1)
  mid = _step(dm_env.transition(1.0, 0.0, 0.0), 1)
  assert not rlds_utils.to_rlds_step(truncated, None)['is_terminal']
  assert rlds_utils.to_rlds_step(terminated, None)['is_terminal']
  assert not rlds_utils.to_rlds_step(mid, None)['is_terminal']
  array_discount = _step(dm_env.TimeStep(dm_env.StepType.LAST, 1.0, np.zeros(2), 0.0), 1)
  assert rlds_utils.to_rlds_step(array_discount, None)['is_terminal']


def test_non_dict_custom_data_is_not_merged():
  prev = _step(dm_env.restart(0.0), None, [1, 2])
  step = rlds_utils.to_rlds_step(prev, _step(dm_env.transition(1.0, 1.0), 1))
  assert sorted(step) == sorted(rlds_utils.RLDS_STEP_KEYS)


def test_zeros_like_keeps_container_types():
  point = collections.namedtuple('Point', ['x', 'y'])
  zeros = rlds_utils.zeros_like(collections.OrderedDict(p=point(1.5, 2), l=[np.int8(3)]))
  assert isinstance(zeros, collections.OrderedDict)
  assert zeros['p'] == point(0.0, 0) and isinstance(zeros['p'], point)
  assert zeros['l'] == [0] and isinstance(zeros['l'][0], np.int8)


def test_zeros_like_rejects_unknown_types():
  with pytest.raises(TypeError, match='Cannot build a zero value like object'):
    rlds_utils.zeros_like(object())


def test_importing_envlogger_and_rlds_utils_does_not_import_tensorflow():
  repo = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
  code = (
    'import sys, envlogger\n'
    'from envlogger.backends import rlds_utils\n'
    'from envlogger.backends import tfds_backend_testlib\n'
    'print(sorted(m for m in sys.modules\n'
    '             if m.split(".")[0] in ("tensorflow",\n'
    '                                    "tensorflow_datasets")))\n'
  )
  result = subprocess.run(
    [sys.executable, '-c', code],
    env=dict(os.environ, PYTHONPATH=repo),
    capture_output=True,
    text=True,
    check=True,
  )
  assert result.stdout == '[]\n'
