// record_kind.h answers for every kind of Record's oneof, checked against the
// schema itself (by reflection), so a new kind cannot be left out silently.
#include "record_kind.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace probe {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The full names of the string and bytes fields of d and of the messages in it.
void TextFields(const Descriptor* d, std::set<const Descriptor*>* seen,
                std::set<const FieldDescriptor*>* out) {
  if (!seen->insert(d).second) return;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->type() == FieldDescriptor::TYPE_STRING || f->type() == FieldDescriptor::TYPE_BYTES)
      out->insert(f);
    if (f->message_type()) TextFields(f->message_type(), seen, out);
  }
}

// A record of each kind: the oneof's field set to its empty message.
std::vector<std::pair<const FieldDescriptor*, v1::Record>> OneOfEachKind() {
  std::vector<std::pair<const FieldDescriptor*, v1::Record>> out;
  const google::protobuf::OneofDescriptor* kind = v1::Record::descriptor()->FindOneofByName("kind");
  for (int i = 0; i < kind->field_count(); ++i) {
    v1::Record r;
    r.GetReflection()->MutableMessage(&r, kind->field(i));
    out.emplace_back(kind->field(i), r);
  }
  return out;
}

TEST(RecordKind, WhatEachKindCanHoldMatchesTheSchema) {
  for (const auto& [field, r] : OneOfEachKind()) {
    std::set<const Descriptor*> seen;
    std::set<const FieldDescriptor*> text;
    TextFields(field->message_type(), &seen, &text);
    bool strings = false, outside_waker = false;
    for (const FieldDescriptor* f : text) {
      strings |= f->type() == FieldDescriptor::TYPE_STRING;
      outside_waker |= f->containing_type() != v1::Waker::descriptor();
    }
    EXPECT_EQ(HoldsProtoStrings(r), strings) << field->name();
    switch (TextOf(r)) {
      case RecordText::kNone:
        EXPECT_TRUE(text.empty()) << field->name() << " holds text";
        break;
      case RecordText::kWakerName:
        EXPECT_FALSE(outside_waker) << field->name() << " holds text besides its waker's";
        EXPECT_FALSE(text.empty()) << field->name();
        break;
      case RecordText::kAny:  // always right: reflection finds whatever there is
        break;
    }
    EXPECT_EQ(IsHeader(r), field->name() == "header") << field->name();
    EXPECT_EQ(ProcessOf(r) != nullptr, field->name() == "process") << field->name();
  }
  EXPECT_EQ(TextOf(v1::Record()), RecordText::kNone);
}

TEST(RecordKind, EventRecordsCountInTheirKindsCounters) {
  for (const auto& [field, r] : OneOfEachKind()) {
    const std::string& n = field->name();
    const v1::EventKind want = n == "syscall"                      ? v1::EVENT_KIND_SYSCALL
                               : n == "wakeup"                     ? v1::EVENT_KIND_WAKEUP
                               : n == "shim_call" || n == "marker" ? v1::EVENT_KIND_SHIM
                                                                   : v1::EVENT_KIND_PROCESS;
    EXPECT_EQ(KindOfRecord(r), want) << n;
  }
}

TEST(RecordKind, TheWakerIsAWakeupsOrASyscallWaitsWhenSet) {
  v1::Record r;
  EXPECT_EQ(WakerOf(r), nullptr);
  r.mutable_wakeup();
  EXPECT_EQ(WakerOf(r), nullptr) << "no waker set";
  r.mutable_wakeup()->mutable_waker()->set_tid(7);
  ASSERT_NE(WakerOf(r), nullptr);
  EXPECT_EQ(WakerOf(r)->tid(), 7);
  EXPECT_EQ(MutableWakerOf(&r), r.mutable_wakeup()->mutable_waker());
  r.mutable_syscall();
  EXPECT_EQ(WakerOf(r), nullptr) << "a syscall without a breakdown";
  EXPECT_EQ(MutableWakerOf(&r), nullptr);
  EXPECT_FALSE(r.syscall().has_breakdown()) << "asking creates nothing";
  r.mutable_syscall()->mutable_breakdown();
  EXPECT_EQ(WakerOf(r), nullptr) << "a breakdown without a waker";
  r.mutable_syscall()->mutable_breakdown()->mutable_waker()->set_tid(9);
  ASSERT_NE(MutableWakerOf(&r), nullptr);
  EXPECT_EQ(MutableWakerOf(&r)->tid(), 9);
  r.mutable_marker();
  EXPECT_EQ(WakerOf(r), nullptr);
}

}  // namespace
}  // namespace probe
