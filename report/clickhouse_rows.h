// Records as ClickHouse rows (TabSeparated lines, clickhouse_tsv.h), one row
// per record, in the tables of clickhouse_schema.h. Pure: no server, no I/O;
// the rows go to a sink. Names, argv and paths are untrusted bytes: ClickHouse
// stores the text the CSV holds for them (a byte that is not part of
// well-formed UTF-8 is the four characters \xHH).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "clickhouse_schema.h"
#include "clickhouse_tsv.h"
#include "names.h"
#include "probe.pb.h"
#include "record_visitor.h"

namespace probe {

// Which file of which run on which host: the first columns of every row.
struct ChFileIdentity {
  std::string host;    // --host-name, else the header's hostname (as CSV text)
  std::string run_id;  // the header's run_id; for a file without one, see IdentityOf
  uint64_t sequence = 0;
  int64_t wall_clock_offset_ns = 0;  // monotonic ns -> wall clock, for `time`
};

// The identity of the file whose header is h. A file written before run ids
// existed gets "header-" and a hash of its whole header record (its start
// time, agent pid and host make it unique), so it too loads only once.
ChFileIdentity IdentityOf(const v1::Header& h, const std::string& host_override);

// Where rows go: Row(t) gives the buffer one line is appended to,
// RowDone(t) says the line is complete.
class ChRowSink {
 public:
  virtual ~ChRowSink() = default;
  virtual std::string& Row(ChTable t) = 0;
  virtual void RowDone(ChTable t) = 0;
};

// Feeds every record kind that has a table to the sink. Histogram records
// are cumulative per (pid, syscall or kind): each is a row, and the file's
// last one of each key, the one to merge across files and hosts, has
// final = 1 (rows of a key are held until the next one of the key or
// Finish, so memory grows with the keys, not the records). ThreadName
// records name wakers (waker_comm) and are not rows themselves; the header
// and how the file ended make the runs row (AppendRunsRow).
class ClickHouseRows : public RecordVisitor {
 public:
  // names is fed by the caller before each record reaches this visitor.
  ClickHouseRows(ChFileIdentity id, const NameTable& names, ChRowSink& sink)
      : id_(std::move(id)), names_(names), sink_(sink) {}

  void OnStats(const v1::Stats& s) override;
  void OnTrailer(const v1::Trailer& t) override;
  void OnSnapshot(const v1::ProcessSnapshot& s) override;
  void OnProcess(const v1::ProcessLifetime& p) override;
  void OnSyscall(const v1::SyscallCall& c) override;
  void OnSyscallHistogram(const v1::SyscallHistogram& h) override;
  void OnWakeup(const v1::Wakeup& w) override;
  void OnSchedHistogram(const v1::SchedHistogram& h) override;
  void OnShimCall(const v1::ShimCall& c) override;
  void OnMarker(const v1::Marker& m) override;
  // Writes the held histograms as final; call once, after the last record.
  void Finish();

 private:
  class Row;
  void WaitWaker(Row& row, const v1::Waker& w);
  void SyscallHistogramRow(const v1::SyscallHistogram& h, bool final);
  void SchedHistogramRow(const v1::SchedHistogram& h, bool final);
  void CounterRows(uint64_t time_ns, bool final,
                   const google::protobuf::RepeatedPtrField<v1::KindCounters>& counters,
                   uint64_t bytes_written);

  ChFileIdentity id_;
  const NameTable& names_;
  ChRowSink& sink_;
  std::map<std::pair<int32_t, int>, v1::SyscallHistogram> syscall_histograms_;
  std::map<std::pair<int32_t, int>, v1::SchedHistogram> sched_histograms_;
  TsvCells cells_;  // of the row being made
};

// How a file's reading ended, for its runs row.
struct ChFileEnd {
  uint64_t end_time_ns = 0;  // the trailer's time, else the last record's
  std::string stop_reason;   // the trailer's; "" when it has none
  bool cut = false;          // no trailer: cut off, killed, or corrupt at the end
  std::string read_status;   // "end", "truncated", "corrupt", "io_error"
  uint64_t records = 0;      // whole records read
  uint64_t file_bytes = 0;   // bytes of those records
  std::string file;          // the path given
  uint64_t loaded_at_s = 0;  // wall clock of the load
};

// Appends the runs row (one line) of the file with header h.
void AppendRunsRow(const v1::Header& h, const ChFileIdentity& id, const ChFileEnd& end,
                   std::string* out);

// Seconds of wall clock of a monotonic ns time, clamped to a DateTime.
uint32_t WallSeconds(uint64_t mono_ns, int64_t wall_clock_offset_ns);

}  // namespace probe
