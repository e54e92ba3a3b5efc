// libFuzzer target: arbitrary bytes as a record file. The reader must never
// crash, read out of bounds or allocate beyond its limit, and must end
// every stream with a status.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "record_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    return 0;
  }
  lseek(fd, 0, SEEK_SET);
  probe::RecordReader reader(fd);  // owns fd
  probe::v1::Record record;
  uint64_t last = 0;
  probe::ReadStatus st;
  while ((st = reader.Next(&record)) == probe::ReadStatus::kRecord) {
    if (reader.offset() <= last || reader.offset() > size) abort();  // progress, in bounds
    last = reader.offset();
  }
  if (st == probe::ReadStatus::kEnd && reader.offset() != size) abort();
  // Only the first record decides that a file is not a recording.
  if (st == probe::ReadStatus::kNotRecordFile && (last != 0 || reader.offset() != 0)) abort();
  return 0;
}
