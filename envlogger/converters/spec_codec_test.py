"""Tests of envlogger.converters.spec_codec."""

import os
import pickle
import types

from dm_env import specs
import numpy as np
import pytest

from envlogger.converters import codec
from envlogger.converters import spec_codec
from envlogger.testing import catch_env
from envlogger.testing import compare

_FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'testdata', 'upstream-1.3')


@pytest.mark.parametrize('value', [1, 2.5, object(), lambda: None, types, 'str', None])
def test_encode_unsupported(value):
  with pytest.raises(TypeError, match='specs.Array'):
    spec_codec.encode(value)


@pytest.mark.parametrize('value', [1, 2.5, object(), lambda: None, 'x'])
def test_decode_unsupported(value):
  with pytest.raises(TypeError):
    spec_codec.decode(value)


def test_encode_array():
  compare.assert_strictly_equal(
    spec_codec.encode(specs.Array((1, 2), np.float32, 'obs')),
    {'shape': np.array([1, 2], np.int64), 'dtype': 'float32', 'name': 'obs'},
  )


def test_encode_bounded_array():
  spec = specs.BoundedArray((), np.int32, minimum=-1, maximum=3, name='b')
  compare.assert_strictly_equal(
    spec_codec.encode(spec),
    {
      'shape': np.array([], np.int64),
      'dtype': 'int32',
      'name': 'b',
      'minimum': np.array(-1, np.int32),
      'maximum': np.array(3, np.int32),
    },
  )


def test_encode_discrete_array():
  spec = specs.DiscreteArray(num_values=4, dtype=np.int64, name='a')
  compare.assert_strictly_equal(
    spec_codec.encode(spec),
    {
      'shape': np.array([], np.int64),
      'dtype': 'int64',
      'name': 'a',
      'minimum': np.array(0, np.int64),
      'maximum': np.array(3, np.int64),
      'num_values': 4,
    },
  )


def test_encode_nested():
  spec = specs.Array((), np.float64, 'x')
  encoded = spec_codec.encode({'a': [spec, (spec,)]})
  leaf = {'shape': np.array([], np.int64), 'dtype': 'float64', 'name': 'x'}
  compare.assert_strictly_equal(encoded, {'a': [leaf, (leaf,)]})


@pytest.mark.parametrize(
  'spec',
  [
    specs.Array((3,), np.float32, 'a'),
    specs.Array((), np.uint8),
    specs.BoundedArray((2, 2), np.float64, minimum=[[0, 1], [2, 3]], maximum=9.0, name='bounded'),
    specs.BoundedArray((), np.int16, minimum=-3, maximum=3, name='s'),
    specs.DiscreteArray(num_values=5, dtype=np.int32, name='d'),
    [specs.Array((1,), np.int8, 'l0'), specs.Array((2,), np.int8, 'l1')],
    (specs.Array((1,), np.bool_, 't'),),
    {'obs': {'pos': specs.Array((2,), np.float32, 'pos'), 'id': specs.DiscreteArray(3, name='id')}},
  ],
)
def test_round_trip_through_codec(spec):
  # As stored on disk: encoded specs go through the value codec.
  decoded = spec_codec.decode(codec.decode(codec.encode(spec_codec.encode(spec))))
  compare.assert_strictly_equal(decoded, spec)


def test_string_array_spec_comes_back_as_object_array():
  spec = specs.StringArray((2,), name='text')
  decoded = spec_codec.decode(codec.decode(codec.encode(spec_codec.encode(spec))))
  compare.assert_strictly_equal(decoded, specs.Array((2,), np.dtype(object), 'text'))


def test_decode_missing_shape_is_scalar():
  compare.assert_strictly_equal(
    spec_codec.decode({'shape': None, 'dtype': 'float64', 'name': 'r'}),
    specs.Array((), np.float64, 'r'),
  )


def test_environment_specs_roundtrip():
  env = catch_env.Catch()
  encoded = spec_codec.encode_environment_specs(env)
  decoded = spec_codec.decode_environment_specs(codec.decode(codec.encode(encoded)))
  compare.assert_strictly_equal(
    decoded,
    {
      'observation_spec': env.observation_spec(),
      'action_spec': env.action_spec(),
      'reward_spec': env.reward_spec(),
      'discount_spec': env.discount_spec(),
    },
  )


def test_environment_specs_roundtrip_no_env():
  assert spec_codec.encode_environment_specs(None) == {}
  assert spec_codec.decode_environment_specs({}) == {
    'observation_spec': None,
    'action_spec': None,
    'reward_spec': None,
    'discount_spec': None,
  }
  assert spec_codec.decode_environment_specs(None)['action_spec'] is None


def test_catch_specs_encode_like_upstream():
  with open(os.path.join(_FIXTURES, 'catch_default.expected.pkl'), 'rb') as f:
    expected = pickle.load(f)
  encoded = codec.decode(codec.encode(spec_codec.encode_environment_specs(catch_env.Catch())))
  compare.assert_strictly_equal(encoded, expected['metadata']['environment_specs'])


@pytest.mark.parametrize('dataset', ['catch_default', 'all_types', 'empty'])
def test_decode_upstream_specs(dataset):
  with open(os.path.join(_FIXTURES, f'{dataset}.expected.pkl'), 'rb') as f:
    expected = pickle.load(f)
  decoded = spec_codec.decode_environment_specs(expected['metadata'].get('environment_specs'))
  compare.assert_strictly_equal(
    tuple(decoded[k] for k in ('observation_spec', 'action_spec', 'reward_spec', 'discount_spec')),
    expected['specs'],
  )
