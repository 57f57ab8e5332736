#include "analyzer/frontends/shell/completion_sources.hpp"

#include "analyzer/expression.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "commands/member_selection.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace coroner::frontends {

namespace {

constexpr size_t kMaxTypeNames = 2000;  // a bare `struct <TAB>` lists no more

std::vector<std::string> sorted_unique(std::vector<std::string> words) {
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

// The named members of a struct or union, those of its anonymous members
// included (they are reached without a name, as in C).
void add_members(const symbols::Type& type, std::string_view prefix, std::vector<std::string>& out, int depth = 0) {
  if (depth > 8) return;
  for (const symbols::Member& member : type.members()) {
    if (!member.name.empty()) {
      if (member.name.starts_with(prefix)) out.push_back(member.name);
      continue;
    }
    auto inner = member.type.get();
    if (!inner) continue;
    auto anonymous = symbols::underlying(*inner);
    if (anonymous) add_members(**anonymous, prefix, out, depth + 1);
  }
}

}  // namespace

std::vector<std::string> starting_with(const std::vector<std::string>& sorted, std::string_view prefix) {
  std::vector<std::string> found;
  for (auto at = std::lower_bound(sorted.begin(), sorted.end(), prefix);
       at != sorted.end() && std::string_view(*at).starts_with(prefix); ++at)
    found.push_back(*at);
  return found;
}

// "  bt [-a|-c CPU] [-f|-F] ..." -> -a -c -f -F: a dash and letters that
// start a word or follow '[', '|' or '(' (not the '-' of "0-2").
const std::vector<std::string>& CompletionSources::options(const commands::Command& command) {
  auto [at, added] = options_.try_emplace(command.name);
  if (!added) return at->second;
  const std::string& usage = command.usage;
  for (size_t i = 0; i + 1 < usage.size(); ++i) {
    const bool starts = i == 0 || std::string_view(" [|(").find(usage[i - 1]) != std::string_view::npos;
    if (usage[i] != '-' || !starts || !std::isalnum(static_cast<unsigned char>(usage[i + 1]))) continue;
    size_t end = i + 1;
    while (end < usage.size() && (std::isalnum(static_cast<unsigned char>(usage[end])) || usage[end] == '-')) ++end;
    std::string option = usage.substr(i, end - i);
    if (std::find(at->second.begin(), at->second.end(), option) == at->second.end()) at->second.push_back(option);
  }
  // A plugin command's own completion words.
  for (const std::string& word : commands::command_completions(command.name))
    if (std::find(at->second.begin(), at->second.end(), word) == at->second.end()) at->second.push_back(word);
  return at->second;
}

std::vector<std::string> CompletionSources::symbols(std::string_view prefix) {
  if (!symbols_) {
    std::vector<std::string> names;
    for (const symbols::Symbol& symbol : program_.symbols().by_address()) names.push_back(symbol.name);
    if (auto modules = program_.modules())
      for (const auto& module : **modules)
        for (const symbols::Symbol& symbol : module->symbols()) names.push_back(symbol.name);
    symbols_ = sorted_unique(std::move(names));
  }
  return starting_with(*symbols_, prefix);
}

std::vector<std::string> CompletionSources::types(std::string_view prefix, std::initializer_list<symbols::NameKind> kinds) {
  std::vector<std::string> names;
  auto add = [&](const symbols::DebugInfo& info) {
    for (std::string& name : info.names_starting_with(prefix, kinds, kMaxTypeNames)) names.push_back(std::move(name));
  };
  if (auto info = program_.debug_info()) add(**info);
  if (auto modules = program_.modules())
    for (const auto& module : **modules)
      if (module->has_types())
        if (auto info = module->debug_info()) add(**info);
  return sorted_unique(std::move(names));
}

std::vector<std::string> CompletionSources::members(std::string_view expression, std::string_view prefix) {
  std::optional<symbols::QualifiedType> type;
  if (auto object = evaluate(program_, expression)) {
    type = object->type();
  } else {  // struct NAME.MEMBER..., NAME in vmlinux or a module
    const size_t dot = expression.find('.');
    auto named = commands::find_named_type(program_, expression.substr(0, dot));
    if (!named) return {};
    type = named->type;
    if (dot != std::string_view::npos) {
      auto member = named->graph->member(named->type, expression.substr(dot + 1));
      if (!member) return {};
      type = member->type;
    }
  }
  auto resolved = symbols::underlying(*type);
  if (!resolved) return {};
  const symbols::Type* shape = *resolved;
  // `.` and `->` both follow a pointer, as in gdb and the evaluator.
  if (shape->kind() == symbols::TypeKind::pointer) {
    auto target = shape->target().get();
    if (!target) return {};
    auto pointee = symbols::underlying(*target);
    if (!pointee) return {};
    shape = *pointee;
  }
  std::vector<std::string> names;
  add_members(*shape, prefix, names);
  return sorted_unique(std::move(names));
}

std::vector<std::string> CompletionSources::tasks(std::string_view prefix) {
  if (!tasks_) {
    std::vector<std::string> words;
    if (auto tasks = linux_kernel::list_tasks(program_))
      for (const linux_kernel::Task& task : *tasks) {
        words.push_back(std::to_string(task.pid));
        if (!task.comm.empty()) words.push_back(task.comm);
      }
    tasks_ = sorted_unique(std::move(words));
  }
  return starting_with(*tasks_, prefix);
}

std::vector<std::string> CompletionSources::modules(std::string_view prefix) {
  std::vector<std::string> names;
  if (auto modules = program_.modules())
    for (const auto& module : **modules)
      if (module->name.starts_with(prefix)) names.push_back(module->name);
  return sorted_unique(std::move(names));
}

}  // namespace coroner::frontends
