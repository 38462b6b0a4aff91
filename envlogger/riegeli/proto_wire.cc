#include "envlogger/riegeli/proto_wire.h"

#include <vector>

#include "envlogger/riegeli/transpose_internal.h"

namespace envlogger {
namespace riegeli {

bool IsCanonicalProtoMessage(std::string_view message) {
  using namespace transpose_internal;
  // Field numbers of the open groups, innermost last. Kept small: most
  // messages have no groups, so the vector never allocates.
  std::vector<uint32_t> open_groups;
  size_t pos = 0;
  while (pos < message.size()) {
    uint32_t tag;
    if (ReadCanonicalVarint32(message, &pos, &tag) == 0) return false;
    const uint32_t field_number = FieldNumberOf(tag);
    if (field_number == 0) return false;
    switch (WireTypeOf(tag)) {
      case kWireVarint: {
        uint64_t value;
        if (ReadCanonicalVarint64(message, &pos, &value) == 0) return false;
        break;
      }
      case kWireFixed32:
        if (message.size() - pos < 4) return false;
        pos += 4;
        break;
      case kWireFixed64:
        if (message.size() - pos < 8) return false;
        pos += 8;
        break;
      case kWireLengthDelimited: {
        uint32_t length;
        if (ReadCanonicalVarint32(message, &pos, &length) == 0) return false;
        if (message.size() - pos < length) return false;
        pos += length;
        break;
      }
      case kWireStartGroup:
        open_groups.push_back(field_number);
        break;
      case kWireEndGroup:
        if (open_groups.empty() || open_groups.back() != field_number) return false;
        open_groups.pop_back();
        break;
      default:
        return false;
    }
  }
  return open_groups.empty();
}

}  // namespace riegeli
}  // namespace envlogger
