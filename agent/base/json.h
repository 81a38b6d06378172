#pragma once
// The one way JSON is written: every --json output, state.json, the Placement
// and Keystone request bodies and the JSON values in nova.conf go through
// JsonWriter, over RapidJSON's writer.
//
// One string policy, for keys and values alike: valid UTF-8 passes through as
// it is (no \u escapes for non-ASCII), '"', '\' and control characters are
// escaped (\n, \t, ... or \u00XX), and a byte that is not part of valid UTF-8
// (RFC 3629, utf8_sequence in parse.h) becomes U+FFFD, so the output is always
// valid JSON whatever sysfs or a config file held.
//
//   JsonWriter w(JsonStyle::pretty);
//   w.begin_object();
//   w.key("hostname").string(inv.hostname);
//   w.key("gpus").begin_array();
//   ...
//   w.end_array();
//   w.end_object();
//   std::string text = w.finish();
//
// Misuse (a value where a key is due, an unbalanced end_*) is a programming
// error: RapidJSON's assertions catch it in debug builds.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gpu_agent {

enum class JsonStyle {
  // Two-space indent, one member or element a line, ": " after a key, "[]"
  // and "{}" when empty; finish() ends the text with a newline. Files and --json.
  pretty,
  // No whitespace at all: request bodies.
  compact,
  // One line, ", " between items and ": " after a key, as Python's json.dumps
  // writes it: {"vendor_id": "10de", "product_id": "20b5"}. nova.conf values.
  one_line,
};

class JsonWriter {
 public:
  // reserve: the expected size, when it is large (the string never grows by copying).
  explicit JsonWriter(JsonStyle style, size_t reserve = 0);
  // Writes the document to out as it goes, 64 KiB at a time, so a large one
  // (an 8x A40 host's inventory: 2.8 MB) is never held whole; finish() then
  // writes the end and returns "".
  JsonWriter(JsonStyle style, std::ostream& out);
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // In an object: the member's name, then exactly one value (or begin_*).
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view value);
  JsonWriter& string_or_null(const std::optional<std::string>& value);
  JsonWriter& integer(int64_t value);
  JsonWriter& integer_or_null(const std::optional<int64_t>& value);
  JsonWriter& unsigned_integer(uint64_t value);
  JsonWriter& number(double value);  // RapidJSON's shortest form: 1.0, 16.0, 0.5
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  // An array of strings: any range of things string() takes.
  template <class Range>
  JsonWriter& strings(const Range& values) {
    begin_array();
    for (const auto& v : values) string(v);
    return end_array();
  }

  // The document; the writer is spent afterwards.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpu_agent
