//! The order process the retailer configures (issue 21, "Process configuration"): its settings
//! and versions, the one description of the process derived from them, and the BPMN document and
//! SVG picture drawn from that description with one layout.

pub mod bpmn;
pub mod layout;
pub mod model;
pub mod settings;
pub mod svg;

#[cfg(test)]
mod tests;

pub use model::{order_process, ProcessModel};
pub use settings::{CustomerMail, ProcessSettings, ProcessUpdate, ProcessVersion};

/// Text as XML (and SVG) takes it in content and in attributes quoted with `"`.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
