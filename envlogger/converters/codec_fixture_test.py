"""Decodes the raw records written by upstream envlogger 1.3 with our codec.

The fixtures (envlogger/testdata/upstream-1.3, see its README) hold, per
dataset, the exact record bytes upstream wrote and what upstream's Reader
decoded from them. Our codec must decode the same values (strict comparison:
exact types, dtypes, NaN == NaN, dict keys by type and value), and re-encoding
those values must give the same messages upstream wrote.
"""

import glob
import json
import os
import pickle

import dm_env
from google.protobuf import descriptor_pb2
import pytest

from envlogger.converters import codec
from envlogger.proto import storage_pb2
from envlogger.testing import compare

_FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                         'testdata', 'upstream-1.3')
_DATASETS = sorted(
    os.path.basename(p)[:-len('.expected.pkl')]
    for p in glob.glob(os.path.join(_FIXTURES, '*.expected.pkl')))


def _load(path):
  with open(path, 'rb') as f:
    return pickle.load(f)


def _records(dataset: str, file_name: str):
  """All (position, bytes) of `file_name` over the shards, in shard order."""
  records = []
  for path in sorted(glob.glob(os.path.join(
      _FIXTURES, f'{dataset}.records', '*', f'{file_name}.records.pkl'))):
    records.extend(_load(path))
  return records


def _as_step(value):
  """Upstream Reader's StepData, as the fixtures' plain 3-tuple."""
  timestep, action, custom_data = value
  step_type, reward, discount, observation = timestep
  return (dm_env.TimeStep(dm_env.StepType(step_type), reward, discount,
                          observation), action, custom_data)


def test_fixtures_are_present():
  assert len(_DATASETS) >= 10
  assert 'all_types' in _DATASETS and 'catch_default' in _DATASETS


@pytest.mark.parametrize('dataset', _DATASETS)
def test_steps_decode_like_upstream(dataset):
  expected = _load(os.path.join(_FIXTURES, f'{dataset}.expected.pkl'))
  records = _records(dataset, 'steps')
  assert len(records) == expected['num_steps']
  decoded = [_as_step(codec.decode(storage_pb2.Data.FromString(b)))
             for _, b in records]
  compare.assert_strictly_equal(decoded, expected['steps'], path='steps')


@pytest.mark.parametrize('dataset', _DATASETS)
def test_metadata_decodes_like_upstream(dataset):
  expected = _load(os.path.join(_FIXTURES, f'{dataset}.expected.pkl'))
  (_, record), = _load(os.path.join(_FIXTURES, f'{dataset}.records',
                                    'metadata.records.pkl'))
  compare.assert_strictly_equal(
      codec.decode(storage_pb2.Data.FromString(record)), expected['metadata'],
      path='metadata')


@pytest.mark.parametrize('dataset', _DATASETS)
def test_episode_metadata_decodes_like_upstream(dataset):
  expected = _load(os.path.join(_FIXTURES, f'{dataset}.expected.pkl'))
  decoded = [codec.decode(storage_pb2.Data.FromString(b))
             for _, b in _records(dataset, 'episode_metadata')]
  # One record per episode that has metadata, in episode order.
  present = [m for m in expected['episode_metadata'] if m is not None]
  compare.assert_strictly_equal(decoded, present, path='episode_metadata')


@pytest.mark.parametrize('dataset', _DATASETS)
def test_reencoding_gives_upstream_messages(dataset):
  expected = _load(os.path.join(_FIXTURES, f'{dataset}.expected.pkl'))
  checked = 0
  for (_, record), step in zip(_records(dataset, 'steps'), expected['steps']):
    try:
      encoded = codec.encode(step)
    except TypeError:
      # Decoded str/bytes arrays have dtype object, which cannot be encoded.
      assert dataset == 'all_types'
      continue
    # Message equality ignores map entry order (C++ serialization order).
    assert encoded == storage_pb2.Data.FromString(record)
    checked += 1
  if dataset.startswith('catch') or dataset in ('images', 'multishard'):
    assert checked == expected['num_steps']


def test_descriptor_matches_upstream_storage_proto():
  raw = os.path.join(_FIXTURES, 'riegeli_raw')
  with open(os.path.join(raw, 'index.json')) as f:
    record_types = json.load(f)['record_types']
  records = _load(os.path.join(raw, 'records.pkl'))
  upstream = None
  for (_, record), record_type in zip(
      records['simple_uncompressed.riegeli'], record_types):
    if record_type == 'google.protobuf.FileDescriptorProto':
      file_proto = descriptor_pb2.FileDescriptorProto.FromString(record)
      if file_proto.package == 'envlogger':
        upstream = file_proto
  assert upstream is not None
  ours = descriptor_pb2.FileDescriptorProto()
  storage_pb2.DESCRIPTOR.CopyToProto(ours)
  assert ours == upstream
  assert ours.name == 'envlogger/proto/storage.proto'
