// For tests that write files: a fresh directory per test, and reading a
// file back whole. Shared by the test programs (tests/CMakeLists.txt puts
// tests/ on their include path).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sentinel::test_support {

/// The file's bytes; "" when it cannot be read (the comparison that follows
/// then fails and shows it).
inline std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// Gives each test an empty directory `dir_` under the system's temporary
/// directory, named after the process and the test (tests of one program may
/// run in parallel under ctest), and removes it afterwards.
class ScratchDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("sentinel_" + std::string(test->test_suite_name()) + "_" + test->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

}  // namespace sentinel::test_support
