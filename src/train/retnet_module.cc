#include "train/retnet_module.h"

#include <cmath>
#include <cstring>
#include <numbers>

#include <fmt/format.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/normalization.h>
#include <torch/nn/init.h>

namespace prescient {

namespace F = torch::nn::functional;

RetNetModule::RetNetModule(const RetNetConfig& config) : config_(config) {
  for (const auto& t : RetNetTensors(config_)) {
    std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
    torch::Tensor p;
    const bool is_gain = t.name.ends_with(".gain");
    if (is_gain) {
      p = torch::ones(shape);
    } else if (shape.size() == 1) {
      p = torch::zeros(shape);
    } else if (t.name == "embed") {
      p = torch::randn(shape);
    } else {
      // Variance 1/fan_in keeps each pre-norm block's output near unit scale.
      p = torch::randn(shape) / std::sqrt(static_cast<double>(shape[0]));
    }
    // Module parameter names may not contain '.'.
    std::string name = t.name;
    for (char& c : name)
      if (c == '.') c = '_';
    params_.push_back(register_parameter(name, p));
  }
}

const torch::Tensor& RetNetModule::Decay(int64_t T) {
  auto it = decay_.find(T);
  if (it != decay_.end()) return it->second;
  // gamma^(n-m) in double, then rounded once: the kernel multiplies by a
  // float gamma each step, and both agree to float precision.
  auto n = torch::arange(T, torch::kFloat64).unsqueeze(1);
  auto m = torch::arange(T, torch::kFloat64).unsqueeze(0);
  auto dist = n - m;
  std::vector<torch::Tensor> per_head;
  for (float g : config_.gammas) {
    auto d = torch::exp(dist.clamp_min(0) * std::log(static_cast<double>(g)));
    per_head.push_back(d.masked_fill(dist < 0, 0.0));
  }
  return decay_[T] = torch::stack(per_head).to(torch::kFloat32);
}

torch::Tensor RetNetModule::Forward(const torch::Tensor& tokens, int64_t position_offset) {
  const int64_t B = tokens.size(0), T = tokens.size(1);
  const int64_t d = config_.d_model, H = config_.heads, dh = config_.head_dim(), P = dh / 2;
  const double eps = config_.norm_eps;
  const auto& p = params_;
  // p: embed, ln1.gain, ln1.bias, wqkvg, gn.gain, gn.bias, wo, ln2.gain,
  //    ln2.bias, ffn.w1, ffn.b1, ffn.w2, ffn.b2, lnf.gain, lnf.bias, out.w, out.b
  auto x = p[0].index_select(0, tokens.reshape({-1})).view({B, T, d});
  auto h = torch::layer_norm(x, {d}, p[1], p[2], eps);
  auto qkvg = h.matmul(p[3]).chunk(4, -1);
  auto heads = [&](const torch::Tensor& t) { return t.reshape({B, T, H, dh}).transpose(1, 2); };  // [B, H, T, dh]
  auto q = heads(qkvg[0]);
  auto k = heads(qkvg[1]) / std::sqrt(static_cast<double>(dh));
  auto v = heads(qkvg[2]);

  // Angles of absolute positions, reduced mod 2π in double so a window deep
  // into a run turns exactly as one at its start.
  auto pos = torch::arange(T, torch::kFloat64) + static_cast<double>(position_offset);
  std::vector<double> thetas(config_.thetas.begin(), config_.thetas.end());
  auto theta = torch::from_blob(thetas.data(), {P}, torch::kFloat64).clone();
  auto angle = torch::fmod(pos.unsqueeze(1) * theta.unsqueeze(0), 2.0 * std::numbers::pi);  // [T, P]
  auto cos = torch::cos(angle).to(torch::kFloat32), sin = torch::sin(angle).to(torch::kFloat32);
  auto rotate = [&](const torch::Tensor& t) {
    auto pairs = t.reshape({B, H, T, P, 2});
    auto a = pairs.select(-1, 0), b = pairs.select(-1, 1);
    return torch::stack({a * cos - b * sin, a * sin + b * cos}, -1).reshape({B, H, T, dh});
  };
  auto scores = rotate(q).matmul(rotate(k).transpose(-1, -2)) * Decay(T);  // [B, H, T, T]
  auto o = scores.matmul(v);                                                // [B, H, T, dh]
  o = torch::layer_norm(o, {dh}, {}, {}, eps);                              // group norm: one group per head
  o = o.transpose(1, 2).reshape({B, T, d}) * p[4] + p[5];
  x = x + (o * F::silu(qkvg[3])).matmul(p[6]);

  h = torch::layer_norm(x, {d}, p[7], p[8], eps);
  x = x + torch::relu(h.matmul(p[9]) + p[10]).matmul(p[11]) + p[12];
  h = torch::layer_norm(x, {d}, p[13], p[14], eps);
  return h.matmul(p[15]) + p[16];
}

Status RetNetModule::ExportTo(RetNetWeights* out) const {
  RetNetWeights w;
  PRESCIENT_RETURN_IF_ERROR(RetNetWeights::Create(config_, &w));
  auto layout = RetNetTensors(config_);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layout.size(); ++i) {
    auto t = params_[i].detach().to(torch::kFloat32).contiguous();
    if (static_cast<size_t>(t.numel()) != layout[i].size()) return Status::Internal(fmt::format("tensor {} has the wrong size", layout[i].name));
    std::memcpy(w.mutable_data() + layout[i].offset, t.data_ptr<float>(), layout[i].size() * sizeof(float));
  }
  w.set_provenance(out->provenance());
  *out = std::move(w);
  return Status::Ok();
}

Status RetNetModule::ImportFrom(const RetNetWeights& weights) {
  if (weights.config().ToJson() != config_.ToJson()) return Status::InvalidArgument("the weights' config differs from the module's");
  auto layout = RetNetTensors(config_);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layout.size(); ++i) {
    auto src = torch::from_blob(const_cast<float*>(weights.data() + layout[i].offset), params_[i].sizes(), torch::kFloat32);
    params_[i].copy_(src);
  }
  return Status::Ok();
}

}  // namespace prescient
