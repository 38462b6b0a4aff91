"""Protocol buffers of envlogger's on-disk format (`storage_pb2`)."""
