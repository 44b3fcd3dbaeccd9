// The SSH honeypot: libssh's server (Debian libssh-dev) does the SSH transport (key exchange,
// host key signature, encryption); we log every password it is given as an
// event4_honeypot_brute_force row and refuse it, or, in medium mode, let root/admin into the
// fake shell (shell/shell.h), which logs the URLs it is told to fetch.
//
// How it runs. libssh owns the sockets it is given and reads them greedily, and its public
// API does not hand out the client's KEXINIT (the HASSH fingerprint's input) nor its packets.
// So libssh never gets the client's TCP socket: each connection gets a socketpair, libssh
// holds one end, and we relay bytes between the client's socket and the other end. On the
// way through we read the client's identification line and KEXINIT, which travel in the
// clear (ssh/client_hello.h), and we enforce the bounds (idle and session timeouts, input and
// output caps) on the client's socket, as the TCP reactor does for the other services.
// A few loop threads (honeypot.threads), each with its own epoll, SO_REUSEPORT listening
// socket and ssh_bind (host keys loaded before privileges drop), run many connections each:
// libssh sessions are non-blocking, and a loop drives a session (key exchange, then
// messages through ssh_set_message_callback) whenever its socketpair end has bytes for it.
// Nothing here ever connects anywhere: sessions are refused port forwarding and every
// channel but a shell/exec session in medium mode.

#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "sensors/honeypot/login.h"
#include "sensors/honeypot/shell/shell.h"
#include "sensors/honeypot/ssh/client_hello.h"

namespace vantage::honeypot {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxPending = 256 * 1024;  // bytes queued either way for a slow side
constexpr size_t kMaxShellLine = 4096;
constexpr size_t kMaxHasshEntries = 256;  // distinct fingerprints kept for status.json
constexpr int kMaxEvents = 256;

// ---------------------------------------------------------------------------------------
// Host keys: the configured one, or ours, generated once into the state directory.

Result<std::vector<std::string>> host_key_files(const HoneypotSettings& s,
                                                const std::string& state_dir) {
  if (!s.ssh_host_key.empty()) {
    ssh_key key = nullptr;
    if (ssh_pki_import_privkey_file(s.ssh_host_key.c_str(), nullptr, nullptr, nullptr, &key) !=
        SSH_OK) {
      return Error::invalid("cannot read the SSH host key " + s.ssh_host_key);
    }
    ssh_key_free(key);
    return std::vector<std::string>{s.ssh_host_key};
  }
  fs::path dir = fs::path(state_dir) / "ssh";
  std::error_code ec;
  fs::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  struct Kind {
    const char* file;
    ssh_keytypes_e type;
    int bits;
  };
  // What a stock OpenSSH offers (an RSA key too: old clients know nothing else).
  const Kind kinds[] = {{"ssh_host_ed25519_key", SSH_KEYTYPE_ED25519, 0},
                        {"ssh_host_ecdsa_key", SSH_KEYTYPE_ECDSA_P256, 256},
                        {"ssh_host_rsa_key", SSH_KEYTYPE_RSA, 2048}};
  std::vector<std::string> files;
  for (const auto& k : kinds) {
    fs::path p = dir / k.file;
    if (!fs::exists(p)) {
      ssh_key key = nullptr;
      if (ssh_pki_generate(k.type, k.bits, &key) != SSH_OK) {
        return Error::internal(std::string("cannot generate an SSH host key: ") + k.file);
      }
      fs::path tmp = p;
      tmp += ".tmp";
      int rc = ssh_pki_export_privkey_file(key, nullptr, nullptr, nullptr, tmp.c_str());
      ssh_key_free(key);
      if (rc != SSH_OK || ::chmod(tmp.c_str(), 0600) != 0) {
        return Error::io("cannot write " + tmp.string());
      }
      fs::rename(tmp, p, ec);
      if (ec) return Error::io("cannot write " + p.string() + ": " + ec.message());
    }
    files.push_back(p.string());
  }
  return files;
}

// ---------------------------------------------------------------------------------------
// Counters shown in status.json.

struct SshStats {
  std::atomic<int64_t> accepted{0}, refused_over_cap{0}, active{0};
  std::atomic<int64_t> kex_completed{0}, kex_failed{0}, hello_unparsed{0};
  std::atomic<int64_t> password_attempts{0}, other_auth_attempts{0}, logins{0}, commands{0};
  std::atomic<int64_t> closed_idle{0}, closed_session_time{0}, closed_input_limit{0},
      closed_output_limit{0}, closed_max_attempts{0};
  std::atomic<int64_t> records_lost{0};
  // HASSH -> the algorithms it is the md5 of, the last client version with it, and how many
  // connections had it: "the key exchange algorithms" of the clients seen, kept here rather
  // than in every report row. Bounded; later fingerprints are only counted.
  struct Fingerprint {
    std::string algorithms, client;
    int64_t connections = 0;
  };
  mutable std::mutex mu;
  std::map<std::string, Fingerprint> hassh;
  int64_t hassh_dropped = 0;

  void seen(const ssh::ClientHello& h) {
    std::lock_guard lock(mu);
    auto it = hassh.find(h.hassh);
    if (it == hassh.end()) {
      if (hassh.size() >= kMaxHasshEntries) {
        ++hassh_dropped;
        return;
      }
      it = hassh.emplace(h.hassh, Fingerprint{h.hassh_algorithms, {}, 0}).first;
    }
    it->second.client = h.ident.substr(0, 128);
    ++it->second.connections;
  }
};

// ---------------------------------------------------------------------------------------
// One connection: the client's socket, our end of the socketpair, libssh's session on the
// other end, and what is in flight between them.

struct Conn;

struct FdTag {
  Conn* conn = nullptr;  // null: the listening socket
  uint8_t which = 0;     // kClient, kRelay, kLibssh
};
enum : uint8_t { kClient = 1, kRelay = 2, kLibssh = 3 };

struct MediumShell {
  std::string user;
  std::string line;
  bool pty = false;
  ssh_channel_callbacks_struct callbacks{};
};

struct Conn {
  int client = -1;  // the attacker's socket
  int relay = -1;   // our end of the socketpair; libssh's end belongs to the session
  ssh_session session = nullptr;
  ssh_channel channel = nullptr;
  FdTag client_tag, relay_tag, libssh_tag;
  sensors::Endpoint peer, local;
  UnixSeconds opened = 0;
  Clock::time_point opened_mono, last_input;
  size_t index = 0;  // in Worker::conns
  uint64_t bytes_in = 0;
  std::string to_client, to_libssh;  // what the other side has not taken yet
  std::string hello_bytes;           // the client's first bytes, until its hello is read
  std::string ident, hassh;          // from the hello
  bool hello_done = false, kex_done = false;
  bool client_out_armed = false, relay_out_armed = false;
  bool disconnect = false;  // end the SSH session after this drive
  bool closing = false;     // libssh is done: send what is queued, then close
  bool dead = false;
  ConnectionId id;
  std::unique_ptr<MediumShell> shell;  // medium mode, once logged in
  class Worker* worker = nullptr;
};

// ---------------------------------------------------------------------------------------

class Worker {
 public:
  Worker(const ServiceContext& ctx, SshStats& stats, int listen_fd, ssh_bind bind,
         size_t max_connections)
      : ctx_(ctx),
        stats_(stats),
        listen_fd_(listen_fd),
        bind_(bind),
        max_connections_(max_connections),
        buffer_(&ctx.host->journal()) {}
  ~Worker() {
    for (auto& c : conns_) teardown(*c, nullptr);
    conns_.clear();
    graveyard_.clear();
    if (epfd_ >= 0) ::close(epfd_);
    if (wakefd_ >= 0) ::close(wakefd_);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (bind_) ssh_bind_free(bind_);
  }

  Status start() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || wakefd_ < 0) return Error::io("epoll/eventfd failed");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_tag_;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.data.ptr = &wake_tag_;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
    thread_ = std::thread([this] { run(); });
    return {};
  }

  void stop() {
    stopping_ = true;
    uint64_t one = 1;
    if (wakefd_ >= 0) (void)!::write(wakefd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    epoll_event events[kMaxEvents];
    auto next_sweep = Clock::now();
    while (!stopping_) {
      int n = ::epoll_wait(epfd_, events, kMaxEvents, 200);
      for (int i = 0; i < n; ++i) {
        auto* tag = static_cast<FdTag*>(events[i].data.ptr);
        if (tag == &wake_tag_) continue;
        if (tag == &listen_tag_) {
          accept_some();
          continue;
        }
        Conn& c = *tag->conn;
        if (c.dead) continue;
        uint32_t e = events[i].events;
        switch (tag->which) {
          case kClient:
            if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) from_client(c);
            if (!c.dead && (e & EPOLLOUT)) flush_to_client(c);
            break;
          case kRelay:
            if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) from_libssh(c);
            if (!c.dead && (e & EPOLLOUT)) flush_to_libssh(c);
            break;
          case kLibssh: drive(c); break;
        }
      }
      auto now = Clock::now();
      if (now >= next_sweep) {
        sweep(now);
        next_sweep = now + std::chrono::milliseconds(250);
      }
      graveyard_.clear();  // after the batch: no event of it points at a freed connection
      flush_records();
    }
    for (auto& c : conns_) teardown(*c, nullptr);
    conns_.clear();
    graveyard_.clear();
    flush_records();
  }

  void flush_records() {
    if (buffer_.text().empty()) return;
    (void)buffer_.flush();
    stats_.records_lost.store(buffer_.records_lost());
  }

  // --- connections come and go ----------------------------------------------------------

  void accept_some() {
    for (int k = 0; k < 64; ++k) {
      sockaddr_storage peer{};
      socklen_t plen = sizeof peer;
      int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &plen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      ++stats_.accepted;
      if (static_cast<size_t>(stats_.active.load()) >= max_connections_) {
        ++stats_.refused_over_cap;
        ::close(fd);
        continue;
      }
      open(fd, sensors::from_sockaddr(peer));
    }
  }

  void open(int fd, const sensors::Endpoint& peer) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
      ::close(fd);
      return;
    }
    auto c = std::make_unique<Conn>();
    c->worker = this;
    c->client = fd;
    c->relay = pair[0];
    c->peer = peer;
    sockaddr_storage local{};
    socklen_t llen = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen);
    c->local = sensors::from_sockaddr(local);
    c->opened = now_seconds();
    c->opened_mono = c->last_input = Clock::now();
    c->session = ssh_new();
    if (!c->session || ssh_bind_accept_fd(bind_, c->session, pair[1]) != SSH_OK) {
      if (c->session) ssh_free(c->session);
      ::close(pair[1]);
      ::close(pair[0]);
      ::close(fd);
      return;
    }
    ssh_set_blocking(c->session, 0);
    ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PASSWORD);
    ssh_set_message_callback(c->session, &Worker::on_message, c.get());
    c->client_tag = {c.get(), kClient};
    c->relay_tag = {c.get(), kRelay};
    c->libssh_tag = {c.get(), kLibssh};
    watch(fd, EPOLLIN, &c->client_tag, EPOLL_CTL_ADD);
    watch(c->relay, EPOLLIN, &c->relay_tag, EPOLL_CTL_ADD);
    watch(pair[1], EPOLLIN, &c->libssh_tag, EPOLL_CTL_ADD);
    c->index = conns_.size();
    ++stats_.active;
    Conn& ref = *c;
    conns_.push_back(std::move(c));
    drive(ref);  // libssh sends its identification string
  }

  void watch(int fd, uint32_t events, FdTag* tag, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = tag;
    ::epoll_ctl(epfd_, op, fd, &ev);
  }

  // Closes everything of `c`; `counter` (may be null) counts why.
  void teardown(Conn& c, std::atomic<int64_t>* counter) {
    if (c.dead) return;
    c.dead = true;
    if (counter) ++*counter;
    // ssh_free closes libssh's end of the socketpair and frees its channels (whose callbacks,
    // in c.shell, outlive them).
    if (c.session) ssh_free(c.session);
    c.session = nullptr;
    c.channel = nullptr;
    ::close(c.relay);
    ::close(c.client);
    --stats_.active;
  }

  // Moves a dead connection out of conns_; it is freed after the current batch of events.
  void bury(Conn& c) {
    size_t i = c.index;
    if (i >= conns_.size() || conns_[i].get() != &c) return;
    graveyard_.push_back(std::move(conns_[i]));
    if (i + 1 != conns_.size()) {
      conns_[i] = std::move(conns_.back());
      conns_[i]->index = i;
    }
    conns_.pop_back();
  }

  void close_conn(Conn& c, std::atomic<int64_t>* counter = nullptr) {
    teardown(c, counter);
    bury(c);
  }

  void sweep(Clock::time_point now) {
    const auto idle = ctx_.settings->idle_timeout;
    const auto session = ctx_.settings->session_timeout;
    for (size_t i = conns_.size(); i-- > 0;) {
      if (i >= conns_.size()) continue;
      Conn& c = *conns_[i];
      if (now - c.opened_mono > session) {
        close_conn(c, &stats_.closed_session_time);
      } else if (now - c.last_input > idle) {
        close_conn(c, &stats_.closed_idle);
      }
    }
  }

  // --- the relay ---------------------------------------------------------------------------

  void from_client(Conn& c) {
    char buf[kReadChunk];
    ssize_t n = ::read(c.client, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close_conn(c);  // the client went away (or reset): nothing more to say to it
      return;
    }
    if (n < 0) return;
    std::string_view got(buf, static_cast<size_t>(n));
    c.last_input = Clock::now();
    c.bytes_in += got.size();
    if (c.bytes_in > ctx_.settings->max_input_bytes) {
      close_conn(c, &stats_.closed_input_limit);
      return;
    }
    if (!c.hello_done) read_hello(c, got);
    if (c.to_libssh.empty()) {
      ssize_t w = ::send(c.relay, got.data(), got.size(), MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN) {
        close_conn(c);
        return;
      }
      got.remove_prefix(w < 0 ? 0 : static_cast<size_t>(w));
    }
    if (!got.empty()) {
      if (c.to_libssh.size() + got.size() > kMaxPending) {
        close_conn(c, &stats_.closed_input_limit);
        return;
      }
      c.to_libssh.append(got);
      if (!c.relay_out_armed) {
        c.relay_out_armed = true;
        watch(c.relay, EPOLLIN | EPOLLOUT, &c.relay_tag, EPOLL_CTL_MOD);
      }
    }
  }

  void read_hello(Conn& c, std::string_view got) {
    c.hello_bytes.append(got.substr(0, ssh::kMaxIdentLine * (ssh::kMaxLinesBefore + 1) +
                                           ssh::kMaxPacket + 8 - c.hello_bytes.size()));
    ssh::ClientHello hello;
    auto r = ssh::parse_client_hello(c.hello_bytes, hello);
    if (r == ssh::HelloParse::kIncomplete || r == ssh::HelloParse::kIdentOnly) {
      if (c.hello_bytes.size() < ssh::kMaxIdentLine * (ssh::kMaxLinesBefore + 1) + ssh::kMaxPacket)
        return;
      r = ssh::HelloParse::kInvalid;
    }
    c.ident = hello.ident.substr(0, 255);
    if (r == ssh::HelloParse::kComplete) {
      c.hassh = hello.hassh;
      stats_.seen(hello);
    } else {
      ++stats_.hello_unparsed;  // libssh will refuse it too; counted, not logged
    }
    c.hello_done = true;
    std::string().swap(c.hello_bytes);
  }

  void flush_to_libssh(Conn& c) {
    while (!c.to_libssh.empty()) {
      ssize_t w = ::send(c.relay, c.to_libssh.data(), c.to_libssh.size(), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN) return;
        close_conn(c);
        return;
      }
      c.to_libssh.erase(0, static_cast<size_t>(w));
    }
    std::string().swap(c.to_libssh);
    c.relay_out_armed = false;
    watch(c.relay, EPOLLIN, &c.relay_tag, EPOLL_CTL_MOD);
  }

  void from_libssh(Conn& c) {
    char buf[kReadChunk];
    for (;;) {
      ssize_t n = ::read(c.relay, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        // libssh closed its end (it disconnected): send what is left, then close.
        c.closing = true;
        if (c.to_client.empty()) close_conn(c);
        return;
      }
      if (n < 0) return;
      send_to_client(c, std::string_view(buf, static_cast<size_t>(n)));
      if (c.dead) return;
    }
  }

  void send_to_client(Conn& c, std::string_view out) {
    if (c.to_client.empty()) {
      ssize_t w = ::send(c.client, out.data(), out.size(), MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN) {
        close_conn(c);
        return;
      }
      out.remove_prefix(w < 0 ? 0 : static_cast<size_t>(w));
    }
    if (out.empty()) return;
    if (c.to_client.size() + out.size() > kMaxPending) {
      close_conn(c, &stats_.closed_output_limit);  // the client does not read
      return;
    }
    c.to_client.append(out);
    if (!c.client_out_armed) {
      c.client_out_armed = true;
      watch(c.client, EPOLLIN | EPOLLOUT, &c.client_tag, EPOLL_CTL_MOD);
    }
  }

  void flush_to_client(Conn& c) {
    while (!c.to_client.empty()) {
      ssize_t w = ::send(c.client, c.to_client.data(), c.to_client.size(), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN) return;
        close_conn(c);
        return;
      }
      c.to_client.erase(0, static_cast<size_t>(w));
    }
    std::string().swap(c.to_client);
    c.client_out_armed = false;
    if (c.closing) {
      close_conn(c);
      return;
    }
    watch(c.client, EPOLLIN, &c.client_tag, EPOLL_CTL_MOD);
  }

  // --- libssh --------------------------------------------------------------------------

  // Lets libssh read what reached its end and act on it: the key exchange first, then the
  // messages (on_message, called from inside libssh).
  void drive(Conn& c) {
    if (c.dead || !c.session) return;
    if (!c.kex_done) {
      int rc = ssh_handle_key_exchange(c.session);
      if (rc == SSH_AGAIN) return;
      if (rc != SSH_OK) {
        ++stats_.kex_failed;
        finish_session(c);
        return;
      }
      c.kex_done = true;
      ++stats_.kex_completed;
    }
    // Non-blocking: reads what is there, hands each message to on_message, returns at once.
    if (ssh_message m = ssh_message_get(c.session)) {
      ssh_message_reply_default(m);
      ssh_message_free(m);
    }
    if (c.dead) return;
    flush_records();  // logged before the client can read the answer
    if (c.disconnect) {
      ssh_disconnect(c.session);  // sends SSH_MSG_DISCONNECT, frees the channels
      c.channel = nullptr;
      finish_session(c);
      return;
    }
    if (ssh_get_status(c.session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) finish_session(c);
  }

  // libssh is done with the session: free it (its end of the pair closes), then send the
  // client what libssh wrote before, and close.
  void finish_session(Conn& c) {
    ssh_free(c.session);
    c.session = nullptr;
    c.channel = nullptr;
    from_libssh(c);
  }

  static int on_message(ssh_session, ssh_message m, void* userdata) {
    auto& c = *static_cast<Conn*>(userdata);
    return c.worker->message(c, m) ? 0 : 1;  // 1: libssh sends its default (refusing) reply
  }

  // True when the message was answered here.
  bool message(Conn& c, ssh_message m) {
    int type = ssh_message_type(m);
    int subtype = ssh_message_subtype(m);
    if (type == SSH_REQUEST_AUTH) {
      ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PASSWORD);
      if (subtype != SSH_AUTH_METHOD_PASSWORD) {
        if (subtype != SSH_AUTH_METHOD_NONE) ++stats_.other_auth_attempts;
        return false;
      }
      const char* user = ssh_message_auth_user(m);
      // Deprecated in 0.10 for ssh_set_server_callbacks' auth_password_function, which sees
      // only passwords; the message API sees every request, and 0.10/0.11 still have it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      const char* password = ssh_message_auth_password(m);
#pragma GCC diagnostic pop
      std::string_view u = user ? user : "", p = password ? password : "";
      ++stats_.password_attempts;
      bool in = !c.shell && medium_login_accepted(*ctx_.settings, u, p);
      log(c, u, p, {}, in ? "ssh-login" : "");
      if (in) {
        c.shell = std::make_unique<MediumShell>();
        c.shell->user.assign(u);
        ++stats_.logins;
        ssh_message_auth_reply_success(m, 0);
        return true;
      }
      if (static_cast<int>(c.id.attempts()) >= ctx_.settings->max_attempts) {
        ++stats_.closed_max_attempts;
        c.disconnect = true;
      }
      return false;
    }
    if (!c.shell) return false;  // not logged in: everything else is refused
    if (type == SSH_REQUEST_CHANNEL_OPEN && subtype == SSH_CHANNEL_SESSION && !c.channel) {
      c.channel = ssh_message_channel_request_open_reply_accept(m);
      if (!c.channel) return true;
      auto& cb = c.shell->callbacks;
      cb = {};
      cb.userdata = &c;
      cb.channel_data_function = &Worker::on_channel_data;
      cb.channel_eof_function = &Worker::on_channel_end;
      cb.channel_close_function = &Worker::on_channel_end;
      ssh_callbacks_init(&cb);
      ssh_set_channel_callbacks(c.channel, &cb);
      return true;
    }
    if (type == SSH_REQUEST_CHANNEL && c.channel) {
      switch (subtype) {
        case SSH_CHANNEL_REQUEST_PTY:
          c.shell->pty = true;
          ssh_message_channel_request_reply_success(m);
          return true;
        case SSH_CHANNEL_REQUEST_ENV:
        case SSH_CHANNEL_REQUEST_WINDOW_CHANGE:
          ssh_message_channel_request_reply_success(m);
          return true;
        case SSH_CHANNEL_REQUEST_SHELL: {
          ssh_message_channel_request_reply_success(m);
          std::string hello =
              "Linux server 5.10.0-26-amd64 #1 SMP Debian 5.10.197-1 x86_64\r\n\r\n" +
              shell::prompt(c.shell->user);
          ssh_channel_write(c.channel, hello.data(), static_cast<uint32_t>(hello.size()));
          return true;
        }
        case SSH_CHANNEL_REQUEST_EXEC: {
          ssh_message_channel_request_reply_success(m);
          const char* cmd = ssh_message_channel_request_command(m);
          std::string_view line = cmd ? cmd : "";
          auto reply = run_line(c, line.substr(0, kMaxShellLine));
          ssh_channel_write(c.channel, reply.output.data(),
                            static_cast<uint32_t>(reply.output.size()));
          ssh_channel_request_send_exit_status(c.channel, 0);
          ssh_channel_send_eof(c.channel);
          ssh_channel_close(c.channel);
          return true;
        }
        default: return false;  // subsystems (sftp), x11, agent forwarding: refused
      }
    }
    return false;  // port forwarding and other channels: refused
  }

  shell::Reply run_line(Conn& c, std::string_view line) {
    ++stats_.commands;
    auto reply = shell::respond(line, c.shell->user);
    for (const auto& url : reply.urls) log(c, {}, {}, url, "ssh-payload");
    return reply;
  }

  static int on_channel_data(ssh_session, ssh_channel channel, void* data, uint32_t len,
                             int /*is_stderr*/, void* userdata) {
    auto& c = *static_cast<Conn*>(userdata);
    c.worker->shell_input(c, channel, std::string_view(static_cast<char*>(data), len));
    return static_cast<int>(len);
  }

  static void on_channel_end(ssh_session, ssh_channel, void* userdata) {
    static_cast<Conn*>(userdata)->disconnect = true;
  }

  void shell_input(Conn& c, ssh_channel channel, std::string_view in) {
    auto& sh = *c.shell;
    std::string out;
    for (char ch : in) {
      if (ch == '\r' || ch == '\n') {
        if (sh.pty) out += "\r\n";
        auto reply = run_line(c, sh.line);
        std::string().swap(sh.line);
        if (reply.exit) {
          out += "logout\r\n";
          ssh_channel_write(channel, out.data(), static_cast<uint32_t>(out.size()));
          ssh_channel_send_eof(channel);
          ssh_channel_close(channel);
          c.disconnect = true;
          return;
        }
        for (char o : reply.output) {
          if (o == '\n' && sh.pty) out += '\r';
          out += o;
        }
        out += shell::prompt(sh.user);
      } else if (ch == 0x7f || ch == 0x08) {
        if (!sh.line.empty()) {
          sh.line.pop_back();
          if (sh.pty) out += "\b \b";
        }
      } else if (sh.line.size() < kMaxShellLine) {
        sh.line.push_back(ch);
        if (sh.pty && static_cast<unsigned char>(ch) >= 0x20) out += ch;
      } else {
        c.disconnect = true;  // an endless line
        return;
      }
    }
    if (!out.empty()) ssh_channel_write(channel, out.data(), static_cast<uint32_t>(out.size()));
  }

  void log(Conn& c, std::string_view user, std::string_view password, std::string_view url,
           std::string_view tag) {
    std::string id = c.id.next();
    LoginAttempt a;
    a.service = "ssh";
    a.tag = tag;
    a.client_version = c.ident;
    a.version = c.hassh;
    a.username = user;
    a.password = password;
    a.payload_url = url;
    a.start_time = c.opened;
    a.event_id = id;
    write_login(buffer_.text(), *ctx_.settings, c.peer, c.local, a, now_seconds());
    buffer_.commit();
  }

  ServiceContext ctx_;
  SshStats& stats_;
  int listen_fd_;
  ssh_bind bind_;
  size_t max_connections_;
  sensors::JournalBuffer buffer_;
  int epfd_ = -1, wakefd_ = -1;
  FdTag listen_tag_, wake_tag_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> graveyard_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

class SshService : public sensors::StandaloneService {
 public:
  std::string name() const override { return "ssh"; }

  static Result<std::unique_ptr<SshService>> create(const ServiceContext& ctx,
                                                    const sensors::Endpoint& at,
                                                    sensors::Endpoint& bound) {
    ssh_init();
    auto keys = host_key_files(*ctx.settings, ctx.host->options().state_dir);
    if (!keys) return keys.error();
    int threads = std::max(1, ctx.host->options().tcp_threads);
    auto fds = sensors::listen_reuseport(at, threads, 4096, bound);
    if (!fds)
      return Error::io("cannot listen on " + at.to_string() + " (ssh): " + fds.error().message);
    auto svc = std::unique_ptr<SshService>(new SshService());
    size_t cap = std::max<size_t>(1, ctx.host->options().max_connections);
    for (size_t i = 0; i < fds->size(); ++i) {
      int fd = (*fds)[i];
      ssh_bind b = ssh_bind_new();
      bool ok = b != nullptr;
      bool no = false;
      int verbosity = SSH_LOG_NOLOG;
      ok = ok && ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) == SSH_OK;
      ok = ok && ssh_bind_options_set(b, SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity) == SSH_OK;
      ok = ok && ssh_bind_options_set(b, SSH_BIND_OPTIONS_BANNER,
                                      ctx.settings->ssh_version.c_str()) == SSH_OK;
      for (const auto& file : *keys) {
        ssh_key key = nullptr;
        ok = ok &&
             ssh_pki_import_privkey_file(file.c_str(), nullptr, nullptr, nullptr, &key) == SSH_OK;
        ok = ok && ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) == SSH_OK;
      }
      if (!ok) {
        if (b) ssh_bind_free(b);
        for (size_t k = i; k < fds->size(); ++k) ::close((*fds)[k]);
        return Error::internal("ssh: cannot set up libssh's server");
      }
      svc->workers_.push_back(std::make_unique<Worker>(ctx, svc->stats_, fd, b, cap));
    }
    return svc;
  }

  Status start() override {
    for (auto& w : workers_) {
      if (auto st = w->start(); !st) return st;
    }
    return {};
  }

  void stop() override {
    for (auto& w : workers_) w->stop();
  }

  nlohmann::json status() const override {
    const auto& s = stats_;
    nlohmann::json fingerprints = nlohmann::json::array();
    {
      std::lock_guard lock(s.mu);
      std::vector<std::pair<std::string, SshStats::Fingerprint>> top(s.hassh.begin(),
                                                                     s.hassh.end());
      std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
        return a.second.connections > b.second.connections;
      });
      if (top.size() > 20) top.resize(20);
      for (const auto& [h, f] : top) {
        fingerprints.push_back({{"hassh", h},
                                {"algorithms", f.algorithms},
                                {"client", f.client},
                                {"connections", f.connections}});
      }
    }
    return {{"accepted", s.accepted.load()},
            {"refused_over_cap", s.refused_over_cap.load()},
            {"active", s.active.load()},
            {"kex_completed", s.kex_completed.load()},
            {"kex_failed", s.kex_failed.load()},
            {"hello_unparsed", s.hello_unparsed.load()},
            {"password_attempts", s.password_attempts.load()},
            {"other_auth_attempts", s.other_auth_attempts.load()},
            {"logins", s.logins.load()},
            {"commands", s.commands.load()},
            {"records_lost", s.records_lost.load()},
            {"closed",
             {{"idle_timeout", s.closed_idle.load()},
              {"session_timeout", s.closed_session_time.load()},
              {"input_limit", s.closed_input_limit.load()},
              {"output_limit", s.closed_output_limit.load()},
              {"max_attempts", s.closed_max_attempts.load()}}},
            {"hassh", fingerprints}};
  }

  ~SshService() override { stop(); }

 private:
  SshService() = default;
  SshStats stats_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace

ServiceModule ssh_service() {
  ServiceModule m;
  m.name = "ssh";
  m.transport = Transport::kOwn;
  m.standard_port = 22;
  m.loopback_port = 10022;
  m.report_types = {"event4_honeypot_brute_force"};
  m.description =
      "SSH (libssh): every password is logged with the client's version and HASSH, and refused "
      "(medium mode: a fake shell for root/admin that logs the URLs it is told to fetch)";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) -> Result<sensors::Endpoint> {
    sensors::Endpoint bound;
    auto svc = SshService::create(ctx, at, bound);
    if (!svc) return svc.error();
    ctx.host->add_standalone(std::move(*svc), {bound});
    return bound;
  };
  return m;
}

}  // namespace vantage::honeypot
