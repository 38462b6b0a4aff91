#include "envlogger/backends/cc/dataset_filesystem.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

#include "envlogger/backends/cc/riegeli_dataset_io_constants.h"

namespace envlogger {

using envlogger::ErrnoToStatus;
using envlogger::OkStatus;
using envlogger::Status;
using envlogger::StatusOr;

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

bool PathExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

Status CreateDirectories(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return OkStatus();
    return envlogger::FailedPreconditionError("Not a directory: " + path);
  }
  const size_t slash = path.find_last_of('/', path.size() > 1 ? path.size() - 2 : 0);
  if (slash != std::string::npos && slash > 0) {
    RETURN_IF_ERROR(CreateDirectories(path.substr(0, slash)));
  }
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, "Creating directory " + path);
  }
  return OkStatus();
}

Status CheckWritableDirectory(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return ErrnoToStatus(errno, "Accessing directory " + path);
  if (!S_ISDIR(info.st_mode)) return envlogger::FailedPreconditionError("Not a directory: " + path);
  if (::access(path.c_str(), W_OK | X_OK) != 0)
    return ErrnoToStatus(errno, "Writing to directory " + path);
  return OkStatus();
}

std::string ShardDirectoryName(std::chrono::system_clock::time_point time) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  int64_t seconds = micros / 1000000;
  int64_t fraction = micros % 1000000;
  if (fraction < 0) {  // Times before 1970 round toward the earlier second.
    fraction += 1000000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc;
  gmtime_r(&t, &utc);
  char buffer[64];
  const size_t n = std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%S", &utc);
  std::snprintf(buffer + n, sizeof(buffer) - n, "%06lld", static_cast<long long>(fraction));
  return buffer;
}

StatusOr<std::string> CreateShardDirectory(const std::string& data_dir,
                                           std::chrono::system_clock::time_point time) {
  // Bounded so that a file system refusing with EEXIST forever cannot hang us.
  constexpr int kMaxAttempts = 1000000;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const std::string path =
        JoinPath(data_dir, ShardDirectoryName(time + std::chrono::microseconds(attempt)));
    if (::mkdir(path.c_str(), 0777) == 0) return path;
    if (errno != EEXIST) return ErrnoToStatus(errno, "Creating shard directory " + path);
  }
  return envlogger::ResourceExhaustedError("No free shard directory name in " + data_dir);
}

StatusOr<std::vector<std::string>> ListShardDirectories(const std::string& data_dir) {
  DIR* dir = ::opendir(data_dir.c_str());
  if (dir == nullptr) return ErrnoToStatus(errno, "Listing data directory " + data_dir);
  std::vector<std::string> shards;
  while (const struct dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = JoinPath(data_dir, name);
    struct stat info;
    if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) continue;
    if (PathExists(JoinPath(path, internal::kStepOffsetsFilename))) shards.push_back(path);
  }
  ::closedir(dir);
  std::sort(shards.begin(), shards.end());
  return shards;
}

}  // namespace envlogger
