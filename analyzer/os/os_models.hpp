// The OS model a Program is opened with, chosen by its dump: FreeBSD's for
// a FreeBSD minidump, Linux's otherwise (ProgramOptions::os_model).
#pragma once

#include "analyzer/os_model.hpp"

namespace coroner::os {

Expected<std::unique_ptr<OsModel>> open_os_model(const Program& program);

}  // namespace coroner::os
