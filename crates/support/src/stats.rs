//! System and process figures for health checks, sampled cheaply.
//!
//! On Linux the [`Sampler`] keeps `/proc/meminfo`, `/proc/stat` and `/proc/self/statm`
//! open and re-reads them into one buffer (a re-read costs about half an open + read), and
//! takes load averages and uptime from one `sysinfo(2)` call instead of two more files.
//! Elsewhere it asks the `sysinfo` crate, which is also always compiled here as
//! [`Source::Portable`] so both paths are tested on Linux. Disk space comes from one
//! `statvfs` (or `GetDiskFreeSpaceEx`) call through `fs4`.

use std::io;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// Space on the file system holding a path, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    pub total: u64,
    /// Free for everyone, including root's reserve.
    pub free: u64,
    /// Free for an unprivileged user (what a write can use).
    pub available: u64,
}

/// One sample of the machine and this process.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Wall-clock time of the sample, milliseconds since the Unix epoch.
    pub time_ms: f64,
    /// Logical CPUs.
    pub cpu_count: u32,
    /// 1, 5 and 15 minute load averages (zeros where the OS has none, e.g. Windows).
    pub load_avg: [f64; 3],
    /// Share of CPU time spent busy across all CPUs since the previous sample, 0..=1;
    /// `None` on a sampler's first sample.
    pub cpu_busy: Option<f64>,
    pub mem_total: u64,
    /// Memory available to start new work without swapping (`MemAvailable`).
    pub mem_available: u64,
    /// Resident set size of this process.
    pub process_rss: u64,
    /// Seconds since boot.
    pub uptime_s: f64,
}

/// Where a [`Sampler`] gets its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Direct `/proc` reads (Linux only).
    Procfs,
    /// The `sysinfo` crate (every platform).
    Portable,
}

impl Source {
    /// The fastest source this platform has.
    pub fn best() -> Self {
        if cfg!(target_os = "linux") {
            Source::Procfs
        } else {
            Source::Portable
        }
    }
}

/// Busy and total CPU time over all CPUs, in clock ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CpuTimes {
    busy: u64,
    total: u64,
}

/// Takes samples; keeps the previous CPU times to report utilisation between samples.
pub struct Sampler {
    source: Source,
    previous_cpu: Option<CpuTimes>,
    system: Option<System>,
    pid: Option<Pid>,
    #[cfg(target_os = "linux")]
    files: Option<linux::ProcFiles>,
}

impl Sampler {
    /// A sampler on `source`; `Procfs` means `Portable` where there is no procfs.
    pub fn new(source: Source) -> Self {
        let source = if cfg!(target_os = "linux") {
            source
        } else {
            Source::Portable
        };
        Self {
            source,
            previous_cpu: None,
            system: None,
            pid: sysinfo::get_current_pid().ok(),
            #[cfg(target_os = "linux")]
            files: None,
        }
    }

    pub fn source(&self) -> Source {
        self.source
    }

    pub fn sample(&mut self) -> io::Result<Sample> {
        match self.source {
            Source::Procfs => self.sample_procfs(),
            Source::Portable => Ok(self.sample_portable()),
        }
    }

    #[cfg(target_os = "linux")]
    fn sample_procfs(&mut self) -> io::Result<Sample> {
        let files = match &mut self.files {
            Some(files) => files,
            None => self.files.insert(linux::ProcFiles::open()?),
        };
        let (load_avg, uptime_s) = linux::load_and_uptime()?;
        let (mem_total, mem_available) = parse_meminfo(files.meminfo()?)?;
        let (cpu, cpu_count) = parse_stat(files.stat()?)?;
        let process_rss = parse_statm_rss(files.statm()?)? * linux::page_size();
        let cpu_busy = utilisation(self.previous_cpu, cpu);
        self.previous_cpu = Some(cpu);
        Ok(Sample {
            time_ms: now_ms(),
            cpu_count,
            load_avg,
            cpu_busy,
            mem_total,
            mem_available,
            process_rss,
            uptime_s,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn sample_procfs(&mut self) -> io::Result<Sample> {
        Ok(self.sample_portable())
    }

    fn sample_portable(&mut self) -> Sample {
        let first = self.system.is_none();
        let system = self.system.get_or_insert_with(System::new);
        system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        system.refresh_cpu_usage();
        if let Some(pid) = self.pid {
            system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                false,
                ProcessRefreshKind::nothing().with_memory(),
            );
        }
        let load = System::load_average();
        let cpu_busy = if first {
            None
        } else {
            Some((f64::from(system.global_cpu_usage()) / 100.0).clamp(0.0, 1.0))
        };
        Sample {
            time_ms: now_ms(),
            cpu_count: u32::try_from(system.cpus().len()).unwrap_or(u32::MAX),
            load_avg: [load.one, load.five, load.fifteen],
            cpu_busy,
            mem_total: system.total_memory(),
            mem_available: system.available_memory(),
            process_rss: self
                .pid
                .and_then(|pid| system.process(pid))
                .map_or(0, |p| p.memory()),
            uptime_s: System::uptime() as f64,
        }
    }
}

/// Space on the file system that holds `path` (which must exist).
pub fn disk_space(path: &Path) -> io::Result<DiskSpace> {
    let stats = fs4::statvfs(path)?;
    Ok(DiskSpace {
        total: stats.total_space(),
        free: stats.free_space(),
        available: stats.available_space(),
    })
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn utilisation(previous: Option<CpuTimes>, current: CpuTimes) -> Option<f64> {
    let previous = previous?;
    let total = current.total.saturating_sub(previous.total);
    if total == 0 {
        return Some(0.0);
    }
    let busy = current.busy.saturating_sub(previous.busy);
    Some((busy as f64 / total as f64).clamp(0.0, 1.0))
}

fn malformed(file: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{file}: unexpected format"),
    )
}

/// `MemTotal` and `MemAvailable` in bytes.
fn parse_meminfo(text: &str) -> io::Result<(u64, u64)> {
    let mut total = None;
    let mut available = None;
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "MemTotal" => &mut total,
            "MemAvailable" => &mut available,
            _ => continue,
        };
        let kib = rest
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .map_err(|_| malformed("/proc/meminfo"))?;
        *slot = Some(kib * 1024);
        if total.is_some() && available.is_some() {
            break;
        }
    }
    match (total, available) {
        (Some(t), Some(a)) => Ok((t, a)),
        _ => Err(malformed("/proc/meminfo")),
    }
}

/// Aggregate CPU times from the first line, and the number of `cpuN` lines.
fn parse_stat(text: &str) -> io::Result<(CpuTimes, u32)> {
    let mut lines = text.lines();
    let first = lines.next().ok_or_else(|| malformed("/proc/stat"))?;
    let mut fields = first.split_ascii_whitespace();
    if fields.next() != Some("cpu") {
        return Err(malformed("/proc/stat"));
    }
    // user nice system idle iowait irq softirq steal (guest times are already in user).
    let values: Vec<u64> = fields
        .take(8)
        .map(|f| f.parse::<u64>().map_err(|_| malformed("/proc/stat")))
        .collect::<io::Result<_>>()?;
    if values.len() < 4 {
        return Err(malformed("/proc/stat"));
    }
    let total: u64 = values.iter().sum();
    let idle = values[3] + values.get(4).copied().unwrap_or(0);
    let count = lines
        .take_while(|l| l.starts_with("cpu"))
        .filter(|l| l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Ok((
        CpuTimes {
            busy: total - idle,
            total,
        },
        u32::try_from(count).unwrap_or(u32::MAX),
    ))
}

/// Resident pages: the second field of `/proc/self/statm`.
fn parse_statm_rss(text: &str) -> io::Result<u64> {
    text.split_ascii_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| malformed("/proc/self/statm"))
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::{self, Read, Seek, SeekFrom};
    use std::sync::OnceLock;

    /// The procfs files a sample reads, kept open and re-read into one buffer.
    pub struct ProcFiles {
        meminfo: File,
        stat: File,
        statm: File,
        buf: Vec<u8>,
    }

    fn reread<'a>(file: &mut File, buf: &'a mut Vec<u8>, name: &str) -> io::Result<&'a str> {
        buf.clear();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(buf)?;
        std::str::from_utf8(buf).map_err(|_| super::malformed(name))
    }

    impl ProcFiles {
        pub fn open() -> io::Result<Self> {
            Ok(Self {
                meminfo: File::open("/proc/meminfo")?,
                stat: File::open("/proc/stat")?,
                statm: File::open("/proc/self/statm")?,
                buf: Vec::with_capacity(8192),
            })
        }

        pub fn meminfo(&mut self) -> io::Result<&str> {
            reread(&mut self.meminfo, &mut self.buf, "/proc/meminfo")
        }

        pub fn stat(&mut self) -> io::Result<&str> {
            reread(&mut self.stat, &mut self.buf, "/proc/stat")
        }

        pub fn statm(&mut self) -> io::Result<&str> {
            reread(&mut self.statm, &mut self.buf, "/proc/self/statm")
        }
    }

    /// Load averages and seconds since boot from one `sysinfo(2)` call.
    pub fn load_and_uptime() -> io::Result<([f64; 3], f64)> {
        // SAFETY: sysinfo only writes into the zeroed struct we own.
        let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
        if unsafe { libc::sysinfo(&mut info) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // Loads are fixed point with SI_LOAD_SHIFT (16) fractional bits.
        let scale = f64::from(1u32 << 16);
        let load = info.loads.map(|l| l as f64 / scale);
        Ok((load, info.uptime as f64))
    }

    pub fn page_size() -> u64 {
        static SIZE: OnceLock<u64> = OnceLock::new();
        // SAFETY: sysconf has no preconditions.
        *SIZE.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            n if n > 0 => n as u64,
            _ => 4096,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let meminfo = "MemTotal:       16318500 kB\nMemFree:  100 kB\nMemAvailable:   8000000 kB\n";
        assert_eq!(
            parse_meminfo(meminfo).unwrap(),
            (16_318_500 * 1024, 8_000_000 * 1024)
        );
        let stat = "cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\ncpu1 50 3 25 400 10 2 1 0 0 0\nintr 1 2\n";
        let (times, count) = parse_stat(stat).unwrap();
        assert_eq!(count, 2);
        assert_eq!(times.total, 980);
        assert_eq!(times.busy, 160);
        assert_eq!(parse_statm_rss("1000 250 30 1 0 100 0\n").unwrap(), 250);
    }

    #[test]
    fn rejects_malformed_proc_files() {
        assert!(parse_meminfo("MemTotal: 1 kB\n").is_err());
        assert!(parse_stat("intr 1 2\n").is_err());
        assert!(parse_statm_rss("1").is_err());
    }

    #[test]
    fn utilisation_between_samples() {
        let a = CpuTimes {
            busy: 100,
            total: 1000,
        };
        let b = CpuTimes {
            busy: 150,
            total: 1100,
        };
        assert_eq!(utilisation(None, a), None);
        assert_eq!(utilisation(Some(a), b), Some(0.5));
        assert_eq!(utilisation(Some(a), a), Some(0.0));
    }

    fn check_sample(sample: &Sample) {
        assert!(sample.cpu_count >= 1);
        assert!(sample.mem_total > 0);
        assert!(sample.mem_available > 0 && sample.mem_available <= sample.mem_total);
        assert!(
            sample.process_rss > 1024 * 1024,
            "rss {}",
            sample.process_rss
        );
        assert!(sample.load_avg.iter().all(|l| *l >= 0.0));
        assert!(sample.uptime_s > 0.0);
        assert!(sample.time_ms > 1.0e12);
    }

    #[test]
    fn both_sources_sample_this_machine_and_agree() {
        let mut best = Sampler::new(Source::best());
        let mut portable = Sampler::new(Source::Portable);
        let a = best.sample().unwrap();
        let b = portable.sample().unwrap();
        check_sample(&a);
        check_sample(&b);
        assert_eq!(a.cpu_busy, None);
        assert_eq!(b.cpu_busy, None);
        assert_eq!(a.cpu_count, b.cpu_count);
        assert_eq!(a.mem_total, b.mem_total);
        let second = best.sample().unwrap();
        let busy = second.cpu_busy.unwrap();
        assert!((0.0..=1.0).contains(&busy));
        assert!(portable.sample().unwrap().cpu_busy.is_some());
    }

    #[test]
    fn rereads_kept_open_files_on_every_sample() {
        let mut sampler = Sampler::new(Source::best());
        let before = sampler.sample().unwrap().process_rss;
        let block = vec![1u8; 64 * 1024 * 1024];
        let after = sampler.sample().unwrap().process_rss;
        assert!(
            after > before + 32 * 1024 * 1024,
            "rss {before} -> {after} after touching 64 MiB"
        );
        assert_eq!(
            block.iter().map(|&b| u64::from(b)).sum::<u64>(),
            64 * 1024 * 1024
        );
    }

    #[test]
    fn disk_space_of_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let space = disk_space(dir.path()).unwrap();
        assert!(space.total > 0);
        assert!(space.free <= space.total);
        assert!(space.available <= space.free);
        let missing = disk_space(&dir.path().join("missing")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
