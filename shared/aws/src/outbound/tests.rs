//! Every connection here goes to a listener of the test's own on 127.0.0.1, and names resolve
//! through a resolver the test controls: nothing leaves loopback, not even to show a refusal.

use super::*;
use dropship_core::webhook::check_url;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers every name with the same addresses and counts the questions.
#[derive(Clone, Default)]
struct FixedResolver {
    addresses: Vec<IpAddr>,
    asked: Arc<AtomicUsize>,
}

impl Resolver for FixedResolver {
    async fn resolve(&self, _host: &str, _port: u16) -> std::io::Result<Vec<IpAddr>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok(self.addresses.clone())
    }
}

/// A receiver on loopback that answers every request with `response` and counts connections
/// and the requests it read (head and body).
struct Receiver {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<tokio::sync::Mutex<Vec<String>>>,
}

async fn receiver(response: Vec<u8>, delay: Duration) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let (c, r) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let (response, r) = (response.clone(), r.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = Vec::new();
                // Read the head, then as much body as Content-Length says.
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if got.len() >= end + 4 + length {
                            r.lock().await.push(text);
                            break;
                        }
                    }
                }
                tokio::time::sleep(delay).await;
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Receiver {
        port,
        connections,
        requests,
    }
}

fn answer(status: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn local(port: u16) -> Target {
    check_url(&format!("http://127.0.0.1:{port}/hooks?token=s3cret"), true).unwrap()
}

#[tokio::test]
async fn a_message_reaches_the_local_receiver_with_its_headers_and_only_a_few_kib_are_read() {
    let big = vec![b'x'; 1024 * 1024];
    let r = receiver(answer("200 OK", "", &big), Duration::ZERO).await;
    let sender = Sender::new(FixedResolver::default(), true);
    let attempt = sender
        .post(
            &local(r.port),
            &[("webhook-id", "msg_1".to_string())],
            br#"{"type":"order.shipped"}"#,
        )
        .await;
    let Attempt::Answered { status, body } = &attempt else {
        panic!("{attempt:?}")
    };
    assert_eq!(*status, 200);
    assert!(body.len() <= MAX_READ, "read {} bytes", body.len());
    assert_eq!(attempt.outcome(), Outcome::Answered(200));
    let requests = r.requests.lock().await;
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with("POST /hooks?token=s3cret HTTP/1.1"),
        "{}",
        requests[0]
    );
    assert!(requests[0].contains("webhook-id: msg_1"), "{}", requests[0]);
    assert!(
        requests[0].ends_with(r#"{"type":"order.shipped"}"#),
        "{}",
        requests[0]
    );
}

#[tokio::test]
async fn a_redirect_is_an_answer_and_is_not_followed() {
    let elsewhere = receiver(answer("200 OK", "", b""), Duration::ZERO).await;
    let location = format!("Location: http://127.0.0.1:{}/\r\n", elsewhere.port);
    let r = receiver(
        answer("307 Temporary Redirect", &location, b""),
        Duration::ZERO,
    )
    .await;
    let attempt = Sender::new(FixedResolver::default(), true)
        .post(&local(r.port), &[], b"{}")
        .await;
    assert_eq!(attempt.outcome(), Outcome::Answered(307), "{attempt:?}");
    assert_eq!(
        elsewhere.connections.load(Ordering::SeqCst),
        0,
        "followed a redirect"
    );
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_before_any_connection() {
    // The name resolves to the receiver's own loopback address, but the url is not the local
    // exception (https and a name): the guard refuses, and the receiver sees no connection.
    let r = receiver(answer("200 OK", "", b""), Duration::ZERO).await;
    let resolver = FixedResolver {
        addresses: vec!["127.0.0.1".parse().unwrap()],
        ..Default::default()
    };
    let target = check_url(&format!("https://hooks.example.test:{}/", r.port), true).unwrap();
    let attempt = Sender::new(resolver.clone(), true)
        .post(&target, &[], b"{}")
        .await;
    assert!(matches!(attempt, Attempt::Refused(_)), "{attempt:?}");
    assert_eq!(attempt.outcome(), Outcome::NoAnswer);
    assert_eq!(
        resolver.asked.load(Ordering::SeqCst),
        1,
        "resolved once per attempt"
    );
    assert_eq!(r.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_receiver_slower_than_the_limit_is_no_answer() {
    let r = receiver(answer("200 OK", "", b""), Duration::from_secs(3)).await;
    let attempt = Sender::new(FixedResolver::default(), true)
        .with_timeout(Duration::from_millis(300))
        .post(&local(r.port), &[], b"{}")
        .await;
    assert!(matches!(attempt, Attempt::NoAnswer(_)), "{attempt:?}");
    assert_eq!(r.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn the_connection_is_pinned_to_a_checked_address_and_one_private_address_refuses_all() {
    let target = check_url("https://hooks.example.com/in", false).unwrap();
    let public: IpAddr = "192.0.2.1".parse().unwrap(); // documentation range: refused too
    let private: IpAddr = "10.1.2.3".parse().unwrap();
    let mapped: IpAddr = "::ffff:169.254.169.254".parse().unwrap();
    for addresses in [vec![private], vec![mapped], vec![public, private]] {
        assert!(pin(&target, &addresses, false).is_err(), "{addresses:?}");
    }
    assert!(
        pin(&target, &[], false).is_err(),
        "no address, no connection"
    );
    // Addresses the guard allows (decisions only: nothing connects to them).
    let a: IpAddr = "93.184.215.14".parse().unwrap();
    let b: IpAddr = "2606:2800:21f:cb07:6820:80da:af6b:8b2c".parse().unwrap();
    assert_eq!(
        pin(&target, &[a, b], false).unwrap(),
        SocketAddr::new(a, 443)
    );
}
