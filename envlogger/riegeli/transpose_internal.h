// Constants shared by the transposed-chunk encoder and decoder
// (docs/format.md, "Transposed chunks").
//
// A state's `tag` value in the chunk header is either a reserved id below 8
// (NoOp, NonProto, StartOfSubmessage, StartOfMessage) or a proto field tag.
// A tag with the impossible wire type 6 marks the end of a submessage whose
// field tag is `tag - 4` (wire type 2). Varint fields carry a one-byte
// subtype: 0..9 means "value of subtype+1 bytes in the buffer", 10..137 an
// inline value subtype-10.

#ifndef ENVLOGGER_RIEGELI_TRANSPOSE_INTERNAL_H_
#define ENVLOGGER_RIEGELI_TRANSPOSE_INTERNAL_H_

#include <cstdint>

namespace envlogger {
namespace riegeli {
namespace transpose_internal {

// Reserved message / state ids. kRoot is the parent of top-level fields and
// never appears in a chunk.
constexpr uint32_t kNoOp = 0;
constexpr uint32_t kNonProto = 1;
constexpr uint32_t kStartOfSubmessage = 2;
constexpr uint32_t kStartOfMessage = 3;
constexpr uint32_t kRoot = 4;

// Proto wire types, plus the pseudo wire type of end-of-submessage states.
constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireFixed64 = 1;
constexpr uint32_t kWireLengthDelimited = 2;
constexpr uint32_t kWireStartGroup = 3;
constexpr uint32_t kWireEndGroup = 4;
constexpr uint32_t kWireFixed32 = 5;
constexpr uint32_t kWireSubmessageEnd = 6;

inline uint32_t WireTypeOf(uint32_t tag) { return tag & 7; }
inline uint32_t FieldNumberOf(uint32_t tag) { return tag >> 3; }

// Varint subtypes.
constexpr uint8_t kVarint1 = 0;            // value of 1 byte in the buffer
constexpr uint8_t kVarintMaxBuffered = 9;  // value of 10 bytes
constexpr uint8_t kVarintInline0 = 10;     // inline value 0
constexpr uint8_t kVarintInlineMax = kVarintInline0 + 0x7f;
// Inline values the encoder produces (0..kMaxVarintInline).
constexpr uint8_t kMaxVarintInline = 3;

// Length-delimited subtypes (encoder side only; not stored in the header).
constexpr uint8_t kTrivial = 0;
constexpr uint8_t kString = 0;
constexpr uint8_t kStartOfSubmessageSubtype = 1;
constexpr uint8_t kEndOfSubmessageSubtype = 2;

// Transition bytes are offset << 2 | repeat.
constexpr uint32_t kMaxTransition = 63;
// Minimum count of a transition for it to get a private-list entry.
constexpr uint32_t kMinCountForState = 10;
// Submessages nested deeper than this are stored as strings.
constexpr int kMaxRecursionDepth = 100;

}  // namespace transpose_internal
}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_TRANSPOSE_INTERNAL_H_
