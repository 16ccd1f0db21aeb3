//! Prices at intake (storage-free): a line that gives no `unitPrice` takes the channel's list
//! price on the order date; a channel with `priceCheck: "reject"` has every given price checked
//! against it. The lines so priced then go through `apply` with the promotions in force.

use super::{LineToPrice, PriceCheck, Refusal};
use crate::ids::Sku;
use crate::money::Money;

/// A line as the channel ordered it, its product's group looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedLine {
    pub sku: Sku,
    pub group: String,
    pub quantity: u32,
    pub unit_price: Option<Money>,
}

/// The unit price of line `index`: the given one, kept as given unless the channel checks it
/// (then it must be the list price), or else the list price (`list`, on the order date).
pub fn unit_price(
    index: usize,
    sku: &Sku,
    given: Option<Money>,
    list: Option<Money>,
    check: PriceCheck,
) -> Result<Money, Refusal> {
    let field = || format!("lines[{index}].unitPrice");
    let no_price = || Refusal::NoPrice {
        field: field(),
        sku: sku.to_string(),
    };
    match (given, check) {
        (Some(given), PriceCheck::None) => Ok(given),
        (Some(given), PriceCheck::Reject) => match list {
            Some(list) if list == given => Ok(given),
            Some(list) => Err(Refusal::PriceMismatch {
                field: field(),
                given,
                list,
            }),
            None => Err(no_price()),
        },
        (None, _) => list.ok_or_else(no_price),
    }
}

/// The ordered lines with their unit prices, ready for `apply`. `list_price` is the channel's
/// list price of a sku on the order date (`PriceHistory::price_on`).
pub fn lines_to_price(
    lines: &[OrderedLine],
    list_price: impl Fn(&Sku) -> Option<Money>,
    check: PriceCheck,
) -> Result<Vec<LineToPrice>, Refusal> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let needs_list = l.unit_price.is_none() || check == PriceCheck::Reject;
            let list = if needs_list { list_price(&l.sku) } else { None };
            Ok(LineToPrice {
                sku: l.sku.clone(),
                group: l.group.clone(),
                quantity: l.quantity,
                unit_price: unit_price(i, &l.sku, l.unit_price, list, check)?,
            })
        })
        .collect()
}
