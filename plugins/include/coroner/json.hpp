// Json: the document a command emits with --output json (the same output
// model as the built-in commands: the host prints it, indented or one per
// line). Objects keep their members in insertion order here; the host may
// sort them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace coroner::plugin {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;
  using Value = std::variant<std::nullptr_t, bool, int64_t, uint64_t, double, std::string, Array, Object>;

  Json() : value_(nullptr) {}
  Json(std::nullptr_t) : value_(nullptr) {}
  Json(bool b) : value_(b) {}
  Json(int i) : value_(int64_t{i}) {}
  Json(long i) : value_(int64_t{i}) {}
  Json(long long i) : value_(int64_t{i}) {}
  Json(unsigned u) : value_(uint64_t{u}) {}
  Json(unsigned long u) : value_(uint64_t{u}) {}
  Json(unsigned long long u) : value_(uint64_t{u}) {}
  Json(double d) : value_(d) {}
  Json(const char* s) : value_(std::string(s)) {}
  Json(std::string_view s) : value_(std::string(s)) {}
  Json(std::string s) : value_(std::move(s)) {}
  Json(Array a) : value_(std::move(a)) {}
  Json(Object o) : value_(std::move(o)) {}

  static Json array() { return Json(Array{}); }
  static Json object() { return Json(Object{}); }
  // Json::object({{"id", 1}, {"name", "one"}})
  static Json object(std::initializer_list<std::pair<std::string, Json>> members) { return Json(Object(members)); }

  // An object's member (added, null, when absent); a null value becomes an object.
  Json& operator[](std::string_view key) {
    if (std::holds_alternative<std::nullptr_t>(value_)) value_ = Object{};
    Object& members = std::get<Object>(value_);
    for (auto& [name, value] : members)
      if (name == key) return value;
    return members.emplace_back(std::string(key), Json()).second;
  }
  // Appends to an array; a null value becomes an array.
  void push_back(Json element) {
    if (std::holds_alternative<std::nullptr_t>(value_)) value_ = Array{};
    std::get<Array>(value_).push_back(std::move(element));
  }

  const Value& value() const { return value_; }

 private:
  Value value_;
};

}  // namespace coroner::plugin
