#include "runtime/program_check.h"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace prescient {

namespace {

// "#!/usr/bin/env python3" may name an interpreter that is itself a script;
// the kernel allows a few levels, and so do we.
constexpr int kMaxInterpreterDepth = 4;

Status CheckExecutableFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::NotFound(fmt::format("{}: no such file", path));
  if (!S_ISREG(st.st_mode)) return Status::PermissionDenied(fmt::format("{} is not a regular file", path));
  if (access(path.c_str(), X_OK) != 0) return Status::PermissionDenied(fmt::format("{} is not executable (chmod +x it?)", path));
  return Status::Ok();
}

template <typename Ehdr, typename Phdr>
Status CheckElf(std::ifstream& in, const std::string& path) {
  Ehdr header;
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(&header), sizeof(header))) return Status::InvalidArgument(fmt::format("{} is a truncated ELF file", path));
  if (header.e_phentsize != sizeof(Phdr)) return Status::InvalidArgument(fmt::format("{} has malformed program headers", path));
  std::vector<Phdr> phdrs(header.e_phnum);
  in.seekg(static_cast<std::streamoff>(header.e_phoff));
  if (!in.read(reinterpret_cast<char*>(phdrs.data()), static_cast<std::streamsize>(phdrs.size() * sizeof(Phdr))))
    return Status::InvalidArgument(fmt::format("{} has truncated program headers", path));
  for (const Phdr& ph : phdrs) {
    if (ph.p_type == PT_INTERP) return Status::Ok();
  }
  return Status::InvalidArgument(
      fmt::format("{} is statically linked; prescient run works by preloading a library into the program, which a static program "
                  "never loads. Rebuild it dynamically linked (without -static)",
                  path));
}

Status Check(const std::string& path, int depth) {
  PRESCIENT_RETURN_IF_ERROR(CheckExecutableFile(path));
  std::ifstream in(path, std::ios::binary);
  char magic[SELFMAG] = {};
  if (!in.read(magic, SELFMAG)) return Status::InvalidArgument(fmt::format("{} is too short to be a program", path));
  if (std::memcmp(magic, ELFMAG, SELFMAG) == 0) {
    in.seekg(EI_CLASS);
    int elf_class = in.get();
    if (elf_class == ELFCLASS64) return CheckElf<Elf64_Ehdr, Elf64_Phdr>(in, path);
    if (elf_class == ELFCLASS32) return CheckElf<Elf32_Ehdr, Elf32_Phdr>(in, path);
    return Status::InvalidArgument(fmt::format("{} is an ELF file of unknown class", path));
  }
  if (magic[0] == '#' && magic[1] == '!') {
    if (depth >= kMaxInterpreterDepth) return Status::InvalidArgument(fmt::format("{}: too many levels of #! interpreters", path));
    in.seekg(2);
    std::string line;
    std::getline(in, line);
    std::istringstream words(line);
    std::string interpreter, first_arg;
    words >> interpreter >> first_arg;
    if (interpreter.empty()) return Status::InvalidArgument(fmt::format("{} has an empty #! line", path));
    std::string resolved = interpreter;
    // "#!/usr/bin/env prog": what runs is prog, found on $PATH.
    if (interpreter.ends_with("/env") && !first_arg.empty() && first_arg[0] != '-') {
      PRESCIENT_RETURN_IF_ERROR(ResolveProgram(first_arg, &resolved));
    }
    Status s = Check(resolved, depth + 1);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("{} is a script run by {}: {}", path, resolved, s.message()));
    return Status::Ok();
  }
  return Status::InvalidArgument(fmt::format("{} is neither an ELF program nor a #! script", path));
}

}  // namespace

Status ResolveProgram(const std::string& name, std::string* path) {
  if (name.empty()) return Status::NotFound("an empty command name");
  if (name.find('/') != std::string::npos) {
    PRESCIENT_RETURN_IF_ERROR(CheckExecutableFile(name));
    *path = name;
    return Status::Ok();
  }
  const char* env_path = std::getenv("PATH");
  std::string dirs = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  Status first_problem;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    Status s = CheckExecutableFile(candidate);
    if (s.ok()) {
      *path = candidate;
      return Status::Ok();
    }
    // A file that exists but cannot run explains more than "not found".
    if (s.code() != Status::Code::kNotFound && first_problem.ok()) first_problem = s;
    start = colon + 1;
  }
  if (!first_problem.ok()) return first_problem;
  return Status::NotFound(fmt::format("{}: command not found in PATH", name));
}

Status CheckPreloadable(const std::string& path) { return Check(path, 0); }

}  // namespace prescient
