// libFuzzer target for the CloudEvents decoder (one line and whole bodies)
// and the JSON writer that turns its results into output records.
//
// Checks, beyond "no crash, no sanitizer report": a decoded event's id and
// data are views into the input; data is valid JSON on its own; every record
// written from a result (event or error) is valid JSON.
//
// Build and run (clang, from the repository root):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//     fuzz/event_fuzz.cpp src/core/cloudevents.cpp src/core/event_key.cpp \
//     src/core/event.cpp src/core/interner.cpp src/core/time.cpp src/core/json_writer.cpp \
//     -lsimdjson -lxxhash -o build/event_fuzz
//   mkdir -p build/event_corpus && build/event_fuzz -max_len=4096 build/event_corpus
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/cloudevents.h"
#include "core/json_writer.h"

namespace {

using sentinel::Event;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "event_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void expect_valid_json(simdjson::dom::parser& parser, const std::string& json, const char* what) {
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) fail(what, json);
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

struct Harness {
  sentinel::Interner sources, types;
  sentinel::EventDecoder decoder{sentinel::DecoderOptions{}, sources, types};
  simdjson::dom::parser checker;
  std::string out;

  void check_event(const Event& ev, std::string_view input) {
    if (!inside(ev.id, input) || ev.id.empty())
      fail("id not a view into the input", std::string(ev.id));
    if (!inside(ev.data, input)) fail("data not a view into the input", std::string(ev.data));
    if (!ev.data.empty()) expect_valid_json(checker, std::string(ev.data), "data is not JSON");
    out.clear();
    sentinel::JsonWriter w(out);
    w.begin_object()
        .member("id", ev.id)
        .member("source", sources.name(ev.source))
        .member("type", types.name(ev.type))
        .member("time", sentinel::to_ms(ev.time))
        .member("lat", ev.lat)
        .member("lon", ev.lon)
        .member("confidence", ev.confidence)
        .member("severity", sentinel::severity_name(ev.severity));
    if (!ev.data.empty()) w.key("data").raw(ev.data);
    w.end_object();
    expect_valid_json(checker, out, "event record is not JSON");
  }

  void check_error(uint64_t line, uint64_t offset, const sentinel::Error& e) {
    if (e.reason.empty()) fail("empty reason", e.field);
    if (e.reason.find('\n') != std::string::npos) fail("reason is not one line", e.reason);
    out.clear();
    sentinel::JsonWriter w(out);
    w.begin_object()
        .member("line", line)
        .member("byte_offset", offset)
        .member("field", e.field)
        .member("reason", e.reason)
        .end_object();
    expect_valid_json(checker, out, "dead-letter record is not JSON");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness h;
  std::vector<char> buf(size + sentinel::kJsonPadding, '}');  // padding that could mislead
  if (size != 0) std::memcpy(buf.data(), data, size);
  const std::string_view input(buf.data(), size);

  Event ev;
  const sentinel::Status st = h.decoder.decode(input, ev);
  if (st.ok()) {
    h.check_event(ev, input);
  } else {
    h.check_error(0, 0, st.error());
  }
  h.decoder.decode_body(
      input, [&](Event& e) { h.check_event(e, input); },
      [&](uint64_t line, uint64_t offset, const sentinel::Error& e) {
        if (offset > size) fail("offset past the body", std::to_string(offset));
        h.check_error(line, offset, e);
      });
  return 0;
}
