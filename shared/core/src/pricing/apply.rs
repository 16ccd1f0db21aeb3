//! Applies the promotions in force and the channel's discounts to an order's lines, in
//! docs/api.md's sequence: percent_off, multi_buy, order_threshold, then the channel's
//! `discounts`. Each step takes from what the earlier ones left, so no line's `paid` falls
//! below 0.00, and every promotion's share is recorded on the line under its id.

use super::benefits::free_units;
use super::{AppliedPromotions, Benefit, BenefitRule, LineTerms, Promotion, PromotionKind};
use crate::ids::Sku;
use crate::money::{allocate, Money};
use crate::order::{Discount, DiscountShare};
use crate::ApiError;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

/// A line as the promotions see it: its product (sku and group), units and unit price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineToPrice {
    pub sku: Sku,
    pub group: String,
    pub quantity: u32,
    pub unit_price: Money,
}

/// A line's money after promotions and discounts (`paid = gross - discountShare`).
#[derive(Debug, Clone, PartialEq)]
pub struct PricedLine {
    pub gross: Money,
    /// Promotions first (in the sequence they applied, under their id), then the discounts.
    pub discount_shares: Vec<DiscountShare>,
    pub discount_share: Money,
    pub paid: Money,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PricedOrder {
    /// One per line given, same order.
    pub lines: Vec<PricedLine>,
    /// What the order records so that refunds never read the promotion table.
    pub promotions: AppliedPromotions,
}

/// Prices `lines` under `promotions` (those in force for the order's channel and date; see
/// `in_force`) and the channel's `discounts`. 422 when the discounts exceed the merchandise
/// after promotions, when a discount's `minOrderValue` is above it, or when a discount's code
/// is the id of a promotion that applies (their shares would be indistinguishable).
pub fn apply(
    lines: &[LineToPrice],
    promotions: &[&Promotion],
    discounts: &[Discount],
) -> Result<PricedOrder, ApiError> {
    let mut promotions = promotions.to_vec();
    promotions.sort_by(|a, b| (a.kind.step(), &a.id).cmp(&(b.kind.step(), &b.id)));
    let mut order = Pricing::new(lines);
    order.percent_off(&promotions);
    order.multi_buy(&promotions);
    order.order_threshold(&promotions);
    order.discounts(discounts)?;
    Ok(order.finish())
}

/// The pricing under way: each line's money so far and the record for refunds.
struct Pricing<'a> {
    lines: &'a [LineToPrice],
    /// What each line still pays after the steps so far.
    left: Vec<Money>,
    shares: Vec<Vec<DiscountShare>>,
    terms: Vec<LineTerms>,
    benefits: Vec<Benefit>,
}

impl<'a> Pricing<'a> {
    fn new(lines: &'a [LineToPrice]) -> Self {
        Pricing {
            lines,
            left: lines.iter().map(|l| l.unit_price * l.quantity).collect(),
            shares: vec![Vec::new(); lines.len()],
            terms: lines
                .iter()
                .map(|l| LineTerms {
                    unit_price_after_percent_off: l.unit_price,
                    multi_buy: None,
                    order_threshold: None,
                })
                .collect(),
            benefits: Vec::new(),
        }
    }

    /// Takes `amount` off line `i` as `code`'s share (nothing recorded for 0.00).
    fn take(&mut self, i: usize, code: &str, amount: Money) {
        if amount == Money::ZERO {
            return;
        }
        self.left[i] -= amount;
        self.shares[i].push(DiscountShare {
            code: code.to_string(),
            amount,
        });
    }

    /// Each unit gets the percent_off that reduces it most, `round(price x percent / 100)`
    /// (the smallest id on a tie: promotions come sorted by id).
    fn percent_off(&mut self, promotions: &[&Promotion]) {
        for (i, l) in self.lines.iter().enumerate() {
            let mut best: Option<(&str, Money)> = None;
            for p in promotions.iter().filter(|p| p.covers(&l.sku, &l.group)) {
                if let PromotionKind::PercentOff { percent } = p.kind {
                    let reduction = l.unit_price.pro_rata(percent, Decimal::ONE_HUNDRED);
                    if best.is_none_or(|(_, r)| reduction > r) {
                        best = Some((&p.id, reduction));
                    }
                }
            }
            if let Some((id, reduction)) = best {
                self.terms[i].unit_price_after_percent_off = l.unit_price - reduction;
                self.take(i, id, reduction * l.quantity);
            }
        }
    }

    /// The lines `p` covers that no promotion of its step has taken (`taken`).
    fn untaken(&self, p: &Promotion, taken: impl Fn(&LineTerms) -> bool) -> Vec<usize> {
        (0..self.lines.len())
            .filter(|i| !taken(&self.terms[*i]))
            .filter(|i| p.covers(&self.lines[*i].sku, &self.lines[*i].group))
            .collect()
    }

    /// The promotions of `step`, each taking units one promotion at a time (multi-buys and
    /// thresholds): see `best`.
    fn of_step<'p>(promotions: &[&'p Promotion], step: u8) -> Vec<&'p Promotion> {
        promotions
            .iter()
            .copied()
            .filter(|p| p.kind.step() == step)
            .collect()
    }

    /// Of `candidates`, the one that gives the units no promotion of its step has taken yet the
    /// most (the smallest id on a tie: candidates come sorted by id), with what `evaluate`
    /// found; none when none gives anything. The winner takes every such unit it covers, then
    /// the next is chosen over the units left.
    fn best<T>(
        &self,
        candidates: &[&Promotion],
        evaluate: impl Fn(&Self, &Promotion) -> (Money, T),
    ) -> Option<(usize, T)> {
        let mut best: Option<(usize, Money, T)> = None;
        for (c, p) in candidates.iter().enumerate() {
            let (value, found) = evaluate(self, p);
            if best.as_ref().is_none_or(|b| value > b.1) {
                best = Some((c, value, found));
            }
        }
        best.filter(|b| b.1 > Money::ZERO).map(|(c, _, t)| (c, t))
    }

    /// A multi-buy over the untaken lines it covers: the value of its free units, the lines
    /// and their free units.
    fn free_of(&self, p: &Promotion) -> (Money, (Vec<usize>, Vec<u32>)) {
        let PromotionKind::MultiBuy { buy, pay } = p.kind else {
            return (Money::ZERO, Default::default());
        };
        let lines = self.untaken(p, |t| t.multi_buy.is_some());
        let entries: Vec<(u32, Money)> = lines
            .iter()
            .map(|i| {
                let t = &self.terms[*i];
                (self.lines[*i].quantity, t.unit_price_after_percent_off)
            })
            .collect();
        let free = free_units(&entries, buy, pay);
        let value = entries.iter().zip(&free).map(|((_, p), f)| *p * *f).sum();
        (value, (lines, free))
    }

    /// Each unit's free units come off its line at its price after percent_off.
    fn multi_buy(&mut self, promotions: &[&Promotion]) {
        let mut candidates = Self::of_step(promotions, 1);
        while let Some((c, (lines, free))) = self.best(&candidates, Self::free_of) {
            let p = candidates.remove(c);
            for (i, f) in lines.iter().zip(&free) {
                self.terms[*i].multi_buy = Some(p.id.clone());
                let price = self.terms[*i].unit_price_after_percent_off;
                self.take(*i, &p.id, price * *f);
            }
            if let PromotionKind::MultiBuy { buy, pay } = p.kind {
                self.benefits.push(Benefit {
                    code: p.id.clone(),
                    rule: BenefitRule::MultiBuy { buy, pay },
                    earned: free.iter().sum(),
                });
            }
        }
    }

    /// A threshold over the untaken lines it covers: its amount when they reach its minimum
    /// after the earlier steps (else nothing), and the lines.
    fn reached(&self, p: &Promotion) -> (Money, Vec<usize>) {
        let PromotionKind::OrderThreshold {
            min_order_value,
            amount,
        } = p.kind
        else {
            return (Money::ZERO, Vec::new());
        };
        let lines = self.untaken(p, |t| t.order_threshold.is_some());
        let gross: Money = lines.iter().map(|i| self.left[*i]).sum();
        let value = if gross >= min_order_value {
            amount
        } else {
            Money::ZERO
        };
        (value, lines)
    }

    /// A threshold's amount goes to its lines pro rata to what they pay after the earlier steps.
    fn order_threshold(&mut self, promotions: &[&Promotion]) {
        let mut candidates = Self::of_step(promotions, 2);
        while let Some((c, lines)) = self.best(&candidates, Self::reached) {
            let p = candidates.remove(c);
            let PromotionKind::OrderThreshold {
                min_order_value,
                amount,
            } = p.kind
            else {
                continue;
            };
            let left: Vec<Money> = lines.iter().map(|i| self.left[*i]).collect();
            for (i, share) in lines.iter().zip(allocate_within(amount, &left, &left)) {
                self.terms[*i].order_threshold = Some(p.id.clone());
                self.take(*i, &p.id, share);
            }
            self.benefits.push(Benefit {
                code: p.id.clone(),
                rule: BenefitRule::OrderThreshold {
                    min_order_value,
                    amount,
                },
                earned: 1,
            });
        }
    }

    /// The channel's discounts, each on its own pro rata to the lines' amounts after
    /// promotions; a `minOrderValue` compares the merchandise after promotions.
    fn discounts(&mut self, discounts: &[Discount]) -> Result<(), ApiError> {
        let after_promotions = self.left.clone();
        // Only promotions have shares yet.
        let promotion_codes: BTreeSet<String> = self
            .shares
            .iter()
            .flatten()
            .map(|s| s.code.clone())
            .collect();
        let merchandise: Money = after_promotions.iter().copied().sum();
        let total: Money = discounts.iter().map(|d| d.amount).sum();
        if total > merchandise {
            return Err(ApiError::invalid(
                "discounts",
                "the discounts exceed the merchandise gross",
            ));
        }
        for (i, d) in discounts.iter().enumerate() {
            if let Some(min) = d.min_order_value.filter(|min| merchandise < *min) {
                return Err(ApiError::invalid(
                    format!("discounts[{i}].minOrderValue"),
                    format!(
                        "discount {} needs a merchandise gross of at least {min}",
                        d.code
                    ),
                ));
            }
            if promotion_codes.contains(&d.code) {
                return Err(ApiError::invalid(
                    format!("discounts[{i}].code"),
                    format!(
                        "discount code {} is the id of a promotion that applies",
                        d.code
                    ),
                ));
            }
            let left = self.left.clone();
            for (line, share) in allocate_within(d.amount, &after_promotions, &left)
                .into_iter()
                .enumerate()
            {
                // Every line records every discount, 0.00 included, as intake always did.
                self.left[line] -= share;
                self.shares[line].push(DiscountShare {
                    code: d.code.clone(),
                    amount: share,
                });
            }
        }
        Ok(())
    }

    fn finish(self) -> PricedOrder {
        let lines = self
            .lines
            .iter()
            .zip(self.shares)
            .map(|(l, shares)| {
                let gross = l.unit_price * l.quantity;
                let discount_share: Money = shares.iter().map(|s| s.amount).sum();
                PricedLine {
                    gross,
                    discount_share,
                    paid: gross - discount_share,
                    discount_shares: shares,
                }
            })
            .collect();
        PricedOrder {
            lines,
            promotions: AppliedPromotions {
                lines: self.terms,
                benefits: self.benefits,
            },
        }
    }
}

/// `allocate` (pro rata to `weights`, remainder to the largest) with no share above its line's
/// `room`: what a rounding would put above it goes to the lines with the most room left (the
/// first on a tie). `amount` never exceeds the total room, so the shares still add up to it.
pub(super) fn allocate_within(amount: Money, weights: &[Money], room: &[Money]) -> Vec<Money> {
    let mut shares = allocate(amount, weights);
    let mut excess = Money::ZERO;
    for (s, r) in shares.iter_mut().zip(room) {
        if *s > *r {
            excess += *s - *r;
            *s = *r;
        }
    }
    while excess > Money::ZERO {
        let Some(i) = (0..shares.len())
            .filter(|i| room[*i] > shares[*i])
            .max_by(|a, b| {
                (room[*a] - shares[*a])
                    .cmp(&(room[*b] - shares[*b]))
                    .then(b.cmp(a))
            })
        else {
            break;
        };
        let take = excess.min(room[i] - shares[i]);
        shares[i] += take;
        excess -= take;
    }
    shares
}
