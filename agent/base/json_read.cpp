#include "json_read.h"

namespace gpu_agent::json {

const Value* find(const Value& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  const auto it = obj.FindMember(Value(rapidjson::StringRef(name.data(), name.size())));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

Error member_missing(std::string_view where, std::string_view name) {
  return make_error(ErrorKind::bad_input, std::string(where) + ": member '" + std::string(name) + "' is missing");
}

Error member_not(std::string_view where, std::string_view name, const char* type) {
  return make_error(ErrorKind::bad_input, std::string(where) + ": member '" + std::string(name) + "' is not " + type);
}

}  // namespace gpu_agent::json
