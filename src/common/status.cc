#include "prescient/status.h"

#include <cstring>

#include <fmt/format.h>

namespace prescient {

Status Status::FromErrno(std::string_view what, int err) {
  Code code = Code::kIoError;
  if (err == EINVAL) code = Code::kInvalidArgument;
  if (err == ENOMEM) code = Code::kResourceExhausted;
  if (err == EPERM || err == EACCES) code = Code::kPermissionDenied;
  if (err == ECONNREFUSED || err == ECONNRESET || err == EPIPE || err == EHOSTUNREACH) code = Code::kUnavailable;
  if (err == ETIMEDOUT) code = Code::kTimedOut;
  return Status(code, fmt::format("{}: {}", what, std::strerror(err)));
}

std::string Status::ToString() const {
  static constexpr const char* kNames[] = {"OK", "invalid argument", "not found", "I/O error", "corruption", "unavailable", "resource exhausted", "permission denied", "timed out", "internal error"};
  if (ok()) return "OK";
  return fmt::format("{}: {}", kNames[static_cast<int>(code_)], message_);
}

}  // namespace prescient
