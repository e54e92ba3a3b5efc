#include "process_cpu.h"

namespace probe {

ProcessCpu CpuShown(const v1::ProcessLifetime& p) {
  if (!p.has_user_time_before_ns() || !p.has_system_time_before_ns())
    return {p.user_time_ns(), p.system_time_ns(), false};
  const uint64_t total = p.user_time_ns() + p.system_time_ns();
  const uint64_t before = p.user_time_before_ns() + p.system_time_before_ns();
  const uint64_t share = total > before ? total - before : 0;
  const uint64_t du =
      p.user_time_ns() > p.user_time_before_ns() ? p.user_time_ns() - p.user_time_before_ns() : 0;
  const uint64_t ds = p.system_time_ns() > p.system_time_before_ns()
                          ? p.system_time_ns() - p.system_time_before_ns()
                          : 0;
  const uint64_t user =
      du + ds == 0 ? 0 : static_cast<uint64_t>((unsigned __int128)share * du / (du + ds));
  return {user, share - user, true};
}

}  // namespace probe
