#include <charconv>
#include <stdexcept>
#include <string>
#include <utility>

#include "net/http_server.h"

namespace sentinel::net {

std::pair<std::string, uint16_t> parse_listen_address(const std::string& text) {
  auto fail = [&](const std::string& reason) -> std::invalid_argument {
    return std::invalid_argument("invalid listen address \"" + text + "\": " + reason);
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) throw fail("expected host:port");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);

  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw fail("expected [IPv6 address]:port");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    throw fail("an IPv6 address needs brackets, e.g. [::1]:8080");
  } else if (host.empty()) {
    host = "0.0.0.0";
  }
  if (host.find_first_of(" \t[]") != std::string::npos) throw fail("bad host \"" + host + "\"");

  unsigned port = 0;
  const char* begin = port_text.data();
  const char* end = begin + port_text.size();
  auto [ptr, ec] = std::from_chars(begin, end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port > 65535) {
    throw fail("port \"" + port_text + "\" is not a number in 0..65535");
  }
  return {std::move(host), static_cast<uint16_t>(port)};
}

}  // namespace sentinel::net
