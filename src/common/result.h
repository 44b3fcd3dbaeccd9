#pragma once
// Errors as values across module boundaries (the Abseil StatusOr idea, without Abseil).
// Expected failures -- hostile input, a missing file, an SMTP 4xx -- travel as Error;
// exceptions are reserved for broken invariants and third-party code wrapped at its edge.

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace vantage {

enum class ErrorCode {
  kInvalidArgument,  // the input is malformed: quarantine it, go on
  kNotFound,
  kAlreadyExists,
  kIo,           // the environment failed: retry or report
  kUnavailable,  // a peer is down or busy: retry with back-off
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kFailedPrecondition,
  kInternal,
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  static Error invalid(std::string msg) { return {ErrorCode::kInvalidArgument, std::move(msg)}; }
  static Error not_found(std::string msg) { return {ErrorCode::kNotFound, std::move(msg)}; }
  static Error io(std::string msg) { return {ErrorCode::kIo, std::move(msg)}; }
  static Error internal(std::string msg) { return {ErrorCode::kInternal, std::move(msg)}; }
};

// Status: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  static Status ok_status() { return Status(); }
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(error_);
    return *error_;
  }
  const std::string& message() const { return error().message; }

 private:
  std::optional<Error> error_;
};

// Result<T>: a T or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(status.error()) {}  // NOLINT: only from a failed Status

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<Error>(v_);
  }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace vantage
