//! The home page: what is late, due today and waiting to be accepted, and how many returns wait.

use crate::pagination::PAGE_SIZE;
use crate::render::Page;
use crate::session::Frame;
use crate::{view, Portal};
use dropship_core::delivery::DeliveryStatus;
use dropship_core::ids::FulfillerId;
use dropship_core::returns::ReturnStatus;
use serde_json::json;

impl Portal {
    /// `GET /portal` (and `GET /portal/`).
    pub(crate) async fn dashboard(&self, frame: &Frame, fulfiller: &FulfillerId) -> Page {
        let (active, returns) = tokio::join!(
            self.active(fulfiller),
            self.repositories.returns()?.of_fulfiller(
                fulfiller,
                Some(ReturnStatus::Authorized),
                PAGE_SIZE,
                None
            )
        );
        let active = active?;
        let returns = returns?;
        let clock = frame.clock();
        let (late, due_today, rows) = view::due(&active, &clock, &self.texts);
        let to_accept = active
            .iter()
            .filter(|d| d.status == DeliveryStatus::Open)
            .count();
        // One page of waiting returns is enough for the count: past it, "200+".
        let waiting = returns
            .map(|p| {
                let n = p.items.len().to_string();
                if p.next_token.is_some() {
                    format!("{n}+")
                } else {
                    n
                }
            })
            .unwrap_or_else(|| "0".into());
        self.render(
            frame,
            200,
            "dashboard.html",
            "dashboard",
            None,
            json!({"today": clock.date(clock.today()), "late": late, "due_today": due_today,
                "to_accept": to_accept, "returns_waiting": waiting, "due": rows}),
        )
    }
}
