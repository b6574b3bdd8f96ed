// What the HTTP and WebSocket tests share: a time bound for blocking steps,
// a guard that fails the binary when a call hangs, and a blocking POSIX socket
// connected to 127.0.0.1 for what no client library would send (garbage,
// partial or pipelined requests, raw frames).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

namespace sentinel::net::test_socket {

using namespace std::chrono_literals;

/// Upper bound for a blocking step of a test; reaching it is a failure, not a timing.
inline constexpr auto kTestTimeout = 20s;

/// Runs `fn` and fails the whole test binary if it does not return within
/// kTestTimeout: a hang (in stop(), say) must not hang the suite.
inline void must_return(const std::function<void()>& fn, const char* what) {
  std::promise<void> done;
  auto finished = done.get_future();
  std::thread runner([&] {
    fn();
    done.set_value();
  });
  if (finished.wait_for(kTestTimeout) != std::future_status::ready) {
    std::fprintf(stderr, "%s did not return within the test timeout\n", what);
    std::_Exit(1);
  }
  runner.join();
}

/// The connected descriptor; reads and writes time out after `timeout`.
/// Throws std::runtime_error naming the failing call.
inline int connect_loopback(uint16_t port, std::chrono::seconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  timeval tv{};
  tv.tv_sec = timeout.count();
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("connect failed: " + why);
  }
  return fd;
}

}  // namespace sentinel::net::test_socket
