//! `redrive`: moves the messages of a dead-letter queue back to the queue they came from, once
//! the cause of their failure is fixed, and prints how many moved.
//!
//! ```text
//! redrive <dead-letter-queue> [--to <queue>] [--max <n>]
//! ```
//! Queues by name or URL. Without `--to`, the source is the one queue whose redrive policy names
//! the dead-letter queue. AWS settings come from the usual environment (AWS_REGION, credentials,
//! AWS_ENDPOINT_URL for the local emulator).
//!
//! SQS's own StartMessageMoveTask does this in AWS, but the local emulator lacks it; moving
//! explicitly (receive, send to the source, then delete) works on both. A message is deleted
//! from the dead-letter queue only after the source queue took it, so a failure part-way moves
//! nothing twice that was not also kept: at worst a message is in both queues (the consumers
//! are idempotent). At most the number of messages waiting at the start is moved, so messages
//! that fail again and come back are not moved round in circles.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool: the count moved goes to stdout, errors to stderr"
)]

use anyhow::{bail, Context, Result};
use aws_sdk_sqs::types::QueueAttributeName;

struct Args {
    dead_letter_queue: String,
    to: Option<String>,
    max: Option<u64>,
}

const USAGE: &str = "usage: redrive <dead-letter-queue> [--to <queue>] [--max <n>]";

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args> {
    let mut dead_letter_queue = None;
    let mut to = None;
    let mut max = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--to" => to = Some(it.next().context(USAGE)?),
            "--max" => {
                let n = it.next().context(USAGE)?;
                max = Some(
                    n.parse::<u64>()
                        .with_context(|| format!("--max {n}: not a number\n{USAGE}"))?,
                );
            }
            "-h" | "--help" => bail!("{USAGE}"),
            s if s.starts_with('-') => bail!("unknown option {s}\n{USAGE}"),
            _ if dead_letter_queue.is_none() => dead_letter_queue = Some(a),
            _ => bail!("one dead-letter queue at a time\n{USAGE}"),
        }
    }
    Ok(Args {
        dead_letter_queue: dead_letter_queue.context(USAGE)?,
        to,
        max,
    })
}

async fn queue_url(sqs: &aws_sdk_sqs::Client, name_or_url: &str) -> Result<String> {
    if name_or_url.starts_with("http://") || name_or_url.starts_with("https://") {
        return Ok(name_or_url.to_string());
    }
    sqs.get_queue_url()
        .queue_name(name_or_url)
        .send()
        .await
        .with_context(|| format!("no queue named {name_or_url}"))?
        .queue_url
        .with_context(|| format!("no URL for queue {name_or_url}"))
}

/// The last segment of a queue URL.
fn name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

async fn run(args: Args) -> Result<(u64, String, String)> {
    let cfg = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let dlq = queue_url(&sqs, &args.dead_letter_queue).await?;
    let source = match &args.to {
        Some(q) => queue_url(&sqs, q).await?,
        None => {
            let sources = sqs
                .list_dead_letter_source_queues()
                .queue_url(&dlq)
                .send()
                .await
                .with_context(|| format!("listing the source queues of {}", name(&dlq)))?
                .queue_urls;
            match sources.as_slice() {
                [one] => one.clone(),
                [] => bail!(
                    "no queue sends its dead letters to {}; name the target with --to",
                    name(&dlq)
                ),
                many => bail!(
                    "several queues send their dead letters to {}: {}; name one with --to",
                    name(&dlq),
                    many.iter().map(|u| name(u)).collect::<Vec<_>>().join(", ")
                ),
            }
        }
    };
    let waiting = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .with_context(|| format!("reading the depth of {}", name(&dlq)))?
        .attributes
        .and_then(|a| {
            a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let limit = args.max.map_or(waiting, |m| m.min(waiting));
    let mut moved = 0u64;
    let mut empty_receives = 0;
    while moved < limit && empty_receives < 3 {
        let batch = (limit - moved).min(10) as i32;
        let received = sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(batch)
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .with_context(|| format!("receiving from {}", name(&dlq)))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            empty_receives += 1;
            continue;
        }
        for m in messages {
            let (Some(body), Some(receipt)) = (m.body(), m.receipt_handle()) else {
                continue;
            };
            sqs.send_message()
                .queue_url(&source)
                .message_body(body)
                .set_message_attributes(m.message_attributes.clone())
                .send()
                .await
                .with_context(|| {
                    format!(
                        "sending a message back to {} ({moved} moved so far)",
                        name(&source)
                    )
                })?;
            sqs.delete_message()
                .queue_url(&dlq)
                .receipt_handle(receipt)
                .send()
                .await
                .with_context(|| {
                    format!(
                        "deleting a moved message from {} ({moved} moved so far; it is now in both queues)",
                        name(&dlq)
                    )
                })?;
            moved += 1;
        }
    }
    Ok((moved, name(&dlq).to_string(), name(&source).to_string()))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match parse_args(std::env::args().skip(1)) {
        Ok(args) => run(args).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((moved, from, to)) => {
            println!("moved {moved} message(s) from {from} to {to}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("redrive: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Args> {
        parse_args(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn arguments() {
        let a = args(&["RouteDeadLetterQueue", "--max", "5"]).unwrap();
        assert_eq!(a.dead_letter_queue, "RouteDeadLetterQueue");
        assert_eq!((a.to, a.max), (None, Some(5)));
        let a = args(&["--to", "RouteQueue", "RouteDeadLetterQueue"]).unwrap();
        assert_eq!(a.to.as_deref(), Some("RouteQueue"));
        assert!(args(&[]).is_err());
        assert!(args(&["a", "b"]).is_err());
        assert!(args(&["a", "--max", "x"]).is_err());
        assert!(args(&["a", "--what"]).is_err());
        assert_eq!(name("http://127.0.0.1:1/123/RouteQueue"), "RouteQueue");
    }
}
