// Table lists as users write them on command lines, e.g. for
// `prescient memnode --pool-create`:
//   "user=100000x16,item=5000x32"   named tables, ROWSxDIM each
//   "26*100000x16"                  26 tables t0..t25 of 100000 rows, dim 16
// Both forms may be mixed in one comma-separated list.
#pragma once

#include <string>
#include <vector>

#include "prescient/embedding_store.h"
#include "prescient/status.h"

namespace prescient {

Status ParseTableSpecs(const std::string& text, std::vector<TableSpec>* tables);
// The first form above, which ParseTableSpecs reads back.
std::string FormatTableSpecs(const std::vector<TableSpec>& tables);

}  // namespace prescient
