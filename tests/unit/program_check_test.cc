#include "runtime/program_check.h"

#include <elf.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace prescient {
namespace {

// A minimal ELF64 executable header with one program header: PT_INTERP for a
// dynamically linked program, PT_LOAD only for a static one.
void WriteElf(const std::string& path, bool dynamic) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_DYN;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = dynamic ? PT_INTERP : PT_LOAD;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&eh), sizeof(eh));
  out.write(reinterpret_cast<const char*>(&ph), sizeof(ph));
  out.close();
  chmod(path.c_str(), 0755);
}

void WriteScript(const std::string& path, const std::string& text, mode_t mode = 0755) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

TEST(ProgramCheckTest, ResolvesNamesOnPathAndPaths) {
  std::string path;
  ASSERT_TRUE(ResolveProgram("sh", &path).ok());
  EXPECT_EQ(path.back(), 'h');
  EXPECT_EQ(path.find('/'), 0u);
  ASSERT_TRUE(ResolveProgram("/bin/sh", &path).ok());
  EXPECT_EQ(path, "/bin/sh");
  Status s = ResolveProgram("no-such-program-prescient", &path);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("not found"), std::string::npos);
}

TEST(ProgramCheckTest, ANonExecutableFileIsRefused) {
  testing::TempDir dir;
  WriteScript(dir.file("plain"), "#!/bin/sh\n", 0644);
  std::string path;
  Status s = ResolveProgram(dir.file("plain"), &path);
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied);
  EXPECT_NE(s.message().find("not executable"), std::string::npos);
  EXPECT_EQ(ResolveProgram(dir.path(), &path).code(), Status::Code::kPermissionDenied);  // a directory
}

TEST(ProgramCheckTest, DynamicProgramsPassStaticOnesAreRefused) {
  testing::TempDir dir;
  WriteElf(dir.file("dynamic"), true);
  WriteElf(dir.file("static"), false);
  EXPECT_TRUE(CheckPreloadable(dir.file("dynamic")).ok());
  Status s = CheckPreloadable(dir.file("static"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("statically linked"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckPreloadable("/bin/sh").ok());
}

TEST(ProgramCheckTest, ScriptsAreJudgedByTheirInterpreter) {
  testing::TempDir dir;
  WriteElf(dir.file("static"), false);
  WriteScript(dir.file("ok.sh"), "#!/bin/sh\necho hi\n");
  WriteScript(dir.file("env.sh"), "#!/usr/bin/env sh\necho hi\n");
  WriteScript(dir.file("bad.sh"), "#!" + dir.file("static") + " -x\n");
  WriteScript(dir.file("junk"), "just text\n");
  EXPECT_TRUE(CheckPreloadable(dir.file("ok.sh")).ok());
  EXPECT_TRUE(CheckPreloadable(dir.file("env.sh")).ok());
  Status s = CheckPreloadable(dir.file("bad.sh"));
  EXPECT_NE(s.message().find("statically linked"), std::string::npos) << s.message();
  s = CheckPreloadable(dir.file("junk"));
  EXPECT_NE(s.message().find("neither an ELF program nor a #! script"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace prescient
