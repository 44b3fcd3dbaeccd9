#pragma once
// The discovery receiver's packet source: an AF_PACKET socket with a TPACKET_V3 receive ring
// (PACKET_RX_RING, memory shared with the kernel), so replies are read in blocks without a
// system call per packet -- what libpcap gives ZMap. The kernel fills a block, hands it over
// when full or after `block_timeout_ms`, and we walk its frames in place. When the ring cannot
// be set up (an old kernel, a locked-memory limit) it falls back to recvfrom() per packet.
//
// One reader thread; not thread-safe. The caller filters the socket (its classic BPF program's
// return value is the snap length that bounds each frame's copy) and binds it.

#include <linux/if_packet.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace vantage::scanner {

class RxRing {
 public:
  // Sets up the ring on `fd` (not owned).
  explicit RxRing(int fd);
  ~RxRing();
  RxRing(const RxRing&) = delete;
  RxRing& operator=(const RxRing&) = delete;

  bool mapped() const { return ring_ != nullptr; }

  // Waits up to `timeout_ms` for packets, then calls `frame(bytes, pkttype)` for each one
  // received (bytes from the link-layer header on). Returns the number of frames seen.
  size_t poll(int timeout_ms, const std::function<void(std::span<const uint8_t>, uint8_t)>& frame);

 private:
  size_t drain_fallback(const std::function<void(std::span<const uint8_t>, uint8_t)>& frame);
  int fd_;
  uint8_t* ring_ = nullptr;
  size_t ring_bytes_ = 0, block_size_ = 0, blocks_ = 0, next_ = 0;
};

}  // namespace vantage::scanner
