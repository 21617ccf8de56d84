// How a walk is shown: a human report (colour only when asked, i.e. on a
// terminal) and the JSON document whose schema docs/troubleshooting.md
// documents and keeps stable ("schema": 1).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "probe/probe.hpp"

namespace postern::probe {

// One line per step with its timing, then the diagnosis, explanation and
// advice when the walk failed, or a one-line summary when it worked.
std::string render_text(const ProbeResult& result, bool color);

// The result as a JSON value (no "schema" key), so a scan can hold several.
nlohmann::json to_json(const ProbeResult& result);

// The whole document for `postern probe --json` / `postern send --json`:
// {"schema": 1, "command": "probe", ...to_json(result)}.
std::string render_json(const ProbeResult& result, std::string_view command);

}  // namespace postern::probe
