// Usage errors: CLI11's failures become one sentence that names the
// mistake, and exit status 2, for any command tree (cli/usage.hpp).
#include <gtest/gtest.h>

#include <sstream>

#include "cli/usage.hpp"

namespace postern::cli {
namespace {

struct Case {
  ParseFailure failure;
  std::string sentence;
};

TEST(Usage, ExplainTable) {
  const std::vector<std::string> actions = {"list", "show"};
  const std::vector<Case> cases = {
      {{"RequiredError", "A subcommand is required", "postern queue", actions, {"frob"}},
       "postern queue: unknown subcommand frob (expected one of: list, show)"},
      {{"RequiredError", "A subcommand is required", "postern queue", actions, {}},
       "postern queue: a subcommand is missing (expected one of: list, show)"},
      {{"RequiredError", "id is required", "postern queue show", {}, {}},
       "postern queue show: the id argument is missing"},
      {{"RequiredError", "--to is required", "postern send", {}, {}},
       "postern send: the option --to is missing"},
      {{"list", "The following argument was not expected: --frob", "postern queue list", {}, {}},
       "postern queue list: unknown option --frob"},
      {{"ExtrasError", "The following arguments were not expected: b c", "postern check", {}, {}},
       "postern check: unexpected argument b"},
      {{"ExtrasError", "x", "postern", {"serve"}, {"frob"}},
       "postern: unknown subcommand frob (expected one of: serve)"},
      {{"ArgumentMismatch", "--timeout: 1 required TEXT missing", "postern probe", {}, {}},
       "postern probe: the option --timeout needs a value"},
      {{"ArgumentMismatch", "id: At Most 1 required but received 2", "postern queue show", {}, {}},
       "postern queue show: too many id arguments (at most 1)"},
      {{"ValidationError", "--tls: x not in {auto,none}", "postern probe", {}, {}},
       "postern probe: invalid value for --tls: x not in {auto,none}"},
      {{"ExcludesError", "--ipv4 excludes --ipv6", "postern probe", {}, {}},
       "postern probe: --ipv4 and --ipv6 cannot be used together"},
      {{"RequiresError", "--password-stdin requires --user", "postern probe", {}, {}},
       "postern probe: --password-stdin needs --user"},
      {{"ExtrasError", "x", "postern queue", {"list"}, {"\x1b[2Jfrob"}},
       "postern queue: unknown subcommand ?[2Jfrob (expected one of: list)"},
  };
  for (const auto& c : cases) EXPECT_EQ(explain(c.failure), c.sentence) << c.failure.message;
}

// A small tree shaped like postern's, parsed for real.
class Tree {
 public:
  Tree() {
    app.name("postern");
    app.require_subcommand(1);
    auto* queue = app.add_subcommand("queue", "q");
    queue->require_subcommand(1);
    auto* show = queue->add_subcommand("show", "s");
    show->add_option("id", id)->required()->expected(1);
    queue->add_subcommand("list", "l")->add_flag("--json", json);
    auto* probe = app.add_subcommand("probe", "p");
    probe->add_option("target", target)->required();
    probe->add_option("--tls", tls)->check(CLI::IsMember({"auto", "none"}));
  }

  // Runs the parse; returns the status (-1: the command would run) and
  // what went to stderr.
  std::pair<int, std::string> run(std::vector<std::string> args) {
    args.insert(args.begin(), "postern");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    std::ostringstream err;
    auto* old = std::cerr.rdbuf(err.rdbuf());
    const auto status = parse_command_line(app, static_cast<int>(argv.size()), argv.data());
    std::cerr.rdbuf(old);
    return {status.value_or(-1), err.str()};
  }

  CLI::App app{"test"};
  std::string id, target, tls;
  bool json = false;
};

TEST(Usage, EveryMistakeExitsTwoWithASentence) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> mistakes = {
      {{"frob"}, "postern: unknown subcommand frob"},
      {{}, "postern: a subcommand is missing"},
      {{"queue"}, "postern queue: a subcommand is missing"},
      {{"queue", "frob"}, "postern queue: unknown subcommand frob"},
      {{"queue", "list", "--frob"}, "postern queue list: unknown option --frob"},
      {{"queue", "list", "extra"}, "postern queue list: unexpected argument extra"},
      {{"queue", "show"}, "postern queue show: the id argument is missing"},
      {{"probe"}, "postern probe: the target argument is missing"},
      {{"probe", "--tls", "x", "h"}, "postern probe: invalid value for --tls"},
      {{"probe", "h", "--tls"}, "postern probe: the option --tls needs a value"},
  };
  for (const auto& [args, sentence] : mistakes) {
    Tree t;
    const auto [status, err] = t.run(args);
    EXPECT_EQ(status, kUsageExitStatus) << sentence;
    EXPECT_TRUE(err.starts_with(sentence)) << "got: " << err << "wanted: " << sentence;
    EXPECT_EQ(err.find("Run with --help"), std::string::npos) << err;  // CLI11's own words
  }
}

TEST(Usage, ValidCommandLinesRun) {
  Tree t;
  EXPECT_EQ(t.run({"queue", "show", "ABC"}).first, -1);
  EXPECT_EQ(t.id, "ABC");
  Tree u;
  EXPECT_EQ(u.run({"queue", "--help"}).first, 0);
}

}  // namespace
}  // namespace postern::cli
