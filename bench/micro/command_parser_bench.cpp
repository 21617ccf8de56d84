// Command-line parsing (smtp/command_parser.hpp): what the session does to
// every MAIL, RCPT and EHLO line before any policy runs.
#include <benchmark/benchmark.h>

#include <string_view>

#include "smtp/command_parser.hpp"

namespace postern::smtp {
namespace {

void BM_ParseMailFromWithParams(benchmark::State& state) {
  constexpr std::string_view line =
      "MAIL FROM:<sender.name+tag@mail.example.org> SIZE=4096 BODY=8BITMIME RET=HDRS "
      "ENVID=QQ314159";
  for (auto _ : state) {
    const CommandLine cmd = split_command(line);
    const auto path = split_path_argument(cmd.args, "FROM:");
    ParamError error;
    const auto params = parse_mail_params(path->params, error);
    benchmark::DoNotOptimize(cmd.verb.data());
    benchmark::DoNotOptimize(params->size);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_ParseMailFromWithParams);

void BM_ParseRcptTo(benchmark::State& state) {
  constexpr std::string_view line =
      "RCPT TO:<alice@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.com";
  for (auto _ : state) {
    const CommandLine cmd = split_command(line);
    const auto path = split_path_argument(cmd.args, "TO:");
    ParamError error;
    const auto params = parse_rcpt_params(path->params, error);
    benchmark::DoNotOptimize(cmd.verb.data());
    benchmark::DoNotOptimize(params->notify.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_ParseRcptTo);

void BM_ParseEhlo(benchmark::State& state) {
  constexpr std::string_view line = "EHLO client.example.org";
  for (auto _ : state) {
    const CommandLine cmd = split_command(line);
    const std::string_view domain = trim(cmd.args);
    benchmark::DoNotOptimize(cmd.verb.data());
    benchmark::DoNotOptimize(domain.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_ParseEhlo);

}  // namespace
}  // namespace postern::smtp
