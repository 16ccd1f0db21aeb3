//! Start-up in the documented order (template → binaries → ports → emulators → resources →
//! functions → API, pollers (queues and streams), schedules → seed → READY) and orderly shutdown.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

use crate::config::Config;
use crate::emulator::{self, Emulator};
use crate::http_api::{self, ApiState, Authorizer, Route, Wiring, API_ID};
use crate::instrument::Instrument;
use crate::lambda::{FunctionPool, FunctionSpec};
use crate::outbox::Outbox;
use crate::pollers::Poller;
use crate::process::{stdout_line, Registry};
use crate::provision::{self, Clients};
use crate::schedules::{self, Trigger};
use crate::seed;
use crate::streams::{StreamPoller, StreamsApi};
use crate::template::{
    self, Context, EventSource, FunctionDef, RouteAuth, RoutePattern, Template, REGION,
};

/// Set in every function the runner starts: a scheduled event's time ahead of the machine's
/// clock is the local clock's, to be honoured (the functions read it as
/// `dropship_core::messages::LOCAL_CLOCK_VARIABLE`; the runner does not link the core).
const LOCAL_CLOCK_VARIABLE: &str = "DROPSHIP_LOCAL_CLOCK";

/// Environment variables Lambda reserves; a template may not set them.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// What runs once start-up succeeded; dropping it kills the emulators.
struct Stack {
    emulators: Vec<Emulator>,
}

pub async fn run(config: Config) -> Result<()> {
    let registry = Arc::new(Registry::default());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut sigint = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut sigterm = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;

    let started = tokio::select! {
        r = start(&config, &registry, shutdown_rx.clone()) => Some(r),
        _ = sigint.recv() => None,
        _ = sigterm.recv() => None,
    };
    let outcome = match started {
        None => {
            tracing::info!("signal received during start-up; stopping");
            Ok(None)
        }
        Some(Err(e)) => Err(e),
        Some(Ok(stack)) => {
            tokio::select! {
                _ = sigint.recv() => tracing::info!("SIGINT: shutting down"),
                _ = sigterm.recv() => tracing::info!("SIGTERM: shutting down"),
            }
            Ok(Some(stack))
        }
    };

    // Functions first (their supervisors kill and reap them), then the emulators.
    shutdown_tx.send_replace(true);
    for _ in 0..50 {
        let emulator_count = match &outcome {
            Ok(Some(s)) => s.emulators.len(),
            _ => 0,
        };
        if registry.live() <= emulator_count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if let Ok(Some(mut stack)) = outcome {
        for e in &mut stack.emulators {
            tracing::debug!(emulator = e.label, "stopping");
            e.child.kill().await;
        }
        registry.kill_all();
        return Ok(());
    }
    registry.kill_all();
    outcome.map(|_| ())
}

async fn start(
    config: &Config,
    registry: &Arc<Registry>,
    shutdown: watch::Receiver<bool>,
) -> Result<Stack> {
    // 1. The template, parameters and binaries, before anything is started.
    let text = std::fs::read_to_string(&config.template).with_context(|| {
        format!(
            "cannot read the template {} (DROPSHIP_TEMPLATE; run from the project root)",
            config.template.display()
        )
    })?;
    let template = template::parse(&text)
        .with_context(|| format!("{} is not understood", config.template.display()))?;
    let params = template
        .parameter_values(&config.local_parameter_defaults(), &config.param_overrides)
        .context("template parameters")?;
    let bin_dir = check_binaries(&template, &config.bin_dir)?;

    // 2. Ports and emulators. The API answers /health (503) from here on.
    let api_state = Arc::new(ApiState::default());
    let listener = bind_api(config.api_port)?;
    let app = http_api::router(api_state.clone());
    tokio::spawn(async move {
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        );
        if let Err(e) = server.await {
            tracing::error!("HTTP API server failed: {e}");
        }
    });
    let aws_port = emulator_port(config.aws_port, "DROPSHIP_AWS_PORT")?;
    let ses_port = emulator_port(config.ses_port, "DROPSHIP_SES_PORT")?;
    let (main_emu, ses_emu) = tokio::try_join!(
        emulator::start(
            &config.venv,
            "moto",
            aws_port,
            config.emulator_log,
            registry
        ),
        emulator::start(
            &config.venv,
            "moto-ses",
            ses_port,
            config.emulator_log,
            registry
        ),
    )?;
    let aws_endpoint = main_emu.endpoint.clone();
    let ses_endpoint = ses_emu.endpoint.clone();
    let stack = Stack {
        emulators: vec![main_emu, ses_emu],
    };

    // 3. Resources.
    let sdk = provision::sdk_config(&aws_endpoint).await;
    let clients = Clients::new(&sdk);
    let mut ctx = Context::new(params);
    for f in &template.functions {
        ctx.set_ref(&f.id, f.name.clone());
        ctx.set_attr(&f.id, "Arn", f.arn());
    }
    if let Some(api) = &template.http_api {
        ctx.set_ref(&api.id, API_ID);
        ctx.set_attr(&api.id, "ApiEndpoint", config.api_url());
    }
    let queue_urls = provision::provision(&template, &mut ctx, &clients).await?;
    crate::metrics::install(&aws_endpoint);
    for (name, expr) in &template.outputs {
        match ctx.resolve_string(expr) {
            Ok(v) => tracing::debug!("output {name} = {v}"),
            Err(e) => tracing::warn!("output {name} cannot be resolved locally: {e}"),
        }
    }

    // 4. Functions, all at once.
    let mut specs = Vec::new();
    for f in &template.functions {
        let env = function_env(f, &ctx, config, &bin_dir, &aws_endpoint, &ses_endpoint)
            .with_context(|| format!("resource {} (function {})", f.id, f.binary))?;
        specs.push(FunctionSpec {
            id: f.id.clone(),
            binary: f.binary.clone(),
            path: bin_dir.join(&f.binary),
            cwd: bin_dir.clone(),
            arn: f.arn(),
            timeout: f.timeout,
            env,
        });
    }
    let instrument = Arc::new(Instrument::new(
        config.aws_proxy,
        &aws_endpoint,
        &ses_endpoint,
    )?);
    let pools = futures::future::try_join_all(specs.into_iter().map(|spec| {
        FunctionPool::start(
            spec,
            config.instances,
            instrument.clone(),
            shutdown.clone(),
            registry.clone(),
        )
    }))
    .await?;
    let by_id: HashMap<String, Arc<FunctionPool>> = pools
        .iter()
        .map(|p| (p.spec.id.clone(), p.clone()))
        .collect();
    tracing::info!(
        "{} functions started ({} instances each)",
        pools.len(),
        config.instances
    );

    // 5-7. Routes, pollers, schedules.
    let routes = build_routes(&template, &ctx, &by_id)?;
    let mut pollers = Vec::new();
    let mut stream_pollers = Vec::new();
    let streams_api = StreamsApi::new(&aws_endpoint);
    let mut triggers: BTreeMap<String, Vec<Arc<Trigger>>> = BTreeMap::new();
    for f in &template.functions {
        let pool = by_id
            .get(&f.id)
            .ok_or_else(|| anyhow!("function {} has no pool", f.id))?;
        for ev in &f.events {
            let what = || format!("resource {}: event {}", f.id, ev.id);
            match &ev.source {
                EventSource::Http(_) => {}
                EventSource::Sqs(s) => {
                    if !s.enabled {
                        continue;
                    }
                    let arn = ctx
                        .resolve_string(&s.queue)
                        .map_err(|e| anyhow!("{}: Queue: {e}", what()))?;
                    let url = queue_urls.get(&arn).ok_or_else(|| {
                        anyhow!("{}: Queue {arn} is not a queue of this template", what())
                    })?;
                    let batch_size = ctx
                        .resolve_string(&s.batch_size)
                        .map_err(|e| anyhow!("{}: BatchSize: {e}", what()))?
                        .parse::<i32>()
                        .map_err(|_| anyhow!("{}: BatchSize is not a number", what()))?;
                    pollers.push(Arc::new(Poller {
                        pool: pool.clone(),
                        event_id: ev.id.clone(),
                        queue_url: url.clone(),
                        queue_arn: arn,
                        batch_size,
                        report_batch_item_failures: s.report_batch_item_failures,
                        sqs: clients.sqs.clone(),
                    }));
                }
                EventSource::DynamoDb(d) => {
                    if !d.enabled {
                        continue;
                    }
                    let stream_arn = ctx
                        .resolve_string(&d.stream)
                        .map_err(|e| anyhow!("{}: Stream: {e}", what()))?;
                    let on_failure = match &d.on_failure {
                        None => None,
                        Some(dest) => {
                            let arn = ctx.resolve_string(dest).map_err(|e| {
                                anyhow!("{}: DestinationConfig.OnFailure: {e}", what())
                            })?;
                            Some(queue_urls.get(&arn).cloned().ok_or_else(|| {
                                anyhow!(
                                    "{}: the on-failure destination {arn} is not a queue of this template",
                                    what()
                                )
                            })?)
                        }
                    };
                    stream_pollers.push(Arc::new(StreamPoller {
                        pool: pool.clone(),
                        event_id: ev.id.clone(),
                        stream_arn,
                        def: d.clone(),
                        on_failure,
                        api: streams_api.clone(),
                        sqs: clients.sqs.clone(),
                        counts: Default::default(),
                    }));
                }
                EventSource::Schedule(def) => {
                    triggers
                        .entry(f.binary.clone())
                        .or_default()
                        .push(Arc::new(Trigger {
                            pool: pool.clone(),
                            function_id: f.id.clone(),
                            event_id: ev.id.clone(),
                            def: def.clone(),
                        }));
                }
            }
        }
    }

    // 8. Ready: serve, poll, tick.
    let all_triggers: Vec<Arc<Trigger>> = triggers.values().flatten().cloned().collect();
    api_state.set_ready(Wiring {
        routes,
        pools: pools
            .iter()
            .map(|p| (p.spec.binary.clone(), p.clone()))
            .collect(),
        schedules: triggers,
        streams: stream_pollers.clone(),
        outbox: Outbox::new(&ses_endpoint)?,
        instrument,
    });
    for p in &pollers {
        tracing::debug!(function = %p.pool.spec.binary, event = %p.event_id, queue = %p.queue_url, "polling");
        p.start(config.instances, &shutdown);
    }
    for p in &stream_pollers {
        tracing::debug!(function = %p.pool.spec.binary, event = %p.event_id, stream = %p.stream_arn, "reading the stream");
        p.start(&shutdown);
    }
    schedules::start_timers(&all_triggers, &shutdown);
    tracing::info!(api = %config.api_url(), emulator = %aws_endpoint, ses = %ses_endpoint, "stack is up");

    // 9. Demo data, then READY.
    if let Some(path) = &config.seed {
        let seeded = seed::run(path, &config.api_url(), &config.admin_token)
            .await
            .context("seeding (DROPSHIP_SEED) failed")?;
        stdout_line(&seed::banner(
            &config.api_url(),
            &config.admin_token,
            &seeded,
        ));
    }
    stdout_line(&format!("READY {}", config.api_url()));
    Ok(stack)
}

fn check_binaries(t: &Template, bin_dir: &Path) -> Result<PathBuf> {
    let dir = bin_dir.canonicalize().map_err(|_| {
        anyhow!(
            "the function binaries' directory {} (DROPSHIP_BIN_DIR) does not exist; run \
             `cargo build --workspace --bins`",
            bin_dir.display()
        )
    })?;
    let missing: Vec<String> = t
        .functions
        .iter()
        .filter(|f| !dir.join(&f.binary).is_file())
        .map(|f| format!("{} (function {})", f.binary, f.id))
        .collect();
    if !missing.is_empty() {
        bail!(
            "function binaries missing in {}: {}; run `cargo build --workspace --bins`",
            dir.display(),
            missing.join(", ")
        );
    }
    Ok(dir)
}

/// The configured port if it is free, else a free one.
fn emulator_port(configured: Option<u16>, setting: &str) -> Result<u16> {
    match configured {
        Some(p) => {
            std::net::TcpListener::bind(("127.0.0.1", p))
                .map_err(|e| anyhow!("port {p} ({setting}) for an emulator is not free: {e}"))?;
            Ok(p)
        }
        None => emulator::free_port(),
    }
}

fn bind_api(port: u16) -> Result<tokio::net::TcpListener> {
    let std_listener = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow!(
                "port {port} for the HTTP API is already in use (address in use): stop what \
                 listens there or pick another port with DROPSHIP_API_PORT"
            )
        } else {
            anyhow!("cannot listen on 127.0.0.1:{port} (DROPSHIP_API_PORT): {e}")
        }
    })?;
    std_listener
        .set_nonblocking(true)
        .context("cannot configure the API socket")?;
    tokio::net::TcpListener::from_std(std_listener).context("cannot use the API socket")
}

/// Exactly what a Lambda execution environment provides, plus the template's variables and
/// the emulator endpoints; nothing else of the runner's own environment leaks in.
fn function_env(
    f: &FunctionDef,
    ctx: &Context,
    config: &Config,
    bin_dir: &Path,
    aws_endpoint: &str,
    ses_endpoint: &str,
) -> Result<Vec<(String, String)>> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: &str| {
        env.retain(|(existing, _)| existing != k);
        env.push((k.to_string(), v.to_string()));
    };
    set(
        "PATH",
        &std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
    );
    set("LANG", "en_US.UTF-8");
    set("TZ", ":UTC");
    set("_HANDLER", &f.handler);
    set("LAMBDA_TASK_ROOT", &bin_dir.display().to_string());
    set("AWS_LAMBDA_FUNCTION_NAME", &f.name);
    set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &f.memory_mb.to_string());
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    set(
        "AWS_LAMBDA_LOG_GROUP_NAME",
        &format!("/aws/lambda/{}", f.name),
    );
    set("AWS_REGION", REGION);
    set("AWS_DEFAULT_REGION", REGION);
    set("AWS_ACCESS_KEY_ID", "testing");
    set("AWS_SECRET_ACCESS_KEY", "testing");
    set("AWS_SESSION_TOKEN", "testing");
    // The scheduled checks may run at the local clock's time, ahead of the machine's
    // (`POST /_local/clock`); a deployed function never has this variable.
    set(LOCAL_CLOCK_VARIABLE, "1");
    for (name, expr) in &f.environment {
        if RESERVED_ENV.contains(&name.as_str()) {
            bail!("Environment variable {name} is reserved by Lambda and cannot be set");
        }
        let value = ctx
            .resolve_string(expr)
            .map_err(|e| anyhow!("Environment variable {name}: {e}"))?;
        set(name, &value);
    }
    // A developer's RUST_LOG/RUST_BACKTRACE (e.g. `RUST_LOG=debug make up`) beats the template.
    if let Some(v) = &config.rust_log {
        set("RUST_LOG", v);
    }
    if let Some(v) = &config.rust_backtrace {
        set("RUST_BACKTRACE", v);
    }
    set("AWS_ENDPOINT_URL", aws_endpoint);
    set("AWS_ENDPOINT_URL_SES", ses_endpoint);
    set("AWS_ENDPOINT_URL_SESV2", ses_endpoint);
    Ok(env)
}

fn build_routes(
    t: &Template,
    ctx: &Context,
    pools: &HashMap<String, Arc<FunctionPool>>,
) -> Result<Vec<Route>> {
    let Some(api) = &t.http_api else {
        return Ok(Vec::new());
    };
    let mut authorizers: HashMap<String, Arc<Authorizer>> = HashMap::new();
    for (name, a) in &api.authorizers {
        let arn = ctx
            .resolve_string(&a.function_arn)
            .map_err(|e| anyhow!("resource {}: authorizer {name}: FunctionArn: {e}", api.id))?;
        let f = t.functions.iter().find(|f| f.arn() == arn).ok_or_else(|| {
            anyhow!(
                "resource {}: authorizer {name}: FunctionArn {arn} is not a function of this template",
                api.id
            )
        })?;
        let pool = pools
            .get(&f.id)
            .ok_or_else(|| anyhow!("authorizer function {} is not running", f.id))?;
        authorizers.insert(
            name.clone(),
            Arc::new(Authorizer {
                name: name.clone(),
                pool: pool.clone(),
                identity_headers: a.identity_headers.clone(),
                identity_query: a.identity_query.clone(),
            }),
        );
    }
    let mut routes: Vec<Route> = Vec::new();
    for f in &t.functions {
        for ev in &f.events {
            let EventSource::Http(r) = &ev.source else {
                continue;
            };
            let pattern = RoutePattern::parse(&r.path)
                .map_err(|e| anyhow!("resource {}: event {}: {e}", f.id, ev.id))?;
            let authorizer = match &r.auth {
                RouteAuth::None => None,
                RouteAuth::Default => api
                    .default_authorizer
                    .as_ref()
                    .and_then(|n| authorizers.get(n).cloned()),
                RouteAuth::Named(n) => authorizers.get(n).cloned(),
            };
            let route = Route {
                method: r.method.clone(),
                pattern,
                pool: pools
                    .get(&f.id)
                    .cloned()
                    .ok_or_else(|| anyhow!("function {} is not running", f.id))?,
                authorizer,
                timeout: r.timeout,
            };
            if let Some(dup) = routes.iter().find(|x| x.route_key() == route.route_key()) {
                bail!(
                    "resource {}: event {}: route `{}` is already served by {}",
                    f.id,
                    ev.id,
                    route.route_key(),
                    dup.pool.spec.id
                );
            }
            routes.push(route);
        }
    }
    Ok(routes)
}
