#include "sensors/honeypot/shell/shell.h"

#include <algorithm>
#include <cctype>

namespace vantage::honeypot::shell {

namespace {

constexpr size_t kMaxCommands = 64;  // per line
constexpr size_t kMaxWords = 256;    // per command

using Words = std::vector<std::string>;

// Splits a line into commands at ; & | and newlines outside quotes, and each command into
// words (quotes removed, a backslash escapes the next character). Bounded in both counts.
std::vector<Words> parse(std::string_view line) {
  std::vector<Words> commands(1);
  std::string word;
  bool in_word = false;
  char quote = 0;
  auto end_word = [&] {
    if (in_word && commands.back().size() < kMaxWords) commands.back().push_back(word);
    word.clear();
    in_word = false;
  };
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
      continue;
    }
    if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ';' || c == '&' || c == '|' || c == '\n' || c == '\r') {
      end_word();
      if (!commands.back().empty()) {
        if (commands.size() == kMaxCommands) break;
        commands.emplace_back();
      }
    } else if (c == ' ' || c == '\t') {
      end_word();
    } else {
      word += c;
      in_word = true;
    }
  }
  end_word();
  if (commands.back().empty()) commands.pop_back();
  return commands;
}

std::string_view basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Drops the words that only run the next one: "busybox wget", "sudo -u x wget", "nohup wget".
size_t command_start(const Words& w) {
  size_t i = 0;
  while (i < w.size()) {
    std::string_view p = basename(w[i]);
    if ((p == "busybox" || p == "sudo" || p == "nohup" || p == "exec" || p == "timeout") &&
        i + 1 < w.size()) {
      ++i;
      while (i < w.size() && !w[i].empty() &&
             (w[i][0] == '-' || std::isdigit(static_cast<unsigned char>(w[i][0]))))
        ++i;
      continue;
    }
    break;
  }
  return i;
}

std::string cut(std::string_view s) {
  return std::string(s.substr(0, kMaxUrlBytes));
}

bool looks_like_host_path(std::string_view s) {
  if (s.empty() || s[0] == '-' || s[0] == '/' || s[0] == '.' || s[0] == '>') return false;
  std::string_view host = s.substr(0, s.find('/'));
  return host.find('.') != std::string_view::npos || host.find(':') != std::string_view::npos;
}

bool in(std::string_view s, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

void wget_curl_urls(const Words& w, size_t start, bool curl, std::vector<std::string>& out) {
  // Options that take the next word as their value (so it is not read as a URL).
  static const std::initializer_list<std::string_view> kWgetValue = {"-O",
                                                                     "-o",
                                                                     "-a",
                                                                     "-P",
                                                                     "-U",
                                                                     "-e",
                                                                     "-t",
                                                                     "-T",
                                                                     "-w",
                                                                     "-i",
                                                                     "-B",
                                                                     "--header",
                                                                     "--user-agent",
                                                                     "--output-document",
                                                                     "--directory-prefix",
                                                                     "--tries",
                                                                     "--timeout",
                                                                     "--user",
                                                                     "--password"};
  static const std::initializer_list<std::string_view> kCurlValue = {
      "-o",        "-A",     "-H",        "-d",           "-X",       "-u",
      "-e",        "-b",     "-c",        "-T",           "-m",       "-x",
      "-K",        "-E",     "--output",  "--user-agent", "--header", "--data",
      "--request", "--user", "--referer", "--max-time",   "--proxy",  "--connect-timeout",
      "--retry"};
  for (size_t i = start + 1; i < w.size() && out.size() < kMaxUrls; ++i) {
    const std::string& a = w[i];
    if (in(a, curl ? kCurlValue : kWgetValue)) {
      ++i;
      continue;
    }
    if (a.find("://") != std::string::npos) {
      out.push_back(cut(a));
    } else if (looks_like_host_path(a)) {
      out.push_back(cut("http://" + a));
    }
  }
}

// busybox: tftp [-g|-p] [-l LOCAL] [-r REMOTE] HOST [PORT]; classic: tftp HOST -c get FILE.
void tftp_urls(const Words& w, size_t start, std::vector<std::string>& out) {
  std::string remote, local, host, port;
  for (size_t i = start + 1; i < w.size(); ++i) {
    const std::string& a = w[i];
    if ((a == "-r" || a == "-l") && i + 1 < w.size()) {
      (a == "-r" ? remote : local) = w[++i];
    } else if (a == "-c" && i + 2 < w.size()) {
      remote = w[i + 2];
      i += 2;
    } else if (!a.empty() && a[0] == '-') {
      continue;
    } else if (host.empty()) {
      host = a;
    } else if (port.empty()) {
      port = a;
    }
  }
  if (remote.empty()) remote = local;
  if (host.empty() || remote.empty()) return;
  std::string url = "tftp://" + host;
  if (!port.empty() && std::all_of(port.begin(), port.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      }))
    url += ":" + port;
  url += "/" + remote;
  out.push_back(cut(url));
}

// busybox: ftpget [-u USER] [-p PASS] [-P PORT] HOST LOCAL_FILE REMOTE_FILE.
void ftpget_urls(const Words& w, size_t start, std::vector<std::string>& out) {
  std::vector<std::string_view> plain;
  std::string port;
  for (size_t i = start + 1; i < w.size(); ++i) {
    if ((w[i] == "-u" || w[i] == "-p" || w[i] == "-P") && i + 1 < w.size()) {
      if (w[i] == "-P") port = w[i + 1];
      ++i;
    } else if (!w[i].empty() && w[i][0] != '-') {
      plain.push_back(w[i]);
    }
  }
  if (plain.size() < 2) return;
  std::string url = "ftp://" + std::string(plain[0]);
  if (!port.empty()) url += ":" + port;
  url += "/" + std::string(plain.size() >= 3 ? plain[2] : plain[1]);
  out.push_back(cut(url));
}

void urls_of(const Words& w, std::vector<std::string>& out) {
  size_t s = command_start(w);
  if (s >= w.size()) return;
  std::string_view p = basename(w[s]);
  if (p == "wget" || p == "curl") {
    wget_curl_urls(w, s, p == "curl", out);
  } else if (p == "tftp") {
    tftp_urls(w, s, out);
  } else if (p == "ftpget") {
    ftpget_urls(w, s, out);
  }
}

std::string host_of(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  return std::string(url.substr(0, url.find_first_of("/:")));
}

constexpr std::string_view kUname =
    "Linux server 5.10.0-26-amd64 #1 SMP Debian 5.10.197-1 (2023-09-29) x86_64 GNU/Linux\n";
constexpr std::string_view kCpuinfo =
    "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
    "model name\t: Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz\ncpu MHz\t\t: 2100.000\n"
    "cache size\t: 11264 KB\ncpu cores\t: 1\nflags\t\t: fpu vme de pse tsc msr pae mce cx8\n\n";
constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "bin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\n"
    "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "admin:x:1000:1000:admin,,,:/home/admin:/bin/bash\n";

void answer(const Words& w, std::string_view user, Reply& r) {
  size_t s = command_start(w);
  if (s >= w.size()) return;
  std::string_view p = basename(w[s]);
  std::string_view arg1 = s + 1 < w.size() ? std::string_view(w[s + 1]) : std::string_view();
  bool root = user == "root";
  if (p == "exit" || p == "logout" || p == "quit") {
    r.exit = true;
  } else if (p == "whoami") {
    r.output.append(user).append("\n");
  } else if (p == "id") {
    r.output.append(root ? "uid=0(root) gid=0(root) groups=0(root)\n"
                         : "uid=1000(" + std::string(user) + ") gid=1000(" + std::string(user) +
                               ") groups=1000(" + std::string(user) + ")\n");
  } else if (p == "pwd") {
    r.output.append(root ? "/root\n" : "/home/" + std::string(user) + "\n");
  } else if (p == "uname") {
    r.output.append(arg1 == "-a"   ? kUname
                    : arg1 == "-m" ? "x86_64\n"
                    : arg1 == "-r" ? "5.10.0-26-amd64\n"
                    : arg1 == "-n" ? "server\n"
                                   : "Linux\n");
  } else if (p == "echo") {
    size_t i = s + 1;
    while (i < w.size() && (w[i] == "-e" || w[i] == "-n" || w[i] == "-ne")) ++i;
    for (size_t k = i; k < w.size(); ++k) r.output.append(k > i ? " " : "").append(w[k]);
    r.output.append("\n");
  } else if (p == "cat") {
    if (arg1 == "/proc/cpuinfo") {
      r.output.append(kCpuinfo);
    } else if (arg1 == "/etc/passwd") {
      r.output.append(kPasswd);
    } else if (!arg1.empty()) {
      r.output.append("cat: ").append(arg1).append(": No such file or directory\n");
    }
  } else if (p == "wget") {
    std::vector<std::string> u;
    wget_curl_urls(w, s, false, u);
    for (const auto& url : u) {
      std::string host = host_of(url);
      r.output.append("--")
          .append(url)
          .append("\nResolving ")
          .append(host)
          .append(
              "... failed: Temporary failure in name resolution.\nwget: unable to resolve host "
              "address '" +
              host + "'\n");
    }
  } else if (p == "curl") {
    std::vector<std::string> u;
    wget_curl_urls(w, s, true, u);
    for (const auto& url : u)
      r.output.append("curl: (6) Could not resolve host: " + host_of(url) + "\n");
  } else if (p == "tftp" || p == "ftpget") {
    r.output.append(std::string(p) + ": timeout\n");
  } else if (p == "busybox") {
    r.output.append("BusyBox v1.30.1 (Debian 1:1.30.1-6+b3) multi-call binary.\n");
  } else if (p == "uptime") {
    r.output.append(" 10:12:31 up 41 days,  3:07,  1 user,  load average: 0.08, 0.03, 0.01\n");
  } else if (p == "free") {
    r.output.append(
        "               total        used        free      shared  buff/cache   available\n"
        "Mem:         2030516      341200     1207404        1016      481912     1525712\n"
        "Swap:        1046524           0     1046524\n");
  } else if (in(p, {"cd",      "chmod",      "chown",   "rm",      "mkdir", "export", "ulimit",
                    "history", "unset",      "kill",    "killall", "pkill", "sh",     "bash",
                    "sleep",   "cp",         "mv",      "touch",   "true",  "enable", "system",
                    "shell",   "linuxshell", "crontab", "ps",      "w",     "nproc",  "sync",
                    "dd",      "head",       "tail",    "grep",    "awk",   "sed",    "which",
                    "command", "ls"})) {
    // Quiet successes, as these usually are.
    if (p == "nproc") r.output.append("1\n");
  } else if (w[s].size() > 0 && w[s].size() <= 64) {
    // Mirai's "/bin/busybox ECCHI" checks: an unknown applet.
    if (s > 0 && basename(w[s - 1]) == "busybox") {
      r.output.append(w[s]).append(": applet not found\n");
    } else {
      r.output.append("-bash: ").append(w[s]).append(": command not found\n");
    }
  }
}

}  // namespace

std::vector<std::string> fetch_urls(std::string_view line) {
  std::vector<std::string> out;
  for (const auto& w : parse(line)) {
    if (out.size() >= kMaxUrls) break;
    urls_of(w, out);
  }
  if (out.size() > kMaxUrls) out.resize(kMaxUrls);
  return out;
}

Reply respond(std::string_view line, std::string_view user) {
  Reply r;
  for (const auto& w : parse(line)) {
    if (r.urls.size() < kMaxUrls) urls_of(w, r.urls);
    answer(w, user, r);
    if (r.exit) break;
  }
  if (r.urls.size() > kMaxUrls) r.urls.resize(kMaxUrls);
  return r;
}

std::string prompt(std::string_view user) {
  return user == "root" ? "root@server:~# " : std::string(user) + "@server:~$ ";
}

}  // namespace vantage::honeypot::shell
