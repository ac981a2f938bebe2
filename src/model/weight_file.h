// The on-disk layout of a RetNet weight file (format version 1).
//
//   byte 0   FileHeader (24 bytes): magic "PRSCRTN\0", version, JSON length
//            (padded with spaces so the tensors start 16-byte aligned),
//            parameter count, reserved (0)
//   byte 24  header JSON: {"format": "prescient-retnet", the hyperparameters
//            of RetNetConfig::ToJson(), "parameter_count", "tensors": [{"name",
//            "shape"}, ...] in RetNetTensors() order, "provenance": {...}}
//   then     parameter_count float32 values, little-endian, tensor after
//            tensor in that order, each row-major
//   then     8-byte FNV-1a 64 checksum of every byte before it
//
// Nothing follows the checksum. The loader checks, in this order: the size
// of the fixed header, magic, version, the sizes it declares against the
// file size, the checksum, then that the JSON's hyperparameters imply exactly
// the declared tensors and count, and that every value is finite.
#pragma once

#include <cstdint>
#include <string_view>

namespace prescient::weight_file {

inline constexpr char kMagic[8] = {'P', 'R', 'S', 'C', 'R', 'T', 'N', '\0'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint32_t kMaxJson = 1 << 20;
inline constexpr uint32_t kMaxParameters = 1 << 20;
inline constexpr char kFormatName[] = "prescient-retnet";

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t json_bytes;
  uint32_t parameter_count;
  uint32_t reserved;
};
static_assert(sizeof(FileHeader) == 24);

}  // namespace prescient::weight_file
