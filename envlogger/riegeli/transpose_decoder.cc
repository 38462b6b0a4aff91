// Transposed chunk decoding (docs/format.md, "Transposed chunks").
//
// The chunk is parsed into a state machine whose states each know their
// action (which bytes to prepend) and their successor base; then the machine
// runs over the transition bytes, producing the records back to front into
// an output buffer that is filled from its end.
//
// Against hostile chunks: every count read from the header is checked against
// the bytes that could hold it before anything is allocated; the output never
// exceeds the declared decoded size; implicit-only cycles are rejected and
// implicit NoOp chains skipped, so the work per transition byte is bounded by
// the bytes and records it produces; open submessages are capped by the room
// left to close them.

#include "envlogger/riegeli/transpose_decoder.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/compression.h"
#include "envlogger/riegeli/transpose_internal.h"

namespace envlogger {
namespace riegeli {
namespace {

using namespace transpose_internal;

Status Invalid(const std::string& message) {
  return InvalidArgumentError("Invalid transposed chunk: " + message);
}

// What a state does when the machine enters it.
enum class Action : uint8_t {
  kNoOp,
  kNonProto,
  kStartOfMessage,
  kStartOfSubmessage,
  kEndOfSubmessage,
  kVarintBuffered,  // T ‖ value bytes from the buffer (continuation bits restored)
  kCopyTag,         // T (groups), or T ‖ inline varint byte
  kFixed,           // T ‖ value_size bytes from the buffer
  kString,          // T ‖ varint length ‖ payload, from the buffer
};

struct State {
  Action action = Action::kNoOp;
  bool implicit = false;
  uint8_t tag_size = 0;    // bytes used in tag_bytes
  uint8_t value_size = 0;  // kVarintBuffered: 1..10; kFixed: 4 or 8
  char tag_bytes[kMaxLengthVarint32 + 1] = {};
  uint32_t buffer = 0;  // index into the buffers, for states that read one
  uint32_t base = 0;
};

// A column of the chunk, read front to back.
struct Buffer {
  const char* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  size_t available() const { return size - pos; }
};

// Reads the varints of the decompressed header, reporting positions in it.
class HeaderReader {
 public:
  explicit HeaderReader(std::string_view header) : header_(header), rest_(header) {}

  Status Varint32(const char* what, uint32_t* value) {
    if (!ReadVarint32(&rest_, value)) return Error(what);
    return OkStatus();
  }
  Status Varint64(const char* what, uint64_t* value) {
    if (!ReadVarint64(&rest_, value)) return Error(what);
    return OkStatus();
  }
  Status Byte(const char* what, uint8_t* value) {
    if (rest_.empty()) return Error(what);
    *value = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return OkStatus();
  }
  size_t remaining() const { return rest_.size(); }
  size_t position() const { return header_.size() - rest_.size(); }

 private:
  Status Error(const char* what) const {
    return Invalid(std::string("reading ") + what + " failed at header byte " +
                   std::to_string(position()));
  }

  std::string_view header_;
  std::string_view rest_;
};

// Sets `*out` to the decompressed contents of `block`. For kNone `*out` views
// `block` itself; otherwise the bytes are stored in `*storage`.
Status Decompress(CompressionType type, std::string_view block, const std::string& what,
                  std::string* storage, std::string_view* out) {
  if (type == CompressionType::kNone) {
    *out = block;
    return OkStatus();
  }
  storage->clear();
  Status status = DecompressBlock(type, block, storage);
  if (!status.ok()) return status.WithContext("Invalid transposed chunk: decompressing " + what);
  *out = *storage;
  return OkStatus();
}

// The records under construction, written back to front. Bytes occupy
// [cursor_, buffer_.size()); the buffer grows geometrically but never beyond
// `limit` (the declared decoded size), so hostile data cannot make it allocate
// more than the caller agreed to.
class BackwardOutput {
 public:
  BackwardOutput(uint64_t limit, uint64_t initial_capacity) : limit_(limit) {
    buffer_.resize(static_cast<size_t>(std::min(limit, initial_capacity)));
    cursor_ = buffer_.size();
  }

  // Bytes produced so far.
  uint64_t size() const { return buffer_.size() - cursor_; }

  // Makes room for `n` more bytes in front and returns where they go, or
  // nullptr if the output would exceed the limit (see LimitError()).
  char* Prepend(size_t n) {
    if (n > cursor_ && !Grow(n)) return nullptr;
    cursor_ -= n;
    return &buffer_[cursor_];
  }

  Status LimitError() const {
    return Invalid("decoded data exceeds the declared decoded_data_size " + std::to_string(limit_));
  }

  // The output, once it fills the whole buffer.
  std::string Release() { return std::move(buffer_); }

 private:
  bool Grow(size_t n) {
    const uint64_t needed = size() + n;
    if (needed > limit_) return false;
    const uint64_t capacity =
        std::min<uint64_t>(limit_, std::max<uint64_t>(needed, 2 * buffer_.size()));
    std::string bigger(static_cast<size_t>(capacity), '\0');
    const size_t old_size = static_cast<size_t>(size());
    std::memcpy(&bigger[bigger.size() - old_size], buffer_.data() + cursor_, old_size);
    cursor_ = bigger.size() - old_size;
    buffer_ = std::move(bigger);
    return true;
  }

  uint64_t limit_;
  std::string buffer_;
  size_t cursor_ = 0;
};

// Fills `state` from the header's tag value `tag`; `subtypes` and
// `buffer_indices` are filled afterwards. Returns false for an invalid tag.
bool ClassifyTag(uint32_t tag, State* state) {
  switch (tag) {
    case kNoOp:
      state->action = Action::kNoOp;
      return true;
    case kNonProto:
      state->action = Action::kNonProto;
      return true;
    case kStartOfSubmessage:
      state->action = Action::kStartOfSubmessage;
      return true;
    case kStartOfMessage:
      state->action = Action::kStartOfMessage;
      return true;
    default:
      break;
  }
  uint32_t field_tag = tag;
  if (WireTypeOf(tag) == kWireSubmessageEnd) {
    field_tag = tag - kWireSubmessageEnd + kWireLengthDelimited;
    state->action = Action::kEndOfSubmessage;
  }
  if (field_tag < 8 || WireTypeOf(field_tag) > kWireFixed32) return false;
  state->tag_size = static_cast<uint8_t>(EncodeVarint64(field_tag, state->tag_bytes));
  if (state->action == Action::kEndOfSubmessage) return true;
  switch (WireTypeOf(field_tag)) {
    case kWireVarint:
      state->action = Action::kVarintBuffered;  // Refined by the subtype.
      break;
    case kWireFixed32:
      state->action = Action::kFixed;
      state->value_size = 4;
      break;
    case kWireFixed64:
      state->action = Action::kFixed;
      state->value_size = 8;
      break;
    case kWireLengthDelimited:
      state->action = Action::kString;
      break;
    default:  // Start or end of a group.
      state->action = Action::kCopyTag;
      break;
  }
  return true;
}

bool NeedsBuffer(Action action) {
  return action == Action::kNonProto || action == Action::kVarintBuffered ||
         action == Action::kFixed || action == Action::kString;
}

// Rejects a machine in which some chain of implicit states returns to itself:
// running it would never need a transition byte, hence never end.
Status CheckNoImplicitLoop(const std::vector<State>& states) {
  // 0 = not visited, 1 = on the chain being followed, 2 = known to end.
  std::vector<uint8_t> mark(states.size(), 0);
  for (size_t start = 0; start < states.size(); ++start) {
    size_t i = start;
    while (mark[i] == 0 && states[i].implicit) {
      mark[i] = 1;
      i = states[i].base;
    }
    if (mark[i] == 1) return Invalid("implicit loop through state " + std::to_string(i));
    for (size_t j = start; mark[j] == 1; j = states[j].base) mark[j] = 2;
    mark[i] = 2;
  }
  return OkStatus();
}

// For each state, the state the machine actually acts in after entering it:
// itself, or the end of the chain of implicit NoOp states starting there
// (entering such a state does nothing and consumes no transition byte).
// Skipping these chains keeps decoding time proportional to the work done.
std::vector<uint32_t> ResolveImplicitNoOps(const std::vector<State>& states) {
  constexpr uint32_t kUnknown = UINT32_MAX;
  std::vector<uint32_t> resolved(states.size(), kUnknown);
  std::vector<uint32_t> chain;
  for (uint32_t start = 0; start < states.size(); ++start) {
    uint32_t i = start;
    chain.clear();
    while (resolved[i] == kUnknown && states[i].implicit && states[i].action == Action::kNoOp) {
      chain.push_back(i);
      i = states[i].base;
    }
    const uint32_t target = resolved[i] == kUnknown ? i : resolved[i];
    resolved[i] = target;
    for (uint32_t j : chain) resolved[j] = target;
  }
  return resolved;
}

struct Machine {
  std::vector<State> states;
  std::vector<uint32_t> resolved;  // see ResolveImplicitNoOps()
  std::vector<Buffer> buffers;
  uint32_t first_state = 0;
  // Index of the non-proto lengths buffer, if any state is NonProto.
  bool has_nonproto = false;
  uint32_t nonproto_lengths = 0;
  std::string_view transitions;
  uint64_t total_buffer_size = 0;
  // Decompressed buckets and transitions (compressed chunks only); the
  // buffers and `transitions` point into them or into the chunk data.
  std::vector<std::string> storage;
};

Status Parse(std::string_view data, Machine* m) {
  if (data.empty()) return Invalid("missing compression type");
  const uint8_t compression_byte = static_cast<uint8_t>(data[0]);
  if (!IsValidCompressionType(compression_byte)) {
    return Invalid("unknown compression type " + std::to_string(compression_byte));
  }
  const auto type = static_cast<CompressionType>(compression_byte);
  std::string_view rest = data.substr(1);
  uint64_t header_len;
  if (!ReadVarint64(&rest, &header_len)) return Invalid("reading header length failed");
  if (header_len > rest.size()) {
    return Invalid("header length " + std::to_string(header_len) + " exceeds the " +
                   std::to_string(rest.size()) + " remaining bytes");
  }
  std::string header_storage;
  std::string_view header;
  RETURN_IF_ERROR(Decompress(type, rest.substr(0, header_len), "header", &header_storage, &header));
  rest.remove_prefix(header_len);
  HeaderReader reader(header);

  uint32_t num_buckets = 0, num_buffers = 0;
  RETURN_IF_ERROR(reader.Varint32("number of buckets", &num_buckets));
  RETURN_IF_ERROR(reader.Varint32("number of buffers", &num_buffers));
  // Each length takes at least one header byte: bound allocations by that.
  if (uint64_t{num_buckets} + num_buffers > reader.remaining()) {
    return Invalid("header too short for " + std::to_string(num_buckets) + " buckets and " +
                   std::to_string(num_buffers) + " buffers");
  }
  if (num_buckets == 0 && num_buffers != 0) return Invalid("buffers without buckets");
  std::vector<uint64_t> bucket_lens(num_buckets);
  for (uint64_t& len : bucket_lens) RETURN_IF_ERROR(reader.Varint64("bucket length", &len));
  std::vector<uint64_t> buffer_lens(num_buffers);
  for (uint64_t& len : buffer_lens) RETURN_IF_ERROR(reader.Varint64("buffer length", &len));

  uint32_t num_states = 0;
  RETURN_IF_ERROR(reader.Varint32("number of states", &num_states));
  if (num_states == 0) return Invalid("no states");
  if (uint64_t{num_states} * 2 > reader.remaining()) {
    return Invalid("header too short for " + std::to_string(num_states) + " states");
  }
  m->states.assign(num_states, State());
  for (uint32_t i = 0; i < num_states; ++i) {
    uint32_t tag = 0;
    RETURN_IF_ERROR(reader.Varint32("state tag", &tag));
    if (!ClassifyTag(tag, &m->states[i])) {
      return Invalid("invalid tag " + std::to_string(tag) + " of state " + std::to_string(i));
    }
  }
  for (uint32_t i = 0; i < num_states; ++i) {
    uint32_t next = 0;
    RETURN_IF_ERROR(reader.Varint32("state base", &next));
    State& state = m->states[i];
    if (next >= num_states) {
      state.implicit = true;
      next -= num_states;
      if (next >= num_states) {
        return Invalid("base " + std::to_string(next) + " of implicit state " + std::to_string(i) +
                       " out of range (" + std::to_string(num_states) + " states)");
      }
    }
    state.base = next;
  }
  for (uint32_t i = 0; i < num_states; ++i) {
    State& state = m->states[i];
    if (state.action != Action::kVarintBuffered) continue;
    uint8_t subtype = 0;
    RETURN_IF_ERROR(reader.Byte("varint subtype", &subtype));
    if (subtype <= kVarintMaxBuffered) {
      state.value_size = static_cast<uint8_t>(subtype - kVarint1 + 1);
    } else if (subtype <= kVarintInlineMax) {
      state.action = Action::kCopyTag;
      state.tag_bytes[state.tag_size++] = static_cast<char>(subtype - kVarintInline0);
    } else {
      return Invalid("invalid varint subtype " + std::to_string(subtype) + " of state " +
                     std::to_string(i));
    }
  }
  for (uint32_t i = 0; i < num_states; ++i) {
    State& state = m->states[i];
    if (state.action == Action::kNonProto) m->has_nonproto = true;
    if (!NeedsBuffer(state.action)) continue;
    RETURN_IF_ERROR(reader.Varint32("buffer index", &state.buffer));
    if (state.buffer >= num_buffers) {
      return Invalid("buffer index " + std::to_string(state.buffer) + " of state " +
                     std::to_string(i) + " out of range (" + std::to_string(num_buffers) +
                     " buffers)");
    }
  }
  RETURN_IF_ERROR(reader.Varint32("first state", &m->first_state));
  if (m->first_state >= num_states) {
    return Invalid("first state " + std::to_string(m->first_state) + " out of range (" +
                   std::to_string(num_states) + " states)");
  }
  if (reader.remaining() != 0) {
    return Invalid(std::to_string(reader.remaining()) +
                   " unexpected bytes at the end of the header");
  }
  if (m->has_nonproto) {
    if (num_buffers == 0) return Invalid("non-proto records without a lengths buffer");
    m->nonproto_lengths = num_buffers - 1;
  }
  RETURN_IF_ERROR(CheckNoImplicitLoop(m->states));
  m->resolved = ResolveImplicitNoOps(m->states);

  // Buckets, cut into buffers.
  m->storage.resize(num_buckets + 1);
  m->buffers.resize(num_buffers);
  if (num_buckets > 0) {
    uint32_t bucket = 0;
    std::string_view contents;
    size_t used = 0;
    auto load_bucket = [&](uint32_t index) -> Status {
      if (bucket_lens[index] > rest.size()) {
        return Invalid("bucket " + std::to_string(index) + " length " +
                       std::to_string(bucket_lens[index]) + " exceeds the " +
                       std::to_string(rest.size()) + " remaining bytes");
      }
      RETURN_IF_ERROR(Decompress(type, rest.substr(0, bucket_lens[index]),
                                 "bucket " + std::to_string(index), &m->storage[index], &contents));
      rest.remove_prefix(bucket_lens[index]);
      used = 0;
      return OkStatus();
    };
    RETURN_IF_ERROR(load_bucket(0));
    for (uint32_t i = 0; i < num_buffers; ++i) {
      if (buffer_lens[i] > contents.size() - used) {
        return Invalid("buffer " + std::to_string(i) + " of length " +
                       std::to_string(buffer_lens[i]) + " does not fit in bucket " +
                       std::to_string(bucket));
      }
      m->buffers[i].data = contents.data() + used;
      m->buffers[i].size = buffer_lens[i];
      m->total_buffer_size += buffer_lens[i];
      used += buffer_lens[i];
      while (used == contents.size() && bucket + 1 < num_buckets)
        RETURN_IF_ERROR(load_bucket(++bucket));
    }
    if (bucket + 1 != num_buckets)
      return Invalid("too few buffers for " + std::to_string(num_buckets) + " buckets");
    if (used != contents.size()) {
      return Invalid(std::to_string(contents.size() - used) +
                     " unused bytes at the end of the last bucket");
    }
  }
  return Decompress(type, rest, "transitions", &m->storage[num_buckets], &m->transitions);
}

// Reads a varint32 at the buffer's cursor without consuming it; returns its
// length in bytes, or 0 if there is none.
size_t PeekVarint32(const Buffer& buffer, uint32_t* value) {
  std::string_view view(buffer.data + buffer.pos, buffer.available());
  const size_t before = view.size();
  if (!ReadVarint32(&view, value)) return 0;
  return before - view.size();
}

Status BufferExhausted(uint32_t buffer, uint32_t state) {
  return Invalid("buffer " + std::to_string(buffer) + " exhausted in state " +
                 std::to_string(state));
}

Status Run(Machine& m, uint64_t num_records, uint64_t decoded_data_size, std::string* values,
           std::vector<uint64_t>* limits) {
  // Sizes of the output at each record start, counted from the end.
  std::vector<uint64_t> starts;
  starts.reserve(static_cast<size_t>(std::min<uint64_t>(num_records, 1 << 16)));
  // Output size at each open submessage's end, and the state that ended it.
  std::vector<std::pair<uint64_t, uint32_t>> open_submessages;
  // Valid chunks need about their buffers plus tags and lengths, so twice
  // that seldom grows; a hostile chunk claiming a huge decoded size starts
  // from what its buffers can produce, not from the claim.
  BackwardOutput out(decoded_data_size, 2 * (m.total_buffer_size + m.transitions.size()));

  const uint32_t num_states = static_cast<uint32_t>(m.states.size());
  uint32_t index = m.resolved[m.first_state];
  uint32_t pending = 0;
  size_t tpos = 0;
  for (;;) {
    const State& state = m.states[index];
    switch (state.action) {
      case Action::kNoOp:
        break;
      case Action::kNonProto: {
        Buffer& lengths = m.buffers[m.nonproto_lengths];
        uint32_t length;
        const size_t length_size = PeekVarint32(lengths, &length);
        if (length_size == 0) return Invalid("reading a non-proto record length failed");
        lengths.pos += length_size;
        Buffer& buffer = m.buffers[state.buffer];
        if (length > buffer.available()) return BufferExhausted(state.buffer, index);
        char* dest = out.Prepend(length);
        if (dest == nullptr) return out.LimitError();
        std::memcpy(dest, buffer.data + buffer.pos, length);
        buffer.pos += length;
      }
        [[fallthrough]];
      case Action::kStartOfMessage:
        if (!open_submessages.empty()) return Invalid("submessages still open at a record start");
        if (starts.size() >= num_records) {
          return Invalid("more than the declared " + std::to_string(num_records) + " records");
        }
        starts.push_back(out.size());
        break;
      case Action::kEndOfSubmessage:
        // Each open submessage will prepend at least its tag and length:
        // more than fit in the declared size cannot all be closed.
        if (open_submessages.size() >= (decoded_data_size - out.size()) / 2) {
          return Invalid("more open submessages than the declared size allows");
        }
        open_submessages.emplace_back(out.size(), index);
        break;
      case Action::kStartOfSubmessage: {
        if (open_submessages.empty()) return Invalid("submessage start without an end");
        const auto [end_size, end_state] = open_submessages.back();
        open_submessages.pop_back();
        const uint64_t length = out.size() - end_size;
        if (length > UINT32_MAX) return Invalid("submessage longer than 4 GiB");
        const State& end = m.states[end_state];
        char length_bytes[kMaxLengthVarint32];
        const size_t length_size = EncodeVarint64(length, length_bytes);
        char* dest = out.Prepend(end.tag_size + length_size);
        if (dest == nullptr) return out.LimitError();
        std::memcpy(dest, end.tag_bytes, end.tag_size);
        std::memcpy(dest + end.tag_size, length_bytes, length_size);
        break;
      }
      case Action::kCopyTag: {
        char* dest = out.Prepend(state.tag_size);
        if (dest == nullptr) return out.LimitError();
        std::memcpy(dest, state.tag_bytes, state.tag_size);
        break;
      }
      case Action::kVarintBuffered:
      case Action::kFixed: {
        Buffer& buffer = m.buffers[state.buffer];
        if (state.value_size > buffer.available()) return BufferExhausted(state.buffer, index);
        char* dest = out.Prepend(state.tag_size + state.value_size);
        if (dest == nullptr) return out.LimitError();
        std::memcpy(dest, state.tag_bytes, state.tag_size);
        char* value = dest + state.tag_size;
        std::memcpy(value, buffer.data + buffer.pos, state.value_size);
        buffer.pos += state.value_size;
        if (state.action == Action::kVarintBuffered) {
          for (size_t i = 0; i + 1 < state.value_size; ++i)
            value[i] = static_cast<char>(value[i] | 0x80);
        }
        break;
      }
      case Action::kString: {
        Buffer& buffer = m.buffers[state.buffer];
        uint32_t length;
        const size_t length_size = PeekVarint32(buffer, &length);
        if (length_size == 0)
          return Invalid("reading a string length failed in state " + std::to_string(index));
        if (length > buffer.available() - length_size) return BufferExhausted(state.buffer, index);
        const size_t value_size = length_size + length;
        char* dest = out.Prepend(state.tag_size + value_size);
        if (dest == nullptr) return out.LimitError();
        std::memcpy(dest, state.tag_bytes, state.tag_size);
        std::memcpy(dest + state.tag_size, buffer.data + buffer.pos, value_size);
        buffer.pos += value_size;
        break;
      }
    }

    uint64_t next = 0;  // 64 bits: base + offset may exceed 32 bits
    if (state.implicit) {
      next = state.base;
    } else if (pending > 0) {
      --pending;
      next = state.base;
    } else {
      if (tpos == m.transitions.size()) break;
      const uint8_t transition = static_cast<uint8_t>(m.transitions[tpos++]);
      next = uint64_t{state.base} + (transition >> 2);
      pending = transition & 3;
    }
    if (next >= num_states) {
      return Invalid("transition to state " + std::to_string(next) + " out of range (" +
                     std::to_string(num_states) + " states) at transition byte " +
                     std::to_string(tpos));
    }
    index = m.resolved[next];
  }

  if (!open_submessages.empty()) return Invalid("submessages still open at the end");
  if (starts.size() != num_records) {
    return Invalid("too few records: " + std::to_string(starts.size()) + " instead of " +
                   std::to_string(num_records));
  }
  const uint64_t total = out.size();
  if ((starts.empty() && total != 0) || (!starts.empty() && starts.back() != total)) {
    return Invalid("unfinished message before the first record");
  }
  if (total != decoded_data_size) {
    return Invalid("decoded " + std::to_string(total) + " bytes instead of the declared " +
                   std::to_string(decoded_data_size));
  }
  *values = out.Release();
  limits->resize(starts.size());
  // starts[j] is the distance from the end to the start of the record that is
  // (j+1)-th from the end; record i ends where record i+1 starts.
  for (size_t i = 0; i < starts.size(); ++i) {
    (*limits)[i] = i + 1 < starts.size() ? total - starts[starts.size() - 2 - i] : total;
  }
  return OkStatus();
}

}  // namespace

Status DecodeTransposedChunk(std::string_view data, uint64_t num_records,
                             uint64_t decoded_data_size, std::string* values,
                             std::vector<uint64_t>* limits) {
  values->clear();
  limits->clear();
  Machine machine;
  RETURN_IF_ERROR(Parse(data, &machine));
  return Run(machine, num_records, decoded_data_size, values, limits);
}

}  // namespace riegeli
}  // namespace envlogger
