#include "html_plots.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <utility>

#include "histogram.h"
#include "html_writer.h"

namespace probe::html {

// 4096 -> "4.1us": short, for axis labels.
std::string ShortDuration(double ns) {
  struct Unit {
    double scale;
    const char* name;
  };
  static const Unit kUnits[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}};
  for (const auto& u : kUnits) {
    if (ns >= u.scale || u.scale == 1) {
      const double v = ns / u.scale;
      if (v == 0) return "0";
      return v < 9.95 && v != std::floor(v) ? Printf("%.1f%s", v, u.name)
                                            : Printf("%.0f%s", v, u.name);
    }
  }
  return "?";
}

// A nice step (1, 2 or 5 x 10^k ns) giving at most about `ticks` ticks.
double TickStep(double span, int ticks) {
  const double raw = std::max(span / ticks, 1.0);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

// "+12.5ms": an offset on a time axis labelled in the unit of its step.
std::string AxisLabel(double offset_ns, double step) {
  double scale = 1;
  const char* unit = "ns";
  if (step >= 1e9) {
    scale = 1e9, unit = "s";
  } else if (step >= 1e6) {
    scale = 1e6, unit = "ms";
  } else if (step >= 1e3) {
    scale = 1e3, unit = "us";
  }
  const double s = step / scale;
  const int decimals = s >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(s) - 1e-9));
  return Printf("%s%.*f%s", offset_ns > 0 ? "+" : "", decimals, offset_ns / scale, unit);
}

// ---------------------------------------------------------------------------
// SVG pieces.

std::string Rect(double x, double y, double w, double h, const std::string& cls,
                 const std::string& title) {
  std::string r = Printf(R"(<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f")",
                         cls.c_str(), x, y, std::max(w, 0.0), std::max(h, 0.0));
  if (title.empty()) return r + "/>";
  return r + "><title>" + title + "</title></rect>";
}

std::string Text(double x, double y, const std::string& escaped, const char* cls,
                 const char* anchor) {
  return Printf(R"(<text class="%s" x="%.1f" y="%.1f" text-anchor="%s">)", cls, x, y, anchor) +
         escaped + "</text>";
}

std::string Line(double x1, double y1, double x2, double y2, const char* cls) {
  return Printf(R"(<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>)", cls, x1, y1, x2,
                y2);
}

std::string SvgOpen(const char* kind, double w, double h, const std::string& label) {
  return Printf(R"(<svg class="plot" data-kind="%s" width="%.0f" height="%.0f" )", kind, w, h) +
         Printf(R"(viewBox="0 0 %.0f %.0f" role="img" aria-label=")", w, h) + label + "\">";
}

// A time axis along y = top..bottom over [x0, x0 + width] for [t0, t1].
std::string TimeAxis(double x0, double width, double top, double bottom, uint64_t t0, uint64_t t1,
                     uint64_t origin) {
  std::string out;
  const double span = static_cast<double>(t1 - t0);
  const double step = TickStep(span, 8);
  // Ticks at multiples of step from the origin (the agent's start), so labels
  // read as time since recording started.
  const double first = std::ceil((static_cast<double>(t0) - static_cast<double>(origin)) / step);
  for (int k = 0; k < 50; ++k) {
    const double off = (first + k) * step;  // from origin
    const double t = static_cast<double>(origin) + off;
    if (t > static_cast<double>(t1) + 1e-6) break;
    const double x = x0 + (t - static_cast<double>(t0)) / span * width;
    out += Line(x, top, x, bottom, "grid");
    out += Text(x, bottom + 14, Esc(AxisLabel(off, step)), "tick", "middle");
  }
  out += Line(x0, bottom, x0 + width, bottom, "axis");
  return out;
}

// ---------------------------------------------------------------------------
// Histograms.

std::string BucketRange(int i, int last_possible) {
  const std::string lo = FormatDuration(BucketLow(i));
  if (i >= last_possible) return ">= " + lo;
  return "[" + lo + ", " + FormatDuration(uint64_t{1} << (i + 1)) + ")";
}

// A bar chart of the log2 buckets from the first to the last non-empty one.
// `what` names the things counted ("calls", "periods").
std::string HistogramSvg(const v1::SyscallHistogram& h, const std::string& label, const char* kind,
                         const char* what, size_t* bars) {
  const double W = 540, H = 190, left = 50, right = 10, top = 16, bottom = 34;
  const double pw = W - left - right, ph = H - top - bottom;
  int first = -1, last = -1;
  uint64_t max_count = 0, total = 0;
  for (int i = 0; i < h.log2_buckets_size(); ++i) {
    const uint64_t n = h.log2_buckets(i);
    if (!n) continue;
    if (first < 0) first = i;
    last = i;
    max_count = std::max(max_count, n);
    total += n;
  }
  std::string o = SvgOpen(kind, W, H, label);
  o += Line(left, top + ph, left + pw, top + ph, "axis");
  o += Line(left, top, left, top + ph, "axis");
  if (first < 0) {
    o += Text(left + pw / 2, top + ph / 2, "no " + std::string(what), "note", "middle");
    return o + "</svg>";
  }
  // At least 8 buckets wide, so one busy bucket is not one giant slab.
  while (last - first + 1 < 8 && last < kHistogramBuckets - 1) ++last;
  while (last - first + 1 < 8 && first > 0) --first;
  const int n = last - first + 1;
  const double bw = pw / n;
  // Horizontal grid at the max and, when it is a whole number, at half of it.
  for (double f : {0.5, 1.0}) {
    if (f < 1 && max_count % 2) continue;
    const double y = top + ph - f * ph;
    o += Line(left, y, left + pw, y, "grid");
    o += Text(left - 4, y + 4, Num(static_cast<uint64_t>(f * max_count)), "tick", "end");
  }
  o += Text(left - 4, top + ph + 4, "0", "tick", "end");
  o += Text(4, 10, what, "tick");
  const int label_every = std::max(1, static_cast<int>(std::ceil(34.0 / bw)));
  for (int i = first; i <= last; ++i) {
    const double x = left + (i - first) * bw;
    const uint64_t count = i < h.log2_buckets_size() ? h.log2_buckets(i) : 0;
    if (count) {
      const double bh = std::max(1.0, static_cast<double>(count) / max_count * ph);
      const std::string title =
          Esc(BucketRange(i, kHistogramBuckets - 1) + ": " + Num(count) + " " + what +
              Printf(" (%.1f%%)", 100.0 * count / std::max<uint64_t>(total, 1)));
      o += Rect(x + std::min(1.0, bw * 0.1), top + ph - bh, bw - 2 * std::min(1.0, bw * 0.1), bh,
                "bar", title);
      if (bw >= 26) o += Text(x + bw / 2, top + ph - bh - 3, Num(count), "count", "middle");
      ++*bars;
    }
    if ((i - first) % label_every == 0) {
      o += Line(x, top + ph, x, top + ph + 4, "axis");
      o += Text(x, top + ph + 15, Esc(ShortDuration(static_cast<double>(BucketLow(i)))), "tick",
                "middle");
    }
  }
  return o + "</svg>";
}

std::string Legend(std::initializer_list<std::pair<const char*, const char*>> entries,
                   const std::string& extra) {
  std::string o = "<div class=\"legend\">";
  for (auto [cls, name] : entries)
    o += std::string("<span><svg width=\"12\" height=\"12\"><rect class=\"") + cls +
         "\" width=\"12\" height=\"12\"/></svg> " + name + "</span>";
  return o + extra + "</div>";
}

}  // namespace probe::html
