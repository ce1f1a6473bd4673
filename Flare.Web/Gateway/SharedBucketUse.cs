using Flare.Routing.Routing;

namespace Flare.Web.Gateway;

/// <summary>
/// One of a key's buckets (its requests or its tokens) as several hosts use it: what this host takes is added to the
/// shared ledger in counters of one minute, and what the other hosts took since the last look is taken from this host's
/// bucket. The bucket's horizon is a minute (it holds one minute's worth), so the current and the previous minute's
/// counters are all a host reads: an exchange is milliseconds late, never a minute.
/// </summary>
/// <remarks>
/// A host that was already watching the key (it used it in the previous minute) takes whatever the others' counters grew by.
/// A host that was not (first use for a minute or more, or just started) has not seen the others' use of the last one to
/// two minutes: it takes that too once its first exchange brings it, but as history — without the refill that came with
/// it, so it errs on refusing — and never takes the bucket below empty for it (a bucket that refused nothing is not below
/// empty).
/// </remarks>
internal sealed class SharedBucketUse(ISharedLedger ledger, string key)
{
    private static readonly long MinuteMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    private long _period = long.MinValue;
    private Seen _previous;
    private Seen _current;
    private bool _waking;

    /// <summary>The ledger period (a minute since the Unix epoch) that <paramref name="now"/> falls in.</summary>
    public static long PeriodOf(DateTimeOffset now) => now.ToUnixTimeMilliseconds() / MinuteMs;

    /// <summary>Adds what this host took (<paramref name="amount"/> requests or tokens) at <paramref name="now"/>.</summary>
    public void Add(DateTimeOffset now, double amount) => ledger.Add(key, PeriodOf(now), amount);

    /// <summary>The bucket's <paramref name="level"/> less what the other hosts took from it since the last call. Not
    /// thread-safe: the key's lock is held.</summary>
    public double Absorb(DateTimeOffset now, double level)
    {
        var period = PeriodOf(now);
        if (period != _period)
        {
            if (period == _period + 1)
            {
                _previous = _current;
            }
            else
            {
                _previous = default;
                _waking = true;
            }

            _current = default;
            _period = period;
        }

        // Watch both minutes, so that the exchange reads them even while this host adds nothing to them.
        ledger.Add(key, period - 1, 0);
        ledger.Add(key, period, 0);
        var fresh = 0.0;
        var history = 0.0;
        Take(period - 1, ref _previous, ref fresh, ref history);
        Take(period, ref _current, ref fresh, ref history);
        if (_previous.Known && _current.Known)
        {
            _waking = false;
        }

        level -= fresh;
        return history > 0 ? Math.Max(Math.Min(level, 0), level - history) : level;
    }

    private void Take(long period, ref Seen seen, ref double fresh, ref double history)
    {
        if (!ledger.TryGetOthers(key, period, out var others))
        {
            return;
        }

        var grown = Math.Max(0, others - seen.Others);
        if (!seen.Known && _waking)
        {
            history += grown;
        }
        else
        {
            fresh += grown;
        }

        seen = new Seen(others, Known: true);
    }

    /// <summary>The others' figure of one minute's counter already taken from the bucket, and whether it was known then.</summary>
    private readonly record struct Seen(double Others, bool Known);
}
