// Status and StatusOr: how every fallible operation in envlogger's C++ core
// reports failure. No exceptions cross module boundaries; the Python bindings
// turn a non-OK Status into a Python exception carrying its message.
//
// Codes follow absl::StatusCode numbering so that messages read the same as
// upstream's ("NOT_FOUND: Empty steps in ...").

#ifndef ENVLOGGER_BASE_STATUS_H_
#define ENVLOGGER_BASE_STATUS_H_

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace envlogger {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
};

// Upper-case name of a code, e.g. "INVALID_ARGUMENT".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(StatusCode code, std::string message)
      : code_(code), message_(code == StatusCode::kOk ? "" : std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK" or "<CODE_NAME>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` and ": " (same
  // code and reason).
  Status WithContext(const std::string& context) const;

  // Explicitly discards a status the caller does not need.
  void IgnoreError() const {}

  // A machine-readable reason for callers that must tell apart errors with
  // the same code (as absl::Status payloads, with the value left out), e.g.
  // kDamagedChunkReason. Never part of ToString(); ignored on an OK status.
  Status WithReason(std::string reason) && {
    if (!ok()) reason_ = std::move(reason);
    return std::move(*this);
  }
  // "" if none was set.
  const std::string& reason() const { return reason_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status AlreadyExistsError(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status OutOfRangeError(std::string m) {
  return Status(StatusCode::kOutOfRange, std::move(m));
}
inline Status UnimplementedError(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status DataLossError(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status UnknownError(std::string m) { return Status(StatusCode::kUnknown, std::move(m)); }

// Maps an errno value to a Status: ENOENT -> NOT_FOUND, EACCES/EPERM ->
// PERMISSION_DENIED, ENOSPC/EDQUOT -> RESOURCE_EXHAUSTED, EEXIST ->
// ALREADY_EXISTS, EISDIR/ENOTDIR/EINVAL -> FAILED_PRECONDITION, others ->
// UNKNOWN. The message is "<operation> failed: <strerror(errno)>".
Status ErrnoToStatus(int error_number, const std::string& operation);

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design.
    if (status_.ok())
      status_ = InternalError("StatusOr constructed from an OK status without a value");
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design.

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace envlogger

#define ENVLOGGER_STATUS_CONCAT_INNER_(a, b) a##b
#define ENVLOGGER_STATUS_CONCAT_(a, b) ENVLOGGER_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` yields a non-OK Status. Binds
// `expr` by reference, so that checking a Status held elsewhere (e.g. a
// reader's status()) copies it only when it is returned.
#define RETURN_IF_ERROR(expr)                              \
  do {                                                     \
    const ::envlogger::Status& _envlogger_status = (expr); \
    if (!_envlogger_status.ok()) return _envlogger_status; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a StatusOr or returns
// its error.
#define ASSIGN_OR_RETURN(lhs, expr)                                           \
  auto ENVLOGGER_STATUS_CONCAT_(_envlogger_statusor_, __LINE__) = (expr);     \
  if (!ENVLOGGER_STATUS_CONCAT_(_envlogger_statusor_, __LINE__).ok())         \
    return ENVLOGGER_STATUS_CONCAT_(_envlogger_statusor_, __LINE__).status(); \
  lhs = std::move(ENVLOGGER_STATUS_CONCAT_(_envlogger_statusor_, __LINE__)).value()

#endif  // ENVLOGGER_BASE_STATUS_H_
