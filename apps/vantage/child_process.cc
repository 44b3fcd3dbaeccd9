#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

extern char** environ;

namespace vantage::cli {

using service::ServiceInfo;

bool sleep_unless_stopped(const ServiceInfo& info, std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (info.stop->load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return !info.stop->load();
}

int run_bounded(const std::vector<std::string>& argv, const std::string& log,
                std::chrono::seconds limit, const std::atomic<bool>& stop, const std::string& cwd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (stop.load() || std::chrono::steady_clock::now() > until) {
      kill(pid, SIGTERM);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void run_supervised(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra,
                    const std::string& log, const ServiceInfo& info) {
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) env_text.emplace_back(*e);
  env_text.insert(env_text.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto backoff = std::chrono::seconds(2);
  while (!info.stop->load()) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      std::cerr << "vantage up: cannot start " << argv[3] << ": " << std::strerror(rc) << "\n";
      return;
    }
    auto started = std::chrono::steady_clock::now();
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (info.stop->load()) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 150 && waitpid(pid, &status, WNOHANG) == 0; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (kill(pid, 0) == 0) {
          kill(pid, SIGKILL);
          waitpid(pid, &status, 0);
        }
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (std::chrono::steady_clock::now() - started > std::chrono::minutes(5)) {
      backoff = std::chrono::seconds(2);
    }
    std::cerr << "vantage up: " << argv[3] << " exited (status " << status << "); restarting in "
              << backoff.count() << " s, see " << log << "\n";
    if (!sleep_unless_stopped(info, backoff)) return;
    backoff = std::min<std::chrono::seconds>(backoff * 2, std::chrono::seconds(60));
  }
}

}  // namespace vantage::cli
