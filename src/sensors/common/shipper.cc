#include "sensors/common/shipper.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace vantage::sensors {

namespace fs = std::filesystem;

namespace {

// The whole segment, read through the journal's directory descriptor.
Result<std::string> read_segment(const EventJournal& journal, const std::string& name) {
  auto fd = journal.open_segment(name);
  if (!fd) return fd.error();
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(*fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(*fd);
      return Error::io("cannot read " + journal.dir() + "/" + name + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(*fd);
  return out;
}

class InboxDestination : public SegmentDestination {
 public:
  explicit InboxDestination(std::string inbox) : inbox_(std::move(inbox)) {
    std::error_code ec;
    fs::create_directories(inbox_, ec);
    inbox_fd_ = ::open(inbox_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  ~InboxDestination() override {
    if (inbox_fd_ >= 0) ::close(inbox_fd_);
  }

  Outcome deliver(EventJournal& journal, const std::string& name) override {
    if (inbox_fd_ < 0) return {Verdict::kRetry, "cannot open the inbox " + inbox_};
    if (::renameat(journal.dir_fd(), name.c_str(), inbox_fd_, name.c_str()) == 0) {
      return {Verdict::kTaken, {}};
    }
    if (errno != EXDEV) return {Verdict::kRetry, std::strerror(errno)};
    // Another file system: copy under a name the inbox watcher skips, make it durable, then
    // publish it with a rename. A crash before the source is removed ships it again, which
    // the pipeline recognises by content.
    auto bytes = read_segment(journal, name);
    if (!bytes) return {Verdict::kRetry, bytes.error().message};
    std::string part = name + ".part";
    int fd = ::openat(inbox_fd_, part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return {Verdict::kRetry, "cannot write " + inbox_ + "/" + part};
    bool ok = ::write(fd, bytes->data(), bytes->size()) == static_cast<ssize_t>(bytes->size());
    ok &= ::fsync(fd) == 0;
    ok &= ::close(fd) == 0;
    if (!ok || ::renameat(inbox_fd_, part.c_str(), inbox_fd_, name.c_str()) != 0) {
      return {Verdict::kRetry, "cannot write " + inbox_ + "/" + name};
    }
    return {Verdict::kTaken, {}};
  }

  std::string describe() const override { return "inbox " + inbox_; }

  Status usable() const override {
    if (inbox_fd_ < 0) return Error::io("cannot open the inbox " + inbox_);
    if (::faccessat(inbox_fd_, ".", W_OK, AT_EACCESS) != 0) {
      return Error{ErrorCode::kPermissionDenied,
                   "the inbox " + inbox_ + " is not writable by the user the sensor runs as"};
    }
    return {};
  }

 private:
  std::string inbox_;
  int inbox_fd_ = -1;
};

size_t collect_body(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() < 4096) out->append(data, std::min(size * n, 4096 - out->size()));
  return size * n;
}

class PushDestination : public SegmentDestination {
 public:
  explicit PushDestination(PushTarget t) : t_(std::move(t)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl_ = curl_easy_init();
  }
  ~PushDestination() override {
    if (curl_) curl_easy_cleanup(curl_);
  }

  Outcome deliver(EventJournal& journal, const std::string& name) override {
    auto body = read_segment(journal, name);
    if (!body) return {Verdict::kRetry, body.error().message};
    if (!curl_) return {Verdict::kRetry, "libcurl unavailable"};
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    HMAC(EVP_sha256(), t_.secret.data(), static_cast<int>(t_.secret.size()),
         reinterpret_cast<const unsigned char*>(body->data()), body->size(), mac, &mac_len);
    std::string key_header = "X-Vantage-Key: " + t_.key;
    std::string mac_header = "HMAC2: " + hex_encode(mac, mac_len);
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, key_header.c_str());
    headers = curl_slist_append(headers, mac_header.c_str());
    headers = curl_slist_append(headers, "Content-Type: application/x-ndjson");
    headers = curl_slist_append(headers, "Expect:");
    std::string reply;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, t_.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, static_cast<long>(t_.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &reply);
    CURLcode rc = curl_easy_perform(curl_);
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) return {Verdict::kRetry, curl_easy_strerror(rc)};
    if (status == 200) return {Verdict::kTaken, {}};
    std::string detail = "HTTP " + std::to_string(status) + " " + strip_control(reply);
    // 400: the body itself is refused; sending it again cannot help. 401/403 (a key being
    // rotated), 413, 429 and 5xx may pass later.
    if (status == 400) return {Verdict::kRejected, detail};
    return {Verdict::kRetry, detail};
  }

  std::string describe() const override { return "push " + t_.url; }

 private:
  PushTarget t_;
  CURL* curl_ = nullptr;
};

}  // namespace

std::unique_ptr<SegmentDestination> inbox_destination(std::string inbox_dir) {
  return std::make_unique<InboxDestination>(std::move(inbox_dir));
}

std::unique_ptr<SegmentDestination> push_destination(PushTarget target) {
  return std::make_unique<PushDestination>(std::move(target));
}

Shipper::Shipper(EventJournal& journal, std::unique_ptr<SegmentDestination> destination,
                 ShipperOptions options)
    : journal_(journal), destination_(std::move(destination)), options_(options) {
  thread_ = std::thread([this] { run(); });
}

Shipper::~Shipper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool Shipper::ship_once(bool force_rotate) {
  if (auto st = journal_.rotate(force_rotate); !st) {
    std::lock_guard lock(mu_);
    stats_.last_error = st.message();
  }
  auto ready = journal_.ready_segments();
  {
    std::lock_guard lock(mu_);
    stats_.backlog = static_cast<int64_t>(ready.size());
  }
  for (size_t i = 0; i < ready.size(); ++i) {
    auto outcome = destination_->deliver(journal_, ready[i]);
    std::lock_guard lock(mu_);
    stats_.backlog = static_cast<int64_t>(ready.size() - i);
    switch (outcome.verdict) {
      case SegmentDestination::Verdict::kTaken: {
        (void)journal_.remove_segment(ready[i]);  // gone already when moved into the inbox
        ++stats_.segments_shipped;
        --stats_.backlog;
        break;
      }
      case SegmentDestination::Verdict::kRejected: {
        // Kept aside with the reason, never deleted: nothing logged is lost.
        (void)journal_.set_aside(ready[i], outcome.detail);
        ++stats_.segments_rejected;
        --stats_.backlog;
        stats_.last_error = outcome.detail;
        break;
      }
      case SegmentDestination::Verdict::kRetry:
        ++stats_.delivery_failures;
        stats_.last_error = destination_->describe() + ": " + outcome.detail;
        return false;
    }
  }
  return true;
}

void Shipper::run() {
  auto backoff = std::chrono::milliseconds(0);
  std::unique_lock lock(mu_);
  while (true) {
    if (backoff.count() > 0) {
      // A failed delivery waits out its back-off even when a flush is asked for.
      cv_.wait_for(lock, backoff, [&] { return stop_; });
    } else {
      cv_.wait_for(lock, options_.poll, [&] { return stop_ || flush_requested_ > flush_done_; });
    }
    bool stopping = stop_;
    uint64_t serving = flush_requested_;
    bool force = serving > flush_done_ || stopping;
    lock.unlock();
    bool ok = ship_once(force);
    lock.lock();
    if (ok) {
      backoff = std::chrono::milliseconds(0);
      if (serving > flush_done_) {
        flush_done_ = serving;
        cv_.notify_all();
      }
    } else {
      backoff =
          std::min(options_.max_backoff, std::max(std::chrono::milliseconds(250), backoff * 2));
    }
    if (stopping) return;
  }
}

bool Shipper::flush(std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  std::unique_lock lock(mu_);
  uint64_t mine = ++flush_requested_;
  cv_.notify_all();
  return cv_.wait_until(lock, until, [&] { return flush_done_ >= mine && stats_.backlog == 0; });
}

ShipperStats Shipper::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace vantage::sensors
