// `farsight`: FarSight's learned prefetcher (DESIGN.md, section A).
//
// Every fault (and every first touch of a prefetched page, which the kernel
// design sees as a minor fault) is turned into a token (vocabulary.h): which
// of the previous page's known successors it was, or which small step from
// it. The RetNet reads that token and predicts the next one. Candidates are
// the pages the likely tokens resolve to from this page, then, rolling a
// copy of the model state forward on its own most likely prediction, the
// pages the next tokens resolve to from that successor, and so on for
// `lookahead` steps. Each candidate's score is the probability of the path
// to it; those under `min_confidence` are not fetched.
//
// The rollout is kept: its states depend only on the tokens along it, so
// when the next event is the token it predicted, the model state after that
// event is the rollout's first state, and the walk from there reuses the
// rest. A stream the model follows costs one new step per event, whatever
// the lookahead.
//
// Hybrid (beyond the paper): the model's confident candidates come first,
// and Linux's cluster readahead fills what is left of the fault's budget.
// When nothing is confident (cold maps, a new phase), that is a fallback to
// readahead; when the model knows a little, the spatial neighbours it does
// not name still come along. Readahead is told of every fault and hit, so
// its window is sized by how well prefetching is doing as a whole.
#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "prefetch/candidates.h"
#include "prefetch/policies.h"
#include "prefetch/vocabulary.h"
#include "prescient/retnet_kernel.h"

namespace prescient {

namespace {

class FarsightPrefetcher final : public Prefetcher {
 public:
  FarsightPrefetcher(const PrefetchOptions& options, std::shared_ptr<const RetNetWeights> weights, const Vocabulary& vocabulary)
      : options_(options),
        region_end_(RegionEnd(options)),
        weights_(std::move(weights)),
        kernel_(*weights_),
        tokens_(vocabulary, options.future_map_bytes),
        fallback_policy_(MakeReadaheadPrefetcher(options)) {
    kernel_.Reset(&state_);
    rollout_.reserve(16);  // the lookahead is at most 16: no allocation per event
    probs_.resize(kernel_.vocab());
  }

  std::string_view name() const override { return "farsight"; }
  uint64_t model_steps() const override { return model_steps_; }

  void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) override {
    const uint64_t page = fault.page_no;
    Consume(page);
    fallback_.clear();
    if (options_.hybrid) fallback_policy_->on_fault(fault, &fallback_);
    const size_t first = out->size();
    const size_t predicted = AppendPredictions(page, out);
    if (!options_.hybrid) return;
    if (predicted == 0 && !fallback_.empty()) ++stats_.fallbacks;
    for (uint64_t p : fallback_) {
      if (BudgetFull(*out, first)) break;
      stats_.fallback_pages += AppendNew(out, first, p);
    }
  }

  // The first touch of a prefetched page enters the history as a fault
  // would, or the ordinals would skip every page prefetching got right.
  // Predicting from it keeps the prefetches a lookahead ahead of a stream
  // that no longer faults.
  void on_prefetch_hit(uint64_t page, std::vector<uint64_t>* out) override {
    Consume(page);
    if (options_.hybrid) fallback_policy_->on_prefetch_hit(page, &fallback_);
    fallback_.clear();
    AppendPredictions(page, out);
  }

  nlohmann::json stats() const override {
    const FutureMaps& maps = tokens_.maps();
    return {{"future_map_bytes", maps.footprint_bytes()},
            {"future_map_chunks_spilled", maps.chunks_spilled()},
            {"future_map_chunks_refetched", maps.chunks_refetched()},
            {"vocabulary", tokens_.vocabulary().ToJson()},
            {"events", stats_.events},
            {"ordinal_hits", stats_.ordinal_hits},
            {"delta_hits", stats_.delta_hits},
            {"model_top1_hits", stats_.top1_hits},
            {"predicted_pages", stats_.predicted_pages},
            {"fallbacks", stats_.fallbacks},
            {"fallback_pages", stats_.fallback_pages},
            {"model_steps", model_steps_},
            {"model_parameters", weights_->parameter_count()}};
  }

 private:
  struct Stats {
    uint64_t events = 0, ordinal_hits = 0, delta_hits = 0, top1_hits = 0, predicted_pages = 0, fallbacks = 0, fallback_pages = 0;
  };
  struct Candidate {
    uint64_t page;
    float score;
  };

  // One step of the last rollout: the token taken, and the model's state and
  // next-token distribution after it.
  struct Rolled {
    int token;
    RetNetState state;
    std::array<float, kRetNetMaxVocab> probs;
  };

  // Advances the maps and the model by one event.
  void Consume(uint64_t page) {
    const Vocabulary& v = tokens_.vocabulary();
    int token = v.other();
    if (has_last_) token = tokens_.Tokenize(last_page_, page);
    if (has_last_ && token == predicted_token_) ++stats_.top1_hits;
    if (token < v.map_ordinals) ++stats_.ordinal_hits;
    if (v.is_delta(token)) ++stats_.delta_hits;
    ++stats_.events;
    if (options_.reuse_rollout && !rollout_.empty() && rollout_.front().token == token) {
      state_ = rollout_.front().state;
      std::copy_n(rollout_.front().probs.begin(), kernel_.vocab(), probs_.begin());
      rollout_.erase(rollout_.begin());
    } else {
      kernel_.Step(&state_, token, probs_.data());
      ++model_steps_;
      rollout_.clear();
    }
    predicted_token_ = Argmax(probs_.data(), kernel_.vocab());
    last_page_ = page;
    has_last_ = true;
  }

  // Walks `lookahead` steps down the most likely path from `page`, scoring
  // every known successor along it by the probability of reaching it.
  // Returns how many pages it appended.
  size_t AppendPredictions(uint64_t page, std::vector<uint64_t>* out) {
    candidates_.clear();
    const float* p = probs_.data();
    float reach = 1.0f;  // probability of the path to `at`
    uint64_t at = page;
    const int named = tokens_.vocabulary().other();  // tokens that name a page
    for (int depth = 0; depth < options_.lookahead; ++depth) {
      int best = -1;
      std::optional<uint64_t> best_page;
      for (int t = 0; t < named; ++t) {
        std::optional<uint64_t> next = tokens_.Resolve(at, t);
        if (!next) continue;
        const float score = reach * p[t];
        if (score >= options_.min_confidence) candidates_.push_back({*next, score});
        if (best < 0 || p[t] > p[best]) best = t, best_page = next;
      }
      if (best < 0) break;
      reach *= p[best];
      if (reach < options_.min_confidence || depth + 1 == options_.lookahead) break;
      p = RollTo(static_cast<size_t>(depth), best);
      at = *best_page;
    }
    std::stable_sort(candidates_.begin(), candidates_.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    const size_t first = out->size();
    for (const Candidate& c : candidates_) {
      if (BudgetFull(*out, first)) break;
      if (c.page == page || c.page >= region_end_) continue;
      AppendNew(out, first, c.page);
    }
    stats_.predicted_pages += out->size() - first;
    return out->size() - first;
  }

  // Whether this event's pages, out[first..], fill its budget.
  bool BudgetFull(const std::vector<uint64_t>& out, size_t first) const { return out.size() - first >= options_.max_pages; }
  // Appends `page` unless this event already asked for it; says whether it did.
  static bool AppendNew(std::vector<uint64_t>* out, size_t first, uint64_t page) {
    if (std::find(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(), page) != out->end()) return false;
    out->push_back(page);
    return true;
  }

  // The distribution after taking `token` at `depth` of the rollout, from
  // the rollout kept when it took the same token there, else computed (and
  // the rollout beyond `depth` dropped).
  const float* RollTo(size_t depth, int token) {
    if (options_.reuse_rollout && depth < rollout_.size() && rollout_[depth].token == token) return rollout_[depth].probs.data();
    rollout_.resize(depth + 1);
    Rolled& r = rollout_[depth];
    r.token = token;
    r.state = depth == 0 ? state_ : rollout_[depth - 1].state;
    kernel_.Step(&r.state, token, r.probs.data());
    ++model_steps_;
    return r.probs.data();
  }

  const PrefetchOptions options_;
  const uint64_t region_end_;
  std::shared_ptr<const RetNetWeights> weights_;
  RetNetKernel kernel_;
  RetNetState state_;
  std::vector<float> probs_;
  Tokenizer tokens_;
  std::unique_ptr<Prefetcher> fallback_policy_;  // readahead, for the hybrid
  std::vector<uint64_t> fallback_;                // its pages for this event
  std::vector<Candidate> candidates_;
  std::vector<Rolled> rollout_;  // from state_: at most lookahead - 1 steps
  uint64_t last_page_ = 0;
  bool has_last_ = false;
  int predicted_token_ = -1;
  uint64_t model_steps_ = 0;
  Stats stats_;
};

}  // namespace

std::unique_ptr<Prefetcher> MakeFarsightPrefetcher(const PrefetchOptions& options, Status* status) {
  if (options.model_path.empty()) {
    *status = Status::InvalidArgument("the farsight policy needs a model: pass --model FILE (train one with `prescient train`)");
    return nullptr;
  }
  if (options.lookahead < 1 || options.lookahead > 16) {
    *status = Status::InvalidArgument(fmt::format("farsight lookahead {} must be 1 to 16", options.lookahead));
    return nullptr;
  }
  auto weights = std::make_shared<RetNetWeights>();
  Vocabulary vocabulary;
  Status st = LoadFarsightModel(options.model_path, weights.get(), &vocabulary);
  if (!st.ok()) {
    *status = st;
    return nullptr;
  }
  return std::make_unique<FarsightPrefetcher>(options, std::move(weights), vocabulary);
}

}  // namespace prescient
