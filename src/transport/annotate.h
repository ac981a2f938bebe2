// Annotate: the same error with more context in front of its message, so an
// error from deep in a backend reaches the user naming where it happened.
#pragma once

#include <string_view>

#include "prescient/status.h"

namespace prescient {

// Returns `status` unchanged when it is OK, else the same code with the
// message "<context>: <original message>".
Status Annotate(const Status& status, std::string_view context);
// An error with code `code` and message `message` (Status's own constructor
// is private; this keeps a code while replacing the message).
Status WithCode(Status::Code code, std::string message);

}  // namespace prescient
