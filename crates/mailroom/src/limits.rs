//! Process limits a mail server needs: every connection is a descriptor.

/// Raises the soft open-files limit to the hard limit, so thousands of
/// idle IMAP clients do not run out of descriptors at the default 1024.
pub fn raise_open_files() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        if limit.rlim_cur < limit.rlim_max {
            let before = limit.rlim_cur;
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                tracing::debug!(
                    before,
                    after = limit.rlim_cur,
                    "raised the open files limit"
                );
            }
        }
    }
}

/// Keeps large allocations (the 19 MiB of every argon2id password check)
/// in their own mappings, returned to the system when freed. glibc would
/// otherwise raise its mmap threshold after the first one and serve the
/// next from the heap, where session data allocated around them keeps the
/// memory from ever being released: each login left megabytes behind.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Gives freed heap memory back to the system twice a minute: after a
/// storm of connections has ended, glibc would otherwise keep the pages.
pub fn spawn_memory_trimmer() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // SAFETY: malloc_trim only releases free memory.
            let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
        }
    });
}
