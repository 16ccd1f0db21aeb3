//! What the driver sets up before the clock starts: its channel, its fulfiller, a catalogue
//! with plenty of stock, tokens for the channel and fulfiller when none were given; and, only
//! with `--seed-retailer` (a fresh local stack), the branding and German standard VAT.

use crate::args::{Args, Tokens};
use crate::http::{Api, Call};
use crate::mix::Product;
use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{json, Value};

/// Enough stock that no order of the run is backordered: the run measures the happy path.
pub const STOCK: u64 = 1_000_000;

pub struct Seeded {
    pub channel_token: String,
    pub fulfiller_token: String,
    /// Tokens this run minted, revoked at the end.
    pub minted: Vec<String>,
}

fn put(path: String, body: Value) -> Call {
    Call {
        method: Method::PUT,
        path,
        body: Some(body),
        idempotency_key: None,
    }
}

fn address(name: &str) -> Value {
    json!({"name": name, "street": "Lindenstraße 12", "postalCode": "10969", "city": "Berlin", "country": "DE"})
}

pub async fn seed(
    api: &Api,
    args: &Args,
    tokens: &Tokens,
    catalogue: &[Product],
) -> Result<Seeded> {
    let admin = tokens.admin.as_str();
    if args.seed_retailer {
        api.must(admin, put("/admin/branding".into(), json!({"companyName": "Load Test GmbH",
            "address": address("Load Test GmbH"), "vatId": "DE123456789", "primaryColor": "#2E5E4E",
            "footer": "Load Test GmbH · Berlin", "emailFrom": "service@lindenhof.example", "locale": "de"})))
            .await?;
        api.must(
            admin,
            put(
                "/admin/tax-rates/DE/standard".into(),
                json!({"rates": [{"rate": "0.19", "validFrom": "2007-01-01"}]}),
            ),
        )
        .await?;
    }
    api.must(
        admin,
        put(
            format!("/admin/channels/{}", args.channel_id),
            json!({"name": "Load test", "kind": "webshop"}),
        ),
    )
    .await?;
    api.must(
        admin,
        put(
            format!("/admin/fulfillers/{}", args.fulfiller_id),
            json!({"name": "Load test warehouse", "kind": "warehouse",
            "email": "success@simulator.amazonses.com", "address": address("Load test warehouse")}),
        ),
    )
    .await?;
    // Eight products at a time: quick, and gentle on a stack that is not yet warm.
    for chunk in catalogue.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for p in chunk {
            let (api, admin) = (api.clone(), admin.to_string());
            let call = put(
                format!("/admin/products/{}", p.sku),
                json!({"name": p.sku,
                "taxClass": "standard", "group": "load", "allowBackorder": false,
                "sources": [{"fulfillerId": args.fulfiller_id, "priority": 1}]}),
            );
            set.spawn(async move { api.must(&admin, call).await });
        }
        while let Some(done) = set.join_next().await {
            done.context("a seeding task failed")??;
        }
    }
    let mut minted = Vec::new();
    let channel_token = match &tokens.channel {
        Some(t) => t.clone(),
        None => {
            mint(
                api,
                admin,
                &format!("channel:{}", args.channel_id),
                &mut minted,
            )
            .await?
        }
    };
    let fulfiller_token = match &tokens.fulfiller {
        Some(t) => t.clone(),
        None => {
            mint(
                api,
                admin,
                &format!("fulfiller:{}", args.fulfiller_id),
                &mut minted,
            )
            .await?
        }
    };
    let items: Vec<Value> = catalogue
        .iter()
        .map(|p| json!({"sku": p.sku, "available": STOCK}))
        .collect();
    api.must(
        &fulfiller_token,
        put("/fulfiller/stock".into(), json!({ "items": items })),
    )
    .await?;
    Ok(Seeded {
        channel_token,
        fulfiller_token,
        minted,
    })
}

async fn mint(api: &Api, admin: &str, principal: &str, minted: &mut Vec<String>) -> Result<String> {
    let call = Call {
        method: Method::POST,
        path: "/admin/tokens".into(),
        body: Some(json!({"principal": principal, "name": "load-driver"})),
        idempotency_key: None,
    };
    let resp = api.must(admin, call).await?;
    if let Some(id) = resp["tokenId"].as_str() {
        minted.push(id.to_string());
    }
    resp["token"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("POST /admin/tokens for {principal} answered without a token"))
}

/// Revokes the tokens the run minted, so that load runs leave no live credentials behind.
pub async fn revoke(api: &Api, admin: &str, minted: &[String]) -> Result<()> {
    for id in minted {
        let call = Call {
            method: Method::DELETE,
            path: format!("/admin/tokens/{id}"),
            body: None,
            idempotency_key: None,
        };
        api.must(admin, call).await?;
    }
    Ok(())
}
