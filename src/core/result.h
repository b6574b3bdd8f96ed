// Result<T>: the hot path's error channel (no exception per event).
// std::expected is C++23 and g++ 12 does not ship it, so this is the minimal
// subset Sentinel needs; replace with std::expected when the toolchain moves.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sentinel {

/// Why a per-event operation failed; `field` names the place, `reason` says
/// what was wrong, in one line a user can act on.
struct Error {
  std::string field;
  std::string reason;

  std::string to_string() const { return field.empty() ? reason : field + ": " + reason; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

/// Result of an operation with no value.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(std::string field, std::string reason) {
  return Error{std::move(field), std::move(reason)};
}

}  // namespace sentinel
