"""Decodes the raw records written by upstream envlogger 1.3 with our codec.

The fixtures (envlogger/testdata/upstream-1.3, see its README) hold, per
dataset, the exact record bytes upstream wrote and what upstream's Reader
decoded from them. Our codec must decode the same values (strict comparison:
exact types, dtypes, NaN == NaN, dict keys by type and value), and re-encoding
those values must give the same messages upstream wrote.
"""

import json
import os

from google.protobuf import descriptor_pb2
import pytest

from envlogger.converters import codec
from envlogger.proto import storage_pb2
from envlogger.testing import compare
from envlogger.testing import upstream_fixtures


def test_fixtures_are_present():
  assert len(upstream_fixtures.DATASETS) >= 10
  assert 'all_types' in upstream_fixtures.DATASETS and 'catch_default' in upstream_fixtures.DATASETS


@pytest.mark.parametrize('dataset', upstream_fixtures.DATASETS)
def test_steps_decode_like_upstream(dataset):
  expected = upstream_fixtures.expected(dataset)
  records = upstream_fixtures.records(dataset, 'steps')
  assert len(records) == expected['num_steps']
  decoded = [
    upstream_fixtures.as_step(codec.decode(storage_pb2.Data.FromString(b))) for _, b in records
  ]
  compare.assert_strictly_equal(decoded, expected['steps'], path='steps')


@pytest.mark.parametrize('dataset', upstream_fixtures.DATASETS)
def test_metadata_decodes_like_upstream(dataset):
  expected = upstream_fixtures.expected(dataset)
  ((_, record),) = upstream_fixtures.load_pickle(
    os.path.join(upstream_fixtures.DIRECTORY, f'{dataset}.records', 'metadata.records.pkl')
  )
  compare.assert_strictly_equal(
    codec.decode(storage_pb2.Data.FromString(record)), expected['metadata'], path='metadata'
  )


@pytest.mark.parametrize('dataset', upstream_fixtures.DATASETS)
def test_episode_metadata_decodes_like_upstream(dataset):
  expected = upstream_fixtures.expected(dataset)
  decoded = [
    codec.decode(storage_pb2.Data.FromString(b))
    for _, b in upstream_fixtures.records(dataset, 'episode_metadata')
  ]
  # One record per episode that has metadata, in episode order.
  present = [m for m in expected['episode_metadata'] if m is not None]
  compare.assert_strictly_equal(decoded, present, path='episode_metadata')


@pytest.mark.parametrize('dataset', upstream_fixtures.DATASETS)
def test_reencoding_gives_upstream_messages(dataset):
  expected = upstream_fixtures.expected(dataset)
  checked = 0
  for (_, record), step in zip(upstream_fixtures.records(dataset, 'steps'), expected['steps']):
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
  raw = os.path.join(upstream_fixtures.DIRECTORY, 'riegeli_raw')
  with open(os.path.join(raw, 'index.json')) as f:
    record_types = json.load(f)['record_types']
  records = upstream_fixtures.load_pickle(os.path.join(raw, 'records.pkl'))
  upstream = None
  for (_, record), record_type in zip(records['simple_uncompressed.riegeli'], record_types):
    if record_type == 'google.protobuf.FileDescriptorProto':
      file_proto = descriptor_pb2.FileDescriptorProto.FromString(record)
      if file_proto.package == 'envlogger':
        upstream = file_proto
  assert upstream is not None
  ours = descriptor_pb2.FileDescriptorProto()
  storage_pb2.DESCRIPTOR.CopyToProto(ours)
  assert ours == upstream
  assert ours.name == 'envlogger/proto/storage.proto'
