//! Standard output that ends quietly when the reader goes away (`shepherd schema | head
//! -1`): the process exits with 141, as a program killed by SIGPIPE does, instead of
//! panicking with a backtrace.

use std::fmt;
use std::io::{self, Write};

/// Exit code of a program whose output pipe closed (128 + SIGPIPE).
const CLOSED_PIPE: i32 = 141;

/// Writes one line to standard output.
pub fn write_line(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(error) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        quit(&error);
    }
}

/// Ends the process after a failed write to standard output.
pub fn quit(error: &io::Error) -> ! {
    if error.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(CLOSED_PIPE);
    }
    eprintln!("error: cannot write to standard output: {error}");
    std::process::exit(1);
}

/// `println!`, ending quietly on a closed pipe.
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}

pub(crate) use outln;
