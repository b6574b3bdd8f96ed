// The CloudEvents 1.0 JSON codec (DESIGN.md section 2): one structured-mode
// object per line in, one Event out, or an Error naming the attribute.
//
// The decoder is the first stage every event goes through, at millions of
// events per second per core, so it works on simdjson's On Demand API with
// error codes (never its exceptions), allocates nothing per good event once
// warm, and leaves strings as views into the caller's buffer. simdjson.h stays
// in cloudevents.cpp (pimpl).
//
// Accepted attributes (CloudEvents' own plus Sentinel's extensions):
//   id          required, non-empty string of at most 256 bytes, without JSON
//               escape sequences (Event::id is a view into the line, and an
//               escaped id could only be a copy);
//   source      required string, one of DecoderOptions::allowed_sources;
//   type        required dotted name of [a-z0-9_.-] (no empty segment), at most 128 bytes;
//   time        required RFC 3339 string;
//   specversion optional, "1.0" when present;
//   lat, lon    optional numbers, both or neither, lat in [-90, 90], lon in
//               [-180, 180], the point inside DecoderOptions::bounds;
//   severity    optional, violent | property | other;
//   confidence  optional number in [0, 1];
//   data        optional, any JSON value, kept as its raw text.
// `null` for an optional attribute means absent. Other attributes
// (CloudEvents extensions) are ignored but must still be valid JSON. When a
// key appears twice, the first occurrence wins and later ones are ignored.
// Numbers given as strings ("41.8") are type errors. The line must hold
// exactly one object: anything after it is an error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/event.h"
#include "core/event_key.h"
#include "core/interner.h"
#include "core/result.h"

namespace sentinel {

/// Readable bytes the caller guarantees after every line or body handed to
/// the decoder (their content does not matter). At least simdjson's
/// SIMDJSON_PADDING; the .cpp checks it at compile time.
constexpr size_t kJsonPadding = 64;

/// Limits on accepted events. Defaults are those of the embedded mode.
struct DecoderOptions {
  std::vector<std::string> allowed_sources = IngestConfig{}.sources;  ///< IngestConfig::sources
  std::array<double, 4> bounds =
      CityConfig{}.bounds;  ///< [min_lat, min_lon, max_lat, max_lon], inclusive
  uint64_t max_line_bytes = IngestConfig{}.max_line_bytes;  ///< longer lines are errors
};

/// The decoder options of a loaded configuration.
DecoderOptions decoder_options(const Config& config);

/// Limits of the attributes themselves (not configurable: they bound memory
/// the pipeline keeps per event).
constexpr size_t kMaxIdBytes = 256;
constexpr size_t kMaxTypeBytes = 128;
/// Nesting depth allowed inside `data` and extension attributes.
constexpr int kMaxDataDepth = 128;

/// Decodes CloudEvents JSON into Events.
///
/// Threading: one decoder per thread (it owns a simdjson parser and a cache
/// of type names); the Interners it is given may be shared with other threads.
/// Lifecycle: construct at start-up (throws std::invalid_argument when the
/// options are unusable, e.g. no allowed source); the parser's buffers grow to
/// the largest line or body seen and are then reused.
class EventDecoder {
 public:
  /// Interns every allowed source at once, so decoding a source never locks.
  EventDecoder(const DecoderOptions& options, Interner& sources, Interner& types);
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  /// Decodes one CloudEvents object.
  ///
  /// `line` must be followed in memory by at least kJsonPadding readable
  /// bytes, and must stay alive while `out` is used: out.id and out.data are
  /// views into it. On success every field of `out` is written except
  /// `ingest_time` and `where` (the caller's); `enrich` is reset. On failure
  /// `out` is unspecified and the Error's `field` names the attribute ("" for
  /// syntax, size and shape) and its `reason` is one line, e.g.
  /// "must be a number in [0, 1], got 1.7". An empty or blank line is an error.
  Status decode(std::string_view line, Event& out);

  /// Decodes an HTTP request body: one object, a JSON array of objects, or
  /// NDJSON (one object per line, blank lines skipped), padded like decode().
  /// Calls on_event for each good element, in order, with out.where.line and
  /// out.where.byte_offset set, and on_error for each bad one; a bad element
  /// never stops the others. `line` is the 1-based line (NDJSON) or element
  /// index (array), and 0 for a body that is one object; `byte_offset` is
  /// where that element starts in `body`.
  ///
  /// A body whose lines are all unparseable JSON is tried as one
  /// (pretty-printed) object, and reported once, at line 0, when it is not
  /// one either. A syntax error inside an array makes the rest of the array
  /// unreadable: it is reported for the element where it occurs and the
  /// decoding stops there.
  void decode_body(
      std::string_view body, const std::function<void(Event&)>& on_event,
      const std::function<void(uint64_t line, uint64_t byte_offset, const Error&)>& on_error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel
