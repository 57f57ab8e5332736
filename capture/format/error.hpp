// Error values with context, in the spirit of LLVM's Expected<T>: every
// failure carries a category callers can branch on and a one-line message
// that names the file, offset or address and the reason.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace coroner {

enum class Errc {
  not_in_dump,         // address outside every range the dump holds
  excluded_by_filter,  // page dropped by the dump's filter (makedumpfile -d)
  truncated,           // file ends before data its headers promise
  corrupt,             // malformed or inconsistent structure
  not_mapped,          // no valid page-table entry for a virtual address
  io,                  // operating-system I/O error
  unsupported,         // well-formed input this build cannot handle
  invalid_argument,    // bad user input
  not_found,           // a named thing does not exist
};

std::string_view errc_name(Errc code);

class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const { return code_; }
  const std::string& message() const { return message_; }

  // The same error with "context: " in front of its message.
  Error context(std::string_view context) const {
    return Error(code_, fmt::format("{}: {}", context, message_));
  }

 private:
  Errc code_;
  std::string message_;
};

template <typename... Args>
Error make_error(Errc code, fmt::format_string<Args...> format, Args&&... args) {
  return Error(code, fmt::format(format, std::forward<Args>(args)...));
}

// Either a T or an Error. Cheap to move; check with `if (!x)` before use.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : storage_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Expected(Error error) : storage_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(storage_); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{Errc::corrupt, {}};
  bool ok_ = true;
};

}  // namespace coroner

// Evaluates an Expected expression; on error returns that error from the
// enclosing function, otherwise declares `var` holding the value.
#define CORONER_CONCAT_INNER(a, b) a##b
#define CORONER_CONCAT(a, b) CORONER_CONCAT_INNER(a, b)
#define CORONER_TRY(var, expr)                                        \
  auto CORONER_CONCAT(coroner_try_, __LINE__) = (expr);               \
  if (!CORONER_CONCAT(coroner_try_, __LINE__))                        \
    return CORONER_CONCAT(coroner_try_, __LINE__).error();            \
  auto var = std::move(*CORONER_CONCAT(coroner_try_, __LINE__))
// The same for Expected<void>.
#define CORONER_CHECK(expr)                                           \
  do {                                                                \
    auto coroner_check_result = (expr);                               \
    if (!coroner_check_result) return coroner_check_result.error();   \
  } while (0)
