// Must-show 4 of the fleet: the HTML report is one self-contained page that
// headless chromium opens with no console message; its screenshot shows
// the signature table (the header band) and the sparklines; the DOM holds a
// row per signature, linked to its example dump's report further down; a
// click on a header sorts the table.
#include "tests/analyzer/frontends/fleet/fleet_test_support.hpp"
#include "tests/support/chromium.hpp"
#include "tests/support/png_image.hpp"

#include <regex>

namespace coroner::test {

namespace {

// The numbers of the Dumps column (the fifth), top to bottom.
std::vector<int64_t> dumps_column(const std::string& dom) {
  std::vector<int64_t> values;
  static const std::regex row(R"re(<tr><td><a href="#dump-[0-9a-f]+"><code>[0-9a-f]+</code></a></td>(?:<td>[^<]*</td>){3})re"
                              R"re(<td class="num" data-value="([0-9]+)">)re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row); it != std::sregex_iterator(); ++it)
    values.push_back(std::stoll((*it)[1]));
  return values;
}

size_t pixels_where(const PngImage& image, bool (*wanted)(const uint8_t*)) {
  size_t count = 0;
  for (uint32_t y = 0; y < image.height; ++y)
    for (uint32_t x = 0; x < image.width; ++x) count += wanted(image.pixel(x, y));
  return count;
}

}  // namespace

TEST_CASE("the fleet HTML report opens in headless chromium and shows the signature table", "[fleet][html]") {
  const fs::path dir = cache_dir() / "fleet-html";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "fleet.db").string();
  // The fixtures' two signatures, and three made-up ones over three weeks
  // with a different number of dumps each day.
  std::string files;
  for (const FixtureReport& report : fixture_reports()) (files += ' ') += report.path.string();
  const nlohmann::json base = json_file(fixture_reports().front().path);
  int made = 0;
  for (int s = 0; s < 3; ++s)
    for (int day = 0; day < 21; ++day)
      for (int i = 0; i < (day * (s + 1)) % 7; ++i) {
        const fs::path path = dir / fmt::format("synthetic-{}.json", made++);
        write_file_contents(path, synthetic_report(base, fmt::format("host-{}", i), 1'794'000'000 + day * 86400 + i * 600,
                                                   fmt::format("{:016x}", 0xfeed0000 + s))
                                      .dump());
        (files += ' ') += path.string();
      }
  fleet(fmt::format("ingest --db {}{}", db, files));
  const fs::path page = dir / "fleet.html";
  fleet(fmt::format("report --db {} --format html -o {}", db, page.string()));
  const std::string html = file_contents(page);
  // Self-contained: nothing fetched; the only links are into the page.
  for (const char* fetch : {"src=", "url(", "@import", "http://", "https://", "href=\"/"})
    CHECK(html.find(fetch) == std::string::npos);
  CHECK(html.find("<svg class=\"spark\"") != std::string::npos);

  // The console check catches a message (control), and the page has none.
  write_file_contents(dir / "control.html", "<html><body><script>console.error('boom')</script></body></html>");
  CHECK(console_messages(open_in_chromium(dir / "control.html", dir / "control.png")).size() == 1);
  const fs::path screenshot = dir / "fleet.png";
  const std::string log = open_in_chromium(page, screenshot, "1400,900");
  CHECK(console_messages(log).empty());
  REQUIRE(fs::exists(screenshot));
  const PngImage image = read_png(file_contents(screenshot));
  CHECK(image.width == 1400);
  // The table's header band (#eee) across most of the page, at least a line of text high ...
  const size_t header = pixels_where(image, [](const uint8_t* p) { return p[0] == 0xee && p[1] == 0xee && p[2] == 0xee; });
  CHECK(header > size_t(image.width) * 12);
  // ... dark text, and the sparklines' red strokes.
  CHECK(pixels_where(image, [](const uint8_t* p) { return p[0] < 80 && p[1] < 80 && p[2] < 80; }) > 2000);
  CHECK(pixels_where(image, [](const uint8_t* p) { return p[0] > 140 && p[1] < 110 && p[2] < 100 && p[0] - p[1] > 60; }) >
        100);

  // The DOM: five signatures, most dumps first, each linked to its example.
  const nlohmann::json report = nlohmann::json::parse(fleet(fmt::format("report --db {} --format json", db)));
  REQUIRE(report["signatures"].size() == 5);
  const std::string dom = dom_of(page);
  std::vector<int64_t> expected;
  for (const nlohmann::json& group : report["signatures"]) {
    expected.push_back(group["dumps"]);
    const std::string example = group["example"]["identity"];
    CHECK(dom.find(fmt::format("<a href=\"#dump-{}\">", example)) != std::string::npos);
    CHECK(dom.find(fmt::format("<section class=\"example\" id=\"dump-{}\">", example)) != std::string::npos);
  }
  CHECK(dumps_column(dom) == expected);
  // A click on the Dumps header sorts up, a second one down.
  std::vector<int64_t> up = expected;
  std::sort(up.begin(), up.end());
  for (int clicks : {1, 2}) {
    std::string clicked = html;
    std::string script = "<script>";
    for (int c = 0; c < clicks; ++c) script += "document.querySelectorAll('table.signatures th')[4].click();";
    clicked.insert(clicked.rfind("</body>"), script + "</script>\n");
    write_file_contents(dir / "clicked.html", clicked);
    std::vector<int64_t> want = up;
    if (clicks == 2) std::reverse(want.begin(), want.end());
    CHECK(dumps_column(dom_of(dir / "clicked.html")) == want);
  }
}

}  // namespace coroner::test
