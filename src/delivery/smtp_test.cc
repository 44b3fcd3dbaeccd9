#include "delivery/smtp.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vantage::delivery {
namespace {

TEST(SmtpClassify, DeliveredOnCurlOk) {
  auto o = classify_smtp_result(CURLE_OK, 250, "", "250 2.0.0 Ok: queued as 4F2");
  EXPECT_EQ(o.status, SendStatus::kDelivered);
  EXPECT_EQ(o.smtp_code, 250);
  EXPECT_EQ(o.reason, "250 2.0.0 Ok: queued as 4F2");
}

TEST(SmtpClassify, FiveHundredsArePermanent) {
  auto o = classify_smtp_result(CURLE_SEND_ERROR, 550, "RCPT failed: 550",
                                "550 5.1.1 <x@reports.test>: Recipient address rejected");
  EXPECT_EQ(o.status, SendStatus::kPermanent);
  EXPECT_EQ(o.smtp_code, 550);
  EXPECT_NE(o.reason.find("Recipient address rejected"), std::string::npos);
}

TEST(SmtpClassify, FourHundredsAreTransient) {
  auto o = classify_smtp_result(CURLE_SEND_ERROR, 451, "", "451 4.3.0 try again later");
  EXPECT_EQ(o.status, SendStatus::kTransient);
  EXPECT_EQ(o.smtp_code, 451);
}

TEST(SmtpClassify, NetworkTroubleIsTransient) {
  EXPECT_EQ(classify_smtp_result(CURLE_COULDNT_CONNECT, 0, "Connection refused", "").status,
            SendStatus::kTransient);
  EXPECT_EQ(classify_smtp_result(CURLE_OPERATION_TIMEDOUT, 0, "", "").status,
            SendStatus::kTransient);
  EXPECT_EQ(classify_smtp_result(CURLE_GOT_NOTHING, 0, "", "").status, SendStatus::kTransient);
}

TEST(SmtpClassify, ConfigurationErrorsArePermanent) {
  EXPECT_EQ(classify_smtp_result(CURLE_LOGIN_DENIED, 0, "", "").status, SendStatus::kPermanent);
  EXPECT_EQ(classify_smtp_result(CURLE_USE_SSL_FAILED, 0, "", "").status, SendStatus::kPermanent);
  auto tls = classify_smtp_result(CURLE_PEER_FAILED_VERIFICATION, 220,
                                  "SSL certificate problem: self-signed certificate",
                                  "220 2.0.0 Ready to start TLS");
  EXPECT_EQ(tls.status, SendStatus::kPermanent);
  EXPECT_EQ(tls.smtp_code, 0);  // the 220 did not cause the failure
  EXPECT_EQ(tls.reason, "SSL certificate problem: self-signed certificate");
}

TEST(CurlSmtpTransport, RejectsNonSmtpUrl) {
  EXPECT_FALSE(CurlSmtpTransport::create({.url = "http://127.0.0.1:25"}).ok());
}

TEST(CurlSmtpTransport, ConnectionRefusedIsTransient) {
  // A port that was just free: bind, read the number, close -- nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  auto t = CurlSmtpTransport::create(
      {.url = "smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), .password = "s3cret"});
  ASSERT_TRUE(t.ok());
  auto o = (*t)->send("vantage@localhost", "cert@example.org", "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(o.status, SendStatus::kTransient);
  EXPECT_EQ(o.smtp_code, 0);
  EXPECT_FALSE(o.reason.empty());
  EXPECT_EQ(o.reason.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace vantage::delivery
