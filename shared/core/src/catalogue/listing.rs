//! The filters of the configuration lists (`GET /admin/channels`, `/admin/fulfillers`,
//! `/admin/products`): `active` on all three, `q` and `group` on products. Separate because
//! they are the only rules of the lists that need nothing stored.

use super::Product;
use crate::ApiError;

/// What a configuration list keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only active (true) or only inactive (false) items; None: both.
    pub active: Option<bool>,
    /// Products whose sku starts with it or whose name contains it, ignoring case.
    pub q: Option<String>,
    /// Products of exactly this group.
    pub group: Option<String>,
}

impl ListFilter {
    /// The filter of a list's query (`param` gives a query parameter); `products`: whether
    /// `q` and `group` apply. 422 naming the parameter for a value that is not allowed.
    pub fn parse(param: impl Fn(&str) -> Option<String>, products: bool) -> Result<Self, ApiError> {
        let active = match param("active").as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(ApiError::invalid("active", "active must be true or false")),
        };
        let text = |name: &str| -> Result<Option<String>, ApiError> {
            match param(name) {
                Some(v) if v.trim().is_empty() || v.chars().count() > 200 => Err(
                    ApiError::invalid(name, format!("{name} must be 1 to 200 characters")),
                ),
                other => Ok(other),
            }
        };
        let (q, group) = if products {
            (text("q")?, text("group")?)
        } else {
            (None, None)
        };
        Ok(Self { active, q, group })
    }

    /// True when an item with this `active` flag is listed.
    pub fn keeps_active(&self, active: bool) -> bool {
        self.active.is_none_or(|want| want == active)
    }

    /// True when the product is listed.
    pub fn keeps_product(&self, p: &Product) -> bool {
        self.keeps_active(p.active)
            && self.group.as_ref().is_none_or(|g| *g == p.group)
            && self.q.as_ref().is_none_or(|q| {
                let q = q.to_lowercase();
                p.sku.as_str().to_lowercase().starts_with(&q) || p.name.to_lowercase().contains(&q)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn product(sku: &str, name: &str, group: &str, active: bool) -> Product {
        serde_json::from_value(json!({"sku": sku, "name": name, "taxClass": "standard",
            "group": group, "allowBackorder": false, "sources": [], "active": active}))
        .unwrap()
    }

    fn filter(params: &[(&str, &str)], products: bool) -> Result<ListFilter, ApiError> {
        ListFilter::parse(
            |name| {
                params
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            },
            products,
        )
    }

    #[test]
    fn q_is_a_sku_prefix_or_a_part_of_the_name_ignoring_case() {
        let f = filter(&[("q", "mug")], true).unwrap();
        assert!(f.keeps_product(&product("MUG-1", "Cup", "kitchen", true)));
        assert!(f.keeps_product(&product("CUP-1", "Big Mug", "kitchen", false)));
        assert!(!f.keeps_product(&product("XMUG-1", "Cup", "kitchen", true)));
        let f = filter(&[("q", "ÄPFEL")], true).unwrap();
        assert!(f.keeps_product(&product("A-1", "Saft aus äpfeln", "food", true)));
    }

    #[test]
    fn group_and_active_narrow_the_list() {
        let f = filter(&[("group", "kitchen"), ("active", "false")], true).unwrap();
        assert!(f.keeps_product(&product("A", "A", "kitchen", false)));
        assert!(!f.keeps_product(&product("A", "A", "kitchen", true)));
        assert!(!f.keeps_product(&product("A", "A", "garden", false)));
        let all = filter(&[], true).unwrap();
        assert!(all.keeps_active(true) && all.keeps_active(false));
        assert!(filter(&[("active", "true")], false)
            .unwrap()
            .keeps_active(true));
    }

    #[test]
    fn invalid_values_are_refused_naming_the_parameter() {
        for (params, field) in [
            (vec![("active", "yes")], "active"),
            (vec![("q", " ")], "q"),
            (vec![("group", "")], "group"),
        ] {
            let e = filter(&params, true).unwrap_err();
            assert_eq!((e.status, e.field.as_deref()), (422, Some(field)));
        }
        let long = "x".repeat(201);
        assert!(filter(&[("q", &long)], true).is_err());
        // q and group mean nothing on other lists: not read there.
        assert_eq!(filter(&[("q", "")], false).unwrap(), ListFilter::default());
    }
}
