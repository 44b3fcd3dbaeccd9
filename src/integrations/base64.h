#pragma once
// Standard base64 (RFC 4648, one line, padded) through OpenSSL's EVP_EncodeBlock, for HTTP
// Basic credentials: the Elasticsearch sink sends them, the MISP feed reads them.
// Pure functions, thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace vantage::integrations {

std::string base64_encode(std::string_view data);
// nullopt when `text` is not padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace vantage::integrations
