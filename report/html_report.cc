// probe-report --html: one self-contained HTML page with plots. Every plot is
// drawn here, in C++, as inline SVG (no fonts, scripts or styles from
// anywhere else); a small inline script only checks that the plots were laid
// out, marks the page ready (body data-ready="1") and shows a banner on any
// script error. The numbers are the TraceSummary's, the same the text report
// prints; this file only lays out the page: html_writer (escaping),
// html_plots (SVG), html_sections and html_waits (the summary's sections),
// html_processes (the process tree, the one thing only the page draws).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "exporter.h"
#include "html_processes.h"
#include "html_sections.h"
#include "html_writer.h"
#include "output_file.h"

namespace probe {
namespace html {
namespace {

const char kStyle[] = R"css(
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 24px 40px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 16px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
nav a { margin-right: 14px; }
code { font: 12px ui-monospace, monospace; word-break: break-all; }
table.kv th { text-align: left; padding-right: 16px; font-weight: 600; vertical-align: top; }
table.data { border-collapse: collapse; font-size: 13px; }
table.data th, table.data td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
table.data th { background: #f4f4f4; }
table.data td:nth-child(2), table.data td:nth-child(3) { text-align: left; }
#counters-table td:first-child { text-align: left; }
.note { color: #666; }
.warn, .bad { color: #b00; }
.grid { display: flex; flex-wrap: wrap; gap: 8px 20px; }
figure.hist { margin: 6px 0; }
figcaption { font-size: 13px; }
.stat { margin-right: 10px; }
.legend { margin: 6px 0; font-size: 13px; }
.legend span { margin-right: 14px; white-space: nowrap; }
svg.plot { display: block; overflow: visible; }
svg text { font: 11px ui-monospace, monospace; fill: #333; }
svg text.tick { fill: #666; font-size: 10px; }
svg text.count { fill: #444; font-size: 9px; }
svg text.note { fill: #888; }
svg text.bad { fill: #b00; }
.axis { stroke: #888; stroke-width: 1; }
.grid line, line.grid { stroke: #e4e4e4; stroke-width: 1; }
line.tree { stroke: #aaa; }
rect.stripe { fill: #f7f7f7; }
rect.bar { fill: #4a7fc1; }
rect.bar:hover { fill: #e6550d; }
.seg-toblock { fill: #9ecae1; }
.seg-blocked { fill: #3182bd; }
.seg-runqueue { fill: #e6550d; }
.seg-return { fill: #31a354; }
.seg-other { fill: #bbb; }
.seg-none { fill: #777; }
.p-fork { fill: #c6dbef; }
.p-exec { fill: #2b8cbe; }
.p-noexec { fill: #9e9ac8; }
.p-before { fill: #a1d99b; }
g.wait:hover rect.stripe, g.proc:hover rect.stripe { fill: #eef; }
#error-banner { background: #b00; color: #fff; padding: 8px 12px; font-weight: 600; }
)css";

// Runs first: any later script error shows a banner (and marks the body).
const char kErrorScript[] = R"js(
window.onerror = function (msg, src, line, col) {
  var b = document.getElementById('error-banner');
  if (!b) {
    b = document.createElement('div');
    b.id = 'error-banner';
    b.setAttribute('role', 'alert');
    (document.body || document.documentElement).insertBefore(b, (document.body || document.documentElement).firstChild);
  }
  b.textContent = 'Error while drawing this page: ' + msg + (line ? ' (line ' + line + ')' : '');
  if (document.body) document.body.dataset.error = '1';
  return false;
};
)js";

// Runs last: every plot must have been laid out with a size, and as many as
// the page says it drew; then the page is ready.
const char kReadyScript[] = R"js(
(function () {
  var plots = document.querySelectorAll('svg.plot');
  var expected = Number(document.body.dataset.plots);
  var drawn = 0;
  plots.forEach(function (s) {
    var r = s.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && s.querySelector('rect, text')) drawn++;
  });
  if (drawn !== plots.length || drawn !== expected)
    throw new Error('only ' + drawn + ' of ' + expected + ' plots were drawn');
  document.body.dataset.drawn = String(drawn);
  var ready = document.createElement('div');
  ready.id = 'ready';
  ready.hidden = true;
  document.body.appendChild(ready);
  document.body.dataset.ready = '1';
})();
)js";

class HtmlExporter : public Exporter {
 public:
  HtmlExporter(FILE* f, std::unique_ptr<OutputFile> out, std::string path, const TraceSummary& s)
      : f_(f), out_(std::move(out)), path_(std::move(path)), s_(s) {}
  ~HtmlExporter() override {
    if (f_) fclose(f_);
  }

  void OnSnapshot(const v1::ProcessSnapshot& p) override { processes_.OnSnapshot(p); }
  void OnProcess(const v1::ProcessLifetime& p) override { processes_.OnProcess(p); }
  bool Finish(std::string* error) override;

 private:
  std::string Page();

  FILE* f_;
  std::unique_ptr<OutputFile> out_;  // where f_ writes (a dup of its fd)
  std::string path_;
  const TraceSummary& s_;  // fed by the caller, record by record, as this is
  ProcessTree processes_;
  bool finished_ = false;
};

std::string HtmlExporter::Page() {
  // Sections first: they count the plots the body announces.
  size_t plots = 0;
  std::string sections = HeaderSection(s_);
  sections += CountersSection(s_);
  sections += SyscallSection(s_, &plots);
  sections += SchedSection(s_, &plots);
  sections += WaitsSection(s_, &plots);
  sections += processes_.Section(s_.header.start_time_ns(), s_.last_time_ns, &plots);
  std::string title = "probe report";
  if (s_.has_header && !s_.header.hostname().empty())
    title += " — " + Clip(s_.header.hostname(), 64);
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  // Nothing from the network, ever: no fetches, no frames, no external anything.
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n";
  o += "<title>" + Esc(title) + "</title>\n<style>" + std::string(kStyle) + "</style>\n<script>" +
       kErrorScript + "</script>\n</head>\n";
  o += "<body data-plots=\"" + Num(plots) + "\">\n<h1>" + Esc(title) + "</h1>\n";
  o += "<nav><a href=\"#header\">recording</a><a href=\"#counters\">counters</a>"
       "<a href=\"#syscall-histograms\">syscall latency</a><a href=\"#sched-histograms\">"
       "scheduler</a><a href=\"#slowest-waits\">slowest calls</a><a href=\"#process-tree\">"
       "processes</a></nav>\n";
  o += sections;
  o += "\n<script>" + std::string(kReadyScript) + "</script>\n</body></html>\n";
  return o;
}

bool HtmlExporter::Finish(std::string* error) {
  if (finished_) return true;
  finished_ = true;
  const std::string page = Page();
  const bool ok = fwrite(page.data(), 1, page.size(), f_) == page.size() && fflush(f_) == 0;
  const int write_errno = errno;
  const bool closed = fclose(f_) == 0;
  f_ = nullptr;
  if (!ok || !closed) {
    *error = "cannot write " + path_ + ": " + strerror(ok ? errno : write_errno);
    out_.reset();  // its new file is removed; what was at path_ stays
    return false;
  }
  return out_->Commit(error);
}

}  // namespace
}  // namespace html

std::unique_ptr<Exporter> MakeHtmlExporter(const std::string& path, const TraceSummary& summary,
                                           std::string* error) {
  auto out = OutputFile::Create(path, error);
  if (!out) return nullptr;
  const int fd = fcntl(out->fd(), F_DUPFD_CLOEXEC, 0);
  FILE* f = fd < 0 ? nullptr : fdopen(fd, "w");
  if (!f) {
    *error = "cannot write " + path + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return nullptr;
  }
  return std::make_unique<html::HtmlExporter>(f, std::move(out), path, summary);
}

}  // namespace probe
