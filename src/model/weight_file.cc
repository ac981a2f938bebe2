// RetNetWeights::Save and ::Load: the file format of model/weight_file.h.
#include "common/file_io.h"
#include "model/weight_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "prescient/retnet.h"

namespace prescient {

namespace wf = weight_file;
static_assert(std::endian::native == std::endian::little, "the weight file stores little-endian float32 as is");

namespace {

Status ReadWholeFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(fmt::format("cannot open model file {}", path), errno);
  struct stat st;
  Status s;
  // The largest legal file: fixed header, JSON, parameters, checksum.
  constexpr uint64_t kMaxFile = sizeof(wf::FileHeader) + wf::kMaxJson + 4ull * wf::kMaxParameters + 8;
  if (fstat(fd, &st) != 0) {
    s = Status::FromErrno(fmt::format("cannot stat model file {}", path), errno);
  } else if (static_cast<uint64_t>(st.st_size) > kMaxFile) {
    s = Status::Corruption(fmt::format("model file {} is {} bytes, larger than any model file can be ({})", path, st.st_size, kMaxFile));
  } else {
    out->assign(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < out->size()) {
      ssize_t n = read(fd, out->data() + done, out->size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        s = Status::FromErrno(fmt::format("reading model file {} at byte {}", path, done), errno);
        break;
      }
      if (n == 0) break;  // shrank under us; the size checks below report it
      done += static_cast<size_t>(n);
    }
    out->resize(done);
  }
  close(fd);
  return s;
}

nlohmann::json TensorsJson(const RetNetConfig& config) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : RetNetTensors(config)) tensors.push_back({{"name", t.name}, {"shape", t.shape}});
  return tensors;
}

// When the file's size disagrees with its header, says which one size field
// of the header (JSON bytes at byte 12, parameters at byte 16) is damaged:
// the field whose value the file's length implies, put back, makes the
// checksum in the last 8 bytes match. Empty when neither does (a file cut
// short or extended, or worse).
std::string DamagedSizeField(const std::string& bytes, const wf::FileHeader& fh) {
  const uint64_t fixed = sizeof(wf::FileHeader) + 8;
  if (bytes.size() < fixed) return "";
  const uint64_t body = bytes.size() - fixed;  // JSON + tensors
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, sizeof(stored));
  auto checksum_matches_with = [&](size_t field_at, uint64_t value) {
    if (value > UINT32_MAX) return false;
    std::string repaired = bytes.substr(0, bytes.size() - 8);
    const uint32_t v = static_cast<uint32_t>(value);
    std::memcpy(repaired.data() + field_at, &v, sizeof(v));
    return Fnv1a64(repaired) == stored;
  };
  const uint64_t tensor_bytes = 4ull * fh.parameter_count;
  if (tensor_bytes <= body && body - tensor_bytes != fh.json_bytes && checksum_matches_with(offsetof(wf::FileHeader, json_bytes), body - tensor_bytes))
    return fmt::format("the header's JSON size at byte 12 is damaged: it says {} bytes, but the JSON there is {} bytes (the checksum matches "
                       "with that)", fh.json_bytes, body - tensor_bytes);
  if (fh.json_bytes <= body && (body - fh.json_bytes) % 4 == 0) {
    const uint64_t parameters = (body - fh.json_bytes) / 4;
    if (parameters != fh.parameter_count && checksum_matches_with(offsetof(wf::FileHeader, parameter_count), parameters))
      return fmt::format("the header's parameter count at byte 16 is damaged: it says {}, but the file's length says {} (the checksum matches "
                         "with that)", fh.parameter_count, parameters);
  }
  return "";
}

}  // namespace

Status RetNetWeights::Save(const std::string& path) const {
  if (!data_) return Status::InvalidArgument(fmt::format("cannot save {}: the weights are empty", path));
  nlohmann::json j = config_.ToJson();
  j["format"] = wf::kFormatName;
  j["format_version"] = wf::kVersion;
  j["parameter_count"] = count_;
  j["tensors"] = TensorsJson(config_);
  j["provenance"] = provenance_;
  std::string json = j.dump();
  // Pad so the tensors start 16-byte aligned (mmap-friendly); JSON ignores
  // trailing whitespace.
  while ((sizeof(wf::FileHeader) + json.size()) % 16 != 0) json.push_back(' ');
  if (json.size() > wf::kMaxJson) return Status::InvalidArgument(fmt::format("cannot save {}: header JSON exceeds {} bytes", path, wf::kMaxJson));

  wf::FileHeader fh{};
  std::memcpy(fh.magic, wf::kMagic, sizeof(fh.magic));
  fh.version = wf::kVersion;
  fh.json_bytes = static_cast<uint32_t>(json.size());
  fh.parameter_count = static_cast<uint32_t>(count_);
  std::string bytes(reinterpret_cast<const char*>(&fh), sizeof(fh));
  bytes += json;
  bytes.append(reinterpret_cast<const char*>(data_), count_ * sizeof(float));
  uint64_t sum = Fnv1a64(bytes);
  bytes.append(reinterpret_cast<const char*>(&sum), sizeof(sum));

  // Write beside the target and rename, so a crash never leaves a torn file
  // under the name a run will load.
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(fmt::format("cannot create model file {}", tmp), errno);
  Status s = WriteAll(fd, bytes.data(), bytes.size(), "model file " + tmp);
  if (s.ok() && fsync(fd) != 0) s = Status::FromErrno(fmt::format("fsync of model file {}", tmp), errno);
  if (close(fd) != 0 && s.ok()) s = Status::FromErrno(fmt::format("closing model file {}", tmp), errno);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) s = Status::FromErrno(fmt::format("renaming {} to {}", tmp, path), errno);
  if (!s.ok()) unlink(tmp.c_str());
  return s;
}

Status RetNetWeights::Load(const std::string& path, RetNetWeights* out) {
  std::string bytes;
  PRESCIENT_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  auto corrupt = [&](std::string what) { return Status::Corruption(fmt::format("model file {}: {}", path, what)); };

  wf::FileHeader fh;
  if (bytes.size() < sizeof(fh))
    return corrupt(fmt::format("truncated: the {}-byte file header at byte 0 is cut off at byte {}", sizeof(fh), bytes.size()));
  std::memcpy(&fh, bytes.data(), sizeof(fh));
  if (std::memcmp(fh.magic, wf::kMagic, sizeof(fh.magic)) != 0)
    return Status::Corruption(fmt::format("{} is not a prescient model file (bad magic at byte 0)", path));
  if (fh.version != wf::kVersion)
    return corrupt(fmt::format("format version {} (at byte 8); this build reads version {}", fh.version, wf::kVersion));
  if (sizeof(fh) + uint64_t{fh.json_bytes} + 4ull * fh.parameter_count + 8 != bytes.size()) {
    if (std::string damaged = DamagedSizeField(bytes, fh); !damaged.empty()) return corrupt(damaged);
  }
  if (fh.json_bytes > wf::kMaxJson) return corrupt(fmt::format("the header at byte 12 claims {} bytes of JSON (at most {})", fh.json_bytes, wf::kMaxJson));
  if (fh.parameter_count > wf::kMaxParameters)
    return corrupt(fmt::format("the header at byte 16 claims {} parameters (at most {})", fh.parameter_count, wf::kMaxParameters));
  const uint64_t json_at = sizeof(fh);
  const uint64_t tensors_at = json_at + fh.json_bytes;
  const uint64_t sum_at = tensors_at + 4ull * fh.parameter_count;
  const uint64_t expected = sum_at + 8;
  if (bytes.size() < expected) {
    const char* part = bytes.size() < tensors_at ? "header JSON" : bytes.size() < sum_at ? "tensors" : "checksum";
    uint64_t part_at = bytes.size() < tensors_at ? json_at : bytes.size() < sum_at ? tensors_at : sum_at;
    return corrupt(fmt::format("truncated: the file ends at byte {} inside the {} that start at byte {}; its header declares {} bytes", bytes.size(),
                               part, part_at, expected));
  }
  if (bytes.size() > expected)
    return corrupt(fmt::format("{} unexpected bytes after the checksum, from byte {}", bytes.size() - expected, expected));
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + sum_at, sizeof(stored));
  uint64_t computed = Fnv1a64(std::string_view(bytes).substr(0, sum_at));
  if (stored != computed)
    return corrupt(fmt::format("checksum mismatch: the checksum at byte {} is {:#018x}, the contents hash to {:#018x} (the file is damaged)", sum_at,
                               stored, computed));

  auto j = nlohmann::json::parse(bytes.begin() + json_at, bytes.begin() + tensors_at, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt(fmt::format("the header JSON at byte {} is not a JSON object", json_at));
  if (j.value("format", "") != wf::kFormatName)
    return corrupt(fmt::format("the header JSON at byte {} does not say \"format\": \"{}\"", json_at, wf::kFormatName));
  RetNetConfig config;
  Status cs = RetNetConfig::FromJson(j, &config);
  if (!cs.ok()) return corrupt(fmt::format("the header JSON at byte {}: {}", json_at, cs.message()));
  const size_t implied = RetNetParameterCount(config);
  if (!j.contains("parameter_count") || !j["parameter_count"].is_number_unsigned() || j["parameter_count"].get<uint64_t>() != fh.parameter_count)
    return corrupt(fmt::format("the header JSON at byte {} gives \"parameter_count\" {}, the file header at byte 16 says {}", json_at,
                               j.value("parameter_count", nlohmann::json()).dump(), fh.parameter_count));
  if (implied != fh.parameter_count)
    return corrupt(fmt::format("the header declares {} parameters, but its hyperparameters imply {}", fh.parameter_count, implied));
  const auto layout = RetNetTensors(config);
  const auto& listed = j.contains("tensors") ? j["tensors"] : nlohmann::json();
  if (!listed.is_array() || listed.size() != layout.size())
    return corrupt(fmt::format("the header JSON at byte {} lists {} tensors; the hyperparameters imply {}", json_at,
                               listed.is_array() ? listed.size() : 0, layout.size()));
  for (size_t i = 0; i < layout.size(); ++i) {
    const auto& t = layout[i];
    const uint64_t at = tensors_at + 4 * t.offset;
    std::vector<int> shape;
    if (listed[i].is_object() && listed[i].contains("shape") && listed[i]["shape"].is_array())
      for (const auto& s : listed[i]["shape"]) shape.push_back(s.is_number_integer() ? s.get<int>() : -1);
    if (listed[i].value("name", "") != t.name || shape != t.shape)
      return corrupt(fmt::format("tensor {} (data at byte {}) is listed as {} {}, the hyperparameters imply {} [{}]", i, at,
                                 listed[i].value("name", nlohmann::json()).dump(), listed[i].value("shape", nlohmann::json()).dump(), t.name,
                                 fmt::join(t.shape, ",")));
  }

  RetNetWeights w;
  w.config_ = config;
  w.Allocate(implied);
  std::memcpy(w.data_, bytes.data() + tensors_at, implied * sizeof(float));
  for (const auto& t : layout)
    for (size_t k = 0; k < t.size(); ++k)
      if (!std::isfinite(w.data_[t.offset + k]))
        return corrupt(fmt::format("tensor {} holds a non-finite value at byte {}", t.name, tensors_at + 4 * (t.offset + k)));
  if (j.contains("provenance")) w.provenance_ = j["provenance"];
  *out = std::move(w);
  return Status::Ok();
}

}  // namespace prescient
