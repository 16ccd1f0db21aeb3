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

/// Adds nodes and the flows between them; a step that is switched off is never added, and the
/// flow from the step before goes to whatever comes next.
#[derive(Default)]
struct Builder {
    model: ProcessModel,
}

impl Builder {
    fn add(&mut self, n: Node) -> &'static str {
        let id = n.id;
        self.model.nodes.push(n);
        id
    }

    fn flow(&mut self, source: &'static str, target: &'static str, name: Option<&'static str>) {
        self.model.flows.push(Flow {
            id: format!("Flow_{source}_{target}"),
            source,
            target,
            name,
            back: false,
        });
    }

    fn back(&mut self, source: &'static str, target: &'static str, name: Option<&'static str>) {
        self.flow(source, target, name);
        if let Some(f) = self.model.flows.last_mut() {
            f.back = true;
        }
    }

    /// `n` after `from`.
    fn then(&mut self, from: &'static str, n: Node) -> &'static str {
        self.then_if(from, None, n)
    }

    /// `n` after `from` when the condition `name` holds (a gateway's way out).
    fn then_if(&mut self, from: &'static str, name: Option<&'static str>, n: Node) -> &'static str {
        let id = self.add(n);
        self.flow(from, id, name);
        id
    }

    /// `n` after `from` when `on`; otherwise nothing, and the next step follows `from`.
    fn maybe(&mut self, from: &'static str, on: bool, n: Node) -> &'static str {
        if on {
            self.then(from, n)
        } else {
            from
        }
    }
}

fn node(
    id: &'static str,
    name: impl Into<String>,
    kind: NodeKind,
    row: u32,
    runs_in: &'static str,
) -> Node {
    Node {
        id,
        name: name.into(),
        kind,
        runs_in,
        row,
    }
}

fn task(
    id: &'static str,
    name: impl Into<String>,
    kind: TaskKind,
    row: u32,
    runs_in: &'static str,
) -> Node {
    node(id, name, NodeKind::Task(kind), row, runs_in)
}

fn timer(
    id: &'static str,
    name: &str,
    duration: String,
    attached_to: Option<&'static str>,
    interrupting: bool,
    row: u32,
    runs_in: &'static str,
) -> Node {
    node(
        id,
        format!("{name} {duration}"),
        NodeKind::Timer {
            duration,
            attached_to,
            interrupting,
        },
        row,
        runs_in,
    )
}

/// The order process as it runs under `s`.
pub fn order_process(s: &ProcessSettings) -> ProcessModel {
    use NodeKind::{End, Gateway, Start};
    use TaskKind::{Receive, Send, Service, User};
    let mails = &s.customer_mails;
    let mut b = Builder::default();

    // Row 0: the order's way from the channel to its refund.
    let start = b.add(node(
        "Start_Order",
        "Order placed",
        Start,
        0,
        "order-intake: POST /orders",
    ));
    let intake = b.then(
        start,
        task(
            "Task_Intake",
            "Validate, price and store the order",
            Service,
            0,
            "order-intake (OrderIntake::handle): validated, priced, stored and queued for routing",
        ),
    );
    let strategy = match s.routing.strategy {
        RoutingStrategy::FewestSplits => "fewest splits",
        RoutingStrategy::Priority => "priority",
    };
    let own = if s.routing.prefer_own_warehouses {
        ", own warehouses first"
    } else {
        ""
    };
    let route = b.then(intake, task("Task_Route", format!("Route the order ({strategy}{own})"), Service, 0,
        "split-router -> dropship_app::routing::route_order, round 0 (dropship_core::routing::route)"));
    let confirmed = b.maybe(
        route,
        mails.order_confirmation,
        task(
            "Task_MailConfirmation",
            "Mail the order confirmation",
            Send,
            0,
            "OrderConfirmed (routing round 0 only) -> notifier order_confirmation_mail",
        ),
    );
    let stock = b.then(
        confirmed,
        node(
            "Gateway_Stock",
            "Stock for every unit?",
            Gateway,
            0,
            "dropship_core::split::apply_plan: units without a source with stock are backordered",
        ),
    );
    let fulfil = b.then_if(
        stock,
        Some("yes"),
        task(
            "Task_Fulfil",
            "Fulfiller accepts and ships, or rejects",
            User,
            0,
            "fulfiller-api and portal -> dropship_app::fulfilment::act_on_delivery_order",
        ),
    );
    let outcome = b.then(
        fulfil,
        node(
            "Gateway_Outcome",
            "Shipped or rejected?",
            Gateway,
            0,
            "dropship_core::fulfilment::ship / reject",
        ),
    );
    let invoice = b.then_if(
        outcome,
        Some("shipped"),
        task(
            "Task_Invoice",
            "Issue the invoice",
            Service,
            0,
            "document-generator -> dropship_app::invoicing::book_invoice",
        ),
    );
    let shipped = b.maybe(
        invoice,
        mails.shipment,
        task(
            "Task_MailShipment",
            "Mail the shipment",
            Send,
            0,
            "DeliveryShipped -> notifier shipped_mail",
        ),
    );
    let asked = b.then(
        shipped,
        task(
            "Task_AwaitReturn",
            "Customer asks for a return",
            Receive,
            0,
            "order-api: POST /orders/{id}/returns (return_window_closed after the window)",
        ),
    );
    let authorized = b.then(
        asked,
        task(
            "Task_AuthorizeReturn",
            "Authorize the return",
            Service,
            0,
            "dropship_app::orders::authorize_return (dropship_core::returns::authorize)",
        ),
    );
    let told = b.maybe(
        authorized,
        mails.return_authorized,
        task(
            "Task_MailReturnAuthorized",
            "Mail the return authorization",
            Send,
            0,
            "ReturnAuthorized -> notifier mails::returns",
        ),
    );
    let received = b.then(
        told,
        task(
            "Task_ReceiveReturn",
            "Fulfiller records the returned units",
            User,
            0,
            "fulfiller-api -> dropship_app::fulfilment::receive_return",
        ),
    );
    let refunded = b.then(
        received,
        task(
            "Task_Refund",
            "Refund the returned units",
            Service,
            0,
            "return-processor -> dropship_app::returns::settle_return",
        ),
    );
    let told = b.maybe(
        refunded,
        mails.refund,
        task(
            "Task_MailRefund",
            "Mail the refund",
            Send,
            0,
            "RefundIssued -> notifier refund_mail",
        ),
    );
    b.then(
        told,
        node(
            "End_Refunded",
            "Return refunded",
            End,
            0,
            "dropship_app::returns::settle_return",
        ),
    );

    // Routing again: what a fulfiller gave up and what waited for stock (later rounds, which
    // send no confirmation).
    let again = b.add(task("Task_RouteAgain", "Route the open units again, without fulfillers that gave them up",
        Service, 1, "split-router -> dropship_app::routing::route_order, later rounds (dropship_core::split::plan_round)"));
    b.flow(again, stock, None);
    b.back(outcome, again, Some("rejected"));

    // Row 1: a late delivery order: the customer hears of the delay, the fulfiller is
    // reminded, then operations.
    let late = b.add(timer(
        "Timer_Remind",
        "Nothing shipped after",
        hours(s.escalation.remind_fulfiller_after_hours),
        Some(fulfil),
        false,
        1,
        "alerting: checks::is_late (the delivery order's dueAt)",
    ));
    let delay = b.maybe(
        late,
        mails.delay,
        task(
            "Task_MailDelay",
            "Mail the customer of the delay",
            Send,
            1,
            "alerting Step::CustomerNotified -> DeliveryLate -> notifier delivery_late_mail",
        ),
    );
    let reminded = b.then(
        delay,
        task(
            "Task_Remind",
            "Remind the fulfiller",
            Service,
            1,
            "alerting checks::due_steps Step::Reminded -> AlertRaised (fulfiller)",
        ),
    );
    let waited = match s.escalation.escalate_to_ops_after_minutes {
        0 => reminded,
        m => b.then(
            reminded,
            timer(
                "Timer_Escalate",
                "Escalate after",
                minutes(m),
                None,
                true,
                1,
                "alerting checks::due_steps: escalate_after since the reminder",
            ),
        ),
    };
    let escalated = b.then(
        waited,
        task(
            "Task_Escalate",
            "Escalate to operations",
            Service,
            1,
            "alerting Step::Escalated -> AlertRaised (operations)",
        ),
    );
    b.then(
        escalated,
        node(
            "End_Escalated",
            "Operations alerted",
            End,
            1,
            "notifier alert mail",
        ),
    );

    // Row 2: a silent fulfiller loses the delivery order; the return window closes.
    if s.acceptance.reroute_if_silent_hours > 0 {
        let silent = b.add(timer(
            "Timer_Silent",
            "No answer for",
            hours(s.acceptance.reroute_if_silent_hours),
            Some(fulfil),
            true,
            2,
            "acceptance.rerouteIfSilentHours (withdrawal as dropship_core::fulfilment::reroute)",
        ));
        let withdrawn = b.then(
            silent,
            task(
                "Task_Withdraw",
                "Withdraw it from the fulfiller and tell the fulfiller",
                Service,
                2,
                "DeliveryOrderChanged -> notifier (fulfiller's mail)",
            ),
        );
        b.back(withdrawn, again, None);
    }
    let closed = b.add(timer(
        "Timer_ReturnWindow",
        "Return window",
        days(s.returns.window_days),
        Some(asked),
        true,
        2,
        "dropship_core::returns::authorize: return_window_closed",
    ));
    b.then(
        closed,
        node(
            "End_Complete",
            "Order complete",
            End,
            2,
            "no return within the window",
        ),
    );

    // Row 3: backordered units wait for stock, at most `backorders.maxDays`.
    let wait = b.then_if(
        stock,
        Some("no"),
        task(
            "Task_WaitStock",
            "Wait for stock (backordered)",
            Receive,
            3,
            "stock-update -> dropship_app::stock_counts wakes backordered orders (route_waiting)",
        ),
    );
    b.back(wait, again, Some("stock arrived"));
    if s.backorders.max_days > 0 {
        let expired = b.add(timer(
            "Timer_Backorder",
            "Backordered for",
            days(s.backorders.max_days),
            Some(wait),
            true,
            3,
            "backorders.maxDays",
        ));
        let cancelled = b.then(
            expired,
            task(
                "Task_CancelBackorder",
                "Cancel the waiting units and refund them",
                Service,
                3,
                "dropship_core::cancel::plan over the backordered units",
            ),
        );
        let told = b.then(
            cancelled,
            task(
                "Task_MailBackorderCancelled",
                "Mail the cancellation",
                Send,
                3,
                "OrderCancelled -> notifier order_cancelled_mail",
            ),
        );
        b.then(
            told,
            node(
                "End_BackorderCancelled",
                "Backorder cancelled",
                End,
                3,
                "backorders.maxDays",
            ),
        );
    }

    // Rows 4 and 5: the customer cancels, until the point the settings allow.
    let asks = b.add(node(
        "Start_Cancel",
        "Customer asks to cancel",
        Start,
        4,
        "order-api: POST /orders/{id}/cancel",
    ));
    let question = match s.cancellation.customer_may_cancel_until {
        CancelUntil::Shipped => "Units not shipped yet?",
        CancelUntil::Accepted => "Not accepted by its fulfiller yet?",
        CancelUntil::Routed => "Not routed yet?",
    };
    let may = b.then(
        asks,
        node(
            "Gateway_MayCancel",
            question,
            Gateway,
            4,
            "dropship_core::cancel::plan (cancellation.customerMayCancelUntil)",
        ),
    );
    let cancelled = b.then_if(
        may,
        Some("yes"),
        task(
            "Task_Cancel",
            "Cancel the units and refund them",
            Service,
            4,
            "dropship_app::orders::cancel_order",
        ),
    );
    let told = b.then(
        cancelled,
        task(
            "Task_MailCancelled",
            "Mail the cancellation",
            Send,
            4,
            "OrderCancelled -> notifier order_cancelled_mail",
        ),
    );
    b.then(
        told,
        node(
            "End_Cancelled",
            "Cancelled",
            End,
            4,
            "dropship_app::orders::cancel_order",
        ),
    );
    let refused = b.then_if(
        may,
        Some("no"),
        task(
            "Task_RefuseCancel",
            "Refuse the cancellation (409)",
            Service,
            5,
            "dropship_core::cancel::plan: already_shipped",
        ),
    );
    b.then(
        refused,
        node(
            "End_CancelRefused",
            "Cancellation refused",
            End,
            5,
            "the API's 409",
        ),
    );

    b.model
}
