// probe-report --compare ... --html FILE: the differential page. The
// regressions first (the same sorted figures as the text), then the
// distributions of both sides overlaid bucket by bucket, then each
// process's exec->exit per run side by side. Plots are inline SVG from
// html_plots; every name goes through html::Esc.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include "compare_output.h"
#include "histogram.h"
#include "html_plots.h"
#include "html_writer.h"
#include "output_file.h"

namespace probe {

namespace {

using namespace html;

constexpr size_t kOverlays = 8;  // distributions drawn
constexpr size_t kProcessBars = 30;

const char kStyle[] = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 24px 40px; color: #222; }
h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; }
table.data { border-collapse: collapse; font-size: 13px; }
table.data th, table.data td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; white-space: nowrap; }
table.data td:nth-child(-n+3) { text-align: left; }
tr.slower td { background: #fde0dd; } tr.faster td { background: #e5f5e0; }
svg text { font: 11px ui-monospace, monospace; fill: #333; }
svg text.tick { fill: #666; font-size: 10px; }
.axis { stroke: #888; } rect.base { fill: #4a7fc1; } rect.new { fill: #e6550d; }
.legend span { margin-right: 14px; } .note { color: #666; }
)css";

// Both sides' share of calls per log2 bucket, side by side in each bucket.
std::string OverlaySvg(const Figure& f) {
  const double W = 560, H = 190, left = 44, top = 14, ph = 140, pw = W - left - 10;
  const v1::SyscallHistogram* hs[2] = {&f.base_hist, &f.new_hist};
  int first = kHistogramBuckets, last = -1;
  double total[2] = {0, 0}, max_share = 0;
  for (int s = 0; s < 2; ++s)
    for (int i = 0; i < hs[s]->log2_buckets_size(); ++i) total[s] += double(hs[s]->log2_buckets(i));
  for (int s = 0; s < 2; ++s)
    for (int i = 0; i < hs[s]->log2_buckets_size(); ++i) {
      if (!hs[s]->log2_buckets(i)) continue;
      first = std::min(first, i);
      last = std::max(last, i);
      max_share = std::max(max_share, double(hs[s]->log2_buckets(i)) / std::max(1.0, total[s]));
    }
  std::string o = SvgOpen("compare-hist", W, H, Esc(f.what));
  o += Line(left, top + ph, left + pw, top + ph, "axis");
  if (last < 0) return o + Text(left, top + 20, "no calls") + "</svg>";
  const double bw = pw / (last - first + 1);
  o += Text(left - 4, top + 4, Printf("%.0f%%", 100 * max_share), "tick", "end");
  for (int i = first; i <= last; ++i) {
    const double x = left + (i - first) * bw;
    for (int s = 0; s < 2; ++s) {
      const uint64_t n = i < hs[s]->log2_buckets_size() ? hs[s]->log2_buckets(i) : 0;
      const double share = double(n) / std::max(1.0, total[s]);
      const double h = share / std::max(max_share, 1e-12) * ph;
      o += Rect(x + s * bw / 2 + 1, top + ph - h, bw / 2 - 2, h, s ? "new" : "base",
                Esc(std::string(s ? "NEW " : "BASE ") + BucketRange(i, kHistogramBuckets - 1) +
                    Printf(": %s (%.1f%%)", Num(n).c_str(), 100 * share)));
    }
    if ((i - first) % std::max(1, int(std::ceil(40 / bw))) == 0)
      o += Text(x, top + ph + 14, ShortDuration(double(BucketLow(i))), "tick");
  }
  return o + "</svg>";
}

// exec->exit per run of each process key, BASE above NEW.
std::string ProcessBars(const Comparison& c) {
  std::vector<const Figure*> rows;
  double max_v = 0;
  for (const Figure& f : c.figures)
    if (f.group == FigureGroup::kProcess && f.measure == "exec->exit per run") {
      rows.push_back(&f);
      max_v = std::max({max_v, f.base, f.neu});
    }
  if (rows.size() > kProcessBars) rows.resize(kProcessBars);
  if (rows.empty()) return "<p class=\"note\">no processes</p>";
  const double W = 900, label_w = 380, row_h = 22, pw = W - label_w - 90;
  std::string o = SvgOpen("compare-processes", W, row_h * rows.size() + 10, "processes");
  double y = 4;
  for (const Figure* f : rows) {
    o += Text(0, y + 14, Esc(Clip(f->what, 56)));
    for (int s = 0; s < 2; ++s) {
      const double v = s ? f->neu : f->base;
      const double w = max_v > 0 ? v / max_v * pw : 0;
      o += Rect(label_w, y + s * 9, w, 8, s ? "new" : "base",
                Esc(std::string(s ? "NEW " : "BASE ") + FormatValue(*f, v) + " per run"));
    }
    o += Text(label_w + pw + 6, y + 14, Esc(FormatDelta(*f)), "tick");
    y += row_h;
  }
  return o + "</svg>";
}

std::string Page(const Comparison& c, std::optional<double> pct) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; img-src data:\">\n";
  o += "<title>probe-report --compare</title>\n<style>" + std::string(kStyle) + "</style>\n";
  o += "</head>\n<body>\n<h1>BASE vs NEW</h1>\n<pre>";
  const std::string text = FormatCompareText(c, pct);
  o += Esc(text.substr(0, text.find("\n\n"))) + "</pre>\n";
  o +=
      "<p class=\"legend\"><span><svg width=\"10\" height=\"10\"><rect class=\"base\" width=\"10\" "
      "height=\"10\"/></svg> BASE</span><span><svg width=\"10\" height=\"10\"><rect class=\"new\" "
      "width=\"10\" height=\"10\"/></svg> NEW</span></p>\n";
  o += "<h2 id=\"figures\">Figures, regressions first</h2>\n<table class=\"data\"><tr><th>group"
       "</th><th>figure</th><th>measure</th><th>BASE</th><th>NEW</th><th>change</th><th>ratio"
       "</th><th>p</th><th>test</th></tr>\n";
  for (const Figure& f : c.figures) {
    if (f.base == f.neu && !f.significant()) continue;
    const char* cls = !f.significant() ? ""
                      : f.neu > f.base ? " class=\"slower\""
                                       : " class=\"faster\"";
    o += Printf(
        "<tr%s><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s"
        "</td><td>%s</td><td>%s</td></tr>\n",
        cls, GroupName(f.group), Esc(Clip(f.what)), Esc(f.measure),
        Esc(FormatValue(f, f.base, f.base_exact)), Esc(FormatValue(f, f.neu, f.new_exact)),
        Esc(FormatDelta(f)), Esc(FormatRatio(f)), Esc(FormatP(f.p)), Esc(f.test));
  }
  o += "</table>\n<h2 id=\"distributions\">Distributions, BASE and NEW overlaid</h2>\n";
  std::set<std::string> drawn;
  for (const Figure& f : c.figures) {
    if (f.base_hist.count() == 0 || drawn.count(f.what) || drawn.size() >= kOverlays) continue;
    drawn.insert(f.what);
    o += "<figure><figcaption>" + Esc(f.what) + " (" + Esc(f.measure) + " " +
         Esc(FormatValue(f, f.base, f.base_exact)) + " -> " +
         Esc(FormatValue(f, f.neu, f.new_exact)) + ", " + Esc(FormatP(f.p)) + ")</figcaption>" +
         OverlaySvg(f) + "</figure>\n";
  }
  o += "<h2 id=\"processes\">Processes: exec->exit per run</h2>\n" + ProcessBars(c) + "\n";
  o += "</body></html>\n";
  return o;
}

}  // namespace

bool WriteCompareHtml(const Comparison& c, const std::string& path, std::optional<double> pct,
                      std::string* error) {
  auto out = OutputFile::Create(path, error);
  if (!out) return false;
  const std::string page = Page(c, pct);
  size_t done = 0;
  while (done < page.size()) {
    ssize_t n = write(out->fd(), page.data() + done, page.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "cannot write " + path + ": " + strerror(errno);
      return false;  // out's new file is removed; the path is left as it was
    }
    done += size_t(n);
  }
  return out->Commit(error);
}

}  // namespace probe
