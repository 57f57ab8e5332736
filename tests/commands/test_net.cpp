// net on every fixture dump: the guest's devices (the loopback device and
// sit0, the IPv6-in-IPv4 tunnel CONFIG_IPV6_SIT creates; the fixture's init
// configures no address, see make/initramfs/init), the namespace of a task,
// the (empty) ARP cache and sockets; next to crash 8.0.2 on x86_64.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

namespace coroner::test {

TEST_CASE("net lists the guest's lo and sit0 without addresses on every dump", "[net][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json net = run.json("net");
      REQUIRE(net["devices"].size() == 2);
      CHECK(net["devices"][0]["name"] == "lo");
      CHECK(net["devices"][1]["name"] == "sit0");
      CHECK(net["devices"][0]["type"] == 772);  // ARPHRD_LOOPBACK
      CHECK(net["devices"][1]["type"] == 776);  // ARPHRD_SIT
      for (const auto& device : net["devices"]) CHECK(device["ipv4"].empty());
      CHECK_FALSE(net.contains("errors"));
      auto init_net = run.program().symbol_address("init_net");
      REQUIRE(init_net);
      CHECK(hex_value(net["net"]) == *init_net);

      const std::string text = run.text("net");
      CHECK(text == fmt::format("   NET_DEVICE     NAME   IP ADDRESS(ES)\n{}  lo     \n{}  sit0   \n",
                                net["devices"][0]["net_device"].get<std::string>().substr(2),
                                net["devices"][1]["net_device"].get<std::string>().substr(2)));

      // init and every task share the one namespace.
      const nlohmann::json of_init = run.json("net -n 1");
      CHECK(of_init["net"] == net["net"]);
      CHECK(of_init["pid"] == 1);
      CHECK(of_init["devices"] == net["devices"]);

      // Nothing talked to the network: no neighbours, and busybox's init
      // holds no socket.
      CHECK(run.json("net -a")["arp"].empty());
      CHECK(run.text("net -a").empty());
      const nlohmann::json sockets = run.json("net -s 1");
      CHECK(sockets["pid"] == 1);
      CHECK(sockets["sockets"].empty());
      CHECK_THAT(run.text("net -s 1"), Catch::EndsWith("COMMAND: \"init\"\nNo open sockets.\n"));
    }
  }
}

TEST_CASE("net -N converts a number as the kernel stores an IPv4 address", "[net]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK(run.text("net -N 0x0100007f") == "127.0.0.1\n");
  CHECK(run.json("net -N 16777343")["ip_address"] == "127.0.0.1");
}

TEST_CASE("net rejects bad arguments with one line", "[net][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("net -q"), Catch::Contains("unknown option -q"));
  CHECK_THAT(run.failure("net 1"), Catch::Contains("a task goes with -n or -s"));
  CHECK_THAT(run.failure("net -a -s"), Catch::Contains("go alone"));
  CHECK_THAT(run.failure("net -n 1 2"), Catch::Contains("-n takes one task"));
  CHECK_THAT(run.failure("net -s 99999999"), Catch::Contains("99999999"));
  CHECK_THAT(run.failure("net -N"), Catch::Contains("-N needs a number"));
  CHECK_THAT(run.failure("net -N 0x100000000"), Catch::Contains("not a 32-bit IPv4 address"));
  CHECK_THAT(run.failure("net -N 12zz"), Catch::Contains("12zz"));
}

TEST_CASE("net, net -n, net -a and net -s print what crash 8.0.2 prints on the x86_64 dumps", "[net][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::vector<std::string> commands = {"net", "net -n 1", "net -a", "net -s 1"};
      CommandRunner run(dump);
      check_same_as_crash(run, dump, commands);
    }
  }
}

}  // namespace coroner::test
