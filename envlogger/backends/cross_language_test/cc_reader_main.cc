// cc_reader_main: reads the dataset that py_writer.py (Python) wrote and
// checks every value in C++, through RiegeliDatasetReader and the typed
// decoder (typed_codec.h), with Python ints as GMP mpz_class.
//
//   cc_reader_main --trajectories_dir=DIR [--num_steps=100]
//
// The expected values are computed here from the formulas documented in
// py_writer.py, not read from anything Python produced. Exit status: 0 and
// one summary line on stdout when everything matches; 1 and a message on
// stderr naming the step, the field, the expected and the actual value at
// the first mismatch (or read error); 2 for bad arguments.

#include <gmpxx.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "envlogger/backends/cc/riegeli_dataset_reader.h"
#include "envlogger/base/status.h"
#include "envlogger/converters/typed_codec.h"

namespace envlogger {
namespace {

// Must match BIGINT in py_writer.py.
const char kBigint[] = "123456789012345678901234567890";

template <typename T>
const char* TypeName() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  if constexpr (std::is_same_v<T, double>) return "float64";
  if constexpr (std::is_same_v<T, int32_t>) return "int32";
  if constexpr (std::is_same_v<T, int64_t>) return "int64";
  if constexpr (std::is_same_v<T, uint32_t>) return "uint32";
  if constexpr (std::is_same_v<T, uint64_t>) return "uint64";
  if constexpr (std::is_same_v<T, bool>) return "bool";
  if constexpr (std::is_same_v<T, std::string>) return "string";
  if constexpr (std::is_same_v<T, Bytes>) return "bytes";
  if constexpr (std::is_same_v<T, mpz_class>) return "mpz";
  if constexpr (std::is_same_v<T, int8_t>) return "int8";
  if constexpr (std::is_same_v<T, int16_t>) return "int16";
  if constexpr (std::is_same_v<T, uint8_t>) return "uint8";
  if constexpr (std::is_same_v<T, uint16_t>) return "uint16";
  return "?";
}

template <typename T>
void PrintScalar(std::ostream& out, const T& value) {
  if constexpr (std::is_same_v<T, mpz_class>) {
    out << value.get_str();
  } else if constexpr (std::is_same_v<T, Bytes>) {
    out << value.value.size() << " bytes";
  } else if constexpr (std::is_same_v<T, std::string>) {
    out << '"' << value << '"';
  } else if constexpr (std::is_same_v<T, bool>) {
    out << (value ? "true" : "false");
  } else if constexpr (std::is_integral_v<T>) {
    out << static_cast<int64_t>(value);  // int8/uint8 as numbers, not chars.
  } else {
    out.precision(17);
    out << value;
  }
}

// "int32 97", "float32 array shape [1] [3]", "mpz 123...".
template <typename T>
std::string Describe(const T& value) {
  std::ostringstream out;
  if constexpr (IsArray<T>::value) {
    using E = typename IsArray<T>::Element;
    out << TypeName<E>() << " array shape [";
    for (size_t i = 0; i < value.shape.size(); ++i) out << (i ? ", " : "") << value.shape[i];
    out << "] [";
    for (size_t i = 0; i < value.values.size() && i < 8; ++i) {
      if (i) out << ", ";
      PrintScalar(out, value.values[i]);
    }
    out << (value.values.size() > 8 ? ", ...]" : "]");
  } else {
    out << TypeName<T>() << ' ';
    PrintScalar(out, value);
  }
  return out.str();
}

std::string DescribeKind(DataKind kind) {
  switch (kind) {
    case DataKind::kNone:
      return "empty Data (None)";
    case DataKind::kDatum:
      return "a datum";
    case DataKind::kArray:
      return "an array";
    case DataKind::kTuple:
      return "a tuple";
    case DataKind::kDict:
      return "a dict";
  }
  return "an unknown kind";
}

// Compares values against their expectations; remembers the first mismatch.
// Every check is skipped once one has failed, so the first message is the
// one reported.
class Checker {
 public:
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  int64_t bigints_checked() const { return bigints_checked_; }

  void Fail(const std::string& where, const std::string& message) {
    if (!failed()) error_ = where + ": " + message;
  }

  // `view` must be Data of `kind` with `size` elements (entries for a dict).
  bool ExpectShape(const envlogger::StatusOr<DataView>& view, const std::string& where,
                   DataKind kind, size_t size) {
    if (!Found(view, where)) return false;
    if (view->kind() != kind) {
      Fail(where, "expected " + DescribeKind(kind) + ", got " + DescribeKind(view->kind()));
      return false;
    }
    const envlogger::StatusOr<size_t> actual = view->size();
    if (!actual.ok()) {
      Fail(where, actual.status().ToString());
      return false;
    }
    if (*actual != size) {
      Fail(where, "expected " + std::to_string(size) + " elements, got " + std::to_string(*actual));
      return false;
    }
    return true;
  }

  // `view` must be a datum decoding to a T equal to `expected` (a scalar or
  // an Array<...>).
  template <typename T>
  void Expect(const envlogger::StatusOr<DataView>& view, const std::string& where,
              const T& expected) {
    if (!Found(view, where)) return;
    if (view->kind() != DataKind::kDatum) {
      Fail(where, "expected " + Describe(expected) + ", got " + DescribeKind(view->kind()));
      return;
    }
    const envlogger::StatusOr<std::optional<BasicType>> value = view->datum();
    if (!value.ok()) {
      Fail(where, "cannot decode: " + value.status().ToString());
      return;
    }
    if (!value->has_value()) {
      Fail(where, "expected " + Describe(expected) + ", got a datum without values");
      return;
    }
    const T* actual = std::get_if<T>(&**value);
    if (actual == nullptr) {
      const std::string got = std::visit([](const auto& v) { return Describe(v); }, **value);
      Fail(where, "expected " + Describe(expected) + ", got " + got);
      return;
    }
    if (!(*actual == expected)) {
      Fail(where, "expected " + Describe(expected) + ", got " + Describe(*actual));
      return;
    }
    if constexpr (std::is_same_v<T, mpz_class>) ++bigints_checked_;
  }

 private:
  bool Found(const envlogger::StatusOr<DataView>& view, const std::string& where) {
    if (failed()) return false;
    if (!view.ok()) {
      Fail(where, view.status().ToString());
      return false;
    }
    return true;
  }

  std::string error_;
  int64_t bigints_checked_ = 0;
};

void CheckMetadata(const std::optional<std::string>& metadata, Checker& checker) {
  const std::string where = "dataset metadata";
  if (!metadata.has_value()) {
    checker.Fail(where, "missing (metadata.riegeli has no readable record)");
    return;
  }
  const envlogger::StatusOr<DataView> root = DataView::Parse(*metadata);
  if (!checker.ExpectShape(root, where, DataKind::kDict, 2)) return;
  const envlogger::StatusOr<DataView> my_data = (*root)["my_data"];
  if (checker.ExpectShape(my_data, where + "['my_data']", DataKind::kArray, 3)) {
    for (int64_t i = 0; i < 3; ++i) {
      checker.Expect((*my_data)[i], where + "['my_data'][" + std::to_string(i) + "]",
                     mpz_class(i + 1));
    }
  }
  const envlogger::StatusOr<DataView> bigints = (*root)["bigints"];
  if (checker.ExpectShape(bigints, where + "['bigints']", DataKind::kArray, 2)) {
    const mpz_class two_to_200 = mpz_class(1) << 200;
    checker.Expect((*bigints)[0], where + "['bigints'][0]", two_to_200);
    checker.Expect((*bigints)[1], where + "['bigints'][1]", mpz_class(-two_to_200));
  }
}

void CheckStep(int64_t i, std::string_view record, Checker& checker) {
  const std::string where = "step " + std::to_string(i);
  const envlogger::StatusOr<DataView> step = DataView::Parse(record);
  // (timestep, action, custom_data); timestep = (step_type, reward, discount, observation).
  if (!checker.ExpectShape(step, where, DataKind::kTuple, 3)) return;
  const envlogger::StatusOr<DataView> timestep = (*step)[0];
  if (checker.ExpectShape(timestep, where + ": timestep", DataKind::kTuple, 4)) {
    // dm_env.StepType is a Python int: a bigint on the wire. FIRST = 0, MID = 1.
    checker.Expect((*timestep)[0], where + ": timestep.step_type", mpz_class(i == 0 ? 0 : 1));
    checker.Expect((*timestep)[1], where + ": timestep.reward", static_cast<double>(i) / 100.0);
    checker.Expect((*timestep)[2], where + ": timestep.discount", 0.99);
    checker.Expect((*timestep)[3], where + ": timestep.observation",
                   Array<float>{{1}, {static_cast<float>(i)}});
  }
  checker.Expect((*step)[1], where + ": action", static_cast<int32_t>(100 - i));

  const envlogger::StatusOr<DataView> custom = (*step)[2];
  if (checker.ExpectShape(custom, where + ": custom_data", DataKind::kDict, 3)) {
    const mpz_class bigint = mpz_class(kBigint) * (i + 1);
    checker.Expect((*custom)["bigint"], where + ": custom_data['bigint']", bigint);
    checker.Expect((*custom)["negative_bigint"], where + ": custom_data['negative_bigint']",
                   mpz_class(-bigint));
    const mpz_class power_of_two = -(mpz_class(1) << (63 + i));
    checker.Expect((*custom)["power_of_two"], where + ": custom_data['power_of_two']",
                   power_of_two);
  }
}

void CheckEpisodes(RiegeliDatasetReader& reader, int64_t num_steps, Checker& checker) {
  if (checker.failed()) return;
  if (reader.NumEpisodes() != 1) {
    checker.Fail("episodes", "expected 1 episode, got " + std::to_string(reader.NumEpisodes()));
    return;
  }
  const envlogger::StatusOr<EpisodeInfo> episode = reader.Episode(0, /*include_metadata=*/true);
  if (!episode.ok()) {
    checker.Fail("episode 0", episode.status().ToString());
    return;
  }
  if (episode->start != 0 || episode->num_steps != num_steps) {
    checker.Fail("episode 0", "expected start 0 and " + std::to_string(num_steps) +
                                  " steps, got start " + std::to_string(episode->start) + " and " +
                                  std::to_string(episode->num_steps) + " steps");
    return;
  }
  const std::string where = "episode 0 metadata";
  if (!episode->metadata.has_value()) {
    checker.Fail(where, "missing");
    return;
  }
  const envlogger::StatusOr<DataView> metadata = DataView::Parse(*episode->metadata);
  if (!checker.ExpectShape(metadata, where, DataKind::kDict, 2)) return;
  checker.Expect((*metadata)["num_steps"], where + "['num_steps']",
                 mpz_class(std::to_string(num_steps)));
  const mpz_class n(std::to_string(num_steps));
  const mpz_class sum = mpz_class(kBigint) * n * (n + 1) / 2;
  checker.Expect((*metadata)["bigint_sum"], where + "['bigint_sum']", sum);
}

bool ParseFlag(std::string_view arg, std::string_view name, std::string* value) {
  const std::string prefix = "--" + std::string(name) + "=";
  if (arg.substr(0, prefix.size()) != prefix) return false;
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

int Usage(const char* argv0, const std::string& problem) {
  std::cerr << "cc_reader: " << problem << "\nusage: " << argv0
            << " --trajectories_dir=DIR [--num_steps=N (default 100)]\n";
  return 2;
}

int Main(int argc, char** argv) {
  std::string trajectories_dir;
  int64_t num_steps = 100;
  for (int a = 1; a < argc; ++a) {
    std::string value;
    if (ParseFlag(argv[a], "trajectories_dir", &value)) {
      trajectories_dir = value;
    } else if (ParseFlag(argv[a], "num_steps", &value)) {
      char* end = nullptr;
      num_steps = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || num_steps < 1) {
        return Usage(argv[0], "--num_steps must be a positive integer, got \"" + value + "\"");
      }
    } else {
      return Usage(argv[0], std::string("unknown argument \"") + argv[a] + "\"");
    }
  }
  if (trajectories_dir.empty()) return Usage(argv[0], "--trajectories_dir is required");

  RiegeliDatasetReader reader;
  const envlogger::Status status = reader.Init(trajectories_dir);
  if (!status.ok()) {
    std::cerr << "cc_reader: cannot read " << trajectories_dir << ": " << status.ToString() << "\n";
    return 1;
  }
  Checker checker;
  CheckMetadata(reader.Metadata(), checker);
  if (!checker.failed() && reader.NumSteps() != num_steps) {
    checker.Fail("steps", "expected " + std::to_string(num_steps) + " steps, got " +
                              std::to_string(reader.NumSteps()));
  }
  for (int64_t i = 0; i < num_steps && !checker.failed(); ++i) {
    std::string_view record;
    const envlogger::Status read = reader.ReadStep(i, &record);
    if (!read.ok()) {
      checker.Fail("step " + std::to_string(i), "cannot read: " + read.ToString());
      break;
    }
    CheckStep(i, record, checker);
  }
  CheckEpisodes(reader, num_steps, checker);
  if (checker.failed()) {
    std::cerr << "cc_reader: MISMATCH in " << trajectories_dir << ": " << checker.error() << "\n";
    return 1;
  }
  std::cout << "cc_reader: OK: " << num_steps << " steps in 1 episode match, "
            << checker.bigints_checked() << " GMP bigints compared exactly, in " << trajectories_dir
            << std::endl;
  return 0;
}

}  // namespace
}  // namespace envlogger

int main(int argc, char** argv) { return envlogger::Main(argc, argv); }
