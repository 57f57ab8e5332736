// dev on every fixture dump: the character device majors every kernel
// registers (mem, the console and tty devices) with their operations, and
// dev -p's PCI devices against what the guest kernel announced on its
// console ("pci 0000:00:02.0: [1234:1111] type 00 class 0x030000"), the
// block devices and dev -d's disks against the virtio disks it announced
// ("virtio_blk virtio1: [vda] ..."); next to crash 8.0.2 on x86_64.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"
#include "tests/commands/guest_console.hpp"

#include <map>
#include <regex>

namespace coroner::test {

namespace {

// name -> "vendor:device class" of each PCI device the guest found at boot.
std::map<std::string, std::string> console_pci_devices(const DumpCase& dump) {
  static const std::regex found(R"(^pci (\w{4}:\w{2}:\w{2}\.\w): \[(\w{4}:\w{4})\] type \w+ class 0x(\w{4})\w{2}$)");
  std::map<std::string, std::string> devices;
  for (const auto& [stamp, text] : console_lines(dump)) {
    std::smatch m;
    if (std::regex_match(text, m, found)) devices[m[1]] = std::string(m[2]) + " " + std::string(m[3]);
  }
  return devices;
}

void collect(const nlohmann::json& bus, std::map<std::string, std::string>& out) {
  for (const auto& d : bus["devices"])
    out[d["name"].get<std::string>()] = d["pci_id"].get<std::string>() + " " + d["class"].get<std::string>();
  for (const auto& child : bus["children"]) collect(child, out);
}

}  // namespace

TEST_CASE("dev -p lists the PCI devices the guest kernel announced on every dump", "[dev][pci][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      const auto expected = console_pci_devices(dump);
      REQUIRE(expected.size() >= 2);  // a host bridge and a NIC at least
      CommandRunner run(dump);
      const nlohmann::json pci = run.json("dev -p");
      CHECK_FALSE(pci.contains("errors"));
      REQUIRE(pci["root_buses"].size() == 1);
      CHECK(pci["root_buses"][0]["name"] == "0000:00");
      std::map<std::string, std::string> found;
      for (const auto& root : pci["root_buses"]) collect(root, found);
      CHECK(found == expected);

      const std::string text = run.text("dev -p");
      CHECK_THAT(text, Catch::StartsWith("    ROOT BUS     BUSNAME\n"));
      CHECK_THAT(text, Catch::Contains("      PCI DEV      DO:BU:SL.FN  CLASS   PCI_ID      TYPE   \n"));
      const auto& first = pci["root_buses"][0]["devices"][0];
      CHECK_THAT(text, Catch::Contains(fmt::format("  {} {}  {}  {}  ENDPOINT \n",
                                                   first["pci_dev"].get<std::string>().substr(2),
                                                   first["name"].get<std::string>(), first["class"].get<std::string>(),
                                                   first["pci_id"].get<std::string>())));
    }
  }
}

TEST_CASE("dev lists the character devices every fixture kernel registers", "[dev][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json chars = run.json("dev");
      CHECK_FALSE(chars.contains("errors"));
      std::map<std::string, nlohmann::json> by_name;
      for (const auto& d : chars["chrdevs"]) by_name[d["name"].get<std::string>()] = d;
      REQUIRE(by_name.count("mem"));
      CHECK(by_name["mem"]["major"] == 1);
      CHECK(by_name["mem"]["operations"] == "memory_fops");
      for (const char* name : {"/dev/tty", "/dev/console", "/dev/ptmx"}) {
        INFO(name);
        REQUIRE(by_name.count(name));
        CHECK(by_name[name]["major"] == 5);
        CHECK(by_name[name]["cdev"].is_string());
      }
      CHECK(by_name["/dev/console"]["operations"] == "console_fops");
      CHECK(by_name["/dev/ptmx"]["operations"] == "ptmx_fops");
      CHECK_THAT(run.text("dev"), Catch::StartsWith("CHRDEV    NAME                 CDEV        OPERATIONS      \n"));
    }
  }
}

TEST_CASE("dev lists the virtio block major and dev -d the console's virtio disks on every dump", "[dev][facts]") {
  static const std::regex announced(R"(^virtio_blk virtio\d+: \[(\w+)\] \d+ 512-byte logical blocks)");
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      std::vector<std::string> expected;
      for (const auto& [stamp, text] : console_lines(dump)) {
        std::smatch m;
        if (std::regex_search(text, m, announced)) expected.push_back(m[1]);
      }
      CommandRunner run(dump);
      const nlohmann::json devices = run.json("dev"), disks = run.json("dev -d");
      CHECK_FALSE(devices.contains("errors"));
      CHECK_FALSE(disks.contains("errors"));
      if (expected.empty()) {  // the panic-qemu guests have no disk
        CHECK(disks["disks"].empty());
      } else {
        std::optional<nlohmann::json> virtblk;
        for (const auto& b : devices["blkdevs"])
          if (b["name"] == "virtblk") virtblk = b;
        REQUIRE(virtblk);
        CHECK((*virtblk)["operations"] == "virtblk_fops");
        std::vector<std::string> names;
        bool gendisk_listed = false;
        for (const auto& d : disks["disks"]) {
          names.push_back(d["name"]);
          CHECK(d["major"] == (*virtblk)["major"]);
          gendisk_listed |= d["gendisk"] == (*virtblk)["gendisk"];
          REQUIRE(d["total"].is_number());
          CHECK(d["total"].get<uint64_t>() == d["read"].get<uint64_t>() + d["write"].get<uint64_t>());
        }
        CHECK(names == expected);
        CHECK(gendisk_listed);
        CHECK_THAT(run.text("dev -d"), Catch::StartsWith("MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL  READ WRITE \n"));
      }
    }
  }
}

TEST_CASE("dev rejects bad arguments with one line", "[dev][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("dev -z"), Catch::Contains("unknown option -z"));
}

TEST_CASE("dev, dev -d and dev -p print what crash 8.0.2 prints on the x86_64 dumps", "[dev][pci][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::vector<std::string> commands = {"dev", "dev -d", "dev -p"};
      CommandRunner run(dump);
      check_same_as_crash(run, dump, commands);
    }
  }
}

}  // namespace coroner::test
