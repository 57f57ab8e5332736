#include "deploy/manual/program_manual.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace coroner::manual {

namespace {

constexpr size_t kWidth = 80;        // of --help
constexpr size_t kOptionColumn = 24;  // where an option's text starts in --help

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Paragraphs split at blank lines; `preformatted` when the first line is
// indented.
struct Paragraph {
  std::vector<std::string> lines;
  bool preformatted = false;
};

std::vector<Paragraph> paragraphs_of(const std::string& text) {
  std::vector<Paragraph> out;
  Paragraph current;
  for (const std::string& line : lines_of(text)) {
    if (line.find_first_not_of(' ') == std::string::npos) {
      if (!current.lines.empty()) out.push_back(std::move(current));
      current = Paragraph();
      continue;
    }
    if (current.lines.empty()) current.preformatted = line.starts_with("  ");
    current.lines.push_back(line);
  }
  if (!current.lines.empty()) out.push_back(std::move(current));
  return out;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// A synopsis's words, a bracketed group ("[--output text|json]") as one,
// so that wrapping never splits it.
std::string unbreakable_groups(const std::string& synopsis) {
  std::string out = synopsis;
  int depth = 0;
  for (char& c : out) {
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    if (c == ' ' && depth > 0) c = '\x1f';
  }
  return out;
}

// `text` reflowed into lines of at most `width` columns after `indent`.
std::string wrapped(const std::string& text, size_t indent, size_t width, size_t first_column) {
  std::string out;
  size_t column = first_column;
  bool line_start = true;
  for (const std::string& word : words_of(text)) {
    if (!line_start && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
      line_start = true;
    }
    if (!line_start) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    line_start = false;
  }
  return out;
}

std::string text_block(const std::string& text, size_t indent) {
  std::string out;
  for (const Paragraph& p : paragraphs_of(text)) {
    if (!out.empty()) out += '\n';
    if (p.preformatted) {
      for (const std::string& line : p.lines) out += std::string(indent, ' ') + line + '\n';
    } else {
      std::string joined;
      for (const std::string& line : p.lines) joined += line + ' ';
      out += std::string(indent, ' ') + wrapped(joined, indent, kWidth, indent) + '\n';
    }
  }
  return out;
}

std::string option_label(const Option& option) {
  return option.argument.empty() ? option.names : option.names + " " + option.argument;
}

// roff: a backslash is \e, a line may not start with . or ', and "-" in
// names is \- (a real hyphen-minus, so the page can be searched for it).
std::string roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  return out;
}

std::string roff_line(const std::string& line) {
  const std::string escaped = roff(line);
  return escaped.starts_with(".") || escaped.starts_with("'") ? "\\&" + escaped : escaped;
}

std::string roff_text(const std::string& text) {
  std::string out;
  for (const Paragraph& p : paragraphs_of(text)) {
    if (p.preformatted) {
      out += ".PP\n.RS 4\n.nf\n";
      for (const std::string& line : p.lines) out += roff_line(line.substr(2)) + '\n';
      out += ".fi\n.RE\n";
    } else {
      out += ".PP\n";
      for (const std::string& line : p.lines) out += roff_line(line.substr(line.find_first_not_of(' '))) + '\n';
    }
  }
  return out;
}

// "-x, --command" as bold names, the argument in italics.
std::string roff_option(const Option& option) {
  std::string out;
  for (const std::string& word : words_of(option.names)) {
    const bool comma = word.ends_with(",");
    out += "\\fB" + roff(comma ? word.substr(0, word.size() - 1) : word) + "\\fR" + (comma ? ", " : "");
  }
  if (!option.argument.empty()) out += " \\fI" + roff(option.argument) + "\\fR";
  return out;
}

// The words an option's argument completes to, as a compgen action.
std::string completion_action(const ProgramManual& manual, const std::string& argument) {
  if (argument == "DIR") return "-d";
  if (argument == "FILE" || argument == "VMLINUX" || argument == "DUMP") return "-f";
  std::string words;
  if (argument == "COMMAND") {
    for (const std::string& w : manual.command_words) words += (words.empty() ? "" : " ") + w;
  } else if (argument.find('|') != std::string::npos) {
    words = argument;
    std::replace(words.begin(), words.end(), '|', ' ');
  }
  return words.empty() ? "" : "-W '" + words + "'";
}

std::vector<std::string> spellings(const Option& option) {
  std::vector<std::string> out;
  for (std::string word : words_of(option.names)) {
    if (word.ends_with(",")) word.pop_back();
    out.push_back(word);
  }
  return out;
}

}  // namespace

std::string usage_lines(const ProgramManual& manual) {
  std::string out;
  for (size_t i = 0; i < manual.synopsis.size(); ++i) {
    const std::string lead = i == 0 ? "Usage: " : "       ";
    const size_t indent = lead.size() + manual.name.size() + 1;
    std::string line = wrapped(unbreakable_groups(manual.synopsis[i]), indent, kWidth, indent);
    std::replace(line.begin(), line.end(), '\x1f', ' ');
    out += lead + manual.name + " " + line + '\n';
  }
  return out;
}

std::string help_text(const ProgramManual& manual) {
  std::string out = usage_lines(manual) + '\n' + text_block(manual.description, 0) + "\nOptions:\n";
  for (const Option& option : manual.options) {
    std::string label = "  " + option_label(option);
    if (label.size() + 2 > kOptionColumn) label += "\n" + std::string(kOptionColumn, ' ');
    else label += std::string(kOptionColumn - label.size(), ' ');
    out += label + wrapped(option.text, kOptionColumn, kWidth, kOptionColumn) + '\n';
  }
  for (const Section& section : manual.sections) {
    if (std::find(manual.in_help.begin(), manual.in_help.end(), section.title) == manual.in_help.end()) continue;
    std::string title = section.title;
    std::transform(title.begin() + 1, title.end(), title.begin() + 1, [](unsigned char c) { return std::tolower(c); });
    out += "\n" + title + ":\n" + text_block(section.text, 2);
    for (const Entry& entry : section.entries) out += "  " + entry.heading + '\n';
  }
  return out;
}

std::string man_page(const ProgramManual& manual) {
  std::string upper = manual.name;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  std::string out = fmt::format(".TH {} {} \"\" \"coroner {}\" \"coroner\"\n", upper, manual.section,
                                CORONER_VERSION);
  out += ".SH NAME\n" + roff(manual.name) + " \\- " + roff(manual.summary) + "\n.SH SYNOPSIS\n";
  for (const std::string& form : manual.synopsis) out += ".B " + roff(manual.name) + "\n" + roff_line(form) + "\n.br\n";
  out += ".SH DESCRIPTION\n" + roff_text(manual.description) + ".SH OPTIONS\n";
  for (const Option& option : manual.options) out += ".TP\n" + roff_option(option) + "\n" + roff_line(option.text) + "\n";
  for (const Section& section : manual.sections) {
    out += ".SH " + roff(section.title) + "\n" + roff_text(section.text);
    for (const Entry& entry : section.entries) {
      out += ".SS " + roff(entry.heading) + "\n.nf\n";
      for (const std::string& line : lines_of(entry.body)) out += roff_line(line) + '\n';
      out += ".fi\n";
    }
  }
  return out;
}

std::string bash_completion(const ProgramManual& manual) {
  std::string function = "_" + manual.name;
  std::replace(function.begin(), function.end(), '-', '_');
  std::string cases, all;
  for (const Option& option : manual.options) {
    std::string names;
    for (const std::string& spelling : spellings(option)) {
      names += (names.empty() ? "" : "|") + spelling;
      all += (all.empty() ? "" : " ") + spelling;
    }
    if (option.argument.empty()) continue;
    const std::string action = completion_action(manual, option.argument);
    cases += fmt::format("    {}) {}return ;;\n", names,
                         action.empty() ? "" : "COMPREPLY=($(compgen " + action + " -- \"$cur\")); ");
  }
  return fmt::format(
      "# bash completion for {0} (generated from its option descriptions)\n"
      "{1}() {{\n"
      "  local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}\n"
      "  case $prev in\n"
      "{2}"
      "  esac\n"
      "  if [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W '{3}' -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "}}\n"
      "complete -o filenames -F {1} {0}\n",
      manual.name, function, cases, all);
}

}  // namespace coroner::manual
