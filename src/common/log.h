// Logging for code that may run inside someone else's process.
//
// The runtime's threads log from inside an application. spdlog's stock
// console sinks write through stdio, whose FILE lock an application thread
// may hold while it is blocked in a page fault, e.g. during
// fprintf(stderr, "%s", far_memory_string). A runtime thread that then logs
// would wait for that lock while the application waits for the runtime: a
// hang. This sink formats into its own buffer and writes with write(2).
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/logger.h>

namespace prescient {

// A logger named `name` that writes whole lines to file descriptor `fd`
// with write(2), never through stdio.
std::shared_ptr<spdlog::logger> MakeFdLogger(std::string_view name, int fd);
// Makes MakeFdLogger(name, 2) spdlog's default logger, at `level`
// ("info", "warn", ...; unknown names mean "info").
void InstallStderrLogger(std::string_view name, std::string_view level);

}  // namespace prescient
