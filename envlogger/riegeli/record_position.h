// The position of a record in a Riegeli/records file
// (docs/format.md, "Chunks": numeric positions).
//
// A record is identified by the chunk that holds it and its index in that
// chunk. Because every chunk spans at least as many bytes as it has records,
// chunk_begin + record_index ("numeric position") is unique within a file and
// lies between 0 and the file size. Several positions may denote the same
// place between records: (C, num_records_of_C) and (next chunk, 0) both lead
// to the record after the last one of C.

#ifndef ENVLOGGER_RIEGELI_RECORD_POSITION_H_
#define ENVLOGGER_RIEGELI_RECORD_POSITION_H_

#include <cstdint>
#include <string>
#include <tuple>

namespace envlogger {
namespace riegeli {

struct RecordPosition {
  uint64_t chunk_begin = 0;
  uint64_t record_index = 0;

  uint64_t numeric() const { return chunk_begin + record_index; }

  // "<chunk_begin>/<record_index>", as Riegeli prints positions.
  std::string ToString() const {
    return std::to_string(chunk_begin) + "/" + std::to_string(record_index);
  }

  // Lexicographic by (chunk_begin, record_index).
  friend bool operator==(const RecordPosition& a, const RecordPosition& b) {
    return a.chunk_begin == b.chunk_begin && a.record_index == b.record_index;
  }
  friend bool operator!=(const RecordPosition& a, const RecordPosition& b) { return !(a == b); }
  friend bool operator<(const RecordPosition& a, const RecordPosition& b) {
    return std::tie(a.chunk_begin, a.record_index) < std::tie(b.chunk_begin, b.record_index);
  }
  friend bool operator>(const RecordPosition& a, const RecordPosition& b) { return b < a; }
  friend bool operator<=(const RecordPosition& a, const RecordPosition& b) { return !(b < a); }
  friend bool operator>=(const RecordPosition& a, const RecordPosition& b) { return !(a < b); }
};

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_RECORD_POSITION_H_
