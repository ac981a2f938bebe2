#include "model_flags.h"

#include <fmt/format.h>

#include "prefetch/vocabulary.h"

namespace prescient::cli {

void AddModelFlags(CLI::App* cmd, std::string* model, int* lookahead, bool* no_hybrid) {
  cmd->add_option("--model", *model, "farsight: the model file (from `prescient train`)");
  cmd->add_option("--lookahead", *lookahead, "farsight: model steps rolled forward per fault (1 = no lookahead)")->capture_default_str();
  cmd->add_flag("--no-hybrid", *no_hybrid, "farsight: no readahead beside the model (by default readahead fills what the model leaves of the fault's budget)");
}

Status CheckModelFlags(const std::string& policies, const std::string& model, int lookahead) {
  const bool farsight = ("," + policies + ",").find(",farsight,") != std::string::npos;
  if (!farsight) {
    if (!model.empty()) return Status::InvalidArgument("--model is only used with --prefetch farsight");
    return Status::Ok();
  }
  if (model.empty()) return Status::InvalidArgument("--prefetch farsight needs --model FILE; train one with `prescient train`");
  if (lookahead < 1 || lookahead > 16) return Status::InvalidArgument(fmt::format("--lookahead {} must be 1 to 16", lookahead));
  RetNetWeights weights;
  Vocabulary vocabulary;
  Status st = LoadFarsightModel(model, &weights, &vocabulary);
  if (!st.ok()) return Status::InvalidArgument(fmt::format("--model: {}", st.message()));
  return Status::Ok();
}

}  // namespace prescient::cli
