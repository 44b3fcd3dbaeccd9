#include "sensors/scanner/rx_ring.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <atomic>

namespace vantage::scanner {
namespace {

// 16 blocks of 512 KiB: at a 256-byte snap length about 1,500 replies a block, 24,000
// waiting before the kernel has to drop -- a tenth of a second of an RST storm at 200k pps with
// the receiver not scheduled at all. (The kernel zeroes the ring at set-up: bigger costs time.)
constexpr size_t kBlockSize = 1 << 19;
constexpr size_t kBlocks = 16;
constexpr unsigned kFrameSize = 2048;  // TPACKET_V3 packs frames; this only bounds one frame
constexpr unsigned kBlockTimeoutMs = 10;

// The block's status word is shared with the kernel: acquire on read, release on hand-back.
uint32_t load_status(tpacket_block_desc* b) {
  return std::atomic_ref<uint32_t>(b->hdr.bh1.block_status).load(std::memory_order_acquire);
}
void give_back(tpacket_block_desc* b) {
  std::atomic_ref<uint32_t>(b->hdr.bh1.block_status)
      .store(TP_STATUS_KERNEL, std::memory_order_release);
}

}  // namespace

RxRing::RxRing(int fd) : fd_(fd) {
  int version = TPACKET_V3;
  if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) return;
  tpacket_req3 req{};
  req.tp_block_size = kBlockSize;
  req.tp_block_nr = kBlocks;
  req.tp_frame_size = kFrameSize;
  req.tp_frame_nr = static_cast<unsigned>(kBlockSize / kFrameSize * kBlocks);
  req.tp_retire_blk_tov = kBlockTimeoutMs;
  if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) return;
  void* m =
      mmap(nullptr, kBlockSize * kBlocks, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd_, 0);
  if (m == MAP_FAILED)  // MAP_LOCKED may exceed RLIMIT_MEMLOCK: try unlocked
    m = mmap(nullptr, kBlockSize * kBlocks, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) {
    tpacket_req3 none{};
    setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &none, sizeof none);
    return;
  }
  ring_ = static_cast<uint8_t*>(m);
  ring_bytes_ = kBlockSize * kBlocks;
  block_size_ = kBlockSize;
  blocks_ = kBlocks;
}

RxRing::~RxRing() {
  if (ring_) munmap(ring_, ring_bytes_);
}

size_t RxRing::poll(int timeout_ms,
                    const std::function<void(std::span<const uint8_t>, uint8_t)>& frame) {
  if (!ring_) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) return 0;
    return drain_fallback(frame);
  }
  size_t seen = 0;
  auto* block = reinterpret_cast<tpacket_block_desc*>(ring_ + next_ * block_size_);
  if (!(load_status(block) & TP_STATUS_USER)) {
    pollfd pfd{fd_, POLLIN | POLLERR, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) return 0;
  }
  // Every block the kernel has handed over, in ring order.
  for (size_t walked = 0; walked < blocks_; ++walked) {
    block = reinterpret_cast<tpacket_block_desc*>(ring_ + next_ * block_size_);
    if (!(load_status(block) & TP_STATUS_USER)) break;
    const uint32_t n = block->hdr.bh1.num_pkts;
    auto* hdr = reinterpret_cast<tpacket3_hdr*>(reinterpret_cast<uint8_t*>(block) +
                                                block->hdr.bh1.offset_to_first_pkt);
    for (uint32_t i = 0; i < n; ++i) {
      const auto* sll = reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<const uint8_t*>(hdr) +
                                                             TPACKET_ALIGN(sizeof(tpacket3_hdr)));
      frame({reinterpret_cast<const uint8_t*>(hdr) + hdr->tp_mac, hdr->tp_snaplen},
            sll->sll_pkttype);
      ++seen;
      hdr = reinterpret_cast<tpacket3_hdr*>(reinterpret_cast<uint8_t*>(hdr) + hdr->tp_next_offset);
    }
    give_back(block);
    next_ = (next_ + 1) % blocks_;
  }
  return seen;
}

size_t RxRing::drain_fallback(const std::function<void(std::span<const uint8_t>, uint8_t)>& frame) {
  uint8_t buf[2048];
  size_t seen = 0;
  for (;;) {
    sockaddr_ll from{};
    socklen_t fl = sizeof from;
    const ssize_t n =
        recvfrom(fd_, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n <= 0) break;
    frame({buf, static_cast<size_t>(n)}, from.sll_pkttype);
    ++seen;
  }
  return seen;
}

}  // namespace vantage::scanner
