// TrainRetNet: windows sampled from the training part of every stream, Adam
// on next-token cross-entropy, then a streaming evaluation of the held-out
// tails by the inference kernel itself.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>
#include <ATen/Parallel.h>

#include "prescient/retnet_eval.h"
#include "prescient/retnet_train.h"
#include "train/retnet_module.h"

namespace prescient {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Where training windows may start: stream s, offsets [0, limit), weighted by
// how many windows fit.
struct Span {
  size_t seq;
  size_t train_len;  // tokens of the stream before its validation tail
};

size_t TrainLength(size_t len, double val_fraction) { return len - static_cast<size_t>(std::floor(static_cast<double>(len) * val_fraction)); }

// A batch of windows of window+1 tokens: inputs are [:, :-1], targets [:, 1:].
torch::Tensor Batch(const std::vector<std::vector<uint8_t>>& seqs, const std::vector<std::pair<size_t, size_t>>& starts, int window) {
  auto t = torch::empty({static_cast<int64_t>(starts.size()), window + 1}, torch::kInt64);
  auto a = t.accessor<int64_t, 2>();
  for (size_t b = 0; b < starts.size(); ++b) {
    const auto& s = seqs[starts[b].first];
    for (int i = 0; i <= window; ++i) a[static_cast<int64_t>(b)][i] = s[starts[b].second + static_cast<size_t>(i)];
  }
  return t;
}

torch::Tensor WindowLoss(RetNetModule& model, const torch::Tensor& batch, int window) {
  auto in = batch.narrow(1, 0, window), target = batch.narrow(1, 1, window);
  auto logits = model.Forward(in);
  return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), target.reshape({-1}));
}

Status CheckInputs(const std::vector<std::vector<uint8_t>>& seqs, const TrainOptions& o) {
  PRESCIENT_RETURN_IF_ERROR(o.model.Validate());
  if (o.window < 2 || o.batch < 1 || o.epochs < 1 || o.topk < 1 || !(o.learning_rate > 0) || o.threads < 1)
    return Status::InvalidArgument("training options: window >= 2, batch, epochs, topk, threads >= 1 and learning_rate > 0 are required");
  if (!(o.val_fraction > 0.0 && o.val_fraction < 1.0)) return Status::InvalidArgument(fmt::format("val_fraction {} outside (0, 1)", o.val_fraction));
  const int V = o.model.vocab();
  for (size_t s = 0; s < seqs.size(); ++s)
    for (size_t i = 0; i < seqs[s].size(); ++i)
      if (seqs[s][i] >= V)
        return Status::InvalidArgument(fmt::format("sequence {} token {} is {}, outside the vocabulary [0, {})", s, i, seqs[s][i], V));
  return Status::Ok();
}

}  // namespace

nlohmann::json TrainReport::ToJson() const {
  return {{"train_tokens", train_tokens}, {"val_tokens", val_tokens}, {"steps", steps},
          {"epochs", epochs},             {"epoch_train_loss", epoch_train_loss}, {"epoch_val_loss", epoch_val_loss},
          {"val_loss", val_loss},         {"val_top1", val_top1},   {"val_topk", val_topk},
          {"val_majority", val_majority}, {"seconds", seconds},     {"tokens_per_second", tokens_per_second}};
}

Status TrainRetNet(const std::vector<std::vector<uint8_t>>& sequences, const TrainOptions& opts, RetNetWeights* out, TrainReport* report) {
  PRESCIENT_RETURN_IF_ERROR(CheckInputs(sequences, opts));
  const int W = opts.window;
  *report = TrainReport();

  // Training windows start anywhere in a stream's training part; validation
  // windows tile its tail. Streams too short for one window give context to
  // the final evaluation only.
  std::vector<Span> spans;
  std::vector<std::pair<size_t, size_t>> val_windows;
  uint64_t train_tokens = 0, window_starts = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const size_t len = sequences[s].size(), tl = TrainLength(len, opts.val_fraction);
    if (tl >= static_cast<size_t>(W) + 1) {
      spans.push_back({s, tl});
      train_tokens += tl;
      window_starts += tl - static_cast<size_t>(W);
    }
    for (size_t at = tl; at + static_cast<size_t>(W) + 1 <= len; at += static_cast<size_t>(W)) val_windows.push_back({s, at});
  }
  if (spans.empty())
    return Status::InvalidArgument(fmt::format("no sequence has the {} training tokens one window needs; use a smaller window", W + 1));
  report->train_tokens = train_tokens;

  at::set_num_threads(opts.threads);
  torch::manual_seed(opts.seed);
  std::mt19937_64 rng(opts.seed);
  RetNetModule model(opts.model);
  torch::optim::Adam adam(model.parameters(), torch::optim::AdamOptions(opts.learning_rate));

  // Uniform over every possible window start of every stream.
  std::vector<uint64_t> cumulative;
  uint64_t total = 0;
  for (const auto& sp : spans) cumulative.push_back(total += sp.train_len - static_cast<size_t>(W));
  std::uniform_int_distribution<uint64_t> pick(0, window_starts - 1);
  auto sample = [&] {
    uint64_t r = pick(rng);
    size_t i = static_cast<size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin());
    uint64_t before = i == 0 ? 0 : cumulative[i - 1];
    return std::pair<size_t, size_t>{spans[i].seq, static_cast<size_t>(r - before)};
  };

  const int64_t steps_per_epoch = std::max<int64_t>(1, static_cast<int64_t>(train_tokens / (static_cast<uint64_t>(W) * opts.batch)));
  int64_t total_steps = steps_per_epoch * opts.epochs;
  if (opts.max_steps > 0) total_steps = std::min(total_steps, opts.max_steps);
  spdlog::info("training RetNet ({} parameters) on {} streams: {} training tokens, {} validation windows; {} steps of {}×{} tokens",
               RetNetParameterCount(opts.model), sequences.size(), train_tokens, val_windows.size(), total_steps, opts.batch, W);

  const auto t0 = Clock::now();
  double train_secs = 0.0;  // forward+backward+update only, for the throughput
  auto last_log = t0;
  int64_t step = 0;
  for (int epoch = 0; epoch < opts.epochs && step < total_steps; ++epoch) {
    const auto te = Clock::now();
    model.train();
    double loss_sum = 0.0;
    int64_t n = 0;
    for (int64_t i = 0; i < steps_per_epoch && step < total_steps; ++i, ++step) {
      // Cosine decay to a tenth: large early steps, a settled end.
      const double progress = static_cast<double>(step) / static_cast<double>(total_steps);
      const double lr = opts.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
      for (auto& group : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      std::vector<std::pair<size_t, size_t>> starts;
      for (int b = 0; b < opts.batch; ++b) starts.push_back(sample());
      adam.zero_grad();
      auto loss = WindowLoss(model, Batch(sequences, starts, W), W);
      loss.backward();
      if (opts.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model.parameters(), opts.grad_clip);
      adam.step();
      loss_sum += loss.item<double>();
      ++n;
      if (Since(last_log) > 10.0) {  // long epochs show progress too
        last_log = Clock::now();
        spdlog::info("epoch {}/{}: step {}/{}, train loss {:.4f}", epoch + 1, opts.epochs, i + 1, steps_per_epoch, loss_sum / static_cast<double>(n));
      }
    }
    const double secs = Since(te);
    train_secs += secs;
    const double train_loss = loss_sum / static_cast<double>(std::max<int64_t>(n, 1));
    double val_loss = 0.0;
    if (!val_windows.empty()) {
      torch::NoGradGuard no_grad;
      model.eval();
      double sum = 0.0;
      for (size_t i = 0; i < val_windows.size(); i += static_cast<size_t>(opts.batch)) {
        std::vector<std::pair<size_t, size_t>> chunk(val_windows.begin() + static_cast<ptrdiff_t>(i),
                                                     val_windows.begin() + static_cast<ptrdiff_t>(std::min(i + opts.batch, val_windows.size())));
        sum += WindowLoss(model, Batch(sequences, chunk, W), W).item<double>() * static_cast<double>(chunk.size());
      }
      val_loss = sum / static_cast<double>(val_windows.size());
    }
    report->epoch_train_loss.push_back(train_loss);
    report->epoch_val_loss.push_back(val_loss);
    report->epochs = epoch + 1;
    last_log = Clock::now();
    spdlog::info("epoch {}/{}: train loss {:.4f}, validation loss {:.4f}, {} steps, {:.0f} tokens/s", epoch + 1, opts.epochs, train_loss, val_loss, n,
                 static_cast<double>(n) * opts.batch * W / std::max(secs, 1e-9));
  }
  report->steps = step;
  report->tokens_per_second = static_cast<double>(step) * opts.batch * W / std::max(train_secs, 1e-9);

  RetNetWeights weights;
  PRESCIENT_RETURN_IF_ERROR(model.ExportTo(&weights));
  // The accuracy that matters is the kernel's, with the whole history as
  // context, exactly as a run will see it.
  RetNetAccuracy acc;
  for (size_t s = 0; s < sequences.size(); ++s)
    EvaluateRetNet(weights, sequences[s], TrainLength(sequences[s].size(), opts.val_fraction), opts.topk, &acc);
  report->val_tokens = acc.predictions;
  report->val_loss = acc.mean_loss();
  report->val_top1 = acc.top1();
  report->val_topk = acc.topk();
  report->val_majority = acc.majority_rate();
  report->seconds = Since(t0);
  spdlog::info("trained in {:.1f} s: validation top-1 {:.3f}, top-{} {:.3f} (majority guess {:.3f}) over {} predictions", report->seconds,
               report->val_top1, opts.topk, report->val_topk, report->val_majority, report->val_tokens);

  nlohmann::json prov = opts.provenance.is_object() ? opts.provenance : nlohmann::json{{"note", opts.provenance}};
  prov["training"] = report->ToJson();
  prov["training"]["options"] = {{"window", W},
                                 {"batch", opts.batch},
                                 {"epochs", opts.epochs},
                                 {"learning_rate", opts.learning_rate},
                                 {"val_fraction", opts.val_fraction},
                                 {"topk", opts.topk},
                                 {"seed", opts.seed},
                                 {"streams", sequences.size()}};
  weights.set_provenance(std::move(prov));
  *out = std::move(weights);
  return Status::Ok();
}

}  // namespace prescient
