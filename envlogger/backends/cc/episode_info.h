// What a dataset reader knows about one episode.

#ifndef ENVLOGGER_BACKENDS_CC_EPISODE_INFO_H_
#define ENVLOGGER_BACKENDS_CC_EPISODE_INFO_H_

#include <cstdint>
#include <optional>
#include <string>

namespace envlogger {

struct EpisodeInfo {
  // Index of the episode's first step. Shard readers report it relative to
  // the shard, dataset readers relative to the whole dataset.
  int64_t start = 0;
  // Number of steps: up to the next episode's start, or to the shard's last
  // indexed step for the shard's final episode.
  int64_t num_steps = 0;
  // The episode's metadata record (a serialized envlogger.Data), present only
  // when it was asked for and the episode has one.
  std::optional<std::string> metadata;
};

}  // namespace envlogger

#endif  // ENVLOGGER_BACKENDS_CC_EPISODE_INFO_H_
