#pragma once
// What every login-capturing service (ssh, telnet, ftp, mysql, vnc, redis) writes for one
// login attempt: one event4_honeypot_brute_force row, so that every username/password pair an
// attacker tries appears exactly once in the report.
//
// Columns (docs/honeypots.md has the per-service table):
//   application, service  the service's name ("ssh")
//   tag                   "<service>-brute-force"; "<service>-payload" for a fake shell's
//                         download rows (medium mode), "<service>-login" when medium mode let
//                         the login in; then ",<honeypot.extra_tag>" when set
//   start_time            when the connection opened; end_time: when the attempt was made
//   event_id              "<connection id>-<attempt number>": unique per attempt, so two equal
//                         attempts in one connection stay two rows (the pipeline deduplicates
//                         rows whose every column but the timestamp is equal)
//   client_version        what the client says it is (SSH identification string, RFB version,
//                         telnet terminal type, MySQL client name/version)
//   version               SSH: the client's HASSH (md5 of its KEXINIT algorithm lists);
//                         Shadowserver's format has no HASSH column
//   username, password    as sent; where the protocol never sends the password (MySQL native
//                         auth, VNC) the challenge/response in John the Ripper's notation
//   payload_url           a URL a fake shell was told to fetch (never fetched)

#include <cstdint>
#include <string>
#include <string_view>

#include "sensors/common/tcp_reactor.h"
#include "sensors/honeypot/service.h"

namespace vantage::honeypot {

struct LoginAttempt {
  std::string_view service;         // "ssh": application, service and tag prefix
  std::string_view tag;             // empty: "<service>-brute-force"
  std::string_view client_version;  // may be empty (then not written)
  std::string_view version;
  std::string_view username;
  std::string_view password;
  std::string_view payload_url;
  UnixSeconds start_time = 0;  // when the connection opened
  std::string_view event_id;   // from ConnectionId::next()
};

// Appends the attempt's row to `out` (a JournalBuffer's text(); the caller commits).
void write_login(std::string& out, const HoneypotSettings& settings, const sensors::Endpoint& peer,
                 const sensors::Endpoint& local, const LoginAttempt& attempt, UnixSeconds now);

class ConnectionId;

// write_login() for a connection of the TCP front end: start_time and the endpoints come from
// `io`, event_id from `id`; the row goes into the buffer of the loop thread serving it.
void log_tcp_login(const ServiceContext& ctx, sensors::SessionIo& io, ConnectionId& id,
                   LoginAttempt attempt);

// Medium mode (honeypot.mode = "medium"): whether a login gets into the fake shell. Only the
// names bots try first on devices (root, admin) with a non-empty password; everything else is
// refused as in low mode, so a scanner that checks with a random name still sees a failure.
bool medium_login_accepted(const HoneypotSettings& settings, std::string_view username,
                           std::string_view password);

// A connection's random id and its attempt counter: next() gives "<16 hex>-<n>", n from 1.
// Random (not a sequence) so that ids from restarts and from several honeypots never collide.
// 12 bytes, so that an idle connection costs little.
class ConnectionId {
 public:
  ConnectionId();
  std::string next();
  uint32_t attempts() const { return attempts_; }

 private:
  uint64_t id_;
  uint32_t attempts_ = 0;
};

}  // namespace vantage::honeypot
