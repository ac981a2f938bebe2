// Messages from the preloaded library to the person running the program.
//
// They go to stderr with a "prescient: " prefix, never through spdlog's
// default logger, which writes to stdout, and stdout belongs to the program.
// SayRaw and SayHex neither allocate nor lock, so they are safe in a signal
// handler, in a forked child and inside malloc.
#pragma once

#include <cstdint>
#include <string_view>

namespace prescient::preload {

// Keeps a private duplicate of stderr for the messages: some programs close
// fd 2 at exit (GNU coreutils do, in an atexit handler that runs before the
// report's), and the report must still reach the terminal. Call at start-up.
void KeepStderr();

void SayRaw(std::string_view text);
void SayHex(uintptr_t value);  // "0x7f12..."
// One line, "prescient: " + text + "\n". Allocates: not for the paths above.
void Say(std::string_view text);

}  // namespace prescient::preload
