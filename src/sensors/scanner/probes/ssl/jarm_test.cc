// JARM against the reference implementation (salesforce/jarm jarm.py at a25b74d): the same
// ClientHello bytes for the same random bytes, the same reading of real ServerHellos captured
// from openssl s_server (Debian 12, OpenSSL 3.0), and the same fuzzy hash -- for s_server's
// ten answers, the published Metasploit fingerprint (Metasploit's listener is OpenSSL too).
#include "sensors/scanner/probes/ssl/jarm.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

namespace vantage::scanner::jarm {
namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return out;
}

std::string sha256_hex(const std::string& s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_sha256(), nullptr);
  static const char* h = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += h[d[i] >> 4];
    out += h[d[i] & 15];
  }
  return out;
}

// jarm.py's packet_building() for host "jarm.test" with os.urandom returning zeros and
// random.choice taking the first GREASE value (0x0a0a): lengths and SHA-256 of the ten hellos.
TEST(Jarm, ClientHellosMatchTheReferenceImplementation) {
  const RandomBytes zeros = [](uint8_t* out, size_t n) { std::fill(out, out + n, 0); };
  const std::pair<size_t, const char*> reference[kProbes] = {
      {423, "2dac96046828a2670b8fd4972dfa9ca584301bd790e2ca695884d6f4c2d52826"},
      {423, "b34a1d7ef1132e6a78472953faa0c8e11239df2baf0896cf74e332c9c4fb4b16"},
      {344, "b5f15d48e588517979e9ab4efa5aeecf1a1d717da2f9325e3a2ce0ad5a67ad56"},
      {330, "b6bb9a832ff54d601d655674925f7ae53387b10d0d11e541bb3858a6f742540a"},
      {411, "4ada0797276e38e16bc000a8efcaa42e8caf331c4a5ad047254deff7d163cd6b"},
      {412, "e81c688165a21b03c638910feda93d96f89109b13370d954e7279f340192f7c9"},
      {425, "b1699acd5265fdcb285ae73f988956700072536f3573076e902317157a73b0de"},
      {425, "767b5404e1f9d164ca8692b686a2d4dd4a5f1b41e4506d68031a5802cf22a27f"},
      {415, "5a42efb435e54c8b55e72f5f4800b2a416c63d290e40cc1e74f9772bf6cd6cfc"},
      {438, "974b378557b1316a738fe412a3fd0823991f1a6c053e6f63930fc6c8f2d15f3d"}};
  for (int i = 0; i < kProbes; ++i) {
    const std::string hello = client_hello(i, "jarm.test", zeros);
    EXPECT_EQ(hello.size(), reference[i].first) << "probe " << i + 1;
    EXPECT_EQ(sha256_hex(hello), reference[i].second) << "probe " << i + 1;
    // A TLS handshake record whose lengths add up.
    ASSERT_GE(hello.size(), 9u);
    EXPECT_EQ(hello[0], 0x16);
    EXPECT_EQ(
        static_cast<size_t>((static_cast<uint8_t>(hello[3]) << 8) | static_cast<uint8_t>(hello[4])),
        hello.size() - 5);
    EXPECT_NE(hello.find("jarm.test"), std::string::npos);
  }
  // Real randomness changes the bytes, not the length.
  EXPECT_NE(client_hello(0, "jarm.test", system_random()), client_hello(0, "jarm.test", zeros));
  EXPECT_EQ(client_hello(4, "jarm.test", system_random()).size(), 411u);
}

// The first 128 bytes of s_server's replies to probes 1 (TLS 1.2) and 7 (TLS 1.3), and what
// jarm.py's read_packet() makes of them and of truncated copies.
const char* kReply1 =
    "160303003e0200003a0303ecbeaf8300e5ce448f978ffa3d2ba9fee241c8c3c31a29f5444f574e4752440100003300"
    "0012ff010001000001000101002300000017000016030302000b00031300031000030d30820309308201f1a0030201"
    "0202140fb5a4d3e0c12363f7f2e03febe18d2d2c2a59d4300d06092a864886f70d01";
const char* kReply7 =
    "160303007a02000076030307c649e1a9d596e0adbf3a2fc483b698fdb9bbc945e10098cf23e252b1514190209a8799"
    "7c44c988166e1cf890bab5ea84405d347b480b66bcf847ea6fd9bb1dd4130200002e002b0002030400330024001d00"
    "20a7507b8769ec0a9a02835c75908212a0ef59f7e0e7eed1135ac4e156b972fc6814";

TEST(Jarm, ReadsServerHellosAsTheReferenceDoes) {
  const std::string r1 = unhex(kReply1), r7 = unhex(kReply7);
  EXPECT_EQ(read_server_hello(r1), "0033|0303||ff01-0001-0023-0017");
  EXPECT_EQ(read_server_hello(r7), "1302|0303||002b-0033");
  EXPECT_EQ(read_server_hello(r1.substr(0, 47)), "0033|0303||");  // IndexError inside: "|"
  EXPECT_EQ(read_server_hello(r1.substr(0, 49)), "|||");          // ValueError: whole probe
  EXPECT_EQ(read_server_hello(r1.substr(0, 44)), "|0303||");
  EXPECT_EQ(read_server_hello(r1.substr(0, 10)), "|||");
  EXPECT_EQ(read_server_hello(r7.substr(0, 79)), "1302|0303||");
  EXPECT_EQ(read_server_hello(r7.substr(0, 81)), "|||");
  EXPECT_EQ(read_server_hello(std::string("\x15\x03\x03\x00\x02\x02\x28", 7)), "|||");  // alert
  EXPECT_EQ(read_server_hello(""), "|||");
  EXPECT_EQ(read_server_hello("HTTP/1.1 400 Bad Request\r\n\r\n"), "|||");
  EXPECT_TRUE(reply_complete(r1));  // a whole first record
  EXPECT_FALSE(reply_complete(r1.substr(0, 40)));
  EXPECT_TRUE(reply_complete(std::string(kMaxReply, '\x17')));
}

TEST(Jarm, FuzzyHashOfOpenSslServerIsMetasploitsPublishedValue) {
  // jarm.py -v against `openssl s_server` (OpenSSL 3.0.19): the ten raw results.
  const std::vector<std::string> raw{"0033|0303||ff01-0001-0023-0017",
                                     "009d|0303||ff01-0001-0023-0017",
                                     "009f|0303||ff01-0001-0023-0017",
                                     "c013|0303||ff01-0001-000b-0023-0017",
                                     "c013|0303||ff01-0001-000b-0023-0017",
                                     "|||",
                                     "1302|0303||002b-0033",
                                     "1303|0303||002b-0033",
                                     "|||",
                                     "|||"};
  EXPECT_EQ(fuzzy_hash(raw), "07d14d16d21d21d00042d43d000000aa99ce74e2c6d013c745aa52b5cc042d");
  EXPECT_EQ(fuzzy_hash(std::vector<std::string>(kProbes, "|||")), std::string(62, '0'));
  // An unknown cipher is numbered one past the list (0x46), an odd version '0'.
  const std::string odd = fuzzy_hash(
      {"abcd|0309|h2|0010", "|||", "|||", "|||", "|||", "|||", "|||", "|||", "|||", "|||"});
  EXPECT_EQ(odd.substr(0, 3), "460");
  EXPECT_EQ(odd.size(), 62u);
}

}  // namespace
}  // namespace vantage::scanner::jarm
