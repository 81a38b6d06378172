// JsonWriter: the one string policy (escapes, UTF-8 through, invalid bytes to
// U+FFFD), the three styles, and pretty/compact byte for byte what RapidJSON's
// own PrettyWriter/Writer wrote before every output moved to the helper.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "json.h"

using namespace gpu_agent;

namespace {

std::string one_string(std::string_view s, JsonStyle style = JsonStyle::compact) {
  JsonWriter w(style);
  w.string(s);
  return w.finish();
}

// The same document through any writer with RapidJSON's handler interface.
template <class W>
void sample(W& w) {
  w.StartObject();
  w.Key("n");
  w.Int64(-3);
  w.Key("empty_list");
  w.StartArray();
  w.EndArray();
  w.Key("empty_object");
  w.StartObject();
  w.EndObject();
  w.Key("list");
  w.StartArray();
  w.String("a");
  w.StartObject();
  w.Key("deep");
  w.StartArray();
  w.Bool(true);
  w.Null();
  w.Double(1.5);
  w.EndArray();
  w.EndObject();
  w.Uint64(18446744073709551615ull);
  w.EndArray();
  w.Key("ratio");
  w.Double(16.0);
  w.EndObject();
}

std::string sample(JsonStyle style) {
  JsonWriter w(style);
  w.begin_object();
  w.key("n").integer(-3);
  w.key("empty_list").begin_array().end_array();
  w.key("empty_object").begin_object().end_object();
  w.key("list").begin_array();
  w.string("a");
  w.begin_object();
  w.key("deep").begin_array().boolean(true).null().number(1.5).end_array();
  w.end_object();
  w.unsigned_integer(18446744073709551615ull);
  w.end_array();
  w.key("ratio").number(16.0);
  w.end_object();
  return w.finish();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json)

BOOST_AUTO_TEST_CASE(escapes_quotes_backslash_and_control_characters) {
  BOOST_TEST(one_string("say \"hi\"") == R"("say \"hi\"")");
  BOOST_TEST(one_string("C:\\dir") == R"("C:\\dir")");
  BOOST_TEST(one_string("a\nb\tc\rd\be\ff") == R"("a\nb\tc\rd\be\ff")");
  BOOST_TEST(one_string(std::string_view("\x01\x1f\x7f/", 4)) == "\"\\u0001\\u001F\x7f/\"");
  BOOST_TEST(one_string(std::string_view("a\0b", 3)) == R"("a\u0000b")");  // the length counts, not NUL
}

BOOST_AUTO_TEST_CASE(valid_utf8_passes_through) {
  const std::string s =
      "Gr\xc3\xbc\xc3\x9f"
      "e \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd";  // Grüße € 😀 U+FFFD
  BOOST_TEST(one_string(s) == "\"" + s + "\"");
}

BOOST_AUTO_TEST_CASE(invalid_bytes_become_replacement_characters) {
  const std::string fffd = "\xef\xbf\xbd";
  struct Row {
    std::string in, want;
  };
  const std::vector<Row> rows{
      {"a\xff"
       "b",
       "a" + fffd + "b"},
      {"\xc0\xaf", fffd + fffd},                        // overlong '/'
      {"\xed\xa0\x80", fffd + fffd + fffd},             // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"end \xe2\x82", "end " + fffd + fffd},           // cut short
      {"\x80 \xc3\xa9", fffd + " \xc3\xa9"},            // a lone continuation byte; what follows is kept
      {"\"\xfe\n", "\\\"" + fffd + "\\n"},              // replaced and escaped in one string
  };
  for (const auto& r : rows) BOOST_TEST(one_string(r.in) == "\"" + r.want + "\"");
}

BOOST_AUTO_TEST_CASE(keys_follow_the_same_policy) {
  JsonWriter w(JsonStyle::compact);
  w.begin_object().key("k\"\xff").string("v").end_object();
  BOOST_TEST(w.finish() == "{\"k\\\"\xef\xbf\xbd\":\"v\"}");
}

BOOST_AUTO_TEST_CASE(output_with_garbage_is_valid_json) {
  JsonWriter w(JsonStyle::pretty);
  w.begin_object().key("\xc3").string(std::string_view("\x00\xff\x1b[31m\xed\xbf\xbf", 9)).end_object();
  const std::string text = w.finish();
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.c_str(), text.size());
  BOOST_TEST(!d.HasParseError());
  BOOST_TEST(d.IsObject());
}

BOOST_AUTO_TEST_CASE(pretty_is_what_rapidjson_prettywriter_writes) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  sample(w);
  BOOST_TEST(sample(JsonStyle::pretty) == std::string(buf.GetString()) + "\n");
  BOOST_TEST(sample(JsonStyle::pretty) == R"({
  "n": -3,
  "empty_list": [],
  "empty_object": {},
  "list": [
    "a",
    {
      "deep": [
        true,
        null,
        1.5
      ]
    },
    18446744073709551615
  ],
  "ratio": 16.0
}
)");
}

BOOST_AUTO_TEST_CASE(compact_is_what_rapidjson_writer_writes) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  sample(w);
  BOOST_TEST(sample(JsonStyle::compact) == buf.GetString());
  BOOST_TEST(
      sample(JsonStyle::compact) ==
      R"({"n":-3,"empty_list":[],"empty_object":{},"list":["a",{"deep":[true,null,1.5]},18446744073709551615],"ratio":16.0})");
}

BOOST_AUTO_TEST_CASE(one_line_spaces_like_python_json_dumps) {
  BOOST_TEST(
      sample(JsonStyle::one_line) ==
      R"({"n": -3, "empty_list": [], "empty_object": {}, "list": ["a", {"deep": [true, null, 1.5]}, 18446744073709551615], "ratio": 16.0})");
}

BOOST_AUTO_TEST_CASE(typed_helpers) {
  JsonWriter w(JsonStyle::compact);
  w.begin_object();
  w.key("s").string_or_null(std::string("x"));
  w.key("no_s").string_or_null(std::nullopt);
  w.key("i").integer_or_null(int64_t{-9223372036854775807 - 1});
  w.key("no_i").integer_or_null(std::nullopt);
  w.key("set").strings(std::set<std::string>{"b", "a"});
  w.key("none").strings(std::vector<std::string>{});
  w.end_object();
  BOOST_TEST(w.finish() == R"({"s":"x","no_s":null,"i":-9223372036854775808,"no_i":null,"set":["a","b"],"none":[]})");
}

BOOST_AUTO_TEST_CASE(large_documents_cross_the_chunk_buffer) {
  // Past the 64 KiB chunk, and one string longer than it: nothing lost at a seam.
  const std::string big(100 * 1024, 'x');
  JsonWriter w(JsonStyle::compact);
  w.begin_array();
  for (int i = 0; i < 20000; ++i) w.integer(i);
  w.string(big);
  w.end_array();
  const std::string text = w.finish();
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  BOOST_REQUIRE(!d.HasParseError());
  BOOST_REQUIRE(d.Size() == 20001u);
  BOOST_TEST(d[19999u].GetInt() == 19999);
  BOOST_TEST(d[20000u].GetStringLength() == big.size());
}

// The streaming form (JsonWriter on an ostream, the CLI's --json) writes the
// same bytes as the string form, in every style, across the 64 KiB chunks.
BOOST_AUTO_TEST_CASE(streamed_is_the_same_text) {
  const std::string big(100 * 1024, 'x');
  auto write = [&](JsonWriter& w) {
    w.begin_object();
    w.key("n").begin_array();
    for (int i = 0; i < 20000; ++i) w.integer(i);
    w.end_array();
    w.key("big").string(big);
    w.key("utf8").string("\xc3\xa9\xff");
    w.end_object();
  };
  for (JsonStyle style : {JsonStyle::pretty, JsonStyle::compact, JsonStyle::one_line}) {
    JsonWriter in_memory(style);
    write(in_memory);
    const std::string text = in_memory.finish();
    std::ostringstream out;
    JsonWriter streamed(style, out);
    write(streamed);
    BOOST_TEST(streamed.finish().empty());
    BOOST_TEST(out.str().size() == text.size());
    BOOST_TEST((out.str() == text));
  }
}

BOOST_AUTO_TEST_SUITE_END()
