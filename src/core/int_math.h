// Integer arithmetic that the standard library leaves out.
#pragma once

#include <cstdint>

namespace sentinel {

/// a / b rounded toward negative infinity (C++ division truncates toward
/// zero): the bucket of a negative time is then the one before zero's.
/// `b` must not be 0.
constexpr int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace sentinel
