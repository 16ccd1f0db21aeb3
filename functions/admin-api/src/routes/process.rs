//! The process settings (`/admin/process`): read, replace as a whole with optimistic
//! concurrency, list earlier versions, and the diagram of the process as the current settings
//! make it run, as BPMN 2.0 XML or SVG, both drawn from the one description the code follows.

use crate::AdminApi;
use dropship_aws::http::{json, json_body, limit, query_param, text, HandlerResult};
use dropship_aws::repo::catalogue::ProcessWrite;
use dropship_aws::repo::{decode_partition_token, encode_next_token};
use dropship_core::process::{bpmn::to_bpmn, order_process, svg::to_svg, ProcessUpdate};
use dropship_core::ApiError;
use lambda_http::Request;
use serde_json::json;

impl AdminApi {
    /// `GET /admin/process`: the version in force, every setting present.
    pub(crate) async fn process(&self) -> HandlerResult {
        json(200, &self.catalogue.process().await?)
    }

    /// `PUT /admin/process`: `{expectedVersion, settings}`; keys left out take their defaults.
    /// 409 `version_conflict` when someone wrote since the caller read `expectedVersion`.
    pub(crate) async fn put_process(&self, req: &Request, admin: &str) -> HandlerResult {
        let update = ProcessUpdate::parse(&json_body(req)?)?;
        match self
            .catalogue
            .put_process(update.expected_version, update.settings, admin)
            .await?
        {
            ProcessWrite::Written(v) => json(200, &v),
            ProcessWrite::Conflict(e) => Err(e.into()),
        }
    }

    /// `GET /admin/process/versions`: every version written, newest first, a page at a time.
    pub(crate) async fn process_versions(&self, req: &Request) -> HandlerResult {
        let start = query_param(req, "nextToken")
            .map(|t| {
                // Only a version's key: the query reads `AT#...` keys, and a start key outside
                // them is DynamoDB's ValidationException (a 500), not the caller's 422.
                decode_partition_token(&t, "PROCESS")
                    .filter(|k| {
                        k.get("sk")
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|sk| sk.starts_with("AT#"))
                    })
                    .ok_or_else(|| {
                        ApiError::invalid("nextToken", "nextToken is not one this list gave")
                    })
            })
            .transpose()?;
        let page = self.catalogue.process_versions(limit(req)?, start).await?;
        let mut body = json!({ "items": page.items });
        if let Some(next) = page.next {
            body["nextToken"] = json!(encode_next_token(&next));
        }
        json(200, &body)
    }

    /// `GET /admin/process/diagram?format=bpmn|svg` (bpmn when none is named).
    pub(crate) async fn process_diagram(&self, req: &Request) -> HandlerResult {
        let format = query_param(req, "format");
        let model = || async {
            Ok::<_, anyhow::Error>(order_process(&self.catalogue.process().await?.settings))
        };
        match format.as_deref() {
            None | Some("bpmn") => text(200, "application/xml", to_bpmn(&model().await?)),
            Some("svg") => text(200, "image/svg+xml", to_svg(&model().await?)),
            Some(_) => Err(ApiError::invalid("format", "format must be bpmn or svg").into()),
        }
    }
}
