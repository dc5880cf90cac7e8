//! The behaviour of proxy_lua.c, one Rust function per C function, in the
//! same order and under the same names, grouped by role.

pub mod attach;
pub mod backend;
pub mod cron;
pub mod logging;
pub mod pool;
pub mod register;
pub mod stats;
pub mod tunables;
