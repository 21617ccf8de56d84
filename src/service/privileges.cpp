#include "service/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace postern::service {
namespace {

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

std::optional<ServiceUser> find_user(const std::string& name) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return ServiceUser{name, pw.pw_uid, pw.pw_gid};
}

UserChoice choose_service_user(const std::string& configured, bool running_as_root) {
  if (!running_as_root) return {};
  if (configured.empty()) return {kDefaultServiceUser};
  return {configured};
}

std::optional<std::string> chown_tree(const std::filesystem::path& path, const ServiceUser& user) {
  std::error_code ec;
  auto change = [&](const std::filesystem::path& p) -> std::optional<std::string> {
    // lchown: a symbolic link planted in the tree must not hand its target
    // to the service user.
    if (::lchown(p.c_str(), user.uid, user.gid) != 0)
      return errno_text(("chown " + p.string()).c_str());
    return std::nullopt;
  };
  if (auto err = change(path)) return err;
  std::filesystem::recursive_directory_iterator it(path, std::filesystem::directory_options::none,
                                                   ec);
  if (ec) return "cannot read " + path.string() + ": " + ec.message();
  for (; it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return "cannot read under " + path.string() + ": " + ec.message();
    if (auto err = change(it->path())) return err;
  }
  return std::nullopt;
}

std::optional<std::string> drop_privileges(const ServiceUser& user) {
  if (::setgroups(1, &user.gid) != 0) return errno_text("setgroups");
  if (::setgid(user.gid) != 0) return errno_text("setgid");
  if (::setuid(user.uid) != 0) return errno_text("setuid");
  if (user.uid != 0 && (::setuid(0) == 0 || ::geteuid() == 0)) {
    return "root could be regained after setuid; refusing to run";
  }
  return std::nullopt;
}

}  // namespace postern::service
