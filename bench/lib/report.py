"""Figures per measurement, their medians, the targets of issue 5, and the
table (plain text for the terminal, markdown for bench/results/)."""

import statistics


def median(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def with_unit(v, unit):
    """A figure and its unit ("3,650 msg/s", "10.6 KiB/session")."""
    return fmt(v, unit) if unit.startswith("B/") else f"{fmt(v, unit)} {unit}"


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit.startswith("B/"):
        return f"{v / 1024:.1f} KiB/{unit[2:]}"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}"


class Row:
    """One line of the table. Either a comparison (postern against a
    reference, optional ratio target) or a memory figure (max_target bytes
    per session and held_target sessions held without errors)."""

    def __init__(self, name, unit, ref_name, ratio_target=None, max_target=None,
                 held_target=None):
        self.name = name
        self.unit = unit
        self.ref_name = ref_name
        self.ratio_target = ratio_target
        self.max_target = max_target
        self.held_target = held_target
        self.postern = []
        self.ref = []
        self.errors = []
        self.held = []
        self.extra = []

    def add(self, who, value, error=None):
        if error:
            self.errors.append(f"{who}: {error}")
            value = None
        (self.postern if who == "postern" else self.ref).append(value)

    def p(self):
        return median(self.postern)

    def r(self):
        return median(self.ref)

    def ratio(self):
        p, r = self.p(), self.r()
        return p / r if p and r else None

    def progress(self):
        last_p = with_unit(self.postern[-1], self.unit) if self.postern else "-"
        text = f"{self.name}: postern {last_p}"
        if self.ref_name:
            last_r = fmt(self.ref[-1], self.unit) if self.ref else "-"
            text += f", {self.ref_name} {last_r}"
        if self.errors:
            text += f"  [error: {self.errors[-1]}]"
        return text

    def target_text(self):
        if self.ratio_target is not None:
            return f">= {self.ratio_target:g}x" if self.ratio_target >= 1 else \
                f">= {self.ratio_target * 100:.0f}% of {self.ref_name}"
        if self.max_target is not None:
            return f"<= {self.max_target // 1024} KiB, {self.held_target:,} held"
        return "(none)"

    def status(self):
        """'met', 'NOT met' with the distance, or '-' without a target."""
        if self.ratio_target is not None:
            ratio = self.ratio()
            if ratio is None:
                return "no figure"
            if ratio >= self.ratio_target:
                return f"met (+{(ratio / self.ratio_target - 1) * 100:.0f}%)"
            return (f"NOT met: {ratio:.2f}x of {self.ratio_target:g}x "
                    f"(needs {self.ratio_target / ratio:.2f}x faster)")
        if self.max_target is not None:
            per = self.p()
            if per is None:
                return "no figure"
            parts = []
            held = min(self.held) if self.held else 0
            if per <= self.max_target and held >= self.held_target and not self.errors:
                return f"met ({per / self.max_target * 100:.0f}% of the bound)"
            if per > self.max_target:
                parts.append(f"{(per - self.max_target) / 1024:.1f} KiB over")
            if held < self.held_target or self.errors:
                parts.append(f"{held:,} of {self.held_target:,} held")
            return "NOT met: " + ", ".join(parts)
        return "-"


def unique_errors(row):
    """Each distinct error once, with how many repetitions had it."""
    seen = {}
    for e in row.errors:
        seen[e] = seen.get(e, 0) + 1
    return [e if n == 1 else f"{e} (x{n})" for e, n in seen.items()]


HEAD = ["measurement", "postern", "reference", "ratio", "target", "status"]


def cells(row):
    ref = f"{fmt(row.r(), row.unit)} ({row.ref_name})" if row.ref_name else "-"
    ratio = f"{row.ratio():.2f}x" if row.ratio() is not None else "-"
    return [row.name, with_unit(row.p(), row.unit), ref, ratio, row.target_text(),
            row.status()]


def text_table(rows):
    table = [HEAD] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEAD))]
    out = []
    for k, line in enumerate(table):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(rows, header_lines, reps):
    out = list(header_lines) + ["", f"Medians of {reps} repetition(s).", ""]
    out.append("| " + " | ".join(HEAD) + " |")
    out.append("|" + "---|" * len(HEAD))
    for r in rows:
        out.append("| " + " | ".join(cells(r)) + " |")
    out += ["", "Every repetition:", ""]
    for r in rows:
        ps = ", ".join(fmt(v, r.unit) for v in r.postern)
        line = f"- {r.name}: postern [{ps}]"
        if r.ref_name:
            line += f", {r.ref_name} [" + ", ".join(fmt(v, r.unit) for v in r.ref) + "]"
        if r.extra:
            line += "; " + "; ".join(r.extra)
        out.append(line)
        for e in unique_errors(r):
            out.append(f"  - error: {e}")
    return "\n".join(out) + "\n"
