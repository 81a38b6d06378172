#pragma once
// The one way JSON is read: a typed member of a parsed RapidJSON object, or an
// Error that names the member and says what is wrong with it (missing, or not
// of its type), for every reader of JSON the agent gets: state.json,
// status.json, and Placement's answers.
//
//   auto uuid = json::member<std::string>(provider, "uuid", "resource provider");
//   if (!uuid) return uuid.error();  // "resource provider: member 'uuid' is missing"
//   auto used = json::optional<int64_t>(pool, "used", "status.json");  // absent or null: nullopt
//
// The types: std::string, int64_t (an integer), uint64_t (a count: an integer
// from 0), double (a number), bool (true or false), and json::Object and
// json::Array (the member itself, checked to be an object or a list).
#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "result.h"

namespace gpu_agent::json {

using Value = rapidjson::Value;
struct Object {
  const Value* value;
};
struct Array {
  const Value* value;
};

// The member NAME of OBJ, nullptr when OBJ is not an object or has no such member.
const Value* find(const Value& obj, std::string_view name);

// What T is called in messages, whether V is a T, and V as a T.
template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, std::string>) return "a string";
  else if constexpr (std::is_same_v<T, int64_t>) return "an integer";
  else if constexpr (std::is_same_v<T, uint64_t>) return "a count";
  else if constexpr (std::is_same_v<T, double>) return "a number";
  else if constexpr (std::is_same_v<T, bool>) return "true or false";
  else if constexpr (std::is_same_v<T, Object>) return "an object";
  else {
    static_assert(std::is_same_v<T, Array>, "json: no such member type");
    return "a list";
  }
}
template <class T>
bool is(const Value& v) {
  if constexpr (std::is_same_v<T, std::string>) return v.IsString();
  else if constexpr (std::is_same_v<T, int64_t>) return v.IsInt64();
  else if constexpr (std::is_same_v<T, uint64_t>) return v.IsUint64();
  else if constexpr (std::is_same_v<T, double>) return v.IsNumber();
  else if constexpr (std::is_same_v<T, bool>) return v.IsBool();
  else if constexpr (std::is_same_v<T, Object>) return v.IsObject();
  else return v.IsArray();
}
template <class T>
T get(const Value& v) {
  if constexpr (std::is_same_v<T, std::string>) return std::string(v.GetString(), v.GetStringLength());
  else if constexpr (std::is_same_v<T, int64_t>) return v.GetInt64();
  else if constexpr (std::is_same_v<T, uint64_t>) return v.GetUint64();
  else if constexpr (std::is_same_v<T, double>) return v.GetDouble();
  else if constexpr (std::is_same_v<T, bool>) return v.GetBool();
  else return T{&v};
}

// "WHERE: member 'NAME' is missing" / "WHERE: member 'NAME' is not a string" (bad_input).
Error member_missing(std::string_view where, std::string_view name);
Error member_not(std::string_view where, std::string_view name, const char* type);

// Member NAME of OBJ as a T: missing (or null where null is allowed) or of another type is an Error.
template <class T>
Result<T> member(const Value& obj, std::string_view name, std::string_view where) {
  const Value* v = find(obj, name);
  if (!v) return member_missing(where, name);
  if (!is<T>(*v)) return member_not(where, name, type_name<T>());
  return get<T>(*v);
}

// The same, where an absent or null member is nullopt.
template <class T>
Result<std::optional<T>> optional(const Value& obj, std::string_view name, std::string_view where) {
  const Value* v = find(obj, name);
  if (!v || v->IsNull()) return std::optional<T>();
  if (!is<T>(*v)) return member_not(where, name, type_name<T>());
  return std::optional<T>(get<T>(*v));
}

}  // namespace gpu_agent::json
