#include "cli_args.h"

#include <algorithm>

namespace probe {

namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

bool ExpandArgs(const std::vector<std::string>& in, const ArgSpec& spec,
                std::vector<std::string>* out, std::string* error) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& a = in[i];
    bool takes_next = false;  // the next word is this option's value, verbatim
    if (a == "--") {
      out->insert(out->end(), in.begin() + static_cast<long>(i), in.end());
      return true;
    } else if (a.rfind("--", 0) == 0) {
      size_t eq = a.find('=');
      std::string name = a.substr(0, eq);
      // Split at '=' unless the option is a known flag: an option the spec
      // does not list yet still gets its value, and the parser judges it.
      if (eq != std::string::npos && !Has(spec.long_flags, name)) {
        out->push_back(name);
        out->push_back(a.substr(eq + 1));
        continue;
      }
      if (eq != std::string::npos && Has(spec.long_flags, name)) {
        *error = "option " + name + " takes no value (got '" + a + "')";
        return false;
      }
      out->push_back(a);
      takes_next = Has(spec.long_values, a);
    } else if (a.size() > 2 && a[0] == '-') {
      // A bundle of short options: flags, then at most one that takes a
      // value, which is the rest of the word or else the next word.
      for (size_t j = 1; j < a.size(); ++j) {
        char c = a[j];
        std::string opt = std::string("-") + c;
        if (spec.short_flags.find(c) != std::string::npos) {
          out->push_back(opt);
        } else if (spec.short_values.find(c) != std::string::npos) {
          out->push_back(opt);
          if (j + 1 < a.size())
            out->push_back(a.substr(j + 1));
          else
            takes_next = true;
          break;
        } else {
          *error = "unknown option '" + opt + "' in '" + a + "' (see --help)";
          return false;
        }
      }
    } else {
      out->push_back(a);
      takes_next =
          a.size() == 2 && a[0] == '-' && spec.short_values.find(a[1]) != std::string::npos;
    }
    if (takes_next && i + 1 < in.size()) out->push_back(in[++i]);
  }
  return true;
}

}  // namespace probe
