// SPDX-License-Identifier: GPL-2.0
/* Benchmark-only: where each source line of a loaded BPF program starts in
 * its JIT image, for bench/bpf_line_profile.py to give perf's samples
 * (symbol + offset) their source line.
 *
 * `bpftool prog dump jited ... linum` does this too, but only when bpftool
 * was built with libbfd, and Debian's is not; the kernel hands out the
 * same line table (jited_line_info) without it.
 *
 * Usage: jited_lines PROG_ID
 * Prints one line per line-info record: the offset from the program's
 * start in hex, file:line, and the source text. */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: jited_lines PROG_ID\n");
    return 2;
  }
  int fd = bpf_prog_get_fd_by_id((__u32)strtoul(argv[1], NULL, 10));
  if (fd < 0) {
    fprintf(stderr, "jited_lines: program %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  /* First call: the counts and record sizes; second: the records. */
  struct bpf_prog_info info = {0};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
    fprintf(stderr, "jited_lines: program info: %s\n", strerror(errno));
    return 1;
  }
  __u32 lines = info.nr_line_info, jited = info.nr_jited_line_info, syms = info.nr_jited_ksyms;
  __u32 line_size = info.line_info_rec_size, jited_size = info.jited_line_info_rec_size;
  __u32 btf_id = info.btf_id;
  if (!lines || lines != jited || !syms || jited_size != sizeof(__u64)) {
    fprintf(stderr, "jited_lines: program %s has no JIT line table (%u lines, %u jited)\n", argv[1],
            lines, jited);
    return 1;
  }
  char *line_info = calloc(lines, line_size);
  __u64 *jited_info = calloc(jited, sizeof(__u64));
  __u64 *ksyms = calloc(syms, sizeof(__u64));
  if (!line_info || !jited_info || !ksyms) return 1;
  memset(&info, 0, sizeof(info));
  info.nr_line_info = lines;
  info.line_info_rec_size = line_size;
  info.line_info = (__u64)(unsigned long)line_info;
  info.nr_jited_line_info = jited;
  info.jited_line_info_rec_size = jited_size;
  info.jited_line_info = (__u64)(unsigned long)jited_info;
  info.nr_jited_ksyms = syms;
  info.jited_ksyms = (__u64)(unsigned long)ksyms;
  len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
    fprintf(stderr, "jited_lines: line table: %s\n", strerror(errno));
    return 1;
  }
  /* A kernel that hides its addresses (kptr_restrict, no CAP_SYSLOG) zeroes
   * them rather than failing: every offset would read 0. */
  if (!info.jited_line_info || !info.jited_ksyms || !ksyms[0]) {
    fprintf(stderr, "jited_lines: the kernel hides the JIT addresses (kptr_restrict?)\n");
    return 1;
  }
  struct btf *btf = btf__load_from_kernel_by_id(btf_id);
  if (!btf) {
    fprintf(stderr, "jited_lines: BTF %u: %s\n", btf_id, strerror(errno));
    return 1;
  }
  /* Offsets from the program's start (ksyms[0]), as perf gives them for
   * its symbol. Our programs inline everything, so they have one
   * subprogram; another would be a symbol of its own in perf. */
  if (syms > 1) {
    fprintf(stderr, "jited_lines: program %s has %u subprograms; only one is supported\n", argv[1],
            syms);
    return 1;
  }
  for (__u32 i = 0; i < lines; i++) {
    const struct bpf_line_info *l = (const void *)(line_info + (size_t)i * line_size);
    const char *file = btf__name_by_offset(btf, l->file_name_off);
    const char *src = btf__name_by_offset(btf, l->line_off);
    const char *base = file ? strrchr(file, '/') : NULL;
    printf("%llx %s:%u %s\n", (unsigned long long)(jited_info[i] - ksyms[0]),
           base ? base + 1 : (file ? file : "?"), BPF_LINE_INFO_LINE_NUM(l->line_col),
           src ? src : "");
  }
  btf__free(btf);
  close(fd);
  return 0;
}
