// Writes a network in the DIMACS min-cost flow format, so that another solver
// (a test, or LEMON's lemon::readDimacsMin) can check our optimum.
#pragma once

#include <string>

#include "mcf/network.h"

namespace mcf {

// Returns false if the file cannot be written.
bool WriteDimacs(const FlowNetwork& network, const std::string& path);

}  // namespace mcf
