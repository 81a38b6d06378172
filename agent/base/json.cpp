#include "json.h"

#include <rapidjson/writer.h>

#include <algorithm>
#include <ostream>
#include <vector>

#include "parse.h"

namespace gpu_agent {
namespace {

// RapidJSON output into the std::string that is returned, through a small
// chunk buffer: no whole-document StringBuffer to copy from (an 8-GPU A40
// host's inventory JSON is 2.8 MB), and no per-character growth check.
class StringOut {
 public:
  using Ch = char;
  StringOut(std::string& s, size_t chunk, std::ostream* out = nullptr)
      : s_(s), out_(out), buf_(chunk), p_(buf_.data()) {}
  void Reserve(size_t n) {
    if (static_cast<size_t>(buf_.data() + buf_.size() - p_) >= n) return;
    Flush();
    if (n > buf_.size()) {
      buf_.resize(n);
      p_ = buf_.data();
    }
  }
  void PutUnsafe(char c) { *p_++ = c; }
  void Put(char c) {
    Reserve(1);
    *p_++ = c;
  }
  void Flush() {
    if (out_) out_->write(buf_.data(), p_ - buf_.data());
    else s_.append(buf_.data(), p_);
    p_ = buf_.data();
  }

 private:
  std::string& s_;
  std::ostream* out_;  // when set, chunks go here instead of into s_
  std::vector<char> buf_;
  char* p_;
};

}  // namespace
}  // namespace gpu_agent

namespace rapidjson {
template <>
inline void PutReserve(gpu_agent::StringOut& s, size_t count) {
  s.Reserve(count);
}
template <>
inline void PutUnsafe(gpu_agent::StringOut& s, char c) {
  s.PutUnsafe(c);
}
}  // namespace rapidjson

namespace gpu_agent {
namespace {

// RapidJSON's Writer (escaping, numbers, the nesting checks) with the
// whitespace of the three styles put between the tokens, the way its
// PrettyWriter does for the one style it knows.
class LayoutWriter : public rapidjson::Writer<StringOut> {
  using Base = rapidjson::Writer<StringOut>;

 public:
  LayoutWriter(StringOut& os, JsonStyle style) : Base(os), style_(style) {}

  void null() {
    prefix(rapidjson::kNullType);
    EndValue(WriteNull());
  }
  void boolean(bool b) {
    prefix(b ? rapidjson::kTrueType : rapidjson::kFalseType);
    EndValue(WriteBool(b));
  }
  void int64(int64_t v) {
    prefix(rapidjson::kNumberType);
    EndValue(WriteInt64(v));
  }
  void uint64(uint64_t v) {
    prefix(rapidjson::kNumberType);
    EndValue(WriteUint64(v));
  }
  void number(double v) {
    prefix(rapidjson::kNumberType);
    EndValue(WriteDouble(v));
  }
  // Keys too: which one is due is the writer's to check.
  void string(const char* s, size_t n) {
    prefix(rapidjson::kStringType);
    EndValue(WriteString(s, static_cast<rapidjson::SizeType>(n)));
  }
  void begin(bool array) {
    prefix(array ? rapidjson::kArrayType : rapidjson::kObjectType);
    new (level_stack_.Push<Level>()) Level(array);
    if (array) WriteStartArray();
    else WriteStartObject();
  }
  void end(bool array) {
    RAPIDJSON_ASSERT(level_stack_.GetSize() >= sizeof(Level));
    RAPIDJSON_ASSERT(level_stack_.Top<Level>()->inArray == array);
    const bool empty = level_stack_.Pop<Level>(1)->valueCount == 0;
    if (!empty) newline();
    EndValue(array ? WriteEndArray() : WriteEndObject());
  }
  bool complete() const { return IsComplete(); }

 private:
  // What goes before a value: the separator from the one before, and in the
  // pretty style the line break and indent of an element or member.
  void prefix([[maybe_unused]] rapidjson::Type type) {
    if (level_stack_.Empty()) {
      RAPIDJSON_ASSERT(!hasRoot_);
      hasRoot_ = true;
      return;
    }
    Level* level = level_stack_.Top<Level>();
    const bool is_value_of_key = !level->inArray && level->valueCount % 2 == 1;
    RAPIDJSON_ASSERT(level->inArray || is_value_of_key || type == rapidjson::kStringType);
    if (is_value_of_key) {
      os_->Put(':');
      if (style_ != JsonStyle::compact) os_->Put(' ');
    } else {
      if (level->valueCount > 0) {
        os_->Put(',');
        if (style_ == JsonStyle::one_line) os_->Put(' ');
      }
      newline();
    }
    level->valueCount++;
  }
  void newline() {
    if (style_ != JsonStyle::pretty) return;
    os_->Put('\n');
    const size_t depth = level_stack_.GetSize() / sizeof(Level);
    rapidjson::PutN(*os_, ' ', 2 * depth);
  }

  JsonStyle style_;
};

// The string policy: valid UTF-8 as it is, each byte outside it as U+FFFD.
// (RapidJSON escapes the rest: '"', '\' and control characters.)
void write_utf8(LayoutWriter& w, std::string_view v) {
  size_t i = 0;  // valid up to here
  while (i < v.size()) {
    const size_t n = static_cast<unsigned char>(v[i]) < 0x80 ? 1 : utf8_sequence(v, i);
    if (!n) break;
    i += n;
  }
  if (i == v.size()) {  // the usual case: nothing to replace
    w.string(v.data(), v.size());
    return;
  }
  std::string clean;
  clean.reserve(v.size() + 8);
  clean.append(v.substr(0, i));
  while (i < v.size()) {
    const size_t n = utf8_sequence(v, i);
    if (n) clean.append(v.substr(i, n));
    else clean += "\xef\xbf\xbd";
    i += n ? n : 1;
  }
  w.string(clean.data(), clean.size());
}

}  // namespace

struct JsonWriter::Impl {
  Impl(JsonStyle s, size_t reserve) : style(s), os(text, std::clamp<size_t>(reserve, 4 * 1024, 64 * 1024)), w(os, s) {
    text.reserve(reserve);
  }
  Impl(JsonStyle s, std::ostream& sink) : style(s), os(text, 64 * 1024, &sink), w(os, s) {}
  JsonStyle style;
  std::string text;
  StringOut os;
  LayoutWriter w;
};

JsonWriter::JsonWriter(JsonStyle style, size_t reserve) : impl_(std::make_unique<Impl>(style, reserve)) {}
JsonWriter::JsonWriter(JsonStyle style, std::ostream& out) : impl_(std::make_unique<Impl>(style, out)) {}
JsonWriter::~JsonWriter() = default;

JsonWriter& JsonWriter::begin_object() {
  impl_->w.begin(false);
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  impl_->w.end(false);
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  impl_->w.begin(true);
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  impl_->w.end(true);
  return *this;
}
JsonWriter& JsonWriter::key(std::string_view name) {
  write_utf8(impl_->w, name);
  return *this;
}
JsonWriter& JsonWriter::string(std::string_view value) {
  write_utf8(impl_->w, value);
  return *this;
}
JsonWriter& JsonWriter::string_or_null(const std::optional<std::string>& value) {
  return value ? string(*value) : null();
}
JsonWriter& JsonWriter::integer(int64_t value) {
  impl_->w.int64(value);
  return *this;
}
JsonWriter& JsonWriter::integer_or_null(const std::optional<int64_t>& value) {
  return value ? integer(*value) : null();
}
JsonWriter& JsonWriter::unsigned_integer(uint64_t value) {
  impl_->w.uint64(value);
  return *this;
}
JsonWriter& JsonWriter::number(double value) {
  impl_->w.number(value);
  return *this;
}
JsonWriter& JsonWriter::boolean(bool value) {
  impl_->w.boolean(value);
  return *this;
}
JsonWriter& JsonWriter::null() {
  impl_->w.null();
  return *this;
}

std::string JsonWriter::finish() {
  RAPIDJSON_ASSERT(impl_->w.complete());
  if (impl_->style == JsonStyle::pretty) impl_->os.Put('\n');
  impl_->os.Flush();
  return std::move(impl_->text);
}

}  // namespace gpu_agent
