// The rule groups behind lint(), one function per concern. Internal to the
// config module.
#pragma once

#include <vector>

#include "config/config.hpp"

namespace postern::config {

void lint_listeners(const Config& config, std::vector<Problem>& out);
void lint_certificate(const Config& config, std::vector<Problem>& out);
void lint_relay(const Config& config, std::vector<Problem>& out);
void lint_storage(const Config& config, std::vector<Problem>& out);
void lint_identity(const Config& config, std::vector<Problem>& out);
void lint_delivery(const Config& config, std::vector<Problem>& out);
void lint_dovecot(const Config& config, std::vector<Problem>& out);
void lint_dkim(const Config& config, std::vector<Problem>& out);
void lint_limits(const Config& config, std::vector<Problem>& out);
void lint_inbound(const Config& config, std::vector<Problem>& out);

inline Problem error_at(std::string where, std::string message, std::string fix) {
  return {Problem::Severity::error, std::move(where), std::move(message), std::move(fix)};
}
inline Problem warning_at(std::string where, std::string message, std::string fix) {
  return {Problem::Severity::warning, std::move(where), std::move(message), std::move(fix)};
}

}  // namespace postern::config
