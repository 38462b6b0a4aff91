// Directory operations of a Riegeli dataset: creating the data directory and
// timestamped shard directories, and discovering shards when reading.
//
// A shard directory is named after its creation time in UTC,
// "%Y%m%dT%H%M%S" followed by six microsecond digits without a separator
// (21 characters, e.g. "20261124T095812923825"), so that names sort in
// creation order. Discovery lists the direct subdirectories of the data
// directory that contain step_offsets.riegeli, sorted by full path.

#ifndef ENVLOGGER_BACKENDS_CC_DATASET_FILESYSTEM_H_
#define ENVLOGGER_BACKENDS_CC_DATASET_FILESYSTEM_H_

#include <chrono>
#include <string>
#include <vector>

#include "envlogger/base/status.h"

namespace envlogger {

// "a/b" from ("a", "b"); no separator is doubled.
std::string JoinPath(const std::string& dir, const std::string& name);

// True if `path` names an existing file system entry of any kind.
bool PathExists(const std::string& path);

// Creates `path` and any missing parents (like `mkdir -p`). OK if it already
// is a directory; an error naming the offending path if some component is
// not a directory or cannot be created.
envlogger::Status CreateDirectories(const std::string& path);

// Returns OK if `path` is an existing directory this process may create
// files in; otherwise an error naming `path`.
envlogger::Status CheckWritableDirectory(const std::string& path);

// The shard directory name for `time` (UTC, microsecond precision).
std::string ShardDirectoryName(std::chrono::system_clock::time_point time);

// Creates a new shard directory in `data_dir` named after `time` and returns
// its path. If that name is taken (two shards within one microsecond), the
// next free microsecond is used instead, so names stay unique and ordered.
envlogger::StatusOr<std::string> CreateShardDirectory(const std::string& data_dir,
                                                      std::chrono::system_clock::time_point time);

// Full paths of the shard directories of `data_dir` (subdirectories holding
// step_offsets.riegeli), sorted. NOT_FOUND naming `data_dir` if it does not
// exist.
envlogger::StatusOr<std::vector<std::string>> ListShardDirectories(const std::string& data_dir);

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_DATASET_FILESYSTEM_H_
