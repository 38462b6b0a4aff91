// HighwayHash-64, implemented from the published algorithm
// (github.com/google/highwayhash), portable C++ with no SIMD requirement.

#ifndef ENVLOGGER_RIEGELI_HIGHWAYHASH_H_
#define ENVLOGGER_RIEGELI_HIGHWAYHASH_H_

#include <cstdint>
#include <string_view>

namespace envlogger {
namespace riegeli {

using HighwayHashKey = uint64_t[4];

// The 64-bit HighwayHash of `data` under `key`.
uint64_t HighwayHash64(const HighwayHashKey key, std::string_view data);

// The hash Riegeli uses everywhere: key "Riegeli/records\n" twice.
uint64_t RiegeliHash(std::string_view data);

}  // namespace riegeli
}  // namespace envlogger

#endif  // ENVLOGGER_RIEGELI_HIGHWAYHASH_H_
