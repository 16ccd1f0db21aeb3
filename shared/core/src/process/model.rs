//! The one description of the order process as the code runs it, derived from the settings: the
//! BPMN document and the SVG picture are both drawn from it, never by hand. A step a setting
//! switches off is absent (the flow goes past it), a timer set to 0 = never is absent, and each
//! timer carries its duration as an ISO 8601 duration. Each node names, in `runs_in`, the code it
//! stands for.
//!
//! The steps of the settings issue 21 brings (reroute on silence, the routing strategy, the mail
//! switches, the backorder limit, the cancellation limit) describe what the functions do once its
//! later steps wire those settings in; with the default settings the picture is what runs today.

use super::settings::{CancelUntil, ProcessSettings, RoutingStrategy};

/// What kind of work a task is (BPMN's task types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Done by a function without anyone's hand.
    Service,
    /// Done by a person (a fulfiller, in its API or the portal).
    User,
    /// A mail sent by the notifier.
    Send,
    /// Waiting for someone else's request or for stock.
    Receive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Start,
    End,
    Task(TaskKind),
    /// An exclusive gateway: exactly one outgoing flow is taken.
    Gateway,
    /// A timer: on the boundary of `attached_to` (interrupting it or not), or on its own in the
    /// flow when `attached_to` is `None`. `duration` is ISO 8601 (`PT48H`, `P14D`, `PT30M`).
    Timer {
        duration: String,
        attached_to: Option<&'static str>,
        interrupting: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: &'static str,
    pub name: String,
    pub kind: NodeKind,
    /// The code this step stands for.
    pub runs_in: &'static str,
    /// The band of the picture it is drawn in: 0 is the order's main way, the others its
    /// side ways (the layout takes it as given; columns it works out from the flows).
    pub row: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub id: String,
    pub source: &'static str,
    pub target: &'static str,
    /// The condition a gateway's outgoing flow stands for.
    pub name: Option<&'static str>,
    /// Goes back to an earlier step (routing again): the layout does not count it when it
    /// orders the steps from left to right.
    pub back: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessModel {
    pub nodes: Vec<Node>,
    pub flows: Vec<Flow>,
}

impl ProcessModel {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Nodes of each kind, for the checks that count them.
    pub fn count(&self, pred: impl Fn(&NodeKind) -> bool) -> usize {
        self.nodes.iter().filter(|n| pred(&n.kind)).count()
    }
}

/// ISO 8601 durations as BPMN's `timeDuration` takes them.
pub fn hours(n: u32) -> String {
    format!("PT{n}H")
}
pub fn minutes(n: u32) -> String {
    format!("PT{n}M")
}
pub fn days(n: u32) -> String {
    format!("P{n}D")
}

/// Adds the process way by way: the steps of a way follow each other in one row of the picture.
#[derive(Default)]
struct Builder {
    model: ProcessModel,
}

/// A step of a way; `None` when a setting switches it off.
type Step = Option<Node>;

impl Builder {
    fn flow(&mut self, source: &'static str, target: &'static str, name: Option<&'static str>) {
        self.model.flows.push(Flow {
            id: format!("Flow_{source}_{target}"),
            source,
            target,
            name,
            back: false,
        });
    }

    /// A flow back to an earlier step.
    fn back(&mut self, source: &'static str, target: &'static str, name: Option<&'static str>) {
        self.flow(source, target, name);
        if let Some(f) = self.model.flows.last_mut() {
            f.back = true;
        }
    }

    /// The present `steps` in `row`, one after the other, the first after `from` (over a flow
    /// named `condition`); a switched-off step is left out and the flow goes past it. A way that
    /// starts at a boundary timer (no `from`) is left out whole when the timer is off. Returns
    /// the way's last step.
    fn way(
        &mut self,
        row: u32,
        from: Option<&'static str>,
        condition: Option<&'static str>,
        steps: impl IntoIterator<Item = Step>,
    ) -> Option<&'static str> {
        let mut steps = steps.into_iter().peekable();
        if from.is_none() && matches!(steps.peek(), Some(None)) {
            return None;
        }
        let mut last = from;
        for n in steps.flatten() {
            let id = n.id;
            self.model.nodes.push(Node { row, ..n });
            if let Some(prev) = last {
                self.flow(prev, id, if last == from { condition } else { None });
            }
            last = Some(id);
        }
        last
    }
}

fn step(id: &'static str, name: impl Into<String>, kind: NodeKind, runs_in: &'static str) -> Step {
    Some(Node {
        id,
        name: name.into(),
        kind,
        runs_in,
        row: 0,
    })
}

fn task(id: &'static str, name: impl Into<String>, kind: TaskKind, runs_in: &'static str) -> Step {
    step(id, name, NodeKind::Task(kind), runs_in)
}

/// A customer mail, absent when its setting is off.
fn mail(on: bool, id: &'static str, name: &str, runs_in: &'static str) -> Step {
    task(id, name, TaskKind::Send, runs_in).filter(|_| on)
}

/// A timer waiting `duration` (ISO 8601), absent when there is none (0 = never).
fn timer(
    id: &'static str,
    name: &str,
    duration: Option<String>,
    attached_to: Option<&'static str>,
    runs_in: &'static str,
) -> Step {
    let duration = duration?;
    step(
        id,
        format!("{name} {duration}"),
        NodeKind::Timer {
            duration,
            // A boundary timer ends what it is attached to unless it is a reminder.
            interrupting: id != REMINDER,
            attached_to,
        },
        runs_in,
    )
}

/// The one timer that lets the delivery order go on: the fulfiller still may ship.
const REMINDER: &str = "Timer_Remind";

/// `n` of `unit` (`hours`, `minutes`, `days`), or none for 0 (never).
fn positive(n: u32, unit: fn(u32) -> String) -> Option<String> {
    (n > 0).then(|| unit(n))
}

/// The order process as it runs under `s`.
pub fn order_process(s: &ProcessSettings) -> ProcessModel {
    use NodeKind::{End, Gateway, Start};
    use TaskKind::{Receive, Service, User};
    let mails = &s.customer_mails;
    let mut b = Builder::default();
    let strategy = match s.routing.strategy {
        RoutingStrategy::FewestSplits => "fewest splits",
        RoutingStrategy::Priority => "priority",
    };
    let own = if s.routing.prefer_own_warehouses {
        ", own warehouses first"
    } else {
        ""
    };

    // Row 0: the order's way from the channel to its refund.
    b.way(
        0,
        None,
        None,
        [
            step(
                "Start_Order",
                "Order placed",
                Start,
                "order-intake: POST /orders",
            ),
            task(
                "Task_Intake",
                "Validate, price and store the order",
                Service,
                "order-intake: validated, priced, stored and queued for routing",
            ),
            task(
                "Task_Route",
                format!("Route the order ({strategy}{own})"),
                Service,
                "split-router -> dropship_app::routing::route_order, round 0 (routing::route)",
            ),
            mail(
                mails.order_confirmation,
                "Task_MailConfirmation",
                "Mail the order confirmation",
                "OrderConfirmed (routing round 0 only) -> notifier order_confirmation_mail",
            ),
            step(
                "Gateway_Stock",
                "Stock for every unit?",
                Gateway,
                "dropship_core::split::apply_plan: units with no source are backordered",
            ),
        ],
    );
    b.way(
        0,
        Some("Gateway_Stock"),
        Some("yes"),
        [
            task(
                "Task_Fulfil",
                "Fulfiller accepts and ships, or rejects",
                User,
                "fulfiller-api and portal -> dropship_app::fulfilment::act_on_delivery_order",
            ),
            step(
                "Gateway_Outcome",
                "Shipped or rejected?",
                Gateway,
                "dropship_core::fulfilment::ship / reject",
            ),
        ],
    );
    b.way(
        0,
        Some("Gateway_Outcome"),
        Some("shipped"),
        [
            task(
                "Task_Invoice",
                "Issue the invoice",
                Service,
                "document-generator -> dropship_app::invoicing::book_invoice",
            ),
            mail(
                mails.shipment,
                "Task_MailShipment",
                "Mail the shipment",
                "DeliveryShipped -> notifier shipped_mail",
            ),
            task(
                "Task_AwaitReturn",
                "Customer asks for a return",
                Receive,
                "order-api: POST /orders/{id}/returns (return_window_closed after the window)",
            ),
            task(
                "Task_AuthorizeReturn",
                "Authorize the return",
                Service,
                "dropship_app::orders::authorize_return (dropship_core::returns::authorize)",
            ),
            mail(
                mails.return_authorized,
                "Task_MailReturnAuthorized",
                "Mail the return authorization",
                "ReturnAuthorized -> notifier mails::returns",
            ),
            task(
                "Task_ReceiveReturn",
                "Fulfiller records the returned units",
                User,
                "fulfiller-api -> dropship_app::fulfilment::receive_return",
            ),
            task(
                "Task_Refund",
                "Refund the returned units",
                Service,
                "return-processor -> dropship_app::returns::settle_return",
            ),
            mail(
                mails.refund,
                "Task_MailRefund",
                "Mail the refund",
                "RefundIssued -> notifier refund_mail",
            ),
            step(
                "End_Refunded",
                "Return refunded",
                End,
                "dropship_app::returns::settle_return",
            ),
        ],
    );

    // Routing again: what a fulfiller gave up and what waited for stock (later rounds, which
    // send no confirmation).
    b.way(
        1,
        None,
        None,
        [task(
            "Task_RouteAgain",
            "Route the open units again, without fulfillers that gave them up",
            Service,
            "split-router -> dropship_app::routing::route_order, later rounds (split::plan_round)",
        )],
    );
    b.flow("Task_RouteAgain", "Gateway_Stock", None);
    b.back("Gateway_Outcome", "Task_RouteAgain", Some("rejected"));

    // Row 1: a late delivery order: the customer hears of the delay, the fulfiller is
    // reminded, then operations.
    let escalate_after = positive(s.escalation.escalate_to_ops_after_minutes, minutes);
    b.way(
        1,
        None,
        None,
        [
            timer(
                REMINDER,
                "Nothing shipped after",
                Some(hours(s.escalation.remind_fulfiller_after_hours)),
                Some("Task_Fulfil"),
                "alerting: checks::is_late (the delivery order's dueAt)",
            ),
            mail(
                mails.delay,
                "Task_MailDelay",
                "Mail the customer of the delay",
                "alerting Step::CustomerNotified -> DeliveryLate -> notifier delivery_late_mail",
            ),
            task(
                "Task_Remind",
                "Remind the fulfiller",
                Service,
                "alerting checks::due_steps Step::Reminded -> AlertRaised (fulfiller)",
            ),
            // 0 = at once: operations hear in the run that reminds.
            timer(
                "Timer_Escalate",
                "Escalate after",
                escalate_after,
                None,
                "alerting checks::due_steps: escalate_after since the reminder",
            ),
            task(
                "Task_Escalate",
                "Escalate to operations",
                Service,
                "alerting Step::Escalated -> AlertRaised (operations)",
            ),
            step(
                "End_Escalated",
                "Operations alerted",
                End,
                "notifier alert mail",
            ),
        ],
    );

    // Row 2: a silent fulfiller loses the delivery order; the return window closes.
    let silent_for = positive(s.acceptance.reroute_if_silent_hours, hours);
    let withdrawn = b.way(
        2,
        None,
        None,
        [
            timer(
                "Timer_Silent",
                "No answer for",
                silent_for,
                Some("Task_Fulfil"),
                "acceptance.rerouteIfSilentHours (as dropship_core::fulfilment::reroute)",
            ),
            task(
                "Task_Withdraw",
                "Withdraw it from the fulfiller and tell the fulfiller",
                Service,
                "DeliveryOrderChanged -> notifier (fulfiller's mail)",
            ),
        ],
    );
    if let Some(withdrawn) = withdrawn {
        b.back(withdrawn, "Task_RouteAgain", None);
    }
    b.way(
        2,
        None,
        None,
        [
            timer(
                "Timer_ReturnWindow",
                "Return window",
                Some(days(s.returns.window_days)),
                Some("Task_AwaitReturn"),
                "dropship_core::returns::authorize: return_window_closed",
            ),
            step(
                "End_Complete",
                "Order complete",
                End,
                "no return within the window",
            ),
        ],
    );

    // Row 3: backordered units wait for stock, at most `backorders.maxDays`.
    b.way(
        3,
        Some("Gateway_Stock"),
        Some("no"),
        [task(
            "Task_WaitStock",
            "Wait for stock (backordered)",
            Receive,
            "stock-update -> dropship_app::stock_counts wakes backordered orders (route_waiting)",
        )],
    );
    b.back("Task_WaitStock", "Task_RouteAgain", Some("stock arrived"));
    b.way(
        3,
        None,
        None,
        [
            timer(
                "Timer_Backorder",
                "Backordered for",
                positive(s.backorders.max_days, days),
                Some("Task_WaitStock"),
                "backorders.maxDays",
            ),
            task(
                "Task_CancelBackorder",
                "Cancel the waiting units and refund them",
                Service,
                "dropship_core::cancel::plan over the backordered units",
            ),
            task(
                "Task_MailBackorderCancelled",
                "Mail the cancellation",
                TaskKind::Send,
                "OrderCancelled -> notifier order_cancelled_mail",
            ),
            step(
                "End_BackorderCancelled",
                "Backorder cancelled",
                End,
                "backorders.maxDays",
            ),
        ],
    );

    // Rows 4 and 5: the customer cancels, until the point the settings allow.
    let question = match s.cancellation.customer_may_cancel_until {
        CancelUntil::Shipped => "Units not shipped yet?",
        CancelUntil::Accepted => "Not accepted by its fulfiller yet?",
        CancelUntil::Routed => "Not routed yet?",
    };
    b.way(
        4,
        None,
        None,
        [
            step(
                "Start_Cancel",
                "Customer asks to cancel",
                Start,
                "order-api: POST /orders/{id}/cancel",
            ),
            step(
                "Gateway_MayCancel",
                question,
                Gateway,
                "dropship_core::cancel::plan (cancellation.customerMayCancelUntil)",
            ),
        ],
    );
    b.way(
        4,
        Some("Gateway_MayCancel"),
        Some("yes"),
        [
            task(
                "Task_Cancel",
                "Cancel the units and refund them",
                Service,
                "dropship_app::orders::cancel_order",
            ),
            task(
                "Task_MailCancelled",
                "Mail the cancellation",
                TaskKind::Send,
                "OrderCancelled -> notifier order_cancelled_mail",
            ),
            step(
                "End_Cancelled",
                "Cancelled",
                End,
                "dropship_app::orders::cancel_order",
            ),
        ],
    );
    b.way(
        5,
        Some("Gateway_MayCancel"),
        Some("no"),
        [
            task(
                "Task_RefuseCancel",
                "Refuse the cancellation (409)",
                Service,
                "dropship_core::cancel::plan: already_shipped",
            ),
            step(
                "End_CancelRefused",
                "Cancellation refused",
                End,
                "the API's 409",
            ),
        ],
    );

    b.model
}
