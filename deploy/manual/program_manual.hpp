// One description of a program's command line, rendered four ways: the
// --help text, the man page (roff), and the bash completion script. Both
// programs describe themselves once (capture/capture_manual.cpp,
// analyzer/frontends/manual/coroner_manual.cpp); the generator in deploy/
// writes the man pages and completions at build time.
#pragma once

#include <string>
#include <vector>

namespace coroner::manual {

struct Option {
  std::string names;     // the spellings, comma-separated: "-x, --command"
  std::string argument;  // its value's name, or empty for a flag. For completion: FILE, VMLINUX, DUMP
                         // complete file names, DIR directories, COMMAND the program's command
                         // words, "a|b|c" these words
  std::string text;      // what it does, one paragraph
};

// A titled block of a man page (COMMANDS, EXIT STATUS, ...). Text: paragraphs
// separated by blank lines; a paragraph whose first line starts with two
// spaces is shown as it is (examples, tables), the others are reflowed.
struct Entry {
  std::string heading;  // e.g. "p - print the value of an expression"
  std::string body;     // preformatted
};
struct Section {
  std::string title;
  std::string text;
  std::vector<Entry> entries;
};

struct ProgramManual {
  std::string name;                    // coroner-capture
  int section = 1;                     // of the manual: 1 commands, 8 administration
  std::string summary;                 // one line: what it is
  std::vector<std::string> synopsis;   // each form, without the program's name
  std::string description;             // text, as Section::text
  std::vector<Option> options;
  std::vector<Section> sections;       // after OPTIONS; those without `in_help` are man-only
  std::vector<std::string> in_help;    // titles of the sections --help shows too
  std::vector<std::string> command_words;  // what a COMMAND argument completes to
};

// --help: usage forms, the description, the options, the sections in_help.
std::string help_text(const ProgramManual& manual);
// The usage forms alone ("Usage: coroner-capture ...").
std::string usage_lines(const ProgramManual& manual);
// The man page, in roff (man(7) macros).
std::string man_page(const ProgramManual& manual);
// A bash completion script (complete -F) for the program's options and
// their arguments.
std::string bash_completion(const ProgramManual& manual);

}  // namespace coroner::manual
