//! Schedule expressions as EventBridge rules write them, in UTC: `rate(5 minutes)` and the six
//! fields of `cron(minutes hours day-of-month month day-of-week year)`, with `?`, `L`, `W` and
//! `#` ([the reference]). A schedule answers when it fires next after a given time.
//!
//! [the reference]: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

use crate::cron::Cron;

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// `rate(N unit)`: every `minutes` minutes, counted from when the rule was put.
    Rate {
        /// The period in minutes.
        minutes: i64,
    },
    /// `cron(...)`: at the minutes the fields allow.
    Cron(Box<Cron>),
}

impl Schedule {
    /// Parses `rate(...)` or `cron(...)`; the error says what is wrong, in EventBridge's terms.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        if let Some(body) = text.strip_prefix("rate(").and_then(|rest| rest.strip_suffix(')')) {
            return parse_rate(body.trim());
        }
        if let Some(body) = text.strip_prefix("cron(").and_then(|rest| rest.strip_suffix(')')) {
            return Cron::parse(body).map(|cron| Schedule::Cron(Box::new(cron)));
        }
        Err(format!(
            "Parameter ScheduleExpression is not valid: '{text}' must be rate(value unit) or cron(fields)."
        ))
    }

    /// The first fire time strictly after `after`. A rate counts its periods from `anchor` (when
    /// the rule was put); a cron ignores it. `None` when a cron never fires again (its years
    /// have passed).
    pub fn next_after(&self, anchor: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Rate { minutes } => {
                let period = Duration::minutes(*minutes);
                if after < anchor {
                    return Some(anchor + period);
                }
                let elapsed = (after - anchor).num_milliseconds();
                let periods = elapsed / period.num_milliseconds() + 1;
                Some(anchor + period * periods as i32)
            }
            Schedule::Cron(cron) => cron.next_after(after),
        }
    }
}

fn parse_rate(body: &str) -> Result<Schedule, String> {
    let invalid = |reason: &str| {
        Err(format!(
            "Parameter ScheduleExpression is not valid: rate({body}): {reason}."
        ))
    };
    let mut parts = body.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return invalid("write a value and a unit, as in rate(5 minutes)");
    };
    let Ok(value) = value.parse::<i64>() else {
        return invalid("the value must be a positive whole number");
    };
    if !(1..=1_000_000).contains(&value) {
        return invalid("the value must be a positive whole number");
    }
    let (per_unit, singular) = match unit {
        "minute" => (1, true),
        "minutes" => (1, false),
        "hour" => (60, true),
        "hours" => (60, false),
        "day" => (1_440, true),
        "days" => (1_440, false),
        _ => return invalid("the unit must be minute(s), hour(s) or day(s)"),
    };
    if singular != (value == 1) {
        return invalid("the unit is singular for a value of 1 and plural otherwise");
    }
    Ok(Schedule::Rate {
        minutes: value * per_unit,
    })
}

/// The minute `time` falls in, as a date and a minute of the day.
pub(crate) fn split(time: DateTime<Utc>) -> (NaiveDate, u32) {
    (time.date_naive(), time.hour() * 60 + time.minute())
}

/// The time of `minute_of_day` on `date`.
pub(crate) fn join(date: NaiveDate, minute_of_day: u32) -> Option<DateTime<Utc>> {
    let time = date.and_hms_opt(minute_of_day / 60, minute_of_day % 60, 0)?;
    Some(Utc.from_utc_datetime(&time))
}

/// The last day of `date`'s month.
pub(crate) fn last_day_of_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|first| first.pred_opt())
        .map(|last| last.day())
        .unwrap_or(28)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    /// The next `count` fire times of `expression` after `after`.
    fn check(expression: &str, after: &str, expect: &[&str]) {
        let schedule = Schedule::parse(expression).unwrap_or_else(|error| panic!("{expression}: {error}"));
        let anchor = at(after);
        let mut time = anchor;
        let mut got = Vec::new();
        for _ in 0..expect.len() {
            match schedule.next_after(anchor, time) {
                Some(next) => {
                    got.push(next.format("%Y-%m-%dT%H:%M:%SZ").to_string());
                    time = next;
                }
                None => break,
            }
        }
        assert_eq!(got, expect, "{expression} after {after}");
    }

    fn refused(expression: &str, fragment: &str) {
        let error = Schedule::parse(expression).unwrap_err();
        assert!(error.contains(fragment), "{expression}: {error}");
    }

    #[test]
    fn rates_count_periods_from_the_anchor() {
        check(
            "rate(5 minutes)",
            "2026-01-01T00:00:30Z",
            &["2026-01-01T00:05:30Z", "2026-01-01T00:10:30Z"],
        );
        check("rate(1 hour)", "2026-01-01T23:30:00Z", &["2026-01-02T00:30:00Z"]);
        check(
            "rate(2 days)",
            "2024-02-28T12:00:00Z",
            &["2024-03-01T12:00:00Z", "2024-03-03T12:00:00Z"],
        );
        let schedule = Schedule::parse("rate(10 minutes)").unwrap();
        let anchor = at("2026-01-01T00:00:00Z");
        assert_eq!(
            schedule.next_after(anchor, at("2026-01-01T00:35:00Z")),
            Some(at("2026-01-01T00:40:00Z")),
            "after a gap, the next period boundary"
        );
        assert_eq!(
            schedule.next_after(anchor, at("2026-01-01T00:40:00Z")),
            Some(at("2026-01-01T00:50:00Z")),
            "strictly after"
        );
    }

    #[test]
    fn rates_are_validated() {
        refused("rate(1 minutes)", "singular");
        refused("rate(5 minute)", "singular");
        refused("rate(0 minutes)", "positive");
        refused("rate(5 seconds)", "unit");
        refused("rate(five minutes)", "positive");
        refused("every 5 minutes", "rate(value unit)");
    }

    #[test]
    fn cron_at_noon_every_day() {
        check(
            "cron(0 12 * * ? *)",
            "2026-03-01T12:00:00Z",
            &["2026-03-02T12:00:00Z", "2026-03-03T12:00:00Z"],
        );
        check("cron(0 12 * * ? *)", "2026-03-01T11:59:00Z", &["2026-03-01T12:00:00Z"]);
    }

    #[test]
    fn cron_examples_from_the_aws_docs() {
        // 10:15 UTC every day.
        check("cron(15 10 * * ? *)", "2026-05-05T10:15:00Z", &["2026-05-06T10:15:00Z"]);
        // 18:00 Monday to Friday.
        check(
            "cron(0 18 ? * MON-FRI *)",
            "2026-11-20T18:00:00Z",
            &["2026-11-23T18:00:00Z", "2026-11-24T18:00:00Z"],
        );
        // 08:00 on the first day of the month.
        check(
            "cron(0 8 1 * ? *)",
            "2026-01-15T00:00:00Z",
            &["2026-02-01T08:00:00Z", "2026-03-01T08:00:00Z"],
        );
        // Every 10 minutes on weekdays.
        check(
            "cron(0/10 * ? * MON-FRI *)",
            "2026-11-20T23:55:00Z",
            &["2026-11-23T00:00:00Z", "2026-11-23T00:10:00Z"],
        );
        // Every 5 minutes between 8:00 and 17:55 on weekdays.
        check(
            "cron(0/5 8-17 ? * MON-FRI *)",
            "2026-11-23T17:55:00Z",
            &["2026-11-24T08:00:00Z"],
        );
        // 09:00 on the first Monday of each month.
        check(
            "cron(0 9 ? * 2#1 *)",
            "2026-01-01T00:00:00Z",
            &["2026-01-05T09:00:00Z", "2026-02-02T09:00:00Z", "2026-03-02T09:00:00Z"],
        );
    }

    #[test]
    fn cron_last_days_and_month_ends() {
        check(
            "cron(0 0 L * ? *)",
            "2024-01-31T00:00:00Z",
            &["2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z", "2024-04-30T00:00:00Z"],
        );
        check(
            "cron(0 0 L 2 ? *)",
            "2025-01-01T00:00:00Z",
            &["2025-02-28T00:00:00Z", "2026-02-28T00:00:00Z"],
        );
        check(
            "cron(0 0 29 2 ? *)",
            "2025-01-01T00:00:00Z",
            &["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"],
        );
        check(
            "cron(0 0 31 * ? *)",
            "2026-04-01T00:00:00Z",
            &["2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"],
        );
        // The last Friday of the month.
        check(
            "cron(0 10 ? * 6L *)",
            "2026-01-01T00:00:00Z",
            &["2026-01-30T10:00:00Z", "2026-02-27T10:00:00Z"],
        );
        // The last day of the week (Saturday).
        check("cron(0 10 ? * L *)", "2026-11-23T00:00:00Z", &["2026-11-28T10:00:00Z"]);
    }

    #[test]
    fn cron_nearest_weekdays() {
        // The 15th of Nov 2026 is a Sunday: the nearest weekday is Monday the 16th.
        check("cron(0 9 15W * ? *)", "2026-11-01T00:00:00Z", &["2026-11-16T09:00:00Z"]);
        // The 1st of Aug 2026 is a Saturday: W never leaves the month, so Monday the 3rd.
        check("cron(0 9 1W * ? *)", "2026-07-31T00:00:00Z", &["2026-08-03T09:00:00Z"]);
        // The 31st of Jan 2026 is a Saturday: the nearest weekday is Friday the 30th.
        check("cron(0 9 31W * ? *)", "2026-01-01T00:00:00Z", &["2026-01-30T09:00:00Z"]);
        // The last weekday of the month: May 2026 ends on a Sunday.
        check("cron(0 9 LW * ? *)", "2026-05-01T00:00:00Z", &["2026-05-29T09:00:00Z"]);
    }

    #[test]
    fn cron_years_and_names() {
        check(
            "cron(30 6 1 JAN ? 2027-2028)",
            "2026-06-01T00:00:00Z",
            &["2027-01-01T06:30:00Z", "2028-01-01T06:30:00Z"],
        );
        check("cron(30 6 1 JAN ? 2027)", "2027-01-01T06:30:00Z", &[]);
        check(
            "cron(0 0 1 1,7 ? *)",
            "2026-02-01T00:00:00Z",
            &["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"],
        );
        check(
            "cron(5,35 14 ? * SUN,SAT *)",
            "2026-11-27T00:00:00Z",
            &["2026-11-28T14:05:00Z", "2026-11-28T14:35:00Z", "2026-11-29T14:05:00Z"],
        );
    }

    #[test]
    fn cron_is_validated() {
        refused("cron(0 12 * * * *)", "?");
        refused("cron(0 12 ? * ? *)", "?");
        refused("cron(0 12 * *)", "six fields");
        refused("cron(60 12 * * ? *)", "Minutes");
        refused("cron(0 24 * * ? *)", "Hours");
        refused("cron(0 0 32 * ? *)", "Day-of-month");
        refused("cron(0 0 ? 13 ? *)", "Month");
        refused("cron(0 0 ? * 8 *)", "Day-of-week");
        refused("cron(0 0 ? * 2#6 *)", "Day-of-week");
        refused("cron(0 0 ? * * 1969)", "Year");
        refused("cron(0 0 ? * FOO *)", "Day-of-week");
        refused("cron(0/0 0 ? * * *)", "Minutes");
        refused("cron(0 0 L-3 * ? *)", "Day-of-month");
    }

    #[test]
    fn month_ends() {
        assert_eq!(last_day_of_month(2024, 2), 29);
        assert_eq!(last_day_of_month(2100, 2), 28);
        assert_eq!(last_day_of_month(2000, 2), 29);
        assert_eq!(last_day_of_month(2026, 12), 31);
        assert_eq!(last_day_of_month(2026, 4), 30);
    }
}
