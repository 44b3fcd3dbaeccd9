#include "registry/validate.h"

#include <gtest/gtest.h>

#include "registry/punycode.h"

namespace vantage::registry {
namespace {

std::u32string cps(std::initializer_list<char32_t> l) {
  return std::u32string(l);
}

// RFC 3492 section 7.1 sample strings.
TEST(Punycode, Rfc3492Vectors) {
  struct Vector {
    std::u32string input;
    const char* encoded;
  } vectors[] = {
      {cps({0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645, 0x0648,
            0x0634, 0x0639, 0x0631, 0x0628, 0x064A, 0x061F}),
       "egbpdaj6bu4bxfgehfvwxn"},  // (A) Arabic (Egyptian)
      {cps({0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D, 0x6587}),
       "ihqwcrb4cv8a8dqg056pqjye"},  // (B) Chinese (simplified)
      {cps({0x4ED6, 0x5011, 0x7232, 0x4EC0, 0x9EBD, 0x4E0D, 0x8AAA, 0x4E2D, 0x6587}),
       "ihqwctvzc91f659drss3x8bo0yb"},  // (C) Chinese (traditional)
      {cps({0x0050, 0x0072, 0x006F, 0x010D, 0x0070, 0x0072, 0x006F, 0x0073,
            0x0074, 0x011B, 0x006E, 0x0065, 0x006D, 0x006C, 0x0075, 0x0076,
            0x00ED, 0x010D, 0x0065, 0x0073, 0x006B, 0x0079}),
       "Proprostnemluvesky-uyb24dma41a"},  // (D) Czech
      {cps({0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F}),
       "3B-ww4c5e180e575a65lsy2b"},  // (L) 3<nen>B<gumi><kinpachi><sensei>
  };
  for (const auto& v : vectors) {
    auto enc = punycode_encode(v.input);
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(*enc, v.encoded);
    auto dec = punycode_decode(v.encoded);
    ASSERT_TRUE(dec.ok()) << v.encoded;
    EXPECT_EQ(*dec, v.input);
  }
}

TEST(Punycode, RejectsGarbage) {
  EXPECT_FALSE(punycode_decode("ab!c").ok());
  EXPECT_FALSE(punycode_decode("999999999999").ok());      // overflow
  EXPECT_FALSE(utf8_to_code_points("\xC0\xAF").ok());      // overlong
  EXPECT_FALSE(utf8_to_code_points("\xE2\x82").ok());      // truncated
  EXPECT_FALSE(utf8_to_code_points("\xED\xA0\x80").ok());  // surrogate
}

TEST(Domain, IdnToPunycodeLowercase) {
  EXPECT_EQ(*normalise_domain("Bücher.Example."), "xn--bcher-kva.example");
  EXPECT_EQ(*normalise_domain("münchen.de"), "xn--mnchen-3ya.de");
  EXPECT_EQ(*normalise_domain("MÜNCHEN.DE"), "xn--mnchen-3ya.de");
  EXPECT_EQ(*normalise_domain("ŁÓDŹ.pl"), *normalise_domain("łódź.pl"));
  EXPECT_EQ(*normalise_domain("ПРИМЕР.РФ"), *normalise_domain("пример.рф"));
  EXPECT_EQ(*normalise_domain("пример.рф"), "xn--e1afmkfd.xn--p1ai");
  EXPECT_EQ(*normalise_domain("WWW.Example.ORG"), "www.example.org");
  EXPECT_EQ(*normalise_domain("nl"), "nl");
  EXPECT_EQ(*normalise_domain("xn--bcher-kva.example"), "xn--bcher-kva.example");
}

TEST(Domain, RejectsBadLabels) {
  for (const char* bad :
       {"", ".", "a..b", "-a.com", "a-.com", "a_b.com", "exa mple.com", "ab--cd.com",
        "xn--999999999999.com", "xn--.com", "1.2.3.4", "example.123", "\xff.com"}) {
    EXPECT_FALSE(normalise_domain(bad).ok()) << bad;
  }
  EXPECT_FALSE(normalise_domain(std::string(64, 'a') + ".com").ok());
  std::string long_name;
  for (int i = 0; i < 51; ++i) long_name += "abcd.";
  long_name += "com";
  EXPECT_FALSE(normalise_domain(long_name).ok());
}

TEST(ShortName, OnlyIdentifierCharacters) {
  EXPECT_TRUE(validate_short_name("Example_CERT_2").ok());
  for (const char* bad : {"", "cert-nl", "cert.nl", "cert nl", "cért"}) {
    auto st = validate_short_name(bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("[A-Za-z0-9_]"), std::string::npos);
  }
  EXPECT_FALSE(validate_short_name(std::string(65, 'a')).ok());
}

TEST(Asn, ParsesAndRejects) {
  EXPECT_EQ(*parse_asn("64500"), 64500u);
  EXPECT_EQ(*parse_asn("AS64500"), 64500u);
  EXPECT_EQ(*parse_asn("as4200000000"), 4200000000u);
  for (const char* bad : {"0", "AS0", "4294967296", "AS-x", "AS", "", "-1", "12a", "1 2",
                          "99999999999", "23456", "65535", "4294967295"}) {
    EXPECT_FALSE(parse_asn(bad).ok()) << bad;
  }
}

TEST(Cidr, HostBitsAreClearedAndReported) {
  auto v = parse_cidr("192.0.2.77/24");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->had_host_bits);
  EXPECT_EQ(v->prefix.to_string(), "192.0.2.0/24");
  auto r = normalise_resource(ResourceKind::kCidr, "2001:db8::1/32");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value, "2001:db8::/32");
  EXPECT_NE(r->warning.find("host bits"), std::string::npos);
  auto clean = normalise_resource(ResourceKind::kCidr, "10.0.0.0/8");
  EXPECT_TRUE(clean->warning.empty());
  for (const char* bad :
       {"10.0.0.0/33", "10.0.0/8", "10.0.0.0/", "2001:db8::/129", "x/8", "10.0.0.0/-1"}) {
    EXPECT_FALSE(parse_cidr(bad).ok()) << bad;
  }
}

TEST(Country, Iso3166Alpha2) {
  EXPECT_EQ(*normalise_country("nl"), "NL");
  EXPECT_EQ(*normalise_country("XK"), "XK");
  for (const char* bad : {"", "N", "NLD", "ZZ", "UK", "EU", "1A"}) {
    EXPECT_FALSE(normalise_country(bad).ok()) << bad;
  }
}

TEST(Email, Validation) {
  EXPECT_EQ(*normalise_email("Abuse@Example.ORG"), "Abuse@example.org");
  EXPECT_EQ(*normalise_email("cert+reports@bücher.de"), "cert+reports@xn--bcher-kva.de");
  for (const char* bad :
       {"", "abuse", "@example.org", "abuse@", "a..b@example.org", ".a@example.org",
        "a b@example.org", "abuse@localhost", "abuse@exa_mple.org", "a@b@example.org"}) {
    EXPECT_FALSE(normalise_email(bad).ok()) << bad;
  }
}

TEST(Pgp, ArmorPresent) {
  EXPECT_TRUE(validate_pgp_key("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF...\n-----END PGP "
                               "PUBLIC KEY BLOCK-----\n")
                  .ok());
  EXPECT_FALSE(validate_pgp_key("mQINBF...").ok());
  EXPECT_FALSE(validate_pgp_key("-----END PGP PUBLIC KEY BLOCK----- -----BEGIN PGP PUBLIC KEY "
                                "BLOCK-----")
                   .ok());
  EXPECT_FALSE(validate_pgp_key("-----BEGIN PGP PUBLIC KEY BLOCK-----\n-----END PGP PUBLIC KEY "
                                "BLOCK-----")
                   .ok());
}

TEST(Resource, AutoKind) {
  EXPECT_EQ(normalise_resource_auto("192.0.2.0/24")->kind, ResourceKind::kCidr);
  EXPECT_EQ(normalise_resource_auto("2001:db8::/32")->kind, ResourceKind::kCidr);
  EXPECT_EQ(normalise_resource_auto("AS64500")->kind, ResourceKind::kAsn);
  EXPECT_EQ(normalise_resource_auto("64500")->kind, ResourceKind::kAsn);
  EXPECT_EQ(normalise_resource_auto("NL")->kind, ResourceKind::kCountry);
  EXPECT_EQ(normalise_resource_auto("nl")->kind, ResourceKind::kDomain);
  EXPECT_EQ(normalise_resource_auto("example.org")->kind, ResourceKind::kDomain);
  EXPECT_FALSE(normalise_resource_auto("AS-x").ok());
}

}  // namespace
}  // namespace vantage::registry
