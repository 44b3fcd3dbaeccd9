// rsync daemon (scan_rsync): the daemon greets with "@RSYNCD: <protocol>[ <digests>]\n"; we
// answer with our protocol line and an empty module name, which asks for the module list
// (rsync's clientserver.c: the motd lines, then one "%-15s\t%s\n" line per listable module,
// then "@RSYNCD: EXIT"). No module is opened, so nothing is authenticated or transferred.
//
// module: the listed module names joined with "|"; motd: the lines before the list.
// has_password (whether a module asks for credentials) would need one more connection per
// module, opening it; the probe does not do that, so the column stays empty.
#include <string>
#include <vector>

#include "common/strings.h"
#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

constexpr std::string_view kGreeting = "@RSYNCD: ";
constexpr size_t kMaxReply = 64 * 1024;
constexpr size_t kMaxModules = 512;

bool greeting_ok(std::string_view line) {
  if (!line.starts_with(kGreeting)) return false;
  const std::string_view v = line.substr(kGreeting.size());
  return !v.empty() && v[0] >= '0' && v[0] <= '9';
}

// The server's side (greeting, motd, list, EXIT) into the columns.
Result<nlohmann::json> rsync_parse(std::string_view b) {
  const size_t eol = b.find('\n');
  if (eol == std::string_view::npos || !greeting_ok(b.substr(0, eol)))
    return Error::invalid("no @RSYNCD greeting");
  std::vector<std::string_view> lines;
  bool exit_seen = false;
  for_each_line(b.substr(eol + 1), [&](std::string_view line) {
    if (exit_seen) return;
    if (line == "@RSYNCD: EXIT") {
      exit_seen = true;
      return;
    }
    if (lines.size() < 4 * kMaxModules) lines.push_back(line);
  });
  // A line cut off by a timeout is not judged.
  if (!exit_seen && !b.ends_with("\n") && !lines.empty()) lines.pop_back();
  // The list is the run of tab-separated lines at the end; what precedes it is the motd.
  size_t first_module = lines.size();
  while (first_module > 0 && lines[first_module - 1].find('\t') != std::string_view::npos &&
         !lines[first_module - 1].starts_with("@"))
    --first_module;
  std::vector<std::string> modules, motd;
  for (size_t i = first_module; i < lines.size() && modules.size() < kMaxModules; ++i)
    modules.push_back(printable(trim(lines[i].substr(0, lines[i].find('\t'))), 256));
  for (size_t i = 0; i < first_module; ++i)
    if (!lines[i].starts_with("@ERROR") && !(motd.empty() && lines[i].empty()))
      motd.push_back(printable(lines[i], 1024));
  while (!motd.empty() && motd.back().empty()) motd.pop_back();
  nlohmann::json f = nlohmann::json::object();
  f["module"] = join(modules, "|");
  if (!motd.empty()) f["motd"] = printable(join(motd, "\n"), 4096);
  return f;
}

class RsyncExchange : public Exchange {
 public:
  std::string start() override { return {}; }

  std::string feed(std::string_view chunk, bool* done) override {
    buf_.append(chunk.substr(0, kMaxReply - std::min(buf_.size(), kMaxReply)));
    if (!sent_) {
      const size_t eol = buf_.find('\n');
      if (eol == std::string::npos) {
        if (buf_.size() > 256 || !std::string_view(kGreeting).starts_with(
                                     std::string_view(buf_).substr(0, kGreeting.size())))
          *done = true;
        return {};
      }
      if (!greeting_ok(std::string_view(buf_).substr(0, eol))) {
        *done = true;
        return {};
      }
      sent_ = true;
      // Protocol 30 (rsync 3.0) is understood by every daemon since 2008 and needs no
      // checksum negotiation; the empty line after it asks for the module list.
      return "@RSYNCD: 30.0\n\n";
    }
    const size_t err = buf_.find("@ERROR");
    if (buf_.find("@RSYNCD: EXIT\n") != std::string::npos ||
        (err != std::string::npos && buf_.find('\n', err) != std::string::npos) ||
        buf_.size() >= kMaxReply)
      *done = true;
    return {};
  }

  Result<nlohmann::json> result() override { return rsync_parse(buf_); }

 private:
  std::string buf_;
  bool sent_ = false;
};

}  // namespace

ProbeModule rsync_module() {
  return exchange_module<RsyncExchange>("rsync", "scan_rsync", 873,
                                        {"module", "motd", "has_password"});
}

}  // namespace vantage::scanner
