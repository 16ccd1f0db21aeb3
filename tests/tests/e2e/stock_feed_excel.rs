//! A stock feed as a German dropshipper's Excel saves it ("CSV (Trennzeichen-getrennt)"):
//! Windows-1252, `;`, quoted fields, CRLF, a quoted field over two lines, an umlaut in a sku,
//! `1.000` and `12,5` as counts. Uploaded through the presigned URL, its good rows are applied
//! (the last row of a sku wins) and the fulfiller's mail lists every refused row with its
//! physical line number and reason (issue 15, defect 5). Before the fix the whole file was
//! refused as "not UTF-8" and nothing was applied.

use crate::setup;

use crate::support::Stack;
use std::time::Duration;

#[tokio::test]
async fn an_excel_stock_feed_applies_its_good_rows_and_mails_every_refused_row() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let levels = setup::stock_levels(&stack, &world.nordic).await;
    assert_eq!(levels.get("VASE-BLUE").map(|l| l.0), Some(20), "{levels:?}");

    let mut feed: Vec<u8> = Vec::new();
    feed.extend_from_slice(b"\"SKU\";\"Available\"\r\n"); // line 1
    feed.extend_from_slice(b"\"THROW-WOOL\";\"33\"\r\n"); // 2: applied, then replaced by line 9
    feed.extend_from_slice(b" VASE-BLUE ; 1.000 \r\n"); // 3: a thousands separator
    feed.extend_from_slice(b"KISSEN-GR\xd6N;5\r\n"); // 4: Windows-1252 umlaut: no sku
    feed.extend_from_slice(b"\"DECKE\r\nGROSS\";4\r\n"); // 5-6: a quoted field over two lines
    feed.extend_from_slice(b"VASE-BLUE;12,5\r\n"); // 7: a decimal comma
    feed.extend_from_slice(b";;\r\n"); // 8: what Excel writes for an empty row
    feed.extend_from_slice(b"THROW-WOOL;34\r\n"); // 9: the last row of THROW-WOOL wins
    assert!(std::str::from_utf8(&feed).is_err(), "really Windows-1252");

    setup::upload_stock_feed(&stack, &world.nordic, feed).await;

    let mail = stack
        .eventually(
            "the feed report to nordic-home",
            Duration::from_secs(40),
            || async {
                stack.outbox().await.into_iter().find(|m| {
                    m["to"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|x| x == setup::NORDIC_EMAIL))
                        && m["subject"]
                            .as_str()
                            .is_some_and(|s| s.contains("Bestandsdatei"))
                })
            },
        )
        .await;
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.ends_with(": 4 Zeile(n) abgelehnt"), "{mail}");
    let text = mail["text"].as_str().unwrap();
    for row in [
        "- Zeile 3: available \"1.000\" must be a whole number without separators",
        "- Zeile 4: sku \"KISSEN-GRÖN\" may only hold letters A-Z, digits, '.', '_' and '-' (at most 64)",
        "- Zeile 5: a quoted field runs from line 5 to line 6: is a closing quote missing?",
        "- Zeile 7: available \"12,5\" must be a whole number, not a decimal",
    ] {
        assert!(text.contains(row), "{row} missing from:\n{text}");
    }
    assert_eq!(text.matches("- Zeile ").count(), 4, "{text}");
    let html = mail["html"].as_str().unwrap_or_default();
    assert!(html.contains("KISSEN-GRÖN"), "{html}");

    let levels = setup::stock_levels(&stack, &world.nordic).await;
    assert_eq!(
        (levels["THROW-WOOL"].0, levels["VASE-BLUE"].0),
        (34, 20),
        "the last THROW-WOOL row applied, no refused row changed stock: {levels:?}"
    );
}
