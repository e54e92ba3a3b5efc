// Names, argv and paths are bytes (issue 17, item 1): every byte value
// survives the writer and the reader, no field that can hold outside bytes is
// a proto3 string, a record the reader would reject is never written, and
// files written when those fields were strings still read.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "format.h"
#include "record_reader.h"
#include "record_file.h"
#include "record_writer.h"

namespace probe {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Text the agent makes itself, from constants: the only string fields.
const std::set<std::string> kAgentText = {
    "probe.v1.Header.events", "probe.v1.Header.agent_version", "probe.v1.Header.privileges",
    "probe.v1.ShimProcess.functions", "probe.v1.Trailer.stop_reason",
    // Ids the agent checks are hex digits and dashes before it sets them.
    "probe.v1.Header.boot_id", "probe.v1.Header.machine_id", "probe.v1.Header.run_id"};

void CollectStringFields(const Descriptor* d, std::set<const Descriptor*>* seen,
                         std::set<std::string>* out) {
  if (!seen->insert(d).second) return;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->type() == FieldDescriptor::TYPE_STRING) out->insert(std::string(f->full_name()));
    if (f->message_type()) CollectStringFields(f->message_type(), seen, out);
  }
}

TEST(RecordBytesTest, OnlyTextTheAgentMakesIsAProto3String) {
  std::set<const Descriptor*> seen;
  std::set<std::string> strings;
  CollectStringFields(v1::Record::descriptor(), &seen, &strings);
  for (const auto& name : strings)
    EXPECT_TRUE(kAgentText.count(name))
        << name << " is a string: a byte that is not UTF-8 would make its record unparsable "
        << "(make it bytes, or add it here if the agent makes it from constants)";
}

class RecordBytesFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/probe_bytes_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/t.ptrace";
  }
  void TearDown() override { (void)!system(("rm -rf " + dir_).c_str()); }

  std::vector<v1::Record> ReadAll(ReadStatus* status, const std::string& path) {
    std::vector<v1::Record> out;
    std::string err;
    auto r = RecordReader::Open(path, &err);
    EXPECT_TRUE(r) << err;
    v1::Record rec;
    while ((*status = r->Next(&rec)) == ReadStatus::kRecord) out.push_back(rec);
    reason_ = r->reason();
    return out;
  }
  void Spit(const std::string& bytes) { std::ofstream(path_, std::ios::binary) << bytes; }

  std::string dir_, path_, reason_;
};

TEST_F(RecordBytesFileTest, EveryByteValueOfEveryNameIsKeptExact) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  {
    std::string err;
    auto w = CreateRecordFile(path_, false, &err);
    ASSERT_TRUE(w) << err;
    v1::Record h;
    h.mutable_header()->set_format_version(format::kFormatVersion);
    h.mutable_header()->set_hostname(all);
    h.mutable_header()->set_kernel_release(all);
    h.mutable_header()->add_command_line(all);
    h.mutable_header()->set_preload_library(all);
    ASSERT_TRUE(w->Append(h));
    v1::Record p;
    p.mutable_process()->set_comm(all);
    p.mutable_process()->set_exe(all);
    p.mutable_process()->add_argv(all);
    ASSERT_TRUE(w->Append(p));
    v1::Record s;
    s.mutable_snapshot()->set_comm(all);
    s.mutable_snapshot()->set_exe(all);
    s.mutable_snapshot()->add_argv(all);
    s.mutable_snapshot()->add_threads()->set_comm(all);
    ASSERT_TRUE(w->Append(s));
    v1::Record t;
    t.mutable_thread_name()->set_comm(all);
    ASSERT_TRUE(w->Append(t));
    v1::Record k;
    k.mutable_wakeup()->mutable_waker()->set_comm(all);
    ASSERT_TRUE(w->Append(k));
    v1::Record m;
    m.mutable_marker()->set_name(all);
    ASSERT_TRUE(w->Append(m));
    ASSERT_TRUE(w->Flush());
  }
  ReadStatus st;
  auto rs = ReadAll(&st, path_);
  ASSERT_EQ(st, ReadStatus::kEnd) << reason_;
  ASSERT_EQ(rs.size(), 6u);
  EXPECT_EQ(rs[0].header().hostname(), all);
  EXPECT_EQ(rs[0].header().kernel_release(), all);
  EXPECT_EQ(rs[0].header().command_line(0), all);
  EXPECT_EQ(rs[0].header().preload_library(), all);
  EXPECT_EQ(rs[1].process().comm(), all);
  EXPECT_EQ(rs[1].process().exe(), all);
  EXPECT_EQ(rs[1].process().argv(0), all);
  EXPECT_EQ(rs[2].snapshot().threads(0).comm(), all);
  EXPECT_EQ(rs[3].thread_name().comm(), all);
  EXPECT_EQ(rs[4].wakeup().waker().comm(), all);
  EXPECT_EQ(rs[5].marker().name(), all);
}

TEST_F(RecordBytesFileTest, ARecordOverTheReadersLimitIsRefusedAloneAndTheFileGoesOn) {
  std::string err;
  auto w = CreateRecordFile(path_, false, &err);
  ASSERT_TRUE(w) << err;
  v1::Record h;
  h.mutable_header()->set_format_version(format::kFormatVersion);
  ASSERT_TRUE(w->Append(h));
  v1::Record big;
  big.mutable_process()->add_argv(std::string(format::kMaxRecordBytes, 'x'));
  EXPECT_FALSE(w->Append(big)) << "the reader would call it corrupt";
  EXPECT_EQ(w->refused(), 1u);
  EXPECT_FALSE(w->failed());
  v1::Record t;
  t.mutable_trailer()->set_stop_reason("signal");
  EXPECT_TRUE(w->Append(t));
  ASSERT_TRUE(w->Flush());
  ReadStatus st;
  auto rs = ReadAll(&st, path_);
  EXPECT_EQ(st, ReadStatus::kEnd) << reason_;
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs[1].has_trailer());
}

TEST_F(RecordBytesFileTest, AStringThatIsNotUtf8IsRefusedNotWrittenUnreadable) {
  std::string err;
  auto w = CreateRecordFile(path_, false, &err);
  ASSERT_TRUE(w) << err;
  v1::Record h;
  h.mutable_header()->set_format_version(format::kFormatVersion);
  ASSERT_TRUE(w->Append(h));
  v1::Record t;
  t.mutable_trailer()->set_stop_reason("bad \xff");  // a string field: must be UTF-8
  EXPECT_FALSE(w->Append(t));
  EXPECT_EQ(w->refused(), 1u);
  t.mutable_trailer()->set_stop_reason("signal");
  EXPECT_TRUE(w->Append(t));
  ASSERT_TRUE(w->Flush());
  ReadStatus st;
  auto rs = ReadAll(&st, path_);
  EXPECT_EQ(st, ReadStatus::kEnd) << reason_;
  EXPECT_EQ(rs.size(), 2u);
}

// Written by the agent when names were proto3 strings (the fuzz corpus seed,
// a real ping-pong run): the same bytes on the wire, read to the end.
TEST_F(RecordBytesFileTest, FilesFromWhenNamesWereStringsStillRead) {
  ReadStatus st;
  auto rs = ReadAll(&st, PROBE_FUZZ_CORPUS_DIR "/record_reader/pingpong_select");
  EXPECT_EQ(st, ReadStatus::kEnd) << reason_;
  ASSERT_FALSE(rs.empty());
  ASSERT_TRUE(rs[0].has_header());
  EXPECT_FALSE(rs[0].header().hostname().empty());
  EXPECT_FALSE(rs[0].header().command_line().empty());
  int named = 0;
  for (const auto& r : rs)
    if ((r.has_process() && !r.process().comm().empty()) ||
        (r.has_snapshot() && !r.snapshot().comm().empty()))
      ++named;
  EXPECT_GT(named, 0);
}

// Issue 17 item 12: bytes that do not start with a whole Header record are
// not a recording.
TEST_F(RecordBytesFileTest, AFileThatDoesNotStartWithAHeaderIsNotARecording) {
  ReadStatus st;
  Spit(std::string("\x0a\xff\xff\xff\x07", 5));
  EXPECT_TRUE(ReadAll(&st, path_).empty());
  EXPECT_EQ(st, ReadStatus::kNotRecordFile) << ReadStatusName(st) << ": " << reason_;

  v1::Record h, c;
  h.mutable_header()->set_format_version(format::kFormatVersion);
  h.mutable_header()->set_hostname("host");
  c.mutable_syscall()->set_pid(1);
  std::string header_frame =
      "\x0a" + std::string(1, char(h.ByteSizeLong())) + h.SerializeAsString();
  std::string call_frame = "\x0a" + std::string(1, char(c.ByteSizeLong())) + c.SerializeAsString();
  Spit(header_frame.substr(0, 4));  // cut inside the header record
  EXPECT_TRUE(ReadAll(&st, path_).empty());
  EXPECT_EQ(st, ReadStatus::kNotRecordFile) << reason_;
  EXPECT_NE(reason_.find("first record"), std::string::npos) << reason_;

  Spit(call_frame + header_frame);  // whole records, but no header first
  EXPECT_TRUE(ReadAll(&st, path_).empty());
  EXPECT_EQ(st, ReadStatus::kNotRecordFile) << reason_;

  Spit("");
  EXPECT_TRUE(ReadAll(&st, path_).empty());
  EXPECT_EQ(st, ReadStatus::kEnd) << "empty: no record, said by the caller";

  Spit(header_frame + call_frame.substr(0, 3));  // a recording cut later is truncated
  EXPECT_EQ(ReadAll(&st, path_).size(), 1u);
  EXPECT_EQ(st, ReadStatus::kTruncated) << reason_;
}

}  // namespace
}  // namespace probe
