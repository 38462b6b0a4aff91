"""Tests of envlogger._native.shard_recovery (the C++ episode-boundary rule)."""

from absl.testing import absltest
import numpy as np

from envlogger import _native
from envlogger.converters import codec

_rule = _native.shard_recovery


def _step(step_type):
  """A step record as the logger writes it: (timestep, action, custom_data)."""
  return codec.encode(((step_type, 0.5, 1.0, np.zeros(2, np.float32)), 1, None)).SerializeToString()


class ShardRecoveryTest(absltest.TestCase):
  def test_constants_are_dm_env_step_types(self):
    self.assertEqual((_rule.FIRST, _rule.MID, _rule.LAST), (0, 1, 2))

  def test_step_type_of_envlogger_steps(self):
    self.assertEqual(_rule.step_type_of(_step(0)), 0)
    self.assertEqual(_rule.step_type_of(_step(np.int32(1))), 1)
    self.assertEqual(_rule.step_type_of(_step(np.int64(2))), 2)
    self.assertIsNone(_rule.step_type_of(_step(3)))
    self.assertIsNone(_rule.step_type_of(b''))
    self.assertIsNone(_rule.step_type_of(b'not a step'))
    self.assertIsNone(_rule.step_type_of(codec.encode(7).SerializeToString()))

  def test_episode_starts(self):
    # 0: FIRST; 3: after LAST; 5: after damage; 7: known; 8: FIRST.
    types = [0, 1, 2, 1, 1, 1, None, 1, 0, None, 2]
    self.assertEqual(_rule.episode_starts(types, [5], [7]), [0, 3, 5, 7, 8])
    self.assertEqual(_rule.episode_starts(types), [0, 3, 8])
    self.assertEqual(_rule.episode_starts([]), [])
    self.assertEqual(_rule.episode_starts([2, None, 1]), [1])

  def test_bad_arguments_raise_value_error_naming_them(self):
    with self.assertRaisesRegex(ValueError, 'step type 5 of step 1'):
      _rule.episode_starts([0, 5])
    with self.assertRaisesRegex(ValueError, 'damage_before index 2 is outside the 2 steps'):
      _rule.episode_starts([0, 1], [2])
    with self.assertRaisesRegex(ValueError, 'known_starts index -1'):
      _rule.episode_starts([0, 1], [], [-1])


if __name__ == '__main__':
  absltest.main()
