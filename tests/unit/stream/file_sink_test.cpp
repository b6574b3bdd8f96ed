#include "stream/file_sink.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/scratch_files.h"

namespace sentinel {
namespace file_sink_test {

namespace fs = std::filesystem;

using test_support::read_file_bytes;

using FileSinkTest = test_support::ScratchDirTest;

// Lines of varied length, so buffers fill at uneven points.
std::string line_for(int sink, int i) {
  return "{\"sink\":" + std::to_string(sink) + ",\"i\":" + std::to_string(i) + ",\"pad\":\"" +
         std::string(static_cast<size_t>(i % 97), 'x') + "\"}";
}

// Several sinks fed from their own threads through one writer thread: each
// file holds exactly its lines in order, flush() returns lengths the files
// really have, and lines() counts what write() was told.
TEST_F(FileSinkTest, WriterThreadKeepsEachSinksBytesInOrder) {
  constexpr int kSinks = 3, kLines = 60'000;  // ~5 MB per sink: several buffers in flight
  std::vector<std::string> expected(kSinks);
  {
    SinkWriter writer;
    std::vector<std::unique_ptr<FileSink>> sinks;
    for (int s = 0; s < kSinks; ++s) {
      sinks.push_back(std::make_unique<FileSink>((dir_ / std::to_string(s)).string(), 0, &writer));
    }
    std::vector<std::thread> threads;
    std::vector<uint64_t> mid_lengths(kSinks);
    for (int s = 0; s < kSinks; ++s) {
      threads.emplace_back([&, s] {
        FileSink& sink = *sinks[static_cast<size_t>(s)];
        for (int i = 0; i < kLines; ++i) {
          const std::string line = line_for(s, i);
          if (i % 3 == 0) {
            sink.write(line + "\n", 1);
          } else {
            sink.write_line(line);
          }
          expected[static_cast<size_t>(s)] += line + "\n";
          if (i == kLines / 2) {
            mid_lengths[static_cast<size_t>(s)] = sink.flush();
            // What flush() returns is on disk already, not merely queued.
            EXPECT_EQ(fs::file_size(sink.path()), mid_lengths[static_cast<size_t>(s)]);
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    for (int s = 0; s < kSinks; ++s) {
      EXPECT_EQ(mid_lengths[static_cast<size_t>(s)], [&] {
        // The length at the mid-run flush: every line up to and including i = kLines / 2.
        uint64_t n = 0;
        for (int i = 0; i <= kLines / 2; ++i) n += line_for(s, i).size() + 1;
        return n;
      }());
      EXPECT_EQ(sinks[static_cast<size_t>(s)]->flush(), expected[static_cast<size_t>(s)].size());
      EXPECT_EQ(sinks[static_cast<size_t>(s)]->committed_length(), expected[static_cast<size_t>(s)].size());
      EXPECT_EQ(sinks[static_cast<size_t>(s)]->lines(), static_cast<uint64_t>(kLines));
    }
    // Sinks destroyed here, before the writer: their destructors flush.
  }
  for (int s = 0; s < kSinks; ++s) EXPECT_EQ(read_file_bytes(dir_ / std::to_string(s)), expected[static_cast<size_t>(s)]);
}

// A sink destroyed with bytes still buffered or in flight writes them all.
TEST_F(FileSinkTest, DestructorWritesWhatIsBufferedAndInFlight) {
  const fs::path path = dir_ / "out";
  std::string expected;
  {
    SinkWriter writer;
    FileSink sink(path.string(), 0, &writer);
    for (int i = 0; i < 30'000; ++i) {
      sink.write_line(line_for(0, i));
      expected += line_for(0, i) + "\n";
    }
  }
  EXPECT_EQ(read_file_bytes(path), expected);
}

// A restore cuts the file back to a checkpointed length and appends after
// it, with or without a writer thread; a file shorter than the checkpoint
// says the output was changed.
TEST_F(FileSinkTest, RestoreCutsBackToTheCheckpointedLength) {
  const fs::path path = dir_ / "out";
  SinkWriter writer;
  uint64_t checkpointed = 0;
  {
    FileSink sink(path.string(), 0, &writer);
    sink.write_line("one");
    sink.write_line("two");
    checkpointed = sink.flush();
    sink.write_line("lost after the checkpoint");
  }
  EXPECT_EQ(checkpointed, 8u);
  {
    FileSink sink(path.string(), checkpointed, &writer);
    EXPECT_EQ(sink.committed_length(), checkpointed);
    sink.write_line("three");
    EXPECT_EQ(sink.flush(), 14u);
  }
  EXPECT_EQ(read_file_bytes(path), "one\ntwo\nthree\n");
  {
    FileSink sink(path.string(), 6, nullptr);  // no writer thread: the same cut
    sink.write_line("x");
  }
  EXPECT_EQ(read_file_bytes(path), "one\ntwx\n");
  EXPECT_THROW(FileSink(path.string(), 1000, &writer), std::runtime_error);
}

}  // namespace file_sink_test
}  // namespace sentinel
