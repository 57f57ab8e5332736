#include "plugins/adapter/object_adapter.hpp"

#include "analyzer/type_format.hpp"

namespace coroner::plugins {

namespace {

template <typename T>
using Result = plugin::Result<T>;

Result<plugin::Object> wrap(Expected<Object> object) {
  if (!object) return plugin_error(object.error());
  return make_object(std::move(*object));
}

bool is_pointer(const Object& object) {
  auto type = object.underlying_type();
  return type && *type && (*type)->kind() == symbols::TypeKind::pointer;
}

class ObjectAdapter final : public plugin::ObjectImpl {
 public:
  explicit ObjectAdapter(Object object) : object_(std::move(object)) {}

  std::string type_name() const override { return declaration(object_.type(), ""); }
  std::optional<uint64_t> address() const override { return object_.address(); }
  // Through a pointer as gdb's `->`: p->member.
  Result<plugin::Object> member(std::string_view path) const override {
    if (!is_pointer(object_)) return wrap(object_.member(path));
    auto target = object_.deref();
    if (!target) return plugin_error(target.error());
    return wrap(target->member(path));
  }
  Result<plugin::Object> deref() const override { return wrap(object_.deref()); }
  Result<plugin::Object> index(int64_t i) const override { return wrap(object_.index(i)); }
  Result<uint64_t> as_unsigned() const override {
    auto value = object_.read_unsigned();
    if (!value) return plugin_error(value.error());
    return *value;
  }
  Result<int64_t> as_signed() const override {
    auto value = object_.read_signed();
    if (!value) return plugin_error(value.error());
    return *value;
  }
  Result<std::string> as_string(size_t max) const override {
    auto value = object_.read_c_string(max);
    if (!value) return plugin_error(value.error());
    return *value;
  }
  Result<plugin::Object> container_of(std::string_view type, std::string_view member) const override {
    auto found = object_.graph().find_type(type);
    if (!found) {
      auto elsewhere = find_type_anywhere(object_.program(), type);
      if (!elsewhere) return plugin_error(elsewhere.error());
      found = elsewhere->type;
    }
    return wrap(coroner::container_of(object_, *found, member));
  }

 private:
  Object object_;
};

}  // namespace

plugin::Object make_object(Object object) { return plugin::Object(std::make_shared<ObjectAdapter>(std::move(object))); }

plugin::Error plugin_error(const coroner::Error& error) { return {error.message()}; }

Expected<FoundType> find_type_anywhere(const Program& program, std::string_view name) {
  CORONER_TRY(kernel, program.debug_info());
  auto type = kernel->find_type(name);
  if (type) return FoundType{kernel, *type};
  if (auto modules = program.modules())
    for (const auto& module : **modules) {
      if (!module->has_dwarf()) continue;
      auto debug = module->debug_info();
      if (!debug) continue;
      if (auto in_module = (*debug)->find_type(name)) return FoundType{*debug, *in_module};
    }
  return type.error();
}

}  // namespace coroner::plugins
