//! EventBridge's six-field cron: `minutes hours day-of-month month day-of-week year`, in UTC.
//! Day-of-week counts 1 (SUN) to 7 (SAT). One of day-of-month and day-of-week must be `?`.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc, Weekday};

use crate::schedule::{join, last_day_of_month, split};

/// The last year EventBridge's cron accepts.
const LAST_YEAR: u32 = 2199;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    day_of_month: DayOfMonth,
    months: Vec<u32>,
    day_of_week: DayOfWeek,
    years: Vec<u32>,
}

/// The day-of-month field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfMonth {
    /// `?`: the day-of-week field decides.
    Unspecified,
    /// Days of the month from a list, range, step or `*`.
    Days(Vec<u32>),
    /// `L`: the last day of the month.
    Last,
    /// `LW`: the last weekday of the month.
    LastWeekday,
    /// `nW`: the weekday nearest the nth, within the month.
    NearestWeekday(u32),
}

/// The day-of-week field (1 = Sunday … 7 = Saturday).
#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfWeek {
    /// `?`: the day-of-month field decides.
    Unspecified,
    /// Days of the week from a list, range, step or `*`.
    Days(Vec<u32>),
    /// `nL` (or `L` for Saturday): the last such day of the month.
    Last(u32),
    /// `n#k`: the kth such day of the month.
    Nth(u32, u32),
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Cron {
    /// Parses the six fields inside `cron(...)`.
    pub fn parse(body: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = fields[..] else {
            return Err(format!(
                "Parameter ScheduleExpression is not valid: cron({body}) must have six fields: minutes hours day-of-month month day-of-week year."
            ));
        };
        let invalid = |field: &str, value: &str| {
            format!("Parameter ScheduleExpression is not valid: cron({body}): {field} field '{value}' is not valid.")
        };
        let minutes = values(minutes, 0, 59, &[]).ok_or_else(|| invalid("Minutes", minutes))?;
        let hours = values(hours, 0, 23, &[]).ok_or_else(|| invalid("Hours", hours))?;
        let months = values(month, 1, 12, &MONTHS).ok_or_else(|| invalid("Month", month))?;
        let years = values(year, 1970, LAST_YEAR, &[]).ok_or_else(|| invalid("Year", year))?;
        let parsed_day_of_month =
            parse_day_of_month(day_of_month).ok_or_else(|| invalid("Day-of-month", day_of_month))?;
        let parsed_day_of_week = parse_day_of_week(day_of_week).ok_or_else(|| invalid("Day-of-week", day_of_week))?;
        let unspecified = [
            parsed_day_of_month == DayOfMonth::Unspecified,
            parsed_day_of_week == DayOfWeek::Unspecified,
        ];
        if unspecified[0] == unspecified[1] {
            return Err(format!(
                "Parameter ScheduleExpression is not valid: cron({body}): give exactly one of day-of-month and day-of-week as '?'."
            ));
        }
        Ok(Cron {
            minutes,
            hours,
            day_of_month: parsed_day_of_month,
            months,
            day_of_week: parsed_day_of_week,
            years,
        })
    }

    /// The first fire time strictly after `after`, if any before the end of year 2199.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (date, minute_of_day) = split(after);
        let (date, minute) = self.next_minute_after(date, minute_of_day)?;
        join(date, minute)
    }

    /// The first wall-clock minute strictly after `after` the fields allow, read as local time
    /// (EventBridge Scheduler evaluates a cron in its `ScheduleExpressionTimezone`).
    pub fn next_local_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let minute_of_day = after.hour() * 60 + after.minute();
        let (date, minute) = self.next_minute_after(after.date(), minute_of_day)?;
        date.and_hms_opt(minute / 60, minute % 60, 0)
    }

    /// The first allowed (date, minute of the day) after `minute_of_day` on `date`.
    fn next_minute_after(&self, date: NaiveDate, minute_of_day: u32) -> Option<(NaiveDate, u32)> {
        let mut date = date;
        // The first minute of the day to consider: the one after `after` on its own day.
        let mut from_minute = minute_of_day + 1;
        loop {
            let year = u32::try_from(date.year()).ok()?;
            if year > LAST_YEAR || year > *self.years.last()? {
                return None;
            }
            if !self.years.contains(&year) {
                date = NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)?;
                from_minute = 0;
                continue;
            }
            if !self.months.contains(&date.month()) {
                date = first_of_next_month(date)?;
                from_minute = 0;
                continue;
            }
            if self.day_matches(date)
                && let Some(minute) = self.first_minute_from(from_minute)
            {
                return Some((date, minute));
            }
            date = date.succ_opt()?;
            from_minute = 0;
        }
    }

    /// The first allowed minute of a day at or after `from` (minutes since midnight).
    fn first_minute_from(&self, from: u32) -> Option<u32> {
        self.hours
            .iter()
            .flat_map(|hour| self.minutes.iter().map(move |minute| hour * 60 + minute))
            .find(|minute_of_day| *minute_of_day >= from)
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let day = date.day();
        let last = last_day_of_month(date.year(), date.month());
        let weekday = date.weekday().num_days_from_sunday() + 1;
        match (&self.day_of_month, &self.day_of_week) {
            (DayOfMonth::Days(days), _) => days.contains(&day),
            (DayOfMonth::Last, _) => day == last,
            (DayOfMonth::LastWeekday, _) => day == nearest_weekday(date, last),
            (DayOfMonth::NearestWeekday(target), _) => *target <= last && day == nearest_weekday(date, *target),
            (DayOfMonth::Unspecified, DayOfWeek::Days(days)) => days.contains(&weekday),
            (DayOfMonth::Unspecified, DayOfWeek::Last(target)) => *target == weekday && day + 7 > last,
            (DayOfMonth::Unspecified, DayOfWeek::Nth(target, nth)) => *target == weekday && (day - 1) / 7 + 1 == *nth,
            (DayOfMonth::Unspecified, DayOfWeek::Unspecified) => false,
        }
    }
}

/// The weekday nearest day `target` of `date`'s month, without leaving the month.
fn nearest_weekday(date: NaiveDate, target: u32) -> u32 {
    let last = last_day_of_month(date.year(), date.month());
    let Some(day) = date.with_day(target) else {
        return 0;
    };
    match day.weekday() {
        Weekday::Sat if target == 1 => 3,
        Weekday::Sat => target - 1,
        Weekday::Sun if target == last => target - 2,
        Weekday::Sun => target + 1,
        _ => target,
    }
}

fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
    if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    }
}

fn parse_day_of_month(field: &str) -> Option<DayOfMonth> {
    match field {
        "?" => Some(DayOfMonth::Unspecified),
        "L" => Some(DayOfMonth::Last),
        "LW" => Some(DayOfMonth::LastWeekday),
        _ => match field.strip_suffix('W') {
            Some(day) => {
                let day = number(day, &[])?;
                (1..=31).contains(&day).then_some(DayOfMonth::NearestWeekday(day))
            }
            None => values(field, 1, 31, &[]).map(DayOfMonth::Days),
        },
    }
}

fn parse_day_of_week(field: &str) -> Option<DayOfWeek> {
    if field == "?" {
        return Some(DayOfWeek::Unspecified);
    }
    if field == "L" {
        return Some(DayOfWeek::Last(7));
    }
    if let Some(day) = field.strip_suffix('L') {
        let day = number(day, &DAYS)?;
        return (1..=7).contains(&day).then_some(DayOfWeek::Last(day));
    }
    if let Some((day, nth)) = field.split_once('#') {
        let day = number(day, &DAYS)?;
        let nth = number(nth, &[])?;
        return ((1..=7).contains(&day) && (1..=5).contains(&nth)).then_some(DayOfWeek::Nth(day, nth));
    }
    values(field, 1, 7, &DAYS).map(DayOfWeek::Days)
}

/// The sorted values a list of `*`, `n`, `a-b`, `*/s`, `n/s` and `a-b/s` items allows, within
/// `min..=max`; names (`JAN`, `MON`) count from `min`.
fn values(field: &str, min: u32, max: u32, names: &[&str]) -> Option<Vec<u32>> {
    let mut allowed = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(number(step, &[])?)),
            None => (item, None),
        };
        let (start, end) = match range {
            "*" => (min, max),
            _ => match range.split_once('-') {
                Some((start, end)) => (named(start, min, names)?, named(end, min, names)?),
                // `n/s` runs from n to the end of the field.
                None if step.is_some() => (named(range, min, names)?, max),
                None => {
                    let value = named(range, min, names)?;
                    (value, value)
                }
            },
        };
        let step = step.unwrap_or(1);
        if step == 0 || start < min || end > max || start > end {
            return None;
        }
        allowed.extend((start..=end).step_by(step as usize));
    }
    allowed.sort_unstable();
    allowed.dedup();
    Some(allowed)
}

/// A number, or a name from `names` counted from `min`.
fn named(text: &str, min: u32, names: &[&str]) -> Option<u32> {
    match names.iter().position(|name| name.eq_ignore_ascii_case(text)) {
        Some(index) => Some(min + index as u32),
        None => number(text, &[]),
    }
}

/// A number, or a day name (1 = SUN) when `names` are day names.
fn number(text: &str, names: &[&str]) -> Option<u32> {
    if let Some(index) = names.iter().position(|name| name.eq_ignore_ascii_case(text)) {
        return Some(index as u32 + 1);
    }
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) || text.len() > 4 {
        return None;
    }
    text.parse().ok()
}
