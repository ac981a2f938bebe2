// The RetNet weight file: round trips, and every kind of damage is refused
// with a message naming the file, the fault and the byte offset.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>

#include <fmt/format.h>

#include "common/file_io.h"
#include "model/weight_file.h"
#include "prescient/retnet.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

namespace wf = weight_file;

RetNetWeights Sample() {
  RetNetWeights w;
  EXPECT_TRUE(RetNetWeights::Create(RetNetConfig::Default(8), &w).ok());
  std::mt19937 rng(1);
  std::normal_distribution<float> n;
  for (size_t i = 0; i < w.parameter_count(); ++i) w.mutable_data()[i] = n(rng);
  w.set_provenance({{"traces", {"bfs-a.trace", "bfs-b.trace"}}, {"val_top1", 0.61}});
  return w;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file whose header JSON has been edited, with sizes and checksum redone so
// that only the edit is wrong.
std::string Rewrite(const std::string& bytes, const std::function<void(nlohmann::json&)>& edit, int64_t drop_floats = 0) {
  wf::FileHeader fh;
  std::memcpy(&fh, bytes.data(), sizeof(fh));
  auto j = nlohmann::json::parse(bytes.substr(sizeof(fh), fh.json_bytes));
  edit(j);
  std::string json = j.dump();
  std::string tensors = bytes.substr(sizeof(fh) + fh.json_bytes, 4ull * fh.parameter_count - 4 * drop_floats);
  fh.json_bytes = static_cast<uint32_t>(json.size());
  fh.parameter_count = static_cast<uint32_t>(tensors.size() / 4);
  std::string out(reinterpret_cast<const char*>(&fh), sizeof(fh));
  out += json + tensors;
  uint64_t sum = Fnv1a64(out);
  out.append(reinterpret_cast<const char*>(&sum), sizeof(sum));
  return out;
}

class RetNetWeightsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("model.bin");
    ASSERT_TRUE(Sample().Save(path_).ok());
    good_ = Slurp(path_);
  }
  // Loads `bytes` from a file and returns the error message (empty if OK).
  std::string LoadError(const std::string& bytes) {
    std::string p = dir_.file("damaged.bin");
    Spit(p, bytes);
    RetNetWeights w;
    Status s = RetNetWeights::Load(p, &w);
    if (s.ok()) return "";
    EXPECT_NE(s.message().find(p), std::string::npos) << "the message must name the file: " << s.message();
    return s.message();
  }
  size_t json_bytes() const {
    wf::FileHeader fh;
    std::memcpy(&fh, good_.data(), sizeof(fh));
    return fh.json_bytes;
  }

  testing::TempDir dir_;
  std::string path_, good_;
};

TEST_F(RetNetWeightsFile, RoundTripsWeightsConfigAndProvenance) {
  RetNetWeights orig = Sample(), back;
  Status s = RetNetWeights::Load(path_, &back);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(back.config().ToJson(), orig.config().ToJson());
  ASSERT_EQ(back.parameter_count(), orig.parameter_count());
  EXPECT_EQ(std::memcmp(back.data(), orig.data(), 4 * orig.parameter_count()), 0);
  EXPECT_EQ(back.provenance(), orig.provenance());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(back.data()) % 64, 0u);
  // The tensors start 16-byte aligned in the file, and the JSON says what
  // the file holds.
  EXPECT_EQ((sizeof(wf::FileHeader) + json_bytes()) % 16, 0u);
  auto j = nlohmann::json::parse(good_.substr(sizeof(wf::FileHeader), json_bytes()));
  EXPECT_EQ(j["parameter_count"], 3041);
  EXPECT_EQ(j["tensors"].size(), RetNetTensors(orig.config()).size());
  EXPECT_EQ(good_.size(), sizeof(wf::FileHeader) + json_bytes() + 4 * 3041 + 8);
  // The saved file names exactly what a tensor lookup finds.
  EXPECT_EQ(back.tensor("out.b") - back.data(), static_cast<ptrdiff_t>(3041 - 9));
  EXPECT_EQ(back.tensor("no.such"), nullptr);
}

TEST_F(RetNetWeightsFile, AMissingFileIsNamed) {
  RetNetWeights w;
  Status s = RetNetWeights::Load(dir_.file("absent.bin"), &w);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("absent.bin"), std::string::npos) << s.message();
}

TEST_F(RetNetWeightsFile, TruncationAnywhereIsRefusedWithItsOffset) {
  const size_t tensors_at = sizeof(wf::FileHeader) + json_bytes();
  struct Cut {
    size_t at;
    const char* where;
  };
  for (Cut cut : {Cut{0, "file header"}, Cut{10, "file header"}, Cut{24, "header JSON"}, Cut{24 + json_bytes() / 2, "header JSON"},
                  Cut{tensors_at + 1, "tensors"}, Cut{tensors_at + 4 * 1500, "tensors"}, Cut{good_.size() - 8, "checksum"},
                  Cut{good_.size() - 1, "checksum"}}) {
    SCOPED_TRACE(cut.at);
    std::string msg = LoadError(good_.substr(0, cut.at));
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    EXPECT_NE(msg.find(cut.where), std::string::npos) << msg;
    EXPECT_NE(msg.find(fmt::format("byte {}", cut.at)), std::string::npos) << msg;
  }
}

TEST_F(RetNetWeightsFile, TrailingBytesAreRefused) {
  std::string msg = LoadError(good_ + "xyz");
  EXPECT_NE(msg.find("3 unexpected bytes after the checksum, from byte " + std::to_string(good_.size())), std::string::npos) << msg;
}

// Issue 18, item 7: a flipped size field was reported as "256 unexpected
// bytes after the checksum".
TEST_F(RetNetWeightsFile, AFlippedSizeFieldIsNamed) {
  for (int bit : {2, 8, 20}) {
    SCOPED_TRACE(bit);
    std::string bad = good_;
    bad[12 + bit / 8] ^= static_cast<char>(1 << (bit % 8));
    std::string msg = LoadError(bad);
    EXPECT_NE(msg.find("the header's JSON size at byte 12 is damaged"), std::string::npos) << msg;
    EXPECT_NE(msg.find(fmt::format("the JSON there is {} bytes", json_bytes())), std::string::npos) << msg;
  }
  for (int bit : {0, 6, 12}) {
    SCOPED_TRACE(bit);
    std::string bad = good_;
    bad[16 + bit / 8] ^= static_cast<char>(1 << (bit % 8));
    std::string msg = LoadError(bad);
    EXPECT_NE(msg.find("the header's parameter count at byte 16 is damaged"), std::string::npos) << msg;
    EXPECT_NE(msg.find("the file's length says 3041"), std::string::npos) << msg;
  }
}

TEST_F(RetNetWeightsFile, AFlippedByteFailsTheChecksum) {
  const size_t tensors_at = sizeof(wf::FileHeader) + json_bytes();
  for (size_t at : {size_t{30}, tensors_at + 100, good_.size() - 3}) {
    SCOPED_TRACE(at);
    std::string bad = good_;
    bad[at] ^= 0x10;
    std::string msg = LoadError(bad);
    EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;
    EXPECT_NE(msg.find(fmt::format("byte {}", good_.size() - 8)), std::string::npos) << msg;
  }
}

TEST_F(RetNetWeightsFile, WrongMagicIsNotAModelFile) {
  std::string bad = good_;
  bad[0] = 'X';
  std::string msg = LoadError(bad);
  EXPECT_NE(msg.find("is not a prescient model file (bad magic at byte 0)"), std::string::npos) << msg;
  EXPECT_NE(LoadError(std::string("PRSCTRC\0 some trace bytes, long enough for a header", 52)).find("bad magic"), std::string::npos);
}

TEST_F(RetNetWeightsFile, AnotherVersionIsRefused) {
  std::string bad = good_;
  uint32_t v = 2;
  std::memcpy(bad.data() + 8, &v, 4);
  std::string msg = LoadError(bad);
  EXPECT_NE(msg.find("format version 2 (at byte 8); this build reads version 1"), std::string::npos) << msg;
}

TEST_F(RetNetWeightsFile, AHeaderThatDisagreesWithTheTensorsIsRefused) {
  // A tensor listed with another shape.
  std::string msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["tensors"][3]["shape"] = {16, 48}; }));
  EXPECT_NE(msg.find("tensor 3 (data at byte"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[16,48]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wqkvg [16,64]"), std::string::npos) << msg;
  // Or another name, or one tensor missing.
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["tensors"][0]["name"] = "embedding"; }));
  EXPECT_NE(msg.find("tensor 0"), std::string::npos) << msg;
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["tensors"].erase(j["tensors"].size() - 1); }));
  EXPECT_NE(msg.find("lists 16 tensors; the hyperparameters imply 17"), std::string::npos) << msg;
  // Hyperparameters that imply another parameter count than the file holds.
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["ffn"] = 32; }));
  EXPECT_NE(msg.find("declares 3041 parameters, but its hyperparameters imply 2777"), std::string::npos) << msg;
  // A JSON count that disagrees with the fixed header's.
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["parameter_count"] = 3000; }));
  EXPECT_NE(msg.find("\"parameter_count\" 3000, the file header at byte 16 says 3041"), std::string::npos) << msg;
  // Fewer floats than the hyperparameters need, consistently declared.
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["parameter_count"] = 3040; }, 1));
  EXPECT_NE(msg.find("declares 3040 parameters, but its hyperparameters imply 3041"), std::string::npos) << msg;
  // Hyperparameters the kernel cannot run.
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["gammas"] = {0.9}; }));
  EXPECT_NE(msg.find("1 gammas for 2 heads"), std::string::npos) << msg;
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["vocab"] = 12; }));
  EXPECT_NE(msg.find("\"vocab\" must be ordinals + 1 = 9"), std::string::npos) << msg;
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j.erase("heads"); }));
  EXPECT_NE(msg.find("\"heads\" is missing"), std::string::npos) << msg;
  msg = LoadError(Rewrite(good_, [](nlohmann::json& j) { j["format"] = "onnx"; }));
  EXPECT_NE(msg.find("\"format\": \"prescient-retnet\""), std::string::npos) << msg;
  // And an untouched rewrite still loads, so each refusal above is the edit's.
  EXPECT_EQ(LoadError(Rewrite(good_, [](nlohmann::json&) {})), "");
}

TEST_F(RetNetWeightsFile, NonFiniteWeightsAreRefused) {
  const size_t tensors_at = sizeof(wf::FileHeader) + json_bytes();
  std::string bytes = good_.substr(0, good_.size() - 8);
  float nan = std::nanf("");
  std::memcpy(bytes.data() + tensors_at + 4 * 200, &nan, 4);
  uint64_t sum = Fnv1a64(bytes);
  bytes.append(reinterpret_cast<const char*>(&sum), 8);
  std::string msg = LoadError(bytes);
  EXPECT_NE(msg.find(fmt::format("tensor wqkvg holds a non-finite value at byte {}", tensors_at + 800)), std::string::npos) << msg;
}

TEST_F(RetNetWeightsFile, SaveReplacesAtomically) {
  RetNetWeights w = Sample();
  w.mutable_data()[0] = 42.0f;
  ASSERT_TRUE(w.Save(path_).ok());
  RetNetWeights back;
  ASSERT_TRUE(RetNetWeights::Load(path_, &back).ok());
  EXPECT_EQ(back.data()[0], 42.0f);
  EXPECT_FALSE(RetNetWeights().Save(dir_.file("empty.bin")).ok());
  EXPECT_FALSE(w.Save(dir_.file("no/such/dir/model.bin")).ok());
}

}  // namespace
}  // namespace prescient
