#include "config/generated_certificate.hpp"

namespace postern::config {
namespace {

bool inside(const std::filesystem::path& path, const std::filesystem::path& dir) {
  const auto p = path.lexically_normal();
  const auto d = dir.lexically_normal();
  auto pi = p.begin();
  for (auto di = d.begin(); di != d.end(); ++di, ++pi) {
    if (di->empty()) continue;  // trailing separator
    if (pi == p.end() || *pi != *di) return false;
  }
  return pi != p.end();
}

}  // namespace

bool certificate_generated_on_start(const Config& config) {
  std::error_code ec;
  if (std::filesystem::exists(config.tls.cert, ec) || std::filesystem::exists(config.tls.key, ec)) {
    return false;
  }
  if (config.embedded) return true;
  return inside(config.tls.cert, config.data_dir) && inside(config.tls.key, config.data_dir);
}

}  // namespace postern::config
