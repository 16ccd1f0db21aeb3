//! Outbound calls to addresses a customer chose (webhook receivers): the guard's decisions
//! (`dropship_core::webhook::guard`) applied to a real connection. The host is resolved once,
//! every address it resolves to is checked, and the connection is pinned to the checked address,
//! so that a second DNS answer (rebinding) cannot send it anywhere else. No redirect is followed,
//! the whole exchange has 15 s, and at most a few KiB of the answer are read: a slow, hostile or
//! chatty receiver costs one bounded attempt and nothing more.

use dropship_core::webhook::{check_addresses, Host, Outcome, Refusal, Target};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The longest one attempt may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The most of an answer's body that is read (kept for the delivery log's diagnosis).
pub const MAX_READ: usize = 4 * 1024;

/// Turns a host name into addresses. The system's resolver in production; tests give their
/// own, so that no test ever asks a real DNS server or reaches beyond loopback.
pub trait Resolver: Send + Sync {
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = std::io::Result<Vec<IpAddr>>> + Send;
}

/// The operating system's resolver (getaddrinfo through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((host, port))
            .await?
            .map(|a| a.ip())
            .collect())
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered (any status; a redirect is an answer, not followed).
    Answered { status: u16, body: Vec<u8> },
    /// The guard refused an address the host resolves to now: nothing was sent.
    Refused(Refusal),
    /// No answer: the name did not resolve, the connection failed or the time ran out.
    NoAnswer(String),
}

impl Attempt {
    /// The outcome the retry schedule records.
    pub fn outcome(&self) -> Outcome {
        match self {
            Attempt::Answered { status, .. } => Outcome::Answered(*status),
            Attempt::Refused(_) | Attempt::NoAnswer(_) => Outcome::NoAnswer,
        }
    }
}

/// Where the connection goes: the first of the host's addresses, once all are allowed (one
/// private address among public ones refuses the lot: a resolver may rotate them). The local
/// exception covers only the url `http://127.0.0.1:<port>` itself, never a name that resolves
/// to loopback.
pub fn pin(
    target: &Target,
    addresses: &[IpAddr],
    allow_local_http: bool,
) -> Result<SocketAddr, Refusal> {
    check_addresses(addresses, allow_local_http && target.plain_http)?;
    let first = match &target.host {
        Host::Ip(a) => *a,
        Host::Domain(_) => *addresses.first().ok_or(Refusal::NotAUrl)?,
    };
    Ok(SocketAddr::new(first, target.port))
}

/// Sends webhook messages, resolving through `R`.
#[derive(Debug, Clone)]
pub struct Sender<R> {
    resolver: R,
    /// Only the local stack sets it (`http://127.0.0.1:<port>` receivers); never deployed.
    allow_local_http: bool,
    timeout: Duration,
}

impl<R: Resolver> Sender<R> {
    pub fn new(resolver: R, allow_local_http: bool) -> Self {
        Self {
            resolver,
            allow_local_http,
            timeout: TIMEOUT,
        }
    }

    /// Another limit than `TIMEOUT` (the tests' slow receiver).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// POSTs `body` with `headers` to `target` (a url `check_url` accepted), checking its
    /// addresses again first: a receiver's name may point somewhere else since it subscribed.
    pub async fn post(&self, target: &Target, headers: &[(&str, String)], body: &[u8]) -> Attempt {
        let addresses = match &target.host {
            Host::Ip(a) => vec![*a],
            Host::Domain(name) => match self.resolver.resolve(name, target.port).await {
                Ok(a) if !a.is_empty() => a,
                Ok(_) => return Attempt::NoAnswer(format!("{name} has no address")),
                Err(e) => return Attempt::NoAnswer(format!("resolving {name}: {e}")),
            },
        };
        let pinned = match pin(target, &addresses, self.allow_local_http) {
            Ok(p) => p,
            Err(refusal) => return Attempt::Refused(refusal),
        };
        match tokio::time::timeout(self.timeout, self.exchange(target, pinned, headers, body)).await
        {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => Attempt::NoAnswer(e),
            Err(_) => Attempt::NoAnswer(format!("no answer within {:?}", self.timeout)),
        }
    }

    async fn exchange(
        &self,
        target: &Target,
        pinned: SocketAddr,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Attempt, String> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout);
        if let Host::Domain(name) = &target.host {
            // The name stays in the url (TLS checks the certificate against it); the
            // connection goes to the address checked above and nowhere else.
            builder = builder.resolve(name, pinned);
        }
        let client = builder.build().map_err(|e| format!("http client: {e}"))?;
        let mut request = client.post(&target.url).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = request
            .send()
            .await
            // Without the url: a receiver's url may carry a token in its query.
            .map_err(|e| format!("sending: {}", e.without_url()))?;
        let status = response.status().as_u16();
        let mut read = Vec::new();
        while read.len() < MAX_READ {
            match response.chunk().await {
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                // The status is what counts; a body cut short is no reason to retry.
                Ok(None) | Err(_) => break,
            }
        }
        read.truncate(MAX_READ);
        Ok(Attempt::Answered { status, body: read })
    }
}

#[cfg(test)]
mod tests;
