// Constructors of the built-in prefetch policies; see registry.cc for names.
#pragma once

#include <memory>

#include "prescient/prefetcher.h"

namespace prescient {

std::unique_ptr<Prefetcher> MakeNonePrefetcher(const PrefetchOptions& options);
std::unique_ptr<Prefetcher> MakeReadaheadPrefetcher(const PrefetchOptions& options);
std::unique_ptr<Prefetcher> MakeVmaReadaheadPrefetcher(const PrefetchOptions& options);
std::unique_ptr<Prefetcher> MakeLeapPrefetcher(const PrefetchOptions& options);
std::unique_ptr<Prefetcher> MakeStridePrefetcher(const PrefetchOptions& options);
// Loads options.model_path; null with *status on failure.
std::unique_ptr<Prefetcher> MakeFarsightPrefetcher(const PrefetchOptions& options, Status* status);

}  // namespace prescient
