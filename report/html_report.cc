// Placeholder until the exporter lands: says so instead of writing nothing.
#include "exporter.h"

namespace probe {

std::unique_ptr<Exporter> MakeHtmlExporter(const std::string& path, std::string* error) {
  *error = "not implemented yet: " + path;
  return nullptr;
}

}  // namespace probe
