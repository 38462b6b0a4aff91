"""RecordsMetadata, the file metadata message, and the record type stored in it.

The class is built at runtime in a private descriptor pool so that it does
not clash with the real `riegeli` package if both are loaded.
"""

from __future__ import annotations

from typing import Any, Optional, Type

from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import message as message_lib
from google.protobuf import message_factory


def _build_records_metadata_class() -> Type[message_lib.Message]:
  pool = descriptor_pool.DescriptorPool()
  pool.AddSerializedFile(descriptor_pb2.DESCRIPTOR.serialized_pb)
  file_proto = descriptor_pb2.FileDescriptorProto(
    name='riegeli/records/records_metadata.proto',
    package='riegeli',
    syntax='proto2',
    dependency=['google/protobuf/descriptor.proto'],
  )
  message = file_proto.message_type.add(name='RecordsMetadata')
  field_type = descriptor_pb2.FieldDescriptorProto
  for number, name, kind, label, type_name in (
    (1, 'file_comment', field_type.TYPE_STRING, field_type.LABEL_OPTIONAL, None),
    (2, 'record_type_name', field_type.TYPE_STRING, field_type.LABEL_OPTIONAL, None),
    (
      3,
      'file_descriptor',
      field_type.TYPE_MESSAGE,
      field_type.LABEL_REPEATED,
      '.google.protobuf.FileDescriptorProto',
    ),
    (4, 'record_writer_options', field_type.TYPE_STRING, field_type.LABEL_OPTIONAL, None),
    (5, 'num_records', field_type.TYPE_INT64, field_type.LABEL_OPTIONAL, None),
  ):
    field = message.field.add(name=name, number=number, type=kind, label=label)
    if type_name:
      field.type_name = type_name
  message.extension_range.add(start=1000, end=536870912)
  pool.Add(file_proto)
  return message_factory.GetMessageClass(pool.FindMessageTypeByName('riegeli.RecordsMetadata'))


RecordsMetadata = _build_records_metadata_class()


def set_record_type(metadata: message_lib.Message, message_type: Type[message_lib.Message]) -> None:
  """Stores the record type's name and its .proto files (dependencies first)."""
  metadata.record_type_name = message_type.DESCRIPTOR.full_name
  del metadata.file_descriptor[:]
  seen = set()

  def add(file_descriptor: Any) -> None:
    if file_descriptor.name in seen:
      return
    seen.add(file_descriptor.name)
    for dependency in file_descriptor.dependencies:
      add(dependency)
    file_descriptor.CopyToProto(metadata.file_descriptor.add())

  add(message_type.DESCRIPTOR.file)


def get_record_type(metadata: message_lib.Message) -> Optional[Type[message_lib.Message]]:
  """Rebuilds the record type stored by set_record_type(), or None."""
  if not metadata.record_type_name:
    return None
  pool = descriptor_pool.DescriptorPool()
  for file_proto in metadata.file_descriptor:
    pool.Add(file_proto)
  return message_factory.GetMessageClass(pool.FindMessageTypeByName(metadata.record_type_name))
