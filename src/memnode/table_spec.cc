#include "memnode/table_spec.h"

#include <cstdlib>

#include <fmt/format.h>

namespace prescient {
namespace {

bool ParseU64(const std::string& s, uint64_t* v) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19) return false;
  *v = std::strtoull(s.c_str(), nullptr, 10);
  return true;
}

// "ROWSxDIM"
bool ParseShape(const std::string& s, TableSpec* t) {
  size_t x = s.find('x');
  uint64_t rows = 0, dim = 0;
  if (x == std::string::npos || !ParseU64(s.substr(0, x), &rows) || !ParseU64(s.substr(x + 1), &dim) || dim > UINT32_MAX) return false;
  t->rows = rows;
  t->dim = static_cast<uint32_t>(dim);
  return true;
}

}  // namespace

Status ParseTableSpecs(const std::string& text, std::vector<TableSpec>* tables) {
  tables->clear();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    auto bad = [&] {
      return Status::InvalidArgument(fmt::format("table list \"{}\": \"{}\" is neither NAME=ROWSxDIM nor COUNT*ROWSxDIM", text, item));
    };
    TableSpec t;
    if (size_t eq = item.find('='); eq != std::string::npos) {
      t.name = item.substr(0, eq);
      if (t.name.empty() || !ParseShape(item.substr(eq + 1), &t)) return bad();
      tables->push_back(t);
    } else if (size_t star = item.find('*'); star != std::string::npos) {
      uint64_t count = 0;
      if (!ParseU64(item.substr(0, star), &count) || count == 0 || count > 4096 || !ParseShape(item.substr(star + 1), &t)) return bad();
      for (uint64_t i = 0; i < count; ++i) {
        t.name = fmt::format("t{}", tables->size());
        tables->push_back(t);
      }
    } else {
      return bad();
    }
  }
  return Status::Ok();
}

std::string FormatTableSpecs(const std::vector<TableSpec>& tables) {
  std::string out;
  for (const TableSpec& t : tables) out += fmt::format("{}{}={}x{}", out.empty() ? "" : ",", t.name, t.rows, t.dim);
  return out;
}

}  // namespace prescient
