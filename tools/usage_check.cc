#include "usage_check.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace prescient::cli {
namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// ", did you mean X?" when one of `known` is close to `word`.
std::string Closest(const std::string& word, const std::vector<std::string>& known) {
  const std::string* best = nullptr;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& k : known) {
    const size_t d = EditDistance(word, k);
    if (d < best_distance) best = &k, best_distance = d;
  }
  return best != nullptr ? fmt::format("; did you mean {}?", *best) : "";
}

std::string CommandPath(const CLI::App* cmd) {
  std::string path;
  for (const CLI::App* c = cmd; c != nullptr; c = c->get_parent()) {
    const std::string name = c->get_parent() == nullptr ? "prescient" : c->get_name();
    path = name + (path.empty() ? "" : " ") + path;
  }
  return path;
}

std::vector<std::string> FlagNames(const CLI::App* cmd) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : cmd->get_options()) {
    if (opt->get_group().empty()) continue;  // hidden
    for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : opt->get_snames()) names.push_back("-" + s);
  }
  return names;
}

}  // namespace

std::string FindUnknownWord(const CLI::App& app, int argc, char** argv) {
  const CLI::App* cmd = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    // A forwarded command is checked by the binary it forwards to.
    if (cmd->get_allow_extras()) return "";
    if (word.size() > 1 && word[0] == '-') {
      const std::string name = word.substr(0, word.find('='));
      const CLI::Option* opt = cmd->get_option_no_throw(name);
      if (opt == nullptr) {
        return fmt::format("{}: unknown option '{}'{} (`{} --help` lists them)", CommandPath(cmd), name, Closest(name, FlagNames(cmd)),
                           CommandPath(cmd));
      }
      if (opt->get_items_expected_max() == 0 || name.size() != word.size()) continue;
      // Its values: the next word whatever it looks like ("--seed -1"), and
      // for a list every further word up to the next flag.
      if (opt->get_items_expected_min() > 0 && i + 1 < argc) ++i;
      if (opt->get_items_expected_max() > 1) {
        while (i + 1 < argc && !(argv[i + 1][0] == '-' && argv[i + 1][1] != '\0')) ++i;
      }
      continue;
    }
    std::vector<std::string> commands;
    for (const CLI::App* sub : cmd->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == word) {
        cmd = sub;
        commands.clear();
        break;
      }
      commands.push_back(sub->get_name());
    }
    if (cmd->get_name() == word) continue;
    if (!commands.empty())
      return fmt::format("{}: unknown command '{}'{} (commands: {})", CommandPath(cmd), word, Closest(word, commands), fmt::join(commands, ", "));
    // A positional word: for run and trace the program starts here, and
    // the rest is its own.
    return "";
  }
  return "";
}

}  // namespace prescient::cli
