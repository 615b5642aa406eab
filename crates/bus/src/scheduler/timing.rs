//! When an EventBridge Scheduler schedule fires ([schedule types]): `at(yyyy-mm-ddThh:mm:ss)` once,
//! `rate(value unit)` from its start date (or from when it was written), and `cron(...)` read in
//! the schedule's `ScheduleExpressionTimezone` (an IANA name; UTC by default).
//!
//! Daylight saving time as Scheduler handles it: a cron time that does not exist on the day the
//! clocks go forward is skipped; a cron time that happens twice when they go back fires once (at
//! its first occurrence). A rate counts fixed durations (a day is 24 hours), whatever the zone.
//! An `at()` time in a gap fires at the first minute after the gap; one that happens twice fires
//! at the first occurrence. Start and end dates bound recurring schedules only.
//!
//! [schedule types]: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::cron::Cron;
use crate::schedule::Schedule;

/// The most wall-clock minutes walked to find a cron time that exists in the zone.
const MAX_SKIPS: usize = 10_000;

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// `at(...)`: once, at this wall-clock time in the zone.
    At(NaiveDateTime),
    /// `rate(...)`: every `minutes` minutes.
    Rate {
        /// The period in minutes.
        minutes: i64,
    },
    /// `cron(...)`: at the wall-clock minutes the fields allow in the zone.
    Cron(Box<Cron>),
}

impl Expression {
    /// Parses `at(...)`, `rate(...)` or `cron(...)`; the error names the parameter.
    pub fn parse(text: &str) -> Result<Expression, String> {
        let trimmed = text.trim();
        if let Some(body) = trimmed.strip_prefix("at(").and_then(|rest| rest.strip_suffix(')')) {
            return NaiveDateTime::parse_from_str(body.trim(), "%Y-%m-%dT%H:%M:%S")
                .map(Expression::At)
                .map_err(|_| {
                    format!("Invalid Schedule Expression {trimmed}: write at(yyyy-mm-ddThh:mm:ss), as in at(2026-12-01T10:00:00).")
                });
        }
        match Schedule::parse(trimmed) {
            Ok(Schedule::Rate { minutes }) => Ok(Expression::Rate { minutes }),
            Ok(Schedule::Cron(cron)) => Ok(Expression::Cron(cron)),
            Err(message) if trimmed.starts_with("rate(") || trimmed.starts_with("cron(") => Err(message),
            Err(_) => Err(format!(
                "Invalid Schedule Expression {trimmed}: write at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)."
            )),
        }
    }

    /// Whether the schedule fires once.
    pub fn is_one_time(&self) -> bool {
        matches!(self, Expression::At(_))
    }
}

/// A time zone by its IANA name (`UTC` when absent); the error names the parameter.
pub fn zone(name: Option<&str>) -> Result<Tz, String> {
    let name = name.unwrap_or("UTC");
    name.parse::<Tz>().map_err(|_| {
        format!("Invalid ScheduleExpressionTimezone {name}: give a time zone name from the IANA database, such as America/New_York.")
    })
}

/// Everything that decides a schedule's fire times.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// The expression.
    pub expression: Expression,
    /// The zone the expression is read in.
    pub zone: Tz,
    /// No recurring fire before this.
    pub start: Option<DateTime<Utc>>,
    /// No recurring fire after this.
    pub end: Option<DateTime<Utc>>,
    /// Where a rate counts from when there is no start date: when the schedule was written.
    pub written: DateTime<Utc>,
}

impl Timing {
    /// The first fire time of a schedule written (or enabled) at `now`. A one-time schedule
    /// fires at its time even if that has passed (then at once); a rate without a start date
    /// fires at once, then every period.
    pub fn first(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.expression {
            Expression::At(local) => Some(self.at_instant(*local)),
            _ => self.bounded(self.next_recurring(now - Duration::milliseconds(1))),
        }
    }

    /// The fire time after a fire at `fired`, seen at `now`: fires missed meanwhile are not
    /// made up (the next is the first after now). `None` when the schedule is complete.
    pub fn after(&self, fired: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.expression {
            Expression::At(_) => None,
            _ => self.bounded(self.next_recurring(fired.max(now))),
        }
    }

    /// The first recurring fire strictly after `after`, not before the start date.
    fn next_recurring(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let after = match self.start {
            Some(start) if start > after => start - Duration::milliseconds(1),
            _ => after,
        };
        match &self.expression {
            Expression::At(_) => None,
            Expression::Rate { minutes } => {
                let anchor = self.start.unwrap_or(self.written);
                let period = Duration::minutes(*minutes);
                if after < anchor {
                    return Some(anchor);
                }
                let periods = (after - anchor).num_milliseconds() / period.num_milliseconds() + 1;
                Some(anchor + period * i32::try_from(periods).ok()?)
            }
            Expression::Cron(cron) => self.next_cron(cron, after),
        }
    }

    /// The first cron minute strictly after `after` that exists in the zone, each wall-clock
    /// time once.
    fn next_cron(&self, cron: &Cron, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut local = after.with_timezone(&self.zone).naive_local();
        for _ in 0..MAX_SKIPS {
            let candidate = cron.next_local_after(local)?;
            match self.zone.from_local_datetime(&candidate) {
                LocalResult::Single(time) if time.with_timezone(&Utc) > after => return Some(time.with_timezone(&Utc)),
                // The repeated hour: only the first occurrence fires.
                LocalResult::Ambiguous(first, _) if first.with_timezone(&Utc) > after => {
                    return Some(first.with_timezone(&Utc));
                }
                // A time the clocks skip, or one already past: try the next.
                _ => {}
            }
            local = candidate;
        }
        None
    }

    /// An `at()` time as an instant in the zone.
    fn at_instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut candidate = local;
        for _ in 0..MAX_SKIPS {
            match self.zone.from_local_datetime(&candidate) {
                LocalResult::Single(time) | LocalResult::Ambiguous(time, _) => return time.with_timezone(&Utc),
                LocalResult::None => candidate += Duration::minutes(1),
            }
        }
        Utc.from_utc_datetime(&local)
    }

    fn bounded(&self, next: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        next.filter(|time| self.end.is_none_or(|end| *time <= end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn timing(expression: &str, zone_name: &str, written: &str) -> Timing {
        Timing {
            expression: Expression::parse(expression).unwrap(),
            zone: zone(Some(zone_name)).unwrap(),
            start: None,
            end: None,
            written: utc(written),
        }
    }

    /// The first `count` fire times from `now`, each seen when it is due.
    fn fires(timing: &Timing, now: &str, count: usize) -> Vec<String> {
        let mut got = Vec::new();
        let mut next = timing.first(utc(now));
        while let Some(time) = next {
            if got.len() == count {
                break;
            }
            got.push(time.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            next = timing.after(time, time);
        }
        got
    }

    #[test]
    fn a_cron_follows_its_zone_across_daylight_saving_time() {
        // 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer (from 8 March 2026).
        let timing = timing("cron(0 9 * * ? *)", "America/New_York", "2026-03-06T00:00:00Z");
        assert_eq!(
            fires(&timing, "2026-03-06T00:00:00Z", 4),
            [
                "2026-03-06T14:00:00Z",
                "2026-03-07T14:00:00Z",
                "2026-03-08T13:00:00Z",
                "2026-03-09T13:00:00Z"
            ]
        );
    }

    #[test]
    fn a_cron_time_the_clocks_skip_does_not_fire() {
        // 02:30 does not exist in New York on 8 March 2026.
        let timing = timing("cron(30 2 * * ? *)", "America/New_York", "2026-03-06T00:00:00Z");
        assert_eq!(
            fires(&timing, "2026-03-07T00:00:00Z", 3),
            ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"]
        );
    }

    #[test]
    fn a_cron_time_that_happens_twice_fires_once() {
        // 01:30 happens twice in New York on 1 November 2026 (EDT, then EST).
        let timing = timing("cron(30 1 * * ? *)", "America/New_York", "2026-10-30T00:00:00Z");
        assert_eq!(
            fires(&timing, "2026-10-31T12:00:00Z", 2),
            ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
        );
        // Every 30 minutes through the repeated hour: 01:00 and 01:30 once each.
        let timing = timing_every_half_hour();
        assert_eq!(
            fires(&timing, "2026-11-01T04:45:00Z", 4),
            [
                "2026-11-01T05:00:00Z",
                "2026-11-01T05:30:00Z",
                "2026-11-01T07:00:00Z",
                "2026-11-01T07:30:00Z"
            ]
        );
    }

    fn timing_every_half_hour() -> Timing {
        timing("cron(0/30 * * * ? *)", "America/New_York", "2026-10-30T00:00:00Z")
    }

    #[test]
    fn a_one_time_schedule_fires_once_in_its_zone() {
        let timing = timing("at(2026-12-01T10:00:00)", "Europe/Berlin", "2026-11-23T00:00:00Z");
        assert_eq!(fires(&timing, "2026-11-23T00:00:00Z", 3), ["2026-12-01T09:00:00Z"]);
        // A time already past fires at once (once).
        assert_eq!(fires(&timing, "2027-01-01T00:00:00Z", 3), ["2026-12-01T09:00:00Z"]);
        // In a gap: the first minute after it; when repeated: the first occurrence.
        let gap = self::timing("at(2026-03-29T02:30:00)", "Europe/Berlin", "2026-03-01T00:00:00Z");
        assert_eq!(fires(&gap, "2026-03-01T00:00:00Z", 1), ["2026-03-29T01:00:00Z"]);
        let twice = self::timing("at(2026-10-25T02:30:00)", "Europe/Berlin", "2026-10-01T00:00:00Z");
        assert_eq!(fires(&twice, "2026-10-01T00:00:00Z", 1), ["2026-10-25T00:30:00Z"]);
    }

    #[test]
    fn a_rate_starts_at_once_or_at_its_start_date_and_stops_at_its_end() {
        let mut timing = timing("rate(2 hours)", "Asia/Tokyo", "2026-11-23T10:15:00Z");
        assert_eq!(
            fires(&timing, "2026-11-23T10:15:00Z", 3),
            ["2026-11-23T10:15:00Z", "2026-11-23T12:15:00Z", "2026-11-23T14:15:00Z"]
        );
        timing.start = Some(utc("2026-11-24T00:00:00Z"));
        timing.end = Some(utc("2026-11-24T05:00:00Z"));
        assert_eq!(
            fires(&timing, "2026-11-23T10:15:00Z", 10),
            ["2026-11-24T00:00:00Z", "2026-11-24T02:00:00Z", "2026-11-24T04:00:00Z"]
        );
    }

    #[test]
    fn missed_fires_are_not_made_up() {
        let timing = timing("rate(5 minutes)", "UTC", "2026-11-23T10:00:00Z");
        // Fired at 10:00, seen again at 11:02: the next is 11:05.
        assert_eq!(
            timing.after(utc("2026-11-23T10:00:00Z"), utc("2026-11-23T11:02:00Z")),
            Some(utc("2026-11-23T11:05:00Z"))
        );
    }

    #[test]
    fn a_cron_with_a_start_date_waits_for_it() {
        let mut timing = timing("cron(0 12 * * ? *)", "UTC", "2026-11-23T00:00:00Z");
        timing.start = Some(utc("2026-11-25T12:00:00Z"));
        assert_eq!(
            fires(&timing, "2026-11-23T00:00:00Z", 2),
            ["2026-11-25T12:00:00Z", "2026-11-26T12:00:00Z"]
        );
    }

    #[test]
    fn expressions_and_zones_are_validated() {
        let refused = |text: &str, fragment: &str| {
            let error = Expression::parse(text).unwrap_err();
            assert!(error.contains(fragment), "{text}: {error}");
        };
        refused("at(2026-12-01 10:00:00)", "at(yyyy-mm-ddThh:mm:ss)");
        refused("at(2026-13-01T10:00:00)", "at(yyyy-mm-ddThh:mm:ss)");
        refused("rate(5 seconds)", "unit");
        refused("cron(0 12 * * * *)", "?");
        refused("every day", "at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)");
        assert!(
            zone(Some("Mars/Olympus"))
                .unwrap_err()
                .contains("ScheduleExpressionTimezone")
        );
        assert_eq!(zone(None).unwrap(), chrono_tz::UTC);
        assert!(Expression::parse("at(2026-12-01T10:00:00)").unwrap().is_one_time());
    }
}
