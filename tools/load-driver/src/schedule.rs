//! The open-model schedule: when the k-th request starts, whatever the earlier ones are doing.
//! The rate climbs linearly from the start rate to the target over the ramp, then holds; the
//! k-th request starts when the integral of the rate reaches k.

use anyhow::{bail, Context, Result};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub start_rps: f64,
    pub target_rps: f64,
    pub ramp_seconds: f64,
    pub hold_seconds: f64,
}

impl Profile {
    /// `start,target,ramp,hold`, e.g. `5,50,60,60`.
    pub fn parse(s: &str) -> Result<Profile> {
        let v = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("--profile `{s}`: four numbers start,target,ramp,hold"))?;
        let [start_rps, target_rps, ramp_seconds, hold_seconds] = v[..] else {
            bail!("--profile `{s}`: four numbers start,target,ramp,hold");
        };
        let p = Profile {
            start_rps,
            target_rps,
            ramp_seconds,
            hold_seconds,
        };
        if !(v.iter().all(|x| x.is_finite() && *x >= 0.0) && target_rps > 0.0) {
            bail!("--profile `{s}`: no negative numbers, and a target rate above 0");
        }
        Ok(p)
    }

    pub fn duration(&self) -> f64 {
        self.ramp_seconds + self.hold_seconds
    }

    /// The target rate at `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        if t < self.ramp_seconds {
            self.start_rps + (self.target_rps - self.start_rps) * t / self.ramp_seconds
        } else {
            self.target_rps
        }
    }

    /// Requests started in the ramp.
    fn ramp_requests(&self) -> f64 {
        self.ramp_seconds * (self.start_rps + self.target_rps) / 2.0
    }

    /// The start time (seconds) of request `k` (from 0), or None when the profile is over.
    pub fn send_time(&self, k: u64) -> Option<f64> {
        let k = k as f64;
        let t = if k < self.ramp_requests() {
            // Solve start*t + slope/2*t^2 = k for t in the ramp.
            let a = (self.target_rps - self.start_rps) / (2.0 * self.ramp_seconds);
            let b = self.start_rps;
            if a.abs() < 1e-12 {
                k / b
            } else {
                (-b + (b * b + 4.0 * a * k).max(0.0).sqrt()) / (2.0 * a)
            }
        } else {
            self.ramp_seconds + (k - self.ramp_requests()) / self.target_rps
        };
        (t < self.duration()).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_in(p: &Profile, from: f64, to: f64) -> usize {
        (0..100_000)
            .map_while(|k| p.send_time(k))
            .filter(|t| *t >= from && *t < to)
            .count()
    }

    #[test]
    fn the_ramp_climbs_linearly_and_the_hold_keeps_the_target() {
        let p = Profile::parse("5,50,60,60").unwrap();
        assert_eq!(p.rate_at(0.0), 5.0);
        assert_eq!(p.rate_at(30.0), 27.5);
        assert_eq!(p.rate_at(90.0), 50.0);
        // Requests per second follow the rate: the first second about 5, the last ramp one about 49.
        assert!((5..=6).contains(&count_in(&p, 0.0, 1.0)));
        assert!((48..=50).contains(&count_in(&p, 59.0, 60.0)));
        assert_eq!(count_in(&p, 100.0, 101.0), 50);
        // In all: the ramp's 1650 and the hold's 3000.
        let total = (0..100_000).map_while(|k| p.send_time(k)).count();
        assert_eq!(total, 1650 + 3000);
    }

    #[test]
    fn start_times_never_go_back_and_a_flat_profile_is_evenly_spaced() {
        let p = Profile::parse("0,20,10,5").unwrap();
        let times: Vec<f64> = (0..).map_while(|k| p.send_time(k)).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(times.len(), 100 + 100);
        let flat = Profile::parse("10,10,0,2").unwrap();
        let times: Vec<f64> = (0..).map_while(|k| flat.send_time(k)).collect();
        assert_eq!(times.len(), 20);
        assert!((times[3] - 0.3).abs() < 1e-9);
    }

    #[test]
    fn bad_profiles_are_refused() {
        for bad in ["1,2,3", "1,0,3,4", "a,b,c,d", "-1,5,3,4", "1,5,3,4,5"] {
            assert!(Profile::parse(bad).is_err(), "{bad}");
        }
    }
}
