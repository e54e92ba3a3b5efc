// Placeholder until the exporter lands: says so instead of writing nothing.
#include "exporter.h"

namespace probe {

std::unique_ptr<Exporter> MakeCsvExporter(const std::string& dir, std::string* error) {
  *error = "not implemented yet: " + dir;
  return nullptr;
}

}  // namespace probe
