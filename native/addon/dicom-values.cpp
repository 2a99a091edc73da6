#include "dicom-values.h"

namespace aibridge::dicom {

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

void AppendPadded(std::string& out, int64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < 20);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(buf[--n]);
}

// Shifts y-m-d by days and appends YYYY[MM[DD]] at `precision` (4, 6 or 8 digits).
bool AppendShifted(int64_t y, unsigned m, unsigned d, int64_t days, int precision, std::string& out) {
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return false;
  int64_t ny;
  unsigned nm, nd;
  CivilFromDays(DaysFromCivil(y, m, d) + days, ny, nm, nd);
  if (ny < 0 || ny > 9999) return false;
  AppendPadded(out, ny, 4);
  if (precision >= 6) AppendPadded(out, nm, 2);
  if (precision >= 8) AppendPadded(out, nd, 2);
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

std::string_view TrimPadding(std::string_view v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.remove_suffix(1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v;
}

bool ShiftDaValue(std::string_view value, int64_t days, std::string& out) {
  value = TrimPadding(value);
  int64_t y, m, d;
  if (value.size() == 8) {
    if (!Digits(value, 0, 4, y) || !Digits(value, 4, 2, m) || !Digits(value, 6, 2, d)) return false;
  } else if (value.size() == 10 && value[4] == '.' && value[7] == '.') {
    if (!Digits(value, 0, 4, y) || !Digits(value, 5, 2, m) || !Digits(value, 8, 2, d)) return false;
  } else {
    return false;
  }
  return AppendShifted(y, static_cast<unsigned>(m), static_cast<unsigned>(d), days, 8, out);
}

bool ShiftDtValue(std::string_view value, int64_t days, std::string& out) {
  value = TrimPadding(value);
  size_t digits = 0;
  while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') ++digits;
  int64_t y = 0, m = 1, d = 1;
  int precision;
  if (digits >= 8) precision = 8;
  else if (digits == 6) precision = 6;
  else if (digits == 4) precision = 4;
  else return false;
  Digits(value, 0, 4, y);
  if (precision >= 6) Digits(value, 4, 2, m);
  if (precision >= 8) Digits(value, 6, 2, d);
  if (!AppendShifted(y, static_cast<unsigned>(m), static_cast<unsigned>(d), days, precision, out)) return false;
  out.append(value.substr(static_cast<size_t>(precision)));
  return true;
}

bool ShiftDateMulti(std::string_view raw, bool isDateTime, int64_t days, std::string& out) {
  out.clear();
  size_t start = 0;
  while (true) {
    size_t end = raw.find('\\', start);
    std::string_view one = raw.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!TrimPadding(one).empty()) {
      bool ok = isDateTime ? ShiftDtValue(one, days, out) : ShiftDaValue(one, days, out);
      if (!ok) return false;
    }
    if (end == std::string_view::npos) break;
    out.push_back('\\');
    start = end + 1;
  }
  return true;
}

bool CapAge(std::string_view value, int maxYears, std::string& out) {
  value = TrimPadding(value);
  if (value.empty()) return false;
  int64_t n;
  if (value.size() != 4 || !Digits(value, 0, 3, n)) {
    out.clear();  // malformed: never pass an unparsed age through
    return true;
  }
  double years;
  switch (value[3]) {
    case 'Y': years = static_cast<double>(n); break;
    case 'M': years = static_cast<double>(n) / 12.0; break;
    case 'W': years = static_cast<double>(n) * 7.0 / 365.25; break;
    case 'D': years = static_cast<double>(n) / 365.25; break;
    default: out.clear(); return true;
  }
  if (years < static_cast<double>(maxYears) + 1.0) return false;
  out.clear();
  AppendPadded(out, maxYears + 1, 3);
  out.push_back('Y');
  return true;
}

bool IsValidUid(std::string_view uid) {
  if (uid.empty() || uid.size() > 64) return false;
  size_t componentStart = 0;
  for (size_t i = 0; i <= uid.size(); ++i) {
    if (i == uid.size() || uid[i] == '.') {
      size_t len = i - componentStart;
      if (len == 0) return false;
      if (len > 1 && uid[componentStart] == '0') return false;
      componentStart = i + 1;
    } else if (uid[i] < '0' || uid[i] > '9') {
      return false;
    }
  }
  return true;
}

bool IsUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

}  // namespace aibridge::dicom
