#include "capture/filter/page_flags.hpp"

#include "capture/filter/page_filter.hpp"

#include <cstring>
#include <string>

namespace coroner::capture {
namespace {

constexpr uint64_t kPageMappingAnon = 1;      // low bit of page->mapping
constexpr uint64_t kMaxStructPageSize = 1024;  // real ones are 56..80 bytes

uint64_t load(const std::byte* base, uint64_t offset, unsigned width) {
  uint64_t value = 0;
  std::memcpy(&value, base + offset, width);  // little-endian targets only
  return value;
}

// Since 6.12 a page type lives in the top byte of page_type and the low
// bytes may carry data; before, the exported value is the exact word.
bool page_type_is(uint32_t mapcount, std::optional<uint32_t> value) {
  if (!value) return false;
  if ((*value & 0xffffff) == 0) return (mapcount >> 24) == (*value >> 24);
  return mapcount == *value;
}

Expected<uint64_t> checked_offset(const VmcoreInfo& info, std::string_view member, uint64_t size, unsigned width) {
  CORONER_TRY(offset, info.require_offset(member));
  if (offset > size || size - offset < width)
    return make_error(Errc::corrupt, "VMCOREINFO: OFFSET({})={} lies outside SIZE(page)={}", member, offset, size);
  return offset;
}

std::optional<uint64_t> optional_offset(const VmcoreInfo& info, std::string_view member, uint64_t size,
                                        unsigned width) {
  auto offset = info.offset(member);
  if (!offset || *offset > size || size - *offset < width) return std::nullopt;
  return offset;
}

// 1 << NUMBER(name), or 0 when absent or not a plausible bit number.
uint64_t flag_mask(const VmcoreInfo& info, std::string_view name) {
  auto bit = info.number(name);
  return bit && *bit >= 0 && *bit < 64 ? uint64_t{1} << *bit : 0;
}

Expected<uint64_t> required_flag(const VmcoreInfo& info, std::string_view name, std::string_view why) {
  uint64_t mask = flag_mask(info, name);
  if (mask == 0)
    return make_error(Errc::unsupported, "VMCOREINFO lacks a valid NUMBER({}), needed to exclude {}", name, why);
  return mask;
}

std::optional<uint32_t> mapcount_value(const VmcoreInfo& info, std::string_view name) {
  auto value = info.number(name);
  if (!value) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

}  // namespace

KernelVersion kernel_version(const VmcoreInfo& info) {
  std::string release = info.osrelease();
  KernelVersion version;
  size_t dot = release.find('.');
  if (dot == std::string::npos) return version;
  auto major = parse_uint(std::string_view(release).substr(0, dot), 10);
  size_t end = release.find_first_not_of("0123456789", dot + 1);
  auto minor = parse_uint(std::string_view(release).substr(dot + 1, end - dot - 1), 10);
  if (major && minor && *major < 1000 && *minor < 1000) version = {unsigned(*major), unsigned(*minor)};
  return version;
}

Expected<StructPageLayout> StructPageLayout::from_vmcoreinfo(const VmcoreInfo& info, unsigned dump_level) {
  StructPageLayout l;
  CORONER_TRY(size, info.require_size("page"));
  if (size < 16 || size > kMaxStructPageSize)
    return make_error(Errc::corrupt, "VMCOREINFO: SIZE(page)={} is not a plausible struct page size", size);
  l.size_ = size;
  CORONER_TRY(flags, checked_offset(info, "page.flags", size, 8));
  CORONER_TRY(mapping, checked_offset(info, "page.mapping", size, 8));
  l.flags_ = flags;
  l.mapping_ = mapping;
  l.mapcount_ = optional_offset(info, "page._mapcount", size, 4);
  l.private_ = optional_offset(info, "page.private", size, 8);
  l.compound_head_ = optional_offset(info, "page.compound_head", size, 8);

  if (dump_level & (kExcludeCache | kExcludeCachePrivate)) {
    CORONER_TRY(lru, required_flag(info, "PG_lru", "page cache"));
    CORONER_TRY(priv, required_flag(info, "PG_private", "page cache"));
    CORONER_TRY(swapcache, required_flag(info, "PG_swapcache", "page cache"));
    l.lru_mask_ = lru;
    l.private_mask_ = priv;
    l.swapcache_mask_ = swapcache;
  }
  // PG_swapbacked exists since 4.10; before it PG_swapcache alone counts.
  l.swapbacked_mask_ = flag_mask(info, "PG_swapbacked");
  l.has_swapbacked_ = l.swapbacked_mask_ != 0;
  l.slab_mask_ = flag_mask(info, "PG_slab");
  l.head_mask_ = static_cast<uint64_t>(info.number("PG_head_mask").value_or(0));
  l.hwpoison_mask_ = flag_mask(info, "PG_hwpoison");
  l.hugetlb_flag_mask_ = flag_mask(info, "PG_hugetlb");  // 6.6 .. 6.8

  if (l.mapcount_) {
    l.buddy_mapcount_ = mapcount_value(info, "PAGE_BUDDY_MAPCOUNT_VALUE");
    l.offline_mapcount_ = mapcount_value(info, "PAGE_OFFLINE_MAPCOUNT_VALUE");
    l.slab_mapcount_ = mapcount_value(info, "PAGE_SLAB_MAPCOUNT_VALUE");          // 6.10+
    l.hugetlb_mapcount_ = mapcount_value(info, "PAGE_HUGETLB_MAPCOUNT_VALUE");    // 6.9+
    l.unaccepted_mapcount_ = mapcount_value(info, "PAGE_UNACCEPTED_MAPCOUNT_VALUE");
  }
  if (auto dtor = info.number("HUGETLB_PAGE_DTOR")) l.hugetlb_dtor_ = static_cast<uint64_t>(*dtor);
  l.free_huge_page_ = info.symbol("free_huge_page");  // before 4.4 the destructor was a function
  if (auto orders = info.length("zone.free_area"); orders && *orders > 0 && *orders < 64) l.max_order_ = orders;

  // The compound order and destructor sit in the first tail page: folio
  // fields since 6.3 (offsets counted from the head), page fields before;
  // bytes since 4.16, shorts 4.4..4.15, lru.prev/next words before 4.4.
  KernelVersion version = kernel_version(info);
  unsigned narrow = version.at_least(4, 16) ? 1 : 2;
  auto tail_offset = [&](std::string_view folio_member, std::string_view page_member, unsigned width,
                         std::string_view lru_member) -> std::optional<uint64_t> {
    if (auto folio = optional_offset(info, folio_member, 2 * size, width); folio && *folio >= size)
      return *folio - size;
    if (auto page = optional_offset(info, page_member, size, width)) return page;
    auto lru = info.offset("page.lru");
    auto member = info.offset(lru_member);
    if (!version.at_least(4, 4) && lru && member && *lru + *member + 8 <= size) return *lru + *member;
    return std::nullopt;
  };
  l.order_width_ = narrow;
  l.order_offset_ = tail_offset("folio._folio_order", "page.compound_order", narrow, "list_head.prev");
  l.dtor_width_ = version.at_least(4, 4) ? narrow : 8;
  l.dtor_offset_ = tail_offset("folio._folio_dtor", "page.compound_dtor", l.dtor_width_, "list_head.next");
  return l;
}

bool StructPageLayout::is_slab(uint64_t flags, uint32_t mapcount) const {
  return page_type_is(mapcount, slab_mapcount_) || (flags & slab_mask_) != 0;
}

bool StructPageLayout::is_cache(uint64_t flags) const {
  if (flags & lru_mask_) return true;
  // PG_swapcache shares its bit with another flag unless PG_swapbacked is set.
  return (flags & swapcache_mask_) && (!has_swapbacked_ || (flags & swapbacked_mask_));
}

bool StructPageLayout::is_hugetlb(uint64_t dtor) const {
  return dtor != 0 && ((hugetlb_dtor_ && *hugetlb_dtor_ == dtor) || (free_huge_page_ && *free_huge_page_ == dtor));
}

// A sentinel destructor meaning "hugetlb" for kernels that mark hugetlb
// folios by flag or page type instead (6.6+).
constexpr uint64_t kHugetlbMarker = ~uint64_t{0};

void StructPageLayout::compound_info(uint64_t pfn, uint64_t flags, uint32_t mapcount, const std::byte* next,
                                     unsigned& order, uint64_t& dtor) const {
  order = 0;
  dtor = 0;
  if (!next) return;
  if (hugetlb_mapcount_ || hugetlb_flag_mask_) {
    // 6.6+: the order is the low byte of the first tail's flags (_flags_1).
    uint64_t flags1 = load(next, flags_, 8);
    order = static_cast<unsigned>(flags1 & 0xff);
    if (hugetlb_mapcount_ ? page_type_is(mapcount, hugetlb_mapcount_) : (flags1 & hugetlb_flag_mask_) != 0)
      dtor = kHugetlbMarker;
  } else {
    if (order_offset_) order = static_cast<unsigned>(load(next, *order_offset_, order_width_));
    if (dtor_offset_) dtor = load(next, *dtor_offset_, dtor_width_);
  }
  // A stale or corrupt order must not exclude neighbours: compound pages
  // are aligned to their size.
  if (order >= 64 || (pfn & ((uint64_t{1} << order) - 1)) != 0) order = 0;
}

PageVerdict StructPageLayout::judge(uint64_t pfn, const std::byte* page, const std::byte* next,
                                    unsigned dump_level) const {
  uint64_t flags = load(page, flags_, 8);
  uint64_t mapping = load(page, mapping_, 8);
  uint32_t mapcount = mapcount_ ? static_cast<uint32_t>(load(page, *mapcount_, 4)) : 0;

  // Tails follow their head: excluded with it, kept otherwise.
  if (compound_head_ && (load(page, *compound_head_, 8) & 1)) return {PageKind::tail, 1};

  unsigned order = 0;
  uint64_t dtor = 0;
  if (flags & head_mask_) compound_info(pfn, flags, mapcount, next, order, dtor);
  uint64_t compound_pages = uint64_t{1} << order;

  bool slab = is_slab(flags, mapcount);
  if ((dump_level & kExcludeFree) && private_ && !slab && page_type_is(mapcount, buddy_mapcount_)) {
    uint64_t buddy_order = load(page, *private_, 8);
    // An order the zone cannot have is corruption: keep the page.
    if (buddy_order >= max_order_.value_or(64)) return {PageKind::keep, 1};
    return {PageKind::free, uint64_t{1} << buddy_order};
  }
  if ((dump_level & kExcludeFree) && max_order_ && page_type_is(mapcount, unaccepted_mapcount_))
    return {PageKind::free, uint64_t{1} << (*max_order_ - 1)};

  bool anon = (mapping & kPageMappingAnon) && !slab;
  bool cache = (dump_level & (kExcludeCache | kExcludeCachePrivate)) && is_cache(flags) && !anon;
  bool priv = (flags & private_mask_) != 0;
  if (cache && (dump_level & kExcludeCache) && !priv) return {PageKind::cache, compound_pages};
  if (cache && (dump_level & kExcludeCachePrivate))
    return {priv ? PageKind::cache_private : PageKind::cache, compound_pages};
  if ((dump_level & kExcludeUser) && (anon || dtor == kHugetlbMarker || is_hugetlb(dtor)))
    return {PageKind::user, compound_pages};
  if (flags & hwpoison_mask_) return {PageKind::hwpoison, compound_pages};
  if (!slab && page_type_is(mapcount, offline_mapcount_)) return {PageKind::offline, compound_pages};
  return {PageKind::keep, 1};
}

}  // namespace coroner::capture
