// WebSocket frame opcodes (RFC 6455 section 5.2): the server's framing
// (http_server.cpp) and the client's (ws_client.cpp) read and write the same ones.
#pragma once

#include <cstdint>

namespace sentinel::net {

enum WsOpcode : uint8_t {
  kOpContinuation = 0x0,
  kOpText = 0x1,
  kOpBinary = 0x2,
  kOpClose = 0x8,
  kOpPing = 0x9,
  kOpPong = 0xA,
};

}  // namespace sentinel::net
