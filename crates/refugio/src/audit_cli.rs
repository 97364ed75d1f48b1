//! `refugio audit export` (the operator's export, straight from the database) and
//! `refugio audit verify` (an auditor's offline check of an export, without any database).

use crate::config::DatabaseArgs;
use anyhow::{bail, Context};
use clap::Subcommand;
use refugio_core::audit_export::{sourced_checkpoints, ExportReport, ExportVerifier};
use refugio_db::DatabaseUrl;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write the audit chains as NDJSON, read straight from the database (the same file as
    /// GET /audit/export).
    Export {
        /// One chain: a shelter id or `platform`; every chain when absent.
        #[arg(long)]
        shelter_id: Option<String>,
        /// The file to write; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Check an export offline: every hash and link, and that it extends each checkpoint.
    /// Exits 0 when everything verifies, 1 with the line and seq of the first problem.
    Verify {
        /// The export (NDJSON); `-` reads standard input.
        #[arg(long)]
        file: PathBuf,
        /// A file holding `<chain> <seq> <hash>` lines, such as a saved daily checkpoint
        /// email, as it is; repeat for several.
        #[arg(long = "checkpoints", value_name = "FILE")]
        checkpoints: Vec<PathBuf>,
    },
}

/// Runs one `refugio audit` command.
pub fn run(command: &AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Export {
            shelter_id,
            out,
            db,
        } => {
            let (events, chains) = export(db, shelter_id.as_deref(), out.as_deref())?;
            let to = out
                .as_ref()
                .map_or_else(|| "standard output".to_owned(), |p| p.display().to_string());
            eprintln!("refugio: exported {events} events of {chains} chains to {to}");
            Ok(())
        }
        AuditCommand::Verify { file, checkpoints } => {
            let report = verify(file, checkpoints)?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(summary(&report, !checkpoints.is_empty()).as_bytes())?;
            Ok(())
        }
    }
}

/// Writes the export of `chain` (every chain when `None`) to `out` (standard output when
/// `None`); returns how many events and chains it holds. A file is written whole or not at
/// all (a `.partial` file renamed at the end), so a failed export never looks complete.
pub fn export(
    db: &DatabaseArgs,
    chain: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<(u64, u64)> {
    let url = db.database_url()?;
    if let DatabaseUrl::Sqlite(path) = &url {
        if !path.exists() {
            bail!("there is no database at {}", path.display());
        }
    }
    let pool =
        refugio_db::pool(&url, 1).with_context(|| format!("cannot open {}", url.display()))?;
    let mut conn = pool.get().context("no database connection")?;
    let Some(mut cursor) = refugio_db::audit_export::ExportCursor::new(&mut conn, chain)? else {
        bail!("there is no audit chain {:?}", chain.unwrap_or_default());
    };
    let mut write_all = |sink: &mut dyn Write| -> anyhow::Result<(u64, u64)> {
        let (mut events, mut chains, mut last_chain) = (0, 0, None::<String>);
        loop {
            let batch = cursor.next_batch(&mut conn, refugio_db::audit_export::EXPORT_BATCH)?;
            if batch.is_empty() {
                return Ok((events, chains));
            }
            for e in &batch {
                if last_chain.as_deref() != Some(e.chain()) {
                    chains += 1;
                    last_chain = Some(e.chain().to_owned());
                }
            }
            events += batch.len() as u64;
            let mut text = String::new();
            refugio_core::audit_export::write_export(&mut text, &batch);
            sink.write_all(text.as_bytes())?;
        }
    };
    match out {
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let counts = write_all(&mut stdout)?;
            stdout.flush()?;
            Ok(counts)
        }
        Some(path) => {
            let name = path
                .file_name()
                .with_context(|| format!("{} is not a file name", path.display()))?;
            let mut partial_name = name.to_os_string();
            partial_name.push(".partial");
            let partial = path.with_file_name(partial_name);
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let written = write_all(&mut writer).and_then(|counts| {
                writer.flush()?;
                writer.get_ref().sync_all()?;
                Ok(counts)
            });
            match written {
                Ok(counts) => {
                    std::fs::rename(&partial, path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    Ok(counts)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    Err(e)
                }
            }
        }
    }
}

/// Verifies the export in `file` against the checkpoints in `checkpoint_files`.
pub fn verify(file: &Path, checkpoint_files: &[PathBuf]) -> anyhow::Result<ExportReport> {
    let mut checkpoints = Vec::new();
    for path in checkpoint_files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let found = sourced_checkpoints(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
        if found.is_empty() {
            bail!(
                "{} holds no checkpoint line (\"<chain> <seq> <hash>\")",
                path.display()
            );
        }
        checkpoints.extend(found);
    }
    let name = if file == Path::new("-") {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    let mut reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file).with_context(|| format!("cannot read {name}"))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut verifier = ExportVerifier::new(checkpoints);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read {name}"))?
            == 0
        {
            break;
        }
        if verifier.push_line(&line).is_err() {
            break;
        }
    }
    verifier
        .finish()
        .map_err(|failure| anyhow::anyhow!("{name} does not verify: {failure}"))
}

/// What `verify` prints: one line per chain, one per checkpoint, and the verdict.
pub fn summary(report: &ExportReport, checkpoints_given: bool) -> String {
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut out = String::new();
    for c in &report.chains {
        out.push_str(&format!(
            "chain {}: {} (lines {}-{}), head seq {} hash {}\n",
            c.chain,
            plural(c.events, "event"),
            c.first_line,
            c.last_line,
            c.head_seq,
            c.head_hash
        ));
    }
    for (c, line) in &report.confirmed {
        let at = line.map_or_else(|| "the chain's start".to_owned(), |l| format!("line {l}"));
        out.push_str(&format!(
            "checkpoint {} ({}): confirmed at {at}\n",
            c.checkpoint, c.source
        ));
    }
    out.push_str(&format!(
        "OK: {}, {} verified",
        plural(report.chains.len() as u64, "chain"),
        plural(report.events, "event")
    ));
    if checkpoints_given {
        out.push_str(&format!(
            "; the export extends every checkpoint ({})\n",
            plural(report.confirmed.len() as u64, "checkpoint")
        ));
    } else {
        out.push_str(
            "; no checkpoints given: pass --checkpoints with the daily checkpoint emails to \
             prove no event was cut off the end of a chain\n",
        );
    }
    out
}
