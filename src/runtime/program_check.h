// Finding and vetting the program `prescient run` is asked to start, so that
// a run that cannot work fails before it starts, saying why.
#pragma once

#include <string>

#include "prescient/status.h"

namespace prescient {

// Resolves `name` as execvp(3) would: a name containing '/' is a path, any
// other is looked up in $PATH. Fails with kNotFound when there is no such
// file and kPermissionDenied when it is not an executable regular file.
Status ResolveProgram(const std::string& name, std::string* path);

// Transparent mode works by preloading a library, which only the dynamic
// loader honours. Fails with kInvalidArgument for a statically linked ELF
// program (no PT_INTERP, static-pie included) or a file that is neither ELF
// nor a "#!" script. A script is judged by its interpreter.
Status CheckPreloadable(const std::string& path);

}  // namespace prescient
