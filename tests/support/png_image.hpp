// Reads the PNG files chromium's screenshots are (8-bit RGB or RGBA, not
// interlaced) into pixels, with zlib, so that a test can check what a page
// showed.
#pragma once

#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace coroner::test {

struct PngImage {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3

  const uint8_t* pixel(uint32_t x, uint32_t y) const { return &rgb[(size_t(y) * width + x) * 3]; }
};

inline uint32_t png_u32(const std::string& data, size_t at) {
  return uint32_t(uint8_t(data[at])) << 24 | uint32_t(uint8_t(data[at + 1])) << 16 |
         uint32_t(uint8_t(data[at + 2])) << 8 | uint32_t(uint8_t(data[at + 3]));
}

// Fails the test for anything else than an 8-bit RGB(A) image.
inline PngImage read_png(const std::string& data) {
  REQUIRE(data.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  PngImage image;
  int channels = 0;
  std::string compressed;
  for (size_t at = 8; at + 12 <= data.size();) {
    const uint32_t length = png_u32(data, at);
    const std::string type = data.substr(at + 4, 4);
    REQUIRE(at + 12 + length <= data.size());
    if (type == "IHDR") {
      image.width = png_u32(data, at + 8);
      image.height = png_u32(data, at + 12);
      const int depth = uint8_t(data[at + 16]), color = uint8_t(data[at + 17]), interlace = uint8_t(data[at + 20]);
      REQUIRE(depth == 8);
      REQUIRE((color == 2 || color == 6));
      REQUIRE(interlace == 0);
      channels = color == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      compressed += data.substr(at + 8, length);
    }
    at += 12 + length;
  }
  REQUIRE(channels != 0);
  const size_t stride = size_t(image.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  REQUIRE(uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(compressed.data()), compressed.size()) ==
          Z_OK);
  REQUIRE(raw_size == raw.size());
  // Undo each row's filter (PNG specification, section 9).
  std::vector<uint8_t> previous(stride, 0), row(stride);
  image.rgb.reserve(size_t(image.width) * image.height * 3);
  for (uint32_t y = 0; y < image.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    for (size_t i = 0; i < stride; ++i) {
      const int left = i >= size_t(channels) ? row[i - channels] : 0, up = previous[i];
      const int up_left = i >= size_t(channels) ? previous[i - channels] : 0;
      int predicted = 0;
      switch (filter) {
        case 0: break;
        case 1: predicted = left; break;
        case 2: predicted = up; break;
        case 3: predicted = (left + up) / 2; break;
        case 4: {
          const int p = left + up - up_left, pa = std::abs(p - left), pb = std::abs(p - up), pc = std::abs(p - up_left);
          predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : up_left;
          break;
        }
        default: FAIL("PNG row " << y << " has filter " << int(filter));
      }
      row[i] = uint8_t(in[i] + predicted);
    }
    for (uint32_t x = 0; x < image.width; ++x)
      image.rgb.insert(image.rgb.end(), &row[size_t(x) * channels], &row[size_t(x) * channels] + 3);
    previous = row;
  }
  return image;
}

}  // namespace coroner::test
