// End-to-end test of `vantage lookup` on small generated data: argument and stdin input,
// TSV and JSON output, the error line and exit status for a bad address, reserved
// addresses, and the VANTAGE_DATA_* overrides. Skipped when the vantage binary is not built.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "enrich/testing/mmdb_writer.h"
#include "enrich/testing/temp_dir.h"

namespace vantage::enrich {
namespace {

using testing::dbip_flat_record;
using testing::MmdbWriter;
using testing::MmdbWriterOptions;
using testing::TempDir;

struct CommandResult {
  int status = -1;
  std::string out;
};

// Runs a shell command, capturing its stdout and exit status.
CommandResult run(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class LookupCli : public ::testing::Test {
 protected:
  void SetUp() override {
    vantage_ = std::string(VANTAGE_BINARY_DIR) + "/apps/vantage/vantage";
    if (!std::filesystem::exists(vantage_)) GTEST_SKIP() << vantage_ << " not built";
    asn4_ = dir_.write("a4.csv",
                       "8.8.8.0,8.8.8.255,15169,Google LLC\n"
                       "1.1.1.0,1.1.1.255,13335,\"Cloudflare, Inc.\"\n");
    asn6_ = dir_.write("a6.csv", "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,2500,WIDE\n");
    MmdbWriterOptions o4;
    o4.ip_version = 4;
    MmdbWriter w4(o4);
    ASSERT_TRUE(w4.insert(IpPrefix::parse("8.8.8.0/24")->prefix,
                          dbip_flat_record("US", "California", "Mountain View")));
    geo4_ = dir_.file("g4.mmdb");
    ASSERT_TRUE(w4.write(geo4_));
    MmdbWriterOptions o6;
    o6.ip_version = 6;
    o6.database_type = "city ipv6";
    MmdbWriter w6(o6);
    ASSERT_TRUE(w6.insert(IpPrefix::parse("2001:200::/32")->prefix,
                          dbip_flat_record("JP", "Kanagawa", "Fujisawa")));
    geo6_ = dir_.file("g6.mmdb");
    ASSERT_TRUE(w6.write(geo6_));
    err_ = dir_.file("stderr.txt");
  }
  std::string flags(const std::string& asn4 = "") const {
    return " --asn-v4 " + (asn4.empty() ? asn4_ : asn4) + " --asn-v6 " + asn6_ + " --geo-v4 " +
           geo4_ + " --geo-v6 " + geo6_ + " --sector '' ";
  }

  TempDir dir_;
  std::string vantage_, asn4_, asn6_, geo4_, geo6_, err_;
};

TEST_F(LookupCli, ArgumentsTsvAndBadAddress) {
  CommandResult r =
      run(vantage_ + " lookup" + flags() + "8.8.8.8 not-an-ip 2001:200::1 10.0.0.1 2>" + err_);
  EXPECT_EQ(r.status, 1);  // the bad address fails the run, after the others are answered
  EXPECT_EQ(r.out,
            "8.8.8.8\t15169\tGoogle LLC\tUS\tCalifornia\tMountain View\t\t\t\n"
            "2001:200::1\t2500\tWIDE\tJP\tKanagawa\tFujisawa\t\t\t\n"
            "10.0.0.1\t\t\t\t\t\t\t\t\n");
  EXPECT_NE(slurp(err_).find("invalid address 'not-an-ip'"), std::string::npos);
}

TEST_F(LookupCli, StdinJson) {
  std::string in = dir_.write("in.txt", "# comment\n1.1.1.1\n\n9.9.9.9\n");
  CommandResult r = run(vantage_ + " lookup --json" + flags() + "- < " + in + " 2>" + err_);
  EXPECT_EQ(r.status, 0) << slurp(err_);
  EXPECT_EQ(r.out,
            "{\"as_name\":\"Cloudflare, Inc.\",\"asn\":13335,\"city\":\"\",\"geo\":\"\","
            "\"hostname\":\"\",\"ip\":\"1.1.1.1\",\"naics\":null,\"region\":\"\","
            "\"sector\":\"\"}\n"
            "{\"as_name\":\"\",\"asn\":null,\"city\":\"\",\"geo\":\"\",\"hostname\":\"\","
            "\"ip\":\"9.9.9.9\",\"naics\":null,\"region\":\"\",\"sector\":\"\"}\n");
}

TEST_F(LookupCli, EnvironmentOverridesAndLoadErrors) {
  std::string other = dir_.write("other4.csv", "8.8.8.0,8.8.8.255,64500,Other\n");
  CommandResult r = run("VANTAGE_DATA_ASN_V4=" + other + " VANTAGE_DATA_ASN_V6=" + asn6_ +
                        " VANTAGE_DATA_GEO_V4=" + geo4_ + " VANTAGE_DATA_GEO_V6=" + geo6_ + " " +
                        vantage_ + " lookup --geo-index flattened --sector '' 8.8.8.8 2>" + err_);
  EXPECT_EQ(r.status, 0) << slurp(err_);
  EXPECT_EQ(r.out, "8.8.8.8\t64500\tOther\tUS\tCalifornia\tMountain View\t\t\t\n");

  std::string broken = dir_.write("broken.csv", "8.8.8.0,8.8.8");
  r = run(vantage_ + " lookup" + flags(broken) + "8.8.8.8 2>" + err_);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(slurp(err_).find("broken.csv"), std::string::npos);
}

}  // namespace
}  // namespace vantage::enrich
