"""Tests of the Gymnasium space <-> dm_env spec mapping."""

from absl.testing import absltest
from dm_env import specs
from gymnasium import spaces
import numpy as np

from envlogger.converters import gym_spaces


class SpecToSpaceTest(absltest.TestCase):
  def test_discrete_array(self):
    space = gym_spaces.spec_to_space(specs.DiscreteArray(5, dtype=np.int32))
    self.assertEqual(space, spaces.Discrete(5, dtype=np.int32))

  def test_integer_scalar_bounded_array_is_discrete_with_start(self):
    space = gym_spaces.spec_to_space(specs.BoundedArray((), np.int64, -2, 4))
    self.assertEqual(space, spaces.Discrete(7, start=-2))

  def test_bounded_array_is_box(self):
    spec = specs.BoundedArray((2, 3), np.float32, -1.5, [[1, 2, 3], [4, 5, 6]])
    space = gym_spaces.spec_to_space(spec)
    self.assertEqual(
      space,
      spaces.Box(np.full((2, 3), -1.5, np.float32), np.array([[1, 2, 3], [4, 5, 6]], np.float32)),
    )

  def test_unbounded_arrays(self):
    floats = gym_spaces.spec_to_space(specs.Array((4,), np.float64))
    self.assertEqual(floats, spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float64))
    ints = gym_spaces.spec_to_space(specs.Array((2,), np.int16))
    self.assertEqual(ints, spaces.Box(-32768, 32767, shape=(2,), dtype=np.int16))

  def test_nested(self):
    spec = {
      'x': (specs.DiscreteArray(2), specs.Array((), np.float32)),
      'y': [specs.BoundedArray((3,), np.uint8, 0, 255)],
    }
    space = gym_spaces.spec_to_space(spec)
    self.assertEqual(
      space,
      spaces.Dict(
        {
          'x': spaces.Tuple(
            (
              spaces.Discrete(2, dtype=np.int32),  # DiscreteArray's default.
              spaces.Box(-np.inf, np.inf, shape=(), dtype=np.float32),
            )
          ),
          'y': spaces.Tuple((spaces.Box(0, 255, shape=(3,), dtype=np.uint8),)),
        }
      ),
    )

  def test_round_trip_of_box_discrete_dict_tuple(self):
    space = spaces.Dict(
      {
        'image': spaces.Box(0, 255, shape=(4, 4, 3), dtype=np.uint8),
        'pair': spaces.Tuple((spaces.Discrete(3), spaces.Discrete(4, start=1))),
      }
    )
    self.assertEqual(gym_spaces.spec_to_space(gym_spaces.space_to_spec(space)), space)

  def test_not_a_spec_names_the_path(self):
    with self.assertRaisesRegex(TypeError, r"observation_spec\['a'\]\[1\] is not a dm_env spec"):
      gym_spaces.spec_to_space({'a': (specs.DiscreteArray(2), 'text')}, 'observation_spec')


if __name__ == '__main__':
  absltest.main()
