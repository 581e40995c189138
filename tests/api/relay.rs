//! A TCP relay in front of PostgreSQL for tests that watch or delay what the
//! server sends: it counts the `ReadyForQuery` messages (one per round trip:
//! a statement's `Sync`, the pool's ping, a simple query) and can hold back
//! notifications (`NotificationResponse`, which only a `LISTEN`ing
//! connection receives), so that a test can tell what an instance knows
//! without them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Relay {
    pub addr: std::net::SocketAddr,
    ready: Arc<AtomicUsize>,
}

impl Relay {
    /// Relays to `upstream` (host:port); a read from the server holding a
    /// notification is passed on `hold` later (the stream's order kept).
    pub async fn start(upstream: String, hold: Duration) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ready = Arc::new(AtomicUsize::new(0));
        let counter = ready.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { return };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    let _ = server_write.shutdown().await;
                });
                let counter = counter.clone();
                tokio::spawn(async move {
                    // The server's side is all framed messages (no TLS asked):
                    // a type byte, then a length that counts itself.
                    let mut pending: Vec<u8> = Vec::new();
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match server_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        pending.extend_from_slice(&buf[..n]);
                        let mut notifies = false;
                        while pending.len() >= 5 {
                            let len = u32::from_be_bytes([pending[1], pending[2], pending[3], pending[4]]) as usize;
                            if pending.len() < 1 + len {
                                break;
                            }
                            match pending[0] {
                                b'Z' => {
                                    counter.fetch_add(1, Ordering::SeqCst);
                                }
                                b'A' => notifies = true,
                                _ => {}
                            }
                            pending.drain(..1 + len);
                        }
                        if notifies && !hold.is_zero() {
                            tokio::time::sleep(hold).await;
                        }
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = client_write.shutdown().await;
                });
            }
        });
        Relay { addr, ready }
    }

    pub fn round_trips(&self) -> usize {
        self.ready.load(Ordering::SeqCst)
    }
}

/// `url` with its host and port replaced by `addr`, TLS off (the relay reads
/// the server's messages).
pub fn through(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let userinfo = authority.rsplit_once('@').map(|(u, _)| format!("{u}@")).unwrap_or_default();
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{scheme}://{userinfo}{addr}/{path}{sep}sslmode=disable")
}

/// Host and port of a PostgreSQL URL.
pub fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:5432") }
}
