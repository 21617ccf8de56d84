// Running as the service user (SPEC §1.11): started as root, postern binds its
// ports, opens the control socket and reads its keys, then gives up root for
// good with setgroups/setgid/setuid, the order that leaves no supplementary
// group or saved ID behind (setuid as root sets real, effective and saved
// IDs; glibc applies it to every thread of the process).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace postern::service {

struct ServiceUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The user `user` names in the passwd database; nothing when it is unknown.
std::optional<ServiceUser> find_user(const std::string& name);

// Which user the server should become, given the configured `user` (empty
// when the key is absent) and whether the process runs as root now.
// Returns the name, or empty when no change of user is wanted (not root:
// only root can change user; systemd may have started us as the user).
struct UserChoice {
  std::string name;  // empty: stay as we are
};
UserChoice choose_service_user(const std::string& configured, bool running_as_root);

// The default service user when postern starts as root without `user`.
inline constexpr const char* kDefaultServiceUser = "postern";

// Hands `path` and, recursively, everything under it to the user (the data
// directory: spool, mail, control socket), so a tree created by an earlier
// root run keeps working. Returns an error text or nothing.
std::optional<std::string> chown_tree(const std::filesystem::path& path, const ServiceUser& user);

// Drops root: supplementary groups, group, user, then checks that root
// cannot be regained. Returns an error text or nothing.
std::optional<std::string> drop_privileges(const ServiceUser& user);

}  // namespace postern::service
