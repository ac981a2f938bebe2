// A backend that connects on first need: the first read or write opens it;
// discards before then have nothing to discard (nothing was stored), and
// stats are zero. A process that never pages out never connects, so a shell
// script's hundreds of short commands hold none of a memory node's slots.
// If the connection cannot be made then, that read or write fails with why,
// and so does every later one.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "prescient/backend.h"

namespace prescient {

using BackendConnector = std::function<std::unique_ptr<Backend>(Status* status)>;

// `description` names the backend until it is connected.
std::unique_ptr<Backend> MakeLazyBackend(BackendConnector connect, std::string description);

}  // namespace prescient
