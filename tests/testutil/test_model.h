// Models for tests: RetNet weights that are random but well-formed, and a
// farsight model file made from them.
#pragma once

#include <cstdint>
#include <string>

#include "prefetch/vocabulary.h"
#include "prescient/retnet.h"

namespace prescient::testing {

// Every tensor random, gains near 1, so no term is trivially zero or one.
RetNetWeights RandomWeights(const RetNetConfig& config, uint64_t seed);

// A model file for the farsight policy over `vocabulary` (random weights),
// written once per process and removed at exit.
const std::string& TestModelPath();
// The vocabulary TestModelPath() uses: 4 map ordinals and steps of +1, -1, +2.
Vocabulary TestVocabulary();

}  // namespace prescient::testing
