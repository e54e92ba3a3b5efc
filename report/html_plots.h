// The HTML page's plots, drawn in C++ as inline SVG: shapes, a time axis,
// and the bar chart of a log2 histogram. Text arguments named "escaped" must
// already be HTML-escaped.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "probe.pb.h"

namespace probe::html {

// 4096 -> "4.1us": short, for axis labels.
std::string ShortDuration(double ns);
// A nice step (1, 2 or 5 x 10^k ns) giving at most about `ticks` ticks.
double TickStep(double span, int ticks);
// "+12.5ms": an offset on a time axis labelled in the unit of its step.
std::string AxisLabel(double offset_ns, double step);

std::string Rect(double x, double y, double w, double h, const std::string& cls,
                 const std::string& title = "");
std::string Text(double x, double y, const std::string& escaped, const char* cls = "",
                 const char* anchor = "start");
std::string Line(double x1, double y1, double x2, double y2, const char* cls);
std::string SvgOpen(const char* kind, double w, double h, const std::string& label);
// A time axis along y = top..bottom over [x0, x0 + width] for [t0, t1],
// ticks labelled as time since origin.
std::string TimeAxis(double x0, double width, double top, double bottom, uint64_t t0, uint64_t t1,
                     uint64_t origin);
// "[1.0 us, 2.0 us)", ">= 70368.744 s" for the last bucket.
std::string BucketRange(int i, int last_possible);
// A bar chart of the log2 buckets from the first to the last non-empty one.
// `what` names the things counted ("calls", "periods"); *bars counts the bars.
std::string HistogramSvg(const v1::SyscallHistogram& h, const std::string& label, const char* kind,
                         const char* what, size_t* bars);
// A legend of coloured squares: (css class, escaped name) pairs.
std::string Legend(std::initializer_list<std::pair<const char*, const char*>> entries,
                   const std::string& extra = "");

}  // namespace probe::html
