//! The module's heap: std's allocator on wasm32 (dlmalloc), grown
//! geometrically.
//!
//! dlmalloc asks for linear memory in steps of what one allocation needs
//! (often a single 64 KiB page), and in V8 each `memory.grow` costs time in
//! proportion to the memory already there. Loading a large document (a policy
//! of 200,000 roles, a 20 MB JWKS) makes thousands of small grows, which made
//! the load quadratic in Node while the same code is linear natively. So after
//! any allocation that grew the memory, one more block of half the memory's
//! size is allocated and freed at once: dlmalloc grows by that much in one
//! step and keeps the freed block as its top chunk (wasm memory never
//! shrinks), and the next grow happens only once it is used up. The number of
//! grows is then logarithmic in the peak size, at the cost of up to half the
//! peak again in reserve.

#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::arch::wasm32::memory_size;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicU32, Ordering};

    const PAGE: usize = 65_536;

    /// How many times the linear memory grew (for the package's tests,
    /// through `memory_grows`).
    pub(crate) static GROWS: AtomicU32 = AtomicU32::new(0);

    /// `System` (dlmalloc) with geometric growth; see the module's comment.
    pub(crate) struct Geometric;

    impl Geometric {
        /// Called after every allocation call: if it grew the memory from
        /// `before` pages, reserves half the new size in one more grow.
        #[inline]
        fn after(&self, before: usize) {
            let now = memory_size(0);
            if now == before {
                return;
            }
            GROWS.fetch_add(1, Ordering::Relaxed);
            let Ok(layout) = Layout::from_size_align(now * PAGE / 2, 16) else {
                return;
            };
            // SAFETY: a non-zero size and a valid alignment; the block is
            // freed at once with the same layout, and never read.
            unsafe {
                let block = System.alloc(layout);
                if !block.is_null() {
                    if memory_size(0) != now {
                        GROWS.fetch_add(1, Ordering::Relaxed);
                    }
                    System.dealloc(block, layout);
                }
            }
        }
    }

    // SAFETY: every call is forwarded to `System` unchanged; `after` only
    // allocates and frees a block of its own.
    unsafe impl GlobalAlloc for Geometric {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let before = memory_size(0);
            let p = System.alloc(layout);
            self.after(before);
            p
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let before = memory_size(0);
            let p = System.alloc_zeroed(layout);
            self.after(before);
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            System.dealloc(ptr, layout)
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let before = memory_size(0);
            let p = System.realloc(ptr, layout, new_size);
            self.after(before);
            p
        }
    }

    #[global_allocator]
    static HEAP: Geometric = Geometric;
}

/// How many times the module's linear memory has grown so far (0 natively).
/// Only the package's tests read it, to check that loading a large document
/// grows the memory a logarithmic number of times.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn memory_grows() -> u32 {
    #[cfg(target_arch = "wasm32")]
    {
        wasm::GROWS.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
