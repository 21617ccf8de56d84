// Takes messages out of the spool and delivers them, asynchronously from the
// SMTP sessions. Local recipients go into Maildirs; remote recipients are
// left for the outbound courier (later issue) and stay queued.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "spool/spool.hpp"

namespace postern::delivery {

struct RunnerSettings {
  std::filesystem::path mail_root;          // <data_dir>/mail
  std::vector<std::string> local_domains;   // lowercased
  std::size_t workers = 2;                  // delivery threads
};

class QueueRunner {
 public:
  QueueRunner(spool::Spool& spool, RunnerSettings settings);
  ~QueueRunner();
  // Resumes every queued message and subscribes to new commits.
  void start();
  // Finishes the delivery in progress, then returns.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace postern::delivery
