// Text, markdown and HTML share one layout: the report is first laid out
// as a list of blocks (headings, fields, tables, preformatted text), then
// each form writes the blocks its way.
#include "analyzer/frontends/triage/triage_render.hpp"

#include "analyzer/frontends/markup/markup_escape.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace coroner::frontends::triage {

namespace {

struct Block {
  enum class Kind { heading, fields, table, pre, paragraph } kind;
  std::string title;                               // heading, paragraph
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::vector<std::string>> rows;      // table: the first row is the header
  std::vector<std::string> lines;                  // pre
};

Block heading(std::string title) { return {Block::Kind::heading, std::move(title), {}, {}, {}}; }
Block paragraph(std::string text) { return {Block::Kind::paragraph, std::move(text), {}, {}, {}}; }
Block pre(std::vector<std::string> lines) { return {Block::Kind::pre, "", {}, {}, std::move(lines)}; }
Block table(std::vector<std::vector<std::string>> rows) { return {Block::Kind::table, "", {}, std::move(rows), {}}; }

std::string frame_text(const ReportFrame& f) {
  std::string text = f.function.empty() ? fmt::format("{:#x}", f.pc)
                                        : fmt::format("{}{}", f.function, f.inlined ? " (inlined)" : fmt::format("+{:#x}", f.offset));
  if (!f.module.empty()) text += fmt::format(" [{}]", f.module);
  if (!f.file.empty()) text += fmt::format("  {}:{}", f.file, f.line);
  return text;
}

std::vector<std::string> stack_lines(const ReportTask& task) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < task.stack.size(); ++i) lines.push_back(fmt::format("#{:<2} {}", i, frame_text(task.stack[i])));
  if (task.stack_problem) lines.push_back(fmt::format("({})", *task.stack_problem));
  return lines;
}

std::string task_text(const ReportTask& t) {
  return fmt::format("PID {} \"{}\" on CPU {}{}", t.pid, t.comm, t.cpu, t.task ? fmt::format(" (task {:#x})", t.task) : "");
}

std::string optional_text(const std::optional<uint64_t>& value, std::string_view suffix = "") {
  return value ? fmt::format("{}{}", *value, suffix) : "unknown";
}

std::string mib(uint64_t pages, uint64_t page_size) { return fmt::format("{} MiB", pages * page_size >> 20); }

std::vector<Block> layout(const TriageReport& r) {
  std::vector<Block> blocks;
  blocks.push_back(heading("Verdict"));
  blocks.push_back(paragraph(verdict_line(r)));
  Block verdict{Block::Kind::fields, "", {}, {}, {}};
  verdict.fields = {{"kind", r.kind}, {"panic", r.panic_line.empty() ? "(no panic or oops line in the log)" : r.panic_line}};
  if (r.fault_address) verdict.fields.emplace_back("fault address", fmt::format("{:#x}", *r.fault_address));
  if (r.with_vmlinux)
    verdict.fields.emplace_back("taint", fmt::format("{} ({:#x}{}{})", r.taint_letters.empty() ? "none" : r.taint_letters,
                                                     r.taint_mask, r.taint_names.empty() ? "" : ": ",
                                                     fmt::join(r.taint_names, ", ")));
  if (r.instruction)
    verdict.fields.emplace_back("instruction", fmt::format("{:#x} {}: {}{}", r.instruction->address, r.instruction->symbol,
                                                           r.instruction->text,
                                                           r.instruction->file.empty() ? ""
                                                               : fmt::format("  {}:{}", r.instruction->file, r.instruction->line)));
  if (r.crashing_task) verdict.fields.emplace_back("crashing task", task_text(*r.crashing_task));
  verdict.fields.emplace_back("release", r.release);
  verdict.fields.emplace_back("machine", r.machine);
  if (!r.nodename.empty()) verdict.fields.emplace_back("node", r.nodename);
  verdict.fields.emplace_back("uptime", optional_text(r.uptime_seconds, " s"));
  verdict.fields.emplace_back("dump", r.dump_format);
  blocks.push_back(std::move(verdict));
  for (const std::string& m : r.missing) blocks.push_back(paragraph(fmt::format("Missing: {}", m)));

  blocks.push_back(heading("Signature"));
  Block signature{Block::Kind::fields, "", {}, {}, {}};
  signature.fields = {{"hash", r.signature.hash}, {"title", r.signature.title},
                      {"module", r.signature.module.empty() ? "(vmlinux)" : r.signature.module},
                      {"from", r.signature.source == "stack" ? "the unwound stack" : "the console's call trace"}};
  blocks.push_back(std::move(signature));
  std::vector<std::string> frames;
  for (const SignatureFrame& f : r.signature.frames)
    frames.push_back(fmt::format("{}{}{}", f.inlined ? "  (inlined) " : "", f.function,
                                 f.module.empty() ? "" : fmt::format(" [{}]", f.module)));
  blocks.push_back(pre(frames));

  if (r.sections.contains("backtrace") && r.crashing_task && !r.crashing_task->stack.empty()) {
    blocks.push_back(heading("Crashing backtrace"));
    blocks.push_back(pre(stack_lines(*r.crashing_task)));
  }
  if (r.sections.contains("registers") && !r.registers.empty()) {
    blocks.push_back(heading(fmt::format("Registers (CPU {})", r.crash_cpu.value_or(0))));
    std::vector<std::string> lines;
    for (size_t i = 0; i < r.registers.size(); i += 3) {
      std::string line;
      for (size_t j = i; j < std::min(i + 3, r.registers.size()); ++j)
        line += fmt::format("{:>8}: {:016x}  ", r.registers[j].name, r.registers[j].value);
      lines.push_back(line.substr(0, line.find_last_not_of(' ') + 1));
    }
    blocks.push_back(pre(lines));
  }
  if (r.sections.contains("log")) {
    blocks.push_back(heading("Log"));
    if (r.first_warning) blocks.push_back(paragraph(fmt::format("First warning: {}", *r.first_warning)));
    blocks.push_back(pre(r.log_tail));
  }
  if (r.sections.contains("modules") && r.with_vmlinux) {
    blocks.push_back(heading("Modules"));
    std::vector<std::vector<std::string>> rows = {{"NAME", "BASE", "SIZE", "FLAGS", "CRASHING", "OBJECT"}};
    for (const ReportModule& m : r.modules)
      rows.push_back({m.name, fmt::format("{:x}", m.base), std::to_string(m.size), m.flags, m.crashing ? "yes" : "",
                      m.object.empty() ? "(not found)" : m.object});
    blocks.push_back(table(rows));
  }
  if (r.sections.contains("hung") && r.with_vmlinux) {
    blocks.push_back(heading("Hung (D state) tasks"));
    if (r.hung_tasks.empty()) blocks.push_back(paragraph("none"));
    for (const ReportTask& t : r.hung_tasks) {
      blocks.push_back(paragraph(task_text(t) + (t.waiting_ns ? fmt::format(", waiting {:.3f} s", *t.waiting_ns / 1e9) : "")));
      blocks.push_back(pre(stack_lines(t)));
    }
  }
  if (r.sections.contains("active") && r.with_vmlinux) {
    blocks.push_back(heading("Active tasks"));
    for (const ReportTask& t : r.active_tasks) {
      blocks.push_back(paragraph(fmt::format("CPU {}: {} [{}]", t.cpu, task_text(t), t.state)));
      blocks.push_back(pre(stack_lines(t)));
    }
  }
  if (r.memory) {
    const MemoryReport& m = *r.memory;
    blocks.push_back(heading("Memory"));
    Block fields{Block::Kind::fields, "", {}, {}, {}};
    fields.fields = {{"total", mib(m.total_ram, m.page_size)}, {"free", mib(m.free, m.page_size)},
                     {"cached", mib(m.cached, m.page_size)},   {"slab", mib(m.slab, m.page_size)},
                     {"swap used", fmt::format("{} of {}", mib(m.swap_used, m.page_size), mib(m.swap_total, m.page_size))}};
    blocks.push_back(std::move(fields));
    std::vector<std::vector<std::string>> rows = {{"CACHE", "OBJSIZE", "ALLOCATED", "TOTAL", "KIB"}};
    for (const SlabUsage& s : m.top_slabs)
      rows.push_back({s.name, std::to_string(s.object_size), std::to_string(s.allocated), std::to_string(s.total),
                      std::to_string(s.bytes >> 10)});
    blocks.push_back(table(rows));
  }
  if (r.sections.contains("runq") && r.with_vmlinux) {
    blocks.push_back(heading("Run queues"));
    std::vector<std::vector<std::string>> rows = {{"CPU", "CURRENT", "RT", "CFS", "DL"}};
    for (const RunQueueLength& q : r.run_queues)
      rows.push_back({std::to_string(q.cpu), fmt::format("{} \"{}\"", q.current_pid, q.current_comm),
                      std::to_string(q.rt), std::to_string(q.cfs), std::to_string(q.dl)});
    blocks.push_back(table(rows));
  }
  if (r.sections.contains("checks") && !r.findings.empty()) {
    blocks.push_back(heading("Checks"));
    for (const CheckFinding& f : r.findings) {
      blocks.push_back(paragraph(fmt::format("[{}] {}: {}", f.severity, f.check, f.summary)));
      if (!f.details.empty()) blocks.push_back(pre(f.details));
    }
  }
  if (!r.problems.empty()) {
    blocks.push_back(heading("Not read"));
    blocks.push_back(pre(r.problems));
  }
  return blocks;
}

std::vector<size_t> column_widths(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  return widths;
}

// Markdown table cells: a '|' would end the cell.
std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

constexpr std::string_view kHtmlStyle = R"(body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em;color:#111}
h1{font-size:1.4em;border-bottom:2px solid #a00}h2{font-size:1.15em;margin-top:1.4em;border-bottom:1px solid #ccc}
.verdict{font-size:1.2em;font-weight:bold;color:#a00}pre{background:#f4f4f4;padding:.5em;overflow-x:auto;font-size:.85em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.15em .5em;text-align:left;font-size:.9em}
th{background:#eee}dt{font-weight:bold;float:left;clear:left;width:9em}dd{margin-left:10em}
@media print{body{max-width:none}pre{white-space:pre-wrap;background:none;border:1px solid #ccc}h2{page-break-after:avoid}})";

}  // namespace

std::string verdict_line(const TriageReport& r) {
  std::string line = fmt::format("{}: {}", r.kind, r.signature.title);
  if (!r.signature.module.empty()) line += fmt::format(" (module {})", r.signature.module);
  return line;
}

std::string render_text(const TriageReport& r) {
  std::string out = "coroner triage report\n";
  for (const Block& b : layout(r)) {
    switch (b.kind) {
      case Block::Kind::heading: out += fmt::format("\n== {} ==\n", b.title); break;
      case Block::Kind::paragraph: out += b.title + '\n'; break;
      case Block::Kind::fields:
        for (const auto& [key, value] : b.fields) out += fmt::format("{:>14}: {}\n", key, value);
        break;
      case Block::Kind::pre:
        for (const std::string& line : b.lines) out += fmt::format("  {}\n", line);
        break;
      case Block::Kind::table: {
        const std::vector<size_t> widths = column_widths(b.rows);
        for (const auto& row : b.rows) {
          std::string line = " ";
          for (size_t i = 0; i < row.size(); ++i) line += fmt::format(" {:<{}}", row[i], widths[i]);
          out += line.substr(0, line.find_last_not_of(' ') + 1) + '\n';
        }
        break;
      }
    }
  }
  return out;
}

std::string render_markdown(const TriageReport& r) {
  std::string out = "# coroner triage report\n";
  for (const Block& b : layout(r)) {
    switch (b.kind) {
      case Block::Kind::heading: out += fmt::format("\n## {}\n\n", b.title); break;
      case Block::Kind::paragraph: out += b.title + "\n\n"; break;
      case Block::Kind::fields:
        for (const auto& [key, value] : b.fields) out += fmt::format("- **{}**: `{}`\n", key, value);
        out += '\n';
        break;
      case Block::Kind::pre:
        out += "```\n";
        for (const std::string& line : b.lines) out += line + '\n';
        out += "```\n\n";
        break;
      case Block::Kind::table:
        for (size_t i = 0; i < b.rows.size(); ++i) {
          out += "|";
          for (const std::string& cell : b.rows[i]) out += fmt::format(" {} |", markdown_cell(cell));
          out += '\n';
          if (i == 0)
            for (size_t column = 0; column <= b.rows[0].size(); ++column) out += column ? " --- |" : "|";
          if (i == 0) out += '\n';
        }
        out += '\n';
        break;
    }
  }
  return out;
}

std::string render_html(const TriageReport& r) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{}</title>\n<style>{}</style>\n"
      "</head><body>\n<h1>coroner triage report</h1>\n",
      markup_escaped(verdict_line(r)), kHtmlStyle);
  bool first_paragraph = true;
  for (const Block& b : layout(r)) {
    switch (b.kind) {
      case Block::Kind::heading: out += fmt::format("<h2>{}</h2>\n", markup_escaped(b.title)); break;
      case Block::Kind::paragraph:
        out += fmt::format("<p{}>{}</p>\n", first_paragraph ? " class=\"verdict\" id=\"verdict\"" : "", markup_escaped(b.title));
        first_paragraph = false;
        break;
      case Block::Kind::fields:
        out += "<dl>\n";
        for (const auto& [key, value] : b.fields)
          out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", markup_escaped(key), markup_escaped(value));
        out += "</dl>\n";
        break;
      case Block::Kind::pre:
        out += "<pre>";
        for (const std::string& line : b.lines) out += markup_escaped(line) + '\n';
        out += "</pre>\n";
        break;
      case Block::Kind::table:
        out += "<table>\n";
        for (size_t i = 0; i < b.rows.size(); ++i) {
          out += "<tr>";
          for (const std::string& cell : b.rows[i]) out += fmt::format(fmt::runtime(i ? "<td>{}</td>" : "<th>{}</th>"), markup_escaped(cell));
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
    }
  }
  return out + "</body></html>\n";
}

std::string render_report(const TriageReport& report, ReportFormat format) {
  switch (format) {
    case ReportFormat::text: return render_text(report);
    case ReportFormat::markdown: return render_markdown(report);
    case ReportFormat::json: return report_json(report).dump(2) + '\n';
    case ReportFormat::html: return render_html(report);
  }
  return "";
}

}  // namespace coroner::frontends::triage
