// The C expressions of crash's and gdb's `p`, evaluated to Objects:
// globals, enumerators, integer literals, member access (`.` and `->`, each
// following a pointer or not, as gdb does), `[i]`, unary `*`, `&`, `-`,
// binary `+ - * /` (with pointer arithmetic), casts `(struct task_struct *)x`,
// `sizeof(TYPE)` / `sizeof EXPR`, and `per_cpu(VAR, CPU)`.
#pragma once

#include "analyzer/object.hpp"

#include <optional>
#include <string_view>

namespace coroner {

struct EvaluationOptions {
  // The CPU whose instance a bare per-CPU variable names (crash's `VAR:CPU`);
  // without one, naming a per-CPU variable is an error.
  std::optional<uint32_t> cpu;
};

Expected<Object> evaluate(const Program& program, std::string_view expression, const EvaluationOptions& options = {});

// A C type name: "struct task_struct *", "unsigned long", "u64", "const char *".
Expected<symbols::QualifiedType> parse_type_name(const Program& program, std::string_view text);

// True when text is a single identifier ("init_task", "runqueues").
bool is_identifier(std::string_view text);

}  // namespace coroner
