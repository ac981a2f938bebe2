#include "transport/token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::TempDir;

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& text, mode_t mode) {
  std::string path = dir.file(name);
  { std::ofstream(path) << text; }
  chmod(path.c_str(), mode);
  return path;
}

class TokenEnv {
 public:
  TokenEnv() { unsetenv(kEnvToken); }
  ~TokenEnv() { unsetenv(kEnvToken); }
};

TEST(TokenFile, OneTrailingNewlineIsNotPartOfTheToken) {
  TempDir dir;
  std::string token;
  ASSERT_TRUE(ReadTokenFile(WriteFile(dir, "a", "s3cret\n", 0600), "--token-file", &token).ok());
  EXPECT_EQ(token, "s3cret");
  ASSERT_TRUE(ReadTokenFile(WriteFile(dir, "b", "s3cret\r\n", 0400), "--token-file", &token).ok());
  EXPECT_EQ(token, "s3cret");
  ASSERT_TRUE(ReadTokenFile(WriteFile(dir, "c", " two words \n\n", 0600), "--token-file", &token).ok());
  EXPECT_EQ(token, " two words \n");
}

TEST(TokenFile, AFileOthersCanReadIsRefusedSayingHowToFixIt) {
  TempDir dir;
  std::string token = "unchanged";
  std::string path = WriteFile(dir, "t", "s3cret", 0644);
  Status st = ReadTokenFile(path, "--token-file", &token);
  EXPECT_EQ(st.code(), Status::Code::kPermissionDenied);
  EXPECT_NE(st.message().find("chmod 600 " + path), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("0644"), std::string::npos) << st.message();
  EXPECT_EQ(token, "unchanged");
  EXPECT_FALSE(ReadTokenFile(WriteFile(dir, "g", "s3cret", 0620), "--token-file", &token).ok());
}

TEST(TokenFile, BadFilesAreRefusedNamingTheFile) {
  TempDir dir;
  std::string token;
  struct Case {
    std::string path, expect;
  };
  for (const Case& c : {Case{dir.file("missing"), "cannot open"}, Case{WriteFile(dir, "empty", "", 0600), "empty token"},
                        Case{WriteFile(dir, "newline", "\n", 0600), "empty token"},
                        Case{WriteFile(dir, "long", std::string(257, 'x'), 0600), "at most 256"}, Case{dir.path(), "not a regular file"}}) {
    Status st = ReadTokenFile(c.path, "--token-file", &token);
    EXPECT_FALSE(st.ok()) << c.path;
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("--token-file " + c.path), std::string::npos) << st.message();
  }
  ASSERT_TRUE(ReadTokenFile(WriteFile(dir, "max", std::string(256, 'x') + "\n", 0600), "--token-file", &token).ok());
  EXPECT_EQ(token.size(), 256u);
}

TEST(TokenResolve, FlagElseEnvironmentElseNothingAndNeverBoth) {
  TokenEnv guard;
  TempDir dir;
  std::string path = WriteFile(dir, "t", "from-file\n", 0600);
  std::string token = "x";
  ASSERT_TRUE(ResolveToken("", &token).ok());
  EXPECT_EQ(token, "");
  ASSERT_TRUE(ResolveToken(path, &token).ok());
  EXPECT_EQ(token, "from-file");
  setenv(kEnvToken, "from-env", 1);
  ASSERT_TRUE(ResolveToken("", &token).ok());
  EXPECT_EQ(token, "from-env");
  Status both = ResolveToken(path, &token);
  EXPECT_EQ(both.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(both.message().find("PRESCIENT_TOKEN"), std::string::npos) << both.message();
  setenv(kEnvToken, std::string(300, 'y').c_str(), 1);
  EXPECT_FALSE(ResolveToken("", &token).ok());
}

TEST(RunTokenFile, IsPrivateSealedAndReadableByPathButNotInherited) {
  std::string path;
  ASSERT_TRUE(OpenRunTokenFile("run-secret", &path).ok());
  std::string token;
  ASSERT_TRUE(ReadTokenFile(path, "PRESCIENT_TOKEN_FILE", &token).ok());
  EXPECT_EQ(token, "run-secret");
  int fd = std::atoi(path.substr(path.rfind('/') + 1).c_str());
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_LT(write(fd, "x", 1), 0);  // sealed
  struct stat st {};
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(ReadRunTokenFile(path, &token).ok());
  close(fd);
  // Once closed (the run has ended), the path is refused, whatever it names.
  Status gone = ReadRunTokenFile(path, &token);
  EXPECT_FALSE(gone.ok());
  EXPECT_NE(gone.message().find("prescient run"), std::string::npos) << gone.message();
  TempDir dir;
  std::string plain = WriteFile(dir, "t", "not-the-run's\n", 0600);
  Status other = ReadRunTokenFile(plain, &token);
  EXPECT_EQ(other.code(), Status::Code::kPermissionDenied) << other.ToString();
  EXPECT_NE(other.message().find("is not the token file"), std::string::npos) << other.message();
}

TEST(TokenFile, AFileOfAnotherUserIsRefused) {
  TempDir dir;
  std::string path = WriteFile(dir, "t", "s3cret", 0600);
  ASSERT_EQ(chown(path.c_str(), geteuid() + 1, static_cast<gid_t>(-1)), 0) << "the tests run as root";
  std::string token;
  Status st = ReadTokenFile(path, "--token-file", &token);
  EXPECT_EQ(st.code(), Status::Code::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("belongs to user"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace prescient
