#include "sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <unordered_map>
#include <queue>
#include <vector>

#include <fmt/format.h>

#include "prescient/backend.h"
#include "prescient/prefetcher.h"
#include "prescient/region.h"

namespace prescient {

namespace {

enum class SimState : uint8_t { kEmpty, kRemote, kInFlight, kLocal };

struct SimPage {
  SimState state = SimState::kEmpty;
  bool dirty = false;
  bool backed = false;      // far memory holds a copy
  bool prefetched = false;  // brought by prefetch and not touched yet
  bool active = false;      // on the active list
  bool left_dirty = false;  // was dirty when last evicted: a prefetch maps it writable (D101)
  uint32_t generation = 0;
  uint32_t evicted_at = 0;  // eviction clock when it last left
  double arrival_ns = 0;    // kInFlight: when it lands
};

// RegionOptions::evict_batch_pages: the evictor demotes and evicts this many
// queue entries at a time.
constexpr size_t kEvictBatch = 32;
constexpr uint64_t kNever = UINT64_MAX;     // a page never used again
constexpr uint64_t kAnyTime = UINT64_MAX - 1;  // evict whatever is needed furthest ahead

class Replay {
 public:
  Replay(const AccessStream& stream, const SimConfig& config, Prefetcher* prefetcher)
      : s_(stream), c_(config), prefetcher_(prefetcher), oracle_(prefetcher == nullptr), pages_(stream.pages()),
        clock_(stream.threads), local_clock_(stream.threads) {
    transfer_ns_ = c_.cost.transfer_ns();
    read_ns_ = c_.cost.far_read_us * 1000.0;
    fault_ns_ = c_.cost.fault_overhead_us * 1000.0;
    if (oracle_) PrecomputeNextUses();
    for (uint32_t p = 0; p < stream.pages(); ++p) dense_.emplace(stream.region_page[p], p);
  }

  SimResult Run() {
    std::vector<uint64_t> candidates;
    for (size_t i = 0; i < s_.records.size(); ++i) {
      const StreamRecord& r = s_.records[i];
      if (r.event == TraceEvent::kDiscard) {
        Discard(s_.discards[r.discard_index]);
        continue;
      }
      clock_[r.thread] += r.compute_ns;
      local_clock_[r.thread] += r.compute_ns + c_.cost.local_access_ns;
      ++result_.accesses;
      Access(r, candidates);
      if (oracle_) {
        next_use_of_page_[r.page] = next_use_[i];
        if (IsResident(r.page)) heap_.push({next_use_[i], r.page});
        OraclePrefetch(i);
      }
    }
    return Finish();
  }

 private:
  bool IsResident(uint32_t p) const { return pages_[p].state == SimState::kLocal || pages_[p].state == SimState::kInFlight; }

  // The runtime's budget rule (RegionCore::BudgetPages) and evictor margin.
  uint64_t Budget() const {
    uint64_t share = static_cast<uint64_t>(c_.local_fraction * static_cast<double>(peak_populated_));
    return std::max<uint64_t>(kMinLocalBytes / kPageSize, share);
  }
  static uint64_t Margin(uint64_t budget) { return std::max<uint64_t>(kEvictBatch, budget / 32); }

  void Access(const StreamRecord& r, std::vector<uint64_t>& candidates) {
    SimPage& pg = pages_[r.page];
    double& t = clock_[r.thread];
    bool write = r.write || r.event == TraceEvent::kFirstWrite;
    t += c_.cost.local_access_ns;  // every access, as in the all-local clock; faults add to it
    // The runtime maps a prefetched page as soon as it lands: touched after
    // that, it is an ordinary local page.
    if (pg.state == SimState::kInFlight && pg.arrival_ns <= t) pg.state = SimState::kLocal;
    switch (pg.state) {
      case SimState::kLocal:
        if (pg.prefetched) NotePrefetchUse(r.page, false, t);
        if (write && !pg.dirty) {  // a write-protect fault in the runtime
          ++result_.first_write_faults;
          t += fault_ns_;
          pg.dirty = true;
        }
        return;
      case SimState::kInFlight:  // a late prefetch: a shorter stall, not a demand fault
        t = std::max(t + fault_ns_, pg.arrival_ns);
        pg.state = SimState::kLocal;
        NotePrefetchUse(r.page, true, t);
        pg.dirty |= write;
        return;
      case SimState::kEmpty:
        ++result_.demand_faults;
        ++result_.zero_fills;
        t += fault_ns_;
        // A first touch faults with all memory local too (a minor fault).
        local_clock_[r.thread] += fault_ns_;
        BeginFetch(/*was_empty=*/true);
        MakeRoom();
        Install(r.page, write, /*backed=*/false);
        return;
      case SimState::kRemote: {
        ++result_.demand_faults;
        if (c_.fault_log) c_.fault_log->push_back(s_.region_page[r.page]);
        // The policy decides as the fault arrives; what its model computes
        // delays either the faulting thread or only the prefetches.
        const double inference = oracle_ ? 0.0 : Decide(r, candidates);
        if (c_.cost.sync_inference) t += inference;
        double issue = t + fault_ns_;
        t = Transfer(issue);
        ++result_.pages_read;
        BeginFetch(/*was_empty=*/false);
        MakeRoom();
        Install(r.page, write, /*backed=*/true);
        if (!oracle_) {
          IssueCandidates(candidates, issue + (c_.cost.sync_inference ? 0 : inference));
          MakeRoom();  // as the prefetch worker, once its pages are charged
        }
        return;
      }
    }
  }

  // The time the policy's model took for the decision just made: each step
  // it ran since the last one (classic policies run none).
  double InferenceNs() {
    const uint64_t steps = prefetcher_->model_steps();
    const double ns = static_cast<double>(steps - model_steps_) * c_.cost.inference_step_ns;
    model_steps_ = steps;
    return ns;
  }

  // Occupies the link for one page from `issue` on; returns when it lands.
  double Transfer(double issue) {
    double start = std::max(issue, link_free_ns_);
    link_free_ns_ = start + transfer_ns_;
    return link_free_ns_ + read_ns_;
  }

  // As RegionCore::BeginFetch: a fault charges its page before the handler
  // makes room, so the room it makes counts the page.
  void BeginFetch(bool was_empty) {
    ++charged_;
    if (!was_empty) return;
    ++populated_;
    peak_populated_ = std::max(peak_populated_, populated_);
  }

  // As RegionCore::Install, which runs once the handler has made room: a
  // demand refault within a budget's worth of evictions (counting those its
  // own fault caused) joins the active list; everything else starts inactive.
  void Install(uint32_t p, bool dirty, bool backed) {
    SimPage& pg = pages_[p];
    pg.state = SimState::kLocal;
    pg.dirty = dirty;
    pg.backed = backed;
    pg.prefetched = false;
    pg.active = backed && static_cast<uint32_t>(evictions_ - pg.evicted_at) < Budget();
    ++pg.generation;
    if (pg.active) {
      ++active_count_;
      active_.push_back({p, pg.generation});
    } else {
      inactive_.push_back({p, pg.generation});
    }
  }

  // Asks the policy about a demand fault; returns its inference time.
  double Decide(const StreamRecord& r, std::vector<uint64_t>& candidates) {
    candidates.clear();
    prefetcher_->on_fault({s_.region_page[r.page], static_cast<uint64_t>(clock_[r.thread]), r.thread, r.write}, &candidates);
    return InferenceNs();
  }

  void IssueCandidates(const std::vector<uint64_t>& candidates, double start) {
    for (uint64_t region_page : candidates) {
      auto it = dense_.find(region_page);
      if (it == dense_.end()) continue;  // never touched in the trace: nothing to fetch
      StartPrefetch(it->second, start);
    }
  }

  void StartPrefetch(uint32_t p, double issue) {
    SimPage& pg = pages_[p];
    if (pg.state != SimState::kRemote) return;  // as the runtime: only pages far memory holds
    pg.arrival_ns = Transfer(issue);
    pg.state = SimState::kInFlight;
    pg.prefetched = true;
    pg.dirty = c_.prefetch_writable_if_left_dirty && pg.left_dirty;
    ++pg.generation;
    ++charged_;
    ++result_.prefetch_issued;
    ++result_.pages_read;
    inactive_.push_back({p, pg.generation});
  }

  // A prefetched page's first touch, at time `now`: the policy learns of it
  // and may ask for more, which go out as a fault's candidates would.
  void NotePrefetchUse(uint32_t p, bool late, double now) {
    pages_[p].prefetched = false;
    ++result_.prefetch_used;
    if (late) ++result_.prefetch_late;
    if (!prefetcher_) return;
    hit_candidates_.clear();
    prefetcher_->on_prefetch_hit(s_.region_page[p], &hit_candidates_);
    const double inference = InferenceNs();
    if (hit_candidates_.empty()) return;
    IssueCandidates(hit_candidates_, now + inference);
    MakeRoom();
  }

  // As Evictor::MakeRoom and ChooseToMargin: the faulting thread chooses and
  // drops the victims before its page is installed (the runtime's background
  // thread only writes dirty ones back, D102). Only once the data outgrows
  // the budget; a charge over the budget can only happen then.
  void MakeRoom() {
    uint64_t budget = Budget(), margin = Margin(budget);
    if (charged_ + margin / 2 <= budget || !OutgrowsBudget()) return;
    while (charged_ + margin > Budget() && OutgrowsBudget()) {
      if ((oracle_ ? EvictFurthest(kAnyTime) : EvictBatch()) == 0) break;
    }
  }

  bool OutgrowsBudget() const { return populated_ > Budget(); }

  void Evict(uint32_t p) {
    SimPage& pg = pages_[p];
    if (oracle_ && next_use_of_page_[p] != kNever && (pg.dirty || pg.backed)) wanted_.push({next_use_of_page_[p], p});
    if (pg.dirty) {
      ++result_.pages_written;  // written back in the background, on the other direction of the link
      pg.backed = true;
    }
    pg.left_dirty = pg.dirty;
    pg.state = pg.backed ? SimState::kRemote : SimState::kEmpty;
    if (pg.state == SimState::kEmpty) --populated_;
    if (pg.active) --active_count_;
    pg.dirty = pg.prefetched = pg.active = false;
    pg.evicted_at = static_cast<uint32_t>(evictions_++);
    --charged_;
  }

  // Moves up to one batch of the oldest entries of `queue` into `out`.
  static void PopBatch(std::deque<std::pair<uint32_t, uint32_t>>* queue, std::vector<std::pair<uint32_t, uint32_t>>* out) {
    out->clear();
    while (out->size() < kEvictBatch && !queue->empty()) {
      out->push_back(queue->front());
      queue->pop_front();
    }
  }

  bool OnActiveList(uint32_t p, uint32_t gen) const { return IsResident(p) && pages_[p].generation == gen && pages_[p].active; }

  // As Evictor::Demote: the oldest active pages move to the inactive list, a
  // whole batch at a time, while the active list is over half the budget, or
  // to refill it.
  size_t Demote(size_t at_least) {
    size_t moved = 0;
    std::vector<std::pair<uint32_t, uint32_t>> batch;
    while (active_count_ > Budget() / 2 || moved < at_least) {
      PopBatch(&active_, &batch);
      if (batch.empty()) break;
      for (auto [p, gen] : batch) {
        if (!OnActiveList(p, gen)) continue;  // stale
        pages_[p].active = false;
        --active_count_;
        inactive_.push_back({p, gen});
        ++moved;
      }
    }
    return moved;
  }

  // As Evictor::Choose: evicts every live entry of the oldest batch on the
  // inactive list (skipping batches of stale entries). Returns how many.
  size_t EvictBatch() {
    Demote(0);
    std::vector<std::pair<uint32_t, uint32_t>> batch;
    std::vector<uint32_t> victims;
    while (victims.empty()) {
      PopBatch(&inactive_, &batch);
      if (batch.empty() && Demote(kEvictBatch) > 0) continue;
      if (batch.empty()) return 0;
      for (auto [p, gen] : batch) {
        if (IsResident(p) && pages_[p].generation == gen && !pages_[p].active) victims.push_back(p);
      }
    }
    for (uint32_t p : victims) Evict(p);
    return victims.size();
  }

  void Discard(const std::vector<uint32_t>& freed) {
    for (uint32_t p : freed) {
      SimPage& pg = pages_[p];
      if (IsResident(p)) --charged_;
      if (pg.state != SimState::kEmpty) --populated_;
      if (pg.active) --active_count_;
      pg.state = SimState::kEmpty;
      pg.dirty = pg.backed = pg.prefetched = pg.active = false;
      ++pg.generation;  // leaves stale FIFO and heap entries behind
    }
  }

  // --- The oracle.

  void PrecomputeNextUses() {
    next_use_.assign(s_.records.size(), kNever);
    next_use_of_page_.assign(s_.pages(), kNever);
    std::vector<uint64_t> upcoming(s_.pages(), kNever);
    for (size_t i = s_.records.size(); i-- > 0;) {
      const StreamRecord& r = s_.records[i];
      if (r.event == TraceEvent::kDiscard) continue;
      next_use_[i] = upcoming[r.page];
      upcoming[r.page] = i;
    }
    for (uint32_t p = 0; p < s_.pages(); ++p) next_use_of_page_[p] = upcoming[p];
  }

  // Evicts the resident page needed furthest ahead, if that is later than
  // `needed_at`. Heap entries are checked against the page's current next use.
  bool EvictFurthest(uint64_t needed_at) {
    while (!heap_.empty()) {
      auto [next, p] = heap_.top();
      if (!IsResident(p) || next_use_of_page_[p] != next) {
        heap_.pop();
        continue;
      }
      if (needed_at != kAnyTime && next != kNever && next <= needed_at) return false;
      heap_.pop();
      Evict(p);
      return true;
    }
    return false;
  }

  // Keeps the link busy with the remote pages the trace needs soonest (within
  // a lookahead), displacing only pages needed later than they are. Every
  // remote page got there by eviction, which queued it under its next use.
  void OraclePrefetch(size_t i) {
    // Fetching further ahead than a fraction of the cache only churns it.
    const size_t lookahead = std::max<uint64_t>(64, Budget() / 4);
    const double now = clock_[s_.records[i].thread];
    const double horizon = now + read_ns_ + 64 * transfer_ns_;
    while (!wanted_.empty() && link_free_ns_ < horizon) {
      auto [next, p] = wanted_.top();
      if (pages_[p].state != SimState::kRemote || next_use_of_page_[p] != next || next <= i) {
        wanted_.pop();  // stale: touched, freed or fetched since
        continue;
      }
      if (next > i + lookahead) break;
      uint64_t budget = Budget();
      if (charged_ + 1 > budget - Margin(budget) / 2 && !EvictFurthest(next)) break;
      wanted_.pop();
      StartPrefetch(p, now);
      heap_.push({next, p});
    }
  }

  SimResult Finish() {
    result_.policy = c_.policy;
    result_.local_pct = c_.local_fraction * 100.0;
    result_.sim_ns = *std::max_element(clock_.begin(), clock_.end());
    result_.local_ns = *std::max_element(local_clock_.begin(), local_clock_.end());
    result_.normalized_perf = result_.sim_ns > 0 ? result_.local_ns / result_.sim_ns : 1.0;
    result_.accuracy = result_.prefetch_issued ? static_cast<double>(result_.prefetch_used) / static_cast<double>(result_.prefetch_issued) : 0.0;
    result_.peak_footprint_pages = peak_populated_;
    result_.final_budget_pages = Budget();
    return result_;
  }

  const AccessStream& s_;
  const SimConfig& c_;
  Prefetcher* prefetcher_;
  bool oracle_;
  uint64_t model_steps_ = 0;  // the policy's model_steps() when last charged
  std::vector<SimPage> pages_;
  std::unordered_map<uint64_t, uint32_t> dense_;  // region page -> dense id, for policy candidates
  std::vector<double> clock_, local_clock_;
  std::vector<uint64_t> hit_candidates_;
  std::deque<std::pair<uint32_t, uint32_t>> inactive_, active_;  // (page, generation), oldest first
  uint64_t active_count_ = 0, evictions_ = 0;
  double transfer_ns_ = 0, read_ns_ = 0, fault_ns_ = 0, link_free_ns_ = 0;
  uint64_t charged_ = 0, populated_ = 0, peak_populated_ = 0;
  std::vector<uint64_t> next_use_, next_use_of_page_;
  std::priority_queue<std::pair<uint64_t, uint32_t>> heap_;  // resident pages by next use, furthest first
  std::priority_queue<std::pair<uint64_t, uint32_t>, std::vector<std::pair<uint64_t, uint32_t>>, std::greater<>> wanted_;  // remote, soonest first
  SimResult result_;
};

}  // namespace

nlohmann::json SimResult::ToJson() const {
  return {{"policy", policy},
          {"local_pct", local_pct},
          {"normalized_perf", normalized_perf},
          {"demand_faults", demand_faults},
          {"zero_fills", zero_fills},
          {"first_write_faults", first_write_faults},
          {"accuracy", accuracy},
          {"coverage", coverage},
          {"bytes_moved", bytes_moved()},
          {"prefetch_issued", prefetch_issued},
          {"prefetch_used", prefetch_used},
          {"prefetch_late", prefetch_late},
          {"accesses", accesses},
          {"sim_s", sim_ns / 1e9},
          {"all_local_s", local_ns / 1e9},
          {"peak_footprint_pages", peak_footprint_pages},
          {"budget_pages", final_budget_pages},
          {"replay_seconds", replay_seconds},
          {"policy_stats", policy_stats}};
}

Status Simulate(const AccessStream& stream, const SimConfig& config, SimResult* result) {
  if (!(config.local_fraction > 0 && config.local_fraction <= 1.0))
    return Status::InvalidArgument(fmt::format("local memory {}% must be above 0 and at most 100", config.local_fraction * 100));
  std::unique_ptr<Prefetcher> prefetcher;
  if (config.policy != "oracle") {
    PrefetchOptions options = config.prefetch;
    options.max_pages = config.max_prefetch_pages;
    options.region_pages = 0;  // region bounds are unknown to a trace; dense lookup filters
    Status st;
    prefetcher = MakePrefetcher(config.policy, options, &st);
    if (!prefetcher) return st;
  }
  auto start = std::chrono::steady_clock::now();
  Replay replay(stream, config, prefetcher.get());
  *result = replay.Run();
  result->replay_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (prefetcher) result->policy_stats = prefetcher->stats();
  // The Future Maps' size against the memory they describe, as runs report it.
  if (result->policy_stats.contains("future_map_bytes") && result->peak_footprint_pages > 0)
    result->policy_stats["future_map_fraction"] =
        result->policy_stats["future_map_bytes"].get<double>() / static_cast<double>(result->peak_footprint_pages * kPageSize);
  return Status::Ok();
}

}  // namespace prescient
