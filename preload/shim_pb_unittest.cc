// The shim's hand-written encoder (shim_pb.c) against libprotobuf: every
// record the shim writes itself (Header, ShimCall, Marker, Stats, Trailer),
// with edge values, encodes to the bytes SerializeToString gives for the same
// message, framed as the agent frames it. Where the encodings may
// legitimately differ (the header's repeated target_pids, see below), the
// shim's bytes parse back to the same message.
#include "shim_pb.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>

#include "frame.h"
#include "probe.pb.h"

namespace probe {
namespace {

std::string Framed(const v1::Record& r) {
  std::string body;
  EXPECT_TRUE(r.SerializeToString(&body));
  std::string out;
  AppendFrameHeader(&out, body.size());
  return out + body;
}

template <class Encode>
std::string Shim(Encode encode) {
  uint8_t buf[8192];
  struct pb out = {buf, buf + sizeof(buf), 0};
  encode(&out);
  EXPECT_FALSE(out.overflow);
  return std::string(reinterpret_cast<const char*>(buf), size_t(out.p - buf));
}

// The record in the shim's bytes (one frame).
v1::Record Parsed(const std::string& bytes) {
  Frame f = ParseFrameHeader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  EXPECT_EQ(f.status, FrameStatus::kOk);
  EXPECT_EQ(f.header_bytes + f.body_bytes, bytes.size());
  v1::Record r;
  EXPECT_TRUE(r.ParseFromString(bytes.substr(f.header_bytes)));
  return r;
}

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) out += std::string{d[c >> 4], d[c & 15], ' '};
  return out;
}

#define EXPECT_SAME_BYTES(shim, want) EXPECT_EQ(Hex(shim), Hex(want))

const std::string kInvalidUtf8("\xc3\x28\xff\xfe\x80", 5);

struct Ids {
  int32_t pid, tid;
};
// Pids and tids the kernel gives are 1..4194304; the extremes of int32 too.
constexpr Ids kIds[] = {
    {1, 1}, {4194304, 4194303}, {INT32_MAX, INT32_MAX}, {0, 0}, {-1, INT32_MIN}};

TEST(ShimBytes, ShimCallsAreLibprotobufsBytes) {
  struct Call {
    uint16_t function;
    uint64_t start, end;
    int64_t result;
    int32_t fd;
    uint16_t error;
  };
  for (const Call& c : {
           Call{0, 0, 0, 0, 0, 0},  // every field at its default: left out
           Call{1, 1, 2, -1, -1, 4},
           Call{12, UINT64_MAX, UINT64_MAX, INT64_MIN, INT32_MIN, 65535},
           Call{5, 1000, 999, INT64_MAX, INT32_MAX, 1},  // end before start: the duration wraps
           Call{7, 1ull << 63, (1ull << 63) + 12345, 64, 3, 0},
       }) {
    for (const Ids& id : kIds) {
      probe_shm_event e{};
      e.start = c.start;
      e.end = c.end;
      e.value = c.result;
      e.fd = c.fd;
      e.kind = c.function;
      e.aux = c.error;
      v1::Record want;
      v1::ShimCall* w = want.mutable_shim_call();
      w->set_pid(id.pid);
      w->set_tid(id.tid);
      w->set_function(static_cast<v1::ShimFunction>(c.function));
      w->set_entry_ns(c.start);
      w->set_duration_ns(c.end - c.start);
      w->set_result(c.result);
      w->set_fd(c.fd);
      w->set_error(c.error);
      EXPECT_SAME_BYTES(Shim([&](pb* o) { shim_pb_event(o, &e, id.pid, id.tid, "", 0); }),
                        Framed(want))
          << w->ShortDebugString();
    }
  }
}

TEST(ShimBytes, MarkersAreLibprotobufsBytes) {
  const std::string longest(PROBE_SHM_NAME_TEXT, '\xff');  // the region holds no longer
  for (const std::string& name : {std::string(), std::string("BEFORE_SELECT"), kInvalidUtf8,
                                  std::string("a\0b", 3), longest}) {
    for (uint16_t type : {0, 1, 2}) {
      for (const Ids& id : kIds) {
        probe_shm_event e{};
        e.kind = uint16_t(PROBE_EV_MARKER + type);
        e.start = type == 2 ? UINT64_MAX : type * 1000;
        e.value = type == 1 ? INT64_MIN : -5;
        e.end = type == 1 ? uint64_t(INT64_MAX) + 1 : UINT64_MAX;  // arg1: INT64_MIN, -1
        v1::Record want;
        v1::Marker* m = want.mutable_marker();
        m->set_pid(id.pid);
        m->set_tid(id.tid);
        m->set_type(static_cast<v1::MarkerType>(type));
        m->set_name(name);
        m->set_time_ns(e.start);
        m->set_arg0(e.value);
        m->set_arg1(int64_t(e.end));
        EXPECT_SAME_BYTES(Shim([&](pb* o) {
                            shim_pb_event(o, &e, id.pid, id.tid, name.data(),
                                          uint32_t(name.size()));
                          }),
                          Framed(want))
            << m->ShortDebugString();
      }
    }
  }
}

shim_pb_process Counters(int32_t pid, uint64_t v, const char* functions) {
  return {pid, v, v, v, v, v, v, uint32_t(v), v, functions};
}

void ExpectCounters(v1::ShimProcess* p, int32_t pid, uint64_t v, const char* functions) {
  p->set_pid(pid);
  p->set_produced(v);
  p->set_written(v);
  p->set_sampled_out(v);
  p->set_lost_buffer_full(v);
  p->set_lost_no_buffer(v);
  p->set_lost_write(v);
  p->set_sample_every(uint32_t(v));
  p->set_min_duration_ns(v);
  p->set_functions(functions);
  p->set_finished(true);
}

TEST(ShimBytes, StatsAndTrailerAreLibprotobufsBytes) {
  for (uint64_t v : {uint64_t(0), uint64_t(1), uint64_t(UINT32_MAX), UINT64_MAX}) {
    for (const char* functions : {"", "select,poll,epoll_wait"}) {
      for (const Ids& id : kIds) {
        const shim_pb_process c = Counters(id.pid, v, functions);
        v1::Record stats;
        stats.mutable_stats()->set_time_ns(v);
        ExpectCounters(stats.mutable_stats()->add_shim(), id.pid, v, functions);
        EXPECT_SAME_BYTES(Shim([&](pb* o) { shim_pb_stats(o, v, &c); }), Framed(stats))
            << stats.ShortDebugString();
        v1::Record trailer;
        trailer.mutable_trailer()->set_time_ns(v);
        trailer.mutable_trailer()->set_stop_reason("process exit");
        ExpectCounters(trailer.mutable_trailer()->add_shim(), id.pid, v, functions);
        EXPECT_SAME_BYTES(Shim([&](pb* o) { shim_pb_trailer(o, v, &c); }), Framed(trailer))
            << trailer.ShortDebugString();
      }
    }
  }
}

// The header's target_pids is a repeated int32: libprotobuf writes it packed
// (one length-delimited field), the shim as one plain varint field. Parsers
// must accept both forms (the protobuf encoding spec, "Packed Repeated
// Fields"), so the shim's header is checked byte for byte with no target and
// by parsing it back with one.
TEST(ShimBytes, HeaderIsLibprotobufsBytesOrParsesToTheSameMessage) {
  const std::string cmdline = "python3\0-c\0\0" + kInvalidUtf8 + std::string(3000, 'x');
  struct Case {
    const char* hostname;
    const char* release;
    int64_t offset;
    size_t cmdline_len;  // of cmdline; an argument cut short has no NUL
  };
  for (const Case& c : {
           Case{"host", "6.1.0-28-amd64", 1733000000000000000, 14},
           Case{nullptr, nullptr, -1, 0},  // uname failed, clocks apart the other way
           Case{"", "", INT64_MIN, cmdline.size()},
           Case{"\xff\xfe", "r", INT64_MAX, 9},
       }) {
    for (const Ids& id : kIds) {
      const struct shim_pb_header h {
        c.hostname, c.release, c.offset, cmdline.data(), c.cmdline_len, id.pid, 123, UINT64_MAX
      };
      v1::Record want;
      v1::Header* w = want.mutable_header();
      w->set_format_version(1);
      if (c.hostname) {
        w->set_hostname(c.hostname);
        w->set_kernel_release(c.release);
      }
      w->set_clock_id(1);
      w->set_wall_clock_offset_ns(c.offset);
      for (size_t i = 0; i < c.cmdline_len;) {
        const size_t len = cmdline.substr(i, c.cmdline_len - i).find('\0');
        const std::string arg = cmdline.substr(i, std::min(len, c.cmdline_len - i));
        w->add_command_line(arg);
        i += arg.size() + 1;
      }
      w->set_follow_children(true);
      w->add_events("shim");
      w->set_start_time_ns(h.start_ns);
      w->set_ready_time_ns(h.ready_ns);
      w->set_agent_version("probe-preload");
      w->set_shim_only(true);
      const std::string shim = Shim([&](pb* o) { shim_pb_header(o, &h); });
      if (id.pid == 0) {  // no target: nothing repeated to pack
        EXPECT_SAME_BYTES(shim, Framed(want)) << w->ShortDebugString();
        continue;
      }
      w->add_target_pids(id.pid);
      const v1::Record got = Parsed(shim);
      EXPECT_EQ(got.SerializeAsString(), want.SerializeAsString())
          << "shim: " << got.ShortDebugString() << "\nwant: " << w->ShortDebugString();
    }
  }
}

// The caller (shim_file.c) then writes what fits and encodes this one again.
TEST(ShimBytes, ARecordThatDoesNotFitSaysSo) {
  uint8_t buf[20];
  struct pb out = {buf, buf + sizeof(buf), 0};
  probe_shm_event e{};
  e.kind = PROBE_EV_MARKER;
  e.start = UINT64_MAX;
  shim_pb_event(&out, &e, 1, 1, "a name too long for 20 bytes", 28);
  EXPECT_TRUE(out.overflow);
}

}  // namespace
}  // namespace probe
