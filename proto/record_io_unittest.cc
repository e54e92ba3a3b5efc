#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "record_file.h"
#include "record_reader.h"

namespace probe {
namespace {

class RecordIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/probe_io_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/t.ptrace";
  }
  void TearDown() override { (void)!system(("rm -rf " + dir_).c_str()); }

  std::vector<v1::Record> SampleRecords() {
    std::vector<v1::Record> out;
    v1::Record h;
    h.mutable_header()->set_format_version(1);
    h.mutable_header()->set_hostname("host");
    out.push_back(h);
    for (int i = 0; i < 5; ++i) {
      v1::Record p;
      p.mutable_process()->set_pid(100 + i);
      p.mutable_process()->set_comm("proc" + std::to_string(i));
      p.mutable_process()->add_argv(std::string(i * 40, 'x'));
      out.push_back(p);
    }
    v1::Record t;
    t.mutable_trailer()->set_stop_reason("signal");
    out.push_back(t);
    return out;
  }

  void WriteAll(const std::vector<v1::Record>& records) {
    std::string err;
    auto w = CreateRecordFile(path_, true, &err);
    ASSERT_TRUE(w) << err;
    for (const auto& r : records) ASSERT_TRUE(w->Append(r));
    ASSERT_TRUE(w->Flush());
  }

  std::string ReadBytes() {
    std::ifstream f(path_, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  // A whole header record, framed: what a file must start with.
  static std::string HeaderFrame() {
    v1::Record h;
    h.mutable_header()->set_format_version(1);
    std::string body = h.SerializeAsString();
    return "\x0a" + std::string(1, static_cast<char>(body.size())) + body;
  }

  void WriteBytes(const std::string& bytes) {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f << bytes;
  }

  // Reads every record; returns the count and the final status.
  std::pair<size_t, ReadStatus> ReadAll(std::string* reason = nullptr) {
    std::string err;
    auto r = RecordReader::Open(path_, &err);
    EXPECT_TRUE(r) << err;
    v1::Record rec;
    size_t n = 0;
    ReadStatus st;
    while ((st = r->Next(&rec)) == ReadStatus::kRecord) ++n;
    if (reason) *reason = r->reason();
    return {n, st};
  }

  std::string dir_, path_;
};

TEST_F(RecordIoTest, RoundTrip) {
  auto records = SampleRecords();
  WriteAll(records);
  std::string err;
  auto r = RecordReader::Open(path_, &err);
  ASSERT_TRUE(r);
  v1::Record rec;
  for (const auto& want : records) {
    ASSERT_EQ(r->Next(&rec), ReadStatus::kRecord);
    EXPECT_EQ(rec.SerializeAsString(), want.SerializeAsString());
  }
  EXPECT_EQ(r->Next(&rec), ReadStatus::kEnd);
}

TEST_F(RecordIoTest, FileParsesAsWholeTraceMessage) {
  auto records = SampleRecords();
  WriteAll(records);
  v1::Trace trace;
  ASSERT_TRUE(trace.ParseFromString(ReadBytes()));
  ASSERT_EQ(trace.record_size(), static_cast<int>(records.size()));
  EXPECT_EQ(trace.record(3).process().pid(), 102);
}

TEST_F(RecordIoTest, EveryCutOffPointKeepsWholeRecords) {
  auto records = SampleRecords();
  WriteAll(records);
  std::string full = ReadBytes();
  // Record boundaries, to know how many whole records precede each cut.
  std::vector<size_t> ends;
  {
    std::string err;
    auto r = RecordReader::Open(path_, &err);
    v1::Record rec;
    while (r->Next(&rec) == ReadStatus::kRecord) ends.push_back(r->offset());
  }
  ASSERT_EQ(ends.size(), records.size());
  for (size_t cut = 0; cut < full.size(); ++cut) {
    WriteBytes(full.substr(0, cut));
    size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) ++whole;
    auto [n, st] = ReadAll();
    EXPECT_EQ(n, whole) << "cut at " << cut;
    bool at_boundary = cut == 0 || (whole > 0 && ends[whole - 1] == cut);
    EXPECT_EQ(st, at_boundary ? ReadStatus::kEnd
                  : whole     ? ReadStatus::kTruncated
                              : ReadStatus::kNotRecordFile)
        << "cut at " << cut;
  }
}

TEST_F(RecordIoTest, BadTagIsCorruptAfterWholeRecords) {
  WriteAll(SampleRecords());
  std::string bytes = ReadBytes() + "\x12garbage";
  WriteBytes(bytes);
  std::string reason;
  auto [n, st] = ReadAll(&reason);
  EXPECT_EQ(n, SampleRecords().size());
  EXPECT_EQ(st, ReadStatus::kCorrupt);
  EXPECT_NE(reason.find("bad record tag"), std::string::npos) << reason;
}

TEST_F(RecordIoTest, HugeLengthIsCorruptNotAllocated) {
  WriteBytes(HeaderFrame() + std::string("\x0a\xff\xff\xff\xff\x0f", 6));
  std::string reason;
  auto [n, st] = ReadAll(&reason);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(st, ReadStatus::kCorrupt);
  EXPECT_NE(reason.find("exceeds limit"), std::string::npos) << reason;
}

TEST_F(RecordIoTest, UnparsableBodyIsCorrupt) {
  // Body is a field with wire type 7 (invalid).
  WriteBytes(HeaderFrame() + std::string("\x0a\x02\x0f\x00", 4));
  auto [n, st] = ReadAll();
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(st, ReadStatus::kCorrupt);
}

TEST_F(RecordIoTest, EmptyFileIsCleanEnd) {
  WriteBytes("");
  auto [n, st] = ReadAll();
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(st, ReadStatus::kEnd);
}

TEST_F(RecordIoTest, UnknownRecordKindStillReads) {
  // Record with field 99 (varint 7): a kind from a newer writer.
  WriteBytes(HeaderFrame() + std::string("\x0a\x03\x98\x06\x07", 5));
  std::string err;
  auto r = RecordReader::Open(path_, &err);
  v1::Record rec;
  ASSERT_EQ(r->Next(&rec), ReadStatus::kRecord);
  ASSERT_EQ(r->Next(&rec), ReadStatus::kRecord);
  EXPECT_EQ(rec.kind_case(), v1::Record::KIND_NOT_SET);
  EXPECT_EQ(r->Next(&rec), ReadStatus::kEnd);
}

TEST_F(RecordIoTest, WriterRefusesExistingFileWithoutForce) {
  WriteBytes("precious");
  std::string err;
  EXPECT_FALSE(CreateRecordFile(path_, false, &err));
  EXPECT_NE(err.find("--force"), std::string::npos) << err;
  EXPECT_EQ(ReadBytes(), "precious");
}

TEST_F(RecordIoTest, WriterDoesNotFollowSymlink) {
  std::string target = dir_ + "/target";
  { std::ofstream(target) << "keep"; }
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  std::string err;
  EXPECT_FALSE(CreateRecordFile(path_, true, &err));
  std::ifstream f(target);
  std::string content;
  f >> content;
  EXPECT_EQ(content, "keep");
}

TEST_F(RecordIoTest, WriteFailureKeepsFileValid) {
  // /dev/full fails every write with ENOSPC.
  std::string err;
  auto w = CreateRecordFile("/dev/full", true, &err);
  if (!w) GTEST_SKIP() << "/dev/full not available: " << err;
  v1::Record r;
  r.mutable_process()->set_pid(1);
  w->Append(r);
  EXPECT_FALSE(w->Flush());
  EXPECT_TRUE(w->failed());
  EXPECT_NE(w->error().find("No space"), std::string::npos) << w->error();
  EXPECT_FALSE(w->Append(r));
}

}  // namespace
}  // namespace probe
