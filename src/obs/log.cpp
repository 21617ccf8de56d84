#include "obs/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <memory>

namespace postern::obs {
namespace {

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_logger_mt("postern");
    // Local time with its UTC offset (ISO 8601): the line says when it
    // happened without knowing the server's time zone.
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    return l;
  }();
  return instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warning:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void init_logging(std::string_view target, Level min_level) {
  if (target == "syslog") {
    auto sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("postern", LOG_PID, LOG_MAIL, true);
    auto l = std::make_shared<spdlog::logger>("postern-syslog", sink);
    l->set_pattern("%v");
    logger() = l;
  }
  logger()->set_level(to_spdlog(min_level));
  logger()->flush_on(spdlog::level::info);
}

void log_line(Level level, std::string_view event, std::string_view fields) {
  logger()->log(to_spdlog(level), "{} {}", event, fields);
}

std::string sanitize(std::string_view text, std::size_t max_len) {
  std::string out;
  out.reserve(std::min(text.size(), max_len));
  for (char c : text) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

}  // namespace postern::obs
