// How a walk is shown: a human report (colour only when asked, i.e. on a
// terminal) and the JSON document whose schema docs/troubleshooting.md
// documents and keeps stable ("schema": 1).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "probe/probe.hpp"

namespace postern::probe {

// The ANSI colours of the human reports (walk and scan).
inline constexpr std::string_view kGreen = "\x1b[32m";
inline constexpr std::string_view kRed = "\x1b[31m";
inline constexpr std::string_view kBold = "\x1b[1m";
inline constexpr std::string_view kReset = "\x1b[0m";

// `text` in `colour` when `color` (the output is a terminal), else as is.
std::string paint(std::string_view text, std::string_view colour, bool color);

// One line per step with its timing, then the diagnosis, explanation and
// advice when the walk failed, or a one-line summary when it worked.
std::string render_text(const ProbeResult& result, bool color);

// The result as a JSON value (no "schema" key), so a scan can hold several.
nlohmann::json to_json(const ProbeResult& result);

// The whole document for `postern probe --json` / `postern send --json`:
// {"schema": 1, "command": "probe", ...to_json(result)}.
std::string render_json(const ProbeResult& result, std::string_view command);

}  // namespace postern::probe
