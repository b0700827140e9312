//! Dot products written so LLVM vectorises them (16 independent accumulators), compiled
//! twice: a portable version and an AVX2+FMA version chosen once at runtime.

#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 16];
    let mut ca = a.chunks_exact(16);
    let mut cb = b.chunks_exact(16);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let x: &[f32; 16] = x.try_into().unwrap_or(&[0.0; 16]);
        let y: &[f32; 16] = y.try_into().unwrap_or(&[0.0; 16]);
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut tail = 0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    let mut s = [0f32; 8];
    for i in 0..8 {
        s[i] = acc[i] + acc[i + 8];
    }
    (s[0] + s[4]) + (s[1] + s[5]) + (s[2] + s[6]) + (s[3] + s[7]) + tail
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    // SAFETY (all loads): i + 32 <= n, resp. i + 8 <= n, keeps every load in bounds.
    while i + 32 <= n {
        for (j, acc) in acc.iter_mut().enumerate() {
            let o = i + 8 * j;
            *acc = _mm256_fmadd_ps(
                unsafe { _mm256_loadu_ps(pa.add(o)) },
                unsafe { _mm256_loadu_ps(pb.add(o)) },
                *acc,
            );
        }
        i += 32;
    }
    while i + 8 <= n {
        acc[0] = _mm256_fmadd_ps(
            unsafe { _mm256_loadu_ps(pa.add(i)) },
            unsafe { _mm256_loadu_ps(pb.add(i)) },
            acc[0],
        );
        i += 8;
    }
    let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let v = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    let v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    let v = _mm_add_ss(v, _mm_shuffle_ps(v, v, 1));
    let mut r = _mm_cvtss_f32(v);
    while i < n {
        r += a[i] * b[i];
        i += 1;
    }
    r
}

pub type DotFn = fn(&[f32], &[f32]) -> f32;

fn select() -> DotFn {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function was compiled for.
            return |a, b| unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable
}

static DOT: std::sync::OnceLock<DotFn> = std::sync::OnceLock::new();

/// The inner-product kernel chosen for this CPU (what `dot` calls), for hot loops that
/// resolve it once instead of on every call.
#[inline]
pub fn dot_fn() -> DotFn {
    *DOT.get_or_init(select)
}

/// Inner product of two equally long slices (extra elements of the longer are ignored).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    (DOT.get_or_init(select))(a, b)
}

/// Scales `v` to unit L2 norm in place; a zero vector stays zero.
pub fn normalize(v: &mut [f32]) {
    let norm = v
        .iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        let inv = (1.0 / norm) as f32;
        for x in v {
            *x *= inv;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_naive() {
        for n in [0usize, 1, 7, 16, 17, 384, 1000] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-3, "n={n}");
            assert!((dot_portable(&a, &b) - naive).abs() < 1e-3, "n={n}");
        }
    }
}
