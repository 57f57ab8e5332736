// The HTML report is one self-contained page that a browser opens without
// complaint: Debian's chromium, headless, loads it with no console message
// (checked to be caught with a page that logs one), takes a screenshot of
// it, and its DOM holds the verdict.
#include "analyzer/frontends/triage/triage_render.hpp"
#include "tests/analyzer/frontends/triage/triage_fixtures.hpp"
#include "tests/support/chromium.hpp"

#include <fmt/format.h>

namespace coroner::test {

TEST_CASE("the HTML report opens in headless chromium without console messages and shows the verdict",
          "[triage][html]") {
  const fs::path dir = cache_dir() / "triage-html";
  fs::create_directories(dir);
  // The check itself: a page that logs to its console is caught.
  write_file_contents(dir / "control.html", "<html><body><script>console.error('boom')</script></body></html>");
  CHECK(console_messages(open_in_chromium(dir / "control.html", dir / "control.png")).size() == 1);

  for (const char* id : {"x86_64/oops-kdump/d31", "arm64/panic-qemu/kdump-zlib"}) {
    SECTION(id) {
      const frontends::triage::TriageReport report = triage_report(fixture_case(id));
      const std::string html = frontends::triage::render_html(report);
      // Self-contained: nothing to fetch, nothing to run.
      for (const char* fetch_or_run : {"src=", "href=", "url(", "@import", "<script"})
        CHECK(html.find(fetch_or_run) == std::string::npos);
      const fs::path page = dir / "report.html", screenshot = dir / "report.png";
      write_file_contents(page, html);
      const std::string log = open_in_chromium(page, screenshot);
      CHECK(console_messages(log).empty());
      REQUIRE(fs::exists(screenshot));
      CHECK(file_contents(screenshot).starts_with("\x89PNG\r\n\x1a\n"));
      const std::string dom = dom_of(page);
      const std::string verdict = frontends::triage::verdict_line(report);
      CHECK(dom.find(fmt::format("<p class=\"verdict\" id=\"verdict\">{}</p>", verdict)) != std::string::npos);
      CHECK(dom.find("<h2>Signature</h2>") != std::string::npos);
    }
  }
}

}  // namespace coroner::test
