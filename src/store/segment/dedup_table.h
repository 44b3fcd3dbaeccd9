#pragma once
// The segment store writer's dedup map: (day, event key) -> what a repeat needs of the stored
// event. The entries (56 bytes) lie dense in chunks of 65,536; an open-addressing index
// (linear probing, backward-shift deletion) of 8-byte slots -- a 32-bit fingerprint of the
// key's hash and the entry's position -- finds them, at a load factor of at most 3/4 (the
// fingerprint makes a longer probe run cheap: a mismatch costs no entry read).
//
// Why not std::unordered_map: every event of the day is inserted once and looked up on each
// repeat, on the writer thread (the pipeline's bottleneck). A node map pays a malloc per
// insert and, per lookup, a bucket and a node cache miss plus a pointer chase per collision;
// here an insert is two stores and a lookup an index slot and (on a fingerprint match, almost
// only the right one) the entry. Memory: 56 bytes per entry plus 11-21 bytes of index (about
// 67-77 bytes per event, no malloc headers), against ~100 for the node map.
//
// Pointers into the table stay valid until the next put or erase.
// Thread-safety: none; the store's writer serialises calls.

#include <cstdint>
#include <memory>
#include <vector>

#include "common/time.h"

namespace vantage::store {

struct DayKey {
  DayNumber day;
  uint64_t key;
  bool operator==(const DayKey&) const = default;
};

// What a repeat needs of a stored event. `count` is at least 1 for a stored event (0 marks
// an empty slot); `day` is the table's (the key's day, set by put).
struct DedupEntry {
  int64_t id = 0;
  int64_t first_seen = 0;
  int64_t last_seen = 0;
  int64_t rep = 0;
  uint64_t routes_hash = 0;
  uint32_t count = 0;
  DayNumber day = 0;
};

class DedupTable {
 public:
  size_t size() const { return size_; }
  void clear() {
    chunks_.clear();
    chunks_.shrink_to_fit();
    index_ = {};
    size_ = 0;
    mask_ = 0;
  }
  // Index room for n entries before the next rehash.
  void reserve(size_t n) {
    size_t want = kMinSlots;
    while (want * 3 < 4 * n) want *= 2;
    if (want > index_.size()) rehash(want);
  }

  DedupEntry* find(const DayKey& k) {
    size_t slot = 0;
    return lookup(k, hash(k), slot);
  }
  // Inserts or overwrites; e.count must be at least 1.
  DedupEntry& put(const DayKey& k, const DedupEntry& e) {
    uint64_t h = hash(k);
    size_t slot = 0;
    if (DedupEntry* found = lookup(k, h, slot)) {
      *found = e;
      found->day = k.day;
      return *found;
    }
    if (4 * (size_ + 1) > 3 * index_.size()) {
      rehash(index_.empty() ? kMinSlots : index_.size() * 2);
      lookup(k, h, slot);  // the free slot of the grown index
    }
    size_t pos = size_++;
    if (pos / kChunk >= chunks_.size()) chunks_.push_back(std::make_unique<Stored[]>(kChunk));
    Stored& s = at(pos);
    s.key = k.key;
    s.entry = e;
    s.entry.day = k.day;
    index_[slot] = (h & kFingerprint) | (pos + 1);
    return s.entry;
  }
  bool erase(const DayKey& k) {
    size_t slot = 0;
    if (!lookup(k, hash(k), slot)) return false;
    size_t pos = (index_[slot] & kPosition) - 1;
    erase_slot(slot);
    // The last entry moves into the hole, so the entries stay dense.
    size_t last = --size_;
    if (pos != last) {
      Stored& moved = at(last);
      size_t moved_slot = 0;
      lookup({moved.entry.day, moved.key}, hash({moved.entry.day, moved.key}), moved_slot);
      index_[moved_slot] = (index_[moved_slot] & kFingerprint) | (pos + 1);
      at(pos) = moved;
    }
    if (size_ % kChunk == 0 && size_ / kChunk + 1 < chunks_.size()) chunks_.pop_back();
    return true;
  }
  // Removes every entry of a day before `day` (retention), rebuilding the table.
  void erase_days_before(DayNumber day) {
    std::vector<std::unique_ptr<Stored[]>> old;
    old.swap(chunks_);
    size_t n = size_;
    size_ = 0;
    index_.assign(index_.size(), 0);
    for (size_t pos = 0; pos < n; ++pos) {
      const Stored& s = old[pos / kChunk][pos % kChunk];
      if (s.entry.day >= day) put({s.entry.day, s.key}, s.entry);
    }
  }

 private:
  static constexpr size_t kMinSlots = 16;
  static constexpr size_t kChunk = size_t{1} << 16;  // entries per allocation
  static constexpr uint64_t kFingerprint = 0xffffffff00000000ull;
  static constexpr uint64_t kPosition = 0xffffffffull;
  struct Stored {
    uint64_t key = 0;
    DedupEntry entry;
  };
  static_assert(sizeof(Stored) == 56);

  static uint64_t hash(const DayKey& k) {
    // splitmix64's finaliser: the low bits pick the slot, the high 32 are the fingerprint.
    uint64_t h =
        k.key ^ (static_cast<uint64_t>(static_cast<uint32_t>(k.day)) * 0x9E3779B97F4A7C15ull);
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    return h ^ (h >> 31);
  }
  Stored& at(size_t pos) { return chunks_[pos / kChunk][pos % kChunk]; }

  // The entry of k, or nullptr with `slot` the free index slot where it would go.
  DedupEntry* lookup(const DayKey& k, uint64_t h, size_t& slot) {
    if (index_.empty()) return nullptr;
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      uint64_t v = index_[i];
      if (v == 0) {
        slot = i;
        return nullptr;
      }
      if ((v & kFingerprint) == (h & kFingerprint)) {
        Stored& s = at((v & kPosition) - 1);
        if (s.key == k.key && s.entry.day == k.day) {
          slot = i;
          return &s.entry;
        }
      }
    }
  }

  void rehash(size_t slots) {
    index_.assign(slots, 0);
    mask_ = slots - 1;
    for (size_t pos = 0; pos < size_; ++pos) {
      const Stored& s = at(pos);
      size_t i = hash({s.entry.day, s.key}) & mask_;
      while (index_[i] != 0) i = (i + 1) & mask_;
      index_[i] = (hash({s.entry.day, s.key}) & kFingerprint) | (pos + 1);
    }
  }

  size_t home_of(uint64_t v) {
    const Stored& s = at((v & kPosition) - 1);
    return hash({s.entry.day, s.key}) & mask_;
  }

  // Backward-shift deletion: later slots of the probe run move up, so no tombstones.
  void erase_slot(size_t i) {
    index_[i] = 0;
    for (size_t j = (i + 1) & mask_; index_[j] != 0; j = (j + 1) & mask_) {
      size_t h = home_of(index_[j]);
      // Slot j may move to the hole at i when its home is not in (i, j] (cyclically).
      bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      index_[i] = index_[j];
      index_[j] = 0;
      i = j;
    }
  }

  std::vector<std::unique_ptr<Stored[]>> chunks_;  // the entries, dense, kChunk per chunk
  std::vector<uint64_t> index_;  // 0: free; else fingerprint << 32 | (position + 1)
  size_t size_ = 0;
  size_t mask_ = 0;
};

}  // namespace vantage::store
