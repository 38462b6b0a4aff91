// Transposed chunk encoding, following the reference construction
// (docs/format.md, "Transposed chunks") so that the chunk data matches
// the reference writer's byte for byte.
//
// AddRecord() splits each record into field occurrences: it registers the
// record's sequence of "encoded tags" (a field node plus a subtype) and
// appends the field values to per-node buffers. Buffers hold their
// occurrences byte-reversed, so reversing a whole buffer yields the
// occurrences last-first, each in its original byte order: the order in which
// the decoder, which runs backwards, consumes them.
//
// Encode() derives everything else without modifying the pending records:
// transition statistics, the state machine (private lists of frequent
// successors, a public list for the rest, NoOp states for long lists and
// multi-byte transitions), the buckets, the header and the transition bytes.

#include "envlogger/riegeli/transpose_encoder.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "envlogger/base/varint.h"
#include "envlogger/riegeli/proto_wire.h"
#include "envlogger/riegeli/transpose_internal.h"

namespace envlogger {
namespace riegeli {

using namespace transpose_internal;

namespace {

constexpr uint32_t kInvalidPos = std::numeric_limits<uint32_t>::max();

// Memory kept across chunks for reuse (spare buffers in total, and the bucket
// scratch), so that one huge record does not pin its memory afterwards.
constexpr size_t kMaxKeptBytes = size_t{16} << 20;

// Buffer types, in the order their buffers are emitted.
enum BufferType {
  kVarintBuffer,
  kFixed32Buffer,
  kFixed64Buffer,
  kStringBuffer,
  kNonProtoBuffer,
  kNumBufferTypes
};

// A field path element: the tag of a field within its parent message.
struct NodeId {
  uint32_t parent = 0;
  uint32_t tag = 0;
  uint64_t key() const { return uint64_t{parent} << 32 | tag; }
};

// Subtypes a node can have: varint 0..9 and inline 10..13, or the
// length-delimited 0..2.
constexpr size_t kNumSubtypes = kVarintInline0 + kMaxVarintInline + 1;

// Appends `bytes` reversed, eight bytes at a time (byte swaps), since whole
// image fields pass through here twice per record.
inline void AppendReversed(std::string_view bytes, std::string* dest) {
  const size_t size = dest->size();
  dest->resize(size + bytes.size());
  char* out = &(*dest)[size];
  const char* in = bytes.data() + bytes.size();
  size_t remaining = bytes.size();
  for (; remaining >= 8; remaining -= 8, in -= 8, out += 8) {
    uint64_t word;
    std::memcpy(&word, in - 8, 8);
    word = __builtin_bswap64(word);
    std::memcpy(out, &word, 8);
  }
  for (; remaining > 0; --remaining) *out++ = *--in;
}

// Entry of the priority queue that lays out a list of states: the entry with
// the fewest transitions comes out first, ties broken by larger index.
struct QueueEntry {
  uint32_t index;
  uint64_t count;
};
struct QueueOrder {
  bool operator()(const QueueEntry& a, const QueueEntry& b) const {
    if (a.count != b.count) return a.count > b.count;
    return a.index < b.index;
  }
};
using StateQueue = std::priority_queue<QueueEntry, std::vector<QueueEntry>, QueueOrder>;

// A state of the machine being built: either an encoded tag or a NoOp.
struct StateInfo {
  uint32_t etag = kInvalidPos;  // kInvalidPos for NoOp states
  uint32_t base = kInvalidPos;
  // The NoOp state through which this state is reached from far away.
  uint32_t canonical_source = kInvalidPos;
};

// A successor of an encoded tag in decoding order.
struct Dest {
  uint32_t etag;
  uint64_t count = 0;
  // Position in the source's private list, kInvalidPos if reached through the
  // public list. During construction 0 marks "goes to the private list".
  uint32_t pos = kInvalidPos;
};

// Per-encode working data of an encoded tag.
struct TagState {
  std::vector<Dest> dests;  // sorted by etag
  uint64_t incoming = 0;
  uint32_t state_machine_pos = kInvalidPos;  // position in the public list
  uint32_t public_list_noop_pos = kInvalidPos;
  uint32_t base = kInvalidPos;

  Dest* Find(uint32_t etag) {
    auto it = std::lower_bound(dests.begin(), dests.end(), etag,
                               [](const Dest& d, uint32_t e) { return d.etag < e; });
    return it != dests.end() && it->etag == etag ? &*it : nullptr;
  }
};

}  // namespace

class TransposeEncoder::Impl {
 public:
  Impl(const CompressorOptions& options, uint64_t bucket_size)
      : options_(options),
        bucket_size_(options.type == CompressionType::kNone ? std::numeric_limits<uint64_t>::max()
                                                            : std::max<uint64_t>(bucket_size, 1)) {}

  void AddRecord(std::string_view record);
  Status Encode(std::string* data) const;
  void Reset();

  uint64_t num_records_ = 0;
  uint64_t decoded_data_size_ = 0;

 private:
  struct Node {
    uint32_t message_id;
    int32_t buffer = -1;  // index within its type's buffers
    std::array<uint32_t, kNumSubtypes> etag_pos;
  };
  struct EncodedTag {
    NodeId node_id;
    uint8_t subtype;
  };
  struct Buffer {
    NodeId node_id;
    std::string reversed;  // occurrences appended byte-reversed
  };
  // An open submessage during the record walk.
  struct Frame {
    uint32_t end_etag;
    uint32_t parent;
    size_t limit;
  };

  std::pair<const uint64_t, Node>& GetNode(NodeId id);
  uint32_t EncodedTagOf(std::pair<const uint64_t, Node>& node, uint8_t subtype);
  std::string* BufferOf(std::pair<const uint64_t, Node>& node, BufferType type);
  void AddMessage(std::string_view record);

  // Encode() steps.
  std::vector<StateInfo> CreateStateMachine(std::vector<TagState>& tags) const;
  void ComputeBaseIndices(uint32_t public_list_base,
                          const std::vector<std::pair<uint32_t, uint32_t>>& public_noops,
                          std::vector<TagState>& tags, std::vector<StateInfo>& machine) const;
  Status WriteBuffers(std::string* header, std::string* data,
                      std::unordered_map<uint64_t, uint32_t>* buffer_index) const;
  void WriteTransitions(const std::vector<StateInfo>& machine, std::vector<TagState>& tags,
                        std::string* transitions) const;

  CompressorOptions options_;
  uint64_t bucket_size_;

  std::unordered_map<uint64_t, Node> nodes_;
  // A direct-mapped cache in front of `nodes_` (whose elements never move):
  // most fields of a record were seen in earlier records.
  struct CachedNode {
    uint64_t key = 0;
    std::pair<const uint64_t, Node>* node = nullptr;
  };
  static constexpr int kNodeCacheBits = 10;
  std::array<CachedNode, size_t{1} << kNodeCacheBits> node_cache_;
  uint32_t next_message_id_ = kRoot + 1;
  std::vector<EncodedTag> tags_list_;
  std::vector<uint32_t> encoded_tags_;
  std::vector<Buffer> buffers_[kNumBufferTypes];
  // The emptied buffers of the previous chunk by node key, so that a field
  // gets back its own memory (an image field its ~1 MiB) instead of growing
  // a new string chunk after chunk. Holds at most one chunk's buffers.
  std::unordered_map<uint64_t, std::string> spare_buffers_;
  // Scratch of Encode(), kept for its capacity.
  mutable std::string bucket_;
  std::string nonproto_lengths_;  // varints appended byte-reversed
  std::vector<Frame> message_stack_;
  std::vector<uint32_t> group_stack_;
};

std::pair<const uint64_t, TransposeEncoder::Impl::Node>& TransposeEncoder::Impl::GetNode(
    NodeId id) {
  const uint64_t key = id.key();
  CachedNode& cached = node_cache_[(key * 0x9e3779b97f4a7c15u) >> (64 - kNodeCacheBits)];
  if (cached.node != nullptr && cached.key == key) return *cached.node;
  auto [it, inserted] = nodes_.try_emplace(key);
  if (inserted) {
    it->second.message_id = next_message_id_++;
    it->second.etag_pos.fill(kInvalidPos);
  }
  cached.key = key;
  cached.node = &*it;
  return *it;
}

uint32_t TransposeEncoder::Impl::EncodedTagOf(std::pair<const uint64_t, Node>& node,
                                              uint8_t subtype) {
  uint32_t& pos = node.second.etag_pos[subtype];
  if (pos == kInvalidPos) {
    pos = static_cast<uint32_t>(tags_list_.size());
    tags_list_.push_back(EncodedTag{
        NodeId{static_cast<uint32_t>(node.first >> 32), static_cast<uint32_t>(node.first)},
        subtype});
  }
  return pos;
}

std::string* TransposeEncoder::Impl::BufferOf(std::pair<const uint64_t, Node>& node,
                                              BufferType type) {
  std::vector<Buffer>& buffers = buffers_[type];
  if (node.second.buffer < 0) {
    node.second.buffer = static_cast<int32_t>(buffers.size());
    std::string memory;
    if (auto spare = spare_buffers_.find(node.first); spare != spare_buffers_.end()) {
      memory = std::move(spare->second);
    }
    buffers.push_back(
        Buffer{NodeId{static_cast<uint32_t>(node.first >> 32), static_cast<uint32_t>(node.first)},
               std::move(memory)});
  }
  return &buffers[node.second.buffer].reversed;
}

void TransposeEncoder::Impl::AddRecord(std::string_view record) {
  ++num_records_;
  decoded_data_size_ += record.size();
  if (IsCanonicalProtoMessage(record)) {
    encoded_tags_.push_back(EncodedTagOf(GetNode(NodeId{kStartOfMessage, 0}), kTrivial));
    AddMessage(record);
    return;
  }
  auto& node = GetNode(NodeId{kNonProto, 0});
  encoded_tags_.push_back(EncodedTagOf(node, kTrivial));
  AppendReversed(record, BufferOf(node, kNonProtoBuffer));
  char length[kMaxLengthVarint64];
  AppendReversed(std::string_view(length, EncodeVarint64(record.size(), length)),
                 &nonproto_lengths_);
}

// Walks the fields of a record known to be a canonical proto message,
// descending into length-delimited fields that are themselves messages.
void TransposeEncoder::Impl::AddMessage(std::string_view record) {
  uint32_t parent = kRoot;
  size_t pos = 0;
  size_t limit = record.size();
  message_stack_.clear();
  group_stack_.clear();
  for (;;) {
    while (pos < limit) {
      uint32_t tag = 0;
      ReadCanonicalVarint32(record, &pos, &tag);
      auto& node = GetNode(NodeId{parent, tag});
      switch (WireTypeOf(tag)) {
        case kWireVarint: {
          const size_t start = pos;
          uint64_t value;
          ReadCanonicalVarint64(record, &pos, &value);
          const uint8_t first = static_cast<uint8_t>(record[start]);
          if (first <= kMaxVarintInline) {
            encoded_tags_.push_back(
                EncodedTagOf(node, static_cast<uint8_t>(kVarintInline0 + first)));
          } else {
            const size_t length = pos - start;
            encoded_tags_.push_back(
                EncodedTagOf(node, static_cast<uint8_t>(kVarint1 + length - 1)));
            std::string* buffer = BufferOf(node, kVarintBuffer);
            for (size_t i = pos; i > start; --i)
              buffer->push_back(static_cast<char>(record[i - 1] & 0x7f));
          }
          break;
        }
        case kWireFixed32:
          encoded_tags_.push_back(EncodedTagOf(node, kTrivial));
          AppendReversed(record.substr(pos, 4), BufferOf(node, kFixed32Buffer));
          pos += 4;
          break;
        case kWireFixed64:
          encoded_tags_.push_back(EncodedTagOf(node, kTrivial));
          AppendReversed(record.substr(pos, 8), BufferOf(node, kFixed64Buffer));
          pos += 8;
          break;
        case kWireLengthDelimited: {
          const size_t length_pos = pos;
          uint32_t length = 0;
          ReadCanonicalVarint32(record, &pos, &length);
          const size_t value_pos = pos;
          if (length > 0 && message_stack_.size() + group_stack_.size() < kMaxRecursionDepth &&
              IsCanonicalProtoMessage(record.substr(value_pos, length))) {
            encoded_tags_.push_back(EncodedTagOf(node, kStartOfSubmessageSubtype));
            // Fields stored one by one: building the Frame in a temporary
            // and copying it stalls on store forwarding.
            Frame& frame = message_stack_.emplace_back();
            frame.end_etag = EncodedTagOf(node, kEndOfSubmessageSubtype);
            frame.parent = parent;
            frame.limit = limit;
            parent = node.second.message_id;
            limit = value_pos + length;
            break;
          }
          encoded_tags_.push_back(EncodedTagOf(node, kString));
          pos = value_pos + length;
          AppendReversed(record.substr(length_pos, pos - length_pos),
                         BufferOf(node, kStringBuffer));
          break;
        }
        case kWireStartGroup:
          encoded_tags_.push_back(EncodedTagOf(node, kTrivial));
          group_stack_.push_back(parent);
          parent = node.second.message_id;
          break;
        default:  // End of group; IsCanonicalProtoMessage() allows nothing else.
          parent = group_stack_.back();
          group_stack_.pop_back();
          encoded_tags_.push_back(EncodedTagOf(node, kTrivial));
          break;
      }
    }
    if (message_stack_.empty()) return;
    const Frame frame = message_stack_.back();
    message_stack_.pop_back();
    encoded_tags_.push_back(frame.end_etag);
    parent = frame.parent;
    limit = frame.limit;
  }
}

void TransposeEncoder::Impl::Reset() {
  num_records_ = 0;
  decoded_data_size_ = 0;
  nodes_.clear();
  node_cache_.fill(CachedNode());
  next_message_id_ = kRoot + 1;
  tags_list_.clear();
  encoded_tags_.clear();
  spare_buffers_.clear();
  size_t kept = 0;
  for (std::vector<Buffer>& buffers : buffers_) {
    for (Buffer& buffer : buffers) {
      kept += buffer.reversed.capacity();
      if (kept > kMaxKeptBytes) continue;
      buffer.reversed.clear();
      spare_buffers_[buffer.node_id.key()] = std::move(buffer.reversed);
    }
    buffers.clear();
  }
  nonproto_lengths_.clear();
}

// Lays out one list of states (a private list or the public list) at the end
// of `machine`, popping `queue` from the list's end backwards in blocks of
// kMaxTransition + 1 states. After each block a NoOp standing for the block
// (weighted with the block's transitions) re-enters the queue; it becomes the
// canonical source of the block's states. `place(entry, position)` stores an
// entry that is neither such a NoOp.
template <typename Place>
void LayOutList(StateQueue& queue, uint32_t num_tags, std::vector<StateInfo>& machine,
                Place place) {
  uint32_t num_states = static_cast<uint32_t>(queue.size());
  if (num_states > kMaxTransition + 1) num_states += (num_states - 2) / kMaxTransition;
  uint32_t next = static_cast<uint32_t>(machine.size()) + num_states;
  machine.resize(next);
  uint32_t block_size = (num_states - 1) % (kMaxTransition + 1) + 1;
  std::vector<uint32_t> noop_base;
  for (;;) {
    uint64_t block_weight = 0;
    for (uint32_t i = 0; i < block_size; ++i) {
      const QueueEntry entry = queue.top();
      queue.pop();
      block_weight += entry.count;
      --next;
      if (entry.index != kInvalidPos && entry.index >= num_tags) {
        const uint32_t base = noop_base[entry.index - num_tags];
        machine[next] = StateInfo{kInvalidPos, base, kInvalidPos};
        for (uint32_t j = 0; j <= kMaxTransition && base + j < machine.size(); ++j) {
          machine[base + j].canonical_source = next;
        }
      } else {
        place(entry, next);
      }
    }
    if (queue.empty()) break;
    queue.push(QueueEntry{num_tags + static_cast<uint32_t>(noop_base.size()), block_weight});
    noop_base.push_back(next);
    block_size = kMaxTransition + 1;
  }
}

std::vector<StateInfo> TransposeEncoder::Impl::CreateStateMachine(
    std::vector<TagState>& tags) const {
  std::vector<StateInfo> machine;
  if (encoded_tags_.empty()) {
    machine.push_back(StateInfo{kInvalidPos, 0, kInvalidPos});
    return machine;
  }
  const uint32_t num_tags = static_cast<uint32_t>(tags_list_.size());

  // Transition statistics: decoding runs from the last encoded tag to the
  // first, so each encoded tag's successor is the one before it.
  {
    // Destinations are found by a linear scan while a source has few of
    // them (the common case), through `index` beyond that.
    constexpr size_t kMaxLinearDests = 16;
    std::unordered_map<uint64_t, uint32_t> index;  // (source, dest) -> position in dests
    for (size_t i = encoded_tags_.size() - 1; i > 0; --i) {
      const uint32_t source = encoded_tags_[i];
      const uint32_t dest = encoded_tags_[i - 1];
      ++tags[dest].incoming;
      std::vector<Dest>& dests = tags[source].dests;
      if (dests.size() <= kMaxLinearDests) {
        auto it =
            std::find_if(dests.begin(), dests.end(), [&](const Dest& d) { return d.etag == dest; });
        if (it != dests.end()) {
          ++it->count;
          continue;
        }
        dests.push_back(Dest{dest, 1, kInvalidPos});
        if (dests.size() > kMaxLinearDests) {
          for (uint32_t j = 0; j < dests.size(); ++j)
            index.emplace(uint64_t{source} << 32 | dests[j].etag, j);
        }
        continue;
      }
      const auto [it, inserted] =
          index.try_emplace(uint64_t{source} << 32 | dest, static_cast<uint32_t>(dests.size()));
      if (inserted) dests.push_back(Dest{dest, 0, kInvalidPos});
      ++dests[it->second].count;
    }
    for (TagState& tag : tags) {
      std::sort(tag.dests.begin(), tag.dests.end(),
                [](const Dest& a, const Dest& b) { return a.etag < b.etag; });
    }
    if (tags[encoded_tags_.back()].incoming == 0) tags[encoded_tags_.back()].incoming = 1;
  }

  // Frequent transitions get private-list entries.
  constexpr uint32_t kInList = 0;
  for (TagState& tag : tags) {
    for (Dest& dest : tag.dests) {
      if (dest.count >= kMinCountForState) {
        tags[dest.etag].incoming -= dest.count;
        dest.pos = kInList;
      }
    }
  }

  StateQueue queue;
  std::vector<std::pair<uint32_t, uint32_t>> public_noops;  // (tag, NoOp state)
  for (uint32_t tag_index = 0; tag_index < num_tags; ++tag_index) {
    TagState& tag = tags[tag_index];
    QueueEntry excluded{0, 0};
    uint64_t excluded_count = 0;
    for (Dest& dest : tag.dests) {
      if (dest.pos == kInList || dest.count == tags[dest.etag].incoming) {
        // Also private: every remaining incoming transition of `dest` is
        // from this tag.
        if (dest.pos != kInList) tags[dest.etag].incoming -= dest.count;
        queue.push(QueueEntry{dest.etag, dest.count});
      } else {
        excluded_count += dest.count;
        excluded = QueueEntry{dest.etag, dest.count};
      }
    }
    if (queue.empty()) continue;
    if (queue.size() + 1 == tag.dests.size()) {
      // A single destination would remain outside: take it in too.
      queue.push(excluded);
      tags[excluded.index].incoming -= excluded.count;
    }
    if (queue.size() != tag.dests.size()) queue.push(QueueEntry{kInvalidPos, excluded_count});
    tag.base = static_cast<uint32_t>(machine.size());
    LayOutList(queue, num_tags, machine, [&](const QueueEntry& entry, uint32_t position) {
      if (entry.index == kInvalidPos) {
        machine[position] = StateInfo{kInvalidPos, kInvalidPos, kInvalidPos};
        tag.public_list_noop_pos = position;
        public_noops.emplace_back(tag_index, position);
      } else {
        machine[position] = StateInfo{entry.index, kInvalidPos, kInvalidPos};
        tag.Find(entry.index)->pos = position;
      }
    });
  }

  const uint32_t public_list_base = static_cast<uint32_t>(machine.size());
  for (uint32_t i = 0; i < num_tags; ++i) {
    if (tags[i].incoming != 0) queue.push(QueueEntry{i, tags[i].incoming});
  }
  if (!queue.empty()) {
    LayOutList(queue, num_tags, machine, [&](const QueueEntry& entry, uint32_t position) {
      machine[position] = StateInfo{entry.index, kInvalidPos, kInvalidPos};
      tags[entry.index].state_machine_pos = position;
    });
  }
  ComputeBaseIndices(public_list_base, public_noops, tags, machine);
  return machine;
}

namespace {

// The smallest base from which every public-list destination of `dests` is
// reachable, directly (offset <= kMaxTransition) or through the chains of
// canonical-source NoOps; kInvalidPos if `dests` has none.
uint32_t SmallestBase(const std::vector<Dest>& dests, const std::vector<TagState>& tags,
                      const std::vector<StateInfo>& machine, uint32_t public_list_base) {
  uint32_t base = kInvalidPos;
  uint32_t min_pos = kInvalidPos;
  for (const Dest& dest : dests) {
    if (dest.pos != kInvalidPos) continue;
    uint32_t pos = tags[dest.etag].state_machine_pos;
    while (base > pos || pos - base > kMaxTransition) {
      if (base > pos) {
        uint32_t source;
        if (base == kInvalidPos) {
          source = machine[pos].canonical_source;
        } else {
          source = machine[base].canonical_source;
          min_pos = std::min(min_pos, source);
          source = machine[source].canonical_source;
        }
        base = source == kInvalidPos ? public_list_base : machine[source].base;
      } else {
        pos = machine[pos].canonical_source;
      }
    }
    min_pos = std::min(min_pos, pos);
  }
  return min_pos;
}

}  // namespace

void TransposeEncoder::Impl::ComputeBaseIndices(
    uint32_t public_list_base, const std::vector<std::pair<uint32_t, uint32_t>>& public_noops,
    std::vector<TagState>& tags, std::vector<StateInfo>& machine) const {
  for (const auto& [tag_index, noop] : public_noops) {
    machine[noop].base = SmallestBase(tags[tag_index].dests, tags, machine, public_list_base);
  }
  for (TagState& tag : tags) {
    if (tag.base != kInvalidPos) continue;
    const uint32_t base = SmallestBase(tag.dests, tags, machine, public_list_base);
    if (base != kInvalidPos) tag.base = base;
  }
}

Status TransposeEncoder::Impl::WriteBuffers(
    std::string* header, std::string* data,
    std::unordered_map<uint64_t, uint32_t>* buffer_index) const {
  std::vector<uint64_t> bucket_sizes;  // compressed, as stored
  std::vector<uint64_t> buffer_sizes;
  std::string& bucket = bucket_;  // uncompressed contents of the open bucket
  bucket.clear();
  auto close_bucket = [&]() -> Status {
    if (bucket.empty()) return OkStatus();
    const size_t before = data->size();
    RETURN_IF_ERROR(CompressBlock(options_, bucket, data, /*pledge_size=*/true));
    bucket_sizes.push_back(data->size() - before);
    bucket.clear();
    return OkStatus();
  };

  for (const std::vector<Buffer>& unsorted : buffers_) {
    std::vector<const Buffer*> buffers;
    buffers.reserve(unsorted.size());
    uint64_t remaining = 0;
    for (const Buffer& buffer : unsorted) {
      buffers.push_back(&buffer);
      remaining += buffer.reversed.size();
    }
    std::sort(buffers.begin(), buffers.end(), [](const Buffer* a, const Buffer* b) {
      if (a->reversed.size() != b->reversed.size()) return a->reversed.size() < b->reversed.size();
      if (a->node_id.parent != b->node_id.parent) return a->node_id.parent < b->node_id.parent;
      return a->node_id.tag < b->node_id.tag;
    });
    // Bucket sizes, chosen from the largest buffer down, then used from the
    // smallest up.
    std::vector<uint64_t> uncompressed_sizes;
    uint64_t current = 0;
    for (auto it = buffers.rbegin(); it != buffers.rend(); ++it) {
      const uint64_t size = (*it)->reversed.size();
      if (current > 0 && current + size / 2 >= bucket_size_) {
        uncompressed_sizes.push_back(current);
        current = 0;
      }
      current += size;
      remaining -= size;
      if (remaining <= bucket_size_ / 2) {
        current += remaining;
        break;
      }
    }
    if (current > 0) uncompressed_sizes.push_back(current);
    current = 0;
    for (const Buffer* buffer : buffers) {
      if (current == 0) {
        current = uncompressed_sizes.back();
        uncompressed_sizes.pop_back();
        RETURN_IF_ERROR(close_bucket());
      }
      current -= buffer->reversed.size();
      buffer_sizes.push_back(buffer->reversed.size());
      AppendReversed(buffer->reversed, &bucket);
      buffer_index->emplace(buffer->node_id.key(), static_cast<uint32_t>(buffer_index->size()));
    }
  }
  if (!nonproto_lengths_.empty()) {
    RETURN_IF_ERROR(close_bucket());
    buffer_sizes.push_back(nonproto_lengths_.size());
    AppendReversed(nonproto_lengths_, &bucket);
  }
  RETURN_IF_ERROR(close_bucket());
  if (bucket.capacity() > kMaxKeptBytes) std::string().swap(bucket);

  AppendVarint64(bucket_sizes.size(), header);
  AppendVarint64(buffer_sizes.size(), header);
  for (uint64_t size : bucket_sizes) AppendVarint64(size, header);
  for (uint64_t size : buffer_sizes) AppendVarint64(size, header);
  return OkStatus();
}

void TransposeEncoder::Impl::WriteTransitions(const std::vector<StateInfo>& machine,
                                              std::vector<TagState>& tags,
                                              std::string* transitions) const {
  if (encoded_tags_.empty()) return;
  int last = -1;  // the pending transition byte, -1 if none
  // Emits the moves from `base` to `pos`: one byte per NoOp hop, outermost
  // first, merging offset-0 moves into the previous byte's repeat count.
  auto move = [&](uint32_t base, uint32_t pos) {
    uint8_t hops[64];
    size_t num_hops = 0;
    while (base > pos || pos - base > kMaxTransition) {
      const uint32_t source = machine[pos].canonical_source;
      hops[num_hops++] = static_cast<uint8_t>(pos - machine[source].base);
      pos = source;
    }
    hops[num_hops++] = static_cast<uint8_t>(pos - base);
    for (size_t i = num_hops; i > 0; --i) {
      const uint8_t offset = hops[i - 1];
      if (offset == 0 && last >= 0 && (last & 3) < 3) {
        ++last;
      } else {
        if (last >= 0) transitions->push_back(static_cast<char>(last));
        last = offset << 2;
      }
    }
  };
  uint32_t prev = encoded_tags_.back();
  uint32_t base = tags[prev].base;
  for (size_t i = encoded_tags_.size() - 1; i > 0; --i) {
    const uint32_t etag = encoded_tags_[i - 1];
    if (tags[prev].dests.size() != 1) {
      uint32_t pos = tags[prev].Find(etag)->pos;
      if (pos == kInvalidPos) {
        const uint32_t noop = tags[prev].public_list_noop_pos;
        if (noop != kInvalidPos) {
          move(base, noop);
          base = machine[noop].base;
        }
        pos = tags[etag].state_machine_pos;
      }
      move(base, pos);
    }
    prev = etag;
    base = tags[prev].base;
  }
  if (last >= 0) transitions->push_back(static_cast<char>(last));
}

Status TransposeEncoder::Impl::Encode(std::string* data) const {
  std::vector<TagState> tags(tags_list_.size());
  const std::vector<StateInfo> machine = CreateStateMachine(tags);
  // The first record's first encoded tag is where decoding ends; it must stay
  // explicit so that the decoder looks for (and misses) a transition byte.
  if (!encoded_tags_.empty() && tags[encoded_tags_[0]].dests.size() == 1) {
    TagState& last = tags[encoded_tags_[0]];
    last.dests.push_back(Dest{last.dests[0].etag + 1, 0, kInvalidPos});
  }

  std::string header;
  std::string buckets;
  std::unordered_map<uint64_t, uint32_t> buffer_index;
  RETURN_IF_ERROR(WriteBuffers(&header, &buckets, &buffer_index));

  const uint32_t num_states = static_cast<uint32_t>(machine.size());
  AppendVarint64(num_states, &header);
  std::string subtypes;
  std::vector<uint32_t> buffer_indices;
  std::string bases;
  for (const StateInfo& state : machine) {
    if (state.etag == kInvalidPos) {
      AppendVarint64(kNoOp, &header);
      AppendVarint64(state.base, &bases);
      continue;
    }
    const EncodedTag& etag = tags_list_[state.etag];
    const NodeId node = etag.node_id;
    if (node.tag != 0) {
      const bool is_length_delimited = WireTypeOf(node.tag) == kWireLengthDelimited;
      if (is_length_delimited && etag.subtype == kStartOfSubmessageSubtype) {
        AppendVarint64(kStartOfSubmessage, &header);
      } else if (is_length_delimited && etag.subtype == kEndOfSubmessageSubtype) {
        AppendVarint64(uint64_t{node.tag} + kWireSubmessageEnd - kWireLengthDelimited, &header);
      } else {
        AppendVarint64(node.tag, &header);
        const uint32_t wire_type = WireTypeOf(node.tag);
        if (wire_type == kWireVarint) subtypes.push_back(static_cast<char>(etag.subtype));
        const bool has_buffer = (wire_type == kWireVarint && etag.subtype < kVarintInline0) ||
                                wire_type == kWireFixed32 || wire_type == kWireFixed64 ||
                                wire_type == kWireLengthDelimited;
        if (has_buffer) buffer_indices.push_back(buffer_index.at(node.key()));
      }
    } else {
      AppendVarint64(node.parent, &header);
      if (node.parent == kNonProto) buffer_indices.push_back(buffer_index.at(node.key()));
    }
    const TagState& tag = tags[state.etag];
    const uint32_t base =
        tag.base == kInvalidPos ? 0 : tag.base + (tag.dests.size() == 1 ? num_states : 0);
    AppendVarint64(base, &bases);
  }
  header += bases;
  header += subtypes;
  for (uint32_t index : buffer_indices) AppendVarint64(index, &header);
  uint32_t first_state = 0;
  if (!encoded_tags_.empty()) {
    while (machine[first_state].etag != encoded_tags_.back()) ++first_state;
  }
  AppendVarint64(first_state, &header);

  std::string transitions;
  WriteTransitions(machine, tags, &transitions);

  data->clear();
  data->push_back(static_cast<char>(options_.type));
  std::string compressed_header;
  RETURN_IF_ERROR(CompressBlock(options_, header, &compressed_header, /*pledge_size=*/true));
  AppendVarint64(compressed_header.size(), data);
  *data += compressed_header;
  *data += buckets;
  // Like the reference, the header and the buckets are compressed with their
  // size pledged, the transitions without.
  return CompressBlock(options_, transitions, data, /*pledge_size=*/false);
}

TransposeEncoder::TransposeEncoder(const CompressorOptions& options, uint64_t bucket_size)
    : impl_(std::make_unique<Impl>(options, bucket_size)) {}

TransposeEncoder::~TransposeEncoder() = default;

void TransposeEncoder::AddRecord(std::string_view record) { impl_->AddRecord(record); }

uint64_t TransposeEncoder::num_records() const { return impl_->num_records_; }

uint64_t TransposeEncoder::decoded_data_size() const { return impl_->decoded_data_size_; }

Status TransposeEncoder::Encode(std::string* data) { return impl_->Encode(data); }

void TransposeEncoder::Reset() { impl_->Reset(); }

}  // namespace riegeli
}  // namespace envlogger
