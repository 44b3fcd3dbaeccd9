#include "sensors/sinkhole/dns_counts.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "common/strings.h"

namespace vantage::sinkhole {

namespace {

constexpr std::string_view kAggregate = "aggregate";
constexpr std::string_view kRows = "rows.jsonl";
constexpr std::string_view kEmitted = "emitted";
constexpr int64_t kRowsPerSegment = 20000;

std::string errno_text() {
  return std::strerror(errno);
}

std::string period_name(int64_t start) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012lld", static_cast<long long>(start));
  return buf;
}

std::vector<std::string> list_dir(int dir_fd, const std::string& sub) {
  std::vector<std::string> out;
  int fd = sub.empty() ? ::dup(dir_fd)
                       : ::openat(dir_fd, sub.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return out;
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return out;
  }
  ::rewinddir(d);
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Result<std::string> read_at(int dir_fd, const std::string& path) {
  int fd = ::openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::io("cannot open " + path + ": " + errno_text());
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Error::io("cannot read " + path + ": " + errno_text());
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Writes `text` to dir/name atomically (temporary, fsync, rename, fsync of the directory).
Status write_atomically(int dir_fd, const std::string& dir, const std::string& name,
                        std::string_view text) {
  std::string tmp = dir + "/" + name + ".tmp";
  std::string final_name = dir + "/" + name;
  int fd = ::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::io("cannot create " + tmp + ": " + errno_text());
  bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  std::string why = ok ? "" : errno_text();
  ok &= ::close(fd) == 0;
  if (ok) ok = ::renameat(dir_fd, tmp.c_str(), dir_fd, final_name.c_str()) == 0;
  if (!ok) {
    if (why.empty()) why = errno_text();
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    return Error::io("cannot write " + final_name + ": " + why);
  }
  int sub = ::openat(dir_fd, dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sub >= 0) {
    ::fsync(sub);
    ::close(sub);
  }
  return {};
}

Status remove_period(int dir_fd, const std::string& dir) {
  for (const auto& n : list_dir(dir_fd, dir)) {
    std::string p = dir + "/" + n;
    if (::unlinkat(dir_fd, p.c_str(), 0) != 0 && errno != ENOENT) {
      return Error::io("cannot remove " + p + ": " + errno_text());
    }
  }
  if (::unlinkat(dir_fd, dir.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Error::io("cannot remove " + dir + ": " + errno_text());
  }
  ::fsync(dir_fd);
  return {};
}

struct Aggregate {
  int64_t count = 0;
  int64_t first_seen = 0;
  uint16_t first_port = 0;
  std::string family;
};

// Folds one occurrence (or a stored aggregate) into `a`. The first sighting is the earliest;
// ties go to the lower port, then the lower family name, so the result does not depend on
// the order logs are read in (a period emitted again after a crash is the same bytes).
void fold_into(Aggregate& a, int64_t count, int64_t seen, uint16_t port, std::string_view family) {
  bool first = a.count == 0 || seen < a.first_seen ||
               (seen == a.first_seen &&
                (port < a.first_port || (port == a.first_port && family < a.family)));
  a.count += count;
  if (first) {
    a.first_seen = seen;
    a.first_port = port;
    a.family.assign(family);
  }
}

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

struct CountStore::Writer {
  std::mutex mu;
  int fd = -1;
  int64_t period = -1;
  std::string name;  // "<period>/<file>"
  int64_t bytes = 0;
  std::chrono::steady_clock::time_point opened;
  uint64_t seq = 0;
  // Owned by the writer's thread.
  std::string pending;
  int64_t pending_count = 0;
  std::atomic<int64_t> counted{0}, lost{0};
};

CountStore::CountStore(CountStoreOptions options) : options_(std::move(options)) {}

CountStore::~CountStore() {
  for (auto& w : writers_)
    if (w->fd >= 0) ::close(w->fd);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

Result<std::unique_ptr<CountStore>> CountStore::open(CountStoreOptions options) {
  if (options.period_s < 1 || 86400 % options.period_s != 0) {
    return Error::invalid("the DNS aggregation period must divide a day (86400 s)");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Error::io("cannot create " + options.dir + ": " + ec.message());
  auto s = std::unique_ptr<CountStore>(new CountStore(std::move(options)));
  s->dir_fd_ = ::open(s->options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dir_fd_ < 0) return Error::io("cannot open " + s->options_.dir + ": " + errno_text());
  s->run_ = std::to_string(now_seconds()) + "-" + std::to_string(::getpid());
  for (int i = 0; i < std::max(1, s->options_.writers); ++i) {
    s->writers_.push_back(std::make_unique<Writer>());
  }
  // Temporaries of an interrupted aggregate or rows file are never the truth: drop them.
  for (const auto& p : list_dir(s->dir_fd_, "")) {
    for (const auto& n : list_dir(s->dir_fd_, p)) {
      if (n.ends_with(".tmp")) ::unlinkat(s->dir_fd_, (p + "/" + n).c_str(), 0);
    }
  }
  s->min_period_.store(now_seconds() / s->options_.period_s);
  return s;
}

void CountStore::add(int writer, std::string_view proto, const IpAddress& ip, uint16_t port,
                     std::string_view qtype, std::string_view family, std::string_view qname) {
  Writer& w = *writers_[static_cast<size_t>(writer)];
  std::string& p = w.pending;
  p.append(proto);
  p.push_back('\t');
  p.append(ip.to_string());
  p.push_back('\t');
  char num[8];
  auto r = std::to_chars(num, num + sizeof num, port);
  p.append(num, static_cast<size_t>(r.ptr - num));
  p.push_back('\t');
  p.append(qtype);
  p.push_back('\t');
  p.append(family.empty() ? std::string_view("-") : family);
  p.push_back('\t');
  p.append(qname.empty() ? std::string_view(".") : qname);
  p.push_back('\n');
  ++w.pending_count;
}

Status CountStore::commit(int writer) {
  Writer& w = *writers_[static_cast<size_t>(writer)];
  if (w.pending_count == 0) return {};
  int64_t count = w.pending_count;
  w.pending_count = 0;
  Status result;
  {
    std::lock_guard lock(w.mu);
    UnixSeconds now = now_seconds();
    int64_t period = std::max(now / options_.period_s, min_period_.load());
    UnixSeconds stamp = std::max(now, period * options_.period_s);
    if (w.fd >= 0 && w.period != period) {
      ::close(w.fd);
      w.fd = -1;
    }
    if (w.fd < 0) {
      std::string dir = period_name(period * options_.period_s);
      if (::mkdirat(dir_fd_, dir.c_str(), 0755) != 0 && errno != EEXIST) {
        result = Error::io("cannot create " + options_.dir + "/" + dir + ": " + errno_text());
      } else {
        w.name = dir + "/w" + std::to_string(writer) + "-" + run_ + "-" + std::to_string(++w.seq) +
                 ".log";
        w.fd = ::openat(dir_fd_, w.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                        0644);
        if (w.fd < 0) {
          result = Error::io("cannot create " + options_.dir + "/" + w.name + ": " + errno_text());
        } else {
          w.period = period;
          w.bytes = 0;
          w.opened = std::chrono::steady_clock::now();
        }
      }
    }
    if (w.fd >= 0) {
      char head[32];
      int hn = std::snprintf(head, sizeof head, "@%lld\n", static_cast<long long>(stamp));
      iovec iov[2] = {{head, static_cast<size_t>(hn)}, {w.pending.data(), w.pending.size()}};
      size_t total = static_cast<size_t>(hn) + w.pending.size();
      ssize_t n = ::writev(w.fd, iov, 2);
      bool ok = n == static_cast<ssize_t>(total);
      if (!ok && n >= 0) {  // partial (a full disk, a signal): finish or undo
        std::string rest = std::string(head, static_cast<size_t>(hn)) + w.pending;
        ok = write_all(w.fd, std::string_view(rest).substr(static_cast<size_t>(n)));
      }
      if (ok) {
        w.bytes += static_cast<int64_t>(total);
        w.counted.fetch_add(count, std::memory_order_relaxed);
      } else {
        result = Error::io("cannot append to " + options_.dir + "/" + w.name + ": " + errno_text());
        (void)::ftruncate(w.fd, w.bytes);
      }
    }
  }
  if (!result.ok()) w.lost.fetch_add(count, std::memory_order_relaxed);
  w.pending.clear();
  if (w.pending.capacity() > (1 << 20)) w.pending.shrink_to_fit();
  return result;
}

Status CountStore::fold(int64_t period_start, const std::vector<std::string>& logs, bool final,
                        std::vector<DnsRow>* rows) {
  std::string dir = period_name(period_start);
  std::unordered_map<std::string, Aggregate> agg;
  std::set<std::string> already;  // logs the aggregate holds
  int64_t torn = 0;
  std::string agg_path = dir + "/" + std::string(kAggregate);
  struct stat st {};
  if (::fstatat(dir_fd_, agg_path.c_str(), &st, 0) == 0) {
    auto text = read_at(dir_fd_, agg_path);
    if (!text) return text.error();
    for (auto line : split(*text, '\n')) {
      auto f = split(line, '\t');
      if (f.size() == 2 && f[0] == "merged") {
        already.insert(std::string(f[1]));
      } else if (f.size() == 9 && f[0] == "row") {
        auto count = to_int(f[5]), seen = to_int(f[6]), port = to_int(f[7]);
        if (!count || !seen || !port) continue;
        std::string key = std::string(f[1]) + '\t' + std::string(f[2]) + '\t' + std::string(f[3]) +
                          '\t' + std::string(f[4]);
        fold_into(agg[key], *count, *seen, static_cast<uint16_t>(*port), f[8]);
      }
    }
  }
  std::vector<std::string> applied;
  for (const auto& log : logs) {
    std::string path = dir + "/" + log;
    if (already.count(log)) {  // folded before a crash stopped its deletion
      ::unlinkat(dir_fd_, path.c_str(), 0);
      continue;
    }
    auto text = read_at(dir_fd_, path);
    if (!text) return text.error();
    std::string_view all = *text;
    size_t end = all.rfind('\n');
    if (end == std::string_view::npos)
      end = 0;
    else
      ++end;
    if (end < all.size()) ++torn;  // the write a kill cut short: never acknowledged
    int64_t stamp = period_start;
    for (auto line : split(all.substr(0, end), '\n')) {
      if (line.empty()) continue;
      if (line[0] == '@') {
        if (auto t = to_int(line.substr(1))) stamp = *t;
        continue;
      }
      auto f = split(line, '\t');
      if (f.size() != 6) {
        ++torn;
        continue;
      }
      auto port = to_int(f[2]);
      if (!port || *port < 0 || *port > 65535) {
        ++torn;
        continue;
      }
      std::string key;
      key.reserve(line.size());
      key.append(f[0]).push_back('\t');
      key.append(f[1]).push_back('\t');
      key.append(f[3]).push_back('\t');
      key.append(f[5]);
      fold_into(agg[key], 1, stamp, static_cast<uint16_t>(*port), f[4]);
    }
    applied.push_back(log);
  }
  {
    std::lock_guard lock(stats_mu_);
    stats_.torn_lines += torn;
    ++stats_.merges;
  }
  std::vector<std::pair<std::string, Aggregate>> sorted(std::make_move_iterator(agg.begin()),
                                                        std::make_move_iterator(agg.end()));
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  if (final) {
    for (auto& [key, a] : sorted) {
      auto f = split(key, '\t');
      DnsRow r;
      r.proto = std::string(f[0]);
      r.ip = std::string(f[1]);
      r.qtype = std::string(f[2]);
      r.qname = std::string(f[3]);
      r.family = std::move(a.family);
      r.count = a.count;
      r.first_seen = a.first_seen;
      r.first_port = a.first_port;
      rows->push_back(std::move(r));
    }
    return {};
  }
  std::string text = "# vantage sinkhole DNS counts of one period (see docs/sinkholes.md)\n";
  for (const auto& l : applied) text += "merged\t" + l + "\n";
  for (const auto& [key, a] : sorted) {
    auto f = split(key, '\t');
    text += "row\t" + std::string(f[0]) + "\t" + std::string(f[1]) + "\t" + std::string(f[2]) +
            "\t" + std::string(f[3]) + "\t" + std::to_string(a.count) + "\t" +
            std::to_string(a.first_seen) + "\t" + std::to_string(a.first_port) + "\t" + a.family +
            "\n";
  }
  if (auto written = write_atomically(dir_fd_, dir, std::string(kAggregate), text); !written) {
    return written;
  }
  for (const auto& l : applied) ::unlinkat(dir_fd_, (dir + "/" + l).c_str(), 0);
  return {};
}

Status CountStore::maintain(UnixSeconds now, const RowFormatter& format, const Emitter& emit) {
  int64_t cur = std::max(now / options_.period_s, min_period_.load());
  // Writers move on to `cur` before any log of an earlier period is treated as closed.
  int64_t seen = min_period_.load();
  while (seen < cur && !min_period_.compare_exchange_weak(seen, cur)) {
  }
  auto steady = std::chrono::steady_clock::now();
  for (auto& w : writers_) {
    std::lock_guard lock(w->mu);
    if (w->fd >= 0 && (w->period < cur || w->bytes >= options_.rotate_bytes ||
                       steady - w->opened >= options_.rotate_age)) {
      ::close(w->fd);
      w->fd = -1;
    }
  }
  // List first, then see which logs are open: a log listed and not open now is closed for
  // good (a writer never reopens one).
  std::vector<std::pair<std::string, std::vector<std::string>>> periods;
  for (const auto& p : list_dir(dir_fd_, "")) {
    if (p.size() != 12 || !std::all_of(p.begin(), p.end(), ::isdigit)) continue;
    periods.emplace_back(p, list_dir(dir_fd_, p));
  }
  std::set<std::string> open_logs;
  for (auto& w : writers_) {
    std::lock_guard lock(w->mu);
    if (w->fd >= 0) open_logs.insert(w->name);
  }
  Status result;
  int64_t pending = 0;
  for (const auto& period : periods) {
    const std::string& dir = period.first;
    const std::vector<std::string>& names = period.second;
    int64_t start = *to_int(dir);
    auto has = [&](std::string_view n) {
      return std::find(names.begin(), names.end(), n) != names.end();
    };
    if (has(kEmitted)) {
      if (auto st = remove_period(dir_fd_, dir); !st) result = st;
      continue;
    }
    ++pending;
    std::vector<std::string> closed;
    int64_t closed_bytes = 0;
    for (const auto& n : names) {
      if (!n.ends_with(".log") || open_logs.count(dir + "/" + n)) continue;
      closed.push_back(n);
      struct stat info {};
      if (::fstatat(dir_fd_, (dir + "/" + n).c_str(), &info, 0) == 0) closed_bytes += info.st_size;
    }
    bool ended =
        start / options_.period_s < cur && now >= start + options_.period_s + options_.grace_s;
    if (!ended) {
      // Fold when the closed logs are large, and at least as large as the aggregate they are
      // folded into: each fold rewrites the aggregate, so this keeps the work per logged query
      // constant however many distinct keys a day has.
      struct stat agg {};
      int64_t agg_bytes =
          ::fstatat(dir_fd_, (dir + "/" + std::string(kAggregate)).c_str(), &agg, 0) == 0
              ? agg.st_size
              : 0;
      if (closed_bytes >= std::max(options_.merge_bytes, agg_bytes)) {
        if (auto st = fold(start, closed, false, nullptr); !st) result = st;
      }
      continue;
    }
    // The period is over: its rows, once, then the marker.
    std::string rows_path = dir + "/" + std::string(kRows);
    std::string jsonl;
    int64_t row_count = 0;
    if (has(kRows)) {
      auto text = read_at(dir_fd_, rows_path);
      if (!text) {
        result = text.error();
        continue;
      }
      jsonl = std::move(*text);
      row_count = static_cast<int64_t>(std::count(jsonl.begin(), jsonl.end(), '\n'));
    } else {
      std::vector<DnsRow> rows;
      if (auto st = fold(start, closed, true, &rows); !st) {
        result = st;
        continue;
      }
      format(start, rows, jsonl);
      row_count = static_cast<int64_t>(rows.size());
      if (auto st = write_atomically(dir_fd_, dir, std::string(kRows), jsonl); !st) {
        result = st;
        continue;
      }
    }
    // Segments of a fixed number of rows: the same rows give the same segments.
    bool ok = true;
    std::string_view rest = jsonl;
    while (ok && !rest.empty()) {
      size_t cut = 0;
      int64_t n = 0;
      while (cut < rest.size() && n < kRowsPerSegment) {
        size_t nl = rest.find('\n', cut);
        cut = nl == std::string_view::npos ? rest.size() : nl + 1;
        ++n;
      }
      if (auto st = emit(rest.substr(0, cut), n); !st) {
        result = st;
        ok = false;
      }
      rest.remove_prefix(cut);
    }
    if (!ok) continue;
    std::string marker = std::to_string(row_count) + " rows\n";
    if (auto st = write_atomically(dir_fd_, dir, std::string(kEmitted), marker); !st) {
      result = st;
      continue;
    }
    {
      std::lock_guard lock(stats_mu_);
      ++stats_.periods_emitted;
      stats_.rows_emitted += row_count;
    }
    --pending;
    if (auto st = remove_period(dir_fd_, dir); !st) result = st;
  }
  std::lock_guard lock(stats_mu_);
  stats_.pending_periods = pending;
  stats_.last_error = result.ok() ? "" : result.message();
  return result;
}

Result<std::vector<DnsRow>> CountStore::read_period(int64_t period_start) {
  std::string dir = period_name(period_start);
  std::vector<std::string> logs;
  for (const auto& n : list_dir(dir_fd_, dir))
    if (n.ends_with(".log")) logs.push_back(n);
  std::vector<DnsRow> rows;
  // A read-only fold: every log and the aggregate, nothing written.
  if (auto st = fold(period_start, logs, true, &rows); !st) return st.error();
  return rows;
}

CountStoreStats CountStore::stats() const {
  CountStoreStats s;
  {
    std::lock_guard lock(stats_mu_);
    s = stats_;
  }
  for (const auto& w : writers_) {
    s.counted += w->counted.load(std::memory_order_relaxed);
    s.lost += w->lost.load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace vantage::sinkhole
