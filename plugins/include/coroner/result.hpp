// Result<T>: a value, or the one-line reason there is none ("0xffff...:
// page not in the dump"). Kernel reads return it; value() throws
// coroner::plugin::Failure instead, which the command that called it turns
// into its one-line error.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace coroner::plugin {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The error of a Result, so that `return Error{"why"};` builds a failed one.
struct Error {
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error error) : error_(std::move(error.message)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }

  const T& value() const& {
    if (!value_) throw Failure(error_);
    return *value_;
  }
  // By value, so that `for (auto& t : kernel.tasks().value())` owns what it walks.
  T value() && {
    if (!value_) throw Failure(error_);
    return std::move(*value_);
  }
  T value_or(T fallback) const { return value_ ? *value_ : std::move(fallback); }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  std::string error_;
};

}  // namespace coroner::plugin
