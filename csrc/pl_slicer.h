/* The PAM slicer shared by the stream kernels (a PAM symbol, or one rail of a QAM symbol). */
#ifndef PL_SLICER_H
#define PL_SLICER_H

/* Level index 0 .. top of a slicer input x on the level grid -(L-1), ..., -1, +1, ..., L-1
 * (levels = L, top = L - 1): floor((x + L) / 2), clamped. Branch-free (the clamps compile to
 * min/max, which random symbols need: a branchy slicer defeats the branch predictor), and a
 * NaN, which validated inputs cannot produce, decides 0 rather than reach an undefined
 * conversion. */
static inline int pl_slice(double x, double levels, double top)
{
    double t = (x + levels) * 0.5;
    t = t > 0.0 ? t : 0.0;
    t = t > top ? top : t;
    return (int)t;
}

#endif
