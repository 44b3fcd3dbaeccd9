#pragma once
// A per-test temporary directory, removed on destruction. Tests only.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace vantage::enrich::testing {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("vantage-enrich-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(std::string_view name) const { return (path_ / name).string(); }

  // Writes `content` to a temporary name and renames it over `name`, as data updaters do,
  // so readers never see a half-written file.
  std::string write(std::string_view name, std::string_view content) const {
    std::string final_path = file(name);
    std::string tmp = final_path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    std::filesystem::rename(tmp, final_path);
    return final_path;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace vantage::enrich::testing
