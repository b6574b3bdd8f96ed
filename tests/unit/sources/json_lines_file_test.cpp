#include "sources/json_lines_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace sentinel {
namespace json_lines_file_test {

namespace fs = std::filesystem;

class JsonLinesFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& content) {
    path_ = (fs::temp_directory_path() /
             ("sentinel-jl-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    std::ofstream(path_, std::ios::binary) << content;
    return path_;
  }
  void TearDown() override { fs::remove(path_); }
  std::string path_;
};

struct Seen {
  std::string text;
  uint64_t number, offset, length;
  bool too_long;
};

std::vector<Seen> read_all(JsonLinesFile& f) {
  std::vector<Seen> out;
  JsonLinesFile::Line l;
  while (f.next(l)) out.push_back({std::string(l.text), l.number, l.offset, l.length, l.too_long});
  return out;
}

TEST_F(JsonLinesFileTest, LinesNumbersAndOffsets) {
  JsonLinesFile f(write("a\n\nbcd\nlast-without-newline"), 0, 1, 100, 4096);
  const auto lines = read_all(f);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[1].text, "");
  EXPECT_EQ(lines[2].offset, 3u);
  EXPECT_EQ(lines[2].number, 3u);
  EXPECT_EQ(lines[3].text, "last-without-newline");
  EXPECT_EQ(f.next_offset(), f.size());
}

TEST_F(JsonLinesFileTest, EmptyFile) {
  JsonLinesFile f(write(""), 0, 1, 100, 4096);
  EXPECT_TRUE(read_all(f).empty());
}

TEST_F(JsonLinesFileTest, LinesAcrossSmallChunks) {
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "line-" + std::to_string(i) + "\n";
  JsonLinesFile f(write(content), 0, 1, 100, 4096);
  const auto lines = read_all(f);
  ASSERT_EQ(lines.size(), 2000u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(lines[static_cast<size_t>(i)].text, "line-" + std::to_string(i));
}

TEST_F(JsonLinesFileTest, TooLongLineIsSkippedNotBuffered) {
  const std::string big(20000, 'x');
  JsonLinesFile f(write("ok\n" + big + "\nafter\n"), 0, 1, 1000, 4096);
  const auto lines = read_all(f);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_EQ(lines[1].length, 20000u);
  EXPECT_LE(lines[1].text.size(), 256u);
  EXPECT_EQ(lines[2].text, "after");
  EXPECT_EQ(lines[2].offset, 3u + 20000u + 1u);
}

TEST_F(JsonLinesFileTest, ResumesAtAnOffset) {
  JsonLinesFile f(write("one\ntwo\nthree\n"), 4, 2, 100, 4096);
  const auto lines = read_all(f);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "two");
  EXPECT_EQ(lines[0].number, 2u);
}

TEST_F(JsonLinesFileTest, ResumePastTheEndIsAnError) {
  const std::string p = write("one\n");
  EXPECT_THROW(JsonLinesFile(p, 100, 1, 100, 4096), std::runtime_error);
  EXPECT_THROW(JsonLinesFile("/nonexistent/file.jsonl", 0, 1, 100, 4096), std::runtime_error);
}

}  // namespace json_lines_file_test
}  // namespace sentinel
