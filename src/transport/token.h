// The shared secret a memory node requires of its clients, and how it
// travels: in a file (--token-file) or the PRESCIENT_TOKEN environment
// variable of the command that reads it, never on a command line, where `ps`
// shows it to every user, and never in a managed program's environment,
// where every descendant and every crash dump would carry it.
//
// `prescient run` hands the token to the programs it manages as a file that
// lives only as long as the run (OpenRunTokenFile), named by
// PRESCIENT_TOKEN_FILE; the preload library of each process reads it at start.
#pragma once

#include <string>

#include "prescient/status.h"

namespace prescient {

inline constexpr char kEnvToken[] = "PRESCIENT_TOKEN";
inline constexpr char kEnvTokenFile[] = "PRESCIENT_TOKEN_FILE";  // set by `prescient run` for its processes

// Reads a token file: a regular file of this user that only this user can
// read or write (mode 0600 or stricter, as ssh asks of keys), holding 1 to
// 256 bytes and optionally one trailing newline, which is not part of the
// token. `flag` names where the path came from, for messages.
Status ReadTokenFile(const std::string& path, const std::string& flag, std::string* token);

// Reads the file OpenRunTokenFile made, by the path it gave, checking that
// it is that file still (sealed as it seals it): once the run has ended, its
// process id and descriptor number may name something else.
Status ReadRunTokenFile(const std::string& path, std::string* token);

// The token a command was given: the file of `token_file_flag` if set (the
// flag is named `--token-file`), else the PRESCIENT_TOKEN environment
// variable, else empty. Setting both is refused as ambiguous.
Status ResolveToken(const std::string& token_file, std::string* token);

// Writes `token` to an anonymous file (memfd) of this process, mode 0600 and
// sealed against change, and returns a path any process of this user can open
// for as long as this process lives: /proc/PID/fd/N. The descriptor itself is
// close-on-exec, so the program inherits only the path.
Status OpenRunTokenFile(const std::string& token, std::string* path);

}  // namespace prescient
