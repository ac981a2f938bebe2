#include "transport/annotate.h"

#include <string>

#include <fmt/format.h>

namespace prescient {

Status WithCode(Status::Code code, std::string message) {
  switch (code) {
    case Status::Code::kOk: return Status::Ok();
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Status::Code::kNotFound: return Status::NotFound(std::move(message));
    case Status::Code::kIoError: return Status::IoError(std::move(message));
    case Status::Code::kCorruption: return Status::Corruption(std::move(message));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(message));
    case Status::Code::kResourceExhausted: return Status::ResourceExhausted(std::move(message));
    case Status::Code::kPermissionDenied: return Status::PermissionDenied(std::move(message));
    case Status::Code::kTimedOut: return Status::TimedOut(std::move(message));
    case Status::Code::kInternal: return Status::Internal(std::move(message));
  }
  return Status::Internal(std::move(message));
}

Status Annotate(const Status& status, std::string_view context) {
  if (status.ok()) return status;
  return WithCode(status.code(), fmt::format("{}: {}", context, status.message()));
}

}  // namespace prescient
