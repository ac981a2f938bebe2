// RetNetWeights in memory: one aligned float array and its config.
#include <cstring>
#include <new>
#include <utility>

#include "prescient/retnet.h"

namespace prescient {

namespace {
constexpr std::align_val_t kAlign{64};
}

RetNetWeights::RetNetWeights() = default;
RetNetWeights::~RetNetWeights() { Free(); }

RetNetWeights::RetNetWeights(const RetNetWeights& other) { *this = other; }

RetNetWeights& RetNetWeights::operator=(const RetNetWeights& other) {
  if (this == &other) return *this;
  Allocate(other.count_);
  if (count_) std::memcpy(data_, other.data_, count_ * sizeof(float));
  config_ = other.config_;
  provenance_ = other.provenance_;
  return *this;
}

RetNetWeights::RetNetWeights(RetNetWeights&& other) noexcept { *this = std::move(other); }

RetNetWeights& RetNetWeights::operator=(RetNetWeights&& other) noexcept {
  if (this == &other) return *this;
  Free();
  config_ = std::move(other.config_);
  provenance_ = std::move(other.provenance_);
  data_ = other.data_;
  count_ = other.count_;
  other.data_ = nullptr;
  other.count_ = 0;
  return *this;
}

void RetNetWeights::Allocate(size_t count) {
  Free();
  if (count == 0) return;
  data_ = static_cast<float*>(::operator new(count * sizeof(float), kAlign));
  std::memset(data_, 0, count * sizeof(float));
  count_ = count;
}

void RetNetWeights::Free() {
  if (data_) ::operator delete(data_, kAlign);
  data_ = nullptr;
  count_ = 0;
}

Status RetNetWeights::Create(const RetNetConfig& config, RetNetWeights* out) {
  PRESCIENT_RETURN_IF_ERROR(config.Validate());
  RetNetWeights w;
  w.config_ = config;
  w.Allocate(RetNetParameterCount(config));
  *out = std::move(w);
  return Status::Ok();
}

const float* RetNetWeights::tensor(const std::string& name) const {
  for (const auto& t : RetNetTensors(config_))
    if (t.name == name) return data_ + t.offset;
  return nullptr;
}

float* RetNetWeights::mutable_tensor(const std::string& name) { return const_cast<float*>(std::as_const(*this).tensor(name)); }

}  // namespace prescient
