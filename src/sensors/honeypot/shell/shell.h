#pragma once
// The medium-interaction fake shell shared by the SSH and Telnet honeypots: it answers a
// command line the way a small Linux box would, from canned text, and pulls out the URLs the
// attacker wants fetched (wget, curl, tftp, ftpget). It never runs, fetches or writes
// anything: the answers are strings, the URLs are only logged (payload_url).
//
// Pure functions (no state but what the caller passes), so they are fuzzed directly.

#include <string>
#include <string_view>
#include <vector>

namespace vantage::honeypot::shell {

struct Reply {
  std::string output;             // what the shell prints (LF line ends; telnet turns them CRLF)
  std::vector<std::string> urls;  // what it was told to fetch, in order, at most kMaxUrls
  bool exit = false;              // exit/logout: the session ends
};

constexpr size_t kMaxUrls = 16;        // per command line
constexpr size_t kMaxUrlBytes = 1024;  // a longer token is cut (and still logged)

// Answers one command line (`a; b && c | d`: each part is answered, outputs concatenated).
Reply respond(std::string_view line, std::string_view user);

// The URLs a command line asks to fetch, in order (what respond() puts in `urls`).
std::vector<std::string> fetch_urls(std::string_view line);

// The prompt after a login as `user` ("root@server:~# ").
std::string prompt(std::string_view user);

}  // namespace vantage::honeypot::shell
