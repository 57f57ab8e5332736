// Text placed in HTML or XML documents (the triage and fleet reports, the
// gdb stub's library list): the five characters markup gives a meaning.
#pragma once

#include <string>
#include <string_view>

namespace coroner::frontends {

// `text` with & < > " ' written as entities; every other byte as it is.
std::string markup_escaped(std::string_view text);

}  // namespace coroner::frontends
