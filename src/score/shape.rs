//! How a criterion turns what it measured into points: ratios, steps,
//! yes/no, with the rules' policy for a zero denominator; and the one
//! rounding (half away from zero) used wherever a score is shown.

use crate::rules::{Shape, StepBound, ZeroPolicy};
use rust_decimal::prelude::*;

/// What a criterion measured for one unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MeasureValue {
    Ratio { numerator: f64, denominator: f64 },
    Value(f64),
}

/// Points and applicability of one criterion: `(points, applicable, value)`.
/// Ratios are clamped to [0, 1]; nothing is rounded here.
pub fn criterion_points(
    shape: &Shape,
    points: f64,
    zero: ZeroPolicy,
    league: &str,
    m: MeasureValue,
) -> (f64, bool, Option<f64>) {
    let (x, value) = match m {
        MeasureValue::Ratio {
            numerator,
            denominator,
        } => {
            if denominator == 0.0 || !denominator.is_finite() || !numerator.is_finite() {
                return match zero {
                    ZeroPolicy::Full => (points, true, None),
                    ZeroPolicy::Zero => (0.0, true, None),
                    ZeroPolicy::Exclude => (0.0, false, None),
                };
            }
            let r = numerator / denominator;
            (r, Some(r))
        }
        MeasureValue::Value(v) => (v, Some(v)),
    };
    let ratio = x.clamp(0.0, 1.0);
    let p = match shape {
        Shape::Linear => points * ratio,
        Shape::Target { target, by_league } => {
            let t = by_league.get(league).copied().unwrap_or(*target);
            if ratio >= t {
                points
            } else {
                points * ratio / t
            }
        }
        Shape::Steps { steps, otherwise } => steps
            .iter()
            .find(|s| match s.bound {
                StepBound::AtMost(b) => x <= b,
                StepBound::AtLeast(b) => x >= b,
            })
            .map(|s| s.points)
            .unwrap_or(*otherwise),
    };
    (p, true, value)
}

/// Rounds half away from zero to `dp` decimals, on the decimal the number
/// was meant to be: the binary noise below 1e-9 is dropped first, so that a
/// total of 89.995 rounds to 90.00 however the float stored it.
pub fn round_half_away(x: f64, dp: u32) -> f64 {
    // The quick way gives the same number whenever `x` is not close to a
    // half of the last place kept, where the nine-place step could tip it
    // (`the_quick_rounding_agrees_with_the_decimal_one`).
    if let Some(r) = quick_round(x, dp) {
        return r;
    }
    decimal_round(x, dp)
}

/// Rounding by floats, for a value well away from a tie: `None` near one
/// (within a thousandth of the last place kept), when large, or for more
/// than six places.
fn quick_round(x: f64, dp: u32) -> Option<f64> {
    const SCALE: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];
    let scale = *SCALE.get(dp as usize)?;
    let t = x * scale;
    if !t.is_finite() || t.abs() >= 1e9 {
        return None;
    }
    let frac = (t - t.trunc()).abs();
    if (frac - 0.5).abs() < 1e-3 {
        return None;
    }
    let r = t.round();
    Some(if r == 0.0 { 0.0 } else { r / scale })
}

fn decimal_round(x: f64, dp: u32) -> f64 {
    let Some(d) = Decimal::from_f64(x) else {
        return x;
    };
    d.round_dp_with_strategy(9, RoundingStrategy::MidpointNearestEven)
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
        .to_f64()
        .unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Step;
    use std::collections::BTreeMap;

    #[test]
    fn the_quick_rounding_agrees_with_the_decimal_one() {
        // Values as scores are: ratios, points, sums of points, with ties.
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..400_000u64 {
            let n = next();
            let x = match i % 4 {
                0 => (n % 1_000_000) as f64 / (1 + next() % 10_000) as f64,
                1 => (n % 100_000) as f64 / 1000.0 + 0.0005,
                2 => -((n % 10_000) as f64) / 64.0,
                _ => f64::from_bits(0x3ff0_0000_0000_0000 | (n >> 12)) * 100.0,
            };
            for dp in [0, 2, 4, 6] {
                if let Some(q) = quick_round(x, dp) {
                    let d = decimal_round(x, dp);
                    assert_eq!(
                        q.to_bits(),
                        d.to_bits(),
                        "{x} to {dp} places: {q} against {d}"
                    );
                }
            }
        }
    }

    fn ratio(n: f64, d: f64) -> MeasureValue {
        MeasureValue::Ratio {
            numerator: n,
            denominator: d,
        }
    }

    fn target(t: f64) -> Shape {
        Shape::Target {
            target: t,
            by_league: BTreeMap::from([("xa".to_string(), 0.3)]),
        }
    }

    #[test]
    fn linear_gives_points_times_ratio() {
        let (p, a, v) = criterion_points(
            &Shape::Linear,
            20.0,
            ZeroPolicy::Exclude,
            "xa",
            ratio(3.0, 4.0),
        );
        assert_eq!((p, a, v), (15.0, true, Some(0.75)));
    }

    #[test]
    fn ratios_above_one_are_clamped() {
        let (p, _, v) = criterion_points(
            &Shape::Linear,
            6.0,
            ZeroPolicy::Exclude,
            "xa",
            ratio(12.0, 10.0),
        );
        assert_eq!(p, 6.0);
        assert_eq!(v, Some(1.2));
    }

    #[test]
    fn target_gives_full_points_at_the_target_and_scales_below() {
        let s = target(0.5);
        assert_eq!(
            criterion_points(&s, 10.0, ZeroPolicy::Exclude, "co_quan", ratio(50.0, 100.0)).0,
            10.0
        );
        assert_eq!(
            criterion_points(&s, 10.0, ZeroPolicy::Exclude, "co_quan", ratio(25.0, 100.0)).0,
            5.0
        );
        // Communes have their own target of 0.3.
        assert_eq!(
            criterion_points(&s, 10.0, ZeroPolicy::Exclude, "xa", ratio(30.0, 100.0)).0,
            10.0
        );
        assert_eq!(
            criterion_points(&s, 10.0, ZeroPolicy::Exclude, "xa", ratio(15.0, 100.0)).0,
            5.0
        );
    }

    #[test]
    fn steps_take_the_first_bound_that_holds() {
        let s = Shape::Steps {
            steps: vec![
                Step {
                    bound: StepBound::AtMost(20.0),
                    points: 4.0,
                },
                Step {
                    bound: StepBound::AtMost(30.0),
                    points: 2.0,
                },
            ],
            otherwise: 0.0,
        };
        let at = |v| criterion_points(&s, 4.0, ZeroPolicy::Zero, "xa", MeasureValue::Value(v)).0;
        assert_eq!(
            (at(12.0), at(20.0), at(20.5), at(30.0), at(31.0)),
            (4.0, 4.0, 2.0, 2.0, 0.0)
        );
    }

    #[test]
    fn zero_denominator_follows_the_policy() {
        let z = ratio(0.0, 0.0);
        assert_eq!(
            criterion_points(&Shape::Linear, 6.0, ZeroPolicy::Full, "xa", z),
            (6.0, true, None)
        );
        assert_eq!(
            criterion_points(&Shape::Linear, 6.0, ZeroPolicy::Zero, "xa", z),
            (0.0, true, None)
        );
        assert_eq!(
            criterion_points(&Shape::Linear, 6.0, ZeroPolicy::Exclude, "xa", z),
            (0.0, false, None)
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero_on_the_intended_decimal() {
        assert_eq!(round_half_away(89.995, 2), 90.0);
        assert_eq!(round_half_away(89.994999, 2), 89.99);
        assert_eq!(round_half_away(1.005, 2), 1.01);
        assert_eq!(round_half_away(2.675, 2), 2.68);
        assert_eq!(round_half_away(100.0 * 89.995 / 100.0, 2), 90.0);
    }
}
