// Reader robustness (issue "Hardening"): truncation at every byte of a small
// file and at random points of a large one, and a table of corruptions in
// the style of leveldb's log tests. Each case asserts the status, the
// offset, the records returned before it, and whether reading goes on, as
// FORMAT.md documents.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "format.h"
#include "record_file.h"
#include "record_reader.h"

namespace probe {
namespace {

std::string Varint(uint64_t v) {
  std::string s;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v) b |= 0x80;
    s.push_back(static_cast<char>(b));
  } while (v);
  return s;
}

std::string Frame(const std::string& body) {
  return std::string(1, static_cast<char>(format::kRecordTag)) + Varint(body.size()) + body;
}

// What one full read of a file gave.
struct ReadResult {
  std::vector<v1::Record> records;
  ReadStatus status = ReadStatus::kIoError;
  uint64_t offset = 0;
  std::string reason;
};

class RecordCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/probe_corrupt_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/t.ptrace";
  }
  void TearDown() override { (void)!system(("rm -rf " + dir_).c_str()); }

  // Header, varied records (every common kind, empty and long strings,
  // lengths needing 1- and 2-byte varints), trailer.
  static std::vector<v1::Record> SmallRecords() {
    std::vector<v1::Record> out;
    v1::Record r;
    r.mutable_header()->set_format_version(format::kFormatVersion);
    r.mutable_header()->set_hostname("host");
    r.mutable_header()->add_events("process");
    out.push_back(r);
    for (int i = 0; i < 18; ++i) {
      r.Clear();
      switch (i % 6) {
        case 0:
          r.mutable_process()->set_pid(100 + i);
          r.mutable_process()->set_comm("proc" + std::to_string(i));
          r.mutable_process()->add_argv(std::string(i * 15, 'x'));  // up to 255: 2-byte lengths
          break;
        case 1:
          r.mutable_syscall()->set_pid(7);
          r.mutable_syscall()->set_tid(8 + i);
          r.mutable_syscall()->set_duration_ns(uint64_t(1) << (i + 20));
          break;
        case 2:
          r.mutable_stats()->set_time_ns(i);
          r.mutable_stats()->add_counters()->set_produced(i * 1000);
          break;
        case 3:
          r.mutable_thread_name()->set_tid(i);
          r.mutable_thread_name()->set_comm("");
          break;
        case 4:
          r.mutable_snapshot()->set_pid(i);
          r.mutable_snapshot()->set_comm(std::string(200, 'c'));
          break;
        case 5:
          r.mutable_marker()->set_name("m" + std::to_string(i));
          break;
      }
      out.push_back(r);
    }
    r.Clear();
    r.mutable_trailer()->set_stop_reason("signal");
    r.mutable_trailer()->add_counters()->set_written(18);
    out.push_back(r);
    return out;
  }

  void WriteRecords(const std::vector<v1::Record>& records) {
    std::string err;
    auto w = CreateRecordFile(path_, true, &err);
    ASSERT_TRUE(w) << err;
    for (const auto& r : records) ASSERT_TRUE(w->Append(r));
    ASSERT_TRUE(w->Flush());
  }

  void WriteBytes(const std::string& bytes) {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f << bytes;
  }

  std::string ReadBytes() {
    std::ifstream f(path_, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  ReadResult ReadAll() {
    ReadResult res;
    std::string err;
    auto r = RecordReader::Open(path_, &err);
    EXPECT_TRUE(r) << err;
    if (!r) return res;
    v1::Record rec;
    while ((res.status = r->Next(&rec)) == ReadStatus::kRecord) res.records.push_back(rec);
    res.offset = r->offset();
    res.reason = r->reason();
    return res;
  }

  // Serialized records and the file offset just past each one.
  static void Layout(const std::vector<v1::Record>& records, std::vector<std::string>* bodies,
                     std::vector<uint64_t>* ends) {
    uint64_t off = 0;
    for (const auto& r : records) {
      bodies->push_back(r.SerializeAsString());
      off += Frame(bodies->back()).size();
      ends->push_back(off);
    }
  }

  // Checks one cut: exactly the whole records before it, equal to what was
  // written, and kEnd at a record boundary, kTruncated inside a record
  // (kNotRecordFile inside the first: the header).
  void CheckCut(const ReadResult& res, uint64_t cut, const std::vector<std::string>& bodies,
                const std::vector<uint64_t>& ends, bool compare_all) {
    size_t whole = std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin();
    ASSERT_EQ(res.records.size(), whole) << "cut at " << cut;
    bool boundary = cut == 0 || (whole > 0 && ends[whole - 1] == cut);
    ASSERT_EQ(res.status, boundary ? ReadStatus::kEnd
                          : whole  ? ReadStatus::kTruncated
                                   : ReadStatus::kNotRecordFile)
        << "cut at " << cut << ": " << res.reason;
    ASSERT_EQ(res.offset, whole ? ends[whole - 1] : 0) << "cut at " << cut;
    if (!boundary && whole) {
      EXPECT_NE(res.reason.find("at offset " + std::to_string(res.offset)), std::string::npos)
          << res.reason;
    }
    for (size_t i = compare_all ? 0 : (whole ? whole - 1 : 0); i < whole; ++i)
      ASSERT_EQ(res.records[i].SerializeAsString(), bodies[i]) << "record " << i << " cut " << cut;
    // "No trailer" (a clean end whose last record is not a trailer) is told
    // apart from "truncated" by the status, and from a finished file by the
    // last record.
    bool finished = whole == ends.size();
    if (whole > 0) {
      EXPECT_EQ(res.records.back().has_trailer(), finished) << "cut at " << cut;
    }
  }

  std::string dir_, path_;
};

TEST_F(RecordCorruptionTest, SmallFileTruncatedAtEveryByte) {
  auto records = SmallRecords();
  ASSERT_EQ(records.size(), 20u);
  WriteRecords(records);
  const std::string full = ReadBytes();
  std::vector<std::string> bodies;
  std::vector<uint64_t> ends;
  Layout(records, &bodies, &ends);
  ASSERT_EQ(ends.back(), full.size()) << "the writer's framing is the format's";
  for (uint64_t cut = 0; cut <= full.size(); ++cut) {
    WriteBytes(full.substr(0, cut));
    ReadResult res = ReadAll();
    CheckCut(res, cut, bodies, ends, /*compare_all=*/true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_F(RecordCorruptionTest, LargeFileTruncatedAtRandomOffsets) {
  std::vector<v1::Record> records;
  v1::Record r;
  r.mutable_header()->set_format_version(format::kFormatVersion);
  records.push_back(r);
  std::mt19937_64 rng(20261123);
  for (int i = 0; i < 50000; ++i) {
    r.Clear();
    auto* s = r.mutable_syscall();
    s->set_pid(1000 + i % 7);
    s->set_tid(int32_t(rng() % 100000));
    s->set_start_time_ns(rng());
    s->set_duration_ns(rng() % (uint64_t(1) << (rng() % 40)));
    if (i % 10 == 0) r.mutable_thread_name()->set_comm(std::string(rng() % 300, 'n'));
    records.push_back(r);
  }
  r.Clear();
  r.mutable_trailer()->set_stop_reason("duration");
  records.push_back(r);
  WriteRecords(records);
  std::vector<std::string> bodies;
  std::vector<uint64_t> ends;
  Layout(records, &bodies, &ends);
  const uint64_t size = ends.back();
  ASSERT_EQ(ReadBytes().size(), size);
  // 200 cuts, some forced onto record boundaries, cut from the largest down
  // so one file is shortened in place.
  std::vector<uint64_t> cuts;
  for (int i = 0; i < 200; ++i)
    cuts.push_back(i % 10 == 0 ? ends[rng() % ends.size()] : rng() % (size + 1));
  std::sort(cuts.rbegin(), cuts.rend());
  for (size_t i = 0; i < cuts.size(); ++i) {
    ASSERT_EQ(truncate(path_.c_str(), off_t(cuts[i])), 0);
    ReadResult res = ReadAll();
    CheckCut(res, cuts[i], bodies, ends, /*compare_all=*/i % 20 == 0);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// --- The corruption table. Three records A B C; the damage is in B unless
// said otherwise, so A is always returned first.

class RecordCorruptionTableTest : public RecordCorruptionTest {
 protected:
  void SetUp() override {
    RecordCorruptionTest::SetUp();
    a_.mutable_header()->set_format_version(format::kFormatVersion);
    b_.mutable_process()->set_pid(42);
    b_.mutable_process()->set_comm("victim");
    c_.mutable_trailer()->set_stop_reason("signal");
    fa_ = Frame(a_.SerializeAsString());
    fb_ = Frame(b_.SerializeAsString());
    fc_ = Frame(c_.SerializeAsString());
  }
  v1::Record a_, b_, c_;
  std::string fa_, fb_, fc_;
};

TEST_F(RecordCorruptionTableTest, Intact) {
  WriteBytes(fa_ + fb_ + fc_);
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kEnd);
  ASSERT_EQ(res.records.size(), 3u);
  EXPECT_EQ(res.offset, fa_.size() + fb_.size() + fc_.size());
}

TEST_F(RecordCorruptionTableTest, FlippedByteInBodyIsCorruptAtRecordOffset) {
  // B's body starts with the tag of ProcessLifetime (field 5, wire type 2 =
  // 0x2a); flipping its low bits makes wire type 7, which cannot parse.
  std::string b = fb_;
  ASSERT_EQ(uint8_t(b[2]), 0x2a);
  b[2] ^= 0x05;
  WriteBytes(fa_ + b + fc_);
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kCorrupt);
  ASSERT_EQ(res.records.size(), 1u);
  EXPECT_TRUE(res.records[0].has_header());
  EXPECT_EQ(res.offset, fa_.size());
  EXPECT_NE(res.reason.find("record at offset " + std::to_string(fa_.size()) + " does not parse"),
            std::string::npos)
      << res.reason;
  // Reading stops there: C is never returned, even though it is intact.
  std::string err;
  auto r = RecordReader::Open(path_, &err);
  v1::Record rec;
  ASSERT_EQ(r->Next(&rec), ReadStatus::kRecord);
  EXPECT_EQ(r->Next(&rec), ReadStatus::kCorrupt);
  EXPECT_EQ(r->Next(&rec), ReadStatus::kCorrupt) << "the reader does not skip past corruption";
  EXPECT_EQ(r->offset(), fa_.size());
}

TEST_F(RecordCorruptionTableTest, FlippedByteInsideStringStillParses) {
  // Protobuf has no checksum: a flipped byte inside a string field's bytes
  // is not detected by the reader. It returns a (different) record and goes
  // on; this documents the limit.
  std::string b = fb_;
  size_t at = b.find("victim");
  ASSERT_NE(at, std::string::npos);
  b[at] ^= 0x20;  // 'v' -> 'V'
  WriteBytes(fa_ + b + fc_);
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kEnd);
  ASSERT_EQ(res.records.size(), 3u);
  EXPECT_EQ(res.records[1].process().comm(), "Victim");
  EXPECT_TRUE(res.records[2].has_trailer());
}

TEST_F(RecordCorruptionTableTest, LengthPastEndOfFileIsTruncated) {
  // B claims more bytes than the rest of the file holds (B's and C's
  // together): the file "ends inside" B.
  std::string body = b_.SerializeAsString();
  size_t rest = body.size() + fc_.size();
  ASSERT_LT(rest + 10, 128u) << "length stays a one-byte varint";
  std::string b = std::string(1, '\x0a') + Varint(rest + 10) + body;
  WriteBytes(fa_ + b + fc_);
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kTruncated);
  ASSERT_EQ(res.records.size(), 1u);
  EXPECT_EQ(res.offset, fa_.size());
  EXPECT_NE(res.reason.find("file ends inside a record at offset " + std::to_string(fa_.size())),
            std::string::npos)
      << res.reason;
}

TEST_F(RecordCorruptionTableTest, ZeroLengthIsAnEmptyRecordAndReadingGoesOn) {
  // "\x0a\x00": a frame with an empty body, which is a valid (empty) Record:
  // returned with KIND_NOT_SET, 2 bytes consumed, and the next record follows.
  WriteBytes(fa_ + std::string("\x0a\x00", 2) + fc_);
  std::string err;
  auto r = RecordReader::Open(path_, &err);
  ASSERT_TRUE(r) << err;
  v1::Record rec;
  ASSERT_EQ(r->Next(&rec), ReadStatus::kRecord);
  EXPECT_TRUE(rec.has_header());
  ASSERT_EQ(r->Next(&rec), ReadStatus::kRecord);
  EXPECT_EQ(rec.kind_case(), v1::Record::KIND_NOT_SET);
  EXPECT_EQ(rec.ByteSizeLong(), 0u);
  EXPECT_EQ(r->offset(), fa_.size() + 2);
  ASSERT_EQ(r->Next(&rec), ReadStatus::kRecord);
  EXPECT_TRUE(rec.has_trailer());
  EXPECT_EQ(r->Next(&rec), ReadStatus::kEnd);
  EXPECT_EQ(r->offset(), fa_.size() + 2 + fc_.size());
}

TEST_F(RecordCorruptionTableTest, ZeroLengthAtEndIsAnEmptyRecordThenEnd) {
  WriteBytes(fa_ + std::string("\x0a\x00", 2));
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kEnd);
  ASSERT_EQ(res.records.size(), 2u);
  EXPECT_EQ(res.records[1].kind_case(), v1::Record::KIND_NOT_SET);
  EXPECT_FALSE(res.records.back().has_trailer()) << "no trailer";
}

TEST_F(RecordCorruptionTableTest, BadTagByteIsCorruptAtItsOffset) {
  std::string b = fb_;
  b[0] = '\x12';  // field 2, wire type 2: not a Trace.record frame
  WriteBytes(fa_ + b + fc_);
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kCorrupt);
  ASSERT_EQ(res.records.size(), 1u);
  EXPECT_EQ(res.offset, fa_.size()) << "offset of the bad byte";
  EXPECT_NE(res.reason.find("bad record tag"), std::string::npos) << res.reason;
  EXPECT_NE(res.reason.find("at offset " + std::to_string(fa_.size())), std::string::npos)
      << res.reason;
}

TEST_F(RecordCorruptionTableTest, BadTagAsFirstByteIsNotARecordFile) {
  WriteBytes(std::string("\x00", 1) + fa_);
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kNotRecordFile);
  EXPECT_EQ(res.records.size(), 0u);
  EXPECT_EQ(res.offset, 0u);
  EXPECT_NE(res.reason.find("at offset 0"), std::string::npos) << res.reason;
}

TEST_F(RecordCorruptionTableTest, OversizedLengthIsCorruptNotAllocated) {
  // One byte over the 16 MiB limit, followed by only a few bytes: rejected
  // from the header alone, before any buffer of that size is made.
  WriteBytes(fa_ + std::string(1, '\x0a') + Varint(format::kMaxRecordBytes + 1) + "xyz");
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kCorrupt);
  ASSERT_EQ(res.records.size(), 1u);
  EXPECT_EQ(res.offset, fa_.size());
  EXPECT_NE(res.reason.find("record length " + std::to_string(format::kMaxRecordBytes + 1) +
                            " exceeds limit at offset " + std::to_string(fa_.size())),
            std::string::npos)
      << res.reason;
}

TEST_F(RecordCorruptionTableTest, LengthAtTheLimitIsTrustedThenTruncated) {
  // Exactly 16 MiB is allowed: the file just ends inside it.
  WriteBytes(fa_ + std::string(1, '\x0a') + Varint(format::kMaxRecordBytes) + "xyz");
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kTruncated) << res.reason;
  ASSERT_EQ(res.records.size(), 1u);
  EXPECT_EQ(res.offset, fa_.size());
}

TEST_F(RecordCorruptionTableTest, OverlongLengthVarintIsCorrupt) {
  // Eleven continuation bytes: no varint of 10 bytes ends.
  WriteBytes(fa_ + std::string(1, '\x0a') + std::string(11, '\x80'));
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kCorrupt);
  ASSERT_EQ(res.records.size(), 1u);
  EXPECT_EQ(res.offset, fa_.size());
  EXPECT_NE(res.reason.find("varint too long"), std::string::npos) << res.reason;
}

TEST_F(RecordCorruptionTableTest, UnknownRecordKindIsReturnedAndReadingGoesOn) {
  // A Record with field 99 (a kind from a newer writer), length-delimited.
  std::string unknown = Varint((99 << 3) | 2) + Varint(5) + "hello";
  WriteBytes(fa_ + Frame(unknown) + fb_ + fc_);
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kEnd);
  ASSERT_EQ(res.records.size(), 4u);
  EXPECT_EQ(res.records[1].kind_case(), v1::Record::KIND_NOT_SET);
  EXPECT_EQ(res.records[2].process().pid(), 42);
  EXPECT_TRUE(res.records[3].has_trailer());
  // The unknown bytes are kept: re-serializing gives the same record.
  EXPECT_EQ(res.records[1].SerializeAsString(), unknown);
}

TEST_F(RecordCorruptionTableTest, NewerFormatVersionIsStillRead) {
  // The reader does not check format_version; a header of version 99 and
  // the records after it are read as usual (it is for the user to warn).
  v1::Record h;
  h.mutable_header()->set_format_version(99);
  h.mutable_header()->set_hostname("future");
  WriteBytes(Frame(h.SerializeAsString()) + fb_ + fc_);
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kEnd);
  ASSERT_EQ(res.records.size(), 3u);
  EXPECT_EQ(res.records[0].header().format_version(), 99u);
  EXPECT_EQ(res.records[1].process().comm(), "victim");
  EXPECT_TRUE(res.records[2].has_trailer());
}

TEST_F(RecordCorruptionTableTest, GarbageTailAfterTrailerIsCorruptAfterAllRecords) {
  WriteBytes(fa_ + fb_ + fc_ + "\xff\xff");
  ReadResult res = ReadAll();
  EXPECT_EQ(res.status, ReadStatus::kCorrupt);
  ASSERT_EQ(res.records.size(), 3u);
  EXPECT_TRUE(res.records.back().has_trailer());
  EXPECT_EQ(res.offset, fa_.size() + fb_.size() + fc_.size());
}

}  // namespace
}  // namespace probe
