#include "transport/token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "common/file_io.h"
#include "transport/protocol.h"

namespace prescient {

namespace {

Status CheckToken(const std::string& token, const std::string& where) {
  if (token.empty()) return Status::InvalidArgument(fmt::format("{} holds an empty token", where));
  if (token.size() > wire::kMaxTokenBytes)
    return Status::InvalidArgument(fmt::format("{} holds a {}-byte token; at most {} bytes are allowed", where, token.size(), wire::kMaxTokenBytes));
  return Status::Ok();
}

constexpr int kRunFileSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;

Status ReadToken(const std::string& path, const std::string& flag, bool run_file, std::string* token) {
  const std::string where = fmt::format("{} {}", flag, path);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (run_file && err == ENOENT)
      return Status::NotFound(fmt::format("the run's token file {} is gone: `prescient run` has exited, and with it the token its "
                                          "processes share ({})", path, kEnvTokenFile));
    return Status::FromErrno(fmt::format("cannot open the token file ({})", where), err);
  }
  if (run_file && fcntl(fd, F_GET_SEALS) != kRunFileSeals) {
    close(fd);
    return Status::PermissionDenied(fmt::format("{} is not the token file `prescient run` made (the run has ended, and the path names "
                                                "another file now)", where));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return Status::FromErrno(fmt::format("cannot stat the token file ({})", where), err);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Status::InvalidArgument(fmt::format("{} is not a regular file", where));
  }
  if (st.st_uid != geteuid()) {
    close(fd);
    return Status::PermissionDenied(fmt::format("{} belongs to user {}, not to this user ({}); whoever owns it could change the token", where,
                                                st.st_uid, geteuid()));
  }
  if ((st.st_mode & 077) != 0) {
    close(fd);
    return Status::PermissionDenied(
        fmt::format("{} can be read or written by other users (mode {:04o}); make it private with `chmod 600 {}`", where, st.st_mode & 07777, path));
  }
  // One byte more than the longest token and its newline tells a long file.
  char buffer[wire::kMaxTokenBytes + 3];
  size_t size = 0;
  while (size < sizeof(buffer)) {
    ssize_t n = pread(fd, buffer + size, sizeof(buffer) - size, static_cast<off_t>(size));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::FromErrno(fmt::format("cannot read the token file ({})", where), err);
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  close(fd);
  std::string text(buffer, size);
  if (text.ends_with("\r\n")) {
    text.resize(text.size() - 2);
  } else if (text.ends_with('\n')) {
    text.pop_back();
  }
  PRESCIENT_RETURN_IF_ERROR(CheckToken(text, where));
  *token = std::move(text);
  return Status::Ok();
}

}  // namespace

Status ReadTokenFile(const std::string& path, const std::string& flag, std::string* token) { return ReadToken(path, flag, false, token); }

Status ReadRunTokenFile(const std::string& path, std::string* token) { return ReadToken(path, kEnvTokenFile, true, token); }

Status ResolveToken(const std::string& token_file, std::string* token) {
  const char* env = std::getenv(kEnvToken);
  const bool from_env = env != nullptr && *env != '\0';
  if (!token_file.empty() && from_env)
    return Status::InvalidArgument(fmt::format("both --token-file and the {} environment variable are set; give the token one way", kEnvToken));
  if (!token_file.empty()) return ReadTokenFile(token_file, "--token-file", token);
  if (!from_env) {
    token->clear();
    return Status::Ok();
  }
  PRESCIENT_RETURN_IF_ERROR(CheckToken(env, fmt::format("the {} environment variable", kEnvToken)));
  *token = env;
  return Status::Ok();
}

Status OpenRunTokenFile(const std::string& token, std::string* path) {
  int fd = -1;
  PRESCIENT_RETURN_IF_ERROR(CreateProcessFile("prescient-token", &fd, path));
  Status st = WriteAll(fd, token.data(), token.size(), "the run's token file");
  if (st.ok() && fcntl(fd, F_ADD_SEALS, kRunFileSeals) != 0) st = Status::FromErrno("cannot seal the run's token file", errno);
  if (!st.ok()) close(fd);
  // Otherwise deliberately never closed: the path is valid while this process lives.
  return st;
}

}  // namespace prescient
