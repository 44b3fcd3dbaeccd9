#include "registry/validate.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "registry/punycode.h"

namespace vantage::registry {
namespace {

// ISO 3166-1 alpha-2 officially assigned codes (249), sorted, plus XK (Kosovo, user-assigned
// but used by every GeoIP database we read).
constexpr std::string_view kCountries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS XK YE YT ZA ZM ZW";

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

Status check_label(std::string_view label, std::string_view whole) {
  auto bad = [&](const std::string& why) {
    return Error::invalid("invalid domain '" + std::string(whole) + "': " + why);
  };
  if (label.empty()) return bad("empty label");
  if (label.size() > 63) return bad("label longer than 63 octets");
  for (char c : label) {
    if (!is_ldh(c))
      return bad("label '" + std::string(label) + "' has a character outside [a-z0-9-]");
  }
  if (label.front() == '-' || label.back() == '-') {
    return bad("label '" + std::string(label) + "' starts or ends with '-'");
  }
  if (label.size() >= 4 && label[2] == '-' && label[3] == '-') {
    if (label.substr(0, 2) != "xn")
      return bad("reserved label form (hyphens in positions 3 and 4)");
    auto decoded = punycode_decode(label.substr(4));
    if (!decoded) return bad("label '" + std::string(label) + "' is not valid punycode");
    auto reencoded = punycode_encode(*decoded);
    if (!reencoded || "xn--" + *reencoded != label) {
      return bad("label '" + std::string(label) + "' is not canonical punycode");
    }
  }
  return {};
}

}  // namespace

Status validate_short_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || !is_identifier(s)) {
    return Error::invalid("invalid short name '" + std::string(s) +
                          "': use 1-64 characters from [A-Za-z0-9_] (it becomes part of report "
                          "file names); e.g. '" +
                          sanitize_identifier(s.empty() ? "org" : s) + "'");
  }
  return {};
}

Result<uint32_t> parse_asn(std::string_view s) {
  std::string_view digits = s;
  if (digits.size() >= 2 && (digits[0] == 'A' || digits[0] == 'a') &&
      (digits[1] == 'S' || digits[1] == 's')) {
    digits.remove_prefix(2);
  }
  auto bad = [&](const char* why) {
    return Error::invalid("invalid ASN '" + std::string(s) + "': " + why);
  };
  if (digits.empty() || digits.size() > 10 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad("expected a decimal number, optionally prefixed with 'AS'");
  }
  auto v = parse_uint(digits);
  if (!v || *v > 0xFFFFFFFFull) return bad("out of the 32-bit range");
  if (*v == 0) return bad("AS0 is reserved and never originates routes (RFC 7607)");
  if (*v == 23456) return bad("AS23456 is AS_TRANS (RFC 6793), not a real network");
  if (*v == 65535 || *v == 4294967295ull) return bad("reserved ASN (RFC 7300)");
  return static_cast<uint32_t>(*v);
}

Result<CidrValue> parse_cidr(std::string_view s) {
  auto parsed = IpPrefix::parse(trim(s));
  if (!parsed)
    return Error::invalid("invalid CIDR '" + std::string(s) + "': " + parsed.error().message);
  return CidrValue{parsed->prefix, parsed->had_host_bits};
}

Result<std::string> normalise_domain(std::string_view input) {
  std::string_view s = trim(input);
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty()) return Error::invalid("invalid domain: empty");
  if (!is_valid_utf8(s)) return Error::invalid("invalid domain: not UTF-8");
  std::string out;
  for (auto label : split(s, '.')) {
    // Lower-case ASCII before encoding: IDNA treats A-Z as a-z, and stored names compare
    // byte-wise in the index.
    std::string lowered = to_lower(label);
    auto ascii = label_to_ascii(lowered);
    if (!ascii)
      return Error::invalid("invalid domain '" + std::string(input) +
                            "': " + ascii.error().message);
    if (auto st = check_label(*ascii, input); !st) return st.error();
    if (!out.empty()) out.push_back('.');
    out += *ascii;
  }
  if (out.size() > 253)
    return Error::invalid("invalid domain '" + std::string(input) + "': longer than 253 octets");
  auto last_dot = out.rfind('.');
  std::string_view tld =
      last_dot == std::string::npos ? out : std::string_view(out).substr(last_dot + 1);
  if (std::all_of(tld.begin(), tld.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error::invalid("invalid domain '" + std::string(input) +
                          "': numeric top-level label (an IP address is a CIDR resource)");
  }
  return out;
}

Result<std::string> normalise_country(std::string_view s) {
  std::string code(trim(s));
  for (auto& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (code.size() == 2 && std::isalpha(static_cast<unsigned char>(code[0])) &&
      std::isalpha(static_cast<unsigned char>(code[1]))) {
    for (size_t i = 0; i < kCountries.size(); i += 3) {
      if (kCountries.substr(i, 2) == code) return code;
    }
  }
  return Error::invalid("invalid country code '" + std::string(s) +
                        "': expected an ISO 3166-1 alpha-2 code such as NL or DE");
}

Result<std::string> normalise_email(std::string_view input) {
  std::string_view s = trim(input);
  auto bad = [&](const char* why) {
    return Error::invalid("invalid e-mail address '" + std::string(input) + "': " + why);
  };
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size())
    return bad("expected local@domain");
  std::string_view local = s.substr(0, at);
  if (local.size() > 64) return bad("local part longer than 64 octets");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return bad("misplaced '.' in the local part");
  }
  constexpr std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~.";
  for (char c : local) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && kAtext.find(c) == std::string_view::npos) {
      return bad("unsupported character in the local part");
    }
  }
  auto domain = normalise_domain(s.substr(at + 1));
  if (!domain) return bad("bad domain part");
  if (domain->find('.') == std::string::npos) return bad("the domain needs at least two labels");
  std::string out = std::string(local) + "@" + *domain;
  if (out.size() > 254) return bad("longer than 254 octets");
  return out;
}

Status validate_pgp_key(std::string_view armored) {
  constexpr std::string_view kBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
  constexpr std::string_view kEnd = "-----END PGP PUBLIC KEY BLOCK-----";
  auto b = armored.find(kBegin);
  auto e = armored.find(kEnd);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b + kBegin.size()) {
    return Error::invalid("not an ASCII-armored OpenPGP public key: expected '" +
                          std::string(kBegin) + "' ... '" + std::string(kEnd) + "'");
  }
  if (trim(armored.substr(b + kBegin.size(), e - b - kBegin.size())).empty()) {
    return Error::invalid("OpenPGP public key block is empty");
  }
  return {};
}

Result<ResourceValue> normalise_resource(ResourceKind kind, std::string_view text) {
  ResourceValue out;
  out.kind = kind;
  switch (kind) {
    case ResourceKind::kAsn: {
      auto asn = parse_asn(trim(text));
      if (!asn) return asn.error();
      out.value = std::to_string(*asn);
      return out;
    }
    case ResourceKind::kCidr: {
      auto cidr = parse_cidr(text);
      if (!cidr) return cidr.error();
      out.value = cidr->prefix.to_string();
      if (cidr->had_host_bits) {
        out.warning = "'" + std::string(trim(text)) + "' has host bits set; stored as " + out.value;
      }
      return out;
    }
    case ResourceKind::kDomain: {
      auto d = normalise_domain(text);
      if (!d) return d.error();
      out.value = *d;
      if (out.value != trim(text)) out.warning = "stored as " + out.value;
      return out;
    }
    case ResourceKind::kCountry: {
      auto c = normalise_country(text);
      if (!c) return c.error();
      out.value = *c;
      return out;
    }
  }
  return Error::internal("unknown resource kind");
}

Result<ResourceValue> normalise_resource_auto(std::string_view text) {
  std::string_view t = trim(text);
  if (t.find(':') != std::string_view::npos || t.find('/') != std::string_view::npos ||
      IpAddress::parse(t).ok()) {
    return normalise_resource(ResourceKind::kCidr, t);
  }
  bool digits =
      !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  bool as_prefixed = t.size() > 2 && (t[0] == 'A' || t[0] == 'a') && (t[1] == 'S' || t[1] == 's') &&
                     (std::isdigit(static_cast<unsigned char>(t[2])) || t[2] == '-');
  if (digits || as_prefixed) return normalise_resource(ResourceKind::kAsn, t);
  if (t.size() == 2 && std::isalpha(static_cast<unsigned char>(t[0])) &&
      std::isalpha(static_cast<unsigned char>(t[1])) &&
      std::isupper(static_cast<unsigned char>(t[0]))) {
    return normalise_resource(ResourceKind::kCountry, t);
  }
  return normalise_resource(ResourceKind::kDomain, t);
}

Status validate_report_type(std::string_view s) {
  bool ok = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  if (!ok)
    return Error::invalid("invalid report type '" + std::string(s) +
                          "': expected [a-z0-9_-]{1,64}");
  return {};
}

Status validate_subscription_name(std::string_view s) {
  bool ok = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (!ok)
    return Error::invalid("invalid subscription name '" + std::string(s) +
                          "': expected [A-Za-z0-9_-]{1,64}");
  return {};
}

Result<std::string> normalise_subscription_address(SubscriptionKind kind, std::string_view s) {
  std::string_view t = trim(s);
  if (has_control(t) || t.find(' ') != t.npos || t.size() > 2048)
    return Error::invalid("subscription address must be one word without control characters");
  switch (kind) {
    case SubscriptionKind::kMisp:
      if (!t.empty())
        return Error::invalid("a misp subscription has no address: MISP pulls the feed");
      return std::string();
    case SubscriptionKind::kSyslog: {
      size_t colon = t.rfind(':');
      if (colon == t.npos || colon == 0)
        return Error::invalid("syslog address must be HOST:PORT, e.g. 127.0.0.1:6514");
      std::string_view host = t.substr(0, colon), port = t.substr(colon + 1);
      if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']' ||
            !IpAddress::parse(host.substr(1, host.size() - 2)))
          return Error::invalid("syslog address: bad IPv6 literal '" + std::string(host) + "'");
      } else if (host.find(':') != host.npos) {
        return Error::invalid("syslog address: write an IPv6 host in brackets, [::1]:6514");
      }
      auto p = parse_uint(port);
      if (!p || *p == 0 || *p > 65535)
        return Error::invalid("syslog address: port must be 1..65535");
      return std::string(t);
    }
    case SubscriptionKind::kWebhook:
    case SubscriptionKind::kElastic:
    case SubscriptionKind::kSplunk: {
      size_t scheme = t.find("://");
      std::string_view proto = scheme == t.npos ? std::string_view() : t.substr(0, scheme);
      if (proto != "http" && proto != "https")
        return Error::invalid(std::string(subscription_kind_name(kind)) +
                              " address must be an http:// or https:// URL");
      std::string_view rest = t.substr(scheme + 3);
      std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
      if (host.empty() || host.find('@') != host.npos)
        return Error::invalid("the URL needs a host (and no credentials in it: use the secret)");
      return std::string(t);
    }
  }
  return Error::invalid("unknown subscription kind");
}

Result<std::string> normalise_subscription_options(std::string_view json_text) {
  std::string_view t = trim(json_text);
  if (t.empty()) return std::string("{}");
  if (t.size() > 4096) return Error::invalid("subscription options are limited to 4 KiB");
  auto j = nlohmann::json::parse(t, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error::invalid("subscription options must be a JSON object");
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vantage::registry
