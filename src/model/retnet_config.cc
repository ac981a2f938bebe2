// Hyperparameters and the tensor layout they imply.
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "prescient/retnet.h"

namespace prescient {

RetNetConfig RetNetConfig::Default(int ordinals) {
  RetNetConfig c;
  c.ordinals = ordinals;
  c.FillDefaultThetas();
  return c;
}

void RetNetConfig::FillDefaultThetas() {
  if (!thetas.empty() || heads <= 0 || d_model % heads != 0) return;
  // Periods 3, 12, 48, ... steps: the fastest pair tells "2 faults ago" from
  // "3 faults ago"; the slowest spans about what the slower decay remembers.
  double period = 3.0;
  for (int i = 0; i < head_dim() / 2; ++i, period *= 4.0) thetas.push_back(static_cast<float>(2.0 * std::numbers::pi / period));
}

Status RetNetConfig::Validate() const {
  auto bad = [](std::string what) { return Status::InvalidArgument("RetNet config: " + what); };
  if (ordinals < 1 || vocab() > kRetNetMaxVocab) return bad(fmt::format("ordinals {} outside [1, {}]", ordinals, kRetNetMaxVocab - 1));
  if (d_model < 2 || d_model > kRetNetMaxModel) return bad(fmt::format("d_model {} outside [2, {}]", d_model, kRetNetMaxModel));
  if (heads < 1 || d_model % heads != 0 || head_dim() % 2 != 0)
    return bad(fmt::format("{} heads do not split d_model {} into even head widths", heads, d_model));
  if (heads * head_dim() * head_dim() > kRetNetMaxStateFloats)
    return bad(fmt::format("state of {} heads × {}² floats exceeds {}", heads, head_dim(), kRetNetMaxStateFloats));
  if (ffn < 1 || ffn > kRetNetMaxFfn) return bad(fmt::format("ffn {} outside [1, {}]", ffn, kRetNetMaxFfn));
  if (static_cast<int>(gammas.size()) != heads) return bad(fmt::format("{} gammas for {} heads", gammas.size(), heads));
  for (float g : gammas)
    if (!(g > 0.0f && g < 1.0f)) return bad(fmt::format("gamma {} outside (0, 1)", g));
  if (static_cast<int>(thetas.size()) != head_dim() / 2)
    return bad(fmt::format("{} thetas for {} channel pairs per head", thetas.size(), head_dim() / 2));
  for (float t : thetas)
    if (!std::isfinite(t)) return bad("a theta is not finite");
  if (!(norm_eps > 0.0f && norm_eps < 1.0f)) return bad(fmt::format("norm_eps {} outside (0, 1)", norm_eps));
  return Status::Ok();
}

nlohmann::json RetNetConfig::ToJson() const {
  return {{"architecture", "retnet"}, {"layers", 1},     {"ordinals", ordinals}, {"vocab", vocab()},   {"d_model", d_model},
          {"heads", heads},           {"ffn", ffn},      {"gammas", gammas},     {"thetas", thetas},   {"norm_eps", norm_eps},
          {"head_dim", head_dim()}};
}

Status RetNetConfig::FromJson(const nlohmann::json& j, RetNetConfig* out) {
  auto missing = [](const char* key) { return Status::InvalidArgument(fmt::format("RetNet config: \"{}\" is missing or has the wrong type", key)); };
  if (!j.is_object()) return Status::InvalidArgument("RetNet config is not a JSON object");
  if (j.value("architecture", "") != "retnet") return Status::InvalidArgument("RetNet config: \"architecture\" is not \"retnet\"");
  if (!j.contains("layers") || !j["layers"].is_number_integer() || j["layers"].get<int>() != 1)
    return Status::InvalidArgument("RetNet config: only \"layers\": 1 is supported");
  RetNetConfig c;
  c.thetas.clear();
  for (auto [key, field] : {std::pair{"ordinals", &c.ordinals}, {"d_model", &c.d_model}, {"heads", &c.heads}, {"ffn", &c.ffn}}) {
    if (!j.contains(key) || !j[key].is_number_integer()) return missing(key);
    *field = j[key].get<int>();
  }
  for (auto [key, field] : {std::pair{"gammas", &c.gammas}, {"thetas", &c.thetas}}) {
    if (!j.contains(key) || !j[key].is_array()) return missing(key);
    field->clear();
    for (const auto& v : j[key]) {
      if (!v.is_number()) return missing(key);
      field->push_back(v.get<float>());
    }
  }
  if (!j.contains("norm_eps") || !j["norm_eps"].is_number()) return missing("norm_eps");
  c.norm_eps = j["norm_eps"].get<float>();
  if (j.contains("vocab") && (!j["vocab"].is_number_integer() || j["vocab"].get<int>() != c.vocab()))
    return Status::InvalidArgument(fmt::format("RetNet config: \"vocab\" must be ordinals + 1 = {}", c.vocab()));
  PRESCIENT_RETURN_IF_ERROR(c.Validate());
  *out = std::move(c);
  return Status::Ok();
}

size_t RetNetTensor::size() const {
  size_t n = 1;
  for (int s : shape) n *= static_cast<size_t>(s);
  return n;
}

std::vector<RetNetTensor> RetNetTensors(const RetNetConfig& c) {
  const int V = c.vocab(), d = c.d_model, f = c.ffn;
  // The order is part of the file format (version 1): append, never reorder.
  std::vector<RetNetTensor> t = {
      {"embed", {V, d}},      {"ln1.gain", {d}}, {"ln1.bias", {d}}, {"wqkvg", {d, 4 * d}}, {"gn.gain", {d}},
      {"gn.bias", {d}},       {"wo", {d, d}},    {"ln2.gain", {d}}, {"ln2.bias", {d}},     {"ffn.w1", {d, f}},
      {"ffn.b1", {f}},        {"ffn.w2", {f, d}}, {"ffn.b2", {d}},  {"lnf.gain", {d}},     {"lnf.bias", {d}},
      {"out.w", {d, V}},      {"out.b", {V}},
  };
  size_t offset = 0;
  for (auto& x : t) {
    x.offset = offset;
    offset += x.size();
  }
  return t;
}

size_t RetNetParameterCount(const RetNetConfig& config) {
  size_t n = 0;
  for (const auto& t : RetNetTensors(config)) n += t.size();
  return n;
}

}  // namespace prescient
