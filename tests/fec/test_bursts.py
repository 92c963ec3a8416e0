"""The burst model's error process against the symbol stream it models (photolink.fec.bursts)."""
import numpy as np

import photolink as pl
from photolink._util.stats import clopper_pearson
from photolink.fec import bursts

#: A lane whose FFE (the inverse of 1 - 0.5 D) colours the noise: neighbouring slicer samples
#: correlate by ~0.5 and an error is followed by another far more often than by chance, with no
#: DFE to propagate anything (the 802.3dj receiver behind the cpo-1.6t preset is such a lane).
COLOURED = dict(channel=pl.Channel((1.0, -0.5)), equalizer=pl.Equalizer(ffe=tuple(0.5 ** np.arange(8))))


def test_onsets_of_a_coloured_noise_lane_are_those_the_stream_counts():
    """An onset is an error after a quiet run; the errors right after an error (correlated noise)
    belong to its episode. Counting them as onsets too (the marginal SER as the onset rate) put the
    rate 10 % and the SER 10 % high here (0.0150 and 0.0175 against 0.0137 and 0.0159) and the
    inner-code CWER ~2x high; both are now the stream's."""
    snr_db, n = 15.5, 4_000_000
    ep = bursts.episodes(pl.PAM4, snr_db, **COLOURED)
    r = pl.SymbolStream(pl.PAM4, snr_db, seed=3, **COLOURED).run(n, return_errors=True)
    idx = r.error_index
    onsets = int(np.count_nonzero(np.diff(idx, prepend=-10**9) > ep.quiet_symbols))
    follow = float(np.isin(idx + 1, idx).mean())                 # an error right after an error
    assert follow > 5 * idx.size / n                              # the noise is coloured: errors pair
    lo, hi = clopper_pearson(onsets, n)
    assert lo <= ep.onset_rate <= hi and not lo <= idx.size / n <= hi, (ep.onset_rate, onsets / n)
    lo, hi = clopper_pearson(idx.size, n)
    assert lo <= ep.ser <= hi, (ep.ser, idx.size / n)
    assert ep.busy_symbols.min() >= ep.quiet_symbols + 1
