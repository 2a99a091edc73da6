// Value rewriting that does not need DCMTK: date shifting (DA, DT), age capping
// (AS), UID syntax. Pure functions on byte strings; no allocation beyond `out`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aibridge::dicom {

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d);

/** Shifts one DA value (YYYYMMDD, or legacy YYYY.MM.DD) by `days`; false if it is not a valid date
    or the result leaves years 0..9999. Output is always YYYYMMDD. */
bool ShiftDaValue(std::string_view value, int64_t days, std::string& out);
/** Shifts the date part of one DT value (YYYY[MM[DD[...]]][&ZZXX]); a date coarser than a day is
    shifted from its first day and written back at its own precision. Time and offset are kept. */
bool ShiftDtValue(std::string_view value, int64_t days, std::string& out);
/** Shifts every backslash-separated value of a DA or DT element (`isDateTime` selects DT).
    Empty values stay empty. False if any value is not a valid date. */
bool ShiftDateMulti(std::string_view raw, bool isDateTime, int64_t days, std::string& out);

/** Caps an AS value (nnnD/W/M/Y) above `maxYears` to `${maxYears+1}Y` (zero-padded, e.g. 090Y).
    Returns true and sets `out` if the value must be rewritten (capped, or malformed → "" ). */
bool CapAge(std::string_view value, int maxYears, std::string& out);

/** True if `uid` is a syntactically valid UID (digits and dots, no leading zeros, ≤ 64). */
bool IsValidUid(std::string_view uid);

/** Trims leading and trailing spaces (and trailing NULs). */
std::string_view TrimPadding(std::string_view value);

/** True if `bytes` is well-formed UTF-8. */
bool IsUtf8(std::string_view bytes);

}  // namespace aibridge::dicom
