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
// Hybrid fallback (beyond the paper): when no candidate is confident
// enough, Leap's candidates are used instead. Leap is fed every event, so
// its trend is warm when needed.
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
        leap_(MakeLeapPrefetcher(options)) {
    kernel_.Reset(&state_);
    probs_.resize(kernel_.vocab());
  }

  std::string_view name() const override { return "farsight"; }

  void on_fault(const FaultEvent& fault, std::vector<uint64_t>* out) override {
    const uint64_t page = fault.page_no;
    Consume(page);
    fallback_.clear();
    if (options_.hybrid) leap_->on_fault(fault, &fallback_);

    if (AppendPredictions(page, out) == 0 && options_.hybrid) {
      ++stats_.fallbacks;
      out->insert(out->end(), fallback_.begin(), fallback_.end());
    }
  }

  // The first touch of a prefetched page enters the history as a fault
  // would, or the ordinals would skip every page prefetching got right.
  // Predicting from it keeps the prefetches a lookahead ahead of a stream
  // that no longer faults.
  void on_prefetch_hit(uint64_t page, std::vector<uint64_t>* out) override {
    Consume(page);
    if (options_.hybrid) leap_->on_prefetch_hit(page, &fallback_);
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
            {"model_parameters", weights_->parameter_count()}};
  }

 private:
  struct Stats {
    uint64_t events = 0, ordinal_hits = 0, delta_hits = 0, top1_hits = 0, predicted_pages = 0, fallbacks = 0;
  };
  struct Candidate {
    uint64_t page;
    float score;
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
    kernel_.Step(&state_, token, probs_.data());
    predicted_token_ = Argmax(probs_.data(), kernel_.vocab());
    last_page_ = page;
    has_last_ = true;
  }

  // Walks `lookahead` steps down the most likely path from `page`, scoring
  // every known successor along it by the probability of reaching it.
  // Returns how many pages it appended.
  size_t AppendPredictions(uint64_t page, std::vector<uint64_t>* out) {
    candidates_.clear();
    RetNetState state = state_;
    std::array<float, kRetNetMaxVocab> rolled{};
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
      kernel_.Step(&state, best, rolled.data());
      p = rolled.data();
      at = *best_page;
    }
    std::stable_sort(candidates_.begin(), candidates_.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    const size_t first = out->size();
    for (const Candidate& c : candidates_) {
      if (out->size() - first >= options_.max_pages) break;
      if (c.page == page || c.page >= region_end_) continue;
      if (std::find(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(), c.page) != out->end()) continue;
      out->push_back(c.page);
    }
    stats_.predicted_pages += out->size() - first;
    return out->size() - first;
  }

  const PrefetchOptions options_;
  const uint64_t region_end_;
  std::shared_ptr<const RetNetWeights> weights_;
  RetNetKernel kernel_;
  RetNetState state_;
  std::vector<float> probs_;
  Tokenizer tokens_;
  std::unique_ptr<Prefetcher> leap_;
  std::vector<uint64_t> fallback_;
  std::vector<Candidate> candidates_;
  uint64_t last_page_ = 0;
  bool has_last_ = false;
  int predicted_token_ = -1;
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
