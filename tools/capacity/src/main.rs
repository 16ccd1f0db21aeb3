//! `capacity [template.yaml] [profile.json] [out.md] [out.json] [BENCHMARKS.md]`: runs the model
//! and writes its figures (`make capacity` writes docs/capacity-figures.md, and the scale table
//! into BENCHMARKS.md).

use std::process::ExitCode;

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let template = arg(0, "template.yaml");
    let profile = arg(1, "tools/capacity/profile.json");
    let markdown = arg(2, "docs/capacity-figures.md");
    let json = arg(3, "target/capacity-figures.json");
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("reading {p}: {e}"));
    let infra = capacity_model::template::parse(&read(&template)?)?;
    let profile: capacity_model::profile::Profile =
        serde_json::from_str(&read(&profile)?).map_err(|e| format!("{profile}: {e}"))?;
    let report = capacity_model::report::build(&profile, &infra)?;
    let md = capacity_model::report::markdown(&report, &profile);
    let js = serde_json::to_string_pretty(&report).map_err(|e| format!("figures as JSON: {e}"))?;
    std::fs::write(&markdown, &md).map_err(|e| format!("writing {markdown}: {e}"))?;
    std::fs::write(&json, js).map_err(|e| format!("writing {json}: {e}"))?;
    if let Some(benchmarks) = args.get(4) {
        let doc = read(benchmarks)?;
        let summary = capacity_model::report::scale_summary(&report, &profile);
        let doc = capacity_model::report::replace_section(&doc, "scale-model", &summary)
            .ok_or_else(|| format!("{benchmarks} has no bench:scale-model markers"))?;
        std::fs::write(benchmarks, doc).map_err(|e| format!("writing {benchmarks}: {e}"))?;
    }
    #[allow(clippy::print_stdout)] // a command-line tool: the figures are its output
    {
        println!("{md}\n(written to {markdown} and {json})");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)] // the tool's one error message
            {
                eprintln!("capacity: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
