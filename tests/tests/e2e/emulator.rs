//! The emulator keeps the DynamoDB guarantee every idempotency claim in the system stands on: a
//! conditional write is one atomic step. moto 5.2.5 alone checks the condition and then writes,
//! so concurrent `attribute_not_exists` claims of one key both won now and then (2 to 9 keys in
//! 1,000, 16 writers each) and a customer got one mail twice; infra/moto_launcher.py makes every
//! single-item write atomic. Without the repair this test failed every time it was run (2 of 2, 3 to
//! 20 of the 50 keys claimed more than once); with it, about 18 s.

use crate::support::Stack;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use futures::future::join_all;

const KEYS: usize = 50;
/// Attributes per claim: moto builds the item between reading the current one and storing the
/// new one, so a wide item widens the window the race needs.
const ATTRIBUTES: usize = 200;
const WRITERS: usize = 16;

#[tokio::test]
async fn concurrent_conditional_writes_of_one_key_have_exactly_one_winner() {
    let stack = Stack::start().await;
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);
    ddb.create_table()
        .table_name("atomicity-probe")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut not_one = Vec::new();
    for key in 0..KEYS {
        let claims = (0..WRITERS).map(|writer| {
            let claim = (0..ATTRIBUTES).fold(
                ddb.put_item()
                    .table_name("atomicity-probe")
                    .item("pk", AttributeValue::S(format!("claim#{key}")))
                    .item("writer", AttributeValue::N(writer.to_string())),
                |put, a| put.item(format!("a{a}"), AttributeValue::N(a.to_string())),
            );
            claim
                .condition_expression("attribute_not_exists(pk)")
                .send()
        });
        let results = join_all(claims).await;
        let mut winners = 0;
        for r in results {
            match r {
                Ok(_) => winners += 1,
                Err(e) => {
                    let e = e.into_service_error();
                    assert!(
                        e.is_conditional_check_failed_exception(),
                        "a claim failed otherwise than by its condition: {e:?}"
                    );
                }
            }
        }
        if winners != 1 {
            not_one.push((key, winners));
        }
    }
    assert!(
        not_one.is_empty(),
        "keys claimed by other than exactly one writer (key, winners): {not_one:?}"
    );
}
