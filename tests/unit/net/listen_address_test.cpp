#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "net/http_server.h"

namespace sentinel::net {
namespace listen_address_test {

using ::testing::HasSubstr;
using Parsed = std::pair<std::string, uint16_t>;

TEST(ParseListenAddress, AcceptsHostPortForms) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:8080"), Parsed("127.0.0.1", 8080));
  EXPECT_EQ(parse_listen_address("[::1]:8080"), Parsed("::1", 8080));
  EXPECT_EQ(parse_listen_address("localhost:80"), Parsed("localhost", 80));
  EXPECT_EQ(parse_listen_address(":8080"), Parsed("0.0.0.0", 8080));
  EXPECT_EQ(parse_listen_address("0.0.0.0:0"), Parsed("0.0.0.0", 0));
  EXPECT_EQ(parse_listen_address("10.0.0.1:65535"), Parsed("10.0.0.1", 65535));
}

TEST(ParseListenAddress, RejectsMalformedNamingTheText) {
  for (const char* bad : {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:80x", "::1:8080", "[::1:8080",
                          "[]:8080", "a b:80"}) {
    try {
      parse_listen_address(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::string("\"") + bad + "\"")) << bad;
    }
  }
}

}  // namespace listen_address_test
}  // namespace sentinel::net
