//! Feature `bump`: swaps std's dlmalloc for a never-freeing bump allocator, to show how much of
//! each floor is the allocator. A lower bound only: it leaks, so it is no option for a
//! long-lived session as is.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

const PAGE: usize = 65536;

struct Bump {
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: wasm32-unknown-unknown without atomics has one thread.
unsafe impl Sync for Bump {}

#[global_allocator]
static ALLOC: Bump = Bump {
    next: Cell::new(0),
    end: Cell::new(0),
};

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let align = layout.align() - 1;
        let mut start = (self.next.get() + align) & !align;
        if start + layout.size() > self.end.get() {
            let pages = (layout.size() + align).div_ceil(PAGE);
            let old = core::arch::wasm32::memory_grow(0, pages);
            if old == usize::MAX {
                return std::ptr::null_mut();
            }
            start = (old * PAGE + align) & !align;
            self.end.set((old + pages) * PAGE);
        }
        self.next.set(start + layout.size());
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}
